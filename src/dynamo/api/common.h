// Helpers shared by the operations: member access on an already shape-checked request, table
// lookup, key extraction and validation, expression attributes, ReturnValues and consumed
// capacity. Each states the DynamoDB behaviour it reproduces in common.cc.
//
// Thread-safety: pure functions apart from the engine calls, which are thread-safe.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "dynamo/api/api.h"
#include "dynamo/expr/expr.h"
#include "dynamo/model/attribute_value.h"
#include "dynamo/storage/engine.h"

namespace cruddur::dynamo::api {

// Largest item DynamoDB stores (400 KB, counted by ItemSize).
inline constexpr size_t kMaxItemBytes = 400 * 1024;
inline constexpr size_t kMaxHashKeyBytes = 2048;
inline constexpr size_t kMaxRangeKeyBytes = 1024;

// ---- Member access (after CheckShape: types are right, null counts as absent) ----
const json::Value* Member(const json::Value& obj, std::string_view name);
std::string_view StringMember(const json::Value& obj, std::string_view name);
std::optional<int64_t> LongMember(const json::Value& obj, std::string_view name);
bool BoolMember(const json::Value& obj, std::string_view name, bool if_absent);
// A string value (after CheckShape) as a std::string.
std::string JStr(const json::Value& v);

// ---- Tables ----
// The table, or ResourceNotFoundException "Requested resource not found".
Result<std::shared_ptr<const storage::TableDef>> FindTable(const ApiContext& ctx,
                                                           std::string_view name);
// The same, named in the message ("Requested resource not found: Table: <name> not found"), as
// the control-plane operations (DescribeTable, DeleteTable, UpdateTable, TTL) answer.
Result<std::shared_ptr<const storage::TableDef>> FindTableForControlPlane(const ApiContext& ctx,
                                                                          std::string_view name);
std::string TableArn(const ApiContext& ctx, std::string_view table);

// ---- Keys ----
// Decodes a `Key` parameter and checks it against the table's schema: exactly the key
// attributes with the schema's types, within the key size limits, no empty strings/binaries.
Result<Item> DecodeKey(const storage::TableDef& table, const json::Value& key_json);
// Checks a whole item for PutItem-like writes: table key attributes present with the right
// types and sizes, secondary-index key attributes (when present) of the index's type and not
// empty, and the 400 KB item limit.
Status CheckItemForWrite(const storage::TableDef& table, const Item& item);
// CheckItemForWrite for the result of an UpdateItem, whose empty secondary-index key values get
// the update's own text ("The update expression attempted to update a secondary index key to a
// value that is not supported. ...").
Status CheckUpdatedItem(const storage::TableDef& table, const Item& item);
// Ok unless `value` is an empty S or B; then DynamoDB's error for an empty value of key
// attribute `name` of the table (index == nullptr: "... Key: pk") or of `index` ("... IndexName:
// gix, IndexKey: g").
Status CheckKeyValueNotEmpty(const storage::IndexDef* index, const std::string& name,
                             const AttributeValue& value);
// The key attributes of `item` under `schema` (absent ones are skipped).
Item ExtractKey(const storage::KeySchema& schema, const Item& item);

// ---- Expressions ----
// Reads ExpressionAttributeNames/Values with DynamoDB's checks (non-empty, key syntax, valid
// values). `expression_params` lists the expression parameters present in the request (for
// the "can only be specified when using expressions" errors).
Result<expr::ExpressionAttributes> ReadExpressionAttributes(
    const json::Value& request, const std::vector<std::string_view>& value_expressions,
    const std::vector<std::string_view>& all_expressions);
// Rejects a request that uses both expression parameters (`expression_params`) and legacy
// non-expression ones (`legacy_params`, see legacy.h): "Can not use both expression and
// non-expression parameters in the same request: Non-expression parameters: {Expected}
// Expression parameters: {ConditionExpression}", each list in the order given.
Status CheckExpressionMix(const json::Value& request,
                          const std::vector<std::string_view>& expression_params,
                          const std::vector<std::string_view>& legacy_params);
// Parses an optional condition-style expression member ("ConditionExpression" or
// "FilterExpression"); an absent member yields an empty (always true) Condition.
Result<expr::Condition> ParseOptionalCondition(const json::Value& request, std::string_view param,
                                               expr::ExpressionAttributes* attrs);
// ProjectionExpression, or the legacy AttributesToGet list; nullopt when neither is given.
Result<std::optional<expr::Projection>> ParseOptionalProjection(const json::Value& request,
                                                                expr::ExpressionAttributes* attrs);

// ---- ReturnValues ----
enum class ReturnValues { kNone, kAllOld, kUpdatedOld, kAllNew, kUpdatedNew };
// Reads ReturnValues and checks it is one the operation allows (`allowed`), with DynamoDB's
// message "ReturnValues can only be ALL_OLD or NONE" (PutItem, DeleteItem).
Result<ReturnValues> ReadReturnValues(const json::Value& request,
                                      std::initializer_list<ReturnValues> allowed);

// ---- Consumed capacity (Developer Guide, "Read/write capacity mode") ----
enum class CapacityMode { kNone, kTotal, kIndexes };
CapacityMode ReadCapacityMode(const json::Value& request);
// Read units for `bytes` read: 4 KB units, rounded up, at least 1; half for eventually
// consistent reads.
double ReadUnits(size_t bytes, bool consistent);
// Write units for `bytes` written: 1 KB units, rounded up, at least 1.
double WriteUnits(size_t bytes);

struct ConsumedCapacity {
  std::string table;
  double table_units = 0;
  std::map<std::string, double> index_units;  // GSIs
  std::map<std::string, double> local_index_units;
  double total() const;
  // Writes "ConsumedCapacity": {...} (a member of the enclosing object) unless mode is kNone.
  void WriteMember(CapacityMode mode, json::Writer* w) const;
  // Writes the bare object (for the lists in batch and transaction responses).
  void WriteObject(CapacityMode mode, json::Writer* w) const;
};
// The entry for `table` in a per-table ConsumedCapacity list (batches, transactions), added
// at the end when absent, so entries keep the order tables first appear in the request.
ConsumedCapacity& CapacityFor(std::vector<ConsumedCapacity>* list, const std::string& table);
// Adds `from`'s units, multiplied by `factor` (2 for transactional writes), into *into.
void AddCapacity(const ConsumedCapacity& from, double factor, ConsumedCapacity* into);
// Writes "ConsumedCapacity": [...] unless mode is kNone.
void WriteCapacityList(CapacityMode mode, const std::vector<ConsumedCapacity>& list,
                       json::Writer* out);
// Adds the write cost to the indexes of `table` of replacing `old_item` by `new_item` (either
// may be empty): an index whose entry is added, changed or removed costs 1 KB units of the
// projected entry; a moved entry costs both its delete and its put.
void AddIndexWriteUnits(const storage::TableDef& table, const std::optional<Item>& old_item,
                        const std::optional<Item>& new_item, ConsumedCapacity* cc);

// ---- Responses ----
void WriteKeyValue(json::Writer* w, std::string_view key);
void WriteString(json::Writer* w, std::string_view s);
// A time as the service writes it: seconds since the epoch with millisecond precision.
void WriteEpochSeconds(json::Writer* w, int64_t micros);

}  // namespace cruddur::dynamo::api
