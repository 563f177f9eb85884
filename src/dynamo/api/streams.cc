// The DynamoDB Streams API over the engine's stream log.
//
// Validation texts: where DynamoDB Local and the live service have been seen to agree, theirs
// ("Invalid ShardIterator", "Shard does not exist", "Stream does not exist",
// "One or more parameter values were invalid: Invalid SequenceNumber"); range errors in the
// service's "1 validation error detected" form (request_shape.h).
//
// Iterators carry the stream ARN, then "|1|" and base64 of
// "<shard first seq>|<next seq to read>|<issued at, micros>". They are not signed: a forged
// one can only name positions a client could ask for with GetShardIterator anyway, and every
// field is checked against the live stream before use.
#include "dynamo/api/streams.h"

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstdio>
#include <ctime>

#include "dynamo/api/common.h"
#include "dynamo/api/request_shape.h"
#include "dynamo/json/attribute_json.h"

namespace cruddur::dynamo::api {
namespace {

using storage::ChangeKind;
using storage::ChangeRecord;
using storage::StreamInfo;
using storage::StreamShard;

constexpr int64_t kIteratorLifetimeMicros = int64_t{15} * 60 * 1000000;
// GetRecords answers at most 1 MB ("GetRecords": "up to 1 MB of data").
constexpr size_t kMaxRecordsBytes = size_t{1} << 20;
constexpr uint64_t kMaxSequence = UINT64_MAX - 1;

std::string SequenceNumber(uint64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%021" PRIu64, seq);
  return buf;
}

std::optional<uint64_t> ParseSequenceNumber(std::string_view text) {
  if (text.empty() || text.size() > 40) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    if (value > (kMaxSequence - static_cast<uint64_t>(c - '0')) / 10) return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

// A mix of the stream id and the shard's first sequence number, for the id's hex tail.
uint32_t ShardTag(uint64_t stream_id, uint64_t first_seq) {
  uint64_t h = stream_id * 0x9E3779B97F4A7C15ull ^ (first_seq + 0x632BE59BD9B4E019ull);
  h ^= h >> 31;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 29;
  return static_cast<uint32_t>(h);
}

std::string ShardId(uint64_t stream_id, uint64_t first_seq) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "shardId-%020" PRIu64 "-%08x", first_seq,
                ShardTag(stream_id, first_seq));
  return buf;
}

std::optional<uint64_t> ParseShardId(uint64_t stream_id, std::string_view id) {
  constexpr std::string_view kPrefix = "shardId-";
  if (id.size() != 37 || id.substr(0, kPrefix.size()) != kPrefix || id[28] != '-') {
    return std::nullopt;
  }
  std::optional<uint64_t> first = ParseSequenceNumber(id.substr(8, 20));
  if (!first || ShardId(stream_id, *first) != id) return std::nullopt;
  return first;
}

// The stream an ARN names, or nullopt.
std::optional<StreamInfo> FindStream(const ApiContext& ctx, std::string_view arn) {
  for (const StreamInfo& info : ctx.engine->ListStreams()) {
    if (StreamArn(ctx, info.table_name, info.created_micros) == arn) return info;
  }
  return std::nullopt;
}

Status StreamNotFound(std::string_view arn) {
  return NotFoundError("Requested resource not found: Stream: " + std::string(arn) + " not found");
}

void WriteKeySchemaOf(const storage::KeySchema& key, json::Writer* w) {
  w->Key("KeySchema");
  w->StartArray();
  for (const storage::KeyAttribute* attr : {&key.hash, key.range ? &*key.range : nullptr}) {
    if (attr == nullptr) continue;
    w->StartObject();
    w->Key("AttributeName");
    WriteString(w, attr->name);
    w->Key("KeyType");
    w->String(attr == &key.hash ? "HASH" : "RANGE");
    w->EndObject();
  }
  w->EndArray();
}

std::string MakeIterator(const ApiContext& ctx, const StreamInfo& info, uint64_t shard_first,
                         uint64_t position) {
  std::string payload = std::to_string(shard_first) + "|" + std::to_string(position) + "|" +
                        std::to_string(ctx.now_micros());
  return StreamArn(ctx, info.table_name, info.created_micros) + "|1|" + Base64Encode(payload);
}

struct Iterator {
  StreamInfo stream;
  uint64_t shard_first = 0;
  uint64_t position = 0;
  int64_t issued_micros = 0;
};

Result<Iterator> ParseIterator(const ApiContext& ctx, std::string_view text) {
  Status invalid = ValidationError("Invalid ShardIterator");
  size_t bar = text.find("|1|");
  if (bar == std::string_view::npos) return invalid;
  std::optional<StreamInfo> stream = FindStream(ctx, text.substr(0, bar));
  if (!stream) return invalid;
  Result<std::string> payload = Base64Decode(text.substr(bar + 3));
  if (!payload.ok()) return invalid;
  std::string_view rest = *payload;
  std::array<std::string_view, 3> fields;
  for (size_t i = 0; i < fields.size(); ++i) {
    size_t end = i + 1 < fields.size() ? rest.find('|') : rest.size();
    if (end == std::string_view::npos) return invalid;
    fields[i] = rest.substr(0, end);
    rest.remove_prefix(std::min(rest.size(), end + 1));
  }
  std::optional<uint64_t> first = ParseSequenceNumber(fields[0]);
  std::optional<uint64_t> position = ParseSequenceNumber(fields[1]);
  std::optional<uint64_t> issued = ParseSequenceNumber(fields[2]);
  if (!first || !position || !issued) return invalid;
  return Iterator{std::move(*stream), *first, *position, static_cast<int64_t>(*issued)};
}

// The shard of `stream` that starts at `first_seq`, or nullopt when it is gone (trimmed).
Result<std::optional<StreamShard>> FindShard(const ApiContext& ctx, uint64_t stream_id,
                                             uint64_t first_seq) {
  CRUDDUR_ASSIGN_OR_RETURN(std::vector<StreamShard> shards, ctx.engine->ListShards(stream_id));
  for (const StreamShard& shard : shards) {
    if (shard.first_seq == first_seq) return std::optional<StreamShard>(shard);
  }
  return std::optional<StreamShard>();
}

std::string EventId(uint64_t stream_id, uint64_t seq) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08x%08x%016" PRIx64, ShardTag(stream_id, 0),
                ShardTag(stream_id, seq), seq);
  return buf;
}

void WriteRecord(const ApiContext& ctx, const StreamInfo& stream, const ChangeRecord& change,
                 json::Writer* w) {
  static constexpr std::string_view kNames[] = {"INSERT", "MODIFY", "REMOVE"};
  w->StartObject();
  w->Key("eventID");
  WriteString(w, EventId(stream.id, change.seq));
  w->Key("eventName");
  WriteString(w, kNames[static_cast<int>(change.kind)]);
  w->Key("eventVersion");
  w->String("1.1");
  w->Key("eventSource");
  w->String("aws:dynamodb");
  w->Key("awsRegion");
  WriteString(w, ctx.region);
  w->Key("dynamodb");
  w->StartObject();
  // "rounded down to the closest second" (StreamRecord, API Reference).
  w->Key("ApproximateCreationDateTime");
  w->Int64(change.micros / 1000000);
  w->Key("Keys");
  WriteItem(change.keys, w);
  if (change.new_image) {
    w->Key("NewImage");
    WriteItem(*change.new_image, w);
  }
  if (change.old_image) {
    w->Key("OldImage");
    WriteItem(*change.old_image, w);
  }
  w->Key("SequenceNumber");
  WriteString(w, SequenceNumber(change.seq));
  w->Key("SizeBytes");
  w->Int64(static_cast<int64_t>(change.size_bytes));
  w->Key("StreamViewType");
  WriteString(w, StreamViewTypeName(stream.view));
  w->EndObject();
  if (change.by_service) {
    // TTL deletions ("Time to Live: ... the userIdentity field").
    w->Key("userIdentity");
    w->StartObject();
    w->Key("PrincipalId");
    w->String("dynamodb.amazonaws.com");
    w->Key("Type");
    w->String("Service");
    w->EndObject();
  }
  w->EndObject();
}

}  // namespace

std::string_view StreamViewTypeName(storage::StreamViewType view) {
  switch (view) {
    case storage::StreamViewType::kKeysOnly:
      return "KEYS_ONLY";
    case storage::StreamViewType::kNewImage:
      return "NEW_IMAGE";
    case storage::StreamViewType::kOldImage:
      return "OLD_IMAGE";
    case storage::StreamViewType::kNewAndOldImages:
      return "NEW_AND_OLD_IMAGES";
  }
  return "KEYS_ONLY";
}

std::optional<storage::StreamViewType> ParseStreamViewType(std::string_view name) {
  for (auto view :
       {storage::StreamViewType::kKeysOnly, storage::StreamViewType::kNewImage,
        storage::StreamViewType::kOldImage, storage::StreamViewType::kNewAndOldImages}) {
    if (StreamViewTypeName(view) == name) return view;
  }
  return std::nullopt;
}

std::string StreamLabel(int64_t created_micros) {
  time_t seconds = static_cast<time_t>(created_micros / 1000000);
  struct tm tm;
  gmtime_r(&seconds, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03d", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>((created_micros / 1000) % 1000));
  return buf;
}

std::string StreamArn(const ApiContext& ctx, std::string_view table, int64_t created_micros) {
  return TableArn(ctx, table) + "/stream/" + StreamLabel(created_micros);
}

Operation FindStreamsOperation(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, Operation>, 4> kOperations = {{
      {"DescribeStream", &DescribeStream},
      {"GetRecords", &GetRecords},
      {"GetShardIterator", &GetShardIterator},
      {"ListStreams", &ListStreams},
  }};
  for (const auto& [op_name, op] : kOperations) {
    if (op_name == name) return op;
  }
  return nullptr;
}

Status ListStreams(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  static const Shape shape =
      Struct("ListStreamsInput", {TableNameShape("TableName", false), Range(Long("Limit"), 1, 100),
                                  Length(Str("ExclusiveStartStreamArn"), 37, 1024)});
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, shape));
  std::string_view table = StringMember(request, "TableName");
  std::string_view start = StringMember(request, "ExclusiveStartStreamArn");
  size_t limit = static_cast<size_t>(LongMember(request, "Limit").value_or(100));
  std::vector<StreamInfo> streams = ctx.engine->ListStreams();  // by id: creation order
  size_t begin = 0;
  if (!start.empty()) {
    std::optional<StreamInfo> from = FindStream(ctx, start);
    if (!from) return ValidationError("Invalid ExclusiveStartStreamArn: " + std::string(start));
    while (begin < streams.size() && streams[begin].id <= from->id) ++begin;
  }
  out->StartObject();
  out->Key("Streams");
  out->StartArray();
  size_t n = 0;
  std::string last_arn;
  size_t i = begin;
  for (; i < streams.size() && n < limit; ++i) {
    const StreamInfo& info = streams[i];
    if (!table.empty() && info.table_name != table) continue;
    last_arn = StreamArn(ctx, info.table_name, info.created_micros);
    out->StartObject();
    out->Key("StreamArn");
    WriteString(out, last_arn);
    out->Key("TableName");
    WriteString(out, info.table_name);
    out->Key("StreamLabel");
    WriteString(out, StreamLabel(info.created_micros));
    out->EndObject();
    ++n;
  }
  out->EndArray();
  bool more = false;
  for (; i < streams.size() && !more; ++i) more = table.empty() || streams[i].table_name == table;
  if (n == limit && more) {
    out->Key("LastEvaluatedStreamArn");
    WriteString(out, last_arn);
  }
  out->EndObject();
  return Status::Ok();
}

Status DescribeStream(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  static const Shape shape =
      Struct("DescribeStreamInput",
             {NotNull(Length(Str("StreamArn"), 37, 1024)), Range(Long("Limit"), 1, 100),
              Length(Str("ExclusiveStartShardId"), 28, 65)});
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, shape));
  std::string_view arn = StringMember(request, "StreamArn");
  std::optional<StreamInfo> info = FindStream(ctx, arn);
  if (!info) return StreamNotFound(arn);
  size_t limit = static_cast<size_t>(LongMember(request, "Limit").value_or(100));
  std::string_view start = StringMember(request, "ExclusiveStartShardId");
  CRUDDUR_ASSIGN_OR_RETURN(std::vector<StreamShard> shards, ctx.engine->ListShards(info->id));

  out->StartObject();
  out->Key("StreamDescription");
  out->StartObject();
  out->Key("StreamArn");
  WriteString(out, arn);
  out->Key("StreamLabel");
  WriteString(out, StreamLabel(info->created_micros));
  out->Key("StreamStatus");
  out->String(info->disabled_micros != 0 ? "DISABLED" : "ENABLED");
  out->Key("StreamViewType");
  WriteString(out, StreamViewTypeName(info->view));
  out->Key("CreationRequestDateTime");
  WriteEpochSeconds(out, info->created_micros);
  out->Key("TableName");
  WriteString(out, info->table_name);
  WriteKeySchemaOf(info->key, out);
  out->Key("Shards");
  out->StartArray();
  size_t n = 0;
  std::string last_id;
  size_t i = 0;
  // Shard ids sort by age, so "after ExclusiveStartShardId" is a string comparison (and an id
  // of no shard simply starts wherever it sorts, as on AWS).
  while (i < shards.size() && !start.empty() && ShardId(info->id, shards[i].first_seq) <= start) {
    ++i;
  }
  for (; i < shards.size() && n < limit; ++i, ++n) {
    const StreamShard& shard = shards[i];
    last_id = ShardId(info->id, shard.first_seq);
    out->StartObject();
    out->Key("ShardId");
    WriteString(out, last_id);
    out->Key("SequenceNumberRange");
    out->StartObject();
    out->Key("StartingSequenceNumber");
    WriteString(out, SequenceNumber(shard.first_seq));
    if (shard.closed) {
      out->Key("EndingSequenceNumber");
      WriteString(out, SequenceNumber(std::max(shard.last_seq, shard.first_seq)));
    }
    out->EndObject();
    if (i > 0) {
      out->Key("ParentShardId");
      WriteString(out, ShardId(info->id, shards[i - 1].first_seq));
    }
    out->EndObject();
  }
  out->EndArray();
  if (i < shards.size()) {
    out->Key("LastEvaluatedShardId");
    WriteString(out, last_id);
  }
  out->EndObject();
  out->EndObject();
  return Status::Ok();
}

Status GetShardIterator(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  static const Shape shape = Struct(
      "GetShardIteratorInput",
      {NotNull(Length(Str("StreamArn"), 37, 1024)), NotNull(Length(Str("ShardId"), 28, 65)),
       NotNull(Enum(Str("ShardIteratorType"),
                    {"TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"})),
       Length(Str("SequenceNumber"), 21, 40)});
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, shape));
  std::string_view arn = StringMember(request, "StreamArn");
  std::string_view type = StringMember(request, "ShardIteratorType");
  const json::Value* seq_json = Member(request, "SequenceNumber");
  bool needs_seq = type == "AT_SEQUENCE_NUMBER" || type == "AFTER_SEQUENCE_NUMBER";
  if (needs_seq && seq_json == nullptr) {
    return ValidationError("Must provide SequenceNumber for ShardIteratorType " +
                           std::string(type));
  }
  if (!needs_seq && seq_json != nullptr) {
    return ValidationError("Must not provide SequenceNumber for ShardIteratorType " +
                           std::string(type));
  }
  std::optional<StreamInfo> info = FindStream(ctx, arn);
  if (!info) return StreamNotFound(arn);
  std::optional<uint64_t> first = ParseShardId(info->id, StringMember(request, "ShardId"));
  std::optional<StreamShard> shard;
  if (first) {
    CRUDDUR_ASSIGN_OR_RETURN(shard, FindShard(ctx, info->id, *first));
  }
  if (!shard) return NotFoundError("Shard does not exist");

  uint64_t end = shard->closed ? shard->last_seq : kMaxSequence;
  uint64_t position = 0;
  if (type == "TRIM_HORIZON") {
    position = std::max(shard->first_seq, info->trim_seq);
  } else if (type == "LATEST") {
    position = shard->closed ? shard->last_seq + 1 : std::max(info->last_seq + 1, shard->first_seq);
  } else {
    std::optional<uint64_t> seq = ParseSequenceNumber(StringMember(request, "SequenceNumber"));
    if (!seq || *seq < shard->first_seq || *seq > end) {
      return ValidationError("One or more parameter values were invalid: Invalid SequenceNumber");
    }
    if (*seq < info->trim_seq) {
      return Status(ErrorCode::kTrimmedDataAccess,
                    "The operation attempted to read past the oldest stream record in a shard");
    }
    position = type == "AT_SEQUENCE_NUMBER" ? *seq : *seq + 1;
  }
  out->StartObject();
  out->Key("ShardIterator");
  WriteString(out, MakeIterator(ctx, *info, shard->first_seq, position));
  out->EndObject();
  return Status::Ok();
}

Status GetRecords(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  static const Shape shape =
      Struct("GetRecordsInput",
             {NotNull(Length(Str("ShardIterator"), 1, 2048)), Range(Long("Limit"), 1, 1000)});
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, shape));
  CRUDDUR_ASSIGN_OR_RETURN(Iterator it, ParseIterator(ctx, StringMember(request, "ShardIterator")));
  int64_t now = ctx.now_micros();
  if (now - it.issued_micros > kIteratorLifetimeMicros) {
    return Status(ErrorCode::kExpiredIterator,
                  "Iterator expired. The iterator was created at time " +
                      StreamLabel(it.issued_micros) + " while right now it's " + StreamLabel(now) +
                      ". The iterator is valid for 15 minutes.");
  }
  CRUDDUR_ASSIGN_OR_RETURN(std::optional<StreamShard> shard,
                           FindShard(ctx, it.stream.id, it.shard_first));
  std::optional<StreamInfo> current = ctx.engine->GetStream(it.stream.id);
  if (!shard || !current || it.position < current->trim_seq) {
    return Status(ErrorCode::kTrimmedDataAccess,
                  "The operation attempted to read past the oldest stream record in a shard");
  }
  uint64_t end = shard->closed ? shard->last_seq : kMaxSequence;
  size_t limit = static_cast<size_t>(LongMember(request, "Limit").value_or(1000));
  CRUDDUR_ASSIGN_OR_RETURN(
      std::vector<ChangeRecord> records,
      ctx.engine->ReadStream(it.stream.id, it.position, end, limit, kMaxRecordsBytes));
  uint64_t next = records.empty() ? it.position : records.back().seq + 1;

  out->StartObject();
  out->Key("Records");
  out->StartArray();
  for (const ChangeRecord& change : records) WriteRecord(ctx, *current, change, out);
  out->EndArray();
  // A closed shard that has been read to its end has no next iterator ("GetRecords":
  // "If NextShardIterator is null, the shard has been closed").
  if (!shard->closed || next <= shard->last_seq) {
    out->Key("NextShardIterator");
    WriteString(out, MakeIterator(ctx, *current, it.shard_first, next));
  }
  out->EndObject();
  return Status::Ok();
}

}  // namespace cruddur::dynamo::api
