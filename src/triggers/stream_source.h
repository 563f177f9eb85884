// Where the trigger runner reads stream records from: the shards of a table's DynamoDB stream,
// seen only through the DynamoDB Streams API (DescribeStream, GetShardIterator, GetRecords), never
// through the engine's storage. So the same runner polls the in-process engine, another
// `cruddur dynamodb`, AWS DynamoDB or any engine that speaks the Streams protocol.
//
// Errors are the Streams API's own (ErrorCode::kExpiredIterator, kTrimmedDataAccess,
// kResourceNotFound, ...), so the runner can react to them by type; transport failures are kIo.
//
// Thread-safety: implementations are thread-safe (the runner calls one source from every
// mapping's worker thread).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "dynamo/client/client.h"

namespace cruddur::triggers {

// One shard as DescribeStream lists it.
struct Shard {
  std::string shard_id;
  std::string parent_shard_id;           // empty when the shard has no parent
  std::string starting_sequence_number;  // SequenceNumberRange.StartingSequenceNumber
  std::string ending_sequence_number;    // empty while the shard is open
  bool closed() const { return !ending_sequence_number.empty(); }
};

// GetShardIterator's ShardIteratorType.
enum class IteratorType { kTrimHorizon, kLatest, kAtSequenceNumber, kAfterSequenceNumber };
std::string_view IteratorTypeName(IteratorType type);

// One stream record as GetRecords returned it.
struct StreamRecord {
  std::string sequence_number;  // dynamodb.SequenceNumber
  std::string event_name;       // INSERT | MODIFY | REMOVE
  std::string json;             // the whole record object, compact JSON, members as received
};

struct RecordsPage {
  std::vector<StreamRecord> records;
  // Absent once a closed shard has been read to its end (GetRecords sent no NextShardIterator).
  std::optional<std::string> next_iterator;
};

class StreamSource {
 public:
  virtual ~StreamSource() = default;

  // The ARN of the table's current stream. kResourceNotFound when the table does not exist or
  // has no enabled stream.
  virtual Result<std::string> LatestStreamArn(const std::string& table) = 0;

  // Every shard of the stream, parents listed before their children as DescribeStream lists
  // them (all pages).
  virtual Result<std::vector<Shard>> ListShards(const std::string& stream_arn) = 0;

  // `sequence_number` is used only with kAtSequenceNumber / kAfterSequenceNumber.
  virtual Result<std::string> GetShardIterator(const std::string& stream_arn,
                                               const std::string& shard_id, IteratorType type,
                                               const std::string& sequence_number) = 0;

  // At most `limit` records (clamped to 1..1000, GetRecords' bounds). kExpiredIterator when the
  // iterator is older than the Streams API allows (15 minutes on AWS).
  virtual Result<RecordsPage> GetRecords(const std::string& iterator, int limit) = 0;

  // Blocks until records may have arrived on the stream or `max_wait` passed, whichever is
  // first; spurious early returns are allowed. This default sleeps `max_wait` (plain polling);
  // a source inside the engine can wake on commit instead.
  virtual void WaitForRecords(const std::string& stream_arn, std::chrono::milliseconds max_wait);
};

// A StreamSource speaking the DynamoDB Streams JSON protocol through a DynamoClient: DescribeTable
// (for LatestStreamArn) on the DynamoDB API, the rest on the Streams API (AWS API Reference,
// "Amazon DynamoDB Streams"). The client must outlive the source.
class ClientStreamSource : public StreamSource {
 public:
  explicit ClientStreamSource(dynamo::DynamoClient* client) : client_(client) {}

  Result<std::string> LatestStreamArn(const std::string& table) override;
  Result<std::vector<Shard>> ListShards(const std::string& stream_arn) override;
  Result<std::string> GetShardIterator(const std::string& stream_arn, const std::string& shard_id,
                                       IteratorType type,
                                       const std::string& sequence_number) override;
  Result<RecordsPage> GetRecords(const std::string& iterator, int limit) override;

 private:
  dynamo::DynamoClient* client_;  // not owned
};

}  // namespace cruddur::triggers
