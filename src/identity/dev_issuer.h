// A local stand-in for a Cognito user pool's token endpoint, for the embedded default where
// there is no Cognito: it holds an RSA key pair, publishes the public half as a JWKS, and signs
// access tokens whose header and claims have the shape of Cognito's, so the same JwtVerifier
// accepts them (configured with this issuer, client id and JWKS).
//
// The key is generated once and kept in the data folder by the caller (PrivateKeyPem /
// FromPrivateKeyPem); this class does no file I/O. The kid is the key's RFC 7638 JWK
// thumbprint, so it stays the same for as long as the key does.
//
// Ownership: a DevIssuer owns its key; copies share it. Thread-safety: immutable after
// construction; all const calls may run from any thread at once.
// Errors: kValidation for bad arguments or a PEM that is not a usable RSA private key;
// kInternal if OpenSSL fails.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "identity/jwt.h"

namespace cruddur::identity {

struct DevIssuerOptions {
  std::string issuer;     // the iss claim, e.g. "http://127.0.0.1:4567/local-cognito"
  std::string client_id;  // the client_id claim
  std::int64_t lifetime_seconds = 3600;  // Cognito's default access token validity
};

// Claims longer than this are refused (a handle or Cognito sub is far shorter).
inline constexpr std::size_t kMaxDevClaimBytes = 128;

class DevIssuer {
 public:
  // A new issuer with a fresh 2048-bit RSA key.
  static Result<DevIssuer> Generate(DevIssuerOptions options);
  // An issuer using a key saved earlier with PrivateKeyPem.
  static Result<DevIssuer> FromPrivateKeyPem(DevIssuerOptions options, std::string_view pem);

  // The private key as unencrypted PKCS#8 PEM, for the caller to store (mode 0600).
  Result<std::string> PrivateKeyPem() const;
  // {"keys":[{"alg":"RS256","e":...,"kid":...,"kty":"RSA","n":...,"use":"sig"}]}
  const std::string& JwksJson() const { return jwks_json_; }
  const std::string& kid() const { return kid_; }
  const DevIssuerOptions& options() const { return options_; }

  // Signs an access token for `sub` (the value to store in users.cognito_user_id) and
  // `username`, issued at `now_unix_seconds`, with Cognito's claims: sub, iss, client_id,
  // origin_jti, event_id, token_use "access", scope, auth_time, exp, iat, jti, username.
  Result<std::string> SignAccessToken(std::string_view sub, std::string_view username,
                                      std::int64_t now_unix_seconds) const;

 private:
  DevIssuer() = default;
  static Result<DevIssuer> FromKey(DevIssuerOptions options, std::shared_ptr<EVP_PKEY> key);

  DevIssuerOptions options_;
  std::shared_ptr<EVP_PKEY> key_;  // the key pair
  std::string kid_;
  std::string jwks_json_;
};

}  // namespace cruddur::identity
