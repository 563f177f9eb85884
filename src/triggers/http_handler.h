// HTTP over libcurl for the triggers module: the handler that POSTs the Lambda event to a URL,
// and the small request function `cruddur triggers` uses to reach the admin endpoints.
//
// Thread-safety: everything here may be called from any thread; each call uses its own curl
// handle. libcurl's global initialisation runs once, on first use.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"
#include "triggers/handler.h"

namespace cruddur::triggers {

struct HttpResult {
  long status = 0;
  std::string body;  // at most `max_body` bytes of the response body
};

// Sends one request with a JSON body (Content-Type: application/json when `body` is not empty)
// and waits for the whole answer, at most `timeout`. kIo when the server cannot be reached, the
// time runs out, or `cancel` becomes true (checked about once a second by libcurl).
Result<HttpResult> SendHttpRequest(std::string_view method, const std::string& url,
                                   std::string_view body, std::chrono::milliseconds timeout,
                                   const std::atomic<bool>* cancel = nullptr,
                                   size_t max_body = 1 << 20);

// POSTs BuildLambdaEvent(batch) to the URL. Any 2xx answer is success; anything else fails with
// the status and the start of the answer's body.
class HttpPostHandler : public Handler {
 public:
  HttpPostHandler(std::string url, std::chrono::milliseconds timeout)
      : url_(std::move(url)), timeout_(timeout) {}
  Status Handle(const Batch& batch) override;

 private:
  std::string url_;
  std::chrono::milliseconds timeout_;
};

}  // namespace cruddur::triggers
