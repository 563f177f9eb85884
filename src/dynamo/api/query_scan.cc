// Query and Scan (API Reference, "Query" and "Scan"; Developer Guide, "Paginating table query
// results", "Working with scans", "Query and scan on indexes").
//
// Both read one page: items in key order (Query: one partition, by sort key; Scan: by partition
// hash) from a storage ItemIterator, until Limit items have been read or the items read reach
// 1 MB, measured before FilterExpression is applied. LastEvaluatedKey (the table key plus, for
// an index, the index key of the last item read) is returned whenever the page stopped for one
// of those reasons - even when the partition happened to end there, as DynamoDB does; the
// client learns the end only from a page without LastEvaluatedKey.
//
// Validation texts and their order follow dynalite's validations/query.js, validations/scan.js
// and actions/{query,scan}.js (written against the live service); the Select rules, which
// dynalite does not check, follow DynamoDB Local.
#include <algorithm>
#include <compare>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dynamo/api/api.h"
#include "dynamo/api/common.h"
#include "dynamo/api/legacy.h"
#include "dynamo/api/request_shape.h"
#include "dynamo/json/attribute_json.h"

namespace cruddur::dynamo::api {
namespace {

// The page limit on data read, before filtering (API Reference, Query: "A single Query
// operation will read up to the maximum number of items set (if using the Limit parameter) or a
// maximum of 1 MB of data").
constexpr size_t kPageBytes = 1024 * 1024;

enum class Select { kAllAttributes, kAllProjected, kSpecific, kCount };

std::vector<Shape> CommonReadMembers() {
  return {TableNameShape(),
          IndexNameShape(),
          Enum(Str("Select"),
               {"SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES"}),
          Length(List("AttributesToGet", Str("member")), 1, 255),
          Range(Long("Limit"), 1, std::nullopt),
          Bool("ConsistentRead"),
          Enum(Str("ConditionalOperator"), {"AND", "OR"}),
          AttrMap("ExclusiveStartKey"),
          Enum(Str("ReturnConsumedCapacity"), {"INDEXES", "TOTAL", "NONE"}),
          Str("ProjectionExpression"),
          Str("FilterExpression"),
          Map("ExpressionAttributeNames", Str("member")),
          AttrMap("ExpressionAttributeValues")};
}

const Shape& QueryShape() {
  static const Shape shape = [] {
    std::vector<Shape> m = CommonReadMembers();
    m.push_back(ConditionMapShape("KeyConditions"));
    m.push_back(ConditionMapShape("QueryFilter"));
    m.push_back(Bool("ScanIndexForward"));
    m.push_back(Str("KeyConditionExpression"));
    return Struct("QueryInput", std::move(m));
  }();
  return shape;
}

const Shape& ScanShape() {
  static const Shape shape = [] {
    std::vector<Shape> m = CommonReadMembers();
    m.push_back(ConditionMapShape("ScanFilter"));
    // API Reference, Scan: TotalSegments 1..1000000, Segment 0..999999.
    m.push_back(Range(Long("TotalSegments"), 1, 1000000));
    m.push_back(Range(Long("Segment"), 0, 999999));
    return Struct("ScanInput", std::move(m));
  }();
  return shape;
}

// ExclusiveStartKey values are validated like any AttributeValue; the service prefixes most,
// not all, of the texts (dynalite validations/query.js records which).
Result<std::optional<Item>> DecodeStartKey(const json::Value& request) {
  const json::Value* v = Member(request, "ExclusiveStartKey");
  if (v == nullptr) return std::optional<Item>();
  auto item = DecodeItem(*v);
  if (item.ok()) return std::optional<Item>(std::move(item).value());
  Status st = item.TakeStatus();
  if (st.code() != ErrorCode::kValidation) return st;
  const std::string& m = st.message();
  for (const char* plain : {"contains duplicates", "number set", "numeric value",
                            "significant digits", "Number overflow", "Number underflow"}) {
    if (m.find(plain) != std::string::npos) return st;
  }
  return ValidationError("The provided starting key is invalid: " + m);
}

// Select and its relation to the projection parameters (DynamoDB Local's texts).
Result<Select> ReadSelect(const json::Value& request) {
  std::string_view text = StringMember(request, "Select");
  std::string projection_param;
  if (Member(request, "ProjectionExpression") != nullptr) {
    projection_param = "ProjectionExpression";
  } else if (Member(request, "AttributesToGet") != nullptr) {
    projection_param = "AttributesToGet";
  }
  bool has_index = Member(request, "IndexName") != nullptr;
  if (text.empty()) {
    // API Reference, Query "Select": the default is ALL_ATTRIBUTES on a table and
    // ALL_PROJECTED_ATTRIBUTES on an index; a projection implies SPECIFIC_ATTRIBUTES.
    if (!projection_param.empty()) return Select::kSpecific;
    return has_index ? Select::kAllProjected : Select::kAllAttributes;
  }
  if (text == "SPECIFIC_ATTRIBUTES") {
    if (projection_param.empty()) {
      return ValidationError(
          "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
          "SPECIFIC_ATTRIBUTES");
    }
    return Select::kSpecific;
  }
  if (!projection_param.empty()) {
    if (text == "COUNT") {
      return ValidationError("Cannot specify the " + projection_param +
                             " when choosing to get only the Count");
    }
    return ValidationError("Cannot specify the " + projection_param + " when choosing to get " +
                           std::string(text));
  }
  if (text == "COUNT") return Select::kCount;
  if (text == "ALL_ATTRIBUTES") return Select::kAllAttributes;
  if (!has_index) {
    return ValidationError(
        "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName");
  }
  return Select::kAllProjected;
}

bool IsKeyOf(const storage::KeySchema& key, std::string_view name) {
  return key.hash.name == name || (key.range && key.range->name == name);
}

// Whether entries of `index` carry attribute `name`.
bool IndexProjects(const storage::TableDef& table, const storage::IndexDef& index,
                   std::string_view name) {
  if (index.projection == storage::ProjectionType::kAll) return true;
  if (IsKeyOf(table.key, name) || IsKeyOf(index.key, name)) return true;
  return index.projection == storage::ProjectionType::kInclude &&
         std::find(index.non_key_attributes.begin(), index.non_key_attributes.end(), name) !=
             index.non_key_attributes.end();
}

// dynalite db.validateKeyPaths: a projection may not reach inside a key attribute.
Status CheckProjectionKeyPaths(const storage::TableDef& table, const expr::Projection& p) {
  static constexpr std::string_view kText =
      "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
      "allowed: ";
  for (const auto& path : p.paths()) {
    if (path.elements.size() < 2) continue;
    const std::string& name = path.top_level_name();
    if (IsKeyOf(table.key, name)) return ValidationError(std::string(kText) + "Key: " + name);
    for (const auto* list : {&table.gsis, &table.lsis}) {
      for (const auto& index : *list) {
        if (IsKeyOf(index.key, name)) {
          return ValidationError(std::string(kText) + "IndexKey: " + name);
        }
      }
    }
  }
  return Status::Ok();
}

// The attribute names of LastEvaluatedKey / ExclusiveStartKey: the table key, then the index
// key attributes that are not already table key attributes.
std::vector<const storage::KeyAttribute*> StartKeyAttributes(const storage::TableDef& table,
                                                             const storage::IndexDef* index) {
  std::vector<const storage::KeyAttribute*> attrs = {&table.key.hash};
  if (table.key.range) attrs.push_back(&*table.key.range);
  if (index != nullptr) {
    for (const auto* a : {&index->key.hash, index->key.range ? &*index->key.range : nullptr}) {
      if (a != nullptr && !IsKeyOf(table.key, a->name)) attrs.push_back(a);
    }
  }
  return attrs;
}

bool IsEmptyKeyValue(const AttributeValue& v) {
  return (v.type == AttrType::kS || v.type == AttrType::kB) && v.str.empty();
}

// dynalite actions/query.js and scan.js: the start key must hold exactly the table key and,
// for an index, the index key, each of the schema's type and not empty.
Status CheckStartKey(const storage::TableDef& table, const storage::IndexDef* index, bool is_query,
                     const json::Value& esk_json, const Item& esk) {
  auto attrs = StartKeyAttributes(table, index);
  if (esk.size() != attrs.size()) {
    return ValidationError(is_query || index != nullptr
                               ? "The provided starting key is invalid"
                               : "The provided starting key is invalid: The provided key element "
                                 "does not match the schema");
  }
  // The key pieces of the schema read (Query: the table's or the index's; Scan: the index's)
  // are checked first, with the service's unprefixed texts.
  const storage::KeySchema* read_schema =
      index != nullptr ? &index->key : (is_query ? &table.key : nullptr);
  if (read_schema != nullptr) {
    for (const auto* a :
         {&read_schema->hash, read_schema->range ? &*read_schema->range : nullptr}) {
      if (a == nullptr) continue;
      auto it = esk.find(a->name);
      if (it == esk.end()) return ValidationError("The provided starting key is invalid");
      if (it->second.type != a->type) {
        return ValidationError("The provided key element does not match the schema");
      }
      if (IsEmptyKeyValue(it->second)) {
        return ValidationError(
            "One or more parameter values were invalid: The AttributeValue for a key attribute "
            "cannot contain an empty " +
            std::string(a->type == AttrType::kS ? "string" : "binary") + " value. Key: " + a->name);
      }
    }
  }
  // The table part is checked exactly as a Key parameter is.
  json::Document table_part;
  table_part.SetObject();
  auto& alloc = table_part.GetAllocator();
  for (const auto* a : {&table.key.hash, table.key.range ? &*table.key.range : nullptr}) {
    if (a == nullptr) continue;
    auto m = esk_json.FindMember(a->name);
    if (m == esk_json.MemberEnd()) continue;
    table_part.AddMember(json::Value(a->name, alloc), json::Value(m->value, alloc), alloc);
  }
  auto key = DecodeKey(table, table_part);
  if (!key.ok()) {
    return ValidationError("The provided starting key is invalid: " + key.status().message());
  }
  return Status::Ok();
}

int CompareKeyValues(const AttributeValue& a, const AttributeValue& b) {
  if (a.type == AttrType::kN) {
    auto c = a.num <=> b.num;
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  // S and B compare as unsigned bytes, as DynamoDB orders them (char_traits<char> compares
  // as unsigned char).
  int c = a.str.compare(b.str);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

bool SortConditionHolds(const expr::SortKeyCondition& sort, const AttributeValue& v) {
  int c = CompareKeyValues(v, sort.value);
  switch (sort.op) {
    case expr::SortKeyOp::kEq:
      return c == 0;
    case expr::SortKeyOp::kLt:
      return c < 0;
    case expr::SortKeyOp::kLe:
      return c <= 0;
    case expr::SortKeyOp::kGt:
      return c > 0;
    case expr::SortKeyOp::kGe:
      return c >= 0;
    case expr::SortKeyOp::kBetween:
      return c >= 0 && CompareKeyValues(v, sort.value2) <= 0;
    case expr::SortKeyOp::kBeginsWith:
      return v.str.compare(0, sort.value.str.size(), sort.value.str) == 0;
  }
  return false;
}

// dynalite actions/query.js: a start key outside the key condition is refused.
Status CheckStartKeyInQuery(const storage::KeySchema& key, const expr::KeyCondition& kc,
                            const Item& esk) {
  bool same_partition = esk.at(key.hash.name) == kc.hash_value;
  if (!key.range || !kc.sort) {
    if (!same_partition) {
      return ValidationError(
          "The provided starting key is outside query boundaries based on provided conditions");
    }
    return Status::Ok();
  }
  if (!SortConditionHolds(*kc.sort, esk.at(key.range->name))) {
    return ValidationError("The provided starting key does not match the range key predicate");
  }
  if (!same_partition) {
    return ValidationError("The query can return at most one row and cannot be restarted");
  }
  return Status::Ok();
}

Status TypeMismatch() {
  return ValidationError(
      "One or more parameter values were invalid: Condition parameter type does not match "
      "schema type");
}

// `index` is the index queried, nullptr for the table. Key condition values are key values:
// none may be empty, begins_with's prefix included (DynamoDB Local's texts: the one a Key
// parameter gets, or for an index the one an empty index key in an item gets).
Result<storage::SortRange> ToSortRange(const storage::IndexDef* index,
                                       const storage::KeySchema& key,
                                       const expr::KeyCondition& kc) {
  if (kc.hash_value.type != key.hash.type) return TypeMismatch();
  CRUDDUR_RETURN_IF_ERROR(CheckKeyValueNotEmpty(index, key.hash.name, kc.hash_value));
  if (!kc.sort) return storage::SortRange::All();
  const expr::SortKeyCondition& s = *kc.sort;
  // ParseKeyCondition only admits a sort condition when the schema has a range key.
  if (s.value.type != key.range->type) return TypeMismatch();
  if (s.op == expr::SortKeyOp::kBetween && s.value2.type != key.range->type) return TypeMismatch();
  CRUDDUR_RETURN_IF_ERROR(CheckKeyValueNotEmpty(index, key.range->name, s.value));
  if (s.op == expr::SortKeyOp::kBetween) {
    CRUDDUR_RETURN_IF_ERROR(CheckKeyValueNotEmpty(index, key.range->name, s.value2));
  }
  switch (s.op) {
    case expr::SortKeyOp::kEq:
      return storage::SortRange::Eq(s.value);
    case expr::SortKeyOp::kLt:
      return storage::SortRange::Lt(s.value);
    case expr::SortKeyOp::kLe:
      return storage::SortRange::Le(s.value);
    case expr::SortKeyOp::kGt:
      return storage::SortRange::Gt(s.value);
    case expr::SortKeyOp::kGe:
      return storage::SortRange::Ge(s.value);
    case expr::SortKeyOp::kBetween:
      return storage::SortRange::Between(s.value, s.value2);
    case expr::SortKeyOp::kBeginsWith:
      return storage::SortRange::BeginsWith(s.value);
  }
  return storage::SortRange::All();
}

// Everything Query and Scan share once the request is understood.
struct ReadPlan {
  std::shared_ptr<const storage::TableDef> table;
  const storage::IndexDef* index = nullptr;
  bool is_gsi = false;
  Select select = Select::kAllAttributes;
  std::optional<expr::Projection> projection;
  expr::Condition filter;
  int64_t limit = 0;  // 0: no limit
  bool consistent = false;
  // LSI reads that need attributes the index does not hold fetch the item from the table
  // (Developer Guide, "Local secondary indexes": "fetches ... from the base table").
  bool fetch_from_table = false;
};

// The checks that need the table and index, shared by Query and Scan, in dynalite's order
// around the caller's key checks: index lookup and ConsistentRead first.
Status ResolveIndex(const json::Value& request, ReadPlan* plan) {
  std::string_view index_name = StringMember(request, "IndexName");
  if (index_name.empty()) return Status::Ok();
  plan->index = plan->table->FindIndex(index_name);
  // An index being deleted is already gone for readers (as DynamoDB Local answers); one being
  // backfilled cannot be read until it is ACTIVE (the service's text, quoted in
  // aws-cloudformation/cloudformation-coverage-roadmap#1075).
  if (plan->index == nullptr || plan->index->state == storage::IndexState::kDeleting) {
    return ValidationError("The table does not have the specified index: " +
                           std::string(index_name));
  }
  if (plan->index->state == storage::IndexState::kBackfilling) {
    return ValidationError("Cannot read from backfilling global secondary index");
  }
  plan->is_gsi = std::any_of(plan->table->gsis.begin(), plan->table->gsis.end(),
                             [&](const storage::IndexDef& g) { return g.name == index_name; });
  if (plan->is_gsi && plan->consistent) {
    return ValidationError("Consistent reads are not supported on global secondary indexes");
  }
  return Status::Ok();
}

// Select on an index whose projection lacks what is asked for: an error on a GSI, a fetch from
// the table on an LSI.
Status PlanIndexSelect(ReadPlan* plan) {
  if (plan->index == nullptr) return Status::Ok();
  const storage::IndexDef& index = *plan->index;
  if (plan->select == Select::kAllAttributes && index.projection != storage::ProjectionType::kAll) {
    if (plan->is_gsi) {
      return ValidationError(
          "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not "
          "supported for global secondary index " +
          index.name + " because its projection type is not ALL");
    }
    plan->fetch_from_table = true;
  }
  if (plan->select == Select::kSpecific) {
    std::vector<std::string> missing;
    for (const auto& path : plan->projection->paths()) {
      const std::string& name = path.top_level_name();
      if (!IndexProjects(*plan->table, index, name) &&
          std::find(missing.begin(), missing.end(), name) == missing.end()) {
        missing.push_back(name);
      }
    }
    if (!missing.empty()) {
      if (plan->is_gsi) {
        std::string list;
        for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
        return ValidationError(
            "One or more parameter values were invalid: Global secondary index " + index.name +
            " does not project [" + list + "]");
      }
      plan->fetch_from_table = true;
    }
  }
  return Status::Ok();
}

// Reads one page from `it` and writes the response.
Status ReadPage(ApiContext& ctx, const json::Value& request, const ReadPlan& plan,
                storage::ItemIterator* it, json::Writer* out) {
  // Items are written into the response as they are read (no copies); members of a JSON
  // object have no order, so Count and the rest follow them.
  out->StartObject();
  if (plan.select != Select::kCount) {
    out->Key("Items");
    out->StartArray();
  }
  int64_t scanned = 0, count = 0;
  size_t read_bytes = 0;
  double fetch_units = 0;
  auto page_full = [&] {
    return (plan.limit > 0 && scanned >= plan.limit) || read_bytes >= kPageBytes;
  };
  // Items returned as stored (no filter, projection or LSI fetch) go straight from their
  // records into the response, never decoded: the common read is mostly copying bytes.
  const bool from_records = plan.filter.empty() && !plan.projection && !plan.fetch_from_table &&
                            plan.select != Select::kCount;
  bool stopped = false;
  Item last_key;
  auto start_attrs = StartKeyAttributes(*plan.table, plan.index);
  while (true) {
    if (page_full()) {
      stopped = true;
      break;
    }
    if (!it->Next()) break;
    ++scanned;
    read_bytes += it->size();
    if (page_full()) {
      // The page stops after this item, so its keys are LastEvaluatedKey.
      const Item& entry = it->item();
      for (const auto* a : start_attrs) {
        auto f = entry.find(a->name);
        if (f != entry.end()) last_key.emplace(f->first, f->second);
      }
    }
    if (from_records) {
      ++count;
      CRUDDUR_RETURN_IF_ERROR(WriteEncodedItem(it->record(), out));
      continue;
    }
    const Item& entry = it->item();
    std::optional<Item> fetched;
    const Item* item = &entry;
    if (plan.fetch_from_table) {
      CRUDDUR_ASSIGN_OR_RETURN(fetched,
                               ctx.engine->Get(*plan.table, ExtractKey(plan.table->key, entry)));
      // The item was deleted since the index entry was read: nothing to return.
      if (!fetched) continue;
      fetch_units += ReadUnits(ItemSize(*fetched), plan.consistent);
      item = &*fetched;
    }
    if (!plan.filter.empty()) {
      CRUDDUR_ASSIGN_OR_RETURN(bool matches, expr::EvaluateCondition(plan.filter, *item));
      if (!matches) continue;
    }
    ++count;
    if (plan.select == Select::kCount) continue;
    if (plan.projection) {
      WriteItem(expr::ApplyProjection(*plan.projection, *item), out);
    } else {
      WriteItem(*item, out);
    }
  }
  CRUDDUR_RETURN_IF_ERROR(it->status());
  if (plan.select != Select::kCount) out->EndArray();

  // Capacity (Developer Guide, "Read consumption for Query/Scan"): the total size of the items
  // read, in 4 KB units, halved for eventually consistent reads; an index read is charged to
  // the index, and LSI fetches to the table.
  ConsumedCapacity cc;
  cc.table = plan.table->name;
  double read_units = ReadUnits(read_bytes, plan.consistent);
  if (plan.index == nullptr) {
    cc.table_units = read_units;
  } else {
    (plan.is_gsi ? cc.index_units : cc.local_index_units)[plan.index->name] = read_units;
    cc.table_units = fetch_units;
  }

  out->Key("Count");
  out->Int64(count);
  out->Key("ScannedCount");
  out->Int64(scanned);
  if (stopped && scanned > 0) {
    out->Key("LastEvaluatedKey");
    WriteItem(last_key, out);
  }
  cc.WriteMember(ReadCapacityMode(request), out);
  out->EndObject();
  return Status::Ok();
}

}  // namespace

Status Query(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, QueryShape()));
  // KeyConditions alongside the other expressions (without KeyConditionExpression) is not a
  // mix the service refuses (dynalite validateExpressionParams).
  std::vector<std::string_view> legacy = {"AttributesToGet", "QueryFilter", "ConditionalOperator"};
  if (Member(request, "KeyConditionExpression") != nullptr) legacy.push_back("KeyConditions");
  CRUDDUR_RETURN_IF_ERROR(CheckExpressionMix(
      request, {"ProjectionExpression", "FilterExpression", "KeyConditionExpression"}, legacy));
  CRUDDUR_ASSIGN_OR_RETURN(std::optional<Item> esk, DecodeStartKey(request));
  const json::Value* kce = Member(request, "KeyConditionExpression");
  const json::Value* key_conditions = Member(request, "KeyConditions");
  if (kce == nullptr && key_conditions == nullptr) {
    return ValidationError(
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the "
        "request.");
  }
  CRUDDUR_ASSIGN_OR_RETURN(
      expr::ExpressionAttributes attrs,
      ReadExpressionAttributes(
          request, {"FilterExpression", "KeyConditionExpression"},
          {"ProjectionExpression", "FilterExpression", "KeyConditionExpression"}));
  ReadPlan plan;
  CRUDDUR_ASSIGN_OR_RETURN(plan.projection, ParseOptionalProjection(request, &attrs));
  CRUDDUR_ASSIGN_OR_RETURN(plan.filter,
                           ParseOptionalCondition(request, "FilterExpression", &attrs));
  CRUDDUR_ASSIGN_OR_RETURN(plan.select, ReadSelect(request));
  plan.limit = LongMember(request, "Limit").value_or(0);
  plan.consistent = BoolMember(request, "ConsistentRead", false);
  CRUDDUR_ASSIGN_OR_RETURN(plan.table, FindTable(ctx, StringMember(request, "TableName")));
  CRUDDUR_RETURN_IF_ERROR(ResolveIndex(request, &plan));
  const storage::KeySchema& key = plan.index ? plan.index->key : plan.table->key;
  expr::KeyCondition kc;
  if (kce != nullptr) {
    CRUDDUR_ASSIGN_OR_RETURN(
        kc,
        expr::ParseKeyCondition(std::string_view(kce->GetString(), kce->GetStringLength()), &attrs,
                                key.hash.name, key.range ? key.range->name : std::string_view()));
  } else {
    CRUDDUR_ASSIGN_OR_RETURN(kc, LegacyKeyConditions(*key_conditions, key));
  }
  CRUDDUR_RETURN_IF_ERROR(expr::CheckAllAttributesUsed(attrs));
  // QueryFilter, when the request filters the legacy way (CheckExpressionMix has refused it
  // alongside FilterExpression).
  const bool legacy_filter = Member(request, "FilterExpression") == nullptr;
  if (legacy_filter) {
    CRUDDUR_ASSIGN_OR_RETURN(plan.filter,
                             LegacyCondition(request, LegacyConditionParam::kQueryFilter));
  }
  if (esk) {
    CRUDDUR_RETURN_IF_ERROR(
        CheckStartKey(*plan.table, plan.index, true, request["ExclusiveStartKey"], *esk));
  }
  CRUDDUR_ASSIGN_OR_RETURN(storage::SortRange range, ToSortRange(plan.index, key, kc));
  if (esk) CRUDDUR_RETURN_IF_ERROR(CheckStartKeyInQuery(key, kc, *esk));
  if (plan.projection) {
    CRUDDUR_RETURN_IF_ERROR(CheckProjectionKeyPaths(*plan.table, *plan.projection));
  }
  // API Reference, Query "FilterExpression": "A filter expression cannot contain partition key
  // or sort key attributes" (of the table or index queried); QueryFilter likewise.
  for (const auto* a : {&key.hash, key.range ? &*key.range : nullptr}) {
    if (a != nullptr && plan.filter.top_level_names().count(a->name)) {
      return ValidationError(
          std::string(legacy_filter ? "QueryFilter" : "Filter Expression") +
          " can only contain non-primary key attributes: Primary key attribute: " + a->name);
    }
  }
  CRUDDUR_RETURN_IF_ERROR(PlanIndexSelect(&plan));

  bool forward = BoolMember(request, "ScanIndexForward", true);
  auto it = ctx.engine->Query(*plan.table, plan.index, kc.hash_value, range, forward,
                              esk ? &*esk : nullptr);
  return ReadPage(ctx, request, plan, it.get(), out);
}

Status Scan(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, ScanShape()));
  CRUDDUR_RETURN_IF_ERROR(
      CheckExpressionMix(request, {"ProjectionExpression", "FilterExpression"},
                         {"AttributesToGet", "ScanFilter", "ConditionalOperator"}));
  CRUDDUR_ASSIGN_OR_RETURN(std::optional<Item> esk, DecodeStartKey(request));
  std::optional<int64_t> segment = LongMember(request, "Segment");
  std::optional<int64_t> total = LongMember(request, "TotalSegments");
  if (segment && !total) {
    return ValidationError(
        "The TotalSegments parameter is required but was not present in the request when "
        "Segment parameter is present");
  }
  if (total && !segment) {
    return ValidationError(
        "The Segment parameter is required but was not present in the request when parameter "
        "TotalSegments is present");
  }
  if (total && *segment >= *total) {
    return ValidationError(
        "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
        "Segment: " +
        std::to_string(*segment) + " is not less than TotalSegments: " + std::to_string(*total));
  }
  CRUDDUR_ASSIGN_OR_RETURN(expr::ExpressionAttributes attrs,
                           ReadExpressionAttributes(request, {"FilterExpression"},
                                                    {"ProjectionExpression", "FilterExpression"}));
  ReadPlan plan;
  CRUDDUR_ASSIGN_OR_RETURN(plan.projection, ParseOptionalProjection(request, &attrs));
  CRUDDUR_ASSIGN_OR_RETURN(plan.filter,
                           ParseOptionalCondition(request, "FilterExpression", &attrs));
  CRUDDUR_RETURN_IF_ERROR(expr::CheckAllAttributesUsed(attrs));
  CRUDDUR_ASSIGN_OR_RETURN(plan.select, ReadSelect(request));
  plan.limit = LongMember(request, "Limit").value_or(0);
  plan.consistent = BoolMember(request, "ConsistentRead", false);
  CRUDDUR_ASSIGN_OR_RETURN(plan.table, FindTable(ctx, StringMember(request, "TableName")));
  if (Member(request, "FilterExpression") == nullptr) {
    CRUDDUR_ASSIGN_OR_RETURN(plan.filter,
                             LegacyCondition(request, LegacyConditionParam::kScanFilter));
  }
  CRUDDUR_RETURN_IF_ERROR(ResolveIndex(request, &plan));
  if (esk) {
    CRUDDUR_RETURN_IF_ERROR(
        CheckStartKey(*plan.table, plan.index, false, request["ExclusiveStartKey"], *esk));
  }
  if (plan.projection) {
    CRUDDUR_RETURN_IF_ERROR(CheckProjectionKeyPaths(*plan.table, *plan.projection));
  }
  CRUDDUR_RETURN_IF_ERROR(PlanIndexSelect(&plan));

  auto it = ctx.engine->Scan(*plan.table, plan.index, static_cast<int>(segment.value_or(0)),
                             static_cast<int>(total.value_or(1)), esk ? &*esk : nullptr);
  return ReadPage(ctx, request, plan, it.get(), out);
}

}  // namespace cruddur::dynamo::api
