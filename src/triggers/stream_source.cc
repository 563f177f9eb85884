#include "triggers/stream_source.h"

#include <algorithm>
#include <set>
#include <thread>

#include "common/json.h"

namespace cruddur::triggers {
namespace {

// DescribeStream's Limit is at most 100 shards a page (API Reference, DescribeStream). A stream
// keeps 24 hours of shards, a few thousand at most; the page bound stops a server that keeps
// answering with a LastEvaluatedShardId from looping us forever.
constexpr int kShardsPerPage = 100;
constexpr int kMaxShardPages = 1000;

std::string StringMember(const json::Value& object, const char* name) {
  if (!object.IsObject()) return "";
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

Status Malformed(std::string_view operation, std::string_view what) {
  return InternalError(std::string(operation) + " response: " + std::string(what));
}

}  // namespace

std::string_view IteratorTypeName(IteratorType type) {
  switch (type) {
    case IteratorType::kTrimHorizon:
      return "TRIM_HORIZON";
    case IteratorType::kLatest:
      return "LATEST";
    case IteratorType::kAtSequenceNumber:
      return "AT_SEQUENCE_NUMBER";
    case IteratorType::kAfterSequenceNumber:
      return "AFTER_SEQUENCE_NUMBER";
  }
  return "TRIM_HORIZON";
}

void StreamSource::WaitForRecords(const std::string& /*stream_arn*/,
                                  std::chrono::milliseconds max_wait) {
  std::this_thread::sleep_for(max_wait);
}

Result<std::string> ClientStreamSource::LatestStreamArn(const std::string& table) {
  json::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  w.Key("TableName");
  w.String(table);
  w.EndObject();
  CRUDDUR_ASSIGN_OR_RETURN(std::string body,
                           client_->Call(dynamo::Api::kDynamoDB, "DescribeTable", buf.GetString()));
  json::Document doc;
  CRUDDUR_RETURN_IF_ERROR(json::Parse(body, &doc));
  if (!doc.IsObject() || !doc.HasMember("Table") || !doc["Table"].IsObject()) {
    return Malformed("DescribeTable", "no Table");
  }
  const json::Value& t = doc["Table"];
  // A disabled stream stays readable for 24 hours and DescribeTable keeps its LatestStreamArn,
  // but StreamSpecification then says StreamEnabled false or is absent (Developer Guide,
  // "Enabling a stream"): a mapping follows enabled streams only.
  bool enabled = false;
  auto spec = t.FindMember("StreamSpecification");
  if (spec != t.MemberEnd() && spec->value.IsObject()) {
    auto e = spec->value.FindMember("StreamEnabled");
    enabled = e != spec->value.MemberEnd() && e->value.IsBool() && e->value.GetBool();
  }
  std::string arn = StringMember(t, "LatestStreamArn");
  if (!enabled || arn.empty()) {
    return NotFoundError("Table " + table + " has no enabled stream");
  }
  return arn;
}

Result<std::vector<Shard>> ClientStreamSource::ListShards(const std::string& stream_arn) {
  std::vector<Shard> shards;
  std::set<std::string> seen;
  std::string start;
  for (int page = 0; page < kMaxShardPages; ++page) {
    json::StringBuffer buf;
    json::Writer w(buf);
    w.StartObject();
    w.Key("StreamArn");
    w.String(stream_arn);
    w.Key("Limit");
    w.Int(kShardsPerPage);
    if (!start.empty()) {
      w.Key("ExclusiveStartShardId");
      w.String(start);
    }
    w.EndObject();
    CRUDDUR_ASSIGN_OR_RETURN(
        std::string body, client_->Call(dynamo::Api::kStreams, "DescribeStream", buf.GetString()));
    json::Document doc;
    CRUDDUR_RETURN_IF_ERROR(json::Parse(body, &doc));
    if (!doc.IsObject() || !doc.HasMember("StreamDescription") ||
        !doc["StreamDescription"].IsObject()) {
      return Malformed("DescribeStream", "no StreamDescription");
    }
    const json::Value& desc = doc["StreamDescription"];
    auto list = desc.FindMember("Shards");
    if (list != desc.MemberEnd() && list->value.IsArray()) {
      for (const json::Value& s : list->value.GetArray()) {
        Shard shard;
        shard.shard_id = StringMember(s, "ShardId");
        if (shard.shard_id.empty()) return Malformed("DescribeStream", "a shard without ShardId");
        shard.parent_shard_id = StringMember(s, "ParentShardId");
        auto range = s.FindMember("SequenceNumberRange");
        if (range != s.MemberEnd()) {
          shard.starting_sequence_number = StringMember(range->value, "StartingSequenceNumber");
          shard.ending_sequence_number = StringMember(range->value, "EndingSequenceNumber");
        }
        if (seen.insert(shard.shard_id).second) shards.push_back(std::move(shard));
      }
    }
    std::string next = StringMember(desc, "LastEvaluatedShardId");
    if (next.empty()) return shards;
    if (next == start) return Malformed("DescribeStream", "LastEvaluatedShardId did not advance");
    start = std::move(next);
  }
  return Malformed("DescribeStream", "more than " + std::to_string(kMaxShardPages) + " pages");
}

Result<std::string> ClientStreamSource::GetShardIterator(const std::string& stream_arn,
                                                         const std::string& shard_id,
                                                         IteratorType type,
                                                         const std::string& sequence_number) {
  json::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  w.Key("StreamArn");
  w.String(stream_arn);
  w.Key("ShardId");
  w.String(shard_id);
  w.Key("ShardIteratorType");
  const std::string_view name = IteratorTypeName(type);
  w.String(name.data(), static_cast<rapidjson::SizeType>(name.size()));
  if (type == IteratorType::kAtSequenceNumber || type == IteratorType::kAfterSequenceNumber) {
    w.Key("SequenceNumber");
    w.String(sequence_number);
  }
  w.EndObject();
  CRUDDUR_ASSIGN_OR_RETURN(
      std::string body, client_->Call(dynamo::Api::kStreams, "GetShardIterator", buf.GetString()));
  json::Document doc;
  CRUDDUR_RETURN_IF_ERROR(json::Parse(body, &doc));
  std::string iterator = StringMember(doc, "ShardIterator");
  if (iterator.empty()) return Malformed("GetShardIterator", "no ShardIterator");
  return iterator;
}

Result<RecordsPage> ClientStreamSource::GetRecords(const std::string& iterator, int limit) {
  json::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  w.Key("ShardIterator");
  w.String(iterator);
  w.Key("Limit");
  w.Int(std::clamp(limit, 1, 1000));
  w.EndObject();
  CRUDDUR_ASSIGN_OR_RETURN(std::string body,
                           client_->Call(dynamo::Api::kStreams, "GetRecords", buf.GetString()));
  json::Document doc;
  CRUDDUR_RETURN_IF_ERROR(json::Parse(body, &doc));
  if (!doc.IsObject()) return Malformed("GetRecords", "not an object");
  RecordsPage page;
  auto records = doc.FindMember("Records");
  if (records != doc.MemberEnd() && records->value.IsArray()) {
    page.records.reserve(records->value.Size());
    for (const json::Value& r : records->value.GetArray()) {
      StreamRecord record;
      auto ddb = r.IsObject() ? r.FindMember("dynamodb") : r.MemberEnd();
      if (!r.IsObject() || ddb == r.MemberEnd()) {
        return Malformed("GetRecords", "a record without dynamodb");
      }
      record.sequence_number = StringMember(ddb->value, "SequenceNumber");
      if (record.sequence_number.empty()) {
        return Malformed("GetRecords", "a record without dynamodb.SequenceNumber");
      }
      record.event_name = StringMember(r, "eventName");
      record.json = json::ToString(r);
      page.records.push_back(std::move(record));
    }
  }
  // "If set to null, the shard has been closed and the requested iterator will not return any
  // more data" (API Reference, GetRecords, NextShardIterator).
  std::string next = StringMember(doc, "NextShardIterator");
  if (!next.empty()) page.next_iterator = std::move(next);
  return page;
}

}  // namespace cruddur::triggers
