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
  return Status::Ok();
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
  CRUDDUR_RETURN_IF_ERROR(CheckItemForWrite(table, item));
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
