// Cognito access-token verification. The checks and their order follow the Amazon Cognito
// Developer Guide, "Verifying a JSON Web Token": decode, check the header's kid against the
// pool's JWKS, verify the RS256 signature, then exp, iss, token_use and client_id.
//
// Why RS256 only: a verifier that trusts the token's own `alg` can be fed `none` (no
// signature) or HS256 with the RSA public key used as the HMAC secret (RFC 8725 section 2.1).
// Cognito signs with RS256 and nothing else, so any other alg is refused before a key is used.
#include "identity/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <set>
#include <utility>

#include "common/json.h"

namespace cruddur::identity {
namespace {

// Header and claims are flat objects; a deeper document is not a Cognito token.
constexpr int kMaxTokenJsonDepth = 8;

Status Reject(std::string message) {
  return Status(ErrorCode::kUnrecognizedClient, "invalid token: " + std::move(message));
}

// A value from the token, quoted and cut short for an error message: the token is untrusted
// and the message goes back to the caller and into logs.
std::string Quote(std::string_view value) {
  constexpr std::size_t kMaxQuoted = 64;
  if (value.size() <= kMaxQuoted) return "'" + std::string(value) + "'";
  return "'" + std::string(value.substr(0, kMaxQuoted)) + "...'";
}

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int Base64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

struct BnDeleter {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;

struct BldDeleter {
  void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
struct ParamsDeleter {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

BnPtr BigNumFromBase64Url(std::string_view text) {
  std::optional<std::string> bytes = Base64UrlDecode(text);
  if (!bytes || bytes->empty()) return nullptr;
  return BnPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes->data()),
                         static_cast<int>(bytes->size()), nullptr));
}

// An RSA public key from a JWK's n and e (RFC 7518 section 6.3.1).
Result<PublicKey> RsaKeyFromJwk(std::string_view n_text, std::string_view e_text) {
  BnPtr n = BigNumFromBase64Url(n_text);
  BnPtr e = BigNumFromBase64Url(e_text);
  if (!n || !e) return ValidationError("JWK n or e is not base64url");
  int bits = BN_num_bits(n.get());
  if (bits < kMinRsaBits || bits > kMaxRsaBits) {
    return ValidationError("JWK RSA modulus has " + std::to_string(bits) + " bits, want " +
                           std::to_string(kMinRsaBits) + ".." + std::to_string(kMaxRsaBits));
  }
  if (BN_is_odd(e.get()) == 0 || BN_num_bits(e.get()) < 2 || BN_num_bits(e.get()) > 64) {
    return ValidationError("JWK RSA exponent is not a usable public exponent");
  }
  std::unique_ptr<OSSL_PARAM_BLD, BldDeleter> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return InternalError("cannot build RSA key parameters");
  }
  std::unique_ptr<OSSL_PARAM, ParamsDeleter> params(OSSL_PARAM_BLD_to_param(bld.get()));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return ValidationError("JWK is not a valid RSA public key");
  }
  return PublicKey(pkey, EVP_PKEY_free);
}

const json::Value* Member(const json::Value& object, const char* name) {
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

// RFC 7515 section 5.2 lets a parser either reject duplicate member names or take the last;
// RapidJSON's FindMember takes the first, so a token with {"client_id":"a","client_id":"b"}
// could read differently here and elsewhere. Reject instead.
bool HasDuplicateMembers(const json::Value& object) {
  std::set<std::string_view> names;
  for (const auto& member : object.GetObject()) {
    if (!names.emplace(member.name.GetString(), member.name.GetStringLength()).second) {
      return true;
    }
  }
  return false;
}

std::optional<std::string_view> StringMember(const json::Value& object, const char* name) {
  const json::Value* value = Member(object, name);
  if (value == nullptr || !value->IsString()) return std::nullopt;
  return std::string_view(value->GetString(), value->GetStringLength());
}

// A NumericDate claim (RFC 7519 section 2), as integer seconds. Absent -> nullopt with ok;
// present but not an integer -> error.
Result<std::optional<std::int64_t>> TimeClaim(const json::Value& claims, const char* name) {
  const json::Value* value = Member(claims, name);
  if (value == nullptr) return std::optional<std::int64_t>();
  if (!value->IsInt64()) return Reject(std::string(name) + " is not an integer");
  return std::optional<std::int64_t>(value->GetInt64());
}

Result<std::string> RequiredString(const json::Value& claims, const char* name) {
  const json::Value* value = Member(claims, name);
  if (value == nullptr) return Reject(std::string(name) + " claim is missing");
  if (!value->IsString()) return Reject(std::string(name) + " claim is not a string");
  return std::string(value->GetString(), value->GetStringLength());
}

std::string OptionalString(const json::Value& claims, const char* name) {
  return std::string(StringMember(claims, name).value_or(""));
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) |
                      (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                      static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    std::uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (rest == 2) {
    std::uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) |
                      (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = Base64UrlValue(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  // The leftover bits of the last character must be zero, so every byte string has exactly one
  // accepted encoding.
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string CognitoIssuer(std::string_view region, std::string_view user_pool_id) {
  return "https://cognito-idp." + std::string(region) + ".amazonaws.com/" +
         std::string(user_pool_id);
}

Result<Jwks> Jwks::Parse(std::string_view text) {
  if (text.size() > kMaxJwksBytes) {
    return ValidationError("JWKS is larger than " + std::to_string(kMaxJwksBytes) + " bytes");
  }
  json::Document doc;
  Status parsed = json::Parse(text, &doc, kMaxTokenJsonDepth);
  if (!parsed.ok()) return ValidationError("JWKS is not JSON: " + parsed.message());
  if (!doc.IsObject()) return ValidationError("JWKS is not a JSON object");
  const json::Value* keys = Member(doc, "keys");
  if (keys == nullptr || !keys->IsArray()) return ValidationError("JWKS has no keys array");
  Jwks jwks;
  for (const json::Value& key : keys->GetArray()) {
    if (!key.IsObject()) return ValidationError("JWKS key is not an object");
    // Keys that are not RSA signing keys for RS256 are not ours to use; skip them.
    if (StringMember(key, "kty") != "RSA") continue;
    if (auto use = StringMember(key, "use"); use && *use != "sig") continue;
    if (auto alg = StringMember(key, "alg"); alg && *alg != "RS256") continue;
    std::optional<std::string_view> kid = StringMember(key, "kid");
    std::optional<std::string_view> n = StringMember(key, "n");
    std::optional<std::string_view> e = StringMember(key, "e");
    if (!kid || kid->empty()) return ValidationError("JWKS RSA key has no kid");
    if (!n || !e) return ValidationError("JWKS key " + std::string(*kid) + " has no n or e");
    Result<PublicKey> pkey = RsaKeyFromJwk(*n, *e);
    if (!pkey.ok()) {
      return ValidationError("JWKS key " + std::string(*kid) + ": " + pkey.status().message());
    }
    if (!jwks.keys_.emplace(std::string(*kid), std::move(*pkey)).second) {
      return ValidationError("JWKS has two keys with kid " + std::string(*kid));
    }
  }
  if (jwks.keys_.empty()) return ValidationError("JWKS has no RS256 signing key");
  return jwks;
}

PublicKey Jwks::Find(std::string_view kid) const {
  auto it = keys_.find(kid);
  return it == keys_.end() ? nullptr : it->second;
}

Result<UnverifiedJwt> DecodeJwt(std::string_view token) {
  if (token.size() > kMaxTokenBytes) {
    return Reject("longer than " + std::to_string(kMaxTokenBytes) + " bytes");
  }
  std::size_t first = token.find('.');
  std::size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return Reject("not three dot-separated segments");
  }
  std::optional<std::string> header = Base64UrlDecode(token.substr(0, first));
  std::optional<std::string> payload = Base64UrlDecode(token.substr(first + 1, second - first - 1));
  std::optional<std::string> signature = Base64UrlDecode(token.substr(second + 1));
  if (!header) return Reject("header is not base64url");
  if (!payload) return Reject("payload is not base64url");
  if (!signature) return Reject("signature is not base64url");

  json::Document doc;
  if (!json::Parse(*header, &doc, kMaxTokenJsonDepth).ok() || !doc.IsObject()) {
    return Reject("header is not a JSON object");
  }
  if (HasDuplicateMembers(doc)) return Reject("header has duplicate members");
  UnverifiedJwt jwt;
  std::optional<std::string_view> alg = StringMember(doc, "alg");
  if (!alg) return Reject("header has no alg");
  if (*alg != "RS256") return Reject("alg " + Quote(*alg) + " is not allowed, only RS256");
  // RFC 7515 section 4.1.11: a recipient must reject critical extensions it does not know.
  if (Member(doc, "crit") != nullptr) return Reject("header has crit extensions");
  std::optional<std::string_view> kid = StringMember(doc, "kid");
  if (!kid || kid->empty()) return Reject("header has no kid");
  jwt.alg = *alg;
  jwt.kid = *kid;
  jwt.signing_input = std::string(token.substr(0, second));
  jwt.signature = std::move(*signature);
  jwt.payload_json = std::move(*payload);
  return jwt;
}

JwtVerifier::JwtVerifier(JwtVerifierOptions options, Jwks keys)
    : options_(std::move(options)), keys_(std::move(keys)) {}

Result<AccessTokenClaims> JwtVerifier::Verify(std::string_view token,
                                              std::int64_t now_unix_seconds) const {
  CRUDDUR_ASSIGN_OR_RETURN(UnverifiedJwt jwt, DecodeJwt(token));
  PublicKey key = keys_.Find(jwt.kid);
  if (!key) return Reject("unknown kid " + Quote(jwt.kid));

  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> md(EVP_MD_CTX_new());
  if (!md || EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1) {
    return InternalError("cannot start RS256 verification");
  }
  int verified = EVP_DigestVerify(
      md.get(), reinterpret_cast<const unsigned char*>(jwt.signature.data()), jwt.signature.size(),
      reinterpret_cast<const unsigned char*>(jwt.signing_input.data()), jwt.signing_input.size());
  if (verified != 1) return Reject("signature does not verify");

  // Only now is the payload trusted enough to read.
  json::Document doc;
  if (!json::Parse(jwt.payload_json, &doc, kMaxTokenJsonDepth).ok() || !doc.IsObject()) {
    return Reject("payload is not a JSON object");
  }
  if (HasDuplicateMembers(doc)) return Reject("payload has duplicate claims");
  AccessTokenClaims claims;
  CRUDDUR_ASSIGN_OR_RETURN(std::optional<std::int64_t> exp, TimeClaim(doc, "exp"));
  CRUDDUR_ASSIGN_OR_RETURN(claims.nbf, TimeClaim(doc, "nbf"));
  CRUDDUR_ASSIGN_OR_RETURN(claims.iat, TimeClaim(doc, "iat"));
  CRUDDUR_ASSIGN_OR_RETURN(claims.auth_time, TimeClaim(doc, "auth_time"));
  if (!exp) return Reject("exp claim is missing");
  claims.exp = *exp;
  const std::int64_t leeway = options_.leeway_seconds;
  if (now_unix_seconds - leeway >= claims.exp) return Reject("token expired");
  if (claims.nbf && now_unix_seconds + leeway < *claims.nbf) return Reject("token not yet valid");
  if (claims.iat && now_unix_seconds + leeway < *claims.iat) {
    return Reject("token issued in the future");
  }
  CRUDDUR_ASSIGN_OR_RETURN(claims.iss, RequiredString(doc, "iss"));
  if (claims.iss != options_.issuer)
    return Reject("issuer " + Quote(claims.iss) + " is not trusted");
  CRUDDUR_ASSIGN_OR_RETURN(claims.token_use, RequiredString(doc, "token_use"));
  if (claims.token_use != "access") {
    return Reject("token_use " + Quote(claims.token_use) + " is not access");
  }
  CRUDDUR_ASSIGN_OR_RETURN(claims.client_id, RequiredString(doc, "client_id"));
  if (claims.client_id != options_.client_id) {
    return Reject("client_id " + Quote(claims.client_id) + " is not this app client");
  }
  CRUDDUR_ASSIGN_OR_RETURN(claims.sub, RequiredString(doc, "sub"));
  if (claims.sub.empty()) return Reject("sub claim is empty");
  claims.username = OptionalString(doc, "username");
  claims.scope = OptionalString(doc, "scope");
  claims.jti = OptionalString(doc, "jti");
  return claims;
}

}  // namespace cruddur::identity
