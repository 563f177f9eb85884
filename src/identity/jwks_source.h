// Where a verifier's JSON Web Key Set comes from, and a verifier that re-fetches it.
//
// Cognito rotates its signing keys: a token may carry a kid the cached set does not have yet.
// RefreshingJwtVerifier then fetches the set again, but at most once per `min_refetch_seconds`,
// so a flood of tokens with made-up kids cannot turn into a flood of requests to Cognito.
//
// Thread-safety: fetchers may be called from any thread (one call at a time per verifier).
// RefreshingJwtVerifier is safe from any number of threads; verification with a known kid
// takes a short lock only to copy a shared pointer, and one thread fetches while the others that
// need the new set wait for it.
// Failure modes: a fetch that fails is kIo naming the source and the cause (HTTP status,
// connection error, size bound, missing file); a fetched document that is not a usable JWKS is
// kValidation (Jwks::Parse); token rejections are kUnrecognizedClient as in jwt.h.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "identity/jwt.h"

namespace cruddur::identity {

// Returns the JWKS document's text (at most kMaxJwksBytes).
using JwksFetcher = std::function<Result<std::string>()>;

// https://cognito-idp.<region>.amazonaws.com/<pool id>/.well-known/jwks.json
std::string CognitoJwksUrl(std::string_view region, std::string_view user_pool_id);

// GET `url` with libcurl (http and https only, at most 3 redirects, `timeout_ms` in all).
// Anything but a 200 with a body of at most kMaxJwksBytes is kIo.
JwksFetcher HttpJwksFetcher(std::string url, long timeout_ms = 5000);

// Reads the file at `path` each time (at most kMaxJwksBytes), so replacing the file rotates keys.
JwksFetcher FileJwksFetcher(std::string path);

struct RefreshingJwtVerifierOptions {
  JwtVerifierOptions verifier;
  std::int64_t min_refetch_seconds = 60;  // 0 = fetch whenever a kid is unknown
};

class RefreshingJwtVerifier {
 public:
  // Does not fetch: the first Verify (or Refresh) does.
  RefreshingJwtVerifier(RefreshingJwtVerifierOptions options, JwksFetcher fetcher);

  // Fetches the set now, whatever the rate limit says (e.g. at start-up), and keeps it if it
  // parses. The previous set stays in use when this fails.
  Status Refresh(std::int64_t now_unix_seconds);

  // Verifies like JwtVerifier::Verify. When the token's kid is not in the cached set (or there
  // is no set yet) and the last fetch attempt is at least min_refetch_seconds old, fetches once
  // and verifies against the new set; a failed fetch returns its Status (kIo or kValidation).
  // Within the rate limit an unknown kid is rejected without fetching.
  Result<AccessTokenClaims> Verify(std::string_view token, std::int64_t now_unix_seconds);

 private:
  struct Keys {
    Jwks jwks;
    JwtVerifier verifier;
  };
  std::shared_ptr<const Keys> Current();
  // Requires fetch_mu_.
  Status FetchLocked(std::int64_t now_unix_seconds);

  const RefreshingJwtVerifierOptions options_;
  const JwksFetcher fetcher_;

  std::mutex fetch_mu_;                       // one fetch at a time; held across the fetch
  std::optional<std::int64_t> last_attempt_;  // guarded by fetch_mu_
  Status last_error_;                         // guarded by fetch_mu_

  std::mutex keys_mu_;  // guards keys_ only, never held across a fetch
  std::shared_ptr<const Keys> keys_;
};

}  // namespace cruddur::identity
