// Fuzzes Cognito access-token verification (identity/jwt.h). A random token never carries a
// valid signature, so the claim checks behind it would be out of reach; the input therefore
// picks a mode by its first byte:
//   'S'  the rest is "<header JSON>\n<payload JSON>": the fuzzer signs it with its own RS256 key
//        (generated at start-up, published in the verifier's JWKS under kid "fuzz-kid") and
//        verifies the token, so mutations reach every claim check;
//   'J'  the rest is a JWKS document for Jwks::Parse;
//   else the whole input is a token for DecodeJwt and JwtVerifier::Verify.
// Base64url round trips asserted on every input: each accepted token segment re-encodes to
// itself (the decoder is strict: one encoding per byte string), and encode-then-decode of the
// raw input is the identity.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "identity/jwt.h"

namespace {

namespace identity = cruddur::identity;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

constexpr std::int64_t kNow = 1'790'000'000;
constexpr char kKid[] = "fuzz-kid";

std::string BigNumParam(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  Check(EVP_PKEY_get_bn_param(key, name, &bn) == 1);
  std::string bytes(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
  BN_free(bn);
  return identity::Base64UrlEncode(bytes);
}

struct Fixture {
  std::shared_ptr<EVP_PKEY> key;
  std::unique_ptr<identity::JwtVerifier> verifier;
};

const Fixture& TheFixture() {
  static const Fixture* const fixture = [] {
    auto* f = new Fixture;
    f->key.reset(EVP_RSA_gen(2048), EVP_PKEY_free);
    Check(f->key != nullptr);
    const std::string jwks =
        R"({"keys":[{"alg":"RS256","e":")" + BigNumParam(f->key.get(), OSSL_PKEY_PARAM_RSA_E) +
        R"(","kid":")" + kKid + R"(","kty":"RSA","n":")" +
        BigNumParam(f->key.get(), OSSL_PKEY_PARAM_RSA_N) + R"(","use":"sig"}]})";
    cruddur::Result<identity::Jwks> keys = identity::Jwks::Parse(jwks);
    Check(keys.ok());
    identity::JwtVerifierOptions options;
    options.issuer = identity::CognitoIssuer("us-east-1", "us-east-1_Fuzz");
    options.client_id = "fuzz-client";
    f->verifier = std::make_unique<identity::JwtVerifier>(options, std::move(*keys));
    return f;
  }();
  return *fixture;
}

std::string Rs256Sign(EVP_PKEY* key, std::string_view input) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  Check(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1);
  std::size_t size = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  Check(EVP_DigestSign(ctx.get(), nullptr, &size, in, input.size()) == 1);
  std::string signature(size, '\0');
  Check(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size, in,
                       input.size()) == 1);
  signature.resize(size);
  return signature;
}

void CheckSegmentsRoundTrip(std::string_view token) {
  while (true) {
    const std::size_t dot = token.find('.');
    const std::string_view segment = token.substr(0, dot);
    std::optional<std::string> bytes = identity::Base64UrlDecode(segment);
    if (bytes) Check(identity::Base64UrlEncode(*bytes) == segment);
    if (dot == std::string_view::npos) return;
    token.remove_prefix(dot + 1);
  }
}

void VerifyToken(std::string_view token) {
  CheckSegmentsRoundTrip(token);
  (void)identity::DecodeJwt(token);
  cruddur::Result<identity::AccessTokenClaims> claims = TheFixture().verifier->Verify(token, kNow);
  if (claims.ok()) Check(!claims->sub.empty() && claims->token_use == "access");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::optional<std::string> decoded = identity::Base64UrlDecode(identity::Base64UrlEncode(input));
  Check(decoded && *decoded == input);
  if (size == 0) return 0;

  const std::string_view rest = input.substr(1);
  if (input[0] == 'J') {
    (void)identity::Jwks::Parse(rest);
  } else if (input[0] == 'S') {
    const std::size_t newline = rest.find('\n');
    const std::string_view header = rest.substr(0, newline);
    const std::string_view payload =
        newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    const std::string signing_input =
        identity::Base64UrlEncode(header) + "." + identity::Base64UrlEncode(payload);
    VerifyToken(signing_input + "." +
                identity::Base64UrlEncode(Rs256Sign(TheFixture().key.get(), signing_input)));
  } else {
    VerifyToken(input);
  }
  return 0;
}
