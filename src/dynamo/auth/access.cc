// From a request to IAM checks. The mapping of operations to actions and resources follows the
// Service Authorization Reference for DynamoDB ("Actions defined by Amazon DynamoDB": each
// operation is its own action on the table, index or stream it names; ListTables and
// ListStreams take no resource) and "Using IAM with DynamoDB transactions" (the items of a
// transaction are authorized as the underlying GetItem/PutItem/UpdateItem/DeleteItem and
// dynamodb:ConditionCheckItem, with dynamodb:EnclosingOperation set). Condition keys follow
// "Using IAM policy conditions for fine-grained access control".
#include "dynamo/auth/access.h"

#include <optional>
#include <set>

#include "dynamo/expr/expr.h"
#include "dynamo/json/attribute_json.h"

namespace cruddur::dynamo::auth {
namespace {

constexpr std::string_view kLeadingKeys = "dynamodb:leadingkeys";
constexpr std::string_view kAttributes = "dynamodb:attributes";
// Bound on attribute names / key values gathered per check; DynamoDB's own request limits
// (100 items per transaction or BatchGetItem, 25 per BatchWriteItem) keep real requests far
// below it.
constexpr size_t kMaxKeyValues = 100000;

const json::Value* Member(const json::Value& obj, std::string_view name) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(rapidjson::StringRef(name.data(), name.size()));
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

std::string_view StringMember(const json::Value& obj, std::string_view name) {
  const json::Value* v = Member(obj, name);
  return v != nullptr && v->IsString() ? std::string_view(v->GetString(), v->GetStringLength())
                                       : std::string_view();
}

// Names and ARNs from the request are untrusted and not yet validated (the operation does
// that after authorization): cut them to a length no valid one exceeds, for messages.
constexpr size_t kMaxNameLength = 2048;
std::string Bounded(std::string_view s) { return std::string(s.substr(0, kMaxNameLength)); }

std::string TableArn(const ArnScope& scope, std::string_view table) {
  return "arn:aws:dynamodb:" + scope.region + ":" + scope.account_id + ":table/" + Bounded(table);
}

// The text of a key value as IAM compares it: S as is, N in canonical form, B in base64.
std::optional<std::string> KeyText(const AttributeValue& v) {
  switch (v.type) {
    case AttrType::kS:
      return v.str;
    case AttrType::kN:
      return v.num.ToString();
    case AttrType::kB:
      return Base64Encode(v.str);
    default:
      return std::nullopt;
  }
}

std::optional<std::string> KeyText(const json::Value* v) {
  if (v == nullptr) return std::nullopt;
  Result<AttributeValue> decoded = DecodeAttributeValue(*v);
  if (!decoded.ok()) return std::nullopt;
  return KeyText(*decoded);
}

// Gathers one check's condition keys; a set only becomes a key once something was added.
class KeyCollector {
 public:
  void Leading(std::optional<std::string> value) {
    if (value && leading_.size() < kMaxKeyValues) leading_.insert(std::move(*value));
  }
  void Attribute(std::string_view name) {
    if (attributes_.size() < kMaxKeyValues) attributes_.emplace(name);
  }
  // Names of a JSON object's members (an Item, a Key, AttributeUpdates, Expected, ...).
  void AttributesOf(const json::Value* obj) {
    if (obj == nullptr || !obj->IsObject()) return;
    for (const auto& m : obj->GetObject()) {
      Attribute(std::string_view(m.name.GetString(), m.name.GetStringLength()));
    }
  }
  void AttributesOfList(const json::Value* list) {  // AttributesToGet
    if (list == nullptr || !list->IsArray()) return;
    for (const auto& v : list->GetArray()) {
      if (v.IsString()) Attribute(std::string_view(v.GetString(), v.GetStringLength()));
    }
  }
  void Scalar(std::string key, std::string_view value) {
    if (!value.empty()) scalars_[std::move(key)] = {std::string(value)};
  }
  ConditionKeys Take() {
    ConditionKeys keys = std::move(scalars_);
    if (!leading_.empty()) keys[std::string(kLeadingKeys)].assign(leading_.begin(), leading_.end());
    if (!attributes_.empty()) {
      keys[std::string(kAttributes)].assign(attributes_.begin(), attributes_.end());
    }
    return keys;
  }

 private:
  std::set<std::string> leading_;
  std::set<std::string> attributes_;
  ConditionKeys scalars_;
};

// The request's ExpressionAttributeNames/Values, for parsing its expressions. Values that do
// not decode are left out: the operation reports them.
expr::ExpressionAttributes ExpressionAttributesOf(const json::Value& request) {
  expr::ExpressionAttributes attrs;
  if (const json::Value* names = Member(request, "ExpressionAttributeNames");
      names != nullptr && names->IsObject()) {
    for (const auto& m : names->GetObject()) {
      if (m.value.IsString()) attrs.names.emplace(m.name.GetString(), m.value.GetString());
    }
  }
  if (const json::Value* values = Member(request, "ExpressionAttributeValues");
      values != nullptr && values->IsObject()) {
    for (const auto& m : values->GetObject()) {
      Result<AttributeValue> v = DecodeAttributeValue(m.value);
      if (v.ok()) attrs.values.emplace(m.name.GetString(), std::move(v).value());
    }
  }
  return attrs;
}

// Attribute names from the expressions and legacy parameters an item-level request may carry.
void CollectExpressionNames(const json::Value& request, expr::ExpressionAttributes* attrs,
                            KeyCollector* keys) {
  std::string_view projection = StringMember(request, "ProjectionExpression");
  if (!projection.empty()) {
    Result<expr::Projection> parsed = expr::ParseProjection(projection, attrs);
    if (parsed.ok()) {
      for (const expr::DocumentPath& path : parsed->paths()) keys->Attribute(path.top_level_name());
    }
  }
  for (std::string_view param : {"ConditionExpression", "FilterExpression"}) {
    std::string_view text = StringMember(request, param);
    if (text.empty()) continue;
    Result<expr::Condition> parsed = expr::ParseCondition(text, param, attrs);
    if (parsed.ok()) {
      for (const std::string& name : parsed->top_level_names()) keys->Attribute(name);
    }
  }
  std::string_view update = StringMember(request, "UpdateExpression");
  if (!update.empty()) {
    Result<expr::Update> parsed = expr::ParseUpdate(update, attrs);
    if (parsed.ok()) {
      for (const std::string& name : parsed->top_level_names()) keys->Attribute(name);
    }
  }
  keys->AttributesOfList(Member(request, "AttributesToGet"));
  for (std::string_view param : {"AttributeUpdates", "Expected", "QueryFilter", "ScanFilter"}) {
    keys->AttributesOf(Member(request, param));
  }
}

void CollectScalars(const json::Value& request, KeyCollector* keys) {
  keys->Scalar("dynamodb:select", StringMember(request, "Select"));
  keys->Scalar("dynamodb:returnvalues", StringMember(request, "ReturnValues"));
  keys->Scalar("dynamodb:returnconsumedcapacity", StringMember(request, "ReturnConsumedCapacity"));
}

// LeadingKeys and key attribute names of one Key or Item on `table`.
void CollectKey(const json::Value* key_or_item, const storage::TableDef* table,
                KeyCollector* keys) {
  if (key_or_item == nullptr || !key_or_item->IsObject()) return;
  if (table != nullptr) keys->Leading(KeyText(Member(*key_or_item, table->key.hash.name)));
}

// The checks' building block for one item-level request (GetItem, PutItem, UpdateItem,
// DeleteItem, and the items of a transaction): `item_member` is "Key" or "Item".
ConditionKeys ItemKeys(const json::Value& request, std::string_view item_member,
                       const storage::Engine& engine) {
  KeyCollector keys;
  std::shared_ptr<const storage::TableDef> table =
      engine.GetTable(StringMember(request, "TableName"));
  const json::Value* item = Member(request, item_member);
  CollectKey(item, table.get(), &keys);
  keys.AttributesOf(item);
  expr::ExpressionAttributes attrs = ExpressionAttributesOf(request);
  CollectExpressionNames(request, &attrs, &keys);
  CollectScalars(request, &keys);
  return keys.Take();
}

ConditionKeys QueryScanKeys(const json::Value& request, bool is_query,
                            const storage::Engine& engine) {
  KeyCollector keys;
  expr::ExpressionAttributes attrs = ExpressionAttributesOf(request);
  if (is_query) {
    std::shared_ptr<const storage::TableDef> table =
        engine.GetTable(StringMember(request, "TableName"));
    const storage::KeySchema* schema = table ? &table->key : nullptr;
    std::string_view index = StringMember(request, "IndexName");
    if (table && !index.empty()) {
      const storage::IndexDef* def = table->FindIndex(index);
      schema = def ? &def->key : nullptr;
    }
    if (schema != nullptr) {
      std::string_view range = schema->range ? std::string_view(schema->range->name) : "";
      std::string_view text = StringMember(request, "KeyConditionExpression");
      if (!text.empty()) {
        Result<expr::KeyCondition> parsed =
            expr::ParseKeyCondition(text, &attrs, schema->hash.name, range);
        if (parsed.ok()) {
          keys.Leading(KeyText(parsed->hash_value));
          keys.Attribute(schema->hash.name);
          if (parsed->sort) keys.Attribute(range);
        }
      }
      // The legacy form: {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [v]}}.
      if (const json::Value* legacy = Member(request, "KeyConditions");
          legacy != nullptr && legacy->IsObject()) {
        keys.AttributesOf(legacy);
        const json::Value* hash = Member(*legacy, schema->hash.name);
        const json::Value* list = hash ? Member(*hash, "AttributeValueList") : nullptr;
        if (list != nullptr && list->IsArray() && list->Size() == 1) {
          keys.Leading(KeyText(&(*list)[0]));
        }
      }
    }
  }
  CollectExpressionNames(request, &attrs, &keys);
  CollectScalars(request, &keys);
  return keys.Take();
}

void BatchGetChecks(const json::Value& request, const storage::Engine& engine,
                    const ArnScope& scope, std::vector<AccessCheck>* out) {
  const json::Value* items = Member(request, "RequestItems");
  if (items == nullptr || !items->IsObject() || items->ObjectEmpty()) {
    out->push_back({"dynamodb:BatchGetItem", TableArn(scope, ""), {}});
    return;
  }
  for (const auto& m : items->GetObject()) {
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    std::shared_ptr<const storage::TableDef> table = engine.GetTable(name);
    KeyCollector keys;
    if (const json::Value* list = Member(m.value, "Keys"); list != nullptr && list->IsArray()) {
      for (const auto& key : list->GetArray()) {
        CollectKey(&key, table.get(), &keys);
        keys.AttributesOf(&key);
      }
    }
    expr::ExpressionAttributes attrs = ExpressionAttributesOf(m.value);
    CollectExpressionNames(m.value, &attrs, &keys);
    CollectScalars(request, &keys);
    out->push_back({"dynamodb:BatchGetItem", TableArn(scope, name), keys.Take()});
  }
}

void BatchWriteChecks(const json::Value& request, const storage::Engine& engine,
                      const ArnScope& scope, std::vector<AccessCheck>* out) {
  const json::Value* items = Member(request, "RequestItems");
  if (items == nullptr || !items->IsObject() || items->ObjectEmpty()) {
    out->push_back({"dynamodb:BatchWriteItem", TableArn(scope, ""), {}});
    return;
  }
  for (const auto& m : items->GetObject()) {
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    std::shared_ptr<const storage::TableDef> table = engine.GetTable(name);
    KeyCollector keys;
    if (m.value.IsArray()) {
      for (const auto& write : m.value.GetArray()) {
        const json::Value* put = Member(write, "PutRequest");
        const json::Value* del = Member(write, "DeleteRequest");
        const json::Value* item = put ? Member(*put, "Item") : del ? Member(*del, "Key") : nullptr;
        CollectKey(item, table.get(), &keys);
        keys.AttributesOf(item);
      }
    }
    CollectScalars(request, &keys);
    out->push_back({"dynamodb:BatchWriteItem", TableArn(scope, name), keys.Take()});
  }
}

void TransactChecks(const json::Value& request, bool is_write, const storage::Engine& engine,
                    const ArnScope& scope, std::vector<AccessCheck>* out) {
  std::string_view enclosing = is_write ? "TransactWriteItems" : "TransactGetItems";
  static constexpr std::pair<std::string_view, std::string_view> kWriteKinds[] = {
      {"Put", "dynamodb:PutItem"},
      {"Update", "dynamodb:UpdateItem"},
      {"Delete", "dynamodb:DeleteItem"},
      {"ConditionCheck", "dynamodb:ConditionCheckItem"},
  };
  static constexpr std::pair<std::string_view, std::string_view> kGetKinds[] = {
      {"Get", "dynamodb:GetItem"},
  };
  using Kinds = std::span<const std::pair<std::string_view, std::string_view>>;
  Kinds kinds = is_write ? Kinds(kWriteKinds) : Kinds(kGetKinds);
  const json::Value* items = Member(request, "TransactItems");
  size_t before = out->size();
  if (items != nullptr && items->IsArray()) {
    for (const auto& entry : items->GetArray()) {
      for (const auto& [kind, action] : kinds) {
        const json::Value* op = Member(entry, kind);
        if (op == nullptr) continue;
        ConditionKeys keys = ItemKeys(*op, kind == "Put" ? "Item" : "Key", engine);
        keys["dynamodb:enclosingoperation"] = {std::string(enclosing)};
        out->push_back(
            {std::string(action), TableArn(scope, StringMember(*op, "TableName")), keys});
      }
    }
  }
  if (out->size() == before) {
    // Nothing recognizable: still a check, so that a malformed transaction is not a way past
    // authorization.
    out->push_back({std::string(kinds.front().second),
                    TableArn(scope, ""),
                    {{"dynamodb:enclosingoperation", {std::string(enclosing)}}}});
  }
}

std::vector<AccessCheck> StreamsAccess(std::string_view operation, const json::Value& request) {
  std::string action = "dynamodb:" + std::string(operation);
  if (operation == "ListStreams") return {{action, "*", {}}};
  if (operation == "GetRecords") {
    // Iterators begin with the stream ARN (dynamo/api/streams.cc: "<arn>|1|<payload>").
    std::string_view iterator = StringMember(request, "ShardIterator");
    return {{action, Bounded(iterator.substr(0, iterator.find("|1|"))), {}}};
  }
  return {{action, Bounded(StringMember(request, "StreamArn")), {}}};
}

}  // namespace

std::vector<AccessCheck> DescribeAccess(ApiFamily family, std::string_view operation,
                                        const json::Value& request, const storage::Engine& engine,
                                        const ArnScope& scope) {
  if (family == ApiFamily::kStreams) return StreamsAccess(operation, request);
  std::string action = "dynamodb:" + std::string(operation);
  std::string_view table = StringMember(request, "TableName");
  std::vector<AccessCheck> out;
  if (operation == "ListTables" || operation == "DescribeLimits" ||
      operation == "DescribeEndpoints") {
    out.push_back({action, "*", {}});
  } else if (operation == "TagResource" || operation == "UntagResource" ||
             operation == "ListTagsOfResource") {
    // These name their table by ARN, not by TableName.
    out.push_back({action, Bounded(StringMember(request, "ResourceArn")), {}});
  } else if (operation == "GetItem" || operation == "DeleteItem" || operation == "UpdateItem") {
    out.push_back({action, TableArn(scope, table), ItemKeys(request, "Key", engine)});
  } else if (operation == "PutItem") {
    out.push_back({action, TableArn(scope, table), ItemKeys(request, "Item", engine)});
  } else if (operation == "Query" || operation == "Scan") {
    std::string resource = TableArn(scope, table);
    std::string_view index = StringMember(request, "IndexName");
    if (!index.empty()) resource += "/index/" + Bounded(index);
    out.push_back({action, resource, QueryScanKeys(request, operation == "Query", engine)});
  } else if (operation == "BatchGetItem") {
    BatchGetChecks(request, engine, scope, &out);
  } else if (operation == "BatchWriteItem") {
    BatchWriteChecks(request, engine, scope, &out);
  } else if (operation == "TransactGetItems" || operation == "TransactWriteItems") {
    TransactChecks(request, operation == "TransactWriteItems", engine, scope, &out);
  } else {
    // Table-level operations (CreateTable, DescribeTable, UpdateTable, DeleteTable, ...).
    out.push_back({action, TableArn(scope, table), {}});
  }
  return out;
}

Status Authorize(const Principal& principal, std::span<const AccessCheck> checks) {
  for (const AccessCheck& check : checks) {
    Decision decision = Evaluate(principal.policies, {check.action, check.resource, &check.keys});
    if (decision == Decision::kAllow) continue;
    std::string message = "User: " + principal.arn +
                          " is not authorized to perform: " + check.action +
                          " on resource: " + check.resource;
    if (decision == Decision::kExplicitDeny) {
      message += " with an explicit deny in an identity-based policy";
    } else {
      message += " because no identity-based policy allows the " + check.action + " action";
    }
    return Status(ErrorCode::kAccessDenied, std::move(message));
  }
  return Status::Ok();
}

}  // namespace cruddur::dynamo::auth
