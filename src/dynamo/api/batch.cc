// BatchWriteItem and BatchGetItem (API Reference, "BatchWriteItem", "BatchGetItem").
//
// BatchWriteItem validates every request of every table before writing anything, then applies
// the whole batch as one storage WriteBatch over all its keys (locks taken together, one atomic
// commit). DynamoDB only promises that each put or delete is atomic on its own; doing the whole
// batch at once is stronger, and it is what keeps a failed batch from leaving half of its items
// written (the seed's batch writer was not atomic). Every request is therefore processed, and
// UnprocessedItems is always empty.
//
// BatchGetItem reads every key from one consistent snapshot (Engine::GetMany). The response is
// capped at 16 MB of items; keys past the cap are returned in UnprocessedKeys with the table's
// read parameters, for the client to ask again.
//
// Validation texts and order follow dynalite's validations/batch{Write,Get}Item.js and
// actions/batch{Write,Get}Item.js (recorded against the live service); the texts dynalite does
// not have come from DynamoDB Local.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dynamo/api/api.h"
#include "dynamo/api/common.h"
#include "dynamo/api/item_write.h"
#include "dynamo/api/request_shape.h"
#include "dynamo/json/attribute_json.h"

namespace cruddur::dynamo::api {
namespace {

constexpr size_t kMaxBatchWriteRequests = 25;
constexpr size_t kMaxBatchGetKeys = 100;
// API Reference, BatchGetItem: "A single operation can retrieve up to 16 MB of data".
constexpr size_t kMaxBatchGetBytes = 16 * 1024 * 1024;

std::string_view NameOf(const json::Value& v) { return {v.GetString(), v.GetStringLength()}; }

bool IsTableName(std::string_view name) {
  if (name.size() < 3 || name.size() > 255) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// RequestItems is a map keyed by table name; the shape checker validates values, not keys.
Status CheckTableNameKeys(const json::Value& request_items) {
  for (const auto& m : request_items.GetObject()) {
    if (!IsTableName(NameOf(m.name))) {
      return ValidationError(
          "1 validation error detected: Value '" + std::string(NameOf(m.name)) +
          "' at 'requestItems' failed to satisfy constraint: Map keys must satisfy constraint: "
          "[Member must have length less than or equal to 255, Member must have length greater "
          "than or equal to 3, Member must satisfy regular expression pattern: "
          "[a-zA-Z0-9_.-]+]");
    }
  }
  return Status::Ok();
}

Status DuplicateKeys() { return ValidationError("Provided list of item keys contains duplicates"); }

struct WriteOp {
  std::shared_ptr<const storage::TableDef> table;
  Item key;
  std::optional<Item> put;  // nullopt: delete
};

const Shape& BatchWriteShape() {
  static const Shape shape = Struct(
      "BatchWriteItemInput",
      {Length(NotNull(Map(
                  "RequestItems",
                  List("member", Struct("WriteRequest",
                                        {Struct("PutRequest", {NotNull(AttrMap("Item"))}),
                                         Struct("DeleteRequest", {NotNull(AttrMap("Key"))})})))),
              1, std::nullopt),
       Enum(Str("ReturnConsumedCapacity"), {"INDEXES", "TOTAL", "NONE"}),
       Enum(Str("ReturnItemCollectionMetrics"), {"SIZE", "NONE"})});
  return shape;
}

const Shape& BatchGetShape() {
  static const Shape shape = Struct(
      "BatchGetItemInput",
      {Length(NotNull(
                  Map("RequestItems",
                      Struct("KeysAndAttributes",
                             {Length(NotNull(List("Keys", AttrMap("member"))), 1, kMaxBatchGetKeys),
                              Length(List("AttributesToGet", Str("member")), 1, 255),
                              Bool("ConsistentRead"), Str("ProjectionExpression"),
                              Map("ExpressionAttributeNames", Str("member"))}))),
              1, std::nullopt),
       Enum(Str("ReturnConsumedCapacity"), {"INDEXES", "TOTAL", "NONE"})});
  return shape;
}

}  // namespace

Status BatchWriteItem(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, BatchWriteShape()));
  const json::Value& request_items = request["RequestItems"];
  CRUDDUR_RETURN_IF_ERROR(CheckTableNameKeys(request_items));

  // Request-level checks, before any table is looked up (dynalite validations).
  size_t total = 0;
  std::vector<std::pair<std::string_view, std::vector<const json::Value*>>> per_table;
  for (const auto& m : request_items.GetObject()) {
    std::string_view table = NameOf(m.name);
    if (m.value.Empty()) {
      return ValidationError("The batch write request list for a table cannot be null or empty: " +
                             std::string(table));
    }
    total += m.value.Size();
    std::vector<const json::Value*> requests;
    for (const auto& r : m.value.GetArray()) {
      bool has_put = Member(r, "PutRequest") != nullptr;
      bool has_delete = Member(r, "DeleteRequest") != nullptr;
      if (has_put == has_delete) {
        // The service's text for a WriteRequest with neither or both members.
        return ValidationError(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of "
            "the supported datatypes");
      }
      requests.push_back(&r);
    }
    per_table.emplace_back(table, std::move(requests));
  }
  if (total > kMaxBatchWriteRequests) {
    return ValidationError("Too many items requested for the BatchWriteItem call");
  }
  std::vector<std::vector<std::optional<Item>>> decoded_puts;
  for (const auto& [table, requests] : per_table) {
    auto& puts = decoded_puts.emplace_back();
    for (const json::Value* r : requests) {
      if (const json::Value* put = Member(*r, "PutRequest")) {
        CRUDDUR_ASSIGN_OR_RETURN(Item item, DecodeItem((*put)["Item"]));
        if (ItemSize(item) > kMaxItemBytes) {
          return ValidationError("Item size has exceeded the maximum allowed size");
        }
        puts.emplace_back(std::move(item));
      } else {
        // Only the values here; the key is checked against its table below.
        CRUDDUR_RETURN_IF_ERROR(DecodeItem((*Member(*r, "DeleteRequest"))["Key"]).status());
        puts.emplace_back(std::nullopt);
      }
    }
  }

  // Per table: the table exists, each item/key fits its schema, no key twice.
  std::vector<WriteOp> ops;
  for (size_t t = 0; t < per_table.size(); ++t) {
    const auto& [table_name, requests] = per_table[t];
    CRUDDUR_ASSIGN_OR_RETURN(auto table, FindTable(ctx, table_name));
    for (size_t i = 0; i < requests.size(); ++i) {
      WriteOp op{table, {}, std::nullopt};
      if (decoded_puts[t][i]) {
        Item& item = *decoded_puts[t][i];
        Status st = CheckItemForWrite(*table, item);
        if (!st.ok()) {
          // dynalite actions/batchWriteItem.js: key errors of a PutRequest read as a Key error.
          const std::string& m = st.message();
          if (m.find("Missing the key") != std::string::npos ||
              m.find("Type mismatch for key") != std::string::npos) {
            return ValidationError("The provided key element does not match the schema");
          }
          return st;
        }
        op.key = ExtractKey(table->key, item);
        op.put = std::move(item);
      } else {
        CRUDDUR_ASSIGN_OR_RETURN(
            op.key, DecodeKey(*table, (*Member(*requests[i], "DeleteRequest"))["Key"]));
      }
      for (const auto& earlier : ops) {
        if (earlier.table->name == table->name && earlier.key == op.key) return DuplicateKeys();
      }
      ops.push_back(std::move(op));
    }
  }

  std::vector<std::pair<std::shared_ptr<const storage::TableDef>, Item>> keys;
  keys.reserve(ops.size());
  for (const auto& op : ops) keys.emplace_back(op.table, op.key);
  auto batch = ctx.engine->BeginWrite(std::move(keys));
  std::vector<ConsumedCapacity> capacity;
  for (auto& op : ops) {
    CRUDDUR_ASSIGN_OR_RETURN(std::optional<Item> old, batch->Read(*op.table, op.key));
    AddCapacity(WriteCapacity(*op.table, old, op.put), 1, &CapacityFor(&capacity, op.table->name));
    if (op.put) {
      batch->Put(*op.table, std::move(*op.put));
    } else {
      batch->Delete(*op.table, op.key);
    }
  }
  Status st = batch->Commit();
  if (st.code() == ErrorCode::kResourceNotFound)
    return NotFoundError("Requested resource not found");
  CRUDDUR_RETURN_IF_ERROR(st);
  ItemCollectionMetricsList collections;
  if (WantsItemCollectionMetrics(request)) {
    for (const auto& op : ops) collections.Add(*batch, *op.table, op.key);
  }

  out->StartObject();
  out->Key("UnprocessedItems");
  out->StartObject();
  out->EndObject();
  WriteCapacityList(ReadCapacityMode(request), capacity, out);
  collections.WriteMember(out);
  out->EndObject();
  return Status::Ok();
}

Status BatchGetItem(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, BatchGetShape()));
  const json::Value& request_items = request["RequestItems"];
  CRUDDUR_RETURN_IF_ERROR(CheckTableNameKeys(request_items));

  struct TableRead {
    std::string_view name;
    const json::Value* params = nullptr;
    std::optional<expr::Projection> projection;
    bool consistent = false;
    std::vector<Item> keys;
    std::shared_ptr<const storage::TableDef> table;
  };
  std::vector<TableRead> reads;
  size_t total = 0;
  for (const auto& m : request_items.GetObject()) {
    TableRead& r = reads.emplace_back();
    r.name = NameOf(m.name);
    r.params = &m.value;
    if (Member(m.value, "ProjectionExpression") != nullptr &&
        Member(m.value, "AttributesToGet") != nullptr) {
      return ValidationError(
          "Can not use both expression and non-expression parameters in the same request: "
          "Non-expression parameters: {AttributesToGet} Expression parameters: "
          "{ProjectionExpression}");
    }
    CRUDDUR_ASSIGN_OR_RETURN(expr::ExpressionAttributes attrs,
                             ReadExpressionAttributes(m.value, {}, {"ProjectionExpression"}));
    CRUDDUR_ASSIGN_OR_RETURN(r.projection, ParseOptionalProjection(m.value, &attrs));
    CRUDDUR_RETURN_IF_ERROR(expr::CheckAllAttributesUsed(attrs));
    r.consistent = BoolMember(m.value, "ConsistentRead", false);
    for (const auto& k : m.value["Keys"].GetArray()) {
      CRUDDUR_ASSIGN_OR_RETURN(Item key, DecodeItem(k));
      for (const auto& seen : r.keys) {
        if (seen == key) return DuplicateKeys();
      }
      r.keys.push_back(std::move(key));
      if (++total > kMaxBatchGetKeys) {
        return ValidationError("Too many items requested for the BatchGetItem call");
      }
    }
  }
  std::vector<std::pair<const storage::TableDef*, Item>> gets;
  for (auto& r : reads) {
    CRUDDUR_ASSIGN_OR_RETURN(r.table, FindTable(ctx, r.name));
    for (const auto& k : (*r.params)["Keys"].GetArray()) {
      CRUDDUR_ASSIGN_OR_RETURN(Item key, DecodeKey(*r.table, k));
      gets.emplace_back(r.table.get(), std::move(key));
    }
  }
  CRUDDUR_ASSIGN_OR_RETURN(std::vector<std::optional<Item>> found, ctx.engine->GetMany(gets));

  CapacityMode mode = ReadCapacityMode(request);
  std::vector<ConsumedCapacity> capacity;
  size_t response_bytes = 0;
  size_t next = 0;
  std::vector<std::vector<size_t>> unprocessed(reads.size());
  out->StartObject();
  out->Key("Responses");
  out->StartObject();
  for (size_t t = 0; t < reads.size(); ++t) {
    const TableRead& r = reads[t];
    WriteKeyValue(out, r.name);
    out->StartArray();
    ConsumedCapacity& cc = CapacityFor(&capacity, r.table->name);
    for (size_t i = 0; i < r.keys.size(); ++i, ++next) {
      const std::optional<Item>& item = found[next];
      if (!item) {
        cc.table_units += ReadUnits(0, r.consistent);
        continue;
      }
      Item projected = r.projection ? expr::ApplyProjection(*r.projection, *item) : *item;
      size_t size = ItemSize(projected);
      if (response_bytes + size > kMaxBatchGetBytes) {
        unprocessed[t].push_back(i);
        continue;
      }
      response_bytes += size;
      cc.table_units += ReadUnits(ItemSize(*item), r.consistent);
      WriteItem(projected, out);
    }
    out->EndArray();
  }
  out->EndObject();

  // Unprocessed keys are returned with the parameters needed to ask for them again.
  out->Key("UnprocessedKeys");
  out->StartObject();
  for (size_t t = 0; t < reads.size(); ++t) {
    if (unprocessed[t].empty()) continue;
    const TableRead& r = reads[t];
    WriteKeyValue(out, r.name);
    out->StartObject();
    out->Key("Keys");
    out->StartArray();
    for (size_t i : unprocessed[t]) WriteItem(r.keys[i], out);
    out->EndArray();
    for (const char* param : {"ProjectionExpression", "ExpressionAttributeNames", "AttributesToGet",
                              "ConsistentRead"}) {
      if (const json::Value* v = Member(*r.params, param)) {
        out->Key(param);
        v->Accept(*out);
      }
    }
    out->EndObject();
  }
  out->EndObject();
  WriteCapacityList(mode, capacity, out);
  out->EndObject();
  return Status::Ok();
}

}  // namespace cruddur::dynamo::api
