// PutItem, GetItem, DeleteItem, UpdateItem.
//
// Every write follows one pattern: lock the key (storage::Engine::BeginWrite), read the current
// item under the lock, evaluate the condition against it, compute the new item, and commit the
// item with its index entries in one atomic batch. Holding the key lock from read to commit is
// what makes a conditional write or an UpdateItem atomic with respect to other writers of the
// same item (DESIGN.md habit 7).
#include "dynamo/api/api.h"
#include "dynamo/api/common.h"
#include "dynamo/api/item_write.h"
#include "dynamo/api/legacy.h"
#include "dynamo/api/request_shape.h"
#include "dynamo/json/attribute_json.h"

namespace cruddur::dynamo::api {
namespace {

std::vector<Shape> CommonWriteMembers() {
  return {TableNameShape(),
          Enum(Str("ReturnValues"), {"ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"}),
          Enum(Str("ReturnConsumedCapacity"), {"INDEXES", "TOTAL", "NONE"}),
          Enum(Str("ReturnItemCollectionMetrics"), {"SIZE", "NONE"}),
          Enum(Str("ConditionalOperator"), {"AND", "OR"}),
          ExpectedShape(),
          Str("ConditionExpression"),
          Map("ExpressionAttributeNames", Str("member")),
          AttrMap("ExpressionAttributeValues"),
          Enum(Str("ReturnValuesOnConditionCheckFailure"), {"ALL_OLD", "NONE"})};
}

Shape WithMembers(std::string name, std::vector<Shape> extra) {
  std::vector<Shape> members = CommonWriteMembers();
  for (auto& s : extra) members.push_back(std::move(s));
  return Struct(std::move(name), std::move(members));
}

// The legacy Expected / ConditionalOperator condition of a request without ConditionExpression
// (CheckExpressionMix has refused requests with both). Read once the table is known, as the
// service reports a missing table before a bad Expected.
Status ReadLegacyExpected(const json::Value& request, expr::Condition* cond) {
  if (Member(request, "ConditionExpression") != nullptr) return Status::Ok();
  CRUDDUR_ASSIGN_OR_RETURN(*cond, LegacyCondition(request, LegacyConditionParam::kExpected));
  return Status::Ok();
}

void WriteAttributes(const Item& item, json::Writer* out) {
  if (item.empty()) return;
  out->Key("Attributes");
  WriteItem(item, out);
}

}  // namespace

Status PutItem(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  static const Shape shape = WithMembers("PutItemInput", {NotNull(AttrMap("Item"))});
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, shape));
  CRUDDUR_RETURN_IF_ERROR(
      CheckExpressionMix(request, {"ConditionExpression"}, {"Expected", "ConditionalOperator"}));
  CRUDDUR_ASSIGN_OR_RETURN(ReturnValues rv, ReadReturnValues(request, {ReturnValues::kAllOld}));
  CRUDDUR_ASSIGN_OR_RETURN(Item item, DecodeItem(request["Item"]));
  CRUDDUR_ASSIGN_OR_RETURN(
      expr::ExpressionAttributes attrs,
      ReadExpressionAttributes(request, {"ConditionExpression"}, {"ConditionExpression"}));
  CRUDDUR_ASSIGN_OR_RETURN(expr::Condition cond,
                           ParseOptionalCondition(request, "ConditionExpression", &attrs));
  CRUDDUR_RETURN_IF_ERROR(expr::CheckAllAttributesUsed(attrs));
  CRUDDUR_ASSIGN_OR_RETURN(auto table, FindTable(ctx, StringMember(request, "TableName")));
  CRUDDUR_RETURN_IF_ERROR(ReadLegacyExpected(request, &cond));
  CRUDDUR_RETURN_IF_ERROR(CheckItemForWrite(*table, item));

  SingleWrite write(ctx, table, ExtractKey(table->key, item), ReadCapacityMode(request));
  CRUDDUR_ASSIGN_OR_RETURN(std::optional<Item> old, write.ReadCurrent());
  CRUDDUR_RETURN_IF_ERROR(CheckWriteCondition(cond, old, request));
  CRUDDUR_RETURN_IF_ERROR(write.Put(std::move(item)));

  out->StartObject();
  if (rv == ReturnValues::kAllOld && old) WriteAttributes(*old, out);
  write.capacity().WriteMember(ReadCapacityMode(request), out);
  write.WriteItemCollectionMetricsMember(request, out);
  out->EndObject();
  return Status::Ok();
}

Status GetItem(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  static const Shape shape = Struct(
      "GetItemInput",
      {TableNameShape(), NotNull(AttrMap("Key")),
       Length(List("AttributesToGet", Str("member")), 1, std::nullopt), Bool("ConsistentRead"),
       Enum(Str("ReturnConsumedCapacity"), {"INDEXES", "TOTAL", "NONE"}),
       Str("ProjectionExpression"), Map("ExpressionAttributeNames", Str("member"))});
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, shape));
  CRUDDUR_ASSIGN_OR_RETURN(expr::ExpressionAttributes attrs,
                           ReadExpressionAttributes(request, {}, {"ProjectionExpression"}));
  CRUDDUR_ASSIGN_OR_RETURN(std::optional<expr::Projection> projection,
                           ParseOptionalProjection(request, &attrs));
  CRUDDUR_RETURN_IF_ERROR(expr::CheckAllAttributesUsed(attrs));
  CRUDDUR_ASSIGN_OR_RETURN(auto table, FindTable(ctx, StringMember(request, "TableName")));
  CRUDDUR_ASSIGN_OR_RETURN(Item key, DecodeKey(*table, request["Key"]));
  bool consistent = BoolMember(request, "ConsistentRead", false);

  CRUDDUR_ASSIGN_OR_RETURN(std::optional<Item> item, ctx.engine->Get(*table, key));
  ConsumedCapacity cc{table->name};
  cc.table_units = ReadUnits(item ? ItemSize(*item) : 0, consistent);

  out->StartObject();
  if (item) {
    out->Key("Item");
    WriteItem(projection ? expr::ApplyProjection(*projection, *item) : *item, out);
  }
  cc.WriteMember(ReadCapacityMode(request), out);
  out->EndObject();
  return Status::Ok();
}

Status DeleteItem(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  static const Shape shape = WithMembers("DeleteItemInput", {NotNull(AttrMap("Key"))});
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, shape));
  CRUDDUR_RETURN_IF_ERROR(
      CheckExpressionMix(request, {"ConditionExpression"}, {"Expected", "ConditionalOperator"}));
  CRUDDUR_ASSIGN_OR_RETURN(ReturnValues rv, ReadReturnValues(request, {ReturnValues::kAllOld}));
  CRUDDUR_ASSIGN_OR_RETURN(
      expr::ExpressionAttributes attrs,
      ReadExpressionAttributes(request, {"ConditionExpression"}, {"ConditionExpression"}));
  CRUDDUR_ASSIGN_OR_RETURN(expr::Condition cond,
                           ParseOptionalCondition(request, "ConditionExpression", &attrs));
  CRUDDUR_RETURN_IF_ERROR(expr::CheckAllAttributesUsed(attrs));
  CRUDDUR_ASSIGN_OR_RETURN(auto table, FindTable(ctx, StringMember(request, "TableName")));
  CRUDDUR_RETURN_IF_ERROR(ReadLegacyExpected(request, &cond));
  CRUDDUR_ASSIGN_OR_RETURN(Item key, DecodeKey(*table, request["Key"]));

  SingleWrite write(ctx, table, key, ReadCapacityMode(request));
  CRUDDUR_ASSIGN_OR_RETURN(std::optional<Item> old, write.ReadCurrent());
  CRUDDUR_RETURN_IF_ERROR(CheckWriteCondition(cond, old, request));
  CRUDDUR_RETURN_IF_ERROR(write.Delete());

  out->StartObject();
  if (rv == ReturnValues::kAllOld && old) WriteAttributes(*old, out);
  write.capacity().WriteMember(ReadCapacityMode(request), out);
  write.WriteItemCollectionMetricsMember(request, out);
  out->EndObject();
  return Status::Ok();
}

Status UpdateItem(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  static const Shape shape =
      WithMembers("UpdateItemInput",
                  {NotNull(AttrMap("Key")), Str("UpdateExpression"), AttributeUpdatesShape()});
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, shape));
  CRUDDUR_RETURN_IF_ERROR(
      CheckExpressionMix(request, {"UpdateExpression", "ConditionExpression"},
                         {"AttributeUpdates", "Expected", "ConditionalOperator"}));
  CRUDDUR_ASSIGN_OR_RETURN(
      ReturnValues rv,
      ReadReturnValues(request, {ReturnValues::kAllOld, ReturnValues::kUpdatedOld,
                                 ReturnValues::kAllNew, ReturnValues::kUpdatedNew}));
  CRUDDUR_ASSIGN_OR_RETURN(
      expr::ExpressionAttributes attrs,
      ReadExpressionAttributes(request, {"UpdateExpression", "ConditionExpression"},
                               {"UpdateExpression", "ConditionExpression"}));
  expr::Update update;
  if (const json::Value* text = Member(request, "UpdateExpression")) {
    CRUDDUR_ASSIGN_OR_RETURN(
        update,
        expr::ParseUpdate(std::string_view(text->GetString(), text->GetStringLength()), &attrs));
  }
  CRUDDUR_ASSIGN_OR_RETURN(expr::Condition cond,
                           ParseOptionalCondition(request, "ConditionExpression", &attrs));
  CRUDDUR_RETURN_IF_ERROR(expr::CheckAllAttributesUsed(attrs));
  CRUDDUR_ASSIGN_OR_RETURN(auto table, FindTable(ctx, StringMember(request, "TableName")));
  CRUDDUR_RETURN_IF_ERROR(ReadLegacyExpected(request, &cond));
  const bool legacy_update = Member(request, "UpdateExpression") == nullptr;
  if (legacy_update) {
    CRUDDUR_ASSIGN_OR_RETURN(update, LegacyAttributeUpdates(request, table->key));
  }
  CRUDDUR_ASSIGN_OR_RETURN(Item key, DecodeKey(*table, request["Key"]));
  CRUDDUR_RETURN_IF_ERROR(CheckUpdateKeepsKey(*table, update));

  SingleWrite write(ctx, table, key, ReadCapacityMode(request));
  CRUDDUR_ASSIGN_OR_RETURN(std::optional<Item> old, write.ReadCurrent());
  CRUDDUR_RETURN_IF_ERROR(CheckWriteCondition(cond, old, request));
  Result<Item> applied = ApplyUpdateTo(*table, update, old, key);
  if (!applied.ok()) {
    return legacy_update ? LegacyUpdateStatus(applied.TakeStatus()) : applied.TakeStatus();
  }
  Item updated = std::move(applied).value();
  CRUDDUR_RETURN_IF_ERROR(write.Put(updated));

  out->StartObject();
  switch (rv) {
    case ReturnValues::kNone:
      break;
    case ReturnValues::kAllOld:
      if (old) WriteAttributes(*old, out);
      break;
    case ReturnValues::kAllNew:
      WriteAttributes(updated, out);
      break;
    case ReturnValues::kUpdatedOld:
      if (old) WriteAttributes(expr::ApplyProjection(update.written(), *old), out);
      break;
    case ReturnValues::kUpdatedNew:
      WriteAttributes(expr::ApplyProjection(update.written(), updated), out);
      break;
  }
  write.capacity().WriteMember(ReadCapacityMode(request), out);
  write.WriteItemCollectionMetricsMember(request, out);
  out->EndObject();
  return Status::Ok();
}

}  // namespace cruddur::dynamo::api
