#include "triggers/http_handler.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

namespace cruddur::triggers {
namespace {

// How much of an error answer's body goes into the Status message.
constexpr size_t kErrorBodyChars = 300;

void GlobalInit() {
  // curl_global_init is not thread-safe; every handle in the process comes after this.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Sink {
  std::string* body;
  size_t max;
};

size_t OnData(char* data, size_t size, size_t nmemb, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t n = size * nmemb;
  const size_t room = sink->max - std::min(sink->max, sink->body->size());
  sink->body->append(data, std::min(n, room));
  return n;  // keep reading (and discarding) past the bound: the status still counts
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* cancel = static_cast<const std::atomic<bool>*>(user);
  return cancel != nullptr && cancel->load(std::memory_order_relaxed) ? 1 : 0;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

Result<HttpResult> SendHttpRequest(std::string_view method, const std::string& url,
                                   std::string_view body, std::chrono::milliseconds timeout,
                                   const std::atomic<bool>* cancel, size_t max_body) {
  GlobalInit();
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return IoError("Cannot create an HTTP client handle");
  HttpResult result;
  Sink sink{&result.body, max_body};
  const std::string method_str(method);
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method_str.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM-based DNS timeouts across threads
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &OnData);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &OnProgress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(cancel));
  if (!body.empty() || method == "POST" || method == "PUT") {
    headers.reset(curl_slist_append(nullptr, "Content-Type: application/json"));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  const CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_ABORTED_BY_CALLBACK) return IoError("HTTP request to " + url + " cancelled");
  if (rc != CURLE_OK) {
    return IoError("HTTP request to " + url + " failed: " + curl_easy_strerror(rc));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &result.status);
  return result;
}

Status HttpPostHandler::Handle(const Batch& batch) {
  CRUDDUR_ASSIGN_OR_RETURN(HttpResult r, SendHttpRequest("POST", url_, BuildLambdaEvent(batch),
                                                         timeout_, batch.cancel, kErrorBodyChars));
  if (r.status >= 200 && r.status < 300) return Status::Ok();
  return InternalError("HTTP " + std::to_string(r.status) + " from " + url_ +
                       (r.body.empty() ? "" : ": " + r.body));
}

}  // namespace cruddur::triggers
