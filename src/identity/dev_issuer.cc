// The local issuer. Claim set copied from a real Cognito access token (Amazon Cognito Developer
// Guide, "Understanding the access token"): the header is {"kid","alg":"RS256"} and the payload
// carries sub, iss, client_id, origin_jti, event_id, token_use, scope, auth_time, exp, iat, jti
// and username. Matching that shape means the messaging service cannot tell a local token from
// a real one except by issuer and key, which is the point: one verifier for both.
#include "identity/dev_issuer.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <utility>

#include "common/json.h"
#include "identity/uuid.h"

namespace cruddur::identity {
namespace {

constexpr int kKeyBits = 2048;

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

Result<std::string> BigNumParamBase64Url(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) return InternalError("cannot read RSA key");
  std::string bytes(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
  BN_free(bn);
  return Base64UrlEncode(bytes);
}

Result<std::string> Sha256(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
    return InternalError("SHA-256 failed");
  }
  return std::string(reinterpret_cast<char*>(digest), size);
}

Status CheckClaim(std::string_view name, std::string_view value) {
  if (value.empty()) return ValidationError(std::string(name) + " must not be empty");
  if (value.size() > kMaxDevClaimBytes) {
    return ValidationError(std::string(name) + " is longer than " +
                           std::to_string(kMaxDevClaimBytes) + " bytes");
  }
  return Status::Ok();
}

void WriteString(json::Writer& writer, const char* name, std::string_view value) {
  writer.Key(name);
  writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

void WriteInt(json::Writer& writer, const char* name, std::int64_t value) {
  writer.Key(name);
  writer.Int64(value);
}

Status CheckOptions(const DevIssuerOptions& options) {
  if (options.issuer.empty() || options.client_id.empty()) {
    return ValidationError("dev issuer needs an issuer and a client id");
  }
  if (options.lifetime_seconds <= 0) return ValidationError("token lifetime must be positive");
  return Status::Ok();
}

}  // namespace

Result<DevIssuer> DevIssuer::Generate(DevIssuerOptions options) {
  CRUDDUR_RETURN_IF_ERROR(CheckOptions(options));
  EVP_PKEY* key = EVP_RSA_gen(kKeyBits);
  if (key == nullptr) return InternalError("cannot generate an RSA key");
  return FromKey(std::move(options), std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free));
}

Result<DevIssuer> DevIssuer::FromPrivateKeyPem(DevIssuerOptions options, std::string_view pem) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return InternalError("cannot read PEM");
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) return ValidationError("not a PEM private key");
  std::shared_ptr<EVP_PKEY> owned(key, EVP_PKEY_free);
  if (EVP_PKEY_is_a(key, "RSA") != 1) return ValidationError("PEM key is not an RSA key");
  int bits = EVP_PKEY_get_bits(key);
  if (bits < kMinRsaBits || bits > kMaxRsaBits) {
    return ValidationError("PEM RSA key has " + std::to_string(bits) + " bits");
  }
  return FromKey(std::move(options), std::move(owned));
}

Result<DevIssuer> DevIssuer::FromKey(DevIssuerOptions options, std::shared_ptr<EVP_PKEY> key) {
  CRUDDUR_RETURN_IF_ERROR(CheckOptions(options));
  CRUDDUR_ASSIGN_OR_RETURN(std::string n, BigNumParamBase64Url(key.get(), OSSL_PKEY_PARAM_RSA_N));
  CRUDDUR_ASSIGN_OR_RETURN(std::string e, BigNumParamBase64Url(key.get(), OSSL_PKEY_PARAM_RSA_E));
  // RFC 7638 section 3.2: the thumbprint hashes the required members in lexicographic order
  // with no whitespace. n and e are base64url, so they need no JSON escaping.
  CRUDDUR_ASSIGN_OR_RETURN(std::string thumbprint,
                           Sha256(R"({"e":")" + e + R"(","kty":"RSA","n":")" + n + R"("})"));
  DevIssuer issuer;
  issuer.options_ = std::move(options);
  issuer.key_ = std::move(key);
  issuer.kid_ = Base64UrlEncode(thumbprint);
  issuer.jwks_json_ = R"({"keys":[{"alg":"RS256","e":")" + e + R"(","kid":")" + issuer.kid_ +
                      R"(","kty":"RSA","n":")" + n + R"(","use":"sig"}]})";
  return issuer;
}

Result<std::string> DevIssuer::PrivateKeyPem() const {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return InternalError("cannot write the private key as PEM");
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

Result<std::string> DevIssuer::SignAccessToken(std::string_view sub, std::string_view username,
                                               std::int64_t now_unix_seconds) const {
  CRUDDUR_RETURN_IF_ERROR(CheckClaim("sub", sub));
  CRUDDUR_RETURN_IF_ERROR(CheckClaim("username", username));
  CRUDDUR_ASSIGN_OR_RETURN(std::string jti, NewRandomUuid());
  CRUDDUR_ASSIGN_OR_RETURN(std::string origin_jti, NewRandomUuid());
  CRUDDUR_ASSIGN_OR_RETURN(std::string event_id, NewRandomUuid());

  json::StringBuffer header;
  {
    json::Writer writer(header);
    writer.StartObject();
    WriteString(writer, "kid", kid_);
    WriteString(writer, "alg", "RS256");
    writer.EndObject();
  }
  json::StringBuffer payload;
  {
    json::Writer writer(payload);
    writer.StartObject();
    WriteString(writer, "sub", sub);
    WriteString(writer, "iss", options_.issuer);
    WriteString(writer, "client_id", options_.client_id);
    WriteString(writer, "origin_jti", origin_jti);
    WriteString(writer, "event_id", event_id);
    WriteString(writer, "token_use", "access");
    WriteString(writer, "scope", "aws.cognito.signin.user.admin");
    WriteInt(writer, "auth_time", now_unix_seconds);
    WriteInt(writer, "exp", now_unix_seconds + options_.lifetime_seconds);
    WriteInt(writer, "iat", now_unix_seconds);
    WriteString(writer, "jti", jti);
    WriteString(writer, "username", username);
    writer.EndObject();
  }
  std::string input = Base64UrlEncode(std::string_view(header.GetString(), header.GetSize())) +
                      "." +
                      Base64UrlEncode(std::string_view(payload.GetString(), payload.GetSize()));

  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  std::size_t size = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &size,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return InternalError("cannot start RS256 signing");
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return InternalError("RS256 signing failed");
  }
  signature.resize(size);
  return input + "." + Base64UrlEncode(signature);
}

}  // namespace cruddur::identity
