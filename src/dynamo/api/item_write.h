// The pieces of a conditional single-item write shared by PutItem, DeleteItem, UpdateItem,
// BatchWriteItem and TransactWriteItems.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "dynamo/api/api.h"
#include "dynamo/api/common.h"
#include "dynamo/expr/expr.h"
#include "dynamo/storage/engine.h"

namespace cruddur::dynamo::api {

// One locked key of one table, from ReadCurrent to Put/Delete. Not thread-safe; the lock is
// held until the object is destroyed.
class SingleWrite {
 public:
  // Write units are computed only when `mode` asks for them (they cost item-size walks).
  SingleWrite(ApiContext& ctx, std::shared_ptr<const storage::TableDef> table, Item key,
              CapacityMode mode);
  // The item as committed now (under the key lock).
  Result<std::optional<Item>> ReadCurrent();
  // Replace / remove the item, commit, and account the write units (table and indexes).
  Status Put(Item item);
  Status Delete();
  const ConsumedCapacity& capacity() const { return capacity_; }
  // After Put/Delete on a table with local secondary indexes: the size of the written item's
  // collection (Engine::WriteBatch::ItemCollectionBytes); nullopt otherwise.
  std::optional<int64_t> collection_bytes() const { return collection_bytes_; }
  // Writes "ItemCollectionMetrics" when the request asks for it and the table has LSIs.
  void WriteItemCollectionMetricsMember(const json::Value& request, json::Writer* out) const;

 private:
  Status Commit(ConsumedCapacity capacity);

  ApiContext& ctx_;
  std::shared_ptr<const storage::TableDef> table_;
  Item key_;
  std::unique_ptr<storage::Engine::WriteBatch> batch_;
  std::optional<Item> old_;
  CapacityMode mode_;
  ConsumedCapacity capacity_;
  std::optional<int64_t> collection_bytes_;
};

// ---- ReturnItemCollectionMetrics (API Reference, "ItemCollectionMetrics") ----
// Whether the request asks for ReturnItemCollectionMetrics=SIZE.
bool WantsItemCollectionMetrics(const json::Value& request);
// Writes one ItemCollectionMetrics object: {"ItemCollectionKey": {<partition key>},
// "SizeEstimateRangeGB": [lower, upper]} for the collection of `key` holding `bytes` bytes.
void WriteItemCollectionMetrics(const storage::TableDef& table, const Item& key, int64_t bytes,
                                json::Writer* w);
// The collections a BatchWriteItem or TransactWriteItems wrote, one entry per collection.
class ItemCollectionMetricsList {
 public:
  // Records the collection of `key` as `batch` (committed) left it; nothing for a table
  // without LSIs.
  void Add(const storage::Engine::WriteBatch& batch, const storage::TableDef& table,
           const Item& key);
  // Writes "ItemCollectionMetrics": {table: [object, ...], ...}, when there is any entry.
  void WriteMember(json::Writer* w) const;

 private:
  struct Entry {
    const storage::TableDef* table;
    Item collection_key;
    int64_t bytes;
  };
  std::vector<Entry> entries_;
};

// Evaluates a write's condition against the current item (absent = empty item). On failure:
// ConditionalCheckFailedException "The conditional request failed", carrying the old item
// when the request asks for ReturnValuesOnConditionCheckFailure=ALL_OLD.
Status CheckWriteCondition(const expr::Condition& cond, const std::optional<Item>& current,
                           const json::Value& request);
// The same evaluation without the error wrapping: true when the condition holds.
Result<bool> ConditionHolds(const expr::Condition& cond, const std::optional<Item>& current);

// Rejects an update that writes a key attribute of the table:
// "One or more parameter values were invalid: Cannot update attribute pk. This attribute is
// part of the key".
Status CheckUpdateKeepsKey(const storage::TableDef& table, const expr::Update& update);

// Applies `update` to the current item (or, when absent, to a new item made of `key`), and
// checks the result as a write: "Item size to update has exceeded the maximum allowed size",
// index key types.
Result<Item> ApplyUpdateTo(const storage::TableDef& table, const expr::Update& update,
                           const std::optional<Item>& current, const Item& key);

// Write units for replacing `old_item` by `new_item` in `table` (either may be absent): the
// larger of the two sizes in 1 KB units, plus the affected indexes.
ConsumedCapacity WriteCapacity(const storage::TableDef& table, const std::optional<Item>& old_item,
                               const std::optional<Item>& new_item);

}  // namespace cruddur::dynamo::api
