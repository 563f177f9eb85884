// Errors as values. Every fallible call below the wire layer returns a Status or a Result<T>;
// nothing throws across a module boundary. A Status names a DynamoDB error type so that the
// one place that writes error responses (dynamo/api/errors) can turn it into
// {"__type": "com.amazonaws.dynamodb.v20120810#<Name>", "message": ...} without guessing.
//
// Thread-safety: Status and Result are values; distinct objects may be used from any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace cruddur {

// DynamoDB's documented error names (API Reference, "Common Errors" and each operation's
// "Errors"). kInternal maps to InternalServerError with HTTP 500; all others are HTTP 400.
enum class ErrorCode {
  kOk = 0,
  kValidation,                       // ValidationException
  kSerialization,                    // SerializationException
  kUnknownOperation,                 // UnknownOperationException
  kResourceNotFound,                 // ResourceNotFoundException
  kResourceInUse,                    // ResourceInUseException
  kConditionalCheckFailed,           // ConditionalCheckFailedException
  kTransactionCanceled,              // TransactionCanceledException
  kTransactionConflict,              // TransactionConflictException
  kTransactionInProgress,            // TransactionInProgressException
  kIdempotentParameterMismatch,      // IdempotentParameterMismatchException
  kItemCollectionSizeLimitExceeded,  // ItemCollectionSizeLimitExceededException
  kDuplicateItem,                    // DuplicateItemException (PartiQL INSERT)
  kLimitExceeded,                    // LimitExceededException
  kProvisionedThroughputExceeded,    // ProvisionedThroughputExceededException
  kRequestLimitExceeded,             // RequestLimitExceeded
  kThrottling,                       // ThrottlingException
  kMissingAuthenticationToken,       // MissingAuthenticationTokenException
  kIncompleteSignature,              // IncompleteSignatureException
  kInvalidSignature,                 // InvalidSignatureException
  kUnrecognizedClient,               // UnrecognizedClientException
  kAccessDenied,                     // AccessDeniedException
  kExpiredIterator,                  // ExpiredIteratorException
  kTrimmedDataAccess,                // TrimmedDataAccessException
  kInternal,                         // InternalServerError (HTTP 500)
  kIo,                               // storage/file failure; surfaces as InternalServerError
};

// The wire name of an error code, e.g. "ValidationException".
std::string_view ErrorCodeName(ErrorCode code);
// The code whose wire name is `name` (the part of an error's `__type` after '#'), or kInternal
// for a name this enum does not know. ErrorCodeFromName(ErrorCodeName(c)) == c for every code
// but kIo (which is reported as InternalServerError).
ErrorCode ErrorCodeFromName(std::string_view name);
// The HTTP status DynamoDB answers with for the code (400, or 500 for internal faults).
int ErrorCodeHttpStatus(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Extra top-level members for the error body, as a JSON object fragment without braces
  // (e.g. `"CancellationReasons":[...]`). Empty for most errors. Used by
  // TransactionCanceledException and ConditionalCheckFailedException's `Item`.
  const std::string& details_json() const { return details_json_; }
  Status&& WithDetails(std::string json) && {
    details_json_ = std::move(json);
    return std::move(*this);
  }

  // "ValidationException: <message>", for logs and test failure output.
  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
  std::string details_json_;
};

// Factories for the common errors, so call sites read as what they mean.
inline Status ValidationError(std::string message) {
  return Status(ErrorCode::kValidation, std::move(message));
}
inline Status SerializationError(std::string message) {
  return Status(ErrorCode::kSerialization, std::move(message));
}
inline Status NotFoundError(std::string message) {
  return Status(ErrorCode::kResourceNotFound, std::move(message));
}
inline Status InUseError(std::string message) {
  return Status(ErrorCode::kResourceInUse, std::move(message));
}
inline Status ConditionFailedError(std::string message = "The conditional request failed") {
  return Status(ErrorCode::kConditionalCheckFailed, std::move(message));
}
inline Status InternalError(std::string message) {
  return Status(ErrorCode::kInternal, std::move(message));
}
inline Status IoError(std::string message) { return Status(ErrorCode::kIo, std::move(message)); }

// A value or the Status explaining why there is none. Never holds an ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  Status TakeStatus() { return ok() ? Status() : std::move(std::get<Status>(v_)); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace cruddur

// Propagates a non-ok Status from an expression returning Status.
#define CRUDDUR_RETURN_IF_ERROR(expr) \
  do {                                \
    ::cruddur::Status _st = (expr);   \
    if (!_st.ok()) return _st;        \
  } while (0)

#define CRUDDUR_CONCAT_INNER(a, b) a##b
#define CRUDDUR_CONCAT(a, b) CRUDDUR_CONCAT_INNER(a, b)

// `CRUDDUR_ASSIGN_OR_RETURN(auto x, MakeX());` binds the value or returns the Status.
#define CRUDDUR_ASSIGN_OR_RETURN(lhs, expr) \
  CRUDDUR_ASSIGN_OR_RETURN_IMPL(CRUDDUR_CONCAT(_res_, __LINE__), lhs, expr)
#define CRUDDUR_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.TakeStatus();             \
  lhs = std::move(tmp).value()
