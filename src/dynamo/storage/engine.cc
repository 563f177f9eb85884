// RocksDB layout (all integers big-endian so that memcmp order is numeric order):
//
//   meta   "n"                  -> next table id (8 bytes)
//          "t" + table name     -> EncodeTableDef(def)
//          "b" | tid(8) | iid(4) -> backfill cursor: the last item key an index's backfill did
//   items  tid(8) | h(4) | pk | sk                              -> EncodeItem(item)
//   index  tid(8) | iid(4) | h(4) | ipk | isk | pk | sk          -> EncodeItem(projected item)
//   stats  tid(8)               -> item count (8, LE) | size bytes (8, LE), merged by addition
//          tid(8) | h(4) | pk   -> the same for one item collection (tables with LSIs only)
//   stream "N"                           -> next stream id (8)
//          "M" | sid(8)                  -> EncodeStreamInfo (stream meta; disabled time)
//          "H" | sid(8) | first_seq(8)   -> shard creation time (8)
//          "R" | sid(8) | seq(8)         -> EncodeChange (one stream record)
//          "T" | sid(8)                  -> trim mark: every seq below it was trimmed (8)
//
// pk/sk/ipk/isk are key_codec encodings, which are self-delimiting and memcmp-ordered, so a
// partition is a contiguous key range sorted by sort key, and one table (or index) is the
// contiguous range of its id prefix: DeleteTable is one DeleteRange per family, and no range
// read ever has to step over another table's or partition's keys. h is a hash of the encoded
// partition key placed before it, so a Scan returns items in hash order as DynamoDB's does
// ("Scan" in the Developer Guide: results are not ordered by key) and Segment/TotalSegments
// ("Parallel scan") split the 32-bit hash space into even slices. The hash is persisted inside
// every key: it must never change.
//
// Stats are kept in memory (atomics) for DescribeTable's ItemCount/TableSizeBytes and persisted
// with a merge operator in the same batch as each write: concurrent writers to different keys
// never read-modify-write the counter, and a restart recovers the exact values.
#include "dynamo/storage/engine.h"

#include <pthread.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/listener.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/stackable_db.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "dynamo/model/item_codec.h"
#include "dynamo/model/key_codec.h"
#include "dynamo/storage/group_commit.h"

namespace cruddur::dynamo::storage {

const IndexDef* TableDef::FindIndex(std::string_view index_name) const {
  for (const auto* list : {&gsis, &lsis}) {
    for (const IndexDef& index : *list) {
      if (index.name == index_name) return &index;
    }
  }
  return nullptr;
}

namespace {

constexpr char kMetaFamily[] = "meta";
constexpr char kItemsFamily[] = "items";
constexpr char kIndexFamily[] = "index";
constexpr char kStatsFamily[] = "stats";
constexpr char kStreamFamily[] = "stream";
constexpr char kNextTableIdKey[] = "n";
constexpr char kTableKeyPrefix = 't';
constexpr char kBackfillCursorPrefix = 'b';
// Version 1 had no stream fields, version 2 no index states or next index id; both are still
// read (as "no stream", every index active).
constexpr uint8_t kTableDefVersion = 3;
constexpr char kNextStreamIdKey[] = "N";
constexpr char kStreamMetaPrefix = 'M';
constexpr char kShardPrefix = 'H';
constexpr char kRecordPrefix = 'R';
constexpr char kTrimMarkPrefix = 'T';
constexpr uint8_t kNoStream = 0xff;
// Lock stripes for BeginWrite. Collisions only serialize unrelated keys, never deadlock,
// because stripes are always taken in ascending order.
constexpr size_t kLockStripes = 4096;

// The meta family's key of a table's definition.
std::string TableKey(std::string_view name) {
  return std::string(1, kTableKeyPrefix) + std::string(name);
}

// ---- Byte helpers ----

void PutBigEndian(uint64_t v, int bytes, std::string* out) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t GetBigEndian(std::string_view in) {
  uint64_t v = 0;
  for (char c : in) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutString(std::string_view s, std::string* out) {
  PutVarint(s.size(), out);
  out->append(s);
}

// The smallest string greater than every string that starts with `prefix`; empty when there
// is none (prefix all 0xff), which callers treat as "no upper bound".
std::string PrefixSuccessor(std::string prefix) {
  while (!prefix.empty()) {
    auto last = static_cast<uint8_t>(prefix.back());
    if (last != 0xff) {
      prefix.back() = static_cast<char>(last + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;
}

// The smallest string greater than `key` itself.
std::string KeySuccessor(std::string key) {
  key.push_back('\0');
  return key;
}

// FNV-1a with MurmurHash3's finalizer, so that even the top bits (which pick the Scan segment)
// are well mixed for short, similar keys. Persisted in keys: do not change.
uint32_t PartitionHash(std::string_view encoded_pk) {
  uint32_t h = 2166136261u;
  for (char c : encoded_pk) {
    h ^= static_cast<uint8_t>(c);
    h *= 16777619u;
  }
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

// ---- Key encoding ----

std::string TablePrefix(uint64_t table_id) {
  std::string out;
  PutBigEndian(table_id, 8, &out);
  return out;
}

std::string IndexPrefix(uint64_t table_id, uint32_t index_id) {
  std::string out = TablePrefix(table_id);
  PutBigEndian(index_id, 4, &out);
  return out;
}

// The meta key of the backfill cursor of index `index_id` of table `table_id`.
std::string BackfillCursorKey(uint64_t table_id, uint32_t index_id) {
  std::string out(1, kBackfillCursorPrefix);
  PutBigEndian(table_id, 8, &out);
  PutBigEndian(index_id, 4, &out);
  return out;
}

// Appends the encoding of the key attribute `attr` of `item`. DynamoDB's texts for a missing
// key or a wrong type ("One or more parameter values were invalid: ...").
Status AppendKeyAttribute(const Item& item, const KeyAttribute& attr, std::string* out) {
  auto it = item.find(attr.name);
  if (it == item.end()) {
    return ValidationError("One or more parameter values were invalid: Missing the key " +
                           attr.name + " in the item");
  }
  if (it->second.type != attr.type) {
    return ValidationError("One or more parameter values were invalid: Type mismatch for key " +
                           attr.name + " expected: " + std::string(AttrTypeName(attr.type)) +
                           " actual: " + std::string(AttrTypeName(it->second.type)));
  }
  EncodeKeyValue(it->second, out);
  return Status::Ok();
}

// Appends h | pk to `out` for a partition key value.
void AppendPartition(const AttributeValue& hash, std::string* out) {
  std::string pk;
  EncodeKeyValue(hash, &pk);
  PutBigEndian(PartitionHash(pk), 4, out);
  out->append(pk);
}

// Appends h | pk | sk of `item` under `schema`.
Status AppendPrimaryKey(const Item& item, const KeySchema& schema, std::string* out) {
  std::string pk;
  CRUDDUR_RETURN_IF_ERROR(AppendKeyAttribute(item, schema.hash, &pk));
  PutBigEndian(PartitionHash(pk), 4, out);
  out->append(pk);
  if (schema.range) CRUDDUR_RETURN_IF_ERROR(AppendKeyAttribute(item, *schema.range, out));
  return Status::Ok();
}

Result<std::string> ItemKey(const TableDef& table, const Item& item) {
  std::string key = TablePrefix(table.id);
  CRUDDUR_RETURN_IF_ERROR(AppendPrimaryKey(item, table.key, &key));
  return key;
}

// The index entry key of `item`, or nullopt when the index does not cover the item (sparse:
// an index key attribute is missing or of another type). `item` must hold the table keys.
std::optional<std::string> IndexEntryKey(const TableDef& table, const IndexDef& index,
                                         const Item& item) {
  std::string key = IndexPrefix(table.id, index.id);
  if (!AppendPrimaryKey(item, index.key, &key).ok()) return std::nullopt;
  if (!AppendKeyAttribute(item, table.key.hash, &key).ok()) return std::nullopt;
  if (table.key.range && !AppendKeyAttribute(item, *table.key.range, &key).ok()) {
    return std::nullopt;
  }
  return key;
}

// The storage key an ExclusiveStartKey designates in the table or index, or nullopt when it
// lacks a key attribute (or has one of the wrong type).
std::optional<std::string> StartKey(const TableDef& table, const IndexDef* index,
                                    const Item& start) {
  if (index != nullptr) return IndexEntryKey(table, *index, start);
  Result<std::string> key = ItemKey(table, start);
  if (!key.ok()) return std::nullopt;
  return std::move(key).value();
}

// What an index stores of an item ("Projections" in the Developer Guide): the table and index
// keys always; with INCLUDE the listed attributes too; with ALL everything.
Item Project(const TableDef& table, const IndexDef& index, const Item& item) {
  if (index.projection == ProjectionType::kAll) return item;
  Item out;
  auto copy = [&](const std::string& name) {
    auto it = item.find(name);
    if (it != item.end()) out.insert(*it);
  };
  copy(table.key.hash.name);
  if (table.key.range) copy(table.key.range->name);
  copy(index.key.hash.name);
  if (index.key.range) copy(index.key.range->name);
  if (index.projection == ProjectionType::kInclude) {
    for (const std::string& name : index.non_key_attributes) copy(name);
  }
  return out;
}

// Whether writers keep entries of `index` (see IndexState).
bool Maintained(const IndexDef& index) { return index.state != IndexState::kDeleting; }

// What `item` adds to its item collection: the item itself plus the attributes projected into
// the table's local secondary indexes (API Reference, "ItemCollectionMetrics":
// SizeEstimateRangeGB "includes the size of all the items in the table, plus the size of all
// attributes projected into all of the local secondary indexes on that table").
int64_t CollectionShare(const TableDef& table, const Item& item) {
  auto size = static_cast<int64_t>(ItemSize(item));
  for (const IndexDef& lsi : table.lsis) {
    if (!Maintained(lsi) || !IndexEntryKey(table, lsi, item)) continue;
    size += static_cast<int64_t>(lsi.projection == ProjectionType::kAll
                                     ? ItemSize(item)
                                     : ItemSize(Project(table, lsi, item)));
  }
  return size;
}

// The stats key of the item collection `item` belongs to: its table's partition key value.
std::string CollectionKey(const TableDef& table, const Item& item) {
  std::string key = TablePrefix(table.id);
  auto hash = item.find(table.key.hash.name);
  if (hash != item.end()) AppendPartition(hash->second, &key);
  return key;
}

// ---- Table definitions ----

void PutKeyAttribute(const KeyAttribute& attr, std::string* out) {
  PutString(attr.name, out);
  out->push_back(static_cast<char>(attr.type));
}

void PutKeySchema(const KeySchema& schema, std::string* out) {
  PutKeyAttribute(schema.hash, out);
  out->push_back(schema.range ? 1 : 0);
  if (schema.range) PutKeyAttribute(*schema.range, out);
}

void PutIndexes(const std::vector<IndexDef>& indexes, std::string* out) {
  PutVarint(indexes.size(), out);
  for (const IndexDef& index : indexes) {
    PutString(index.name, out);
    PutKeySchema(index.key, out);
    out->push_back(static_cast<char>(index.projection));
    PutVarint(index.non_key_attributes.size(), out);
    for (const std::string& name : index.non_key_attributes) PutString(name, out);
    PutVarint(index.id, out);
    out->push_back(static_cast<char>(index.state));
  }
}

std::string EncodeTableDef(const TableDef& def) {
  std::string out;
  out.push_back(static_cast<char>(kTableDefVersion));
  PutVarint(def.id, &out);
  PutString(def.name, &out);
  PutKeySchema(def.key, &out);
  PutIndexes(def.gsis, &out);
  PutIndexes(def.lsis, &out);
  PutString(def.meta, &out);
  out.push_back(
      static_cast<char>(def.stream_view ? static_cast<uint8_t>(*def.stream_view) : kNoStream));
  PutVarint(def.stream_id, &out);
  PutVarint(def.next_index_id, &out);
  return out;
}

// Bounds-checked reader for EncodeTableDef's output; any inconsistency sets ok = false.
class DefReader {
 public:
  explicit DefReader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_ && in_.empty(); }

  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) break;
      auto byte = static_cast<uint8_t>(in_.front());
      in_.remove_prefix(1);
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return v;
    }
    ok_ = false;
    return 0;
  }
  uint8_t Byte() {
    if (in_.empty()) {
      ok_ = false;
      return 0;
    }
    auto byte = static_cast<uint8_t>(in_.front());
    in_.remove_prefix(1);
    return byte;
  }
  std::string String() {
    uint64_t len = Varint();
    if (len > in_.size()) {
      ok_ = false;
      return {};
    }
    std::string s(in_.substr(0, len));
    in_.remove_prefix(len);
    return s;
  }
  KeyAttribute Attribute() {
    KeyAttribute attr;
    attr.name = String();
    uint8_t type = Byte();
    if (type != static_cast<uint8_t>(AttrType::kS) && type != static_cast<uint8_t>(AttrType::kN) &&
        type != static_cast<uint8_t>(AttrType::kB)) {
      ok_ = false;
    }
    attr.type = static_cast<AttrType>(type);
    return attr;
  }
  KeySchema Schema() {
    KeySchema schema;
    schema.hash = Attribute();
    if (Byte() != 0) schema.range = Attribute();
    return schema;
  }
  // `with_state`: the index state follows each index (version 3 on).
  std::vector<IndexDef> Indexes(bool with_state) {
    std::vector<IndexDef> indexes;
    uint64_t count = Varint();
    for (uint64_t i = 0; i < count && ok_; ++i) {
      IndexDef index;
      index.name = String();
      index.key = Schema();
      uint8_t projection = Byte();
      if (projection > static_cast<uint8_t>(ProjectionType::kInclude)) ok_ = false;
      index.projection = static_cast<ProjectionType>(projection);
      uint64_t names = Varint();
      for (uint64_t j = 0; j < names && ok_; ++j) index.non_key_attributes.push_back(String());
      index.id = static_cast<uint32_t>(Varint());
      if (with_state) {
        uint8_t state = Byte();
        if (state > static_cast<uint8_t>(IndexState::kDeleting)) ok_ = false;
        index.state = static_cast<IndexState>(state);
      }
      indexes.push_back(std::move(index));
    }
    return indexes;
  }

 private:
  std::string_view in_;
  bool ok_ = true;
};

Result<TableDef> DecodeTableDef(std::string_view bytes) {
  DefReader reader(bytes);
  TableDef def;
  uint8_t version = reader.Byte();
  if (version < 1 || version > kTableDefVersion) {
    return InternalError("Corrupt table definition: unknown version");
  }
  def.id = reader.Varint();
  def.name = reader.String();
  def.key = reader.Schema();
  def.gsis = reader.Indexes(version >= 3);
  def.lsis = reader.Indexes(version >= 3);
  def.meta = reader.String();
  if (version >= 2) {
    uint8_t view = reader.Byte();
    if (view != kNoStream) {
      if (view > static_cast<uint8_t>(StreamViewType::kNewAndOldImages)) {
        return InternalError("Corrupt table definition: stream view type");
      }
      def.stream_view = static_cast<StreamViewType>(view);
    }
    def.stream_id = reader.Varint();
  }
  if (version >= 3) {
    def.next_index_id = static_cast<uint32_t>(reader.Varint());
  } else {
    // Before version 3 ids were 1..n in creation order and indexes were never removed.
    def.next_index_id = static_cast<uint32_t>(def.gsis.size() + def.lsis.size() + 1);
  }
  if (!reader.ok()) return InternalError("Corrupt table definition");
  return def;
}

// ---- Streams ----

std::string StreamMetaKey(uint64_t stream_id) {
  std::string key(1, kStreamMetaPrefix);
  PutBigEndian(stream_id, 8, &key);
  return key;
}

std::string ShardKey(uint64_t stream_id, uint64_t first_seq) {
  std::string key(1, kShardPrefix);
  PutBigEndian(stream_id, 8, &key);
  PutBigEndian(first_seq, 8, &key);
  return key;
}

std::string RecordKey(uint64_t stream_id, uint64_t seq) {
  std::string key(1, kRecordPrefix);
  PutBigEndian(stream_id, 8, &key);
  PutBigEndian(seq, 8, &key);
  return key;
}

std::string TrimMarkKey(uint64_t stream_id) {
  std::string key(1, kTrimMarkPrefix);
  PutBigEndian(stream_id, 8, &key);
  return key;
}

std::string EncodeStreamInfo(const StreamInfo& info) {
  std::string out;
  out.push_back(1);  // version
  PutString(info.table_name, &out);
  PutVarint(info.table_id, &out);
  PutKeySchema(info.key, &out);
  out.push_back(static_cast<char>(info.view));
  PutBigEndian(static_cast<uint64_t>(info.created_micros), 8, &out);
  PutBigEndian(static_cast<uint64_t>(info.disabled_micros), 8, &out);
  return out;
}

Result<StreamInfo> DecodeStreamInfo(uint64_t id, std::string_view bytes) {
  StreamInfo info;
  info.id = id;
  if (bytes.size() < 17 || bytes[0] != 1) return InternalError("Corrupt stream definition");
  DefReader reader(bytes.substr(1, bytes.size() - 17));
  info.table_name = reader.String();
  info.table_id = reader.Varint();
  info.key = reader.Schema();
  uint8_t view = reader.Byte();
  if (!reader.ok() || view > static_cast<uint8_t>(StreamViewType::kNewAndOldImages)) {
    return InternalError("Corrupt stream definition");
  }
  info.view = static_cast<StreamViewType>(view);
  info.created_micros = static_cast<int64_t>(GetBigEndian(bytes.substr(bytes.size() - 16, 8)));
  info.disabled_micros = static_cast<int64_t>(GetBigEndian(bytes.substr(bytes.size() - 8)));
  return info;
}

// A stream record: version, kind, flags, commit time, size, then the keys and the images the
// view type keeps, each an item record behind its length. The commit time sits at a fixed
// offset (kChangeMicrosOffset) so it can be stamped at commit, after the rest is encoded.
constexpr size_t kChangeMicrosOffset = 3;

// `old_record`/`new_record` are the images' item records (EncodeItem), or null when the view
// type does not keep that image or there is none.
std::string EncodeChange(ChangeKind kind, bool by_service, size_t size_bytes, const Item& keys,
                         const std::string* old_record, const std::string* new_record) {
  std::string out;
  out.push_back(1);  // version
  out.push_back(static_cast<char>(kind));
  out.push_back(static_cast<char>(by_service ? 1 : 0));
  PutBigEndian(0, 8, &out);  // commit time, stamped by StampChange
  PutVarint(size_bytes, &out);
  std::string encoded_keys;
  EncodeItem(keys, &encoded_keys);
  PutString(encoded_keys, &out);
  for (const std::string* image : {old_record, new_record}) {
    out.push_back(image != nullptr ? 1 : 0);
    if (image != nullptr) PutString(*image, &out);
  }
  return out;
}

void StampChange(int64_t micros, std::string* record) {
  std::string stamp;
  PutBigEndian(static_cast<uint64_t>(micros), 8, &stamp);
  record->replace(kChangeMicrosOffset, 8, stamp);
}

// The commit time of an encoded record, without decoding the rest (trimming).
std::optional<int64_t> ChangeMicros(std::string_view bytes) {
  if (bytes.size() < 11 || bytes[0] != 1) return std::nullopt;
  return static_cast<int64_t>(GetBigEndian(bytes.substr(kChangeMicrosOffset, 8)));
}

Result<ChangeRecord> DecodeChange(uint64_t seq, std::string_view bytes) {
  ChangeRecord change;
  change.seq = seq;
  std::optional<int64_t> micros = ChangeMicros(bytes);
  if (!micros || static_cast<uint8_t>(bytes[1]) > static_cast<uint8_t>(ChangeKind::kRemove)) {
    return InternalError("Corrupt stream record");
  }
  change.kind = static_cast<ChangeKind>(bytes[1]);
  change.by_service = bytes[2] != 0;
  change.micros = *micros;
  DefReader reader(bytes.substr(11));
  change.size_bytes = reader.Varint();
  std::string keys = reader.String();
  std::string images[2];
  bool present[2] = {false, false};
  for (int i = 0; i < 2; ++i) {
    present[i] = reader.Byte() != 0;
    if (present[i]) images[i] = reader.String();
  }
  if (!reader.ok()) return InternalError("Corrupt stream record");
  CRUDDUR_ASSIGN_OR_RETURN(change.keys, DecodeItem(keys));
  if (present[0]) {
    CRUDDUR_ASSIGN_OR_RETURN(Item old_image, DecodeItem(images[0]));
    change.old_image = std::move(old_image);
  }
  if (present[1]) {
    CRUDDUR_ASSIGN_OR_RETURN(Item new_image, DecodeItem(images[1]));
    change.new_image = std::move(new_image);
  }
  return change;
}

// The key attributes of `item` under `schema` (both present: the item is stored).
Item KeysOf(const Item& item, const KeySchema& schema) {
  Item keys;
  for (const KeyAttribute* attr : {&schema.hash, schema.range ? &*schema.range : nullptr}) {
    if (attr == nullptr) continue;
    auto it = item.find(attr->name);
    if (it != item.end()) keys.insert(*it);
  }
  return keys;
}

// A stream record awaiting its sequence number and commit time (Engine::WriteBatch::Commit).
struct PendingChange {
  uint64_t stream_id;
  std::string record;  // EncodeChange's output
};

// The stream record of replacing `old_item` by `new_item` (either may be absent, not both),
// with the images `view` keeps ("StreamViewType" in the Streams API Reference). The images go
// in as the item records the commit already has (the stored bytes it read, the bytes it
// writes), so nothing is copied or encoded twice.
std::string MakeChange(const KeySchema& key, StreamViewType view, const Item* old_item,
                       const std::string& old_record, const Item* new_item,
                       const std::string& new_record, bool by_service) {
  ChangeKind kind = old_item == nullptr   ? ChangeKind::kInsert
                    : new_item == nullptr ? ChangeKind::kRemove
                                          : ChangeKind::kModify;
  Item keys = KeysOf(new_item != nullptr ? *new_item : *old_item, key);
  bool keep_old = view == StreamViewType::kOldImage || view == StreamViewType::kNewAndOldImages;
  bool keep_new = view == StreamViewType::kNewImage || view == StreamViewType::kNewAndOldImages;
  bool has_old = keep_old && old_item != nullptr;
  bool has_new = keep_new && new_item != nullptr;
  // Item sizes come from the records' headers (O(1)), not from walking the items.
  auto record_size = [](const std::string& record, const Item& item) {
    Result<size_t> size = EncodedItemSize(record);
    return size.ok() ? *size : ItemSize(item);
  };
  size_t size = ItemSize(keys) + (has_old ? record_size(old_record, *old_item) : 0) +
                (has_new ? record_size(new_record, *new_item) : 0);
  return EncodeChange(kind, by_service && kind == ChangeKind::kRemove, size, keys,
                      has_old ? &old_record : nullptr, has_new ? &new_record : nullptr);
}

// ---- Stats ----

std::string EncodeStatsDelta(int64_t count, int64_t bytes) {
  std::string out(16, '\0');
  auto c = static_cast<uint64_t>(count);
  auto b = static_cast<uint64_t>(bytes);
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<char>((c >> (8 * i)) & 0xff);
    out[8 + i] = static_cast<char>((b >> (8 * i)) & 0xff);
  }
  return out;
}

bool DecodeStats(std::string_view in, int64_t* count, int64_t* bytes) {
  if (in.size() != 16) return false;
  uint64_t c = 0;
  uint64_t b = 0;
  for (int i = 7; i >= 0; --i) {
    c = (c << 8) | static_cast<uint8_t>(in[i]);
    b = (b << 8) | static_cast<uint8_t>(in[8 + i]);
  }
  *count = static_cast<int64_t>(c);
  *bytes = static_cast<int64_t>(b);
  return true;
}

class StatsAddOperator : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice& /*key*/, const rocksdb::Slice* existing,
             const rocksdb::Slice& value, std::string* new_value,
             rocksdb::Logger* /*logger*/) const override {
    int64_t count = 0;
    int64_t bytes = 0;
    if (existing != nullptr && !DecodeStats(existing->ToStringView(), &count, &bytes)) {
      return false;
    }
    int64_t add_count = 0;
    int64_t add_bytes = 0;
    if (!DecodeStats(value.ToStringView(), &add_count, &add_bytes)) return false;
    *new_value = EncodeStatsDelta(count + add_count, bytes + add_bytes);
    return true;
  }
  const char* Name() const override { return "CruddurStatsAdd"; }
};

// Per-table state kept beside the definition. stream_id/view change only under tables_mu held
// exclusively, and are read by Commit under tables_mu held shared.
struct Counters {
  std::atomic<int64_t> item_count{0};
  std::atomic<int64_t> size_bytes{0};
  uint64_t stream_id = 0;
  StreamViewType stream_view = StreamViewType::kKeysOnly;
};

// A stream's in-memory state, guarded by Impl::streams_mu.
struct StreamState {
  StreamInfo info;  // info.last_seq: the visible end (every record up to it has landed)
  std::vector<StreamShard> shards;  // oldest first; each one's last_seq filled in when closed
  int64_t last_micros = 0;          // of the newest record (record times never go back)
  uint64_t assigned_seq = 0;        // the newest sequence number handed out
  std::set<uint64_t> in_flight;     // handed out, their writes not finished yet
};

// A shared mutex that lets an exclusive locker in ahead of later shared lockers. glibc's
// default rwlock (behind std::shared_mutex) prefers readers: under a steady stream of commits,
// each holding the tables lock shared, DeleteTable or an index change waiting to lock it
// exclusively could wait forever. A thread must not take it shared twice (with an exclusive
// locker queued in between, the second attempt would wait for it).
class WriterFirstSharedMutex {
 public:
  WriterFirstSharedMutex() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&lock_, &attr);
    pthread_rwlockattr_destroy(&attr);
  }
  ~WriterFirstSharedMutex() { pthread_rwlock_destroy(&lock_); }
  WriterFirstSharedMutex(const WriterFirstSharedMutex&) = delete;
  WriterFirstSharedMutex& operator=(const WriterFirstSharedMutex&) = delete;

  void lock() { pthread_rwlock_wrlock(&lock_); }
  void unlock() { pthread_rwlock_unlock(&lock_); }
  void lock_shared() { pthread_rwlock_rdlock(&lock_); }
  void unlock_shared() { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
};

Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return Status::Ok();
  if (s.IsCorruption()) return InternalError("Storage corruption: " + s.ToString());
  // A background error RocksDB stopped writes for carries its severity (the write that hit the
  // fault first does not); a hard one is recovered from (see "Recovery from disk faults").
  if (s.severity() == rocksdb::Status::Severity::kHardError) {
    return IoError("Storage error: " + s.ToString() +
                   " (writes are stopped until the storage recovers, which it does by itself "
                   "once the disk works again)");
  }
  return IoError("Storage error: " + s.ToString());
}

// ---- Recovery from disk faults ----
//
// RocksDB 7.8 stops writes after a failed write-ahead-log write, flush, compaction or MANIFEST
// write (db/error_handler.cc), and what gets it going again depends on the error:
//   - NoSpace (ENOSPC): a hard error, which DB::Resume() clears (RocksDB would also resume by
//     itself, through its SstFileManager; see below why the engine does it instead).
//   - any other IOError (EIO): a *fatal* error, which Resume() refuses: only closing and
//     reopening the database clears it.
//   - an IOError marked retryable: a hard error (a soft one for compaction, which stops no
//     writes) that Resume() clears.
// Resume flushes the memtables, which hold exactly the acknowledged writes (a batch enters them
// only after its log write succeeded), into new files and switches to a new log, so the log a
// write failed on is never replayed. So RecoverableFileSystem marks every write-side error of
// the database's files retryable except NoSpace: a failing disk stops writes until it works
// again, no longer until the process restarts. (RocksDB treats EIO as possibly permanent; a
// disk that stays broken just keeps failing writes with kIo.)
//
// One trap: 7.8 switches to a new log during Resume only if some memtable holds data (newer
// releases always switch). Resumed on a failed log, it keeps writing to it, and the next write
// trips an assertion in RocksDB's WritableFileWriter (Debian builds RocksDB with assertions:
// the process aborts). So RocksDB's own automatic recovery is off, and GuardedDB resumes the
// database on the first write after a failure (at most once per kResumeInterval), and only
// when that cannot happen: the log is healthy, or some memtable holds data. A sentinel key in
// the otherwise unused default column family keeps a memtable non-empty: written at open and
// right after every resume, it is flushed only by Resume itself or once the logs outgrow
// max_total_wal_size. As Resume empties the memtables, GuardedDB first checks that the disk
// takes a log write again (RecoverableFileSystem::Probe), so a disk that is still failing does
// not leave them empty. Should a log write fail with every memtable empty all the same (the
// disk failing again between the probe and the sentinel), writes fail with kIo until a
// restart, rather than the process aborting.

// Whether the newest write-ahead log has failed a write since RocksDB created it (RocksDB only
// ever appends to the newest log).
struct WalHealth {
  std::atomic<bool> failed{false};
};

bool IsWalFile(const std::string& fname) { return fname.ends_with(".log"); }

rocksdb::IOStatus MarkRetryable(rocksdb::IOStatus s) {
  if (!s.ok() && s.IsIOError() && !s.IsNoSpace()) s.SetRetryable(true);
  return s;
}

class RecoverableWritableFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  using IOOptions = rocksdb::IOOptions;
  using IODebugContext = rocksdb::IODebugContext;

  // `wal` is set for a write-ahead log only.
  RecoverableWritableFile(std::unique_ptr<rocksdb::FSWritableFile> target, WalHealth* wal)
      : FSWritableFileOwnerWrapper(std::move(target)), wal_(wal) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const IOOptions& options,
                           IODebugContext* dbg) override {
    return Checked(target()->Append(data, options, dbg));
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           IODebugContext* dbg) override {
    return Checked(target()->Append(data, options, info, dbg));
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const IOOptions& options, IODebugContext* dbg) override {
    return Checked(target()->PositionedAppend(data, offset, options, dbg));
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info,
                                     IODebugContext* dbg) override {
    return Checked(target()->PositionedAppend(data, offset, options, info, dbg));
  }
  rocksdb::IOStatus Truncate(uint64_t size, const IOOptions& options,
                             IODebugContext* dbg) override {
    return Checked(target()->Truncate(size, options, dbg));
  }
  rocksdb::IOStatus Close(const IOOptions& options, IODebugContext* dbg) override {
    return Checked(target()->Close(options, dbg));
  }
  rocksdb::IOStatus Flush(const IOOptions& options, IODebugContext* dbg) override {
    return Checked(target()->Flush(options, dbg));
  }
  rocksdb::IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    return Checked(target()->Sync(options, dbg));
  }
  rocksdb::IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    return Checked(target()->Fsync(options, dbg));
  }
  rocksdb::IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const IOOptions& options,
                              IODebugContext* dbg) override {
    return Checked(target()->RangeSync(offset, nbytes, options, dbg));
  }
  rocksdb::IOStatus Allocate(uint64_t offset, uint64_t len, const IOOptions& options,
                             IODebugContext* dbg) override {
    return Checked(target()->Allocate(offset, len, options, dbg));
  }

 private:
  rocksdb::IOStatus Checked(rocksdb::IOStatus s) const {
    if (!s.ok() && wal_ != nullptr) wal_->failed.store(true, std::memory_order_release);
    return MarkRetryable(std::move(s));
  }

  WalHealth* wal_;
};

// Directories are fsynced when files are created or renamed in them (flush, MANIFEST).
class RecoverableDirectory : public rocksdb::FSDirectoryWrapper {
 public:
  explicit RecoverableDirectory(std::unique_ptr<rocksdb::FSDirectory> target)
      : FSDirectoryWrapper(target.get()), guard_(std::move(target)) {}

  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    return MarkRetryable(guard_->Fsync(options, dbg));
  }
  rocksdb::IOStatus FsyncWithDirOptions(const rocksdb::IOOptions& options,
                                        rocksdb::IODebugContext* dbg,
                                        const rocksdb::DirFsyncOptions& dir_options) override {
    return MarkRetryable(guard_->FsyncWithDirOptions(options, dbg, dir_options));
  }

 private:
  std::unique_ptr<rocksdb::FSDirectory> guard_;
};

class RecoverableFileSystem : public rocksdb::FileSystemWrapper {
 public:
  using FileOptions = rocksdb::FileOptions;
  using IODebugContext = rocksdb::IODebugContext;
  using WritableFile = std::unique_ptr<rocksdb::FSWritableFile>;

  RecoverableFileSystem(std::shared_ptr<rocksdb::FileSystem> target, std::shared_ptr<WalHealth> wal)
      : FileSystemWrapper(std::move(target)), wal_(std::move(wal)) {}

  const char* Name() const override { return "CruddurRecoverableFileSystem"; }

  // Writes, syncs and removes a scratch log file in `dir`, as RocksDB writes a log: whether the
  // disk takes writes again. RocksDB ignores the file (not one of its names).
  rocksdb::IOStatus Probe(const std::string& dir) {
    std::string fname = dir + "/cruddur-disk-probe.log";
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus s = target()->NewWritableFile(fname, FileOptions(), &file, nullptr);
    if (s.ok()) s = file->Append("probe", rocksdb::IOOptions(), nullptr);
    if (s.ok()) s = file->Sync(rocksdb::IOOptions(), nullptr);
    if (file != nullptr) {
      rocksdb::IOStatus closed = file->Close(rocksdb::IOOptions(), nullptr);
      if (s.ok()) s = closed;
    }
    target()->DeleteFile(fname, rocksdb::IOOptions(), nullptr).PermitUncheckedError();
    return s;
  }

  rocksdb::IOStatus NewWritableFile(const std::string& fname, const FileOptions& options,
                                    WritableFile* result, IODebugContext* dbg) override {
    return Wrap(fname, target()->NewWritableFile(fname, options, result, dbg), result);
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& fname, const FileOptions& options,
                                       WritableFile* result, IODebugContext* dbg) override {
    return Wrap(fname, target()->ReopenWritableFile(fname, options, result, dbg), result);
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                      const FileOptions& options, WritableFile* result,
                                      IODebugContext* dbg) override {
    return Wrap(fname, target()->ReuseWritableFile(fname, old_fname, options, result, dbg), result);
  }
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& options,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewDirectory(name, options, result, dbg);
    if (s.ok()) *result = std::make_unique<RecoverableDirectory>(std::move(*result));
    return MarkRetryable(std::move(s));
  }

 private:
  rocksdb::IOStatus Wrap(const std::string& fname, rocksdb::IOStatus opened, WritableFile* result) {
    WalHealth* wal = IsWalFile(fname) ? wal_.get() : nullptr;
    if (opened.ok()) {
      // A new log: RocksDB has switched to it and no longer writes to the one that failed.
      if (wal != nullptr) wal->failed.store(false, std::memory_order_release);
      *result = std::make_unique<RecoverableWritableFile>(std::move(*result), wal);
    }
    return MarkRetryable(std::move(opened));
  }

  std::shared_ptr<WalHealth> wal_;
};

// RocksDB would resume by itself after a NoSpace error (its SstFileManager polls for free
// space), without the check GuardedDB makes first: this turns that off.
class NoAutoRecovery : public rocksdb::EventListener {
 public:
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason /*reason*/, rocksdb::Status bg_error,
                            bool* auto_recovery) override {
    bg_error.PermitUncheckedError();
    *auto_recovery = false;
  }
};

constexpr char kSentinelKey[] = "cruddur-memtable-sentinel";
// The least time between two attempts to resume: a dead disk then costs one failed memtable
// flush per interval, not one per request.
constexpr auto kResumeInterval = std::chrono::milliseconds(50);

#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_ignore_thread_begin();
extern "C" void __tsan_ignore_thread_end();
#endif

// Under ThreadSanitizer, the memory accesses this thread makes while it lives are not checked.
// RocksDB's write thread lets one writer (the group leader) copy the other waiting writers'
// batches into the log, a hand-off through atomics inside librocksdb, which is Debian's build
// and not instrumented: TSan cannot see that synchronisation and would report every such copy
// as a race. What RocksDB does inside a write is RocksDB's to check; our own state around the
// call stays checked. A no-op in every other build.
class UncheckedByTsan {
 public:
#if defined(__SANITIZE_THREAD__)
  UncheckedByTsan() { __tsan_ignore_thread_begin(); }
  ~UncheckedByTsan() { __tsan_ignore_thread_end(); }
#else
  UncheckedByTsan() {}
  ~UncheckedByTsan() {}
#endif
  UncheckedByTsan(const UncheckedByTsan&) = delete;
  UncheckedByTsan& operator=(const UncheckedByTsan&) = delete;
};

// The database as the engine uses it: every write goes through Write, which, after a write has
// failed, resumes the database (at most once per kResumeInterval, and only when safe, see
// above) before trying again. Thread-safe, as DB is.
class GuardedDB : public rocksdb::StackableDB {
 public:
  // `probe` tells whether the disk takes writes again (RecoverableFileSystem::Probe).
  GuardedDB(rocksdb::DB* db, std::shared_ptr<WalHealth> wal,
            std::function<rocksdb::IOStatus()> probe)
      : StackableDB(db), wal_(std::move(wal)), probe_(std::move(probe)) {}

  using StackableDB::Write;
  rocksdb::Status Write(const rocksdb::WriteOptions& options, rocksdb::WriteBatch* batch) override {
    if (failed_.load(std::memory_order_acquire)) {
      rocksdb::Status resumed = TryResume();
      if (!resumed.ok()) return resumed;
    }
    rocksdb::Status s;
    {
      UncheckedByTsan unchecked;
      s = StackableDB::Write(options, batch);
    }
    if (!s.ok()) failed_.store(true, std::memory_order_release);
    return s;
  }

  // Puts the sentinel into the default column family's memtable.
  rocksdb::Status WriteSentinel() {
    return StackableDB::Put(rocksdb::WriteOptions(), DefaultColumnFamily(), kSentinelKey, "");
  }

 private:
  rocksdb::Status TryResume() {
    std::lock_guard lock(resume_mu_);
    if (!failed_.load(std::memory_order_acquire)) return rocksdb::Status::OK();
    auto now = std::chrono::steady_clock::now();
    if (now - last_attempt_ < kResumeInterval) return last_error_;
    last_attempt_ = now;
    uint64_t entries = 0;
    if (wal_->failed.load(std::memory_order_acquire) &&
        db_->GetAggregatedIntProperty("rocksdb.num-entries-active-mem-table", &entries) &&
        entries == 0) {
      last_error_ = rocksdb::Status(
          rocksdb::Status::IOError("the write-ahead log failed while no memtable held data, "
                                   "which RocksDB 7.8 cannot recover from in place: writes "
                                   "fail until the server is restarted"),
          rocksdb::Status::Severity::kFatalError);
      return last_error_;
    }
    // Resume empties the memtables, so resuming while the log still fails would leave the
    // sentinel unwritten and the next failed log write unrecoverable: test the disk first.
    rocksdb::Status s = probe_();
    if (s.ok()) s = db_->Resume();  // StackableDB does not forward Resume
    if (s.ok()) s = WriteSentinel();
    if (!s.ok()) {
      // Still stopped, whatever step failed: say so (FromRocks reads the severity).
      last_error_ = rocksdb::Status(s, rocksdb::Status::Severity::kHardError);
      return last_error_;
    }
    failed_.store(false, std::memory_order_release);
    return s;
  }

  std::shared_ptr<WalHealth> wal_;
  std::function<rocksdb::IOStatus()> probe_;
  std::atomic<bool> failed_{false};  // a write failed since the last successful resume
  std::mutex resume_mu_;
  std::chrono::steady_clock::time_point last_attempt_;  // guarded by resume_mu_
  rocksdb::Status last_error_;                          // guarded by resume_mu_
};

Status TableNotFound(std::string_view name) {
  return NotFoundError("Requested resource not found: Table: " + std::string(name) + " not found");
}

// ---- Iterators ----

class StatusIterator : public ItemIterator {
 public:
  explicit StatusIterator(Status status) : status_(std::move(status)) {}
  bool Next() override { return false; }
  std::string_view record() const override { return {}; }
  const Item& item() const override { return item_; }
  size_t size() const override { return 0; }
  Status status() const override { return status_; }

 private:
  Status status_;
  Item item_;
};

// Reads the values of one key range [lower, upper) in either direction, decoding an item only
// when asked for it. The bounds are handed to RocksDB as iterate_lower_bound and
// iterate_upper_bound, so it never reads past them.
class RangeIterator : public ItemIterator {
 public:
  RangeIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family, std::string lower,
                std::string upper, bool forward)
      : lower_(std::move(lower)), upper_(std::move(upper)), forward_(forward) {
    lower_slice_ = rocksdb::Slice(lower_);
    upper_slice_ = rocksdb::Slice(upper_);
    rocksdb::ReadOptions options;
    options.iterate_lower_bound = &lower_slice_;
    if (!upper_.empty()) options.iterate_upper_bound = &upper_slice_;
    it_.reset(db->NewIterator(options, family));
  }

  bool Next() override {
    if (!status_.ok()) return false;
    if (!started_) {
      started_ = true;
      if (forward_) {
        it_->Seek(lower_slice_);
      } else if (ProbeSmallRange()) {
        return NextBuffered();
      } else if (upper_.empty()) {
        it_->SeekToLast();
      } else {
        it_->SeekForPrev(upper_slice_);
        if (it_->Valid() && it_->key().compare(upper_slice_) >= 0) it_->Prev();
      }
    } else if (buffered_) {
      return NextBuffered();
    } else if (forward_) {
      it_->Next();
    } else {
      it_->Prev();
    }
    if (!it_->Valid()) {
      status_ = FromRocks(it_->status());
      return false;
    }
    return Load(it_->value().ToStringView());
  }
  std::string_view record() const override { return record_; }
  const Item& item() const override {
    if (!decoded_) {
      decoded_ = true;
      Result<Item> decoded = DecodeItem(record_);
      if (decoded.ok()) {
        item_ = std::move(decoded).value();
      } else {
        item_.clear();
        status_ = decoded.TakeStatus();
      }
    }
    return item_;
  }
  size_t size() const override { return size_; }
  Status status() const override { return status_; }

 private:
  // A descending read steps back with Prev, which in RocksDB's skiplist memtable is a fresh
  // O(log n) search per step (twice per key: DBIter looks past each key for older versions),
  // while Next is O(1). When the whole range holds at most kProbeLimit records (the common
  // case for a conversation page or an inbox), reading it forward once and handing the
  // values out in reverse is several times cheaper. Larger ranges fall back to Prev.
  static constexpr size_t kProbeLimit = 64;

  bool ProbeSmallRange() {
    it_->Seek(lower_slice_);
    for (; it_->Valid(); it_->Next()) {
      if (values_.size() == kProbeLimit) {
        values_.clear();
        return false;
      }
      values_.emplace_back(it_->value().ToStringView());
    }
    if (!it_->status().ok()) {
      values_.clear();
      return false;
    }
    buffered_ = true;
    return true;
  }

  bool NextBuffered() {
    if (values_.empty()) return false;
    current_ = std::move(values_.back());
    values_.pop_back();
    return Load(current_);
  }

  // Makes `record` current without decoding it; only its header is read here.
  bool Load(std::string_view record) {
    Result<size_t> size = EncodedItemSize(record);
    if (!size.ok()) {
      status_ = size.TakeStatus();
      return false;
    }
    record_ = record;
    size_ = *size;
    decoded_ = false;
    return true;
  }

  std::string lower_;
  std::string upper_;
  rocksdb::Slice lower_slice_;
  rocksdb::Slice upper_slice_;
  bool forward_;
  bool started_ = false;
  bool buffered_ = false;            // serving a small descending range from values_
  std::vector<std::string> values_;  // its values in ascending key order
  std::string current_;              // the value handed out last from values_
  std::unique_ptr<rocksdb::Iterator> it_;
  std::string_view record_;  // in it_'s current value or in current_
  size_t size_ = 0;
  // item(): decoded lazily, so const to callers; status_ records a corrupt record found then.
  mutable bool decoded_ = false;
  mutable Item item_;
  mutable Status status_;
};

}  // namespace

// The innermost DeferredCommits scope open on this thread (any engine's), or nullptr.
thread_local Engine::DeferredCommits* current_deferred = nullptr;

// ---- Engine::Impl ----

struct Engine::Impl {
  std::unique_ptr<rocksdb::Env> env;  // in memory or over the files; outlives db
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  rocksdb::ColumnFamilyHandle* items = nullptr;
  rocksdb::ColumnFamilyHandle* index = nullptr;
  rocksdb::ColumnFamilyHandle* stats = nullptr;
  rocksdb::ColumnFamilyHandle* stream = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::WriteOptions write_options;  // fsyncs each write in sync mode
  // WriteBatch::Commit's writes: never fsynced by RocksDB; in sync mode group_commit syncs them.
  rocksdb::WriteOptions commit_options;
  std::unique_ptr<GroupCommit> group_commit;  // sync mode only; ~Impl ends it before db

  // Guards the table maps. Commit holds it shared while it writes, DeleteTable exclusively, so
  // no write can land in a table after its DeleteRange.
  mutable WriterFirstSharedMutex tables_mu;
  std::map<std::string, std::shared_ptr<const TableDef>, std::less<>> tables;
  std::unordered_map<uint64_t, std::shared_ptr<Counters>> counters;
  // Serializes CreateTable/DeleteTable/SetTableMeta (and the id counter).
  std::mutex ddl_mu;
  uint64_t next_table_id = 1;

  std::unique_ptr<std::mutex[]> stripes{new std::mutex[kLockStripes]};

  std::function<int64_t()> clock;
  int64_t shard_micros = 0;
  uint64_t shard_records = 0;
  // Guards `streams` and next_stream_id. Commit holds it from assigning sequence numbers until
  // its RocksDB write is done, so records become visible in sequence-number order (lock order:
  // tables_mu, then streams_mu).
  mutable std::mutex streams_mu;
  mutable std::condition_variable streams_cv;  // signalled when records land or streams change
  std::map<uint64_t, StreamState> streams;
  uint64_t next_stream_id = 1;
  int64_t last_stream_created_micros = 0;  // guarded by ddl_mu

  int64_t collection_limit = kItemCollectionLimitBytes;

  // Background index work: one thread runs the jobs (a backfill or a removal) one after the
  // other, each in bounded steps, and stops between steps when the engine closes.
  struct IndexJob {
    std::string table;
    uint64_t table_id = 0;
    uint32_t index_id = 0;
  };
  size_t backfill_batch = 256;
  std::function<bool()> index_work_gate;
  std::mutex jobs_mu;
  std::condition_variable jobs_cv;
  std::deque<IndexJob> jobs;  // guarded by jobs_mu
  bool stopping = false;      // guarded by jobs_mu
  std::thread worker;

  int64_t Now() const { return clock(); }

  // Queues a new stream for `def` into `batch` (meta, id counter, first shard) and returns its
  // state, to be published once the batch is written. Caller holds ddl_mu.
  StreamState NewStream(const TableDef& def, StreamViewType view, rocksdb::WriteBatch* batch) {
    StreamState state;
    state.info.id = next_stream_id;
    state.info.table_name = def.name;
    state.info.table_id = def.id;
    state.info.key = def.key;
    state.info.view = view;
    // Stream labels are creation times in milliseconds: keep them distinct.
    state.info.created_micros = std::max(Now(), last_stream_created_micros + 1000);
    last_stream_created_micros = state.info.created_micros;
    state.last_micros = state.info.created_micros;
    StreamShard shard;
    shard.first_seq = 1;
    shard.created_micros = state.info.created_micros;
    state.shards.push_back(shard);
    std::string next_id;
    PutBigEndian(state.info.id + 1, 8, &next_id);
    batch->Put(stream, kNextStreamIdKey, next_id);
    batch->Put(stream, StreamMetaKey(state.info.id), EncodeStreamInfo(state.info));
    std::string created;
    PutBigEndian(static_cast<uint64_t>(shard.created_micros), 8, &created);
    batch->Put(stream, ShardKey(state.info.id, shard.first_seq), created);
    return state;
  }

  // Queues the disabling of stream `id` into `batch` and returns its new state. Caller holds
  // ddl_mu and tables_mu exclusively (so no commit is appending to it) and streams_mu.
  StreamState DisabledStream(uint64_t id, rocksdb::WriteBatch* batch) const {
    StreamState state = streams.at(id);
    state.info.disabled_micros = std::max(Now(), state.last_micros);
    state.shards.back().closed = true;
    state.shards.back().last_seq = state.info.last_seq;
    batch->Put(stream, StreamMetaKey(id), EncodeStreamInfo(state.info));
    return state;
  }

  Status LoadStreams() {
    std::string value;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), stream, kNextStreamIdKey, &value);
    if (s.ok()) {
      if (value.size() != 8) return InternalError("Corrupt stream id counter");
      next_stream_id = GetBigEndian(value);
    } else if (!s.IsNotFound()) {
      return FromRocks(s);
    }
    std::string lower(1, kStreamMetaPrefix);
    std::string upper = PrefixSuccessor(lower);
    rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions options;
    options.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(options, stream));
    for (it->Seek(lower); it->Valid(); it->Next()) {
      uint64_t id = GetBigEndian(it->key().ToStringView().substr(1));
      StreamState state;
      CRUDDUR_ASSIGN_OR_RETURN(state.info, DecodeStreamInfo(id, it->value().ToStringView()));
      CRUDDUR_RETURN_IF_ERROR(LoadShardsAndRecords(&state));
      last_stream_created_micros = std::max(last_stream_created_micros, state.info.created_micros);
      streams[id] = std::move(state);
    }
    return FromRocks(it->status());
  }

  Status LoadShardsAndRecords(StreamState* state) const {
    uint64_t id = state->info.id;
    {
      std::string lower = ShardKey(id, 0);
      std::string upper = ShardKey(id + 1, 0);
      rocksdb::Slice upper_slice(upper);
      rocksdb::ReadOptions options;
      options.iterate_upper_bound = &upper_slice;
      std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(options, stream));
      for (it->Seek(lower); it->Valid(); it->Next()) {
        StreamShard shard;
        shard.first_seq = GetBigEndian(it->key().ToStringView().substr(9));
        shard.created_micros = static_cast<int64_t>(GetBigEndian(it->value().ToStringView()));
        if (!state->shards.empty()) {
          state->shards.back().closed = true;
          state->shards.back().last_seq = shard.first_seq - 1;
        }
        state->shards.push_back(shard);
      }
      CRUDDUR_RETURN_IF_ERROR(FromRocks(it->status()));
    }
    if (state->shards.empty()) return InternalError("Corrupt stream: no shard");
    state->last_micros = state->shards.back().created_micros;
    std::string lower = RecordKey(id, 0);
    std::string upper = RecordKey(id + 1, 0);
    rocksdb::Slice lower_slice(lower);
    rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions options;
    options.iterate_lower_bound = &lower_slice;
    options.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(options, stream));
    it->SeekToLast();
    if (it->Valid()) {
      state->info.last_seq = GetBigEndian(it->key().ToStringView().substr(9));
      std::optional<int64_t> micros = ChangeMicros(it->value().ToStringView());
      if (!micros) return InternalError("Corrupt stream record");
      state->last_micros = std::max(state->last_micros, *micros);
      it->Seek(lower);
      if (it->Valid()) state->info.trim_seq = GetBigEndian(it->key().ToStringView().substr(9));
    }
    CRUDDUR_RETURN_IF_ERROR(FromRocks(it->status()));
    // With every record trimmed (or none yet), the trim mark and the last shard's start still
    // bound the sequence numbers handed out: they are never handed out again.
    std::string mark;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), stream, TrimMarkKey(id), &mark);
    if (s.ok()) {
      if (mark.size() != 8) return InternalError("Corrupt stream trim mark");
      state->info.trim_seq = std::max(state->info.trim_seq, GetBigEndian(mark));
    } else if (!s.IsNotFound()) {
      return FromRocks(s);
    }
    state->info.last_seq = std::max(
        {state->info.last_seq, state->info.trim_seq - 1, state->shards.back().first_seq - 1});
    state->assigned_seq = state->info.last_seq;
    if (!it->Valid()) state->info.trim_seq = state->info.last_seq + 1;
    if (state->info.disabled_micros != 0) {
      state->shards.back().closed = true;
      state->shards.back().last_seq = state->info.last_seq;
    }
    return Status::Ok();
  }

  ~Impl() {
    StopIndexWork();
    group_commit.reset();  // after the index work, whose commits may wait on it
    if (db) {
      for (rocksdb::ColumnFamilyHandle* handle : handles) {
        db->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
      }
      db.reset();
    }
  }

  // Assigns sequence numbers to `changes` (rolling shards over as due), adds the records to
  // `batch` and writes it. Sequence numbers are assigned under streams_mu, but the RocksDB write
  // runs outside it so concurrent writers still commit as a group; a stream's visible end
  // (info.last_seq, what readers and waiters see) only advances past a sequence number once
  // every lower one has landed or failed, so records still become visible in sequence order. A
  // failed write leaves a gap in the numbers (nothing refers to them). A batch that rolls a
  // shard over keeps the lock across its write, so on failure the new shard is taken back.
  Status WriteWithChanges(rocksdb::WriteBatch* batch, std::vector<PendingChange>* changes) {
    std::unique_lock lock(streams_mu);
    struct Saved {
      StreamState* state;
      uint64_t assigned_seq;
      int64_t last_micros;
      size_t shards;
      StreamShard open;
    };
    std::vector<Saved> saved;
    std::vector<std::pair<StreamState*, uint64_t>> mine;  // (stream, sequence number) in flight
    bool rolled = false;
    for (PendingChange& pending : *changes) {
      auto live = streams.find(pending.stream_id);
      if (live == streams.end()) {
        for (const auto& [state, seq] : mine) state->in_flight.erase(seq);
        for (auto it = saved.rbegin(); it != saved.rend(); ++it) Restore(*it);
        return InternalError("Write to a table with a lost stream");
      }
      StreamState& state = live->second;
      bool first_touch = true;
      for (const Saved& s : saved) first_touch = first_touch && s.state != &state;
      if (first_touch) {
        saved.push_back({&state, state.assigned_seq, state.last_micros, state.shards.size(),
                         state.shards.back()});
      }
      int64_t now = std::max(Now(), state.last_micros);
      StreamShard& open = state.shards.back();
      uint64_t seq = state.assigned_seq + 1;
      if (now - open.created_micros >= shard_micros || seq - open.first_seq >= shard_records) {
        open.closed = true;
        open.last_seq = state.assigned_seq;
        StreamShard child;
        child.first_seq = seq;
        child.created_micros = now;
        std::string created;
        PutBigEndian(static_cast<uint64_t>(now), 8, &created);
        batch->Put(stream, ShardKey(pending.stream_id, seq), created);
        state.shards.push_back(child);
        rolled = true;
      }
      state.assigned_seq = seq;
      state.last_micros = now;
      state.in_flight.insert(seq);
      mine.emplace_back(&state, seq);
      StampChange(now, &pending.record);
      batch->Put(stream, RecordKey(pending.stream_id, seq), pending.record);
    }
    if (!rolled) lock.unlock();
    Status written = FromRocks(db->Write(commit_options, batch));
    if (!rolled) lock.lock();
    for (const auto& [state, seq] : mine) state->in_flight.erase(seq);
    if (!written.ok() && rolled) {
      // Nobody assigned numbers meanwhile (the lock was held): take this batch's back.
      for (auto it = saved.rbegin(); it != saved.rend(); ++it) Restore(*it);
    }
    for (const Saved& s : saved) {
      StreamState& state = *s.state;
      state.info.last_seq =
          state.in_flight.empty() ? state.assigned_seq : *state.in_flight.begin() - 1;
    }
    lock.unlock();
    streams_cv.notify_all();
    return written;
  }

  template <typename SavedState>
  static void Restore(const SavedState& saved) {
    saved.state->assigned_seq = saved.assigned_seq;
    saved.state->last_micros = saved.last_micros;
    saved.state->shards.resize(saved.shards);
    saved.state->shards.back() = saved.open;
  }

  // The newest sequence number of `stream_id` that readers may see (0 if it is gone).
  uint64_t VisibleSeq(uint64_t stream_id) const {
    std::lock_guard lock(streams_mu);
    auto it = streams.find(stream_id);
    return it == streams.end() ? 0 : it->second.info.last_seq;
  }

  // The item at `key`, and its stored record in *record when given (empty if absent).
  Result<std::optional<Item>> ReadItem(const rocksdb::ReadOptions& options, const std::string& key,
                                       std::string* record = nullptr) const {
    std::string value;
    rocksdb::Status s = db->Get(options, items, key, &value);
    if (s.IsNotFound()) return std::optional<Item>();
    CRUDDUR_RETURN_IF_ERROR(FromRocks(s));
    CRUDDUR_ASSIGN_OR_RETURN(Item item, DecodeItem(value));
    if (record != nullptr) *record = std::move(value);
    return std::optional<Item>(std::move(item));
  }

  Status Load() {
    std::string value;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), meta, kNextTableIdKey, &value);
    if (s.ok()) {
      if (value.size() != 8) return InternalError("Corrupt table id counter");
      next_table_id = GetBigEndian(value);
    } else if (!s.IsNotFound()) {
      return FromRocks(s);
    }
    std::string lower(1, kTableKeyPrefix);
    std::string upper = PrefixSuccessor(lower);
    rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions options;
    options.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(options, meta));
    for (it->Seek(lower); it->Valid(); it->Next()) {
      CRUDDUR_ASSIGN_OR_RETURN(TableDef def, DecodeTableDef(it->value().ToStringView()));
      auto counter = std::make_shared<Counters>();
      std::string stats_value;
      s = db->Get(rocksdb::ReadOptions(), stats, TablePrefix(def.id), &stats_value);
      if (s.ok()) {
        int64_t count = 0;
        int64_t bytes = 0;
        if (!DecodeStats(stats_value, &count, &bytes)) return InternalError("Corrupt stats");
        counter->item_count = count;
        counter->size_bytes = bytes;
      } else if (!s.IsNotFound()) {
        return FromRocks(s);
      }
      if (def.stream_view) {
        counter->stream_id = def.stream_id;
        counter->stream_view = *def.stream_view;
      }
      counters[def.id] = std::move(counter);
      std::string name = def.name;
      tables[name] = std::make_shared<const TableDef>(std::move(def));
    }
    CRUDDUR_RETURN_IF_ERROR(FromRocks(it->status()));
    return LoadStreams();
  }

  // ---- Background index work ----

  // The stripe locks of a set of item keys, taken in ascending order as BeginWrite takes them
  // (so a holder cannot deadlock with writers) and released on destruction.
  class StripeLocks {
   public:
    StripeLocks(Impl* impl, const std::vector<std::string>& item_keys) : impl_(impl) {
      for (const std::string& key : item_keys) {
        stripes_.push_back(PartitionHash(key) % kLockStripes);
      }
      std::sort(stripes_.begin(), stripes_.end());
      stripes_.erase(std::unique(stripes_.begin(), stripes_.end()), stripes_.end());
      for (size_t stripe : stripes_) impl_->stripes[stripe].lock();
    }
    ~StripeLocks() {
      for (auto it = stripes_.rbegin(); it != stripes_.rend(); ++it) impl_->stripes[*it].unlock();
    }
    StripeLocks(const StripeLocks&) = delete;
    StripeLocks& operator=(const StripeLocks&) = delete;

   private:
    Impl* impl_;
    std::vector<size_t> stripes_;
  };

  // Queues the unfinished index work found on disk and starts the worker. Called once by Open.
  void StartIndexWork() {
    for (const auto& [name, def] : tables) {
      for (const IndexDef& index : def->gsis) {
        if (index.state != IndexState::kActive) jobs.push_back({name, def->id, index.id});
      }
    }
    worker = std::thread([this] { IndexWorker(); });
  }

  void StopIndexWork() {
    {
      std::lock_guard lock(jobs_mu);
      stopping = true;
    }
    jobs_cv.notify_all();
    if (worker.joinable()) worker.join();
  }

  void Enqueue(IndexJob job) {
    {
      std::lock_guard lock(jobs_mu);
      jobs.push_back(std::move(job));
    }
    jobs_cv.notify_all();
  }

  // Stores and publishes a definition whose index `index_id` has just entered kBackfilling or
  // kDeleting, then queues that index's background work. Exclusive: every commit in flight lands
  // before the change is published and every later one sees it, the ordering BackfillStep's
  // argument rests on (a new index is maintained by every commit after it) and the removal's
  // (no commit writes the index once this returns, so the range delete that ends the job leaves
  // nothing behind).
  Status PublishIndexChange(std::shared_ptr<TableDef> updated, uint32_t index_id) {
    IndexJob job{updated->name, updated->id, index_id};
    rocksdb::WriteBatch batch;
    batch.Put(meta, TableKey(updated->name), EncodeTableDef(*updated));
    {
      std::unique_lock lock(tables_mu);
      CRUDDUR_RETURN_IF_ERROR(FromRocks(db->Write(write_options, &batch)));
      tables[updated->name] = std::move(updated);
    }
    Enqueue(std::move(job));
    return Status::Ok();
  }

  bool Stopping() {
    std::lock_guard lock(jobs_mu);
    return stopping;
  }

  void IndexWorker() {
    for (;;) {
      IndexJob job;
      {
        std::unique_lock lock(jobs_mu);
        jobs_cv.wait(lock, [&] { return stopping || !jobs.empty(); });
        if (stopping) return;
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      // A failed step (kIo) parks the job as the gate does: the index keeps its state, and the
      // work resumes from its cursor when the engine is opened again.
      while (!Stopping() && (!index_work_gate || index_work_gate())) {
        Result<bool> done = IndexStep(job);
        if (!done.ok() || *done) break;
      }
    }
  }

  // The table `job` works on as defined now, and the index it works on; nullptr for what is
  // gone (a table deleted or replaced by a namesake, an index removed). Caller holds tables_mu.
  std::pair<const TableDef*, const IndexDef*> JobTarget(const IndexJob& job) const {
    auto it = tables.find(job.table);
    if (it == tables.end() || it->second->id != job.table_id) return {nullptr, nullptr};
    for (const IndexDef& gsi : it->second->gsis) {
      if (gsi.id == job.index_id) return {it->second.get(), &gsi};
    }
    return {it->second.get(), nullptr};
  }

  // One bounded step of `job`; true when the job has nothing left to do.
  Result<bool> IndexStep(const IndexJob& job) {
    IndexState state = IndexState::kActive;
    {
      std::shared_lock lock(tables_mu);
      const IndexDef* target = JobTarget(job).second;
      if (target == nullptr) return true;
      state = target->state;
    }
    if (state == IndexState::kBackfilling) return BackfillStep(job);
    if (state == IndexState::kDeleting) CRUDDUR_RETURN_IF_ERROR(FinishIndex(job, state));
    return true;
  }

  // Gives the next batch of items after the job's cursor their entries in the new index.
  //
  // Why no entry is missed or left stale: AddGlobalIndex published the index (kBackfilling)
  // under tables_mu held exclusively, and every Commit holds tables_mu shared across its write
  // and maintains the indexes of the definition current at that moment. So each commit is
  // either wholly before the publication (its item is in the items family when this step reads
  // it) or wholly after (it put, moved or removed the item's entry itself). This step lists the
  // next keys, then takes their stripe locks (the locks a writer holds from BeginWrite to the end
  // of its Commit) and, under them, reads each item as it is now, not as listed, and writes the
  // entry of that value. A writer of the same key therefore runs wholly before the step (which
  // then sees its value, and at worst rewrites the identical entry a post-publication writer
  // already made) or wholly after (it finds the step's entry for the value it replaces, and
  // moves or removes it as for any index). A key first written after the listing is a
  // post-publication write, maintained by its writer; a key deleted since is skipped. The cursor
  // moves in the same RocksDB batch as the entries, so a restart resumes right after the last
  // finished batch, and redoing a batch would only rewrite identical entries.
  Result<bool> BackfillStep(const IndexJob& job) {
    std::string cursor_key = BackfillCursorKey(job.table_id, job.index_id);
    std::string start = TablePrefix(job.table_id);
    std::string cursor;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), meta, cursor_key, &cursor);
    if (s.ok()) {
      start = KeySuccessor(std::move(cursor));
    } else if (!s.IsNotFound()) {
      return FromRocks(s);
    }
    std::vector<std::string> keys;
    {
      std::string upper = TablePrefix(job.table_id + 1);
      rocksdb::Slice upper_slice(upper);
      rocksdb::ReadOptions options;
      options.iterate_upper_bound = &upper_slice;
      std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(options, items));
      for (it->Seek(start); it->Valid() && keys.size() < backfill_batch; it->Next()) {
        keys.emplace_back(it->key().ToStringView());
      }
      CRUDDUR_RETURN_IF_ERROR(FromRocks(it->status()));
    }
    if (keys.empty()) {
      CRUDDUR_RETURN_IF_ERROR(FinishIndex(job, IndexState::kBackfilling));
      return true;
    }
    StripeLocks locks(this, keys);
    std::shared_lock tables_lock(tables_mu);
    auto [table, target] = JobTarget(job);
    if (target == nullptr || target->state != IndexState::kBackfilling) return true;
    rocksdb::WriteBatch batch;
    for (const std::string& key : keys) {
      CRUDDUR_ASSIGN_OR_RETURN(std::optional<Item> item, ReadItem(rocksdb::ReadOptions(), key));
      if (!item) continue;
      if (std::optional<std::string> entry = IndexEntryKey(*table, *target, *item)) {
        std::string value;
        EncodeItem(Project(*table, *target, *item), &value);
        batch.Put(index, *entry, value);
      }
    }
    batch.Put(meta, cursor_key, keys.back());
    CRUDDUR_RETURN_IF_ERROR(FromRocks(db->Write(write_options, &batch)));
    return false;
  }

  // Ends `job` when its index is still in state `expected`: a backfilled index becomes
  // kActive; a kDeleting one loses its entries (one range tombstone, so this step is bounded
  // too) and leaves the definition. Under tables_mu held exclusively, so no commit is writing
  // the index meanwhile; the cursor goes in the same batch.
  Status FinishIndex(const IndexJob& job, IndexState expected) {
    std::lock_guard ddl(ddl_mu);
    std::unique_lock lock(tables_mu);
    auto [table, target] = JobTarget(job);
    if (target == nullptr || target->state != expected) return Status::Ok();
    auto updated = std::make_shared<TableDef>(*table);
    auto it = std::find_if(updated->gsis.begin(), updated->gsis.end(),
                           [&](const IndexDef& gsi) { return gsi.id == job.index_id; });
    rocksdb::WriteBatch batch;
    batch.Delete(meta, BackfillCursorKey(job.table_id, job.index_id));
    if (expected == IndexState::kBackfilling) {
      it->state = IndexState::kActive;
    } else {
      std::string prefix = IndexPrefix(job.table_id, job.index_id);
      batch.DeleteRange(index, prefix, PrefixSuccessor(prefix));
      updated->gsis.erase(it);
    }
    batch.Put(meta, TableKey(updated->name), EncodeTableDef(*updated));
    CRUDDUR_RETURN_IF_ERROR(FromRocks(db->Write(write_options, &batch)));
    tables[updated->name] = std::move(updated);
    return Status::Ok();
  }
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->write_options.sync = options.sync;
  impl->clock = options.clock ? options.clock : [] {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  impl->shard_micros = options.stream_shard_micros;
  impl->shard_records = std::max<uint64_t>(1, options.stream_shard_records);
  impl->collection_limit = options.item_collection_limit_bytes;
  impl->backfill_batch = std::max<size_t>(1, options.index_backfill_batch);
  impl->index_work_gate = options.index_work_gate;
  // In memory nothing outlives the process, so a write-ahead log would only cost time.
  impl->write_options.disableWAL = options.in_memory;
  impl->commit_options.disableWAL = options.in_memory;

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  // Durability rests on these, RocksDB's defaults, spelled out: each write reaches the
  // operating system before DB::Write returns (no manual WAL flush, so a SIGKILL loses no
  // acknowledged write), and a write's sequence number is published only after its WAL write,
  // so GetLatestSequenceNumber read after a commit is a mark that a later SyncWAL covers.
  db_options.manual_wal_flush = false;
  db_options.enable_pipelined_write = false;
  db_options.unordered_write = false;
  auto wal = std::make_shared<WalHealth>();
  std::function<rocksdb::IOStatus()> probe = [] { return rocksdb::IOStatus::OK(); };
  if (options.in_memory) {
    impl->env.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
  } else {
    auto fs = std::make_shared<RecoverableFileSystem>(
        options.file_system ? options.file_system : rocksdb::FileSystem::Default(), wal);
    impl->env = rocksdb::NewCompositeEnv(fs);
    probe = [fs, path = options.path] { return fs->Probe(path); };
  }
  db_options.env = impl->env.get();
  // After a disk fault GuardedDB resumes the database, not RocksDB (see "Recovery from disk
  // faults").
  db_options.max_bgerror_resume_count = 0;
  db_options.listeners.push_back(std::make_shared<NoAutoRecovery>());
  // Bounded memory (see EngineOptions): one write-buffer budget across the families, one
  // block cache shared by them.
  db_options.write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(options.memtable_budget_bytes);
  rocksdb::BlockBasedTableOptions table_options;
  table_options.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  rocksdb::ColumnFamilyOptions plain;
  plain.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_options));
  rocksdb::ColumnFamilyOptions stats_options = plain;
  stats_options.merge_operator = std::make_shared<StatsAddOperator>();
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, plain},
      {kMetaFamily, plain},
      {kItemsFamily, plain},
      {kIndexFamily, plain},
      {kStatsFamily, stats_options},
      {kStreamFamily, plain},
  };
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, families, &impl->handles, &db);
  if (!s.ok()) return IoError("Cannot open storage at " + options.path + ": " + s.ToString());
  auto guarded = std::make_unique<GuardedDB>(db, wal, std::move(probe));
  GuardedDB* sentinel = options.in_memory ? nullptr : guarded.get();
  impl->db = std::move(guarded);
  if (sentinel != nullptr) CRUDDUR_RETURN_IF_ERROR(FromRocks(sentinel->WriteSentinel()));
  impl->meta = impl->handles[1];
  impl->items = impl->handles[2];
  impl->index = impl->handles[3];
  impl->stats = impl->handles[4];
  impl->stream = impl->handles[5];
  CRUDDUR_RETURN_IF_ERROR(impl->Load());
  if (options.sync && !options.in_memory) {
    // SyncWAL fsyncs every live log file up to what has been written; writes go on meanwhile.
    impl->group_commit = std::make_unique<GroupCommit>(
        [db] { return static_cast<uint64_t>(db->GetLatestSequenceNumber()); },
        [db] { return FromRocks(db->SyncWAL()); });
  }
  impl->StartIndexWork();
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

// ---- Tables ----

Status Engine::CreateTable(TableDef def) {
  std::lock_guard ddl(impl_->ddl_mu);
  if (GetTable(def.name) != nullptr) {
    return InUseError("Table already exists: " + def.name);
  }
  def.id = impl_->next_table_id;
  def.next_index_id = 1;
  for (auto* list : {&def.gsis, &def.lsis}) {
    for (IndexDef& index : *list) {
      index.id = def.next_index_id++;
      index.state = IndexState::kActive;
    }
  }
  rocksdb::WriteBatch batch;
  std::optional<StreamState> stream;
  def.stream_id = 0;
  if (def.stream_view) {
    stream = impl_->NewStream(def, *def.stream_view, &batch);
    def.stream_id = stream->info.id;
  }
  std::string next_id;
  PutBigEndian(def.id + 1, 8, &next_id);
  batch.Put(impl_->meta, kNextTableIdKey, next_id);
  batch.Put(impl_->meta, TableKey(def.name), EncodeTableDef(def));
  CRUDDUR_RETURN_IF_ERROR(FromRocks(impl_->db->Write(impl_->write_options, &batch)));
  impl_->next_table_id = def.id + 1;
  std::unique_lock lock(impl_->tables_mu);
  auto counters = std::make_shared<Counters>();
  if (stream) {
    impl_->next_stream_id = stream->info.id + 1;
    counters->stream_id = stream->info.id;
    counters->stream_view = stream->info.view;
    std::lock_guard streams_lock(impl_->streams_mu);
    impl_->streams[stream->info.id] = std::move(*stream);
  }
  impl_->counters[def.id] = std::move(counters);
  std::string name = def.name;
  impl_->tables[name] = std::make_shared<const TableDef>(std::move(def));
  return Status::Ok();
}

Status Engine::DeleteTable(std::string_view name) {
  std::lock_guard ddl(impl_->ddl_mu);
  std::unique_lock lock(impl_->tables_mu);
  auto it = impl_->tables.find(name);
  if (it == impl_->tables.end()) return TableNotFound(name);
  uint64_t id = it->second->id;
  std::string begin = TablePrefix(id);
  std::string end = TablePrefix(id + 1);
  rocksdb::WriteBatch batch;
  batch.Delete(impl_->meta, TableKey(name));
  batch.DeleteRange(impl_->meta, std::string(1, kBackfillCursorPrefix) + begin,
                    std::string(1, kBackfillCursorPrefix) + end);
  // The table's stats and its item collections' stats.
  batch.DeleteRange(impl_->stats, begin, end);
  batch.DeleteRange(impl_->items, begin, end);
  batch.DeleteRange(impl_->index, begin, end);
  // The table's stream outlives it, disabled, until trimmed ("DeleteTable": the stream stays
  // readable for 24 hours).
  std::unique_lock streams_lock(impl_->streams_mu);
  std::optional<StreamState> stream;
  if (it->second->stream_view) stream = impl_->DisabledStream(it->second->stream_id, &batch);
  CRUDDUR_RETURN_IF_ERROR(FromRocks(impl_->db->Write(impl_->write_options, &batch)));
  if (stream) impl_->streams[stream->info.id] = std::move(*stream);
  streams_lock.unlock();
  impl_->streams_cv.notify_all();
  impl_->tables.erase(it);
  impl_->counters.erase(id);
  return Status::Ok();
}

std::shared_ptr<const TableDef> Engine::GetTable(std::string_view name) const {
  std::shared_lock lock(impl_->tables_mu);
  auto it = impl_->tables.find(name);
  return it == impl_->tables.end() ? nullptr : it->second;
}

std::vector<std::string> Engine::ListTables() const {
  std::shared_lock lock(impl_->tables_mu);
  std::vector<std::string> names;
  names.reserve(impl_->tables.size());
  for (const auto& [name, def] : impl_->tables) names.push_back(name);
  return names;
}

Status Engine::SetTableMeta(std::string_view name, std::string meta) {
  std::lock_guard ddl(impl_->ddl_mu);
  std::shared_ptr<const TableDef> current = GetTable(name);
  if (current == nullptr) return TableNotFound(name);
  auto updated = std::make_shared<TableDef>(*current);
  updated->meta = std::move(meta);
  CRUDDUR_RETURN_IF_ERROR(FromRocks(impl_->db->Put(
      impl_->write_options, impl_->meta, TableKey(updated->name), EncodeTableDef(*updated))));
  std::unique_lock lock(impl_->tables_mu);
  impl_->tables[updated->name] = std::move(updated);
  return Status::Ok();
}

TableStats Engine::Stats(const TableDef& table) const {
  std::shared_lock lock(impl_->tables_mu);
  auto it = impl_->counters.find(table.id);
  if (it == impl_->counters.end()) return {};
  return {it->second->item_count.load(), it->second->size_bytes.load()};
}

// ---- Secondary indexes on a live table ----

namespace {

// One index at a time is added or removed per table, as DynamoDB allows ("Only 1 online index
// can be created or deleted simultaneously per table"); `except` may be in progress.
Status CheckNoIndexWork(const TableDef& table, const IndexDef* except) {
  for (const IndexDef& gsi : table.gsis) {
    if (gsi.state != IndexState::kActive && &gsi != except) {
      return InUseError("Index " + gsi.name + " of table " + table.name +
                        " is being added or removed");
    }
  }
  return Status::Ok();
}

}  // namespace

Status Engine::AddGlobalIndex(std::string_view name, IndexDef index, std::string meta) {
  std::lock_guard ddl(impl_->ddl_mu);
  std::shared_ptr<const TableDef> current = GetTable(name);
  if (current == nullptr) return TableNotFound(name);
  if (current->FindIndex(index.name) != nullptr) {
    return InUseError("Index already exists: " + index.name);
  }
  CRUDDUR_RETURN_IF_ERROR(CheckNoIndexWork(*current, nullptr));
  auto updated = std::make_shared<TableDef>(*current);
  index.id = updated->next_index_id++;
  index.state = IndexState::kBackfilling;
  updated->gsis.push_back(std::move(index));
  updated->meta = std::move(meta);
  const uint32_t index_id = updated->gsis.back().id;
  return impl_->PublishIndexChange(std::move(updated), index_id);
}

Status Engine::RemoveGlobalIndex(std::string_view name, std::string_view index_name,
                                 std::string meta) {
  std::lock_guard ddl(impl_->ddl_mu);
  std::shared_ptr<const TableDef> current = GetTable(name);
  if (current == nullptr) return TableNotFound(name);
  auto target = std::find_if(current->gsis.begin(), current->gsis.end(),
                             [&](const IndexDef& gsi) { return gsi.name == index_name; });
  if (target == current->gsis.end()) {
    return NotFoundError("Requested resource not found: Index: " + std::string(index_name) +
                         " not found");
  }
  if (target->state == IndexState::kDeleting) {
    return InUseError("Index is being deleted: " + std::string(index_name));
  }
  CRUDDUR_RETURN_IF_ERROR(CheckNoIndexWork(*current, &*target));
  auto updated = std::make_shared<TableDef>(*current);
  IndexDef& removed = updated->gsis[static_cast<size_t>(target - current->gsis.begin())];
  removed.state = IndexState::kDeleting;
  updated->meta = std::move(meta);
  const uint32_t index_id = removed.id;
  return impl_->PublishIndexChange(std::move(updated), index_id);
}

// ---- Reads ----

Result<std::optional<Item>> Engine::Get(const TableDef& table, const Item& key) const {
  CRUDDUR_ASSIGN_OR_RETURN(std::string item_key, ItemKey(table, key));
  return impl_->ReadItem(rocksdb::ReadOptions(), item_key);
}

Result<std::vector<std::optional<Item>>> Engine::GetMany(
    const std::vector<std::pair<const TableDef*, Item>>& keys) const {
  std::vector<std::string> item_keys;
  item_keys.reserve(keys.size());
  for (const auto& [table, key] : keys) {
    CRUDDUR_ASSIGN_OR_RETURN(std::string item_key, ItemKey(*table, key));
    item_keys.push_back(std::move(item_key));
  }
  const rocksdb::Snapshot* snapshot = impl_->db->GetSnapshot();
  rocksdb::ReadOptions options;
  options.snapshot = snapshot;
  std::vector<std::optional<Item>> items;
  items.reserve(keys.size());
  Status status;
  for (const std::string& item_key : item_keys) {
    Result<std::optional<Item>> item = impl_->ReadItem(options, item_key);
    if (!item.ok()) {
      status = item.TakeStatus();
      break;
    }
    items.push_back(std::move(item).value());
  }
  impl_->db->ReleaseSnapshot(snapshot);
  if (!status.ok()) return status;
  return items;
}

std::unique_ptr<ItemIterator> Engine::Query(const TableDef& table, const IndexDef* index,
                                            const AttributeValue& hash, const SortRange& range,
                                            bool forward, const Item* exclusive_start_key) const {
  const KeySchema& schema = index != nullptr ? index->key : table.key;
  if (hash.type != schema.hash.type) {
    return std::make_unique<StatusIterator>(
        ValidationError("Query condition missed key schema element: " + schema.hash.name));
  }
  std::string partition =
      index != nullptr ? IndexPrefix(table.id, index->id) : TablePrefix(table.id);
  AppendPartition(hash, &partition);

  // Key layout after the partition: the (index) sort key, then for an index the table keys.
  // Every component is self-delimiting, so "all keys whose sort key is v" is the prefix
  // partition|enc(v) and its PrefixSuccessor bounds it from above.
  std::string lower = partition;
  std::string upper = PrefixSuccessor(partition);
  if (range.op != SortRange::Op::kAll) {
    if (!schema.range || range.value.type != schema.range->type ||
        (range.op == SortRange::Op::kBetween && range.value2.type != schema.range->type) ||
        (range.op == SortRange::Op::kBeginsWith && schema.range->type == AttrType::kN)) {
      return std::make_unique<StatusIterator>(ValidationError("Query key condition not supported"));
    }
    std::string with_value = partition;
    EncodeKeyValue(range.value, &with_value);
    switch (range.op) {
      case SortRange::Op::kAll:
        break;
      case SortRange::Op::kEq:
        lower = with_value;
        upper = PrefixSuccessor(with_value);
        break;
      case SortRange::Op::kLt:
        upper = with_value;
        break;
      case SortRange::Op::kLe:
        upper = PrefixSuccessor(with_value);
        break;
      case SortRange::Op::kGt:
        lower = PrefixSuccessor(with_value);
        break;
      case SortRange::Op::kGe:
        lower = with_value;
        break;
      case SortRange::Op::kBetween: {
        lower = with_value;
        std::string with_value2 = partition;
        EncodeKeyValue(range.value2, &with_value2);
        upper = PrefixSuccessor(with_value2);
        break;
      }
      case SortRange::Op::kBeginsWith: {
        // The S/B encoding escapes byte by byte and only then terminates, so every value that
        // starts with the prefix encodes to a string that starts with the unterminated
        // encoding of the prefix, and no other value does.
        std::string prefix = partition;
        EncodeKeyValue(range.value, &prefix);
        prefix.resize(prefix.size() - 2);  // drop the 0x00 0x01 terminator
        lower = prefix;
        upper = PrefixSuccessor(prefix);
        break;
      }
    }
  }
  if (exclusive_start_key != nullptr) {
    std::optional<std::string> start = StartKey(table, index, *exclusive_start_key);
    if (!start) {
      return std::make_unique<StatusIterator>(
          ValidationError("The provided starting key is invalid"));
    }
    // DynamoDB rejects a start key from another partition or outside the sort-key condition
    // rather than silently restarting the query.
    if (*start < lower || *start >= upper) {
      return std::make_unique<StatusIterator>(ValidationError(
          "The provided starting key is outside query boundaries based on provided condition"));
    }
    if (forward) {
      lower = KeySuccessor(*start);
    } else {
      upper = *start;
    }
  }
  if (lower >= upper) return std::make_unique<StatusIterator>(Status::Ok());
  return std::make_unique<RangeIterator>(impl_->db.get(),
                                         index != nullptr ? impl_->index : impl_->items,
                                         std::move(lower), std::move(upper), forward);
}

std::unique_ptr<ItemIterator> Engine::Scan(const TableDef& table, const IndexDef* index,
                                           int segment, int total_segments,
                                           const Item* exclusive_start_key) const {
  if (total_segments < 1 || segment < 0 || segment >= total_segments) {
    return std::make_unique<StatusIterator>(ValidationError("Invalid Segment/TotalSegments"));
  }
  std::string prefix = index != nullptr ? IndexPrefix(table.id, index->id) : TablePrefix(table.id);
  // Segment s covers hashes [s * 2^32 / n, (s + 1) * 2^32 / n).
  constexpr uint64_t kHashSpace = uint64_t{1} << 32;
  uint64_t first_hash = static_cast<uint64_t>(segment) * kHashSpace / total_segments;
  uint64_t end_hash = static_cast<uint64_t>(segment + 1) * kHashSpace / total_segments;
  std::string lower = prefix;
  PutBigEndian(first_hash, 4, &lower);
  std::string upper = prefix;
  if (end_hash == kHashSpace) {
    upper = PrefixSuccessor(prefix);
  } else {
    PutBigEndian(end_hash, 4, &upper);
  }
  if (exclusive_start_key != nullptr) {
    std::optional<std::string> start = StartKey(table, index, *exclusive_start_key);
    if (!start) {
      return std::make_unique<StatusIterator>(ValidationError(
          "The provided starting key is invalid: The provided key element does not match the "
          "schema"));
    }
    // Parallel scan: the start key must hash into the requested segment (real DynamoDB's
    // text; DynamoDB Local says "Exclusive start key must lie within the segment").
    if (*start < lower || *start >= upper) {
      return std::make_unique<StatusIterator>(ValidationError(
          "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use "
          "ExclusiveStartKey with correct Segment. TotalSegments: " +
          std::to_string(total_segments) + " Segment: " + std::to_string(segment)));
    }
    lower = KeySuccessor(*start);
  }
  if (lower >= upper) return std::make_unique<StatusIterator>(Status::Ok());
  return std::make_unique<RangeIterator>(impl_->db.get(),
                                         index != nullptr ? impl_->index : impl_->items,
                                         std::move(lower), std::move(upper), true);
}

// ---- Streams ----

Status Engine::SetTableStream(std::string_view name, std::optional<StreamViewType> view) {
  std::lock_guard ddl(impl_->ddl_mu);
  std::shared_ptr<const TableDef> current = GetTable(name);
  if (current == nullptr) return TableNotFound(name);
  if (view && current->stream_view) {
    return ValidationError("Table already has an enabled stream: TableName: " + current->name);
  }
  if (!view && !current->stream_view) {
    return ValidationError("Table has no stream to disable: TableName: " + current->name);
  }
  auto updated = std::make_shared<TableDef>(*current);
  rocksdb::WriteBatch batch;
  // Exclusive: no commit is in flight, so the disabled stream's last record is final.
  std::unique_lock tables_lock(impl_->tables_mu);
  std::unique_lock streams_lock(impl_->streams_mu);
  StreamState state = view ? impl_->NewStream(*updated, *view, &batch)
                           : impl_->DisabledStream(current->stream_id, &batch);
  updated->stream_view = view;
  updated->stream_id = state.info.id;
  batch.Put(impl_->meta, TableKey(updated->name), EncodeTableDef(*updated));
  CRUDDUR_RETURN_IF_ERROR(FromRocks(impl_->db->Write(impl_->write_options, &batch)));
  if (view) impl_->next_stream_id = state.info.id + 1;
  Counters& counters = *impl_->counters.at(updated->id);
  counters.stream_id = view ? state.info.id : 0;
  if (view) counters.stream_view = *view;
  impl_->streams[state.info.id] = std::move(state);
  impl_->tables[updated->name] = std::move(updated);
  streams_lock.unlock();
  impl_->streams_cv.notify_all();
  return Status::Ok();
}

std::vector<StreamInfo> Engine::ListStreams() const {
  std::lock_guard lock(impl_->streams_mu);
  std::vector<StreamInfo> out;
  out.reserve(impl_->streams.size());
  for (const auto& [id, state] : impl_->streams) out.push_back(state.info);
  return out;
}

std::optional<StreamInfo> Engine::GetStream(uint64_t stream_id) const {
  std::lock_guard lock(impl_->streams_mu);
  auto it = impl_->streams.find(stream_id);
  if (it == impl_->streams.end()) return std::nullopt;
  return it->second.info;
}

Result<std::vector<StreamShard>> Engine::ListShards(uint64_t stream_id) const {
  std::lock_guard lock(impl_->streams_mu);
  auto it = impl_->streams.find(stream_id);
  if (it == impl_->streams.end()) return NotFoundError("Requested resource not found");
  std::vector<StreamShard> out;
  const std::vector<StreamShard>& shards = it->second.shards;
  for (size_t i = 0; i < shards.size(); ++i) {
    bool trimmed = shards[i].closed && shards[i].last_seq < it->second.info.trim_seq;
    if (!trimmed || i + 1 == shards.size()) out.push_back(shards[i]);
  }
  return out;
}

Result<std::vector<ChangeRecord>> Engine::ReadStream(uint64_t stream_id, uint64_t first_seq,
                                                     uint64_t last_seq, size_t limit,
                                                     size_t max_bytes) const {
  std::vector<ChangeRecord> out;
  // Never past the visible end: a higher record may have landed before a lower one has.
  last_seq = std::min(last_seq, impl_->VisibleSeq(stream_id));
  if (first_seq > last_seq || limit == 0) return out;
  std::string lower = RecordKey(stream_id, first_seq);
  std::string upper =
      last_seq == UINT64_MAX ? RecordKey(stream_id + 1, 0) : RecordKey(stream_id, last_seq + 1);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(options, impl_->stream));
  size_t bytes = 0;
  for (it->Seek(lower); it->Valid() && out.size() < limit; it->Next()) {
    uint64_t seq = GetBigEndian(it->key().ToStringView().substr(9));
    CRUDDUR_ASSIGN_OR_RETURN(ChangeRecord change, DecodeChange(seq, it->value().ToStringView()));
    if (!out.empty() && bytes + change.size_bytes > max_bytes) break;
    bytes += change.size_bytes;
    out.push_back(std::move(change));
  }
  CRUDDUR_RETURN_IF_ERROR(FromRocks(it->status()));
  return out;
}

bool Engine::WaitForStream(uint64_t stream_id, uint64_t after_seq,
                           std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->streams_mu);
  bool has_more = false;
  impl_->streams_cv.wait_for(lock, timeout, [&] {
    auto it = impl_->streams.find(stream_id);
    if (it == impl_->streams.end()) return true;
    has_more = it->second.info.last_seq > after_seq;
    return has_more || it->second.info.disabled_micros != 0;
  });
  return has_more;
}

Status Engine::TrimStreams(std::chrono::microseconds retention) {
  int64_t cutoff = impl_->Now() - retention.count();
  std::vector<StreamInfo> streams = ListStreams();
  for (const StreamInfo& info : streams) {
    if (info.disabled_micros != 0 && info.disabled_micros < cutoff) {
      // A disabled stream whose last record is past retention goes away whole.
      rocksdb::WriteBatch batch;
      batch.Delete(impl_->stream, StreamMetaKey(info.id));
      batch.DeleteRange(impl_->stream, ShardKey(info.id, 0), ShardKey(info.id + 1, 0));
      batch.DeleteRange(impl_->stream, RecordKey(info.id, 0), RecordKey(info.id + 1, 0));
      batch.Delete(impl_->stream, TrimMarkKey(info.id));
      CRUDDUR_RETURN_IF_ERROR(FromRocks(impl_->db->Write(impl_->write_options, &batch)));
      {
        std::lock_guard lock(impl_->streams_mu);
        impl_->streams.erase(info.id);
      }
      impl_->streams_cv.notify_all();
      continue;
    }
    // Records are in commit-time order: trim up to the first one young enough to keep.
    uint64_t new_trim = info.trim_seq;
    {
      std::string lower = RecordKey(info.id, info.trim_seq);
      std::string upper = RecordKey(info.id, info.last_seq + 1);
      rocksdb::Slice upper_slice(upper);
      rocksdb::ReadOptions options;
      options.iterate_upper_bound = &upper_slice;
      std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(options, impl_->stream));
      new_trim = info.last_seq + 1;
      for (it->Seek(lower); it->Valid(); it->Next()) {
        std::optional<int64_t> micros = ChangeMicros(it->value().ToStringView());
        if (!micros) return InternalError("Corrupt stream record");
        if (*micros >= cutoff) {
          new_trim = GetBigEndian(it->key().ToStringView().substr(9));
          break;
        }
      }
      CRUDDUR_RETURN_IF_ERROR(FromRocks(it->status()));
    }
    if (new_trim <= info.trim_seq) continue;
    rocksdb::WriteBatch batch;
    batch.DeleteRange(impl_->stream, RecordKey(info.id, 0), RecordKey(info.id, new_trim));
    std::string mark;
    PutBigEndian(new_trim, 8, &mark);
    batch.Put(impl_->stream, TrimMarkKey(info.id), mark);
    Result<std::vector<StreamShard>> listed = ListShards(info.id);
    if (!listed.ok()) continue;  // trimmed away meanwhile
    const std::vector<StreamShard>& shards = *listed;
    for (size_t i = 0; i + 1 < shards.size(); ++i) {
      if (shards[i].last_seq < new_trim) {
        batch.Delete(impl_->stream, ShardKey(info.id, shards[i].first_seq));
      }
    }
    CRUDDUR_RETURN_IF_ERROR(FromRocks(impl_->db->Write(impl_->write_options, &batch)));
    std::lock_guard lock(impl_->streams_mu);
    auto it = impl_->streams.find(info.id);
    if (it == impl_->streams.end()) continue;
    StreamState& state = it->second;
    state.info.trim_seq = std::max(state.info.trim_seq, new_trim);
    while (state.shards.size() > 1 && state.shards.front().last_seq < state.info.trim_seq) {
      state.shards.erase(state.shards.begin());
    }
  }
  return Status::Ok();
}

// ---- Writes ----

struct Engine::WriteBatch::State {
  enum class Op : uint8_t { kNone, kPut, kDelete };
  // One locked key.
  struct Slot {
    std::shared_ptr<const TableDef> table;
    Item key;           // as passed to BeginWrite
    bool read = false;  // `current` holds the committed item
    std::optional<Item> current;
    Op op = Op::kNone;
    Item new_item;                            // kPut
    bool by_service = false;                  // kDelete by the service (TTL)
    std::string current_record;               // `current` as stored (its item record), when read
    std::optional<int64_t> collection_bytes;  // after Commit, tables with LSIs only
  };

  Engine::Impl* impl = nullptr;
  std::vector<size_t> stripes;        // locked, ascending
  std::map<std::string, Slot> slots;  // item key -> slot
  Status error;  // the first error of BeginWrite/Put/Delete, reported by Commit
  bool committed = false;

  // The slot of `key`'s item (and its item key), or nullptr with *status set.
  Slot* Find(const TableDef& table, const Item& key, std::string* item_key, Status* status) {
    Result<std::string> encoded = ItemKey(table, key);
    if (!encoded.ok()) {
      *status = encoded.TakeStatus();
      return nullptr;
    }
    auto it = slots.find(*encoded);
    if (it == slots.end()) {
      *status = InternalError("Write to a key not locked by this write batch");
      return nullptr;
    }
    *item_key = std::move(encoded).value();
    return &it->second;
  }

  Status LoadCurrent(const std::string& item_key, Slot* slot) {
    if (slot->read) return Status::Ok();
    CRUDDUR_ASSIGN_OR_RETURN(
        slot->current, impl->ReadItem(rocksdb::ReadOptions(), item_key, &slot->current_record));
    slot->read = true;
    return Status::Ok();
  }
};

Engine::WriteBatch::WriteBatch(std::unique_ptr<State> state) : state_(std::move(state)) {}

Engine::WriteBatch::~WriteBatch() {
  for (auto it = state_->stripes.rbegin(); it != state_->stripes.rend(); ++it) {
    state_->impl->stripes[*it].unlock();
  }
}

std::unique_ptr<Engine::WriteBatch> Engine::BeginWrite(
    std::vector<std::pair<std::shared_ptr<const TableDef>, Item>> keys) {
  auto state = std::make_unique<WriteBatch::State>();
  state->impl = impl_.get();
  for (auto& [table, key] : keys) {
    Result<std::string> item_key = ItemKey(*table, key);
    if (!item_key.ok()) {
      if (state->error.ok()) state->error = item_key.TakeStatus();
      continue;
    }
    state->stripes.push_back(PartitionHash(*item_key) % kLockStripes);
    WriteBatch::State::Slot& slot = state->slots[std::move(item_key).value()];
    slot.table = table;
    slot.key = std::move(key);
  }
  std::sort(state->stripes.begin(), state->stripes.end());
  state->stripes.erase(std::unique(state->stripes.begin(), state->stripes.end()),
                       state->stripes.end());
  for (size_t stripe : state->stripes) impl_->stripes[stripe].lock();
  return std::unique_ptr<WriteBatch>(new WriteBatch(std::move(state)));
}

std::optional<int64_t> Engine::WriteBatch::ItemCollectionBytes(const TableDef& table,
                                                               const Item& key) const {
  Result<std::string> item_key = ItemKey(table, key);
  if (!item_key.ok()) return std::nullopt;
  auto it = state_->slots.find(*item_key);
  return it == state_->slots.end() ? std::nullopt : it->second.collection_bytes;
}

Result<std::optional<Item>> Engine::WriteBatch::Read(const TableDef& table, const Item& key) {
  std::string item_key;
  Status status;
  State::Slot* slot = state_->Find(table, key, &item_key, &status);
  if (slot == nullptr) return status;
  CRUDDUR_RETURN_IF_ERROR(state_->LoadCurrent(item_key, slot));
  return slot->current;
}

void Engine::WriteBatch::Put(const TableDef& table, Item item) {
  std::string item_key;
  Status status;
  State::Slot* slot = state_->Find(table, item, &item_key, &status);
  if (slot == nullptr) {
    if (state_->error.ok()) state_->error = std::move(status);
    return;
  }
  slot->op = State::Op::kPut;
  slot->new_item = std::move(item);
}

void Engine::WriteBatch::Delete(const TableDef& table, const Item& key, bool by_service) {
  std::string item_key;
  Status status;
  State::Slot* slot = state_->Find(table, key, &item_key, &status);
  if (slot == nullptr) {
    if (state_->error.ok()) state_->error = std::move(status);
    return;
  }
  slot->op = State::Op::kDelete;
  slot->new_item.clear();
  slot->by_service = by_service;
}

Status Engine::WriteBatch::Commit() {
  if (state_->committed) return InternalError("Write batch committed twice");
  CRUDDUR_RETURN_IF_ERROR(state_->error);
  Impl* impl = state_->impl;
  // Held shared across the write so that DeleteTable (exclusive) cannot interleave: a table
  // deleted after BeginWrite fails the commit instead of leaving orphans behind.
  std::shared_lock tables_lock(impl->tables_mu);
  rocksdb::WriteBatch batch;
  struct Delta {
    Counters* counters;
    int64_t count = 0;
    int64_t bytes = 0;
  };
  std::map<uint64_t, Delta> deltas;
  // Item collections (tables with LSIs) this batch changes, by stats key.
  struct CollectionDelta {
    int64_t count = 0;
    int64_t bytes = 0;
    std::vector<State::Slot*> slots;
  };
  std::map<std::string, CollectionDelta> collections;
  std::vector<PendingChange> changes;
  for (auto& [item_key, slot] : state_->slots) {
    if (slot.op == State::Op::kNone) continue;
    // The definition as it is now, not as it was at BeginWrite: an index added since must be
    // maintained by this commit (see Impl::BackfillStep).
    auto live = impl->tables.find(slot.table->name);
    if (live == impl->tables.end() || live->second->id != slot.table->id) {
      return TableNotFound(slot.table->name);
    }
    const TableDef& table = *live->second;
    auto counter = impl->counters.find(table.id);
    if (counter == impl->counters.end()) return TableNotFound(table.name);
    CRUDDUR_RETURN_IF_ERROR(state_->LoadCurrent(item_key, &slot));
    const Item* old_item = slot.current ? &*slot.current : nullptr;
    const Item* new_item = slot.op == State::Op::kPut ? &slot.new_item : nullptr;
    std::string value;  // the new item's record
    if (new_item != nullptr) {
      EncodeItem(*new_item, &value);
      batch.Put(impl->items, item_key, value);
    } else if (old_item != nullptr) {
      batch.Delete(impl->items, item_key);
    }
    if (counter->second->stream_id != 0 && (old_item != nullptr || new_item != nullptr) &&
        !(old_item != nullptr && new_item != nullptr && *old_item == *new_item)) {
      changes.push_back({counter->second->stream_id,
                         MakeChange(table.key, counter->second->stream_view, old_item,
                                    slot.current_record, new_item, value, slot.by_service)});
    }
    // Index maintenance: an entry moves when its index key changes, disappears when the new
    // item no longer has the index key attributes (sparse index), and is rewritten otherwise
    // so that projected non-key attributes stay current.
    for (const auto* list : {&table.gsis, &table.lsis}) {
      for (const IndexDef& index : *list) {
        if (!Maintained(index)) continue;
        std::optional<std::string> old_entry;
        std::optional<std::string> new_entry;
        if (old_item != nullptr) old_entry = IndexEntryKey(table, index, *old_item);
        if (new_item != nullptr) new_entry = IndexEntryKey(table, index, *new_item);
        if (old_entry && old_entry != new_entry) batch.Delete(impl->index, *old_entry);
        if (new_entry) {
          std::string value;
          EncodeItem(Project(table, index, *new_item), &value);
          batch.Put(impl->index, *new_entry, value);
        }
      }
    }
    if (!table.lsis.empty()) {
      CollectionDelta& collection = collections[CollectionKey(table, slot.key)];
      collection.count += (new_item != nullptr ? 1 : 0) - (old_item != nullptr ? 1 : 0);
      collection.bytes += (new_item != nullptr ? CollectionShare(table, *new_item) : 0) -
                          (old_item != nullptr ? CollectionShare(table, *old_item) : 0);
      collection.slots.push_back(&slot);
    }
    Delta& delta = deltas.try_emplace(table.id, Delta{counter->second.get()}).first->second;
    delta.count += (new_item != nullptr ? 1 : 0) - (old_item != nullptr ? 1 : 0);
    delta.bytes += static_cast<int64_t>(new_item != nullptr ? ItemSize(*new_item) : 0) -
                   static_cast<int64_t>(old_item != nullptr ? ItemSize(*old_item) : 0);
  }
  for (const auto& [table_id, delta] : deltas) {
    if (delta.count != 0 || delta.bytes != 0) {
      batch.Merge(impl->stats, TablePrefix(table_id), EncodeStatsDelta(delta.count, delta.bytes));
    }
  }
  // Item collections: a write that grows one past the limit fails whole
  // (ItemCollectionSizeLimitExceededException: "An item collection is too large. This exception
  // is only returned for tables that have one or more local secondary indexes"); shrinking is
  // always allowed. The size read here is the committed one: concurrent writers to other items
  // of the same partition (other stripes) may each pass the check with a little to spare, as
  // DynamoDB's own check is an estimate.
  for (auto& [key, collection] : collections) {
    std::string value;
    rocksdb::Status s = impl->db->Get(rocksdb::ReadOptions(), impl->stats, key, &value);
    int64_t count = 0;
    int64_t bytes = 0;
    if (s.ok()) {
      if (!DecodeStats(value, &count, &bytes)) {
        return InternalError("Corrupt item collection stats");
      }
    } else if (!s.IsNotFound()) {
      return FromRocks(s);
    }
    if (collection.bytes > 0 && bytes + collection.bytes > impl->collection_limit) {
      return Status(ErrorCode::kItemCollectionSizeLimitExceeded,
                    "Item collection size limit exceeded. The total size of an item collection "
                    "has exceeded the maximum limit of 10 gigabytes.");
    }
    if (collection.count != 0 || collection.bytes != 0) {
      batch.Merge(impl->stats, key, EncodeStatsDelta(collection.count, collection.bytes));
    }
    for (State::Slot* slot : collection.slots) {
      slot->collection_bytes = std::max<int64_t>(0, bytes + collection.bytes);
    }
  }
  if (changes.empty()) {
    CRUDDUR_RETURN_IF_ERROR(FromRocks(impl->db->Write(impl->commit_options, &batch)));
  } else {
    CRUDDUR_RETURN_IF_ERROR(impl->WriteWithChanges(&batch, &changes));
  }
  const uint64_t mark = impl->db->GetLatestSequenceNumber();
  state_->committed = true;
  for (const auto& [table_id, delta] : deltas) {
    delta.counters->item_count += delta.count;
    delta.counters->size_bytes += delta.bytes;
  }
  tables_lock.unlock();  // what remains must not hold up DeleteTable, least of all the fsync
  // The committed state is now what this batch wrote; a later Read sees it.
  for (auto& [item_key, slot] : state_->slots) {
    if (slot.op == State::Op::kNone) continue;
    slot.current =
        slot.op == State::Op::kPut ? std::optional<Item>(std::move(slot.new_item)) : std::nullopt;
    slot.current_record.clear();  // only Commit uses it, and a batch commits once
    slot.op = State::Op::kNone;
  }
  for (DeferredCommits* scope = current_deferred; scope != nullptr; scope = scope->outer_) {
    if (scope->engine_->impl_.get() != impl) continue;
    scope->mark_ = std::max(scope->mark_, mark);
    return Status::Ok();
  }
  if (impl->group_commit == nullptr) return Status::Ok();
  // Waiting with the keys still locked serializes writers of one key at the fsync rate, as a
  // per-commit fsync would; writers of other keys share the fsync.
  return impl->group_commit->WaitDurable(mark);
}

// ---- Durability ----

Engine::DeferredCommits::DeferredCommits(const Engine* engine)
    : engine_(engine), outer_(current_deferred) {
  current_deferred = this;
}

Engine::DeferredCommits::~DeferredCommits() { current_deferred = outer_; }

bool Engine::IsDurable(uint64_t mark) const {
  return impl_->group_commit == nullptr || impl_->group_commit->IsDurable(mark);
}

void Engine::WhenDurable(uint64_t mark, std::function<void(Status)> done) const {
  if (impl_->group_commit == nullptr) {
    done(Status::Ok());
    return;
  }
  impl_->group_commit->WhenDurable(mark, std::move(done));
}

}  // namespace cruddur::dynamo::storage
