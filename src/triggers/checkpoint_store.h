// Where each mapping's position in its stream is kept: per shard, the sequence number of the last
// record the mapping is done with (delivered, filtered out, or sent to the on-failure
// destination), and whether the shard has been read to its end. The runner saves a checkpoint
// only after the handler succeeded, so a restart resumes after the last finished batch: nothing
// finished is run again, nothing unfinished is lost (at-least-once delivery).
//
// Thread-safety: implementations are thread-safe; the runner saves each mapping's checkpoint
// from that mapping's worker thread only.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace cruddur::triggers {

struct ShardPosition {
  std::string sequence_number;  // "" = nothing done in this shard yet
  bool finished = false;        // the closed shard has been read to its end
  // No record done yet and the mapping started at LATEST: read from the shard's tip, not its
  // beginning (records written before the first delivery are skipped, as LATEST means).
  bool at_latest = false;
  bool operator==(const ShardPosition&) const = default;
};

struct Checkpoint {
  std::string stream_arn;  // positions are only meaningful in this stream
  std::map<std::string, ShardPosition> shards;
  bool operator==(const Checkpoint&) const = default;
};

class CheckpointStore {
 public:
  virtual ~CheckpointStore() = default;
  // The mapping's checkpoint, or nullopt when it has none.
  virtual Result<std::optional<Checkpoint>> Load(const std::string& mapping) = 0;
  // Replaces the checkpoint; durable when this returns ok (for the file store).
  virtual Status Save(const std::string& mapping, const Checkpoint& checkpoint) = 0;
  // Forgets the mapping's checkpoint; ok when there was none.
  virtual Status Remove(const std::string& mapping) = 0;
};

// For the engine's --in-memory mode and tests.
class MemoryCheckpointStore : public CheckpointStore {
 public:
  Result<std::optional<Checkpoint>> Load(const std::string& mapping) override;
  Status Save(const std::string& mapping, const Checkpoint& checkpoint) override;
  Status Remove(const std::string& mapping) override;

 private:
  std::mutex mu_;
  std::map<std::string, Checkpoint> checkpoints_;
};

// One small JSON file per mapping, `<dir>/<mapping>.checkpoint.json`, replaced atomically: written
// to a temporary file, fsynced, renamed over the old one, and the directory fsynced, so a crash
// leaves either the old or the new checkpoint, never a torn one. Mapping names are restricted to
// [A-Za-z0-9_.-] (mapping_config.h), so they are safe file names.
class FileCheckpointStore : public CheckpointStore {
 public:
  // Creates `dir` (and parents) when missing. kIo when it cannot.
  static Result<std::unique_ptr<FileCheckpointStore>> Open(const std::string& dir);

  Result<std::optional<Checkpoint>> Load(const std::string& mapping) override;
  Status Save(const std::string& mapping, const Checkpoint& checkpoint) override;
  Status Remove(const std::string& mapping) override;

  std::string PathFor(const std::string& mapping) const;

 private:
  explicit FileCheckpointStore(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

// Replaces `path` with `content` atomically and durably (temp file, fsync, rename, fsync of the
// directory). kIo on failure, leaving the old file in place.
Status WriteFileAtomically(const std::string& path, std::string_view content);
// The file's content, nullopt when it does not exist; kIo on other failures or when it is larger
// than `max_bytes`.
Result<std::optional<std::string>> ReadSmallFile(const std::string& path, size_t max_bytes);

std::string CheckpointToJson(const Checkpoint& checkpoint);
Result<Checkpoint> CheckpointFromJson(std::string_view text);

}  // namespace cruddur::triggers
