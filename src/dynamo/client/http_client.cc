// Why the pieces are as they are:
//  - Our own SigV4 signer, not curl's CURLOPT_AWS_SIGV4: curl's mis-handles non-default ports
//    (DESIGN.md), and one signer for client and server means they cannot disagree.
//  - The Host header is set explicitly to exactly the value signed (port omitted when it is
//    the scheme's default, as botocore does), and `Expect:` is cleared so curl does not stall
//    a large PutItem waiting for "100 Continue".
//  - Each attempt is signed afresh: a retry after a long backoff would otherwise carry a stale
//    X-Amz-Date.
//  - Retry policy and delays: botocore's legacy DynamoDB policy (data/_retry.json: 10
//    attempts, 50 ms base, throttling names, TransactionInProgressException, 5xx, the
//    x-amz-crc32 check, connection errors) with the AWS SDKs' full jitter and 20 s cap from the
//    "standard" mode, so a fleet of throttled clients spreads its retries out.
//  - TransactWriteItems: the API Reference says a ClientRequestToken makes the call
//    idempotent for 10 minutes; without one a retry after a lost response could apply the
//    transaction twice, so a token is added before the first attempt.
#include "dynamo/client/http_client.h"

#include <curl/curl.h>
#include <openssl/rand.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "common/json.h"

namespace cruddur::dynamo {
namespace {

constexpr std::string_view kJson10 = "application/x-amz-json-1.0";
// DynamoDB Streams is signed with the signing name of DynamoDB.
constexpr std::string_view kSigningService = "dynamodb";

struct Endpoint {
  std::string url;   // what curl is given: scheme://authority/path
  std::string host;  // the Host header: authority without a default port
  std::string path;  // "/" or the endpoint's path
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Result<Endpoint> ParseEndpoint(std::string_view url) {
  const size_t sep = url.find("://");
  if (sep == std::string_view::npos) {
    return ValidationError("endpoint '" + std::string(url) +
                           "' is not a URL: expected http://host[:port] or https://host[:port]");
  }
  const std::string scheme = Lower(url.substr(0, sep));
  if (scheme != "http" && scheme != "https") {
    return ValidationError("endpoint '" + std::string(url) + "' must use http or https");
  }
  std::string_view rest = url.substr(sep + 3);
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (authority.empty() || authority.find_first_of("@?# ") != std::string_view::npos ||
      path.find_first_of("?# ") != std::string::npos) {
    return ValidationError("endpoint '" + std::string(url) +
                           "' must be scheme://host[:port][/path], without user, query or "
                           "fragment");
  }
  std::string host = Lower(authority);
  const std::string default_port = scheme == "https" ? ":443" : ":80";
  const size_t close_bracket = host.rfind(']');  // IPv6 literal: the port follows the ']'
  const size_t colon = host.rfind(':');
  if (colon != std::string::npos && (close_bracket == std::string::npos || colon > close_bracket) &&
      host.substr(colon) == default_port) {
    host.resize(colon);
  }
  Endpoint out;
  out.url = scheme + "://" + std::string(authority) + path;
  out.host = std::move(host);
  out.path = std::move(path);
  return out;
}

// A version 4 UUID from OpenSSL's CSPRNG: 36 characters, within ClientRequestToken's 1..36.
std::string NewClientRequestToken() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof(b)) != 1) {
    std::random_device rd;
    for (unsigned char& c : b) c = static_cast<unsigned char>(rd());
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  char out[37];
  std::snprintf(out, sizeof(out),
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

// Adds a ClientRequestToken to a TransactWriteItems body that has none. A body that is not a
// JSON object is sent as it is: the engine answers it with its own SerializationException.
std::string WithClientRequestToken(std::string_view request) {
  json::Document doc;
  if (!json::Parse(request, &doc).ok() || !doc.IsObject() || doc.HasMember("ClientRequestToken")) {
    return std::string(request);
  }
  std::string token = NewClientRequestToken();
  doc.AddMember("ClientRequestToken", json::Value(token.c_str(), doc.GetAllocator()),
                doc.GetAllocator());
  return json::ToString(doc);
}

// The error names botocore retries for DynamoDB: the general throttling names plus
// ProvisionedThroughputExceeded and TransactionInProgress (the "still_processing" policy).
bool IsRetryableErrorName(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "ProvisionedThroughputExceededException",
      "ThrottlingException",
      "RequestLimitExceeded",
      "Throttling",
      "ThrottledException",
      "RequestThrottledException",
      "TransactionInProgressException",
  };
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

bool IsRetryableHttpStatus(long status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504 ||
         status == 509;
}

bool IsRetryableCurlError(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
      return true;
    default:
      return false;
  }
}

// A response that is cut short in an error message.
std::string Excerpt(std::string_view body) {
  constexpr size_t kMax = 200;
  return body.size() <= kMax ? std::string(body) : std::string(body.substr(0, kMax)) + "...";
}

// The Status for a non-200 answer, per client.h; `name` receives the error's type name as
// sent (empty when the body is not a DynamoDB error), which may be one ErrorCode lacks.
Status ErrorFromResponse(long http_status, const std::string& body, std::string* name_out) {
  json::Document doc;
  if (!json::Parse(body, &doc).ok() || !doc.IsObject() || !doc.HasMember("__type") ||
      !doc["__type"].IsString()) {
    const ErrorCode code = http_status >= 500 ? ErrorCode::kInternal : ErrorCode::kIo;
    return Status(code, "HTTP " + std::to_string(http_status) +
                            " without a DynamoDB error body: " + Excerpt(body));
  }
  std::string_view type(doc["__type"].GetString(), doc["__type"].GetStringLength());
  const size_t hash = type.rfind('#');
  std::string_view name = hash == std::string_view::npos ? type : type.substr(hash + 1);
  *name_out = std::string(name);
  std::string message;
  for (const char* key : {"message", "Message"}) {
    if (doc.HasMember(key) && doc[key].IsString()) {
      message.assign(doc[key].GetString(), doc[key].GetStringLength());
      break;
    }
  }
  ErrorCode code = ErrorCodeFromName(name);
  if (ErrorCodeName(code) != name) message = std::string(name) + ": " + message;

  json::StringBuffer buf;
  json::Writer writer(buf);
  writer.StartObject();
  bool any = false;
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    std::string_view key(it->name.GetString(), it->name.GetStringLength());
    if (key == "__type" || key == "message" || key == "Message") continue;
    writer.Key(it->name.GetString(), it->name.GetStringLength());
    it->value.Accept(writer);
    any = true;
  }
  writer.EndObject();
  Status status(code, std::move(message));
  if (!any) return status;
  std::string details(buf.GetString() + 1, buf.GetSize() - 2);  // without the braces
  return std::move(status).WithDetails(std::move(details));
}

struct CurlDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

// What one attempt brought back.
struct Response {
  long status = 0;
  std::string body;
  std::string crc32_header;  // empty when absent
  size_t limit = 0;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<Response*>(user);
  const size_t bytes = size * n;
  if (r->body.size() + bytes > r->limit) return 0;  // aborts the transfer: CURLE_WRITE_ERROR
  r->body.append(data, bytes);
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<Response*>(user);
  const size_t bytes = size * n;
  std::string_view line(data, bytes);
  if (line.substr(0, 5) == "HTTP/") r->crc32_header.clear();  // a new response's headers
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos && Lower(line.substr(0, colon)) == "x-amz-crc32") {
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) {
      value.remove_prefix(1);
    }
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) {
      value.remove_suffix(1);
    }
    r->crc32_header = std::string(value);
  }
  return bytes;
}

// Whether the body matches a present x-amz-crc32 header (the CRC32 of the body as sent, in
// decimal, which the AWS SDKs verify for DynamoDB).
bool Crc32Matches(const Response& r) {
  if (r.crc32_header.empty()) return true;
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(r.body.data()), static_cast<uInt>(r.body.size()));
  return r.crc32_header == std::to_string(static_cast<uint32_t>(crc));
}

std::once_flag curl_init_once;

}  // namespace

struct HttpDynamoClient::Impl {
  HttpDynamoClientOptions options;
  Endpoint endpoint;
  aws::SigV4 signer;

  std::mutex pool_mu;
  std::vector<CurlHandle> idle;  // guarded by pool_mu

  CurlHandle Acquire() {
    {
      std::lock_guard<std::mutex> lock(pool_mu);
      if (!idle.empty()) {
        CurlHandle h = std::move(idle.back());
        idle.pop_back();
        return h;
      }
    }
    return CurlHandle(curl_easy_init());
  }

  void Release(CurlHandle h) {
    std::lock_guard<std::mutex> lock(pool_mu);
    if (static_cast<int>(idle.size()) < options.max_idle_connections) {
      idle.push_back(std::move(h));
    }
  }

  // One attempt. `retryable` tells the caller whether a failure may be retried.
  Result<std::string> Attempt(std::string_view target, std::string_view body, bool* retryable);
  std::chrono::milliseconds Backoff(int retry) const;
};

std::chrono::milliseconds HttpDynamoClient::Impl::Backoff(int retry) const {
  const double cap = static_cast<double>(options.max_backoff.count());
  const double exp = static_cast<double>(options.base_backoff.count()) *
                     static_cast<double>(uint64_t{1} << std::min(retry, 30));
  return std::chrono::milliseconds(
      static_cast<int64_t>(options.random_unit() * std::min(cap, exp)));
}

Result<std::string> HttpDynamoClient::Impl::Attempt(std::string_view target, std::string_view body,
                                                    bool* retryable) {
  *retryable = false;
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Host", endpoint.host},
      {"Content-Type", std::string(kJson10)},
      {"X-Amz-Target", std::string(target)},
  };
  CRUDDUR_ASSIGN_OR_RETURN(
      aws::SignedRequest signed_request,
      signer.Sign({"POST", endpoint.path, headers, body}, options.credentials, options.region,
                  kSigningService, options.now_unix_seconds()));
  Slist list;
  auto append = [&list](const std::string& line) {
    curl_slist* next = curl_slist_append(list.get(), line.c_str());
    if (next == nullptr) return false;
    list.release();
    list.reset(next);
    return true;
  };
  bool ok = append("Expect:");
  for (const auto& [name, value] : headers) ok = ok && append(name + ": " + value);
  for (const auto& [name, value] : signed_request.headers_to_add) {
    ok = ok && append(name + ": " + value);
  }
  if (!ok) return IoError("out of memory building request headers");

  CurlHandle h = Acquire();
  if (!h) return IoError("curl_easy_init failed");
  CURL* c = h.get();
  curl_easy_reset(c);
  Response response;
  response.limit = options.max_response_bytes;
  curl_easy_setopt(c, CURLOPT_URL, endpoint.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(c, CURLOPT_USERAGENT, "cruddur-dynamodb-client/0.1");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options.request_timeout.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM: we are multi-threaded
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  const CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);  // `list` dies with this frame
  if (rc != CURLE_OK) {
    // A failed transfer may leave the connection in an unknown state; start afresh.
    h.reset();
    *retryable = IsRetryableCurlError(rc);
    if (rc == CURLE_WRITE_ERROR) {
      return IoError("response from " + endpoint.url + " is larger than " +
                     std::to_string(options.max_response_bytes) + " bytes");
    }
    return IoError("request to " + endpoint.url + " failed: " + curl_easy_strerror(rc));
  }
  Release(std::move(h));

  if (!Crc32Matches(response)) {
    *retryable = true;
    return IoError("response from " + endpoint.url + " failed its x-amz-crc32 check (header " +
                   response.crc32_header + ")");
  }
  if (response.status == 200) return std::move(response.body);
  std::string name;
  Status error = ErrorFromResponse(response.status, response.body, &name);
  *retryable = IsRetryableHttpStatus(response.status) || IsRetryableErrorName(name);
  return error;
}

HttpDynamoClientOptions OptionsFromConfig(const DynamoClientConfig& config) {
  HttpDynamoClientOptions options;
  options.endpoint = config.endpoint;
  options.region = config.region;
  options.credentials = config.credentials;
  if (config.max_attempts > 0) options.max_attempts = config.max_attempts;
  return options;
}

Result<std::unique_ptr<HttpDynamoClient>> HttpDynamoClient::Create(
    HttpDynamoClientOptions options) {
  CRUDDUR_ASSIGN_OR_RETURN(Endpoint endpoint, ParseEndpoint(options.endpoint));
  if (options.region.empty()) return ValidationError("the client needs a region");
  if (options.credentials.access_key_id.empty() || options.credentials.secret_access_key.empty()) {
    return ValidationError("the client needs an access key id and a secret access key");
  }
  if (options.max_attempts < 1 || options.max_attempts > 100) {
    return ValidationError("max_attempts must be between 1 and 100");
  }
  if (options.base_backoff.count() < 0 || options.max_backoff.count() < 0 ||
      options.connect_timeout.count() <= 0 || options.request_timeout.count() <= 0 ||
      options.max_idle_connections < 0) {
    return ValidationError("backoffs must not be negative and timeouts must be positive");
  }
  if (!options.now_unix_seconds) {
    options.now_unix_seconds = [] {
      return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count());
    };
  }
  if (!options.sleep) {
    options.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  }
  if (!options.random_unit) {
    options.random_unit = [] {
      thread_local std::mt19937_64 rng{std::random_device{}()};
      return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    };
  }
  // curl_global_init is not thread-safe; the first client initializes libcurl once.
  std::call_once(curl_init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->endpoint = std::move(endpoint);
  return std::unique_ptr<HttpDynamoClient>(new HttpDynamoClient(std::move(impl)));
}

HttpDynamoClient::HttpDynamoClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpDynamoClient::~HttpDynamoClient() = default;

std::string HttpDynamoClient::region() const { return impl_->options.region; }

Result<std::string> HttpDynamoClient::Call(Api api, std::string_view operation,
                                           std::string_view request) {
  std::string target(api == Api::kStreams ? "DynamoDBStreams_20120810." : "DynamoDB_20120810.");
  target += operation;
  std::string body;
  if (api == Api::kDynamoDB && operation == "TransactWriteItems") {
    body = WithClientRequestToken(request);
    request = body;
  }
  for (int attempt = 1;; ++attempt) {
    bool retryable = false;
    Result<std::string> result = impl_->Attempt(target, request, &retryable);
    if (result.ok() || !retryable || attempt >= impl_->options.max_attempts) return result;
    impl_->options.sleep(impl_->Backoff(attempt - 1));
  }
}

}  // namespace cruddur::dynamo
