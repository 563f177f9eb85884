// SigV4 against the published AWS Signature Version 4 test suite (testdata/, see its README)
// and the IAM User Guide's worked example, then the verifier's failure modes.
#include "aws/sigv4.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace cruddur::aws {
namespace {

constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kAccessKey = "AKIDEXAMPLE";
constexpr std::string_view kSuiteDate = "20150830T123600Z";
constexpr int64_t kSuiteTime = 1440938160;  // 2015-08-30T12:36:00Z

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct ParsedRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Parses a suite .req/.sreq file. A line starting with whitespace continues the previous
// header; the suite's get-header-value-multiline case expects each such line as one more value
// of that header.
ParsedRequest ParseRequestFile(const std::string& text) {
  ParsedRequest out;
  size_t line_end = text.find('\n');
  std::string request_line = text.substr(0, line_end);
  size_t sp = request_line.find(' ');
  size_t version = request_line.rfind(" HTTP/1.1");
  out.method = request_line.substr(0, sp);
  out.target = request_line.substr(sp + 1, version - sp - 1);
  size_t pos = line_end == std::string::npos ? text.size() : line_end + 1;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) {
      out.body = pos < text.size() ? text.substr(pos) : "";
      break;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      out.headers.emplace_back(out.headers.back().first, line);
      continue;
    }
    size_t colon = line.find(':');
    out.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return out;
}

Result<std::string> SuiteSecret(std::string_view access_key) {
  if (access_key == kAccessKey) return std::string(kSecret);
  return Status(ErrorCode::kUnrecognizedClient,
                "The security token included in the request is invalid.");
}

VerifyOptions SuiteVerifyOptions() {
  VerifyOptions options;
  options.service = "service";
  options.region = "us-east-1";
  options.now_unix_seconds = kSuiteTime;
  return options;
}

class SuiteTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::string File(const std::string& ext) {
    std::string name = GetParam();
    std::string base = name.substr(name.rfind('/') + 1);
    return ReadFile(std::string(CRUDDUR_AWS_TESTDATA) + "/" + name + "/" + base + "." + ext);
  }
};

TEST_P(SuiteTest, EachStepMatchesTheSuite) {
  ParsedRequest req = ParseRequestFile(File("req"));
  auto auth = ParseAuthorization(File("authz"));
  ASSERT_TRUE(auth.ok()) << auth.status().ToString();
  auto headers = CanonicalizeHeaders(req.headers, auth->signed_headers);
  ASSERT_TRUE(headers.ok()) << headers.status().ToString();
  std::string creq = CanonicalRequest(req.method, req.target, *headers, HexSha256(req.body),
                                      PathStyle::kNormalizeAndEncode);
  EXPECT_EQ(creq, File("creq"));
  std::string sts = StringToSign(kSuiteDate, auth->scope, creq);
  EXPECT_EQ(sts, File("sts"));
  std::string signature = HexHmacSha256(DeriveSigningKey(kSecret, auth->scope), sts);
  EXPECT_EQ(AuthorizationHeader(kAccessKey, auth->scope, headers->signed_headers, signature),
            File("authz"));
}

TEST_P(SuiteTest, SignProducesTheSuitesAuthorization) {
  ParsedRequest req = ParseRequestFile(File("req"));
  auto auth = ParseAuthorization(File("authz"));
  ASSERT_TRUE(auth.ok());
  // Sign adds X-Amz-Date and the token itself and signs every header it is given, so hand it
  // the other signed headers only.
  Credentials creds{std::string(kAccessKey), std::string(kSecret), ""};
  std::vector<std::pair<std::string, std::string>> headers;
  for (auto& [name, value] : req.headers) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "x-amz-date") continue;
    if (lower == "x-amz-security-token") {
      creds.session_token = value;
      continue;
    }
    if (std::find(auth->signed_headers.begin(), auth->signed_headers.end(), lower) ==
        auth->signed_headers.end()) {
      continue;
    }
    headers.emplace_back(name, value);
  }
  SigV4 signer;
  auto signed_request = signer.Sign({req.method, req.target, headers, req.body}, creds, "us-east-1",
                                    "service", kSuiteTime);
  ASSERT_TRUE(signed_request.ok()) << signed_request.status().ToString();
  EXPECT_EQ(signed_request->authorization, File("authz"));
  EXPECT_EQ(signed_request->canonical_request, File("creq"));
}

TEST_P(SuiteTest, VerifyAcceptsTheSignedRequestAndRejectsATamperedOne) {
  ParsedRequest req = ParseRequestFile(File("sreq"));
  SigV4 verifier;
  auto verified = verifier.Verify({req.method, req.target, req.headers, req.body}, SuiteSecret,
                                  SuiteVerifyOptions());
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->access_key_id, kAccessKey);
  EXPECT_EQ(verified->scope.ToString(), "20150830/us-east-1/service/aws4_request");
  EXPECT_EQ(verified->request_time, kSuiteTime);

  auto tampered = verifier.Verify({req.method, req.target, req.headers, req.body + "x"},
                                  SuiteSecret, SuiteVerifyOptions());
  EXPECT_EQ(tampered.status().code(), ErrorCode::kInvalidSignature);
}

INSTANTIATE_TEST_SUITE_P(
    AwsSigV4TestSuite, SuiteTest,
    ::testing::Values("get-vanilla", "get-vanilla-empty-query-key", "get-vanilla-query-order-key",
                      "get-vanilla-query-order-key-case", "get-vanilla-query-order-value",
                      "get-vanilla-query-unreserved", "get-vanilla-utf8-query", "get-unreserved",
                      "get-utf8", "get-header-key-duplicate", "get-header-value-multiline",
                      "get-header-value-order", "get-header-value-trim", "post-vanilla",
                      "post-vanilla-query", "post-header-key-case", "post-header-key-sort",
                      "post-header-value-case", "post-x-www-form-urlencoded",
                      "normalize-path/get-relative", "normalize-path/get-relative-relative",
                      "normalize-path/get-slash", "normalize-path/get-slash-dot-slash",
                      "normalize-path/get-slash-pointless-dot", "normalize-path/get-slashes",
                      "normalize-path/get-space", "post-sts-token/post-sts-header-before",
                      "post-sts-token/post-sts-header-after"),
    [](const ::testing::TestParamInfo<std::string>& info) {
      std::string name = info.param.substr(info.param.rfind('/') + 1);
      for (char& c : name) {
        if (c == '-') c = '_';
      }
      return name;
    });

TEST(SigV4Test, SessionTokenIsReturnedByVerify) {
  ParsedRequest req = ParseRequestFile(
      ReadFile(std::string(CRUDDUR_AWS_TESTDATA) +
               "/post-sts-token/post-sts-header-before/post-sts-header-before.sreq"));
  SigV4 verifier;
  auto verified = verifier.Verify({req.method, req.target, req.headers, req.body}, SuiteSecret,
                                  SuiteVerifyOptions());
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(verified->session_token.substr(0, 12), "AQoDYXdzEPT/");
}

// IAM User Guide, "Signature Version 4 signing process" worked example (GET ListUsers).
TEST(SigV4Test, IamGuideExample) {
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
      {"Host", "iam.amazonaws.com"}};
  SigV4 signer;
  auto signed_request = signer.Sign({"GET", "/?Action=ListUsers&Version=2010-05-08", headers, ""},
                                    {std::string(kAccessKey), std::string(kSecret), ""},
                                    "us-east-1", "iam", kSuiteTime);
  ASSERT_TRUE(signed_request.ok());
  EXPECT_EQ(HexSha256(signed_request->canonical_request),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
  SigningKey key = DeriveSigningKey(kSecret, {"20150830", "us-east-1", "iam"});
  std::string hex_key;
  for (uint8_t b : key) {
    static constexpr char kHex[] = "0123456789abcdef";
    hex_key.push_back(kHex[b >> 4]);
    hex_key.push_back(kHex[b & 0xf]);
  }
  EXPECT_EQ(hex_key, "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
  EXPECT_EQ(signed_request->authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date, "
            "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
  ASSERT_EQ(signed_request->headers_to_add.size(), 2u);
  EXPECT_EQ(signed_request->headers_to_add[0].first, "X-Amz-Date");
  EXPECT_EQ(signed_request->headers_to_add[0].second, kSuiteDate);
}

TEST(SigV4Test, EmptyPayloadHash) { EXPECT_EQ(HexSha256(""), kEmptyPayloadSha256); }

TEST(SigV4Test, CanonicalUriPerPathStyle) {
  EXPECT_EQ(CanonicalUri("", PathStyle::kNormalizeAndEncode), "/");
  EXPECT_EQ(CanonicalUri("/", PathStyle::kNormalizeAndEncode), "/");
  // Everything but S3 encodes the path as sent once more.
  EXPECT_EQ(CanonicalUri("/a%20b", PathStyle::kNormalizeAndEncode), "/a%2520b");
  EXPECT_EQ(CanonicalUri("/a/b/../c/./d", PathStyle::kNormalizeAndEncode), "/a/c/d");
  EXPECT_EQ(CanonicalUri("/../..", PathStyle::kNormalizeAndEncode), "/");
  // S3: no normalization, encoded once.
  EXPECT_EQ(CanonicalUri("/a%20b", PathStyle::kS3), "/a%20b");
  EXPECT_EQ(CanonicalUri("/a b//./c", PathStyle::kS3), "/a%20b//./c");
}

TEST(SigV4Test, CanonicalQueryString) {
  EXPECT_EQ(CanonicalQueryString(""), "");
  EXPECT_EQ(CanonicalQueryString("b=2&a"), "a=&b=2");
  EXPECT_EQ(CanonicalQueryString("a=x+y&a=%41"), "a=A&a=x%2By");
  EXPECT_EQ(CanonicalQueryString("k=a/b c"), "k=a%2Fb%20c");
  EXPECT_EQ(CanonicalQueryString("&&x=1&"), "x=1");
}

TEST(SigV4Test, CanonicalHeadersTrimCollapseAndSort) {
  std::vector<std::pair<std::string, std::string>> headers = {
      {"X-B", "  two\t\t words  "}, {"x-a", "1"}, {"X-A", " 2 "}};
  auto canonical = CanonicalizeHeaders(headers, {});
  ASSERT_TRUE(canonical.ok());
  EXPECT_EQ(canonical->block, "x-a:1,2\nx-b:two words\n");
  EXPECT_EQ(canonical->signed_headers, "x-a;x-b");
  std::vector<std::string> missing = {"x-a", "x-c"};
  EXPECT_EQ(CanonicalizeHeaders(headers, missing).status().code(), ErrorCode::kInvalidSignature);
}

TEST(SigV4Test, ParseAuthorizationErrors) {
  EXPECT_EQ(ParseAuthorization("Bearer abc").status().code(),
            ErrorCode::kMissingAuthenticationToken);
  EXPECT_EQ(ParseAuthorization("AWS4-HMAC-SHA256X Credential=a").status().code(),
            ErrorCode::kMissingAuthenticationToken);

  auto missing = ParseAuthorization("AWS4-HMAC-SHA256 Credential=A/20150830/r/s/aws4_request");
  EXPECT_EQ(missing.status().code(), ErrorCode::kIncompleteSignature);
  EXPECT_NE(missing.status().message().find("requires 'Signature' parameter"), std::string::npos);
  EXPECT_NE(missing.status().message().find("requires 'SignedHeaders' parameter"),
            std::string::npos);

  auto bad_scope = ParseAuthorization(
      "AWS4-HMAC-SHA256 Credential=A/20150830/r/aws4_request, SignedHeaders=host, Signature=ab");
  EXPECT_EQ(bad_scope.status().code(), ErrorCode::kIncompleteSignature);
  EXPECT_NE(bad_scope.status().message().find("Credential must have the form"), std::string::npos);

  auto bad_headers = ParseAuthorization(
      "AWS4-HMAC-SHA256 Credential=A/20150830/r/s/aws4_request, SignedHeaders=Host;;x, "
      "Signature=ab");
  EXPECT_EQ(bad_headers.status().code(), ErrorCode::kIncompleteSignature);

  auto ok = ParseAuthorization(
      "AWS4-HMAC-SHA256 Credential=AK_1/20150830/eu-west-1/dynamodb/aws4_request,"
      "SignedHeaders=host;x-amz-date,Signature=00ff");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->access_key_id, "AK_1");
  EXPECT_EQ(ok->scope.region, "eu-west-1");
  EXPECT_EQ(ok->scope.service, "dynamodb");
  EXPECT_EQ(ok->signed_headers, (std::vector<std::string>{"host", "x-amz-date"}));
  EXPECT_EQ(ok->signature, "00ff");
}

TEST(SigV4Test, AmzDateRoundTrip) {
  EXPECT_EQ(FormatAmzDate(kSuiteTime), kSuiteDate);
  auto t = ParseAmzDate(kSuiteDate);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, kSuiteTime);
  EXPECT_FALSE(ParseAmzDate("2015-08-30T12:36:00Z").ok());
  EXPECT_FALSE(ParseAmzDate("20151330T123600Z").ok());
}

// A signed DynamoDB-style request, for the verifier's failure modes.
class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    headers_ = {{"Host", "127.0.0.1:8000"},
                {"Content-Type", "application/x-amz-json-1.0"},
                {"X-Amz-Target", "DynamoDB_20120810.ListTables"}};
    auto signed_request = signer_.Sign({"POST", "/", headers_, body_}, {"AKID", "secret", ""},
                                       "us-east-1", "dynamodb", kNow);
    ASSERT_TRUE(signed_request.ok());
    for (auto& h : signed_request->headers_to_add) headers_.push_back(h);
    options_.service = "dynamodb";
    options_.region = "us-east-1";
    options_.now_unix_seconds = kNow;
  }

  Result<VerifiedRequest> Verify() {
    return signer_.Verify({"POST", "/", headers_, body_}, lookup_, options_);
  }
  void SetHeader(const std::string& lower_name, const std::string& value) {
    for (auto& [name, v] : headers_) {
      std::string lower = name;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == lower_name) v = value;
    }
  }

  static constexpr int64_t kNow = 1700000000;
  SigV4 signer_;
  std::string body_ = "{}";
  std::vector<std::pair<std::string, std::string>> headers_;
  VerifyOptions options_;
  SecretLookup lookup_ = [](std::string_view key) -> Result<std::string> {
    if (key == "AKID") return std::string("secret");
    return Status(ErrorCode::kUnrecognizedClient,
                  "The security token included in the request is invalid.");
  };
};

TEST_F(VerifyTest, AcceptsItsOwnSignature) {
  auto verified = Verify();
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->access_key_id, "AKID");
  EXPECT_EQ(verified->session_token, "");
}

TEST_F(VerifyTest, MissingAuthorization) {
  headers_.pop_back();
  EXPECT_EQ(Verify().status().code(), ErrorCode::kMissingAuthenticationToken);
}

TEST_F(VerifyTest, UnknownKeyComesFromTheLookup) {
  lookup_ = [](std::string_view) -> Result<std::string> {
    return Status(ErrorCode::kUnrecognizedClient, "nope");
  };
  EXPECT_EQ(Verify().status().code(), ErrorCode::kUnrecognizedClient);
}

TEST_F(VerifyTest, WrongSecretOrChangedSignedHeader) {
  lookup_ = [](std::string_view) -> Result<std::string> { return std::string("other"); };
  auto wrong = Verify();
  EXPECT_EQ(wrong.status().code(), ErrorCode::kInvalidSignature);
  EXPECT_NE(wrong.status().message().find("does not match"), std::string::npos);

  lookup_ = [](std::string_view) -> Result<std::string> { return std::string("secret"); };
  SetHeader("x-amz-target", "DynamoDB_20120810.DeleteTable");
  EXPECT_EQ(Verify().status().code(), ErrorCode::kInvalidSignature);
}

TEST_F(VerifyTest, UnsignedHeadersMayChange) {
  headers_.emplace_back("User-Agent", "anything");
  EXPECT_TRUE(Verify().ok());
}

TEST_F(VerifyTest, ScopeChecks) {
  options_.service = "s3";
  auto service = Verify();
  EXPECT_EQ(service.status().code(), ErrorCode::kInvalidSignature);
  EXPECT_NE(service.status().message().find("correct service: 's3'"), std::string::npos);
  options_.service = "dynamodb";
  options_.region = "eu-west-1";
  EXPECT_EQ(Verify().status().code(), ErrorCode::kInvalidSignature);
  options_.region = "";
  EXPECT_TRUE(Verify().ok());
}

TEST_F(VerifyTest, ClockSkew) {
  options_.now_unix_seconds = kNow + kMaxClockSkewSeconds;
  EXPECT_TRUE(Verify().ok());
  options_.now_unix_seconds = kNow + kMaxClockSkewSeconds + 1;
  auto expired = Verify();
  EXPECT_EQ(expired.status().code(), ErrorCode::kInvalidSignature);
  EXPECT_NE(expired.status().message().find("Signature expired"), std::string::npos);
  options_.now_unix_seconds = kNow - kMaxClockSkewSeconds - 1;
  auto early = Verify();
  EXPECT_EQ(early.status().code(), ErrorCode::kInvalidSignature);
  EXPECT_NE(early.status().message().find("not yet current"), std::string::npos);
}

TEST_F(VerifyTest, DateMustMatchScopeAndBeWellFormed) {
  SetHeader("x-amz-date", FormatAmzDate(kNow + 86400));
  options_.now_unix_seconds = kNow + 86400;
  auto mismatch = Verify();
  EXPECT_EQ(mismatch.status().code(), ErrorCode::kInvalidSignature);
  EXPECT_NE(mismatch.status().message().find("Date in Credential scope"), std::string::npos);
  SetHeader("x-amz-date", "yesterday");
  EXPECT_EQ(Verify().status().code(), ErrorCode::kIncompleteSignature);
}

TEST_F(VerifyTest, HostMustBeSigned) {
  std::string auth = headers_.back().second;
  size_t pos = auth.find("host;");
  headers_.back().second = auth.erase(pos, 5);
  EXPECT_EQ(Verify().status().code(), ErrorCode::kInvalidSignature);
}

TEST(SigV4CacheTest, CachedKeysEqualDerivedKeysAcrossThreads) {
  SigV4 signer;
  Scope scope{"20150830", "us-east-1", "dynamodb"};
  SigningKey expected = DeriveSigningKey("s", scope);
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        Scope other{"20150830", "r" + std::to_string((i + t) % 7), "dynamodb"};
        if (signer.KeyFor("s", other) != DeriveSigningKey("s", other)) ++mismatches;
        if (signer.KeyFor("s", scope) != expected) ++mismatches;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace cruddur::aws
