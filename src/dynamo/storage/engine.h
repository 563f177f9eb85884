// The storage engine of the DynamoDB server: tables, items and secondary-index entries in
// RocksDB. It knows nothing of JSON, HTTP or expressions; the API layer (dynamo/api) validates
// requests, evaluates conditions and updates, and calls this layer to read and write.
//
// Data model on disk (column families, see engine.cc for the byte layouts):
//   meta    table definitions and the id counter
//   items   one record per item, keyed table id | hash(pk) | pk | sk; value = EncodeItem(item)
//   index   one record per (index, item) pair the index covers; value = the projected item
//   stats   per-table item count and size, updated by merge in the same batch as each write
//   stream  the stream log: streams, their shards and records (see "Streams" below)
// Within one table, Scan returns items in hash order (like DynamoDB, whose Scan order follows
// the partition-key hash), and Query returns one partition in sort-key order. Table ids are
// never reused, so nothing of a deleted table can surface in a new table of the same name.
//
// Thread-safety: Engine is thread-safe. Writes take striped per-key locks (BeginWrite), so at
// most one WriteBatch at a time holds a given key; a WriteBatch is used by one thread. Reads
// (Get, GetMany, Query, Scan) take no locks and see committed data only; an ItemIterator reads
// a consistent point-in-time view and is used by one thread. Every object handed out by the
// Engine (WriteBatch, ItemIterator) must be destroyed before the Engine.
//
// Durability: every commit goes through the RocksDB write-ahead log, written to the operating
// system (not buffered in the process) before Commit returns, so by default a committed write
// survives a crash of the process (SIGKILL), though not of the machine. With EngineOptions::sync
// it survives a crash of the machine too, through group commit (group_commit.h): Commit writes
// the log unsynced, then waits until one background syncer has fsynced the log past its write;
// every commit waiting at that moment shares that one fsync. A caller that cannot block (an
// event-loop thread) opens a DeferredCommits scope around its commits: they return as soon as
// they are written, and the caller answers later through WhenDurable. In both modes a reader
// may see a commit before it is durable (its fsync still running); a crash of the machine in
// that window loses what was seen but never acknowledged. Table and stream definition changes
// and background index work fsync each write themselves in sync mode.
//
// Failure modes: kResourceNotFound / kResourceInUse for table lookups, kValidation when an item
// or key lacks a key attribute of the schema's type (the API layer normally rejects those
// first, with DynamoDB's own texts), kIo for RocksDB failures, kInternal for corrupt records.
//
// Disk faults: a commit whose write-ahead-log append fails (EIO, ENOSPC) returns kIo and
// leaves nothing that a reader or a later reopen could see; reads go on working. The database
// then refuses writes (kIo) until the disk works again, when the next write resumes it (tried
// at most every 50 ms): no restart is needed. A failed background flush or compaction is
// handled the same way. A slow fsync blocks the writers that wait for it and nothing else. With
// EngineOptions::sync, a commit whose fsync fails also returns kIo, but its outcome is unknown
// (as with DynamoDB's InternalServerError): not acknowledged, yet it may surface after a
// reopen. One case needs a restart (RocksDB 7.8, see engine.cc): the log failing again right
// as the engine resumes; writes then fail with kIo saying so.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "dynamo/model/attribute_value.h"

namespace rocksdb {
class FileSystem;
}  // namespace rocksdb

namespace cruddur::dynamo::storage {

// A key attribute of a table or index. type is kS, kN or kB.
struct KeyAttribute {
  std::string name;
  AttrType type = AttrType::kS;
  bool operator==(const KeyAttribute&) const = default;
};

struct KeySchema {
  KeyAttribute hash;
  std::optional<KeyAttribute> range;
  bool operator==(const KeySchema&) const = default;
};

enum class ProjectionType : uint8_t { kAll, kKeysOnly, kInclude };

// Where an index is in its life. Indexes created with their table start kActive. An index added
// to a live table (Engine::AddGlobalIndex) is kBackfilling until every item that existed when it
// was added has its entry, then kActive; Engine::RemoveGlobalIndex makes an index kDeleting
// until its entries are gone, and then it leaves the definition. Writers maintain kActive and
// kBackfilling indexes; readers should use kActive ones only.
enum class IndexState : uint8_t { kActive = 0, kBackfilling, kDeleting };

// A global or local secondary index. Storage treats both kinds alike: an item has an entry
// iff it has every index key attribute with the index's type (sparse index). The entry holds
// the projection: the table's and the index's key attributes, plus non_key_attributes
// (kInclude) or every attribute (kAll).
struct IndexDef {
  std::string name;
  KeySchema key;
  ProjectionType projection = ProjectionType::kAll;
  std::vector<std::string> non_key_attributes;  // kInclude only
  uint32_t id = 0;                              // assigned by storage, unique within the table
  IndexState state = IndexState::kActive;       // set by storage
};

// What a stream record carries besides the keys ("StreamViewType" in the Streams API).
enum class StreamViewType : uint8_t { kKeysOnly = 0, kNewImage, kOldImage, kNewAndOldImages };

struct TableDef {
  std::string name;
  uint64_t id = 0;  // assigned by storage (CreateTable), never reused
  KeySchema key;
  std::vector<IndexDef> gsis;
  std::vector<IndexDef> lsis;
  // The id the next added index gets; index ids are never reused within a table, so entries of
  // a removed index can never be mistaken for a newer one's. Assigned by storage.
  uint32_t next_index_id = 0;
  // The table's stream: stream_view is set while a stream is enabled (set it before
  // CreateTable to create the table with one); stream_id names the latest stream, enabled or
  // since disabled (0 = never had one). Storage assigns stream_id; both change afterwards only
  // through Engine::SetTableStream.
  std::optional<StreamViewType> stream_view;
  uint64_t stream_id = 0;
  // Opaque blob owned by the API layer (e.g. its table description), stored with the def.
  std::string meta;

  // The index named `name` among gsis and lsis (in any state), or nullptr.
  const IndexDef* FindIndex(std::string_view index_name) const;
};

struct TableStats {
  int64_t item_count = 0;
  int64_t size_bytes = 0;  // sum of ItemSize over the table's items
};

// DynamoDB's item-collection limit for tables with local secondary indexes ("Item collections
// in Local Secondary Indexes": 10 GB per partition key value).
inline constexpr int64_t kItemCollectionLimitBytes = int64_t{10} << 30;

struct EngineOptions {
  std::string path;        // directory of the RocksDB database; created if missing
  bool in_memory = false;  // keep everything in a private in-memory Env (path still names it)
  // Commits are durable against a crash of the machine once Commit returns (or, in a
  // DeferredCommits scope, once WhenDurable calls back): group commit over the write-ahead log.
  bool sync = false;
  // A stream's open shard is closed and a child shard opened once the shard is this old or
  // holds this many records (DynamoDB rolls its shards over about every four hours).
  int64_t stream_shard_micros = int64_t{4} * 3600 * 1000000;
  uint64_t stream_shard_records = uint64_t{1} << 22;
  // Wall clock in microseconds since the epoch (stream record times, shard ages, trimming);
  // the system clock when empty. A seam for tests.
  std::function<int64_t()> clock;
  // Tables with local secondary indexes: a write that would grow an item collection (the items
  // of one partition key value plus their LSI entries) past this many bytes fails with
  // kItemCollectionSizeLimitExceeded. A seam so tests need not write 10 GB.
  int64_t item_collection_limit_bytes = kItemCollectionLimitBytes;
  // Background index work (AddGlobalIndex's backfill, RemoveGlobalIndex's cleanup) proceeds in
  // steps of at most this many items.
  size_t index_backfill_batch = 256;
  // Memory bounds: all column families' memtables together (a memtable is flushed when the
  // total passes this) and the block cache every family shares. RocksDB's defaults (64 MB per
  // memtable, two per family, a cache per family) would let six families hold ~800 MB.
  size_t memtable_budget_bytes = size_t{64} << 20;
  size_t block_cache_bytes = size_t{32} << 20;
  // A test seam: when set, called on the background thread before each step of index work;
  // returning false parks that work (the index stays kBackfilling or kDeleting) until the
  // engine is opened again, which resumes it.
  std::function<bool()> index_work_gate;
  // The file system every file of the database goes through; the real one when null. A seam
  // for fault injection (fault_fs.h). Ignored with in_memory.
  std::shared_ptr<rocksdb::FileSystem> file_system;
};

// ---- Streams (the change log behind the DynamoDB Streams API) ----
//
// A stream belongs to one table and lives from its enabling until it is trimmed away after it
// is disabled (by SetTableStream or DeleteTable). Every committed change of an item of a table
// with an enabled stream appends one record, in the same RocksDB batch as the change itself.
// Sequence numbers are per stream, start at 1, and are assigned in commit order: a reader that
// has seen sequence number n has seen every record below n that was ever committed. A shard is
// a run of sequence numbers [first_seq, last_seq]; each shard after the first is the child of
// the one before it.

struct StreamInfo {
  uint64_t id = 0;
  std::string table_name;
  uint64_t table_id = 0;
  KeySchema key;
  StreamViewType view = StreamViewType::kKeysOnly;
  int64_t created_micros = 0;   // when it was enabled (its label is derived from this)
  int64_t disabled_micros = 0;  // when it was disabled; 0 while enabled
  uint64_t last_seq = 0;        // its newest record's sequence number; 0 if it has none
  uint64_t trim_seq = 1;        // the oldest sequence number not yet trimmed away
};

struct StreamShard {
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;  // meaningful when closed; for an empty closed shard, first_seq - 1
  bool closed = false;    // no more records will be added
  int64_t created_micros = 0;
};

enum class ChangeKind : uint8_t { kInsert = 0, kModify, kRemove };

struct ChangeRecord {
  uint64_t seq = 0;
  int64_t micros = 0;  // commit time, non-decreasing along sequence numbers
  ChangeKind kind = ChangeKind::kInsert;
  bool by_service = false;  // a removal by the service itself (TTL), not by a client
  Item keys;
  std::optional<Item> old_image;  // present when the view type keeps it and there was one
  std::optional<Item> new_image;
  size_t size_bytes = 0;  // the size of keys and images, as DynamoDB counts item sizes
};

// A sort-key condition of Query (KeyConditionExpression's second half). Values must have the
// type of the sort key attribute; kBeginsWith applies to S and B (a prefix of the raw bytes).
struct SortRange {
  enum class Op : uint8_t { kAll, kEq, kLt, kLe, kGt, kGe, kBetween, kBeginsWith };
  Op op = Op::kAll;
  AttributeValue value;   // every op but kAll; the lower bound of kBetween
  AttributeValue value2;  // kBetween's upper bound (inclusive)

  static SortRange All() { return {}; }
  static SortRange Eq(AttributeValue v) { return {Op::kEq, std::move(v), {}}; }
  static SortRange Lt(AttributeValue v) { return {Op::kLt, std::move(v), {}}; }
  static SortRange Le(AttributeValue v) { return {Op::kLe, std::move(v), {}}; }
  static SortRange Gt(AttributeValue v) { return {Op::kGt, std::move(v), {}}; }
  static SortRange Ge(AttributeValue v) { return {Op::kGe, std::move(v), {}}; }
  static SortRange Between(AttributeValue lo, AttributeValue hi) {
    return {Op::kBetween, std::move(lo), std::move(hi)};
  }
  static SortRange BeginsWith(AttributeValue prefix) {
    return {Op::kBeginsWith, std::move(prefix), {}};
  }
};

// Results of Query and Scan, one item at a time:
//   while (it->Next()) { use(it->item(), it->size()); }
//   CRUDDUR_RETURN_IF_ERROR(it->status());
// For an index the item is the projected item (always with the table and index keys).
// The current item is held encoded (record()) and decoded only when item() is first called, so
// a reader that can work from the record (e.g. dynamo/json's WriteEncodedItem) never builds it.
class ItemIterator {
 public:
  virtual ~ItemIterator() = default;
  // Moves to the next item; false at the end or on error (then status() says which).
  virtual bool Next() = 0;
  // The current item's record (dynamo/model/item_codec.h); valid after Next() returned true,
  // until the next call to Next().
  virtual std::string_view record() const = 0;
  // The current item, decoded from record() on the first call and then cached; valid as
  // record(). A corrupt record yields an empty Item, and status() then reports kInternal at once
  // (and Next() returns false): check status() after the loop, as above.
  virtual const Item& item() const = 0;
  // ItemSize(item()), read from the record's header: what the item counts toward Query/Scan's
  // 1 MB page.
  virtual size_t size() const = 0;
  virtual Status status() const = 0;
};

class Engine {
 public:
  class WriteBatch;

  // Opens (creating if needed) the database at options.path and loads every table definition.
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // ---- Tables ----
  // Assigns def.id and index ids; fails with kResourceInUse if the name exists.
  Status CreateTable(TableDef def);
  // Removes the table, its items, index entries and stats; kResourceNotFound if absent.
  // Writes to the table that commit afterwards fail with kResourceNotFound, and background
  // index work on it stops: nothing of the table is left behind.
  Status DeleteTable(std::string_view name);
  // The current definition, or nullptr. Definitions are immutable; a change (SetTableMeta)
  // publishes a new object, so a caller's pointer stays valid and consistent.
  std::shared_ptr<const TableDef> GetTable(std::string_view name) const;
  // Names of all tables, sorted.
  std::vector<std::string> ListTables() const;
  // Replaces the opaque meta blob; kResourceNotFound if absent.
  Status SetTableMeta(std::string_view name, std::string meta);
  // Item count and total size, exact as of the last commit (kept up to date by every write).
  TableStats Stats(const TableDef& table) const;

  // ---- Secondary indexes on a live table ----
  // Adds `index` to the table's GSIs in state kBackfilling (its id assigned here) and replaces
  // the meta blob with `meta`, in one step; then a background thread gives every existing item
  // its entry, in batches of EngineOptions::index_backfill_batch items, while writes go on (each
  // write from then on maintains the new index itself), and finally makes the index kActive.
  // An interrupted backfill resumes when the engine is opened again. Errors: kResourceNotFound
  // for the table; kResourceInUse when an index of that name exists or another index of the
  // table is being added or removed (the API layer words these for users).
  Status AddGlobalIndex(std::string_view table, IndexDef index, std::string meta);
  // Makes GSI `index` kDeleting (writers stop maintaining it, a backfill in progress stops) and
  // replaces the meta blob with `meta`; a background thread then deletes its entries and drops
  // it from the definition. Errors: kResourceNotFound for the table or index; kResourceInUse
  // when the index is already kDeleting or another index of the table is being added or
  // removed (removing the one being backfilled is allowed, as DynamoDB allows deleting an index
  // whose Backfilling is true).
  Status RemoveGlobalIndex(std::string_view table, std::string_view index, std::string meta);

  // ---- Reads ----
  // The item with key `key` (the hash and, if any, range attribute; other attributes ignored).
  Result<std::optional<Item>> Get(const TableDef& table, const Item& key) const;
  // Several items read from one consistent snapshot (TransactGetItems, BatchGetItem).
  Result<std::vector<std::optional<Item>>> GetMany(
      const std::vector<std::pair<const TableDef*, Item>>& keys) const;

  // Items of one partition (`hash` is the table's or the index's partition key value) whose
  // sort key is in `range`, in sort-key order (descending if !forward), starting after
  // exclusive_start_key (an item holding at least the table keys and, for an index, the index
  // keys; it need not exist) when given. index = nullptr reads the table; otherwise a member of
  // table's indexes. Within equal index keys, index entries are ordered by table key.
  // Errors, reported by the iterator's status() (kValidation): `hash` or a range operand of
  // the wrong type, a range on a schema without a sort key, begins_with on N; a start key
  // lacking a key attribute ("The provided starting key is invalid") or outside the partition
  // or the range ("The provided starting key is outside query boundaries based on provided
  // condition").
  std::unique_ptr<ItemIterator> Query(const TableDef& table, const IndexDef* index,
                                      const AttributeValue& hash, const SortRange& range,
                                      bool forward, const Item* exclusive_start_key) const;
  // Every item of the table or index, or of segment `segment` of `total_segments` (each
  // segment is an even slice of the hash space; together they cover every item exactly once),
  // starting after exclusive_start_key when given. total_segments = 1 reads everything. Items
  // come in hash order, each partition's items together in sort-key order.
  // Errors (kValidation, via status()): segment not in [0, total_segments); a start key
  // lacking a key attribute or outside the segment, with real DynamoDB's texts.
  std::unique_ptr<ItemIterator> Scan(const TableDef& table, const IndexDef* index, int segment,
                                     int total_segments, const Item* exclusive_start_key) const;

  // ---- Writes ----
  // Locks every key of `keys` (table + key item) until the WriteBatch is destroyed. Locks are
  // striped and taken in one global order, so concurrent BeginWrite calls cannot deadlock; a
  // thread must not hold two WriteBatches at once. Never fails; validation happens in Commit.
  std::unique_ptr<WriteBatch> BeginWrite(
      std::vector<std::pair<std::shared_ptr<const TableDef>, Item>> keys);

  // ---- Streams ----
  // Enables a new stream with view type `view` on the table, or disables its current one
  // (nullopt). Errors: kResourceNotFound; kValidation when enabling a table whose stream is
  // already enabled or disabling one that has none (the API layer words these for users).
  Status SetTableStream(std::string_view table, std::optional<StreamViewType> view);
  // Every stream not yet trimmed away (enabled or disabled), by id.
  std::vector<StreamInfo> ListStreams() const;
  std::optional<StreamInfo> GetStream(uint64_t stream_id) const;
  // The stream's shards, oldest first; every shard but the last is closed, and the last too
  // once the stream is disabled. Shards whose records are all trimmed away are not listed
  // (except the last). kResourceNotFound for an unknown stream.
  Result<std::vector<StreamShard>> ListShards(uint64_t stream_id) const;
  // Records with first_seq <= seq <= last_seq, in order, at most `limit` of them and, past the
  // first, at most about `max_bytes` of size_bytes. Trimmed records are simply absent.
  Result<std::vector<ChangeRecord>> ReadStream(uint64_t stream_id, uint64_t first_seq,
                                               uint64_t last_seq, size_t limit,
                                               size_t max_bytes) const;
  // Blocks until the stream has a record after `after_seq`, it is disabled or trimmed, or
  // `timeout` passes; returns whether it has such a record. For low-latency consumers.
  bool WaitForStream(uint64_t stream_id, uint64_t after_seq,
                     std::chrono::milliseconds timeout) const;
  // Deletes records older than `retention` and the shards and disabled streams left with none.
  Status TrimStreams(std::chrono::microseconds retention);

  // ---- Durability (see "Durability" above) ----
  class DeferredCommits;
  // True when every commit up to `mark` (DeferredCommits::mark) is durable: always without
  // EngineOptions::sync; with it, once the log was fsynced past the mark.
  bool IsDurable(uint64_t mark) const;
  // Calls done(Ok) once IsDurable(mark) holds: at once on the caller's thread when it already
  // does, otherwise on the syncer thread (so `done` must be short and must not block). done(kIo)
  // if an fsync failed: the outcome of the commits it covered is unknown, and every later call
  // fails too (an fsync that failed once proves nothing when it later succeeds).
  void WhenDurable(uint64_t mark, std::function<void(Status)> done) const;

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// While one is alive on a thread, Commit on that thread returns as soon as its write is in the
// write-ahead log instead of waiting for the fsync (EngineOptions::sync), and the scope
// remembers the mark to pass to Engine::WhenDurable. For callers that must not block (HTTP
// handlers on event-loop threads). Scopes nest (the inner one collects while it lives);
// create and destroy one on the same thread.
class Engine::DeferredCommits {
 public:
  explicit DeferredCommits(const Engine* engine);
  ~DeferredCommits();
  DeferredCommits(const DeferredCommits&) = delete;
  DeferredCommits& operator=(const DeferredCommits&) = delete;

  // Covers every commit this thread made on the engine in this scope; 0 if it made none.
  uint64_t mark() const { return mark_; }

 private:
  friend class Engine;
  friend class Engine::WriteBatch;
  const Engine* engine_;
  DeferredCommits* outer_;
  uint64_t mark_ = 0;
};

// An atomic, isolated group of writes over the keys locked by BeginWrite. Nothing is visible
// to readers before Commit; after it, every put and delete, the index entries they add, move
// or remove, the stats and the stream records are visible together (one RocksDB WriteBatch).
// A put or delete that leaves an item as it was writes no stream record, as on DynamoDB.
// Not thread-safe; destroy it to release the locks (whether or not it committed).
class Engine::WriteBatch {
 public:
  ~WriteBatch();
  WriteBatch(const WriteBatch&) = delete;
  WriteBatch& operator=(const WriteBatch&) = delete;

  // The committed item at `key` (a locked key), read under the lock: it cannot change until
  // this batch is destroyed, except by this batch.
  Result<std::optional<Item>> Read(const TableDef& table, const Item& key);
  // Queue a whole-item replacement / a delete. The key must be one passed to BeginWrite; the
  // last operation queued for a key wins. Errors (unlocked key, missing key attribute) are
  // reported by Commit.
  void Put(const TableDef& table, Item item);
  // by_service marks the removal as the service's own (TTL) in its stream record.
  void Delete(const TableDef& table, const Item& key, bool by_service = false);
  // Writes everything queued, atomically. Index entries are maintained for the table's indexes
  // as defined at commit time (so an index added since BeginWrite is maintained too). Fails
  // without writing anything on kValidation (a key attribute missing or of the wrong type),
  // kResourceNotFound (a table deleted or replaced since BeginWrite),
  // kItemCollectionSizeLimitExceeded (a table with LSIs whose item collection would grow past
  // EngineOptions::item_collection_limit_bytes), kInternal (a key not locked by this batch) or
  // kIo. At most once. With EngineOptions::sync it returns once the write is durable (or, in a
  // DeferredCommits scope, once it is written); kIo from the fsync means the write happened
  // but may not survive a crash of the machine.
  Status Commit();
  // After a successful Commit, for a table with local secondary indexes: the size in bytes of
  // the item collection of `key`'s partition as this commit left it (the sizes of its items plus
  // their LSI entries; concurrent writers to the same partition may make it a little stale).
  // nullopt for a table without LSIs or a key this batch did not write.
  std::optional<int64_t> ItemCollectionBytes(const TableDef& table, const Item& key) const;

 private:
  friend class Engine;
  struct State;
  explicit WriteBatch(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace cruddur::dynamo::storage
