// AWS Signature Version 4 (SigV4), one module for both sides of the wire: the HTTP DynamoDB
// client signs its requests with it, and the engine verifies incoming requests with it.
//
// The algorithm and its names follow the AWS IAM User Guide, "Create a signed AWS API request"
// and "Elements of an AWS API request signature": canonical request -> string to sign ->
// signing key (HMAC chain over date, region, service, "aws4_request") -> signature ->
// `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
// The building blocks are exposed so tests can check each step against the published
// Signature Version 4 test suite (src/aws/testdata/).
//
// Failure modes: signing fails (kValidation) only on requests it cannot sign: no Host header,
// or one that already carries X-Amz-Date, X-Amz-Security-Token or Authorization. Verification fails
// with the DynamoDB error a server should answer with: kMissingAuthenticationToken (no
// Authorization header), kIncompleteSignature (a malformed one), kUnrecognizedClient (the secret
// lookup does not know the access key), and kInvalidSignature (wrong scope, date skew, or a
// signature that does not match). Messages quote AWS's texts; untrusted values quoted in them are
// cut short.
//
// Thread-safety: the free functions are pure. SigV4 (the signing-key cache) is thread-safe;
// one instance may be shared by every thread of a client or a server.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"

namespace cruddur::aws {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
// Hex SHA-256 of the empty string: the payload hash of a request without a body.
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
// The clock skew AWS allows between a request's X-Amz-Date and the server's clock.
inline constexpr int64_t kMaxClockSkewSeconds = 15 * 60;

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term credentials; sent as X-Amz-Security-Token
};

// How the request path becomes the canonical URI. AWS: every service but S3 normalizes the
// path (RFC 3986 dot segments removed, empty segments collapsed) and URI-encodes the path as
// sent once more ("each path segment must be URI-encoded twice"); S3 does neither and encodes
// the decoded path once. DynamoDB's path is always "/", where both agree.
enum class PathStyle { kNormalizeAndEncode, kS3 };

// Headers as on the wire: names in any case, values as sent; a name may repeat.
using HeaderSpan = std::span<const std::pair<std::string, std::string>>;

// The parts of an HTTP request that SigV4 covers. Views: the caller keeps the data alive.
struct RequestParts {
  std::string_view method;  // "POST"
  std::string_view target;  // path and query as sent, e.g. "/" or "/a%20b?x=1&y"
  HeaderSpan headers;
  std::string_view payload;  // the body
};

// The credential scope: "<date>/<region>/<service>/aws4_request".
struct Scope {
  std::string date;  // YYYYMMDD
  std::string region;
  std::string service;
  std::string ToString() const;
};

// Canonical URI of a path (no query) per `style`.
std::string CanonicalUri(std::string_view path, PathStyle style);
// Canonical query string: each name and value percent-decoded, re-encoded with only the
// unreserved characters (A-Z a-z 0-9 - _ . ~) left as they are, joined as name=value, sorted
// by name then value, separated by '&'. A parameter without '=' has an empty value.
std::string CanonicalQueryString(std::string_view query);

struct CanonicalHeaders {
  std::string block;           // "name:value\n" for each signed header, sorted by name
  std::string signed_headers;  // "name1;name2;..."
};
// Canonical headers for the headers named in `signed_names` (lower case, any order), or for
// every header in `headers` when `signed_names` is empty. Names are lower-cased and sorted;
// values are trimmed with runs of spaces collapsed to one; repeated headers are joined with
// ',' in the order sent. Fails (kInvalidSignature) when a name to sign is not in `headers`.
Result<CanonicalHeaders> CanonicalizeHeaders(HeaderSpan headers,
                                             std::span<const std::string> signed_names);

// The canonical request: method, canonical URI, canonical query string, canonical headers,
// signed headers and the hex SHA-256 of the payload, separated by newlines.
std::string CanonicalRequest(std::string_view method, std::string_view target,
                             const CanonicalHeaders& headers, std::string_view payload_sha256,
                             PathStyle style);
// "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256 of canonical_request>".
std::string StringToSign(std::string_view amz_date, const Scope& scope,
                         std::string_view canonical_request);

using SigningKey = std::array<uint8_t, 32>;
// HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
SigningKey DeriveSigningKey(std::string_view secret, const Scope& scope);

std::string HexSha256(std::string_view data);
std::string HexHmacSha256(const SigningKey& key, std::string_view data);

// The three parameters of an Authorization header.
struct ParsedAuthorization {
  std::string access_key_id;
  Scope scope;
  std::vector<std::string> signed_headers;  // as listed (lower case, ';'-separated on the wire)
  std::string signature;                    // 64 lower-case hex digits
};
// Parses `AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request,
// SignedHeaders=a;b, Signature=hex`. Fails with kMissingAuthenticationToken when the value
// does not start with the algorithm, kIncompleteSignature naming what is missing or malformed.
Result<ParsedAuthorization> ParseAuthorization(std::string_view value);

// Formats the Authorization header value.
std::string AuthorizationHeader(std::string_view access_key_id, const Scope& scope,
                                std::string_view signed_headers, std::string_view signature);

// Formats seconds since the epoch as an X-Amz-Date (YYYYMMDDTHHMMSSZ, UTC).
std::string FormatAmzDate(int64_t unix_seconds);
// Parses an X-Amz-Date; fails with kIncompleteSignature when it is not YYYYMMDDTHHMMSSZ.
Result<int64_t> ParseAmzDate(std::string_view amz_date);

// What Sign produces: the headers to add to the request, and the steps, for tests and logs.
struct SignedRequest {
  std::vector<std::pair<std::string, std::string>>
      headers_to_add;  // X-Amz-Date, token, Authorization
  std::string canonical_request;
  std::string string_to_sign;
  std::string authorization;
};

// Who a verified request comes from.
struct VerifiedRequest {
  std::string access_key_id;
  std::string session_token;  // X-Amz-Security-Token as sent, or empty
  Scope scope;
  int64_t request_time = 0;  // X-Amz-Date as seconds since the epoch
};

// Looks up the secret of an access key. Returns the secret, or a Status (typically
// kUnrecognizedClient "The security token included in the request is invalid.") that Verify
// passes through. Called at most once per Verify, possibly from several threads at once.
using SecretLookup = std::function<Result<std::string>(std::string_view access_key_id)>;

struct VerifyOptions {
  std::string_view service;  // required scope service, e.g. "dynamodb"
  std::string_view region;   // required scope region; empty accepts any
  int64_t now_unix_seconds = 0;
  int64_t max_skew_seconds = kMaxClockSkewSeconds;
};

// Signs and verifies, caching derived signing keys per (secret, date, region, service): a key
// changes once a day, so a busy client or server derives it once instead of four HMACs per
// request. The cache is bounded; it is emptied when full.
class SigV4 {
 public:
  explicit SigV4(PathStyle path_style = PathStyle::kNormalizeAndEncode) : path_style_(path_style) {}
  SigV4(const SigV4&) = delete;
  SigV4& operator=(const SigV4&) = delete;

  // Signs `request` at `unix_seconds` for `region`/`service`. The request's headers must
  // include Host; every header in it is signed, plus the X-Amz-Date and (when the credentials
  // carry one) X-Amz-Security-Token headers that Sign adds. The request must not already carry
  // X-Amz-Date, X-Amz-Security-Token or Authorization.
  Result<SignedRequest> Sign(const RequestParts& request, const Credentials& credentials,
                             std::string_view region, std::string_view service,
                             int64_t unix_seconds);

  // Verifies a received request: parses its Authorization header, checks the scope (service,
  // region, date matching X-Amz-Date), the clock skew, looks the secret up and compares the
  // signature in constant time. Returns who signed it.
  Result<VerifiedRequest> Verify(const RequestParts& request, const SecretLookup& lookup,
                                 const VerifyOptions& options);

  // The signing key for `secret` and `scope`, from the cache or derived (and cached).
  SigningKey KeyFor(std::string_view secret, const Scope& scope);

 private:
  static constexpr size_t kMaxCachedKeys = 1024;
  PathStyle path_style_;
  std::mutex mu_;
  std::unordered_map<std::string, SigningKey> keys_;  // guarded by mu_
};

}  // namespace cruddur::aws
