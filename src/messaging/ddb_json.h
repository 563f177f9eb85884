// Small helpers shared by the store and the stream handler for building DynamoDB JSON requests
// and reading responses. Internal to messaging.
//
// Thread-safety: pure functions; JsonOut is a value owned by one thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "dynamo/client/client.h"

namespace cruddur::messaging::ddb {

// A JSON text being written.
class JsonOut {
 public:
  JsonOut() : w_(buf_) {}
  json::Writer& w() { return w_; }
  std::string str() const { return std::string(buf_.GetString(), buf_.GetSize()); }
  void Key(std::string_view k);
  void String(std::string_view s);
  // "name":{"S":"value"}
  void S(std::string_view name, std::string_view value);

 private:
  json::StringBuffer buf_;
  json::Writer w_;
};

// item[name]["S"], or nullopt when absent or not a string attribute.
std::optional<std::string_view> GetS(const json::Value& item, const char* name);

// Calls the DynamoDB API and parses the response into `out`.
Status Call(dynamo::DynamoClient* client, std::string_view operation, const std::string& request,
            json::Document* out);

// The Code of each CancellationReason of a TransactionCanceledException ("None",
// "ConditionalCheckFailed", "TransactionConflict", ...); empty for any other Status.
std::vector<std::string> CancellationCodes(const Status& status);

}  // namespace cruddur::messaging::ddb
