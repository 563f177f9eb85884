// A fault-injecting RocksDB file system: it forwards every call to a target file system (the
// real one by default) and, while a fault is set, fails the writes of chosen files with the
// IOStatus the POSIX file system reports for EIO or ENOSPC, and can make their fsyncs slow. It
// is the file seam of the storage engine (EngineOptions::file_system) for tests of failing
// disks; it is compiled into the storage library so that the server binary could use it too.
//
// Only writable files are affected (reads and directory operations always pass through), and
// a failing call fails before it reaches the target: nothing of a failed Append lands in the
// file, as when the kernel rejects a write(2) outright.
//
// Thread-safety: thread-safe. SetFault/Clear may be called from any thread at any time, also
// while RocksDB's writers and background threads are inside the file system; a call already
// past its fault check (e.g. sleeping in a slow Sync) finishes under the fault it saw.
// Ownership: files opened through it share its fault state, so they may outlive it.
#pragma once

#include <rocksdb/file_system.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace cruddur::dynamo::storage {

class FaultFileSystem : public rocksdb::FileSystemWrapper {
 public:
  enum class Error : uint8_t {
    kNone,     // the calls succeed (subject to sync_delay)
    kIo,       // IOStatus::IOError, as the POSIX file system reports EIO
    kNoSpace,  // IOStatus::NoSpace, as it reports ENOSPC
  };
  // The writable-file calls a fault applies to; combine with |.
  enum Op : uint32_t {
    kAppend = 1u << 0,  // Append, PositionedAppend
    kFlush = 1u << 1,   // Flush
    kSync = 1u << 2,    // Sync, Fsync, RangeSync
    kClose = 1u << 3,   // Close
    kAllOps = kAppend | kFlush | kSync | kClose,
  };
  // The files a fault applies to, by RocksDB's file names; combine with |.
  enum FileKind : uint32_t {
    kWal = 1u << 0,       // *.log: the write-ahead log
    kTable = 1u << 1,     // *.sst: flush and compaction output
    kManifest = 1u << 2,  // MANIFEST-*, CURRENT and their temporaries
    kOther = 1u << 3,     // OPTIONS, info logs, everything else
    kAllFiles = kWal | kTable | kManifest | kOther,
  };
  struct Fault {
    Error error = Error::kNone;
    uint32_t ops = kAllOps;
    uint32_t files = kAllFiles;
    // Added before every Sync/Fsync of the chosen files (whatever `error` and `ops` say).
    std::chrono::milliseconds sync_delay{0};
  };

  explicit FaultFileSystem(
      std::shared_ptr<rocksdb::FileSystem> target = rocksdb::FileSystem::Default());
  ~FaultFileSystem() override;

  // Replaces the current fault; takes effect for every open and future file at once.
  void SetFault(const Fault& fault);
  // Equivalent to SetFault(Fault{}): every call passes through again.
  void Clear();
  // How many calls have failed by injection since construction.
  uint64_t injected_failures() const;
  // How many calls were delayed by sync_delay since construction.
  uint64_t delayed_syncs() const;

  static const char* kClassName() { return "CruddurFaultFileSystem"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& fname,
                                       const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;

 private:
  struct State;
  class File;

  rocksdb::IOStatus Wrap(const std::string& fname, rocksdb::IOStatus opened,
                         std::unique_ptr<rocksdb::FSWritableFile>* result);

  std::shared_ptr<State> state_;
};

}  // namespace cruddur::dynamo::storage
