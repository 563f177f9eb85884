#include "dynamo/api/item_write.h"

#include "dynamo/json/attribute_json.h"

namespace cruddur::dynamo::api {

SingleWrite::SingleWrite(ApiContext& ctx, std::shared_ptr<const storage::TableDef> table, Item key,
                         CapacityMode mode)
    : ctx_(ctx), table_(std::move(table)), key_(std::move(key)), mode_(mode) {
  capacity_.table = table_->name;
  std::vector<std::pair<std::shared_ptr<const storage::TableDef>, Item>> keys;
  keys.emplace_back(table_, key_);
  batch_ = ctx_.engine->BeginWrite(std::move(keys));
}

Result<std::optional<Item>> SingleWrite::ReadCurrent() {
  CRUDDUR_ASSIGN_OR_RETURN(old_, batch_->Read(*table_, key_));
  return old_;
}

Status SingleWrite::Put(Item item) {
  ConsumedCapacity cc;
  if (mode_ != CapacityMode::kNone) cc = WriteCapacity(*table_, old_, item);
  batch_->Put(*table_, std::move(item));
  return Commit(std::move(cc));
}

Status SingleWrite::Delete() {
  ConsumedCapacity cc;
  if (mode_ != CapacityMode::kNone) cc = WriteCapacity(*table_, old_, std::nullopt);
  batch_->Delete(*table_, key_);
  return Commit(std::move(cc));
}

Status SingleWrite::Commit(ConsumedCapacity capacity) {
  Status st = batch_->Commit();
  if (st.code() == ErrorCode::kResourceNotFound) {
    return NotFoundError("Requested resource not found");
  }
  CRUDDUR_RETURN_IF_ERROR(st);
  capacity_ = std::move(capacity);
  collection_bytes_ = batch_->ItemCollectionBytes(*table_, key_);
  return Status::Ok();
}

void SingleWrite::WriteItemCollectionMetricsMember(const json::Value& request,
                                                   json::Writer* out) const {
  if (!collection_bytes_ || !WantsItemCollectionMetrics(request)) return;
  out->Key("ItemCollectionMetrics");
  WriteItemCollectionMetrics(*table_, key_, *collection_bytes_, out);
}

bool WantsItemCollectionMetrics(const json::Value& request) {
  return StringMember(request, "ReturnItemCollectionMetrics") == "SIZE";
}

// SizeEstimateRangeGB is "a two-element array containing a lower bound and an upper bound for
// the estimate": the whole gigabytes below the exact size and the next one, so a small
// collection reads [0.0, 1.0] as the service reports it.
void WriteItemCollectionMetrics(const storage::TableDef& table, const Item& key, int64_t bytes,
                                json::Writer* w) {
  w->StartObject();
  w->Key("ItemCollectionKey");
  Item collection_key;
  if (auto it = key.find(table.key.hash.name); it != key.end()) collection_key.insert(*it);
  WriteItem(collection_key, w);
  w->Key("SizeEstimateRangeGB");
  w->StartArray();
  constexpr int64_t kGigabyte = int64_t{1} << 30;
  auto lower = static_cast<double>(bytes / kGigabyte);
  w->Double(lower);
  w->Double(lower + 1);
  w->EndArray();
  w->EndObject();
}

void ItemCollectionMetricsList::Add(const storage::Engine::WriteBatch& batch,
                                    const storage::TableDef& table, const Item& key) {
  std::optional<int64_t> bytes = batch.ItemCollectionBytes(table, key);
  if (!bytes) return;
  Item collection_key;
  if (auto it = key.find(table.key.hash.name); it != key.end()) collection_key.insert(*it);
  for (Entry& e : entries_) {
    if (e.table->name == table.name && e.collection_key == collection_key) {
      e.bytes = *bytes;
      return;
    }
  }
  entries_.push_back({&table, std::move(collection_key), *bytes});
}

void ItemCollectionMetricsList::WriteMember(json::Writer* w) const {
  if (entries_.empty()) return;
  w->Key("ItemCollectionMetrics");
  w->StartObject();
  std::vector<bool> written(entries_.size(), false);
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (written[i]) continue;
    WriteKeyValue(w, entries_[i].table->name);
    w->StartArray();
    for (size_t j = i; j < entries_.size(); ++j) {
      if (written[j] || entries_[j].table->name != entries_[i].table->name) continue;
      written[j] = true;
      WriteItemCollectionMetrics(*entries_[j].table, entries_[j].collection_key, entries_[j].bytes,
                                 w);
    }
    w->EndArray();
  }
  w->EndObject();
}

Result<bool> ConditionHolds(const expr::Condition& cond, const std::optional<Item>& current) {
  if (cond.empty()) return true;
  static const Item kEmpty;
  return expr::EvaluateCondition(cond, current ? *current : kEmpty);
}

Status CheckWriteCondition(const expr::Condition& cond, const std::optional<Item>& current,
                           const json::Value& request) {
  CRUDDUR_ASSIGN_OR_RETURN(bool holds, ConditionHolds(cond, current));
  if (holds) return Status::Ok();
  Status failed = ConditionFailedError();
  if (current && StringMember(request, "ReturnValuesOnConditionCheckFailure") == "ALL_OLD") {
    json::StringBuffer buf;
    json::Writer w(buf);
    WriteItem(*current, &w);
    return std::move(failed).WithDetails("\"Item\":" + std::string(buf.GetString(), buf.GetSize()));
  }
  return failed;
}

Status CheckUpdateKeepsKey(const storage::TableDef& table, const expr::Update& update) {
  for (const auto* attr : {&table.key.hash, table.key.range ? &*table.key.range : nullptr}) {
    if (attr != nullptr && update.top_level_names().count(attr->name)) {
      return ValidationError("One or more parameter values were invalid: Cannot update attribute " +
                             attr->name + ". This attribute is part of the key");
    }
  }
  return Status::Ok();
}

Result<Item> ApplyUpdateTo(const storage::TableDef& table, const expr::Update& update,
                           const std::optional<Item>& current, const Item& key) {
  Item item = current ? *current : key;
  CRUDDUR_RETURN_IF_ERROR(expr::ApplyUpdate(update, &item));
  if (ItemSize(item) > kMaxItemBytes) {
    return ValidationError("Item size to update has exceeded the maximum allowed size");
  }
  CRUDDUR_RETURN_IF_ERROR(CheckUpdatedItem(table, item));
  return item;
}

ConsumedCapacity WriteCapacity(const storage::TableDef& table, const std::optional<Item>& old_item,
                               const std::optional<Item>& new_item) {
  ConsumedCapacity cc;
  cc.table = table.name;
  size_t bytes = std::max(old_item ? ItemSize(*old_item) : 0, new_item ? ItemSize(*new_item) : 0);
  cc.table_units = WriteUnits(bytes);
  AddIndexWriteUnits(table, old_item, new_item, &cc);
  return cc;
}

}  // namespace cruddur::dynamo::api
