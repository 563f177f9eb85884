#include "dynamo/api/common.h"

#include <cmath>

#include "dynamo/json/attribute_json.h"

namespace cruddur::dynamo::api {

const json::Value* Member(const json::Value& obj, std::string_view name) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(json::Value(rapidjson::StringRef(name.data(), name.size())));
  if (it == obj.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

std::string_view StringMember(const json::Value& obj, std::string_view name) {
  const json::Value* v = Member(obj, name);
  if (v == nullptr || !v->IsString()) return {};
  return {v->GetString(), v->GetStringLength()};
}

std::optional<int64_t> LongMember(const json::Value& obj, std::string_view name) {
  const json::Value* v = Member(obj, name);
  if (v == nullptr || !v->IsNumber()) return std::nullopt;
  if (v->IsInt64()) return v->GetInt64();
  // The service truncates fractional numbers for integer members; clamp huge ones.
  double d = std::floor(v->GetDouble());
  if (d >= 9.2e18) return INT64_MAX;
  if (d <= -9.2e18) return INT64_MIN;
  return static_cast<int64_t>(d);
}

bool BoolMember(const json::Value& obj, std::string_view name, bool if_absent) {
  const json::Value* v = Member(obj, name);
  if (v == nullptr || !v->IsBool()) return if_absent;
  return v->GetBool();
}

Result<std::shared_ptr<const storage::TableDef>> FindTable(const ApiContext& ctx,
                                                           std::string_view name) {
  auto table = ctx.engine->GetTable(name);
  if (!table) return NotFoundError("Requested resource not found");
  return table;
}

Result<std::shared_ptr<const storage::TableDef>> FindTableForControlPlane(const ApiContext& ctx,
                                                                          std::string_view name) {
  auto table = ctx.engine->GetTable(name);
  if (!table) {
    return NotFoundError("Requested resource not found: Table: " + std::string(name) +
                         " not found");
  }
  return table;
}

std::string TableArn(const ApiContext& ctx, std::string_view table) {
  return "arn:aws:dynamodb:" + ctx.region + ":" + ctx.account_id + ":table/" + std::string(table);
}

namespace {

size_t KeyValueBytes(const AttributeValue& v) {
  return v.type == AttrType::kN ? AttributeValueSize(v) : v.str.size();
}

// The AWS texts for key values that break the key size limits (API Reference, PutItem:
// "the partition key ... maximum length of 2048 bytes ... sort key ... 1024 bytes").
Status CheckKeySizes(const storage::KeySchema& schema, const Item& key) {
  auto h = key.find(schema.hash.name);
  if (h != key.end() && KeyValueBytes(h->second) > kMaxHashKeyBytes) {
    return ValidationError(
        "One or more parameter values were invalid: Size of hashkey has exceeded the maximum "
        "size limit of2048 bytes");
  }
  if (schema.range) {
    auto r = key.find(schema.range->name);
    if (r != key.end() && KeyValueBytes(r->second) > kMaxRangeKeyBytes) {
      return ValidationError(
          "One or more parameter values were invalid: Aggregated size of all range keys has "
          "exceeded the size limit of 1024 bytes");
    }
  }
  return Status::Ok();
}

bool IsEmptyKeyValue(const AttributeValue& v) {
  return (v.type == AttrType::kS || v.type == AttrType::kB) && v.str.empty();
}

// "empty string value" / "empty binary value", as the service words it per type.
std::string EmptyKeyText(const AttributeValue& v) {
  return v.type == AttrType::kB ? "empty binary value" : "empty string value";
}

Status EmptyKeyError(const std::string& name, const AttributeValue& v) {
  return ValidationError(
      "One or more parameter values are not valid. The AttributeValue for a key attribute "
      "cannot contain an " +
      EmptyKeyText(v) + ". Key: " + name);
}

}  // namespace

Status CheckKeyValueNotEmpty(const storage::IndexDef* index, const std::string& name,
                             const AttributeValue& value) {
  if (!IsEmptyKeyValue(value)) return Status::Ok();
  if (index == nullptr) return EmptyKeyError(name, value);
  return ValidationError(
      "One or more parameter values are not valid. A value specified for a secondary index key "
      "is not supported. The AttributeValue for a key attribute cannot contain an " +
      EmptyKeyText(value) + ". IndexName: " + index->name + ", IndexKey: " + name);
}

Result<Item> DecodeKey(const storage::TableDef& table, const json::Value& key_json) {
  CRUDDUR_ASSIGN_OR_RETURN(Item key, DecodeItem(key_json));
  const storage::KeySchema& schema = table.key;
  size_t expected = schema.range ? 2 : 1;
  // GetItem/DeleteItem/UpdateItem answer a key with missing, extra or mistyped attributes with
  // one message (API Reference, "Key": "you must provide all of the attributes").
  auto matches = [&](const storage::KeyAttribute& attr) {
    auto it = key.find(attr.name);
    return it != key.end() && it->second.type == attr.type;
  };
  if (key.size() != expected || !matches(schema.hash) ||
      (schema.range && !matches(*schema.range))) {
    return ValidationError("The provided key element does not match the schema");
  }
  for (const auto& [name, value] : key) {
    if (IsEmptyKeyValue(value)) return EmptyKeyError(name, value);
  }
  CRUDDUR_RETURN_IF_ERROR(CheckKeySizes(schema, key));
  return key;
}

Status CheckItemForWrite(const storage::TableDef& table, const Item& item) {
  auto check_key = [&](const storage::KeyAttribute& attr) -> Status {
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
    if (IsEmptyKeyValue(it->second)) return EmptyKeyError(attr.name, it->second);
    return Status::Ok();
  };
  CRUDDUR_RETURN_IF_ERROR(check_key(table.key.hash));
  if (table.key.range) CRUDDUR_RETURN_IF_ERROR(check_key(*table.key.range));
  CRUDDUR_RETURN_IF_ERROR(CheckKeySizes(table.key, item));

  // Index key attributes are optional (sparse indexes) but, when present, must have the
  // index's type and must not be empty.
  auto check_index = [&](const storage::IndexDef& index) -> Status {
    std::vector<const storage::KeyAttribute*> attrs = {&index.key.hash};
    if (index.key.range) attrs.push_back(&*index.key.range);
    for (const storage::KeyAttribute* attr : attrs) {
      auto it = item.find(attr->name);
      if (it == item.end()) continue;
      if (it->second.type != attr->type) {
        return ValidationError(
            "One or more parameter values were invalid: Type mismatch for Index Key " + attr->name +
            " Expected: " + std::string(AttrTypeName(attr->type)) +
            " Actual: " + std::string(AttrTypeName(it->second.type)) + " IndexName: " + index.name);
      }
      CRUDDUR_RETURN_IF_ERROR(CheckKeyValueNotEmpty(&index, attr->name, it->second));
    }
    return Status::Ok();
  };
  for (const auto& index : table.gsis) CRUDDUR_RETURN_IF_ERROR(check_index(index));
  for (const auto& index : table.lsis) CRUDDUR_RETURN_IF_ERROR(check_index(index));

  if (ItemSize(item) > kMaxItemBytes) {
    return ValidationError("Item size has exceeded the maximum allowed size");
  }
  return Status::Ok();
}

Status CheckUpdatedItem(const storage::TableDef& table, const Item& item) {
  // UpdateItem words an empty index key its own way, naming neither index nor attribute
  // (DynamoDB Local; the same request as a PutItem gets CheckItemForWrite's text).
  for (const auto* indexes : {&table.gsis, &table.lsis}) {
    for (const auto& index : *indexes) {
      for (const auto* attr : {&index.key.hash, index.key.range ? &*index.key.range : nullptr}) {
        if (attr == nullptr) continue;
        auto it = item.find(attr->name);
        if (it != item.end() && it->second.type == attr->type && IsEmptyKeyValue(it->second)) {
          return ValidationError(
              "One or more parameter values are not valid. The update expression attempted to "
              "update a secondary index key to a value that is not supported. The AttributeValue "
              "for a key attribute cannot contain an " +
              EmptyKeyText(it->second) + ".");
        }
      }
    }
  }
  return CheckItemForWrite(table, item);
}

Item ExtractKey(const storage::KeySchema& schema, const Item& item) {
  Item key;
  auto copy = [&](const std::string& name) {
    auto it = item.find(name);
    if (it != item.end()) key.emplace(it->first, it->second);
  };
  copy(schema.hash.name);
  if (schema.range) copy(schema.range->name);
  return key;
}

namespace {

bool IsPlaceholderKey(std::string_view key, char sigil) {
  if (key.size() < 2 || key[0] != sigil) return false;
  for (char c : key.substr(1)) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string JoinWith(const std::vector<std::string_view>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

}  // namespace

Result<expr::ExpressionAttributes> ReadExpressionAttributes(
    const json::Value& request, const std::vector<std::string_view>& value_expressions,
    const std::vector<std::string_view>& all_expressions) {
  expr::ExpressionAttributes attrs;
  const json::Value* names = Member(request, "ExpressionAttributeNames");
  const json::Value* values = Member(request, "ExpressionAttributeValues");

  bool any_expression = false;
  for (auto p : all_expressions) any_expression = any_expression || Member(request, p) != nullptr;
  if (names != nullptr && !any_expression) {
    return ValidationError("ExpressionAttributeNames can only be specified when using expressions");
  }
  bool any_value_expression = false;
  for (auto p : value_expressions) {
    any_value_expression = any_value_expression || Member(request, p) != nullptr;
  }
  if (values != nullptr && !any_value_expression) {
    return ValidationError(
        "ExpressionAttributeValues can only be specified when using expressions: " +
        JoinWith(value_expressions, " and ") + (value_expressions.size() > 1 ? " are" : " is") +
        " null");
  }

  if (names != nullptr) {
    if (names->MemberCount() == 0) {
      return ValidationError("ExpressionAttributeNames must not be empty");
    }
    for (const auto& m : names->GetObject()) {
      std::string_view key(m.name.GetString(), m.name.GetStringLength());
      if (!IsPlaceholderKey(key, '#')) {
        return ValidationError(
            "ExpressionAttributeNames contains invalid key: Syntax error; key: \"" +
            std::string(key) + "\"");
      }
      attrs.names.emplace(std::string(key),
                          std::string(m.value.GetString(), m.value.GetStringLength()));
    }
  }
  if (values != nullptr) {
    if (values->MemberCount() == 0) {
      return ValidationError("ExpressionAttributeValues must not be empty");
    }
    for (const auto& m : values->GetObject()) {
      std::string_view key(m.name.GetString(), m.name.GetStringLength());
      if (!IsPlaceholderKey(key, ':')) {
        return ValidationError(
            "ExpressionAttributeValues contains invalid key: Syntax error; key: \"" +
            std::string(key) + "\"");
      }
      auto value = DecodeAttributeValue(m.value);
      if (!value.ok()) {
        if (value.status().code() != ErrorCode::kValidation) return value.TakeStatus();
        return ValidationError("ExpressionAttributeValues contains invalid value: " +
                               value.status().message() + " for key " + std::string(key));
      }
      attrs.values.emplace(std::string(key), std::move(value).value());
    }
  }
  return attrs;
}

Status CheckExpressionMix(const json::Value& request,
                          const std::vector<std::string_view>& expression_params,
                          const std::vector<std::string_view>& legacy_params) {
  std::vector<std::string_view> used_expr, used_legacy;
  for (auto p : expression_params) {
    if (Member(request, p) != nullptr) used_expr.push_back(p);
  }
  for (auto p : legacy_params) {
    if (Member(request, p) != nullptr) used_legacy.push_back(p);
  }
  if (used_expr.empty() || used_legacy.empty()) return Status::Ok();
  return ValidationError(
      "Can not use both expression and non-expression parameters in the same request: "
      "Non-expression parameters: {" +
      JoinWith(used_legacy, ", ") + "} Expression parameters: {" + JoinWith(used_expr, ", ") + "}");
}

Result<expr::Condition> ParseOptionalCondition(const json::Value& request, std::string_view param,
                                               expr::ExpressionAttributes* attrs) {
  const json::Value* text = Member(request, param);
  if (text == nullptr) return expr::Condition();
  return expr::ParseCondition(std::string_view(text->GetString(), text->GetStringLength()), param,
                              attrs);
}

Result<std::optional<expr::Projection>> ParseOptionalProjection(const json::Value& request,
                                                                expr::ExpressionAttributes* attrs) {
  const json::Value* text = Member(request, "ProjectionExpression");
  const json::Value* names = Member(request, "AttributesToGet");
  if (text != nullptr && names != nullptr) {
    return ValidationError(
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {AttributesToGet} Expression parameters: "
        "{ProjectionExpression}");
  }
  if (text != nullptr) {
    CRUDDUR_ASSIGN_OR_RETURN(
        expr::Projection p,
        expr::ParseProjection(std::string_view(text->GetString(), text->GetStringLength()), attrs));
    return std::optional<expr::Projection>(std::move(p));
  }
  if (names != nullptr) {
    std::vector<std::string> list;
    for (const auto& n : names->GetArray()) {
      std::string name(n.GetString(), n.GetStringLength());
      for (const auto& seen : list) {
        if (seen == name) {
          return ValidationError(
              "One or more parameter values were invalid: Duplicate value in attribute name: " +
              name);
        }
      }
      list.push_back(std::move(name));
    }
    return std::optional<expr::Projection>(expr::Projection::FromAttributeNames(list));
  }
  return std::optional<expr::Projection>();
}

Result<ReturnValues> ReadReturnValues(const json::Value& request,
                                      std::initializer_list<ReturnValues> allowed) {
  std::string_view text = StringMember(request, "ReturnValues");
  ReturnValues rv = ReturnValues::kNone;
  if (text.empty() || text == "NONE") {
    rv = ReturnValues::kNone;
  } else if (text == "ALL_OLD") {
    rv = ReturnValues::kAllOld;
  } else if (text == "UPDATED_OLD") {
    rv = ReturnValues::kUpdatedOld;
  } else if (text == "ALL_NEW") {
    rv = ReturnValues::kAllNew;
  } else if (text == "UPDATED_NEW") {
    rv = ReturnValues::kUpdatedNew;
  } else {
    return ValidationError(
        "1 validation error detected: Value '" + std::string(text) +
        "' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: "
        "[ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]");  // the service's order
  }
  if (rv == ReturnValues::kNone) return rv;
  for (ReturnValues a : allowed) {
    if (a == rv) return rv;
  }
  // PutItem and DeleteItem (API Reference: "the only values ... are NONE and ALL_OLD").
  return ValidationError("ReturnValues can only be ALL_OLD or NONE");
}

CapacityMode ReadCapacityMode(const json::Value& request) {
  std::string_view mode = StringMember(request, "ReturnConsumedCapacity");
  if (mode == "TOTAL") return CapacityMode::kTotal;
  if (mode == "INDEXES") return CapacityMode::kIndexes;
  return CapacityMode::kNone;
}

double ReadUnits(size_t bytes, bool consistent) {
  double units = std::max<double>(1, std::ceil(static_cast<double>(bytes) / 4096.0));
  return consistent ? units : units / 2;
}

double WriteUnits(size_t bytes) {
  return std::max<double>(1, std::ceil(static_cast<double>(bytes) / 1024.0));
}

double ConsumedCapacity::total() const {
  double sum = table_units;
  for (const auto& [_, u] : index_units) sum += u;
  for (const auto& [_, u] : local_index_units) sum += u;
  return sum;
}

void ConsumedCapacity::WriteObject(CapacityMode mode, json::Writer* w) const {
  w->StartObject();
  w->Key("TableName");
  WriteString(w, table);
  w->Key("CapacityUnits");
  w->Double(total());
  if (mode == CapacityMode::kIndexes) {
    w->Key("Table");
    w->StartObject();
    w->Key("CapacityUnits");
    w->Double(table_units);
    w->EndObject();
    auto write_map = [&](const char* key, const std::map<std::string, double>& units) {
      if (units.empty()) return;
      w->Key(key);
      w->StartObject();
      for (const auto& [name, u] : units) {
        WriteKeyValue(w, name);
        w->StartObject();
        w->Key("CapacityUnits");
        w->Double(u);
        w->EndObject();
      }
      w->EndObject();
    };
    write_map("GlobalSecondaryIndexes", index_units);
    write_map("LocalSecondaryIndexes", local_index_units);
  }
  w->EndObject();
}

void ConsumedCapacity::WriteMember(CapacityMode mode, json::Writer* w) const {
  if (mode == CapacityMode::kNone) return;
  w->Key("ConsumedCapacity");
  WriteObject(mode, w);
}

ConsumedCapacity& CapacityFor(std::vector<ConsumedCapacity>* list, const std::string& table) {
  for (auto& cc : *list) {
    if (cc.table == table) return cc;
  }
  list->push_back(ConsumedCapacity{table});
  return list->back();
}

void AddCapacity(const ConsumedCapacity& from, double factor, ConsumedCapacity* into) {
  into->table_units += from.table_units * factor;
  for (const auto& [name, u] : from.index_units) into->index_units[name] += u * factor;
  for (const auto& [name, u] : from.local_index_units) into->local_index_units[name] += u * factor;
}

void WriteCapacityList(CapacityMode mode, const std::vector<ConsumedCapacity>& list,
                       json::Writer* out) {
  if (mode == CapacityMode::kNone) return;
  out->Key("ConsumedCapacity");
  out->StartArray();
  for (const auto& cc : list) cc.WriteObject(mode, out);
  out->EndArray();
}

namespace {

// The entry an index holds for `item`, or nullopt when the item lacks an index key attribute
// (sparse index). Projection per the index definition.
std::optional<Item> IndexEntry(const storage::TableDef& table, const storage::IndexDef& index,
                               const Item& item) {
  auto has = [&](const storage::KeyAttribute& a) {
    auto it = item.find(a.name);
    return it != item.end() && it->second.type == a.type;
  };
  if (!has(index.key.hash) || (index.key.range && !has(*index.key.range))) return std::nullopt;
  if (index.projection == storage::ProjectionType::kAll) return item;
  Item entry = ExtractKey(table.key, item);
  for (const auto& [k, v] : ExtractKey(index.key, item)) entry.emplace(k, v);
  if (index.projection == storage::ProjectionType::kInclude) {
    for (const auto& name : index.non_key_attributes) {
      auto it = item.find(name);
      if (it != item.end()) entry.emplace(it->first, it->second);
    }
  }
  return entry;
}

}  // namespace

void AddIndexWriteUnits(const storage::TableDef& table, const std::optional<Item>& old_item,
                        const std::optional<Item>& new_item, ConsumedCapacity* cc) {
  auto add = [&](const storage::IndexDef& index, std::map<std::string, double>* units) {
    std::optional<Item> before, after;
    if (old_item) before = IndexEntry(table, index, *old_item);
    if (new_item) after = IndexEntry(table, index, *new_item);
    if (!before && !after) return;
    if (before && after && *before == *after) return;
    double u = 0;
    bool moved =
        before && after && (ExtractKey(index.key, *before) != ExtractKey(index.key, *after));
    if (moved) {
      u = WriteUnits(ItemSize(*before)) + WriteUnits(ItemSize(*after));
    } else {
      u = WriteUnits(ItemSize(after ? *after : *before));
    }
    (*units)[index.name] += u;
  };
  for (const auto& index : table.gsis) add(index, &cc->index_units);
  for (const auto& index : table.lsis) add(index, &cc->local_index_units);
}

void WriteKeyValue(json::Writer* w, std::string_view key) {
  w->Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
}

void WriteString(json::Writer* w, std::string_view s) {
  w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void WriteEpochSeconds(json::Writer* w, int64_t micros) {
  w->Double(static_cast<double>(micros / 1000) / 1000.0);
}

std::string JStr(const json::Value& v) { return std::string(v.GetString(), v.GetStringLength()); }

}  // namespace cruddur::dynamo::api
