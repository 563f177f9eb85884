// The DynamoDB Streams API (X-Amz-Target "DynamoDBStreams_20120810.<Operation>"): ListStreams,
// DescribeStream, GetShardIterator, GetRecords over the engine's stream log
// (storage::Engine "Streams"), plus the names and ARNs that DescribeTable shares with it.
//
// Forms follow AWS's (API Reference, "Amazon DynamoDB Streams"):
//   stream ARN   arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>, the label
//                being the stream's creation time, "2026-11-24T08:54:24.123" (UTC, ms)
//   shard id     shardId-<20 digits>-<8 hex>, 37 characters (the SDKs reject ids shorter than
//                28); the digits are the shard's first sequence number, so ids sort by age
//   sequence no. 21 decimal digits, increasing along the stream
//   iterator     opaque; valid for 15 minutes (then ExpiredIteratorException)
//
// Thread-safety: as api.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dynamo/api/api.h"

namespace cruddur::dynamo::api {

// The Streams operation named `name` (e.g. "GetRecords"), or nullptr.
Operation FindStreamsOperation(std::string_view name);

Status ListStreams(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status DescribeStream(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status GetShardIterator(ApiContext& ctx, const json::Value& request, json::Writer* out);
Status GetRecords(ApiContext& ctx, const json::Value& request, json::Writer* out);

// "KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES".
std::string_view StreamViewTypeName(storage::StreamViewType view);
std::optional<storage::StreamViewType> ParseStreamViewType(std::string_view name);
// The label and ARN of a stream created at `created_micros` on `table`.
std::string StreamLabel(int64_t created_micros);
std::string StreamArn(const ApiContext& ctx, std::string_view table, int64_t created_micros);

}  // namespace cruddur::dynamo::api
