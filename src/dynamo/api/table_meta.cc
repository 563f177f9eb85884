#include "dynamo/api/table_meta.h"

#include "dynamo/api/common.h"
#include "dynamo/api/streams.h"

namespace cruddur::dynamo::api {
namespace {

std::string_view AsView(const json::Value& v) { return {v.GetString(), v.GetStringLength()}; }

void WriteKeySchema(const storage::KeySchema& key, json::Writer* w) {
  w->Key("KeySchema");
  w->StartArray();
  auto element = [&](const storage::KeyAttribute& a, const char* type) {
    w->StartObject();
    w->Key("AttributeName");
    WriteString(w, a.name);
    w->Key("KeyType");
    w->String(type);
    w->EndObject();
  };
  element(key.hash, "HASH");
  if (key.range) element(*key.range, "RANGE");
  w->EndArray();
}

void WriteThroughput(int64_t read, int64_t write, json::Writer* w) {
  w->Key("ProvisionedThroughput");
  w->StartObject();
  w->Key("NumberOfDecreasesToday");
  w->Int(0);
  w->Key("ReadCapacityUnits");
  w->Int64(read);
  w->Key("WriteCapacityUnits");
  w->Int64(write);
  w->EndObject();
}

void WriteIndex(const ApiContext& ctx, const storage::TableDef& table,
                const storage::IndexDef& index, const TableMeta& meta, bool global,
                json::Writer* w) {
  w->StartObject();
  w->Key("IndexName");
  WriteString(w, index.name);
  WriteKeySchema(index.key, w);
  w->Key("Projection");
  w->StartObject();
  w->Key("ProjectionType");
  w->String(index.projection == storage::ProjectionType::kAll        ? "ALL"
            : index.projection == storage::ProjectionType::kKeysOnly ? "KEYS_ONLY"
                                                                     : "INCLUDE");
  if (index.projection == storage::ProjectionType::kInclude) {
    w->Key("NonKeyAttributes");
    w->StartArray();
    for (const auto& n : index.non_key_attributes) WriteString(w, n);
    w->EndArray();
  }
  w->EndObject();
  if (global) {
    // An index added by UpdateTable is CREATING with Backfilling true until its backfill is
    // done; one being removed is DELETING (API Reference, "GlobalSecondaryIndexDescription";
    // Backfilling is absent for indexes created with the table).
    w->Key("IndexStatus");
    w->String(index.state == storage::IndexState::kBackfilling ? "CREATING"
              : index.state == storage::IndexState::kDeleting  ? "DELETING"
                                                               : "ACTIVE");
    if (index.state == storage::IndexState::kBackfilling) {
      w->Key("Backfilling");
      w->Bool(true);
    }
    auto it = meta.index_throughput.find(index.name);
    auto [r, wr] =
        it == meta.index_throughput.end() ? std::pair<int64_t, int64_t>{0, 0} : it->second;
    WriteThroughput(r, wr, w);
  }
  // Index sizes are "updated approximately every six hours" on AWS (DescribeTable); we report
  // zero rather than pay for a count on every describe. An index not yet (or no longer) ACTIVE
  // has none, as DynamoDB Local shows.
  if (index.state == storage::IndexState::kActive) {
    w->Key("IndexSizeBytes");
    w->Int64(0);
    w->Key("ItemCount");
    w->Int64(0);
  }
  w->Key("IndexArn");
  WriteString(w, TableArn(ctx, table.name) + "/index/" + index.name);
  w->EndObject();
}

}  // namespace

bool UsesAttribute(const storage::TableDef& table, const std::string& name) {
  auto in = [&](const storage::KeySchema& key) {
    return key.hash.name == name || (key.range && key.range->name == name);
  };
  if (in(table.key)) return true;
  for (const auto* list : {&table.gsis, &table.lsis}) {
    for (const storage::IndexDef& index : *list) {
      if (in(index.key)) return true;
    }
  }
  return false;
}

std::string TableMeta::Encode() const {
  json::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  w.Key("AttributeDefinitions");
  w.StartArray();
  for (const auto& [name, type] : attribute_definitions) {
    w.StartArray();
    WriteString(&w, name);
    WriteString(&w, AttrTypeName(type));
    w.EndArray();
  }
  w.EndArray();
  w.Key("PayPerRequest");
  w.Bool(pay_per_request);
  w.Key("PayPerRequestSince");
  w.Int64(pay_per_request_since_micros);
  w.Key("Read");
  w.Int64(read_units);
  w.Key("Write");
  w.Int64(write_units);
  w.Key("IndexThroughput");
  w.StartObject();
  for (const auto& [name, rw] : index_throughput) {
    WriteKeyValue(&w, name);
    w.StartArray();
    w.Int64(rw.first);
    w.Int64(rw.second);
    w.EndArray();
  }
  w.EndObject();
  w.Key("Tags");
  w.StartArray();
  for (const auto& [k, v] : tags) {
    w.StartArray();
    WriteString(&w, k);
    WriteString(&w, v);
    w.EndArray();
  }
  w.EndArray();
  w.Key("DeletionProtection");
  w.Bool(deletion_protection);
  w.Key("TableClass");
  WriteString(&w, table_class);
  w.Key("TableClassUpdated");
  w.Int64(table_class_updated_micros);
  w.Key("TableId");
  WriteString(&w, table_id);
  w.Key("Created");
  w.Int64(created_micros);
  w.Key("TtlAttribute");
  WriteString(&w, ttl_attribute);
  w.Key("Pitr");
  w.Bool(pitr_enabled);
  w.Key("PitrSince");
  w.Int64(pitr_enabled_micros);
  w.Key("PitrDays");
  w.Int64(pitr_days);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<TableMeta> TableMeta::Decode(std::string_view text) {
  json::Document doc;
  CRUDDUR_RETURN_IF_ERROR(json::Parse(text, &doc));
  TableMeta m;
  try {
    for (const auto& d : doc["AttributeDefinitions"].GetArray()) {
      AttrType type = AttrType::kS;
      ParseAttrType(AsView(d[1]), &type);
      m.attribute_definitions.emplace_back(std::string(AsView(d[0])), type);
    }
    m.pay_per_request = doc["PayPerRequest"].GetBool();
    m.read_units = doc["Read"].GetInt64();
    m.write_units = doc["Write"].GetInt64();
    for (const auto& e : doc["IndexThroughput"].GetObject()) {
      m.index_throughput[std::string(AsView(e.name))] = {e.value[0].GetInt64(),
                                                         e.value[1].GetInt64()};
    }
    for (const auto& t : doc["Tags"].GetArray()) {
      m.tags.emplace_back(std::string(AsView(t[0])), std::string(AsView(t[1])));
    }
    m.deletion_protection = doc["DeletionProtection"].GetBool();
    m.table_id = std::string(AsView(doc["TableId"]));
    m.created_micros = doc["Created"].GetInt64();
    // Tables created before TTL and point-in-time recovery existed lack these members.
    if (doc.HasMember("TtlAttribute")) m.ttl_attribute = std::string(AsView(doc["TtlAttribute"]));
    if (doc.HasMember("Pitr")) m.pitr_enabled = doc["Pitr"].GetBool();
    if (doc.HasMember("PitrSince")) m.pitr_enabled_micros = doc["PitrSince"].GetInt64();
    if (doc.HasMember("PitrDays")) m.pitr_days = doc["PitrDays"].GetInt64();
    if (doc.HasMember("TableClass")) m.table_class = std::string(AsView(doc["TableClass"]));
    if (doc.HasMember("TableClassUpdated")) {
      m.table_class_updated_micros = doc["TableClassUpdated"].GetInt64();
    }
    if (doc.HasMember("PayPerRequestSince")) {
      m.pay_per_request_since_micros = doc["PayPerRequestSince"].GetInt64();
    } else if (m.pay_per_request) {
      m.pay_per_request_since_micros = m.created_micros;  // older tables: created on demand
    }
  } catch (const json::JsonAssertion& e) {
    return InternalError(std::string("Corrupt table metadata: ") + e.what());
  }
  return m;
}

void WriteTableDescription(const ApiContext& ctx, const storage::TableDef& table,
                           std::string_view status, json::Writer* w) {
  auto decoded = TableMeta::Decode(table.meta);
  TableMeta meta = decoded.ok() ? std::move(decoded).value() : TableMeta();
  storage::TableStats stats = ctx.engine->Stats(table);

  w->StartObject();
  w->Key("AttributeDefinitions");
  w->StartArray();
  for (const auto& [name, type] : meta.attribute_definitions) {
    // Only the attributes some key still uses: a removed GSI's definitions go with it.
    if (!UsesAttribute(table, name)) continue;
    w->StartObject();
    w->Key("AttributeName");
    WriteString(w, name);
    w->Key("AttributeType");
    WriteString(w, AttrTypeName(type));
    w->EndObject();
  }
  w->EndArray();
  w->Key("TableName");
  WriteString(w, table.name);
  WriteKeySchema(table.key, w);
  w->Key("TableStatus");
  WriteString(w, status);
  w->Key("CreationDateTime");
  WriteEpochSeconds(w, meta.created_micros);
  WriteThroughput(meta.read_units, meta.write_units, w);
  w->Key("TableSizeBytes");
  w->Int64(stats.size_bytes);
  w->Key("ItemCount");
  w->Int64(stats.item_count);
  w->Key("TableArn");
  WriteString(w, TableArn(ctx, table.name));
  w->Key("TableId");
  WriteString(w, meta.table_id);
  // A table that was ever on demand keeps a BillingModeSummary, with the time it last switched
  // to PAY_PER_REQUEST, also after switching back to PROVISIONED.
  if (meta.pay_per_request || meta.pay_per_request_since_micros != 0) {
    w->Key("BillingModeSummary");
    w->StartObject();
    w->Key("BillingMode");
    w->String(meta.pay_per_request ? "PAY_PER_REQUEST" : "PROVISIONED");
    w->Key("LastUpdateToPayPerRequestDateTime");
    WriteEpochSeconds(w, meta.pay_per_request_since_micros);
    w->EndObject();
  }
  if (!meta.table_class.empty()) {
    w->Key("TableClassSummary");
    w->StartObject();
    w->Key("TableClass");
    WriteString(w, meta.table_class);
    if (meta.table_class_updated_micros != 0) {
      w->Key("LastUpdateDateTime");
      WriteEpochSeconds(w, meta.table_class_updated_micros);
    }
    w->EndObject();
  }
  if (!table.lsis.empty()) {
    w->Key("LocalSecondaryIndexes");
    w->StartArray();
    for (const auto& index : table.lsis) WriteIndex(ctx, table, index, meta, false, w);
    w->EndArray();
  }
  if (!table.gsis.empty()) {
    w->Key("GlobalSecondaryIndexes");
    w->StartArray();
    for (const auto& index : table.gsis) WriteIndex(ctx, table, index, meta, true, w);
    w->EndArray();
  }
  // After a stream is disabled, StreamSpecification disappears while LatestStreamArn and
  // LatestStreamLabel stay (as observed on the live service).
  if (table.stream_view) {
    w->Key("StreamSpecification");
    w->StartObject();
    w->Key("StreamEnabled");
    w->Bool(true);
    w->Key("StreamViewType");
    WriteString(w, StreamViewTypeName(*table.stream_view));
    w->EndObject();
  }
  if (std::optional<storage::StreamInfo> stream =
          table.stream_id != 0 ? ctx.engine->GetStream(table.stream_id) : std::nullopt) {
    w->Key("LatestStreamLabel");
    WriteString(w, StreamLabel(stream->created_micros));
    w->Key("LatestStreamArn");
    WriteString(w, StreamArn(ctx, table.name, stream->created_micros));
  }
  w->Key("DeletionProtectionEnabled");
  w->Bool(meta.deletion_protection);
  w->EndObject();
}

}  // namespace cruddur::dynamo::api
