#include <gtest/gtest.h>

#include <random>
#include <string>

#include "net/http_parser.h"

namespace cruddur::net {
namespace {

constexpr HttpParserLimits kLimits{1024, 4096};

// Feeds `input` in pieces of `piece` bytes until a request completes or fails.
HttpParseStep FeedInPieces(HttpParser& parser, std::string_view input, size_t piece,
                           size_t* consumed_total) {
  size_t pos = 0;
  HttpParseStep step;
  while (pos < input.size()) {
    const size_t n = std::min(piece, input.size() - pos);
    step = parser.Parse(input.data() + pos, n);
    pos += step.consumed;
    if (step.message_complete || step.failed) break;
    EXPECT_EQ(step.consumed, n);
  }
  *consumed_total = pos;
  return step;
}

TEST(LlhttpParserTest, ParsesSimpleRequest) {
  auto parser = NewLlhttpParser(kLimits);
  const std::string input = "GET /path?q=1 HTTP/1.1\r\nHost: x\r\nX-Mixed-Case: Value\r\n\r\n";
  const HttpParseStep step = parser->Parse(input.data(), input.size());
  ASSERT_TRUE(step.message_complete);
  EXPECT_TRUE(step.headers_complete);
  EXPECT_FALSE(step.failed);
  EXPECT_EQ(step.consumed, input.size());
  const HttpRequest& r = parser->request();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/path?q=1");
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers[1].first, "x-mixed-case");
  EXPECT_EQ(r.headers[1].second, "Value");
  ASSERT_NE(r.Header("host"), nullptr);
  EXPECT_EQ(*r.Header("host"), "x");
  EXPECT_EQ(r.Header("absent"), nullptr);
  EXPECT_TRUE(r.keep_alive);
  EXPECT_TRUE(r.body.empty());
}

TEST(LlhttpParserTest, ByteByByteEqualsWhole) {
  const std::string input =
      "POST /a HTTP/1.1\r\nHost: example\r\nContent-Type: application/x-amz-json-1.0\r\n"
      "Content-Length: 11\r\n\r\nhello world";
  for (size_t piece : {size_t{1}, size_t{3}, size_t{7}, input.size()}) {
    auto parser = NewLlhttpParser(kLimits);
    size_t consumed = 0;
    const HttpParseStep step = FeedInPieces(*parser, input, piece, &consumed);
    ASSERT_TRUE(step.message_complete) << piece;
    EXPECT_EQ(consumed, input.size());
    const HttpRequest& r = parser->request();
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/a");
    EXPECT_EQ(r.body, "hello world");
    ASSERT_NE(r.Header("content-type"), nullptr);
    EXPECT_EQ(*r.Header("content-type"), "application/x-amz-json-1.0");
  }
}

TEST(LlhttpParserTest, StopsAtEachPipelinedRequest) {
  auto parser = NewLlhttpParser(kLimits);
  const std::string first = "POST /1 HTTP/1.1\r\nA: 1\r\nB: 2\r\nContent-Length: 3\r\n\r\nabc";
  const std::string second = "GET /2 HTTP/1.1\r\nC: 3\r\n\r\n";
  const std::string input = first + second;
  HttpParseStep step = parser->Parse(input.data(), input.size());
  ASSERT_TRUE(step.message_complete);
  EXPECT_EQ(step.consumed, first.size());
  EXPECT_EQ(parser->request().target, "/1");
  EXPECT_EQ(parser->request().body, "abc");
  EXPECT_EQ(parser->request().headers.size(), 3u);
  parser->NextMessage();
  EXPECT_EQ(parser->phase(), HttpParsePhase::kIdle);
  step = parser->Parse(input.data() + first.size(), second.size());
  ASSERT_TRUE(step.message_complete);
  EXPECT_EQ(step.consumed, second.size());
  EXPECT_EQ(parser->request().method, "GET");
  EXPECT_EQ(parser->request().target, "/2");
  EXPECT_TRUE(parser->request().body.empty());
  // Header entries are reused in place; a request with fewer headers sees only its own.
  ASSERT_EQ(parser->request().headers.size(), 1u);
  EXPECT_EQ(parser->request().headers[0].first, "c");
  EXPECT_EQ(parser->request().headers[0].second, "3");
}

TEST(LlhttpParserTest, ReportsPhases) {
  auto parser = NewLlhttpParser(kLimits);
  EXPECT_EQ(parser->phase(), HttpParsePhase::kIdle);
  const std::string head = "POST / HTTP/1.1\r\nContent-Len";
  parser->Parse(head.data(), head.size());
  EXPECT_EQ(parser->phase(), HttpParsePhase::kHeaders);
  const std::string rest = "gth: 4\r\n\r\nab";
  HttpParseStep step = parser->Parse(rest.data(), rest.size());
  EXPECT_TRUE(step.headers_complete);
  EXPECT_FALSE(step.message_complete);
  EXPECT_EQ(parser->phase(), HttpParsePhase::kBody);
  step = parser->Parse("cd", 2);
  EXPECT_TRUE(step.message_complete);
  EXPECT_EQ(parser->request().body, "abcd");
}

TEST(LlhttpParserTest, DecodesChunkedBodyAndDropsTrailers) {
  auto parser = NewLlhttpParser(kLimits);
  const std::string input =
      "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";
  size_t consumed = 0;
  const HttpParseStep step = FeedInPieces(*parser, input, 4, &consumed);
  ASSERT_TRUE(step.message_complete);
  EXPECT_EQ(consumed, input.size());
  EXPECT_EQ(parser->request().body, "hello world");
  EXPECT_EQ(parser->request().Header("x-trailer"), nullptr);
  EXPECT_EQ(parser->request().headers.size(), 1u);
}

TEST(LlhttpParserTest, KeepAliveRules) {
  struct Case {
    const char* input;
    bool keep_alive;
  };
  const Case cases[] = {
      {"GET / HTTP/1.1\r\n\r\n", true},
      {"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false},
      {"GET / HTTP/1.0\r\n\r\n", false},
      {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true},
      {"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", false},
  };
  for (const Case& c : cases) {
    auto parser = NewLlhttpParser(kLimits);
    const std::string input = c.input;
    const HttpParseStep step = parser->Parse(input.data(), input.size());
    ASSERT_TRUE(step.message_complete) << c.input;
    EXPECT_EQ(parser->request().keep_alive, c.keep_alive) << c.input;
  }
}

TEST(LlhttpParserTest, ExpectContinue) {
  auto parser = NewLlhttpParser(kLimits);
  const std::string input = "PUT / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n";
  HttpParseStep step = parser->Parse(input.data(), input.size());
  EXPECT_TRUE(step.headers_complete);
  EXPECT_FALSE(step.message_complete);
  EXPECT_TRUE(parser->expects_continue());
  step = parser->Parse("ok", 2);
  EXPECT_TRUE(step.message_complete);
  parser->NextMessage();
  EXPECT_FALSE(parser->expects_continue());

  auto http10 = NewLlhttpParser(kLimits);
  const std::string old = "PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
  http10->Parse(old.data(), old.size());
  EXPECT_FALSE(http10->expects_continue());
  EXPECT_TRUE(http10->is_http10());
}

TEST(LlhttpParserTest, RejectsDeclaredBodyOverLimitBeforeReadingIt) {
  auto parser = NewLlhttpParser(kLimits);
  const std::string input = "POST / HTTP/1.1\r\nContent-Length: 4097\r\n\r\n";
  const HttpParseStep step = parser->Parse(input.data(), input.size());
  ASSERT_TRUE(step.failed);
  EXPECT_EQ(step.error, HttpErrorKind::kBodyTooLarge);
}

TEST(LlhttpParserTest, AcceptsBodyAtLimitAndRejectsChunkedBodyOverIt) {
  auto at_limit = NewLlhttpParser(kLimits);
  const std::string ok = "POST / HTTP/1.1\r\nContent-Length: 4096\r\n\r\n" + std::string(4096, 'x');
  EXPECT_TRUE(at_limit->Parse(ok.data(), ok.size()).message_complete);

  auto parser = NewLlhttpParser(kLimits);
  std::string input = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 5; ++i) input += "400\r\n" + std::string(1024, 'y') + "\r\n";
  input += "0\r\n\r\n";
  size_t consumed = 0;
  const HttpParseStep step = FeedInPieces(*parser, input, 100, &consumed);
  ASSERT_TRUE(step.failed);
  EXPECT_EQ(step.error, HttpErrorKind::kBodyTooLarge);
}

TEST(LlhttpParserTest, RejectsOversizedHeaders) {
  const std::string big = "GET / HTTP/1.1\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n";
  for (size_t piece : {size_t{1}, size_t{64}, big.size()}) {
    auto parser = NewLlhttpParser(kLimits);
    size_t consumed = 0;
    const HttpParseStep step = FeedInPieces(*parser, big, piece, &consumed);
    ASSERT_TRUE(step.failed) << piece;
    EXPECT_EQ(step.error, HttpErrorKind::kHeadersTooLarge);
  }
  // Whitespace that llhttp skips without a callback still counts.
  const std::string padded = "GET / HTTP/1.1\r\nX-Pad:" + std::string(2000, ' ');
  auto parser = NewLlhttpParser(kLimits);
  size_t consumed = 0;
  const HttpParseStep step = FeedInPieces(*parser, padded, 100, &consumed);
  ASSERT_TRUE(step.failed);
  EXPECT_EQ(step.error, HttpErrorKind::kHeadersTooLarge);
}

TEST(LlhttpParserTest, RejectsMalformedRequests) {
  const char* inputs[] = {
      "GARBAGE\r\n\r\n",
      "GET / HTTP/9.9\r\n\r\n",
      "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
      "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "\x01\x02\x03",
  };
  for (const char* input : inputs) {
    auto parser = NewLlhttpParser(kLimits);
    const std::string s = input;
    const HttpParseStep step = parser->Parse(s.data(), s.size());
    EXPECT_TRUE(step.failed) << input;
    EXPECT_EQ(step.error, HttpErrorKind::kBadRequest) << input;
  }
}

// Random and mutated input must never crash or read out of bounds (run under ASan in CI).
TEST(LlhttpParserTest, SurvivesRandomInput) {
  std::mt19937 rng(12345);
  const std::string seed =
      "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
      "GET / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi";
  for (int iteration = 0; iteration < 2000; ++iteration) {
    std::string input = seed;
    const int mutations = 1 + static_cast<int>(rng() % 8);
    for (int m = 0; m < mutations; ++m) {
      input[rng() % input.size()] = static_cast<char>(rng() % 256);
    }
    auto parser = NewLlhttpParser(kLimits);
    size_t pos = 0;
    while (pos < input.size()) {
      const size_t n = std::min<size_t>(1 + rng() % 16, input.size() - pos);
      const HttpParseStep step = parser->Parse(input.data() + pos, n);
      ASSERT_LE(step.consumed, n);
      pos += step.consumed;
      if (step.failed) break;
      if (step.message_complete) {
        if (!parser->request().keep_alive) break;
        parser->NextMessage();
      }
    }
  }
}

}  // namespace
}  // namespace cruddur::net
