// Verification of Amazon Cognito access tokens (RFC 7519 JWTs signed with RS256, RFC 7515/7518).
//
// A token is accepted only when every check passes, in this order: size bound, three
// base64url segments, header JSON with alg "RS256" (never "none", HS256 or anything else), a
// kid and no crit, a key with that kid in the JWKS, the RSA PKCS#1 v1.5 SHA-256 signature, then the
// claims: exp (required), nbf and iat (when present) with a small leeway, iss equal to the user
// pool's issuer, token_use "access", client_id equal to the app client, a non-empty sub.
// Header or payload objects with a repeated member name are rejected as ambiguous.
// This is the list in Cognito's "Verifying a JSON Web Token" guide.
//
// Errors: every rejection is Status kUnrecognizedClient whose message says exactly what is
// wrong ("invalid token: token expired", "invalid token: unknown kid 'x'", ...), for the 401
// body. The message is for people, not code: a caller that must know whether the kid is
// unknown (to re-fetch the JWKS) calls DecodeJwt and Jwks::Find itself.
//
// Thread-safety: Jwks and JwtVerifier are immutable after construction; const calls may run
// from any number of threads at once. Keys are shared, never copied, between copies.
#pragma once

#include <openssl/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace cruddur::identity {

// Tokens longer than this are rejected before any decoding. Cognito access tokens are ~1 KB.
inline constexpr std::size_t kMaxTokenBytes = 16 * 1024;
// JWKS documents longer than this are rejected (Cognito's holds two keys, under 1 KB).
inline constexpr std::size_t kMaxJwksBytes = 64 * 1024;
// Accepted RSA modulus sizes, in bits.
inline constexpr int kMinRsaBits = 2048;
inline constexpr int kMaxRsaBits = 8192;

// RFC 4648 section 5, without padding (as JWTs and JWKs use it).
std::string Base64UrlEncode(std::string_view bytes);
// Strict: rejects padding, characters outside the URL-safe alphabet, impossible lengths and
// non-zero unused bits. nullopt on any of those.
std::optional<std::string> Base64UrlDecode(std::string_view text);

// The issuer of a Cognito user pool: https://cognito-idp.<region>.amazonaws.com/<pool id>.
std::string CognitoIssuer(std::string_view region, std::string_view user_pool_id);

// A shared RSA public key. Never modified after it is built, so threads may verify with it at
// once (OpenSSL 3 allows concurrent use of an EVP_PKEY that nobody changes).
using PublicKey = std::shared_ptr<EVP_PKEY>;

// A JSON Web Key Set of RSA signing keys, by kid.
class Jwks {
 public:
  // Parses {"keys": [{"kty": "RSA", "kid": ..., "n": ..., "e": ..., "alg"?: "RS256",
  // "use"?: "sig"}, ...]}. Keys of another type, use or alg are skipped (a set may hold
  // encryption keys); a malformed RSA key, a duplicate kid or a set with no usable key is an
  // error (kValidation).
  static Result<Jwks> Parse(std::string_view json);

  // The key with this kid, or null.
  PublicKey Find(std::string_view kid) const;
  std::size_t size() const { return keys_.size(); }

 private:
  std::map<std::string, PublicKey, std::less<>> keys_;
};

// The parts of a token before its signature is checked. Nothing here is trustworthy yet.
struct UnverifiedJwt {
  std::string alg;
  std::string kid;
  std::string signing_input;  // base64url(header) "." base64url(payload)
  std::string signature;      // raw bytes
  std::string payload_json;
};

// Splits and decodes a token and checks its header (alg RS256, kid present). Does not look at
// the signature or the claims.
Result<UnverifiedJwt> DecodeJwt(std::string_view token);

// The claims of a verified Cognito access token.
struct AccessTokenClaims {
  std::string sub;        // the user's id; users.cognito_user_id
  std::string username;   // Cognito's username (may differ from preferred_username)
  std::string client_id;  // the app client
  std::string iss;
  std::string token_use;  // always "access"
  std::string scope;      // space-separated, empty when absent
  std::string jti;        // empty when absent
  std::int64_t exp = 0;
  std::optional<std::int64_t> iat;
  std::optional<std::int64_t> nbf;
  std::optional<std::int64_t> auth_time;
};

struct JwtVerifierOptions {
  std::string issuer;     // e.g. CognitoIssuer(region, pool)
  std::string client_id;  // the user pool app client id
  std::int64_t leeway_seconds = 60;
};

class JwtVerifier {
 public:
  JwtVerifier(JwtVerifierOptions options, Jwks keys);

  // Verifies `token` at `now_unix_seconds` and returns its claims, or kUnrecognizedClient
  // saying what is wrong.
  Result<AccessTokenClaims> Verify(std::string_view token, std::int64_t now_unix_seconds) const;

 private:
  JwtVerifierOptions options_;
  Jwks keys_;
};

}  // namespace cruddur::identity
