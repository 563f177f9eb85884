// Table administration beside the table itself: Time to Live (UpdateTimeToLive,
// DescribeTimeToLive), tags (TagResource, UntagResource, ListTagsOfResource), point-in-time
// recovery (UpdateContinuousBackups, DescribeContinuousBackups), and the account-level
// DescribeLimits and DescribeEndpoints.
//
// Settings live in the table's TableMeta. A change is a read-modify-write of that blob, so the
// operations here take one mutex around it: two concurrent TagResource calls both keep their
// tags (the race alternator's test_concurrent_tag reproduces). UpdateTable writes the blob
// without this mutex.
//
// Texts: the TTL ones are the live service's ("TimeToLive is already enabled", "TimeToLive is
// active on a different AttributeName: current AttributeName is <name>"); the tag and ARN ones
// are the live texts recorded by the ACK DynamoDB quirks catalogue (findings DDB-TABLE-107, 108,
// 372) and dynalite's tests ("Requested resource not found: ResourcArn: <arn> not found", the
// service's own spelling).
#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dynamo/api/api.h"
#include "dynamo/api/common.h"
#include "dynamo/api/request_shape.h"
#include "dynamo/api/table_meta.h"

namespace cruddur::dynamo::api {
namespace {

constexpr size_t kMaxTags = 50;          // per resource (Developer Guide, "Tagging restrictions")
constexpr size_t kMaxTagKeyChars = 128;  // Unicode characters
constexpr size_t kMaxTagValueChars = 256;
constexpr int64_t kDefaultRecoveryDays = 35;  // PointInTimeRecoveryDescription.RecoveryPeriodInDays
// AWS's LatestRestorableDateTime "is typically 5 minutes before the current time".
constexpr int64_t kRestoreLagMicros = int64_t{5} * 60 * 1000000;
constexpr int64_t kDayMicros = int64_t{86400} * 1000000;

std::mutex& MetaMutex() {
  static std::mutex mu;
  return mu;
}

// The continuous-backup operations document TableNotFoundException "Table not found: <name>";
// the error code enum has no TableNotFound yet, so the type is ResourceNotFoundException.
Result<std::shared_ptr<const storage::TableDef>> FindBackupTable(const ApiContext& ctx,
                                                                 std::string_view name) {
  auto table = ctx.engine->GetTable(name);
  if (!table) return NotFoundError("Table not found: " + std::string(name));
  return table;
}

// Applies `change` to the table's meta under the meta mutex and stores it.
template <typename Change>
Result<TableMeta> ChangeMeta(const ApiContext& ctx, const std::string& table_name,
                             const Change& change) {
  std::lock_guard lock(MetaMutex());
  auto table = ctx.engine->GetTable(table_name);
  if (!table) {
    return NotFoundError("Requested resource not found: Table: " + table_name + " not found");
  }
  CRUDDUR_ASSIGN_OR_RETURN(TableMeta meta, TableMeta::Decode(table->meta));
  CRUDDUR_RETURN_IF_ERROR(change(&meta));
  CRUDDUR_RETURN_IF_ERROR(ctx.engine->SetTableMeta(table_name, meta.Encode()));
  return meta;
}

// ---- Tags ----

// Decodes one UTF-8 code point at text[*i], advancing *i; false on a malformed sequence.
bool NextCodePoint(std::string_view text, size_t* i, char32_t* cp) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(*i);
  size_t len = lead < 0x80           ? 1
               : (lead >> 5) == 0x6  ? 2
               : (lead >> 4) == 0xe  ? 3
               : (lead >> 3) == 0x1e ? 4
                                     : 0;
  if (len == 0 || *i + len > text.size()) return false;
  char32_t value = len == 1 ? lead : lead & (0x7f >> len);
  for (size_t k = 1; k < len; ++k) {
    if ((byte(*i + k) & 0xc0) != 0x80) return false;
    value = (value << 6) | (byte(*i + k) & 0x3f);
  }
  *i += len;
  *cp = value;
  return true;
}

// AWS's tag pattern is ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$: letters, separators and numbers of any
// script plus those seven marks. Without a Unicode database we take ASCII exactly and, above
// it, refuse the blocks that hold only punctuation, symbols, controls and emoji.
bool AllowedTagChar(char32_t c) {
  if (c < 0x80) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::u32string_view(U" _.:/=+-@").find(c) != std::u32string_view::npos;
  }
  struct Range {
    char32_t lo, hi;
  };
  static constexpr Range kRefused[] = {
      {0x80, 0x9f},        // C1 controls
      {0xa1, 0xa9},        // Latin-1 punctuation and symbols: inverted !, cent .. copyright
      {0xab, 0xb1},        // guillemet .. plus-minus
      {0xb4, 0xb4},        // acute accent
      {0xb6, 0xb8},        // pilcrow, middle dot, cedilla
      {0xbb, 0xbb},        // right guillemet
      {0xbf, 0xbf},        // inverted ?
      {0xd7, 0xd7},        // multiplication sign
      {0xf7, 0xf7},        // division sign
      {0x2010, 0x2027},    // general punctuation: dashes, quotes, bullets
      {0x2030, 0x205e},    // per mille .. four dots
      {0x20a0, 0x20cf},    // currency symbols
      {0x2190, 0x2bff},    // arrows, mathematical operators, technical, shapes, dingbats
      {0x3001, 0x3003},    // CJK comma, full stop, ditto
      {0x3008, 0x3011},    // CJK brackets
      {0xd800, 0xf8ff},    // surrogates, private use
      {0xfe10, 0xfe6f},    // vertical, compatibility and small forms
      {0xff01, 0xff0f},    // fullwidth punctuation
      {0xff1a, 0xff20},    // fullwidth punctuation
      {0xfff0, 0xffff},    // specials
      {0x1f000, 0x1faff},  // emoji and pictographs
  };
  for (const Range& r : kRefused) {
    if (c >= r.lo && c <= r.hi) return false;
  }
  return true;
}

// Whether `text` is 0..max_chars Unicode characters of the tag alphabet.
bool ValidTagText(std::string_view text, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++chars) {
    char32_t c = 0;
    if (!NextCodePoint(text, &i, &c) || !AllowedTagChar(c)) return false;
  }
  return chars <= max_chars;
}

Status CheckTagKey(std::string_view key) {
  if (key.empty() || !ValidTagText(key, kMaxTagKeyChars)) {
    return ValidationError("The Tag Key provided is invalid, Key: " + std::string(key));
  }
  return Status::Ok();
}

Status TooManyTags() {
  return ValidationError("Number of Tags exceed the current limit for the provided ResourceArn");
}

// The table a ResourceArn names: arn:aws:dynamodb:<region>:<account>:table/<name> of this
// endpoint's region and account. Index and stream ARNs are refused as AWS refuses index ARNs.
Result<std::string> TableFromArn(const ApiContext& ctx, const json::Value& request) {
  const json::Value* member = Member(request, "ResourceArn");
  if (member == nullptr) return ValidationError("Invalid TableArn");
  std::string arn = JStr(*member);
  auto invalid = [&] {
    return ValidationError("Invalid TableArn: Invalid ResourceArn provided as input " + arn);
  };
  if (arn.rfind("arn:", 0) != 0) {
    return ValidationError(
        "One or more parameter values were invalid: ARNs must start with 'arn:': " + arn);
  }
  std::vector<std::string_view> parts;  // partition, service, region, account, resource
  std::string_view rest = std::string_view(arn).substr(4);
  for (int i = 0; i < 4; ++i) {
    size_t colon = rest.find(':');
    if (colon == std::string_view::npos) return invalid();
    parts.push_back(rest.substr(0, colon));
    rest.remove_prefix(colon + 1);
  }
  if (parts[1] != "dynamodb") {
    return ValidationError(
        "One or more parameter values were invalid: Provided Arn is not a DynamoDB resource arn: " +
        arn);
  }
  constexpr std::string_view kTablePrefix = "table/";
  if (rest.substr(0, kTablePrefix.size()) != kTablePrefix ||
      rest.find('/', kTablePrefix.size()) != std::string_view::npos) {
    return ValidationError(
        "One or more parameter values were invalid: Invalid resource arn provided, only table or "
        "stream is accepted. Provided resource arn: " +
        arn);
  }
  std::string_view name = rest.substr(kTablePrefix.size());
  bool name_ok = name.size() >= 3 && name.size() <= 255;
  for (char c : name) {
    name_ok = name_ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.');
  }
  if (!name_ok || parts[0] != "aws" || parts[2] != ctx.region || parts[3] != ctx.account_id) {
    return invalid();
  }
  return std::string(name);
}

Status ResourceNotFound(const json::Value& request) {
  return NotFoundError("Requested resource not found: ResourcArn: " +
                       std::string(StringMember(request, "ResourceArn")) + " not found");
}

void WriteContinuousBackups(const ApiContext& ctx, const TableMeta& meta, json::Writer* out) {
  out->StartObject();
  out->Key("ContinuousBackupsDescription");
  out->StartObject();
  out->Key("ContinuousBackupsStatus");
  out->String("ENABLED");
  out->Key("PointInTimeRecoveryDescription");
  out->StartObject();
  out->Key("PointInTimeRecoveryStatus");
  out->String(meta.pitr_enabled ? "ENABLED" : "DISABLED");
  if (meta.pitr_enabled) {
    int64_t now = ctx.now_micros();
    int64_t earliest = std::max(meta.pitr_enabled_micros, now - meta.pitr_days * kDayMicros);
    out->Key("RecoveryPeriodInDays");
    out->Int64(meta.pitr_days);
    out->Key("EarliestRestorableDateTime");
    WriteEpochSeconds(out, earliest);
    out->Key("LatestRestorableDateTime");
    WriteEpochSeconds(out, std::max(earliest, now - kRestoreLagMicros));
  }
  out->EndObject();
  out->EndObject();
  out->EndObject();
}

}  // namespace

// ---- Time to Live ----

Status UpdateTimeToLive(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  static const Shape shape = Struct(
      "UpdateTimeToLiveInput",
      {TableNameShape(),
       NotNull(Struct("TimeToLiveSpecification",
                      {NotNull(Length(Str("AttributeName"), 1, 255)), NotNull(Bool("Enabled"))}))});
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, shape));
  std::string name(StringMember(request, "TableName"));
  const json::Value& spec = request["TimeToLiveSpecification"];
  std::string attribute(StringMember(spec, "AttributeName"));
  bool enabled = BoolMember(spec, "Enabled", false);
  // DynamoDB Local answers ENABLED / DISABLED at once, where AWS passes through ENABLING and
  // DISABLING (and refuses a second change within the hour); the sweeper acts on the next pass.
  auto change = [&](TableMeta* meta) -> Status {
    if (!meta->ttl_attribute.empty() && meta->ttl_attribute != attribute) {
      return ValidationError(
          "TimeToLive is active on a different AttributeName: current AttributeName is " +
          meta->ttl_attribute);
    }
    if (enabled && !meta->ttl_attribute.empty()) {
      return ValidationError("TimeToLive is already enabled");
    }
    if (!enabled && meta->ttl_attribute.empty()) {
      return ValidationError("TimeToLive is already disabled");
    }
    meta->ttl_attribute = enabled ? attribute : "";
    return Status::Ok();
  };
  CRUDDUR_RETURN_IF_ERROR(ChangeMeta(ctx, name, change).status());
  out->StartObject();
  out->Key("TimeToLiveSpecification");
  out->StartObject();
  out->Key("Enabled");
  out->Bool(enabled);
  out->Key("AttributeName");
  WriteString(out, attribute);
  out->EndObject();
  out->EndObject();
  return Status::Ok();
}

Status DescribeTimeToLive(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  static const Shape shape = Struct("DescribeTimeToLiveInput", {TableNameShape()});
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, shape));
  CRUDDUR_ASSIGN_OR_RETURN(auto table,
                           FindTableForControlPlane(ctx, StringMember(request, "TableName")));
  CRUDDUR_ASSIGN_OR_RETURN(TableMeta meta, TableMeta::Decode(table->meta));
  out->StartObject();
  out->Key("TimeToLiveDescription");
  out->StartObject();
  out->Key("TimeToLiveStatus");
  out->String(meta.ttl_attribute.empty() ? "DISABLED" : "ENABLED");
  if (!meta.ttl_attribute.empty()) {
    out->Key("AttributeName");
    WriteString(out, meta.ttl_attribute);
  }
  out->EndObject();
  out->EndObject();
  return Status::Ok();
}

// ---- Tags ----

// Checks run in the order AWS was seen to apply them: the ARN's form, every tag (all or
// nothing), the table's existence, then the 50-tag limit on the merged set. Re-tagging a key
// replaces its value.
Status TagResource(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  static const Shape shape =
      Struct("TagResourceInput", {Length(Str("ResourceArn"), 1, 1283),
                                  List("Tags", Struct("Tag", {Str("Key"), Str("Value")}))});
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, shape));
  CRUDDUR_ASSIGN_OR_RETURN(std::string table_name, TableFromArn(ctx, request));
  const json::Value* tags = Member(request, "Tags");
  if (tags == nullptr || tags->Empty()) {
    return ValidationError("Atleast one Tag needs to be provided as Input.");
  }
  if (tags->Size() > kMaxTags) return TooManyTags();
  std::vector<std::pair<std::string, std::string>> added;
  for (const auto& tag : tags->GetArray()) {
    const json::Value* key = Member(tag, "Key");
    const json::Value* value = Member(tag, "Value");
    if (key == nullptr) return ValidationError("The Tag Key provided is invalid, Key: null");
    if (value == nullptr) return ValidationError("The Tag Value provided is invalid, Value: null");
    std::string k = JStr(*key), v = JStr(*value);
    CRUDDUR_RETURN_IF_ERROR(CheckTagKey(k));
    if (!ValidTagText(v, kMaxTagValueChars)) {
      return ValidationError("The Tag Value provided is invalid, Value: " + v);
    }
    if (k.rfind("aws:", 0) == 0) {
      return ValidationError("Tag Key cannot be prefixed with aws:, Key: " + k);
    }
    for (const auto& [seen, unused] : added) {
      if (seen == k) {
        return ValidationError("Duplicate Tag Keys provided as input: Duplicate Tag Key found " +
                               k);
      }
    }
    added.emplace_back(std::move(k), std::move(v));
  }
  if (!ctx.engine->GetTable(table_name)) return ResourceNotFound(request);
  auto change = [&](TableMeta* meta) -> Status {
    std::vector<std::pair<std::string, std::string>> merged = meta->tags;
    for (auto& [k, v] : added) {
      auto it =
          std::find_if(merged.begin(), merged.end(), [&](const auto& t) { return t.first == k; });
      if (it != merged.end()) {
        it->second = v;
      } else {
        merged.emplace_back(k, v);
      }
    }
    if (merged.size() > kMaxTags) return TooManyTags();
    meta->tags = std::move(merged);
    return Status::Ok();
  };
  Status st = ChangeMeta(ctx, table_name, change).status();
  if (st.code() == ErrorCode::kResourceNotFound) return ResourceNotFound(request);
  CRUDDUR_RETURN_IF_ERROR(st);
  out->StartObject();
  out->EndObject();
  return Status::Ok();
}

// Keys the table does not have are ignored, as on AWS.
Status UntagResource(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  static const Shape shape = Struct(
      "UntagResourceInput", {Length(Str("ResourceArn"), 1, 1283), List("TagKeys", Str("member"))});
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, shape));
  CRUDDUR_ASSIGN_OR_RETURN(std::string table_name, TableFromArn(ctx, request));
  const json::Value* keys = Member(request, "TagKeys");
  if (keys == nullptr || keys->Empty()) {
    return ValidationError("Atleast one Tag Key needs to be provided as Input.");
  }
  if (keys->Size() > kMaxTags) return TooManyTags();
  std::vector<std::string> removed;
  for (const auto& key : keys->GetArray()) {
    removed.push_back(JStr(key));
    CRUDDUR_RETURN_IF_ERROR(CheckTagKey(removed.back()));
  }
  auto change = [&](TableMeta* meta) -> Status {
    std::erase_if(meta->tags, [&](const auto& t) {
      return std::find(removed.begin(), removed.end(), t.first) != removed.end();
    });
    return Status::Ok();
  };
  Status st = ChangeMeta(ctx, table_name, change).status();
  if (st.code() == ErrorCode::kResourceNotFound) return ResourceNotFound(request);
  CRUDDUR_RETURN_IF_ERROR(st);
  out->StartObject();
  out->EndObject();
  return Status::Ok();
}

// A table holds at most 50 tags and AWS lists all 50 in one page without a NextToken
// (DDB-TABLE-108), so every answer is the whole list; a NextToken sent back is accepted and
// names no further page.
Status ListTagsOfResource(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  static const Shape shape =
      Struct("ListTagsOfResourceInput", {Length(Str("ResourceArn"), 1, 1283), Str("NextToken")});
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, shape));
  CRUDDUR_ASSIGN_OR_RETURN(std::string table_name, TableFromArn(ctx, request));
  auto table = ctx.engine->GetTable(table_name);
  if (!table) return ResourceNotFound(request);
  CRUDDUR_ASSIGN_OR_RETURN(TableMeta meta, TableMeta::Decode(table->meta));
  out->StartObject();
  out->Key("Tags");
  out->StartArray();
  for (const auto& [k, v] : meta.tags) {
    out->StartObject();
    out->Key("Key");
    WriteString(out, k);
    out->Key("Value");
    WriteString(out, v);
    out->EndObject();
  }
  out->EndArray();
  out->EndObject();
  return Status::Ok();
}

// ---- Point-in-time recovery ----
//
// Only the setting is kept: this engine takes no continuous backups and has no restore, so the
// restorable window is reported from the time recovery was enabled (at most RecoveryPeriodInDays
// back) to five minutes ago, as AWS words it.

Status DescribeContinuousBackups(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  static const Shape shape = Struct("DescribeContinuousBackupsInput", {TableNameShape()});
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, shape));
  CRUDDUR_ASSIGN_OR_RETURN(auto table, FindBackupTable(ctx, StringMember(request, "TableName")));
  CRUDDUR_ASSIGN_OR_RETURN(TableMeta meta, TableMeta::Decode(table->meta));
  WriteContinuousBackups(ctx, meta, out);
  return Status::Ok();
}

Status UpdateContinuousBackups(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  static const Shape shape =
      Struct("UpdateContinuousBackupsInput",
             {TableNameShape(),
              NotNull(Struct("PointInTimeRecoverySpecification",
                             {NotNull(Bool("PointInTimeRecoveryEnabled")),
                              Range(Long("RecoveryPeriodInDays"), 1, kDefaultRecoveryDays)}))});
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, shape));
  std::string name(StringMember(request, "TableName"));
  const json::Value& spec = request["PointInTimeRecoverySpecification"];
  bool enabled = BoolMember(spec, "PointInTimeRecoveryEnabled", false);
  std::optional<int64_t> days = LongMember(spec, "RecoveryPeriodInDays");
  if (!enabled && days) {
    return ValidationError(
        "Invalid Request: Cannot specify RecoveryPeriodInDays when disabling point-in-time "
        "recovery.");
  }
  CRUDDUR_RETURN_IF_ERROR(FindBackupTable(ctx, name).status());
  auto change = [&](TableMeta* meta) -> Status {
    // Re-enabling keeps the window that is already open.
    if (enabled && !meta->pitr_enabled) meta->pitr_enabled_micros = ctx.now_micros();
    meta->pitr_enabled = enabled;
    meta->pitr_days = days.value_or(enabled ? kDefaultRecoveryDays : meta->pitr_days);
    return Status::Ok();
  };
  auto changed = ChangeMeta(ctx, name, change);
  if (changed.status().code() == ErrorCode::kResourceNotFound) {
    return NotFoundError("Table not found: " + name);  // deleted meanwhile
  }
  CRUDDUR_RETURN_IF_ERROR(changed.status());
  WriteContinuousBackups(ctx, *changed, out);
  return Status::Ok();
}

// ---- Account ----

// AWS's default quotas per account and region (Developer Guide, "Quotas": 40,000 read and write
// capacity units per table, 80,000 per account), which DynamoDB Local reports too.
Status DescribeLimits(ApiContext&, const json::Value& request, json::Writer* out) {
  static const Shape shape = Struct("DescribeLimitsInput", {});
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, shape));
  out->StartObject();
  for (auto [name, units] : {std::pair{"AccountMaxReadCapacityUnits", 80000},
                             std::pair{"AccountMaxWriteCapacityUnits", 80000},
                             std::pair{"TableMaxReadCapacityUnits", 40000},
                             std::pair{"TableMaxWriteCapacityUnits", 40000}}) {
    out->Key(name);
    out->Int(units);
  }
  out->EndObject();
  return Status::Ok();
}

// The regional endpoint and the 1440-minute cache period AWS answers with (API Reference,
// DescribeEndpoints), for SDKs that discover endpoints.
Status DescribeEndpoints(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  static const Shape shape = Struct("DescribeEndpointsInput", {});
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, shape));
  out->StartObject();
  out->Key("Endpoints");
  out->StartArray();
  out->StartObject();
  out->Key("Address");
  WriteString(out, "dynamodb." + ctx.region + ".amazonaws.com");
  out->Key("CachePeriodInMinutes");
  out->Int(1440);
  out->EndObject();
  out->EndArray();
  out->EndObject();
  return Status::Ok();
}

}  // namespace cruddur::dynamo::api
