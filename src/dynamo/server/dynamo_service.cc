#include "dynamo/server/dynamo_service.h"

#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

#include "aws/sigv4.h"
#include "common/json.h"
#include "dynamo/api/idempotency.h"
#include "dynamo/api/streams.h"
#include "dynamo/auth/access.h"

namespace cruddur::dynamo {
namespace {

constexpr std::string_view kTargetPrefix = "DynamoDB_20120810.";
constexpr std::string_view kStreamsTargetPrefix = "DynamoDBStreams_20120810.";
constexpr std::string_view kJson10 = "application/x-amz-json-1.0";

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string RequestId() {
  // 52 upper-case alphanumerics, the form DynamoDB's request ids take.
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string id(52, 'A');
  for (char& c : id) c = kAlphabet[rng() % 36];
  return id;
}

void Finish(int status, std::string body, std::string_view content_type,
            net::HttpResponse* response) {
  response->status = status;
  uint32_t crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size())));
  response->headers.emplace_back("x-amzn-RequestId", RequestId());
  response->headers.emplace_back("x-amz-crc32", std::to_string(crc));
  response->headers.emplace_back("Content-Type", std::string(content_type));
  response->body = std::move(body);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Without an auth file: checks only that an Authorization header is a well-formed SigV4
// header, as DynamoDB Local does; any access key id is accepted, including ones with
// underscores.
Status CheckAuthorizationForm(const net::HttpRequest& request) {
  const std::string* auth = request.Header("authorization");
  if (auth == nullptr || Trim(*auth).substr(0, 5) != "AWS4-") {
    return Status(ErrorCode::kMissingAuthenticationToken,
                  "Request is missing Authentication Token");
  }
  std::string msg;
  for (const char* param : {"Credential=", "Signature=", "SignedHeaders="}) {
    if (auth->find(param) == std::string::npos) {
      std::string name(param, std::strlen(param) - 1);
      msg += "Authorization header requires '" + name + "' parameter. ";
    }
  }
  if (request.Header("x-amz-date") == nullptr && request.Header("date") == nullptr) {
    msg += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";
  }
  if (!msg.empty()) {
    return Status(ErrorCode::kIncompleteSignature, msg + "Authorization=" + *auth);
  }
  return Status::Ok();
}

// Runs an operation; an exception escaping it is a bug, reported as InternalServerError.
Result<std::string> Run(api::Operation op, api::ApiContext& ctx, const json::Document& doc) {
  json::StringBuffer buf;
  json::Writer writer(buf);
  Status st;
  try {
    st = op(ctx, doc, &writer);
  } catch (const std::exception& e) {
    st = InternalError(std::string("unexpected exception: ") + e.what());
  }
  if (!st.ok()) return st;
  return std::string(buf.GetString(), buf.GetSize());
}

Status UnrecognizedClient() {
  return Status(ErrorCode::kUnrecognizedClient,
                "The security token included in the request is invalid.");
}

// Constant time, as the signature comparison: a session token is a credential too.
bool SameToken(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// The operations a throttled table refuses: those that read or write items or stream records.
bool IsDataPlane(std::string_view operation) {
  static constexpr std::string_view kControl[] = {"CreateTable",
                                                  "DeleteTable",
                                                  "DescribeTable",
                                                  "UpdateTable",
                                                  "ListTables",
                                                  "ListStreams",
                                                  "DescribeStream",
                                                  "UpdateTimeToLive",
                                                  "DescribeTimeToLive",
                                                  "TagResource",
                                                  "UntagResource",
                                                  "ListTagsOfResource",
                                                  "DescribeLimits",
                                                  "DescribeEndpoints",
                                                  "DescribeContinuousBackups",
                                                  "UpdateContinuousBackups"};
  for (std::string_view control : kControl) {
    if (operation == control) return false;
  }
  return true;
}

}  // namespace

struct DynamoService::Impl {
  storage::Engine* engine;
  DynamoServiceOptions options;
  api::IdempotencyCache idempotency;
  api::ApiContext ctx;
  aws::SigV4 sigv4;  // its signing-key cache is shared by every request thread
  std::atomic<uint64_t> throttle_counter{0};  // options.inject_throttling's request count

  // Turns the finished `response` into a deferred one: its head goes out now, its body once the
  // engine says the commits up to `mark` are durable (sent from the syncer thread). The net
  // layer's only way to answer after the handler returned is a streaming response, whose head
  // leaves at once; the status and x-amz-crc32 are already known, and a client treats the
  // request as answered only when the body is complete, so the body is the acknowledgement.
  void AnswerWhenDurable(uint64_t mark, net::HttpResponse* response) {
    std::shared_ptr<net::ResponseStream> stream = net::ResponseStream::Create();
    engine->WhenDurable(mark, [stream, body = std::move(response->body)](Status durable) {
      if (!durable.ok()) {
        // The write is in the log but its fsync failed. No answer can be right: an error
        // would deny a write that may surface after a restart, and the 200 head is already
        // on its way anyway. Stop, as PostgreSQL does on a failed fsync; clients see the
        // connection drop (an unknown outcome, which they retry) and a restart recovers
        // whatever the disk holds.
        std::fprintf(stderr,
                     "cruddur dynamodb: fsync of the write-ahead log failed (%s); stopping so "
                     "that no write is acknowledged that may not be durable\n",
                     durable.ToString().c_str());
        std::abort();
      }
      stream->Write(body);
      stream->Close();
    });
    response->body.clear();
    response->stream = std::move(stream);
  }

  int64_t NowSeconds() const {
    if (options.now_seconds) return options.now_seconds();
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  // With an auth file: who signed the request (SigV4), then whether their policies allow it.
  Status Authenticate(const net::HttpRequest& request, auth::ApiFamily family,
                      std::string_view operation, const json::Value& body) {
    const auth::AuthConfig& config = *options.auth;
    aws::RequestParts parts{request.method, request.target, request.headers, request.body};
    aws::SecretLookup lookup = [&config](std::string_view key_id) -> Result<std::string> {
      const auth::Principal* principal = config.Find(key_id);
      if (principal == nullptr) return UnrecognizedClient();
      return principal->secret_access_key;
    };
    aws::VerifyOptions verify;
    verify.service = "dynamodb";
    verify.region = options.region;
    verify.now_unix_seconds = NowSeconds();
    CRUDDUR_ASSIGN_OR_RETURN(aws::VerifiedRequest who, sigv4.Verify(parts, lookup, verify));
    const auth::Principal* principal = config.Find(who.access_key_id);
    // AWS refuses a token that does not belong to the key, including any token sent with
    // long-term credentials, with the same UnrecognizedClientException.
    if (principal == nullptr || !SameToken(principal->session_token, who.session_token)) {
      return UnrecognizedClient();
    }
    std::vector<auth::AccessCheck> checks = auth::DescribeAccess(
        family, operation, body, *engine, {options.region, config.account_id()});
    return auth::Authorize(*principal, checks);
  }
};

DynamoService::DynamoService(storage::Engine* engine, DynamoServiceOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->engine = engine;
  impl_->options = std::move(options);
  impl_->ctx.engine = engine;
  impl_->ctx.region = impl_->options.region;
  if (impl_->options.auth) impl_->ctx.account_id = impl_->options.auth->account_id();
  impl_->ctx.now_micros = NowMicros;
  impl_->ctx.idempotency = &impl_->idempotency;
}

DynamoService::~DynamoService() = default;

std::string DynamoService::ErrorBody(const Status& status) {
  json::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  w.Key("__type");
  std::string type =
      "com.amazonaws.dynamodb.v20120810#" + std::string(ErrorCodeName(status.code()));
  w.String(type.data(), static_cast<rapidjson::SizeType>(type.size()));
  w.Key("message");
  // The user of a local engine is also its operator: the detail of an internal fault helps
  // them, so it goes into the message (and to stderr, see Handle).
  std::string message = ErrorCodeHttpStatus(status.code()) >= 500
                            ? "The server encountered an internal error trying to fulfill the "
                              "request. " +
                                  status.message()
                            : status.message();
  w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  if (!status.details_json().empty()) {
    w.Key("__details");  // placeholder key, replaced below to splice raw members
    w.Null();
  }
  w.EndObject();
  std::string body(buf.GetString(), buf.GetSize());
  if (!status.details_json().empty()) {
    const std::string placeholder = "\"__details\":null";
    body.replace(body.rfind(placeholder), placeholder.size(), status.details_json());
  }
  return body;
}

net::HttpResponse DynamoService::RefusedResponse(net::HttpErrorKind kind) {
  net::HttpResponse response;
  Status status;
  int http = 400;
  switch (kind) {
    case net::HttpErrorKind::kBodyTooLarge:
      http = 413;
      status = ValidationError("Request size exceeded the maximum of 16777216 bytes");
      break;
    case net::HttpErrorKind::kHeadersTooLarge:
      http = 431;
      status = ValidationError("Request headers are too large");
      break;
    case net::HttpErrorKind::kTimeout:
      http = 408;
      status = ValidationError("Request headers were not received in time");
      break;
    case net::HttpErrorKind::kBadRequest:
      status = SerializationError("Malformed HTTP request");
      break;
  }
  Finish(http, ErrorBody(status), kJson10, &response);
  return response;
}

Result<std::string> DynamoService::Execute(Api api, std::string_view operation,
                                           std::string_view body) {
  api::Operation op =
      api == Api::kDynamoDB ? api::FindOperation(operation) : api::FindStreamsOperation(operation);
  if (op == nullptr) {
    return Status(ErrorCode::kUnknownOperation, "An unknown operation was requested.");
  }
  json::Document doc;
  CRUDDUR_RETURN_IF_ERROR(json::Parse(body.empty() ? std::string_view("{}") : body, &doc));
  return Run(op, impl_->ctx, doc);
}

const std::string& DynamoService::region() const { return impl_->options.region; }

void DynamoService::Handle(const net::HttpRequest& request, net::HttpResponse* response) {
  if (request.method == "GET") {
    // DynamoDB's unsigned health check answer (trailing space included).
    response->status = 200;
    response->headers.emplace_back("Content-Type", "text/plain");
    response->body = "healthy: dynamodb." + impl_->options.region + ".amazonaws.com ";
    return;
  }
  const std::string* ct = request.Header("content-type");
  std::string_view content_type = ct ? Trim(std::string_view(*ct).substr(0, ct->find(';'))) : "";
  std::string_view reply_type = content_type == "application/json" ? "application/json" : kJson10;
  auto fail = [&](const Status& st) {
    if (ErrorCodeHttpStatus(st.code()) >= 500) {
      std::fprintf(stderr, "cruddur dynamodb: internal error: %s\n", st.ToString().c_str());
    }
    Finish(ErrorCodeHttpStatus(st.code()), ErrorBody(st), reply_type, response);
  };
  // AWS answers these with a bare 404 "<UnknownOperationException/>"; a JSON body that says
  // what to send instead is kinder and still an UnknownOperationException to every SDK.
  if (request.method != "POST") {
    return fail(Status(ErrorCode::kUnknownOperation,
                       "DynamoDB requests are POST requests; " + request.method +
                           " is not supported (an unsigned GET / is the health check)"));
  }
  if (content_type != kJson10 && content_type != "application/json") {
    return fail(Status(ErrorCode::kUnknownOperation,
                       "Unsupported Content-Type '" + std::string(content_type) +
                           "': DynamoDB requests are sent as application/x-amz-json-1.0"));
  }

  json::Document doc;
  if (request.body.empty()) {
    return fail(SerializationError("The request body is empty; it must be a JSON object"));
  }
  Status parsed = json::Parse(request.body, &doc);
  if (!parsed.ok()) return fail(parsed);

  // DynamoDB and DynamoDB Streams share the port, as they share DynamoDB Local's; the target
  // prefix says which API an operation belongs to.
  const std::string* target = request.Header("x-amz-target");
  std::string_view target_view = target != nullptr ? std::string_view(*target) : "";
  api::Operation op = nullptr;
  auth::ApiFamily family = auth::ApiFamily::kDynamoDB;
  std::string_view operation;
  if (target_view.substr(0, kTargetPrefix.size()) == kTargetPrefix) {
    operation = target_view.substr(kTargetPrefix.size());
    op = api::FindOperation(operation);
  } else if (target_view.substr(0, kStreamsTargetPrefix.size()) == kStreamsTargetPrefix) {
    family = auth::ApiFamily::kStreams;
    operation = target_view.substr(kStreamsTargetPrefix.size());
    op = api::FindStreamsOperation(operation);
  }
  if (op == nullptr) {
    return fail(Status(ErrorCode::kUnknownOperation, "An unknown operation was requested."));
  }
  Status auth;
  if (impl_->options.auth) {
    // As in Run: an exception here would be a bug; it must refuse the request, not crash.
    try {
      auth = impl_->Authenticate(request, family, operation, doc);
    } catch (const std::exception& e) {
      auth = InternalError(std::string("unexpected exception in authorization: ") + e.what());
    }
  } else {
    auth = CheckAuthorizationForm(request);
  }
  if (!auth.ok()) return fail(auth);
  if (impl_->options.inject_throttling > 0 && IsDataPlane(operation)) {
    uint64_t n = impl_->throttle_counter.fetch_add(1, std::memory_order_relaxed);
    if (n % static_cast<uint64_t>(impl_->options.inject_throttling + 1) !=
        static_cast<uint64_t>(impl_->options.inject_throttling)) {
      return fail(Status(ErrorCode::kProvisionedThroughputExceeded,
                         "The level of configured provisioned throughput for the table was "
                         "exceeded. Consider increasing your provisioning level with the "
                         "UpdateTable API."));
    }
  }

  // Commits return once written; with EngineOptions::sync the answer waits for their fsync
  // below, off this event-loop thread.
  storage::Engine::DeferredCommits deferred(impl_->engine);
  Result<std::string> result = Run(op, impl_->ctx, doc);
  if (result.ok()) {
    Finish(200, std::move(result).value(), reply_type, response);
  } else {
    fail(result.status());
  }
  // Failed operations too: one may have committed part of its work (and a conditional
  // failure's answer must not promise a state that could vanish).
  const uint64_t mark = deferred.mark();
  if (mark != 0 && !impl_->engine->IsDurable(mark)) impl_->AnswerWhenDurable(mark, response);
}

}  // namespace cruddur::dynamo
