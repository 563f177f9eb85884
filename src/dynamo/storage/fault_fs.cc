#include "dynamo/storage/fault_fs.h"

#include <atomic>
#include <mutex>
#include <string_view>
#include <thread>

namespace cruddur::dynamo::storage {

namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;

// RocksDB's file names (file/filename.cc): <number>.log, <number>.sst, MANIFEST-<number>,
// CURRENT and <number>.dbtmp (the temporary CURRENT is renamed into place).
uint32_t KindOf(std::string_view path) {
  std::string_view name = path.substr(path.rfind('/') + 1);
  if (name.ends_with(".log")) return FaultFileSystem::kWal;
  if (name.ends_with(".sst")) return FaultFileSystem::kTable;
  if (name.starts_with("MANIFEST-") || name == "CURRENT" || name.ends_with(".dbtmp")) {
    return FaultFileSystem::kManifest;
  }
  return FaultFileSystem::kOther;
}

}  // namespace

struct FaultFileSystem::State {
  // `armed` lets the common no-fault case skip the mutex: it is true iff `fault` is not the
  // default, and is only written under `mu`.
  std::atomic<bool> armed{false};
  mutable std::mutex mu;
  Fault fault;
  std::atomic<uint64_t> injected{0};
  std::atomic<uint64_t> delayed{0};

  Fault Current() const {
    if (!armed.load(std::memory_order_acquire)) return {};
    std::lock_guard lock(mu);
    return fault;
  }

  // The injected failure for `op` on a file of `kind`, or OK to pass the call through.
  IOStatus Check(uint32_t kind, Op op, const std::string& fname) {
    Fault now = Current();
    if (now.error == Error::kNone || (now.ops & op) == 0 || (now.files & kind) == 0) {
      return IOStatus::OK();
    }
    injected.fetch_add(1, std::memory_order_relaxed);
    if (now.error == Error::kNoSpace) return IOStatus::NoSpace("injected fault", fname);
    return IOStatus::IOError("injected fault", fname);
  }

  // Sleeps for the sync delay of a file of `kind`, then checks for a sync failure.
  IOStatus CheckSync(uint32_t kind, const std::string& fname) {
    Fault now = Current();
    if (now.sync_delay.count() > 0 && (now.files & kind) != 0) {
      delayed.fetch_add(1, std::memory_order_relaxed);
      std::this_thread::sleep_for(now.sync_delay);
    }
    return Check(kind, kSync, fname);
  }
};

class FaultFileSystem::File : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  File(std::unique_ptr<rocksdb::FSWritableFile> target, std::shared_ptr<State> state,
       std::string fname)
      : FSWritableFileOwnerWrapper(std::move(target)),
        state_(std::move(state)),
        fname_(std::move(fname)),
        kind_(KindOf(fname_)) {}

  IOStatus Append(const rocksdb::Slice& data, const IOOptions& options,
                  IODebugContext* dbg) override {
    IOStatus s = state_->Check(kind_, kAppend, fname_);
    return s.ok() ? target()->Append(data, options, dbg) : s;
  }
  IOStatus Append(const rocksdb::Slice& data, const IOOptions& options,
                  const rocksdb::DataVerificationInfo& info, IODebugContext* dbg) override {
    IOStatus s = state_->Check(kind_, kAppend, fname_);
    return s.ok() ? target()->Append(data, options, info, dbg) : s;
  }
  IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const IOOptions& options,
                            IODebugContext* dbg) override {
    IOStatus s = state_->Check(kind_, kAppend, fname_);
    return s.ok() ? target()->PositionedAppend(data, offset, options, dbg) : s;
  }
  IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const IOOptions& options,
                            const rocksdb::DataVerificationInfo& info,
                            IODebugContext* dbg) override {
    IOStatus s = state_->Check(kind_, kAppend, fname_);
    return s.ok() ? target()->PositionedAppend(data, offset, options, info, dbg) : s;
  }
  IOStatus Flush(const IOOptions& options, IODebugContext* dbg) override {
    IOStatus s = state_->Check(kind_, kFlush, fname_);
    return s.ok() ? target()->Flush(options, dbg) : s;
  }
  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    IOStatus s = state_->CheckSync(kind_, fname_);
    return s.ok() ? target()->Sync(options, dbg) : s;
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    IOStatus s = state_->CheckSync(kind_, fname_);
    return s.ok() ? target()->Fsync(options, dbg) : s;
  }
  IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const IOOptions& options,
                     IODebugContext* dbg) override {
    IOStatus s = state_->Check(kind_, kSync, fname_);
    return s.ok() ? target()->RangeSync(offset, nbytes, options, dbg) : s;
  }
  IOStatus Close(const IOOptions& options, IODebugContext* dbg) override {
    IOStatus s = state_->Check(kind_, kClose, fname_);
    // The descriptor is released either way, as close(2) releases it even when it fails.
    IOStatus closed = target()->Close(options, dbg);
    return s.ok() ? closed : s;
  }

 private:
  std::shared_ptr<State> state_;
  std::string fname_;
  uint32_t kind_;
};

FaultFileSystem::FaultFileSystem(std::shared_ptr<rocksdb::FileSystem> target)
    : FileSystemWrapper(target), state_(std::make_shared<State>()) {}

FaultFileSystem::~FaultFileSystem() = default;

void FaultFileSystem::SetFault(const Fault& fault) {
  std::lock_guard lock(state_->mu);
  state_->fault = fault;
  state_->armed.store(fault.error != Error::kNone || fault.sync_delay.count() > 0,
                      std::memory_order_release);
}

void FaultFileSystem::Clear() { SetFault(Fault{}); }

uint64_t FaultFileSystem::injected_failures() const {
  return state_->injected.load(std::memory_order_relaxed);
}

uint64_t FaultFileSystem::delayed_syncs() const {
  return state_->delayed.load(std::memory_order_relaxed);
}

IOStatus FaultFileSystem::Wrap(const std::string& fname, IOStatus opened,
                               std::unique_ptr<rocksdb::FSWritableFile>* result) {
  if (opened.ok()) result->reset(new File(std::move(*result), state_, fname));
  return opened;
}

IOStatus FaultFileSystem::NewWritableFile(const std::string& fname,
                                          const rocksdb::FileOptions& options,
                                          std::unique_ptr<rocksdb::FSWritableFile>* result,
                                          IODebugContext* dbg) {
  return Wrap(fname, target()->NewWritableFile(fname, options, result, dbg), result);
}

IOStatus FaultFileSystem::ReopenWritableFile(const std::string& fname,
                                             const rocksdb::FileOptions& options,
                                             std::unique_ptr<rocksdb::FSWritableFile>* result,
                                             IODebugContext* dbg) {
  return Wrap(fname, target()->ReopenWritableFile(fname, options, result, dbg), result);
}

IOStatus FaultFileSystem::ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                            const rocksdb::FileOptions& options,
                                            std::unique_ptr<rocksdb::FSWritableFile>* result,
                                            IODebugContext* dbg) {
  return Wrap(fname, target()->ReuseWritableFile(fname, old_fname, options, result, dbg), result);
}

}  // namespace cruddur::dynamo::storage
