// CreateTable, DescribeTable, UpdateTable, ListTables, DeleteTable.
//
// Tables are ACTIVE as soon as CreateTable returns (as in DynamoDB Local): there is no
// provisioning to wait for, and boto3's `table_exists` waiter succeeds on its first poll.
// Validation texts follow the service (API Reference, CreateTable "Errors"; the texts are the
// ones the live service returns, as recorded by dynalite's validations).
#include <algorithm>
#include <cstdio>
#include <random>
#include <set>

#include "dynamo/api/api.h"
#include "dynamo/api/common.h"
#include "dynamo/api/request_shape.h"
#include "dynamo/api/streams.h"
#include "dynamo/api/table_meta.h"

namespace cruddur::dynamo::api {
namespace {

Shape KeySchemaShape(bool enum_key_type) {
  Shape key_type = NotNull(Str("KeyType"));
  if (enum_key_type) key_type = Enum(key_type, {"HASH", "RANGE"});
  return Length(
      NotNull(List("KeySchema", Struct("KeySchemaElement",
                                       {NotNull(Length(Str("AttributeName"), 1, 255)), key_type}))),
      1, 2);
}

Shape ThroughputShape() {
  return Struct("ProvisionedThroughput",
                {Range(NotNull(Long("ReadCapacityUnits")), 1, std::nullopt),
                 Range(NotNull(Long("WriteCapacityUnits")), 1, std::nullopt)});
}

Shape IndexShape(const char* struct_name) {
  Shape index_name = IndexNameShape("IndexName");
  index_name.not_null = true;
  return Struct(
      struct_name,
      {index_name, KeySchemaShape(false),
       NotNull(Struct("Projection", {Enum(Str("ProjectionType"), {"ALL", "INCLUDE", "KEYS_ONLY"}),
                                     Length(List("NonKeyAttributes", Str("member")), 1, 20)})),
       ThroughputShape()});
}

const Shape& CreateTableShape() {
  static const Shape shape = Struct(
      "CreateTableInput",
      {NotNull(List(
           "AttributeDefinitions",
           Struct("AttributeDefinition", {NotNull(Length(Str("AttributeName"), 1, 255)),
                                          NotNull(Enum(Str("AttributeType"), {"B", "N", "S"}))}))),
       TableNameShape(), KeySchemaShape(true),
       List("LocalSecondaryIndexes", IndexShape("LocalSecondaryIndex")),
       List("GlobalSecondaryIndexes", IndexShape("GlobalSecondaryIndex")),
       Enum(Str("BillingMode"), {"PROVISIONED", "PAY_PER_REQUEST"}), ThroughputShape(),
       Struct("StreamSpecification",
              {NotNull(Bool("StreamEnabled")),
               Enum(Str("StreamViewType"),
                    {"NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"})}),
       List("Tags", Struct("Tag", {NotNull(Length(Str("Key"), 1, 128)),
                                   NotNull(Length(Str("Value"), 0, 256))})),
       Enum(Str("TableClass"), {"STANDARD", "STANDARD_INFREQUENT_ACCESS"}),
       Bool("DeletionProtectionEnabled")});
  return shape;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out;
}

// Reads a KeySchema list (already shape-checked) into storage form, checking the rules shared
// by the table and its indexes.
Result<storage::KeySchema> ReadKeySchema(const json::Value& list,
                                         const std::map<std::string, AttrType>& defs,
                                         const std::vector<std::string>& def_names) {
  std::vector<std::string> names;
  for (const auto& e : list.GetArray()) names.push_back(JStr(e["AttributeName"]));
  for (const auto& n : names) {
    if (!defs.count(n)) {
      return ValidationError(
          "One or more parameter values were invalid: Some index key attributes are not defined "
          "in AttributeDefinitions. Keys: [" +
          Join(names) + "], AttributeDefinitions: [" + Join(def_names) + "]");
    }
  }
  if (names.size() == 2 && names[0] == names[1]) {
    return ValidationError(
        "Both the Hash Key and the Range Key element in the KeySchema have the same name");
  }
  if (JStr(list[0]["KeyType"]) != "HASH") {
    return ValidationError("Invalid KeySchema: The first KeySchemaElement is not a HASH key type");
  }
  if (names.size() == 2 && JStr(list[1]["KeyType"]) != "RANGE") {
    return ValidationError(
        "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type");
  }
  storage::KeySchema schema;
  schema.hash = {names[0], defs.at(names[0])};
  if (names.size() == 2) schema.range = storage::KeyAttribute{names[1], defs.at(names[1])};
  return schema;
}

// Reads an index's Projection (already shape-checked) into `index`.
Status ReadProjection(const json::Value& projection, storage::IndexDef* index) {
  std::string_view type = StringMember(projection, "ProjectionType");
  if (type.empty()) {
    return ValidationError(
        "One or more parameter values were invalid: Unknown ProjectionType: null");
  }
  const json::Value* non_key = Member(projection, "NonKeyAttributes");
  if (non_key != nullptr && type != "INCLUDE") {
    return ValidationError("One or more parameter values were invalid: ProjectionType is " +
                           std::string(type) + ", but NonKeyAttributes is specified");
  }
  if (non_key == nullptr && type == "INCLUDE") {
    // Live-AWS text, reported in nubo-db/dynoxide#116 (dynalite does not check this).
    return ValidationError(
        "One or more parameter values were invalid: ProjectionType is INCLUDE, but "
        "NonKeyAttributes is not specified");
  }
  index->projection = type == "ALL"         ? storage::ProjectionType::kAll
                      : type == "KEYS_ONLY" ? storage::ProjectionType::kKeysOnly
                                            : storage::ProjectionType::kInclude;
  if (non_key != nullptr) {
    for (const auto& n : non_key->GetArray()) index->non_key_attributes.push_back(JStr(n));
  }
  return Status::Ok();
}

std::string NewTableId() {
  // A random UUID (version 4) for DescribeTable's TableId.
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t a = rng(), b = rng();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

// ---- UpdateTable's GlobalSecondaryIndexUpdates (Developer Guide, "Managing global secondary
// indexes": one index created or deleted per UpdateTable call; the new index is CREATING, with
// Backfilling true, until every existing item is in it). Texts are DynamoDB Local's, which
// follow the service's; where they disagree with the API Reference, the reference wins (a
// backfilling index may be deleted).

// The index creation or deletion an UpdateTable asks storage for.
struct IndexChange {
  std::optional<storage::IndexDef> create;
  std::string remove;  // empty: none
};

Status OnlineIndexLimit() {
  return Status(ErrorCode::kLimitExceeded,
                "Subscriber limit exceeded: Only 1 online index can be created or deleted "
                "simultaneously per table");
}

Status IndexInUse(const storage::IndexDef& index) {
  return InUseError(std::string("Attempt to change a resource which is still in use: Index is "
                                "being ") +
                    (index.state == storage::IndexState::kDeleting ? "deleted." : "created."));
}

// The checks that need no table: each update names an action, and at most one of them creates
// or deletes an index.
Status CheckIndexUpdates(const json::Value& updates) {
  size_t online = 0;
  std::set<std::string_view> indexes;
  for (const auto& update : updates.GetArray()) {
    bool named = false;
    for (const char* action : {"Create", "Delete", "Update"}) {
      const json::Value* a = Member(update, action);
      if (a == nullptr) continue;
      named = true;
      if (std::string_view(action) != "Update") ++online;
      std::string_view index = StringMember(*a, "IndexName");
      if (!indexes.insert(index).second) {
        return ValidationError(
            "One or more parameter values were invalid: Only one global secondary index update "
            "per index is allowed simultaneously. Index: " +
            std::string(index));
      }
    }
    if (!named) return ValidationError("Update global secondary index action is null");
  }
  return online > 1 ? OnlineIndexLimit() : Status::Ok();
}

// Switching a table to PROVISIONED: the indexes no GlobalSecondaryIndexUpdates action gives a
// throughput (or deletes) are named, comma-separated in table order, as the service does.
Status CheckEveryIndexProvisioned(const storage::TableDef& table, const json::Value* updates) {
  std::string missing;
  for (const auto& gsi : table.gsis) {
    bool covered = false;
    if (updates != nullptr) {
      for (const auto& update : updates->GetArray()) {
        for (const char* action : {"Update", "Delete"}) {
          const json::Value* a = Member(update, action);
          if (a != nullptr && StringMember(*a, "IndexName") == gsi.name) covered = true;
        }
      }
    }
    if (covered) continue;
    if (!missing.empty()) missing += ",";
    missing += gsi.name;
  }
  if (missing.empty()) return Status::Ok();
  return ValidationError(
      "One or more parameter values were invalid: ProvisionedThroughput must be specified for "
      "index: " +
      missing);
}

// The GSI that another update may not touch while it is being created or deleted.
Status CheckNoIndexInProgress(const storage::TableDef& table, const storage::IndexDef* except) {
  for (const auto& gsi : table.gsis) {
    if (gsi.state != storage::IndexState::kActive && &gsi != except) return OnlineIndexLimit();
  }
  return Status::Ok();
}

Status CheckIndexThroughput(const json::Value* throughput, const std::string& index,
                            bool pay_per_request) {
  if (pay_per_request && throughput != nullptr) {
    return ValidationError(
        "One or more parameter values were invalid: ProvisionedThroughput should not be "
        "specified for index: " +
        index + " when BillingMode is PAY_PER_REQUEST");
  }
  if (!pay_per_request && throughput == nullptr) {
    return ValidationError(
        "One or more parameter values were invalid: ProvisionedThroughput must be specified for "
        "index: " +
        index);
  }
  return Status::Ok();
}

// A Create update: the new index, with its attribute definitions and throughput added to meta.
Result<storage::IndexDef> ReadIndexCreate(const json::Value& request, const json::Value& create,
                                          const storage::TableDef& table, bool pay_per_request,
                                          TableMeta* meta) {
  const json::Value* defs_json = Member(request, "AttributeDefinitions");
  if (defs_json == nullptr) return ValidationError("No Attribute Schema Defined");
  // Definitions left behind by removed indexes no longer bind anything.
  std::erase_if(meta->attribute_definitions,
                [&](const auto& d) { return !UsesAttribute(table, d.first); });
  std::map<std::string, AttrType> defs;
  std::vector<std::string> def_names;
  for (const auto& [name, type] : meta->attribute_definitions) {
    defs.emplace(name, type);
    def_names.push_back(name);
  }
  std::vector<std::pair<std::string, AttrType>> added;
  for (const auto& d : defs_json->GetArray()) {
    std::string name = JStr(d["AttributeName"]);
    AttrType type = AttrType::kS;
    ParseAttrType(JStr(d["AttributeType"]), &type);
    auto [it, inserted] = defs.emplace(name, type);
    if (!inserted) {
      if (it->second != type) {
        return ValidationError(
            "invalid attribute, SchemaElement redefined should be of same type as previously "
            "defined");
      }
      continue;
    }
    def_names.push_back(name);
    added.emplace_back(name, type);
  }
  storage::IndexDef index;
  index.name = JStr(create["IndexName"]);
  CRUDDUR_ASSIGN_OR_RETURN(index.key, ReadKeySchema(create["KeySchema"], defs, def_names));
  CRUDDUR_RETURN_IF_ERROR(ReadProjection(create["Projection"], &index));
  if (const storage::IndexDef* existing = table.FindIndex(index.name)) {
    if (existing->state == storage::IndexState::kActive) {
      return ValidationError("Attempting to create an index which already exists");
    }
    return IndexInUse(*existing);
  }
  CRUDDUR_RETURN_IF_ERROR(CheckNoIndexInProgress(table, nullptr));
  if (table.gsis.size() >= 20) {
    return Status(ErrorCode::kLimitExceeded,
                  "Number of global secondary indexes exceeds per-table limit");
  }
  const json::Value* throughput = Member(create, "ProvisionedThroughput");
  CRUDDUR_RETURN_IF_ERROR(CheckIndexThroughput(throughput, index.name, pay_per_request));
  if (throughput != nullptr) {
    meta->index_throughput[index.name] = {*LongMember(*throughput, "ReadCapacityUnits"),
                                          *LongMember(*throughput, "WriteCapacityUnits")};
  } else {
    meta->index_throughput.erase(index.name);
  }
  for (auto& def : added) {
    bool keyed =
        def.first == index.key.hash.name || (index.key.range && def.first == index.key.range->name);
    if (keyed) meta->attribute_definitions.push_back(std::move(def));
  }
  return index;
}

// Reads GlobalSecondaryIndexUpdates against the table, updating meta (definitions,
// throughput), and returns the creation or deletion to hand to storage.
Result<IndexChange> ReadIndexUpdates(const json::Value& request, const json::Value& updates,
                                     const storage::TableDef& table, bool pay_per_request,
                                     TableMeta* meta) {
  IndexChange change;
  for (const auto& update : updates.GetArray()) {
    if (const json::Value* create = Member(update, "Create")) {
      CRUDDUR_ASSIGN_OR_RETURN(change.create,
                               ReadIndexCreate(request, *create, table, pay_per_request, meta));
      continue;
    }
    const json::Value& action =
        Member(update, "Delete") != nullptr ? update["Delete"] : update["Update"];
    std::string name = JStr(action["IndexName"]);
    auto gsi = std::find_if(table.gsis.begin(), table.gsis.end(),
                            [&](const storage::IndexDef& g) { return g.name == name; });
    if (gsi == table.gsis.end()) return NotFoundError("Requested resource not found");
    if (gsi->state == storage::IndexState::kDeleting) return IndexInUse(*gsi);
    if (Member(update, "Delete") != nullptr) {
      // "You can delete an index that is being created during the Backfilling phase"
      // (GlobalSecondaryIndexDescription, Backfilling).
      CRUDDUR_RETURN_IF_ERROR(CheckNoIndexInProgress(table, &*gsi));
      change.remove = name;
      continue;
    }
    const json::Value* throughput = Member(action, "ProvisionedThroughput");
    CRUDDUR_RETURN_IF_ERROR(CheckIndexThroughput(throughput, name, pay_per_request));
    meta->index_throughput[name] = {*LongMember(*throughput, "ReadCapacityUnits"),
                                    *LongMember(*throughput, "WriteCapacityUnits")};
  }
  return change;
}

// The definition UpdateTable's answer describes: `updated` as read back, with the changed index
// in the state the change put it in. The background work may already have finished it (a small
// table's backfill, any removal), but the answer reports the change as made, CREATING or
// DELETING, as DynamoDB's does.
storage::TableDef AsAnswered(const storage::TableDef& before, const storage::TableDef& updated,
                             const IndexChange& change) {
  storage::TableDef answered = updated;
  auto find = [&](const std::string& index) {
    return std::find_if(answered.gsis.begin(), answered.gsis.end(),
                        [&](const storage::IndexDef& g) { return g.name == index; });
  };
  if (change.create) {
    auto it = find(change.create->name);
    if (it != answered.gsis.end()) it->state = storage::IndexState::kBackfilling;
  } else if (!change.remove.empty()) {
    auto it = find(change.remove);
    if (it == answered.gsis.end()) {
      for (const storage::IndexDef& gsi : before.gsis) {
        if (gsi.name == change.remove) it = answered.gsis.insert(answered.gsis.end(), gsi);
      }
    }
    if (it != answered.gsis.end()) it->state = storage::IndexState::kDeleting;
  }
  return answered;
}

}  // namespace

Status CreateTable(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, CreateTableShape()));

  TableMeta meta;
  std::string_view billing = StringMember(request, "BillingMode");
  meta.pay_per_request = billing == "PAY_PER_REQUEST";
  const json::Value* throughput = Member(request, "ProvisionedThroughput");
  if (meta.pay_per_request) {
    if (throughput != nullptr) {
      return ValidationError(
          "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
          "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
    }
  } else {
    if (throughput == nullptr) {
      return ValidationError(
          "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits "
          "must both be specified when BillingMode is PROVISIONED");
    }
    meta.read_units = *LongMember(*throughput, "ReadCapacityUnits");
    meta.write_units = *LongMember(*throughput, "WriteCapacityUnits");
    for (auto [units, name] : {std::pair{meta.read_units, "ReadCapacityUnits"},
                               std::pair{meta.write_units, "WriteCapacityUnits"}}) {
      if (units > 1000000000000LL) {
        return ValidationError("Given value " + std::to_string(units) + " for " + name +
                               " is out of bounds");
      }
    }
  }

  std::map<std::string, AttrType> defs;
  std::vector<std::string> def_names;
  for (const auto& d : request["AttributeDefinitions"].GetArray()) {
    std::string name = JStr(d["AttributeName"]);
    AttrType type;
    ParseAttrType(JStr(d["AttributeType"]), &type);
    if (defs.count(name)) {
      return ValidationError("Cannot have two attributes with the same name");
    }
    defs.emplace(name, type);
    def_names.push_back(name);
    meta.attribute_definitions.emplace_back(name, type);
  }

  storage::TableDef def;
  def.name = std::string(StringMember(request, "TableName"));
  const json::Value& key_schema = request["KeySchema"];
  if (key_schema.Size() > defs.size()) {
    return ValidationError("Invalid KeySchema: Some index key attribute have no definition");
  }
  CRUDDUR_ASSIGN_OR_RETURN(def.key, ReadKeySchema(key_schema, defs, def_names));

  std::set<std::string> used = {def.key.hash.name};
  if (def.key.range) used.insert(def.key.range->name);
  std::set<std::string> index_names;

  auto read_index = [&](const json::Value& idx, bool global) -> Result<storage::IndexDef> {
    storage::IndexDef index;
    index.name = JStr(idx["IndexName"]);
    CRUDDUR_ASSIGN_OR_RETURN(index.key, ReadKeySchema(idx["KeySchema"], defs, def_names));
    if (!global) {
      if (!index.key.range) {
        return ValidationError(
            "One or more parameter values were invalid: Index KeySchema does not have a range "
            "key for index: " +
            index.name);
      }
      if (index.key.hash.name != def.key.hash.name) {
        return ValidationError(
            "One or more parameter values were invalid: Index KeySchema does not have the same "
            "leading hash key as table KeySchema for index: " +
            index.name + ". index hash key: " + index.key.hash.name +
            ", table hash key: " + def.key.hash.name);
      }
    }
    CRUDDUR_RETURN_IF_ERROR(ReadProjection(idx["Projection"], &index));
    const json::Value* tp = Member(idx, "ProvisionedThroughput");
    if (global) {
      if (meta.pay_per_request && tp != nullptr) {
        return ValidationError(
            "One or more parameter values were invalid: ProvisionedThroughput should not be "
            "specified for index: " +
            index.name + " when BillingMode is PAY_PER_REQUEST");
      }
      if (!meta.pay_per_request && tp == nullptr) {
        // CreateTable's wording (awsdocs/amazon-dynamodb-developer-guide#246); "must be
        // specified for index" is UpdateTable's.
        return ValidationError(
            "One or more parameter values were invalid: ProvisionedThroughput is not specified "
            "for index: " +
            index.name);
      }
      if (tp != nullptr) {
        meta.index_throughput[index.name] = {*LongMember(*tp, "ReadCapacityUnits"),
                                             *LongMember(*tp, "WriteCapacityUnits")};
      }
    }
    if (!index_names.insert(index.name).second) {
      return ValidationError("One or more parameter values were invalid: Duplicate index name: " +
                             index.name);
    }
    used.insert(index.key.hash.name);
    if (index.key.range) used.insert(index.key.range->name);
    return index;
  };

  if (const json::Value* lsis = Member(request, "LocalSecondaryIndexes")) {
    if (lsis->Empty()) {
      return ValidationError(
          "One or more parameter values were invalid: List of LocalSecondaryIndexes is empty");
    }
    if (!def.key.range) {
      return ValidationError(
          "One or more parameter values were invalid: Table KeySchema does not have a range key, "
          "which is required when specifying a LocalSecondaryIndex");
    }
    for (const auto& idx : lsis->GetArray()) {
      CRUDDUR_ASSIGN_OR_RETURN(storage::IndexDef index, read_index(idx, false));
      def.lsis.push_back(std::move(index));
    }
    if (def.lsis.size() > 5) {
      return ValidationError(
          "One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds "
          "per-table limit of 5");
    }
  }
  if (const json::Value* gsis = Member(request, "GlobalSecondaryIndexes")) {
    if (gsis->Empty()) {
      return ValidationError(
          "One or more parameter values were invalid: List of GlobalSecondaryIndexes is empty");
    }
    for (const auto& idx : gsis->GetArray()) {
      CRUDDUR_ASSIGN_OR_RETURN(storage::IndexDef index, read_index(idx, true));
      def.gsis.push_back(std::move(index));
    }
    if (def.gsis.size() > 20) {
      return ValidationError(
          "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the "
          "per-table limit of 20");
    }
  }

  if (used.size() != defs.size()) {
    // AWS words an unused definition two ways: without indexes only the counts are compared
    // (live texts quoted in aws-cloudformation/cfn-lint#1037).
    if (def.lsis.empty() && def.gsis.empty()) {
      return ValidationError(
          "One or more parameter values were invalid: Number of attributes in KeySchema does not "
          "exactly match number of attributes defined in AttributeDefinitions");
    }
    std::vector<std::string> used_list(used.begin(), used.end());
    return ValidationError(
        "One or more parameter values were invalid: Some AttributeDefinitions are not used. "
        "AttributeDefinitions: [" +
        Join(def_names) + "], keys used: [" + Join(used_list) + "]");
  }

  if (const json::Value* stream = Member(request, "StreamSpecification")) {
    bool enabled = BoolMember(*stream, "StreamEnabled", false);
    std::string_view view = StringMember(*stream, "StreamViewType");
    if (enabled && view.empty()) {
      return ValidationError(
          "One or more parameter values were invalid: You must specify a StreamViewType when "
          "enabling streams");
    }
    if (!enabled && !view.empty()) {
      return ValidationError(
          "One or more parameter values were invalid: You cannot specify a StreamViewType when "
          "disabling streams");
    }
    if (enabled) def.stream_view = ParseStreamViewType(view);
  }
  if (const json::Value* tags = Member(request, "Tags")) {
    for (const auto& t : tags->GetArray()) meta.tags.emplace_back(JStr(t["Key"]), JStr(t["Value"]));
  }
  meta.deletion_protection = BoolMember(request, "DeletionProtectionEnabled", false);
  meta.table_class = std::string(StringMember(request, "TableClass"));
  meta.table_id = NewTableId();
  meta.created_micros = ctx.now_micros();
  if (meta.pay_per_request) meta.pay_per_request_since_micros = meta.created_micros;
  def.meta = meta.Encode();

  std::string name = def.name;
  Status st = ctx.engine->CreateTable(std::move(def));
  if (st.code() == ErrorCode::kResourceInUse) {
    return InUseError("Table already exists: " + name);
  }
  CRUDDUR_RETURN_IF_ERROR(st);
  auto created = ctx.engine->GetTable(name);
  if (!created) return InternalError("table vanished after creation");
  out->StartObject();
  out->Key("TableDescription");
  WriteTableDescription(ctx, *created, "ACTIVE", out);
  out->EndObject();
  return Status::Ok();
}

Status DescribeTable(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  static const Shape shape = Struct("DescribeTableInput", {TableNameShape()});
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, shape));
  std::string_view name = StringMember(request, "TableName");
  CRUDDUR_ASSIGN_OR_RETURN(auto table, FindTableForControlPlane(ctx, name));
  out->StartObject();
  out->Key("Table");
  WriteTableDescription(ctx, *table, "ACTIVE", out);
  out->EndObject();
  return Status::Ok();
}

Status ListTables(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  static const Shape shape =
      Struct("ListTablesInput",
             {TableNameShape("ExclusiveStartTableName", false), Range(Long("Limit"), 1, 100)});
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, shape));
  std::string_view start = StringMember(request, "ExclusiveStartTableName");
  size_t limit = static_cast<size_t>(LongMember(request, "Limit").value_or(100));

  std::vector<std::string> names = ctx.engine->ListTables();  // sorted
  auto it = start.empty() ? names.begin()
                          : std::upper_bound(names.begin(), names.end(), std::string(start));
  out->StartObject();
  out->Key("TableNames");
  out->StartArray();
  size_t n = 0;
  for (; it != names.end() && n < limit; ++it, ++n) WriteString(out, *it);
  out->EndArray();
  // LastEvaluatedTableName only when the page was cut short by Limit and more names follow.
  if (n == limit && it != names.end()) {
    out->Key("LastEvaluatedTableName");
    WriteString(out, *(it - 1));
  }
  out->EndObject();
  return Status::Ok();
}

Status DeleteTable(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  static const Shape shape = Struct("DeleteTableInput", {TableNameShape()});
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, shape));
  std::string_view name = StringMember(request, "TableName");
  CRUDDUR_ASSIGN_OR_RETURN(auto table, FindTableForControlPlane(ctx, name));
  CRUDDUR_ASSIGN_OR_RETURN(TableMeta meta, TableMeta::Decode(table->meta));
  if (meta.deletion_protection) {
    return ValidationError(
        "Resource cannot be deleted as it is currently protected against "
        "deletion. Disable deletion protection first.");
  }
  // Describe first: the description carries the item count at deletion, as AWS's does.
  json::StringBuffer described;
  json::Writer dw(described);
  WriteTableDescription(ctx, *table, "DELETING", &dw);
  Status st = ctx.engine->DeleteTable(name);
  if (st.code() == ErrorCode::kResourceNotFound) {
    return NotFoundError("Requested resource not found: Table: " + std::string(name) +
                         " not found");
  }
  CRUDDUR_RETURN_IF_ERROR(st);
  out->StartObject();
  out->Key("TableDescription");
  out->RawValue(described.GetString(), described.GetSize(), rapidjson::kObjectType);
  out->EndObject();
  return Status::Ok();
}

// UpdateTable: streams, billing mode and throughput, deletion protection, GSI creation and
// deletion (see ReadIndexUpdates; the index itself is built or removed in the background).
// Other changes apply at once, so the answer (and every later DescribeTable) says ACTIVE where AWS
// says UPDATING for a few seconds. Texts: "Table already has an enabled stream: TableName: t",
// "Table has no stream to disable: TableName: t" and the two UpdateViewType texts are the live
// service's.
Status UpdateTable(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  static const Shape shape = Struct(
      "UpdateTableInput",
      {TableNameShape(),
       List("AttributeDefinitions",
            Struct("AttributeDefinition", {NotNull(Length(Str("AttributeName"), 1, 255)),
                                           NotNull(Enum(Str("AttributeType"), {"B", "N", "S"}))})),
       Enum(Str("BillingMode"), {"PROVISIONED", "PAY_PER_REQUEST"}), ThroughputShape(),
       Struct("StreamSpecification",
              {NotNull(Bool("StreamEnabled")),
               Enum(Str("StreamViewType"),
                    {"NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"})}),
       Enum(Str("TableClass"), {"STANDARD", "STANDARD_INFREQUENT_ACCESS"}),
       Bool("DeletionProtectionEnabled"),
       List("GlobalSecondaryIndexUpdates",
            Struct("GlobalSecondaryIndexUpdate",
                   {IndexShape("Create"), Struct("Delete", {NotNull(IndexNameShape("IndexName"))}),
                    Struct("Update",
                           {NotNull(IndexNameShape("IndexName")), NotNull(ThroughputShape())})}))});
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, shape));
  std::string_view name = StringMember(request, "TableName");
  const json::Value* stream = Member(request, "StreamSpecification");
  const json::Value* throughput = Member(request, "ProvisionedThroughput");
  std::string_view billing = StringMember(request, "BillingMode");
  const json::Value* gsi_updates = Member(request, "GlobalSecondaryIndexUpdates");
  if (gsi_updates != nullptr && gsi_updates->Empty()) gsi_updates = nullptr;
  if (gsi_updates != nullptr) CRUDDUR_RETURN_IF_ERROR(CheckIndexUpdates(*gsi_updates));
  if (stream == nullptr && throughput == nullptr && billing.empty() && gsi_updates == nullptr &&
      Member(request, "DeletionProtectionEnabled") == nullptr &&
      Member(request, "TableClass") == nullptr && Member(request, "SSESpecification") == nullptr) {
    return ValidationError(
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
        "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required");
  }
  if (billing == "PROVISIONED" && throughput == nullptr) {
    return ValidationError(
        "One or more parameter values were invalid: ProvisionedThroughput must be specified "
        "when BillingMode is PROVISIONED");
  }
  CRUDDUR_ASSIGN_OR_RETURN(auto table, FindTableForControlPlane(ctx, name));
  CRUDDUR_ASSIGN_OR_RETURN(TableMeta meta, TableMeta::Decode(table->meta));
  bool pay_per_request = billing.empty() ? meta.pay_per_request : billing == "PAY_PER_REQUEST";
  if (throughput != nullptr && pay_per_request) {
    return ValidationError(
        "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
        "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
  }
  if (throughput != nullptr) {
    int64_t read = LongMember(*throughput, "ReadCapacityUnits").value_or(0);
    int64_t write = LongMember(*throughput, "WriteCapacityUnits").value_or(0);
    if (!meta.pay_per_request && read == meta.read_units && write == meta.write_units) {
      return ValidationError(
          "The provisioned throughput for the table will not change. The requested value equals "
          "the current value. Current ReadCapacityUnits provisioned for the table: " +
          std::to_string(meta.read_units) + ". Requested ReadCapacityUnits: " +
          std::to_string(read) + ". Current WriteCapacityUnits provisioned for the table: " +
          std::to_string(meta.write_units) +
          ". Requested WriteCapacityUnits: " + std::to_string(write) +
          ". Refer to the Amazon DynamoDB Developer Guide for current limits and how to request "
          "higher limits.");
    }
    meta.read_units = read;
    meta.write_units = write;
  }
  if (pay_per_request) {
    meta.read_units = 0;
    meta.write_units = 0;
  }
  if (pay_per_request && !meta.pay_per_request) {
    // On demand, indexes have no throughput of their own either (it reads 0 until provisioned).
    meta.index_throughput.clear();
    meta.pay_per_request_since_micros = ctx.now_micros();
  }
  if (!pay_per_request && meta.pay_per_request) {
    // Back to PROVISIONED: every index needs its throughput in the same call (an Update action;
    // an index this call creates or deletes is covered by that action).
    CRUDDUR_RETURN_IF_ERROR(CheckEveryIndexProvisioned(*table, gsi_updates));
  }
  meta.pay_per_request = pay_per_request;
  if (Member(request, "DeletionProtectionEnabled") != nullptr) {
    meta.deletion_protection = BoolMember(request, "DeletionProtectionEnabled", false);
  }
  if (std::string_view table_class = StringMember(request, "TableClass"); !table_class.empty()) {
    meta.table_class = std::string(table_class);
    meta.table_class_updated_micros = ctx.now_micros();
  }
  std::optional<std::optional<storage::StreamViewType>> stream_change;
  if (stream != nullptr) {
    bool enabled = BoolMember(*stream, "StreamEnabled", false);
    std::string_view view = StringMember(*stream, "StreamViewType");
    if (enabled && view.empty()) {
      return ValidationError(
          "One or more parameter values were invalid: If stream is being enabled then "
          "UpdateViewType is required");
    }
    if (!enabled && !view.empty()) {
      return ValidationError(
          "One or more parameter values were invalid: If stream is being disabled, then "
          "UpdateViewType must not be specified");
    }
    if (enabled && table->stream_view) {
      return ValidationError("Table already has an enabled stream: TableName: " + table->name);
    }
    if (!enabled && !table->stream_view) {
      return ValidationError("Table has no stream to disable: TableName: " + table->name);
    }
    stream_change = enabled ? ParseStreamViewType(view) : std::nullopt;
  }
  IndexChange index_change;
  if (gsi_updates != nullptr) {
    CRUDDUR_ASSIGN_OR_RETURN(
        index_change, ReadIndexUpdates(request, *gsi_updates, *table, pay_per_request, &meta));
  }
  // The stream change is the one step that can still fail (a concurrent UpdateTable); do it
  // before the metadata so a failure leaves the table as it was. An index change carries the
  // metadata with it (its attribute definitions and throughput must appear with the index).
  if (stream_change) CRUDDUR_RETURN_IF_ERROR(ctx.engine->SetTableStream(name, *stream_change));
  if (index_change.create) {
    CRUDDUR_RETURN_IF_ERROR(ctx.engine->AddGlobalIndex(name, *index_change.create, meta.Encode()));
  } else if (!index_change.remove.empty()) {
    CRUDDUR_RETURN_IF_ERROR(
        ctx.engine->RemoveGlobalIndex(name, index_change.remove, meta.Encode()));
  } else {
    CRUDDUR_RETURN_IF_ERROR(ctx.engine->SetTableMeta(name, meta.Encode()));
  }
  auto updated = ctx.engine->GetTable(name);
  if (!updated)
    return NotFoundError("Requested resource not found: Table: " + std::string(name) +
                         " not found");
  out->StartObject();
  out->Key("TableDescription");
  WriteTableDescription(ctx, AsAnswered(*table, *updated, index_change), "ACTIVE", out);
  out->EndObject();
  return Status::Ok();
}

}  // namespace cruddur::dynamo::api
