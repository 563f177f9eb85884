#include "dynamo/server/dynamo_service.h"

#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>

#include "common/json.h"
#include "dynamo/api/idempotency.h"
#include "dynamo/api/streams.h"

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

// Checks that an Authorization header is a well-formed SigV4 header. Signatures are not
// verified yet (issue #7); any access key id is accepted, including ones with underscores.
Status CheckAuthorization(const net::HttpRequest& request) {
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

}  // namespace

struct DynamoService::Impl {
  storage::Engine* engine;
  DynamoServiceOptions options;
  api::IdempotencyCache idempotency;
  api::ApiContext ctx;
};

DynamoService::DynamoService(storage::Engine* engine, DynamoServiceOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->engine = engine;
  impl_->options = std::move(options);
  impl_->ctx.engine = engine;
  impl_->ctx.region = impl_->options.region;
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
  if (target_view.substr(0, kTargetPrefix.size()) == kTargetPrefix) {
    op = api::FindOperation(target_view.substr(kTargetPrefix.size()));
  } else if (target_view.substr(0, kStreamsTargetPrefix.size()) == kStreamsTargetPrefix) {
    op = api::FindStreamsOperation(target_view.substr(kStreamsTargetPrefix.size()));
  }
  if (op == nullptr) {
    return fail(Status(ErrorCode::kUnknownOperation, "An unknown operation was requested."));
  }
  Status auth = CheckAuthorization(request);
  if (!auth.ok()) return fail(auth);

  Result<std::string> result = Run(op, impl_->ctx, doc);
  if (!result.ok()) return fail(result.status());
  Finish(200, std::move(result).value(), reply_type, response);
}

}  // namespace cruddur::dynamo
