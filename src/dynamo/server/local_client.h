// The in-process DynamoDB client: DynamoClient calls go straight to a DynamoService's
// operations, without HTTP or serialization beyond the JSON bodies themselves. This is what
// `cruddur serve` uses on its embedded defaults.
//
// Thread-safety: as DynamoService, fully thread-safe. The service must outlive the client.
#pragma once

#include "dynamo/client/client.h"
#include "dynamo/server/dynamo_service.h"

namespace cruddur::dynamo {

class LocalDynamoClient : public DynamoClient {
 public:
  explicit LocalDynamoClient(DynamoService* service) : service_(service) {}
  Result<std::string> Call(Api api, std::string_view operation, std::string_view request) override {
    return service_->Execute(api, operation, request);
  }
  std::string region() const override { return service_->region(); }

 private:
  DynamoService* service_;  // not owned
};

}  // namespace cruddur::dynamo
