#include "triggers/checkpoint_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/json.h"

namespace cruddur::triggers {
namespace {

// A checkpoint holds one entry per shard of a day's stream: a few hundred bytes each.
constexpr size_t kMaxCheckpointBytes = 16 << 20;

Status Errno(std::string_view what, const std::string& path) {
  return IoError(std::string(what) + " " + path + ": " + strerror(errno));
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("Cannot write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("Cannot open directory", dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("Cannot fsync directory", dir);
  return Status::Ok();
}

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view content) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("Cannot create", tmp);
  Status st = WriteAll(fd, content, tmp);
  if (st.ok() && ::fsync(fd) != 0) st = Errno("Cannot fsync", tmp);
  ::close(fd);
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) st = Errno("Cannot rename to", path);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  // The rename is durable only once the directory entry is.
  std::string dir = std::filesystem::path(path).parent_path().string();
  return SyncDirectory(dir.empty() ? "." : dir);
}

Result<std::optional<std::string>> ReadSmallFile(const std::string& path, size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return Errno("Cannot open", path);
  }
  std::string out;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status st = Errno("Cannot read", path);
      ::close(fd);
      return st;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) {
      ::close(fd);
      return IoError(path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  ::close(fd);
  return std::optional<std::string>(std::move(out));
}

std::string CheckpointToJson(const Checkpoint& cp) {
  json::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  w.Key("stream_arn");
  w.String(cp.stream_arn);
  w.Key("shards");
  w.StartObject();
  for (const auto& [id, pos] : cp.shards) {
    w.Key(id.data(), static_cast<rapidjson::SizeType>(id.size()));
    w.StartObject();
    w.Key("sequence_number");
    w.String(pos.sequence_number);
    w.Key("finished");
    w.Bool(pos.finished);
    if (pos.at_latest) {
      w.Key("at_latest");
      w.Bool(true);
    }
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<Checkpoint> CheckpointFromJson(std::string_view text) {
  json::Document doc;
  if (Status st = json::Parse(text, &doc, 8); !st.ok()) {
    return IoError("Corrupt checkpoint: " + st.message());
  }
  auto bad = [] { return IoError("Corrupt checkpoint: unexpected shape"); };
  if (!doc.IsObject() || !doc.HasMember("stream_arn") || !doc["stream_arn"].IsString() ||
      !doc.HasMember("shards") || !doc["shards"].IsObject()) {
    return bad();
  }
  Checkpoint cp;
  cp.stream_arn = doc["stream_arn"].GetString();
  for (const auto& m : doc["shards"].GetObject()) {
    const json::Value& v = m.value;
    if (!v.IsObject() || !v.HasMember("sequence_number") || !v["sequence_number"].IsString() ||
        !v.HasMember("finished") || !v["finished"].IsBool()) {
      return bad();
    }
    ShardPosition& pos = cp.shards[std::string(m.name.GetString(), m.name.GetStringLength())];
    pos.sequence_number = v["sequence_number"].GetString();
    pos.finished = v["finished"].GetBool();
    auto latest = v.FindMember("at_latest");
    pos.at_latest = latest != v.MemberEnd() && latest->value.IsBool() && latest->value.GetBool();
  }
  return cp;
}

Result<std::optional<Checkpoint>> MemoryCheckpointStore::Load(const std::string& mapping) {
  std::lock_guard lock(mu_);
  auto it = checkpoints_.find(mapping);
  if (it == checkpoints_.end()) return std::optional<Checkpoint>();
  return std::optional<Checkpoint>(it->second);
}

Status MemoryCheckpointStore::Save(const std::string& mapping, const Checkpoint& checkpoint) {
  std::lock_guard lock(mu_);
  checkpoints_[mapping] = checkpoint;
  return Status::Ok();
}

Status MemoryCheckpointStore::Remove(const std::string& mapping) {
  std::lock_guard lock(mu_);
  checkpoints_.erase(mapping);
  return Status::Ok();
}

Result<std::unique_ptr<FileCheckpointStore>> FileCheckpointStore::Open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("Cannot create the trigger state directory " + dir + ": " + ec.message());
  return std::unique_ptr<FileCheckpointStore>(new FileCheckpointStore(dir));
}

std::string FileCheckpointStore::PathFor(const std::string& mapping) const {
  return (std::filesystem::path(dir_) / (mapping + ".checkpoint.json")).string();
}

Result<std::optional<Checkpoint>> FileCheckpointStore::Load(const std::string& mapping) {
  const std::string path = PathFor(mapping);
  CRUDDUR_ASSIGN_OR_RETURN(std::optional<std::string> text,
                           ReadSmallFile(path, kMaxCheckpointBytes));
  if (!text) return std::optional<Checkpoint>();
  auto cp = CheckpointFromJson(*text);
  if (!cp.ok()) return IoError(path + ": " + cp.status().message());
  return std::optional<Checkpoint>(std::move(cp).value());
}

Status FileCheckpointStore::Save(const std::string& mapping, const Checkpoint& checkpoint) {
  return WriteFileAtomically(PathFor(mapping), CheckpointToJson(checkpoint));
}

Status FileCheckpointStore::Remove(const std::string& mapping) {
  const std::string path = PathFor(mapping);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("Cannot remove", path);
  return SyncDirectory(dir_);
}

}  // namespace cruddur::triggers
