#include "identity/jwt.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <map>
#include <memory>
#include <string>

namespace cruddur::identity {
namespace {

constexpr std::int64_t kNow = 1'790'000'000;
constexpr char kIssuer[] = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool";
constexpr char kClient[] = "test-client-id";

PublicKey GenerateKey() { return PublicKey(EVP_RSA_gen(2048), EVP_PKEY_free); }

std::string BigNumParam(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, name, &bn), 1);
  std::string bytes(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
  BN_free(bn);
  return Base64UrlEncode(bytes);
}

std::string JwkJson(EVP_PKEY* key, const std::string& kid) {
  return R"({"alg":"RS256","e":")" + BigNumParam(key, OSSL_PKEY_PARAM_RSA_E) + R"(","kid":")" +
         kid + R"(","kty":"RSA","n":")" + BigNumParam(key, OSSL_PKEY_PARAM_RSA_N) +
         R"(","use":"sig"})";
}

std::string Rs256Sign(EVP_PKEY* key, const std::string& input) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EXPECT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key), 1);
  std::size_t size = 0;
  EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &size,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
  std::string sig(size, '\0');
  EXPECT_EQ(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &size,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
  sig.resize(size);
  return sig;
}

std::string PublicKeyPem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  EXPECT_EQ(PEM_write_bio_PUBKEY(bio.get(), key), 1);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string Hs256Sign(const std::string& secret, const std::string& input) {
  unsigned char out[EVP_MAX_MD_SIZE];
  std::size_t size = 0;
  EXPECT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
                      reinterpret_cast<const unsigned char*>(input.data()), input.size(), out,
                      sizeof(out), &size),
            nullptr);
  return std::string(reinterpret_cast<char*>(out), size);
}

// A Cognito-shaped access token payload; `changes` maps claim names to raw JSON values, and a
// value of "" removes the claim.
std::string Claims(const std::map<std::string, std::string>& changes = {}) {
  std::map<std::string, std::string> claims = {
      {"sub", R"("11111111-2222-4333-8444-555555555555")"},
      {"iss", std::string("\"") + kIssuer + "\""},
      {"client_id", std::string("\"") + kClient + "\""},
      {"origin_jti", R"("o")"},
      {"event_id", R"("e")"},
      {"token_use", R"("access")"},
      {"scope", R"("aws.cognito.signin.user.admin")"},
      {"auth_time", "1789999000"},
      {"exp", "1790003600"},
      {"iat", "1789999000"},
      {"jti", R"("j-1")"},
      {"username", R"("andrewbrown")"},
  };
  for (const auto& [name, value] : changes) {
    if (value.empty()) {
      claims.erase(name);
    } else {
      claims[name] = value;
    }
  }
  std::string out = "{";
  for (const auto& [name, value] : claims) {
    if (out.size() > 1) out += ",";
    out += "\"" + name + "\":" + value;
  }
  return out + "}";
}

class JwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    key_ = new PublicKey(GenerateKey());
    other_key_ = new PublicKey(GenerateKey());
  }
  static void TearDownTestSuite() {
    delete key_;
    delete other_key_;
  }

  JwtVerifier MakeVerifier() {
    auto jwks = Jwks::Parse(R"({"keys":[)" + JwkJson(key_->get(), "kid-1") + "," +
                            JwkJson(other_key_->get(), "kid-2") + "]}");
    EXPECT_TRUE(jwks.ok()) << jwks.status().ToString();
    return JwtVerifier({kIssuer, kClient, 60}, std::move(jwks).value());
  }

  // A token whose header and payload are given as JSON, signed with `key`.
  static std::string Token(const std::string& header, const std::string& payload, EVP_PKEY* key) {
    std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(payload);
    return input + "." + Base64UrlEncode(Rs256Sign(key, input));
  }
  static std::string Token(const std::string& payload) {
    return Token(R"({"kid":"kid-1","alg":"RS256"})", payload, key_->get());
  }

  void ExpectRejected(const std::string& token, const std::string& reason,
                      std::int64_t now = kNow) {
    auto claims = MakeVerifier().Verify(token, now);
    ASSERT_FALSE(claims.ok()) << "accepted a token that should fail with: " << reason;
    EXPECT_EQ(claims.status().code(), ErrorCode::kUnrecognizedClient);
    EXPECT_NE(claims.status().message().find(reason), std::string::npos)
        << claims.status().message() << " does not say " << reason;
  }

  static PublicKey* key_;
  static PublicKey* other_key_;
};
PublicKey* JwtTest::key_ = nullptr;
PublicKey* JwtTest::other_key_ = nullptr;

TEST(Base64UrlTest, RoundTripsAndIsStrict) {
  for (std::string bytes : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00\x01"}) {
    auto decoded = Base64UrlDecode(Base64UrlEncode(bytes));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, bytes);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_FALSE(Base64UrlDecode("Zm9v=").has_value());  // padding
  EXPECT_FALSE(Base64UrlDecode("Zm+v").has_value());   // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("Zm9vY").has_value());  // impossible length
  EXPECT_FALSE(Base64UrlDecode("Zh").has_value());     // non-zero unused bits
  EXPECT_TRUE(Base64UrlDecode("Zg").has_value());
}

TEST(CognitoIssuerTest, Shape) {
  EXPECT_EQ(CognitoIssuer("ca-central-1", "ca-central-1_AbC"),
            "https://cognito-idp.ca-central-1.amazonaws.com/ca-central-1_AbC");
}

TEST_F(JwtTest, ValidTokenReturnsClaims) {
  auto claims = MakeVerifier().Verify(Token(Claims()), kNow);
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(claims->sub, "11111111-2222-4333-8444-555555555555");
  EXPECT_EQ(claims->username, "andrewbrown");
  EXPECT_EQ(claims->client_id, kClient);
  EXPECT_EQ(claims->iss, kIssuer);
  EXPECT_EQ(claims->token_use, "access");
  EXPECT_EQ(claims->scope, "aws.cognito.signin.user.admin");
  EXPECT_EQ(claims->jti, "j-1");
  EXPECT_EQ(claims->exp, 1790003600);
  EXPECT_EQ(claims->iat, 1789999000);
  EXPECT_EQ(claims->auth_time, 1789999000);
  EXPECT_FALSE(claims->nbf.has_value());
}

TEST_F(JwtTest, SecondKeyOfTheSetVerifiesItsTokens) {
  std::string token = Token(R"({"kid":"kid-2","alg":"RS256"})", Claims(), other_key_->get());
  EXPECT_TRUE(MakeVerifier().Verify(token, kNow).ok());
}

TEST_F(JwtTest, BadSignature) {
  std::string token = Token(Claims());
  // Flip one bit inside the signature (not in the last character's unused bits).
  std::size_t pos = token.rfind('.') + 10;
  token[pos] = token[pos] == 'A' ? 'B' : 'A';
  ExpectRejected(token, "signature does not verify");
  // Signed by a key from the set, but not the one its kid names.
  ExpectRejected(Token(R"({"kid":"kid-1","alg":"RS256"})", Claims(), other_key_->get()),
                 "signature does not verify");
  // Claims changed after signing.
  std::string signed_token = Token(Claims());
  std::size_t dot1 = signed_token.find('.');
  std::size_t dot2 = signed_token.rfind('.');
  std::string forged = signed_token.substr(0, dot1 + 1) +
                       Base64UrlEncode(Claims({{"username", R"("londo")"}})) +
                       signed_token.substr(dot2);
  ExpectRejected(forged, "signature does not verify");
  ExpectRejected(signed_token.substr(0, dot2 + 1), "signature does not verify");
}

TEST_F(JwtTest, WrongAlgorithms) {
  std::string payload = Base64UrlEncode(Claims());
  std::string none_input = Base64UrlEncode(R"({"kid":"kid-1","alg":"none"})") + "." + payload;
  ExpectRejected(none_input + ".", "alg 'none' is not allowed");

  // The classic confusion: HS256 keyed with the RSA public key the verifier holds.
  std::string hs_input = Base64UrlEncode(R"({"kid":"kid-1","alg":"HS256"})") + "." + payload;
  std::string hs_token =
      hs_input + "." + Base64UrlEncode(Hs256Sign(PublicKeyPem(key_->get()), hs_input));
  ExpectRejected(hs_token, "alg 'HS256' is not allowed");

  for (const char* alg : {"RS384", "RS512", "PS256", "ES256", "rs256"}) {
    std::string header = std::string(R"({"kid":"kid-1","alg":")") + alg + R"("})";
    ExpectRejected(Token(header, Claims(), key_->get()), "is not allowed");
  }
  ExpectRejected(Token(R"({"kid":"kid-1"})", Claims(), key_->get()), "header has no alg");
  ExpectRejected(Token(R"({"kid":"kid-1","alg":7})", Claims(), key_->get()), "header has no alg");
  ExpectRejected(Token(R"({"kid":"kid-1","alg":"RS256","crit":["x"]})", Claims(), key_->get()),
                 "crit");
}

TEST_F(JwtTest, UnknownOrMissingKid) {
  ExpectRejected(Token(R"({"kid":"kid-9","alg":"RS256"})", Claims(), key_->get()),
                 "unknown kid 'kid-9'");
  ExpectRejected(Token(R"({"alg":"RS256"})", Claims(), key_->get()), "header has no kid");
  ExpectRejected(Token(R"({"alg":"RS256","kid":""})", Claims(), key_->get()), "header has no kid");
  auto decoded = DecodeJwt(Token(R"({"kid":"kid-9","alg":"RS256"})", Claims(), key_->get()));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->kid, "kid-9");
  EXPECT_EQ(decoded->alg, "RS256");
}

TEST_F(JwtTest, ExpiryWithLeeway) {
  std::string token = Token(Claims());  // exp 1790003600
  EXPECT_TRUE(MakeVerifier().Verify(token, 1790003600 + 59).ok());
  ExpectRejected(token, "token expired", 1790003600 + 60);
  ExpectRejected(token, "token expired", 1790003600 + 100000);
  ExpectRejected(Token(Claims({{"exp", R"(null)"}})), "exp is not an integer");
  ExpectRejected(Token(Claims({{"exp", R"("1790003600")"}})), "exp is not an integer");
  ExpectRejected(Token(Claims({{"exp", R"(1.79e9)"}})), "exp is not an integer");
  ExpectRejected(Token(Claims({{"exp", ""}})), "exp claim is missing");
}

TEST_F(JwtTest, NotYetValidWithLeeway) {
  std::string nbf = Token(Claims({{"nbf", R"(1790000100)"}}));
  EXPECT_TRUE(MakeVerifier().Verify(nbf, 1790000100 - 60).ok());
  ExpectRejected(nbf, "token not yet valid", 1790000100 - 61);
  std::string future_iat = Token(Claims({{"iat", R"(1790000500)"}}));
  EXPECT_TRUE(MakeVerifier().Verify(future_iat, 1790000500 - 60).ok());
  ExpectRejected(future_iat, "token issued in the future", 1790000500 - 61);
}

TEST_F(JwtTest, WrongIssuer) {
  ExpectRejected(
      Token(Claims({{"iss", R"("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other")"}})),
      "issuer 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other' is not trusted");
  ExpectRejected(Token(Claims({{"iss", R"(1)"}})), "iss claim is not a string");
}

TEST_F(JwtTest, WrongTokenUse) {
  ExpectRejected(Token(Claims({{"token_use", R"("id")"}})), "token_use 'id' is not access");
  ExpectRejected(Token(Claims({{"token_use", R"("ACCESS")"}})), "token_use 'ACCESS' is not access");
}

TEST_F(JwtTest, WrongClientId) {
  ExpectRejected(Token(Claims({{"client_id", R"("someone-else")"}})),
                 "client_id 'someone-else' is not this app client");
  // An ID token names its client in aud, not client_id; with token_use fixed it still fails.
  ExpectRejected(Token(Claims({{"client_id", ""}})), "client_id claim is missing");
}

TEST_F(JwtTest, MissingOrEmptySub) {
  ExpectRejected(Token(Claims({{"sub", R"("")"}})), "sub claim is empty");
  ExpectRejected(Token(Claims({{"sub", ""}})), "sub claim is missing");
  ExpectRejected(Token(Claims({{"sub", "42"}})), "sub claim is not a string");
}

TEST_F(JwtTest, DuplicateMembers) {
  // A second client_id after a valid one: whichever a parser picks, the token is ambiguous.
  std::string doubled = Claims();
  doubled.insert(doubled.size() - 1, R"(,"client_id":"someone-else")");
  ExpectRejected(Token(doubled), "payload has duplicate claims");
  ExpectRejected(Token(R"({"kid":"kid-1","alg":"RS256","alg":"none"})", Claims(), key_->get()),
                 "header has duplicate members");
}

TEST_F(JwtTest, MalformedTokens) {
  ExpectRejected("", "not three dot-separated segments");
  ExpectRejected("abc", "not three dot-separated segments");
  ExpectRejected("a.b", "not three dot-separated segments");
  ExpectRejected("a.b.c.d", "not three dot-separated segments");
  std::string good = Token(Claims());
  std::size_t dot1 = good.find('.');
  std::size_t dot2 = good.rfind('.');
  ExpectRejected("e30=." + good.substr(dot1 + 1), "header is not base64url");
  ExpectRejected(good.substr(0, dot1) + ".***" + good.substr(dot2), "payload is not base64url");
  ExpectRejected(good.substr(0, dot2) + ".a+b/", "signature is not base64url");
  ExpectRejected(Base64UrlEncode("{not json") + good.substr(dot1), "header is not a JSON object");
  ExpectRejected(Base64UrlEncode("[1]") + good.substr(dot1), "header is not a JSON object");
  ExpectRejected(Token(R"({"kid":"kid-1","alg":"RS256"})", "{not json", key_->get()),
                 "payload is not a JSON object");
  ExpectRejected(Token(R"({"kid":"kid-1","alg":"RS256"})", "\"a string\"", key_->get()),
                 "payload is not a JSON object");
  ExpectRejected(Token(R"({"kid":"kid-1","alg":"RS256"})",
                       Claims({{"x", R"([[[[[[[[[[1]]]]]]]]]])"}}), key_->get()),
                 "payload is not a JSON object");
}

TEST_F(JwtTest, OversizedToken) {
  std::string big = Token(Claims({{"pad", "\"" + std::string(13000, 'x') + "\""}}));
  ASSERT_GT(big.size(), kMaxTokenBytes);
  ExpectRejected(big, "longer than 16384 bytes");
  std::string fits = Token(Claims({{"pad", "\"" + std::string(10000, 'x') + "\""}}));
  ASSERT_LE(fits.size(), kMaxTokenBytes);
  EXPECT_TRUE(MakeVerifier().Verify(fits, kNow).ok());
}

TEST_F(JwtTest, LongValuesAreCutShortInMessages) {
  auto claims = MakeVerifier().Verify(
      Token(Claims({{"client_id", "\"" + std::string(1000, 'c') + "\""}})), kNow);
  ASSERT_FALSE(claims.ok());
  EXPECT_LT(claims.status().message().size(), 200u);
}

TEST_F(JwtTest, JwksParsing) {
  std::string key1 = JwkJson(key_->get(), "kid-1");
  auto jwks = Jwks::Parse(R"({"keys":[)" + key1 +
                          R"(,{"kty":"EC","kid":"ec","crv":"P-256","x":"a","y":"b"},)"
                          R"({"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"}]})");
  ASSERT_TRUE(jwks.ok()) << jwks.status().ToString();
  EXPECT_EQ(jwks->size(), 1u);
  EXPECT_NE(jwks->Find("kid-1"), nullptr);
  EXPECT_EQ(jwks->Find("ec"), nullptr);

  auto expect_bad = [](const std::string& text, const std::string& reason) {
    auto parsed = Jwks::Parse(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kValidation);
    EXPECT_NE(parsed.status().message().find(reason), std::string::npos)
        << parsed.status().message();
  };
  expect_bad("not json", "JWKS is not JSON");
  expect_bad("[]", "not a JSON object");
  expect_bad("{}", "no keys array");
  expect_bad(R"({"keys":[]})", "no RS256 signing key");
  expect_bad(R"({"keys":[1]})", "key is not an object");
  expect_bad(R"({"keys":[)" + key1 + "," + key1 + "]}", "two keys with kid kid-1");
  expect_bad(R"({"keys":[{"kty":"RSA","kid":"k","n":"AQAB","e":"AQAB"}]})", "bits");
  expect_bad(R"({"keys":[{"kty":"RSA","kid":"k","n":"!!","e":"AQAB"}]})", "not base64url");
  expect_bad(R"({"keys":[{"kty":"RSA","kid":"k","e":"AQAB"}]})", "has no n or e");
  expect_bad(R"({"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]})", "has no kid");
  std::string even_e = key1;
  even_e.replace(even_e.find(R"("e":")") + 5, 4, "AQAA");
  expect_bad(R"({"keys":[)" + even_e + "]}", "exponent");
  expect_bad(std::string(kMaxJwksBytes + 1, ' '), "larger than");
}

}  // namespace
}  // namespace cruddur::identity
