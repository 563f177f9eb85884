// What the API layer keeps about a table beyond what storage needs: attribute definitions,
// billing and throughput, tags, identity and creation time (stream settings live in
// storage::TableDef, which the write path reads). Stored as JSON in
// storage::TableDef::meta, and rendered as DynamoDB's TableDescription.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "dynamo/api/api.h"
#include "dynamo/storage/engine.h"

namespace cruddur::dynamo::api {

struct TableMeta {
  std::vector<std::pair<std::string, AttrType>> attribute_definitions;
  bool pay_per_request = false;
  int64_t read_units = 0, write_units = 0;
  // When the table last became PAY_PER_REQUEST (its creation time if it was created so); 0 if
  // it never was. BillingModeSummary is shown whenever this is set, as the service does.
  int64_t pay_per_request_since_micros = 0;
  std::map<std::string, std::pair<int64_t, int64_t>> index_throughput;  // GSI -> (read, write)
  std::vector<std::pair<std::string, std::string>> tags;
  bool deletion_protection = false;
  // TableClass as CreateTable or UpdateTable last set it (empty: never given, then
  // TableClassSummary is left out) and when UpdateTable changed it (0: never).
  std::string table_class;
  int64_t table_class_updated_micros = 0;
  std::string table_id;
  int64_t created_micros = 0;
  // UpdateTimeToLive: the TTL attribute while TTL is enabled; empty while it is disabled.
  std::string ttl_attribute;
  // UpdateContinuousBackups: point-in-time recovery, when it was last enabled (the earliest
  // restorable time) and its RecoveryPeriodInDays.
  bool pitr_enabled = false;
  int64_t pitr_enabled_micros = 0;
  int64_t pitr_days = 35;

  std::string Encode() const;
  static Result<TableMeta> Decode(std::string_view text);
};

// Whether `name` is a key attribute of the table or of one of its indexes (in any state).
bool UsesAttribute(const storage::TableDef& table, const std::string& name);

// Writes a TableDescription object (DescribeTable's "Table", CreateTable's and DeleteTable's
// "TableDescription") with the given TableStatus.
void WriteTableDescription(const ApiContext& ctx, const storage::TableDef& table,
                           std::string_view status, json::Writer* w);

}  // namespace cruddur::dynamo::api
