// HttpParser on llhttp. llhttp is a streaming, callback-driven parser that never buffers: every
// piece of the request arrives through a callback as a span of the caller's input, possibly
// split across reads, so each callback appends. We pause llhttp in on_message_complete
// (returning HPE_PAUSED) so that Parse stops at a request boundary: the server answers each
// pipelined request, in order, before it parses the next one, and can stop parsing after a
// request that closes the connection.
//
// llhttp enforces the grammar (including chunked decoding, conflicting Content-Length /
// Transfer-Encoding, and HTTP/1.0 vs 1.1 keep-alive rules) but has no size limits; node adds
// its own, and so do we: header bytes are counted in the callbacks and as raw bytes consumed
// while the header block is open (whitespace llhttp skips without a callback), body bytes in
// on_body, and a declared Content-Length over the limit is refused before any body is read.
#include <llhttp.h>

#include <algorithm>
#include <cstring>

#include "net/http_parser.h"

namespace cruddur::net {
namespace {

// A body's buffer is kept between requests for reuse unless it grew beyond this; one large
// upload must not pin megabytes to an idle keep-alive connection.
constexpr size_t kMaxRetainedBodyCapacity = 1 << 20;

char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLowerAscii(a[i]) != ToLowerAscii(b[i])) return false;
  }
  return true;
}

class LlhttpParser final : public HttpParser {
 public:
  explicit LlhttpParser(const HttpParserLimits& limits) : limits_(limits) {
    llhttp_init(&parser_, HTTP_REQUEST, &Settings());
    parser_.data = this;
  }

  HttpParseStep Parse(const char* data, size_t len) override {
    HttpParseStep step;
    headers_complete_now_ = false;
    const llhttp_errno_t err = llhttp_execute(&parser_, data, len);
    if (err == HPE_OK) {
      step.consumed = len;
    } else if (message_complete_ && (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE)) {
      step.consumed = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data);
      step.message_complete = true;
    } else {
      step.failed = true;
      step.error = error_;
      const char* pos = llhttp_get_error_pos(&parser_);
      step.consumed = (pos >= data && pos <= data + len) ? static_cast<size_t>(pos - data) : len;
    }
    step.headers_complete = headers_complete_now_;
    // A call that starts before the header block ends and finishes inside it consumed only
    // header bytes (Parse stops at request boundaries), including any whitespace llhttp
    // skipped without a callback.
    if (!step.failed && phase_ == HttpParsePhase::kHeaders) {
      raw_header_bytes_ += step.consumed;
      if (raw_header_bytes_ > limits_.max_header_bytes) {
        step.failed = true;
        step.error = HttpErrorKind::kHeadersTooLarge;
      }
    }
    return step;
  }

  HttpParsePhase phase() const override { return phase_; }
  bool expects_continue() const override { return expects_continue_; }
  bool is_http10() const override { return parser_.http_major == 1 && parser_.http_minor == 0; }
  HttpRequest& request() override { return request_; }

  void NextMessage() override {
    request_.method.clear();
    request_.target.clear();
    if (request_.body.capacity() > kMaxRetainedBodyCapacity) {
      std::string().swap(request_.body);
    } else {
      request_.body.clear();
    }
    // request_.headers keeps its entries: the next request overwrites them in place.
    header_count_ = 0;
    header_bytes_ = 0;
    raw_header_bytes_ = 0;
    in_field_ = false;
    expects_continue_ = false;
    message_complete_ = false;
    phase_ = HttpParsePhase::kIdle;
    if (llhttp_get_errno(&parser_) == HPE_PAUSED) llhttp_resume(&parser_);
  }

 private:
  static const llhttp_settings_t& Settings() {
    static const llhttp_settings_t settings = [] {
      llhttp_settings_t s;
      llhttp_settings_init(&s);
      s.on_message_begin = &OnMessageBegin;
      s.on_method = &OnMethod;
      s.on_url = &OnUrl;
      s.on_version = &OnVersion;
      s.on_header_field = &OnHeaderField;
      s.on_header_field_complete = &OnHeaderFieldComplete;
      s.on_header_value = &OnHeaderValue;
      s.on_headers_complete = &OnHeadersComplete;
      s.on_body = &OnBody;
      s.on_message_complete = &OnMessageComplete;
      return s;
    }();
    return settings;
  }

  static LlhttpParser* Self(llhttp_t* p) { return static_cast<LlhttpParser*>(p->data); }

  // Records the reason for the error llhttp is about to report.
  int Fail(HttpErrorKind kind) {
    error_ = kind;
    return HPE_USER;
  }

  // Counts header-block bytes seen through callbacks; false once past the limit.
  bool CountHeaderBytes(size_t n) {
    header_bytes_ += n;
    return header_bytes_ <= limits_.max_header_bytes;
  }

  static int OnMessageBegin(llhttp_t* p) {
    LlhttpParser* self = Self(p);
    self->phase_ = HttpParsePhase::kHeaders;
    self->error_ = HttpErrorKind::kBadRequest;
    return 0;
  }

  static int OnMethod(llhttp_t* p, const char* at, size_t len) {
    LlhttpParser* self = Self(p);
    if (!self->CountHeaderBytes(len)) return self->Fail(HttpErrorKind::kHeadersTooLarge);
    self->request_.method.append(at, len);
    return 0;
  }

  static int OnUrl(llhttp_t* p, const char* at, size_t len) {
    LlhttpParser* self = Self(p);
    if (!self->CountHeaderBytes(len)) return self->Fail(HttpErrorKind::kHeadersTooLarge);
    self->request_.target.append(at, len);
    return 0;
  }

  static int OnVersion(llhttp_t* p, const char*, size_t len) {
    LlhttpParser* self = Self(p);
    if (!self->CountHeaderBytes(len)) return self->Fail(HttpErrorKind::kHeadersTooLarge);
    return 0;
  }

  static int OnHeaderField(llhttp_t* p, const char* at, size_t len) {
    LlhttpParser* self = Self(p);
    if (!self->CountHeaderBytes(len)) return self->Fail(HttpErrorKind::kHeadersTooLarge);
    // Trailers of a chunked body are counted against the limit but not kept.
    if (self->phase_ != HttpParsePhase::kHeaders) return 0;
    auto& headers = self->request_.headers;
    if (!self->in_field_) {
      self->in_field_ = true;
      if (self->header_count_ < headers.size()) {
        headers[self->header_count_].first.clear();
        headers[self->header_count_].second.clear();
      } else {
        headers.emplace_back();
      }
      ++self->header_count_;
    }
    headers[self->header_count_ - 1].first.append(at, len);
    return 0;
  }

  static int OnHeaderFieldComplete(llhttp_t* p) {
    LlhttpParser* self = Self(p);
    if (self->phase_ != HttpParsePhase::kHeaders || self->header_count_ == 0) return 0;
    self->in_field_ = false;
    for (char& c : self->request_.headers[self->header_count_ - 1].first) c = ToLowerAscii(c);
    return 0;
  }

  static int OnHeaderValue(llhttp_t* p, const char* at, size_t len) {
    LlhttpParser* self = Self(p);
    if (!self->CountHeaderBytes(len)) return self->Fail(HttpErrorKind::kHeadersTooLarge);
    if (self->phase_ != HttpParsePhase::kHeaders || self->header_count_ == 0) return 0;
    self->request_.headers[self->header_count_ - 1].second.append(at, len);
    return 0;
  }

  static int OnHeadersComplete(llhttp_t* p) {
    LlhttpParser* self = Self(p);
    HttpRequest& request = self->request_;
    self->phase_ = HttpParsePhase::kBody;
    self->headers_complete_now_ = true;
    request.headers.resize(self->header_count_);
    const bool http11 = p->http_major == 1 && p->http_minor >= 1;
    const std::string* expect = request.Header("expect");
    self->expects_continue_ =
        http11 && expect != nullptr && EqualsIgnoreCase(*expect, "100-continue");
    if ((p->flags & F_CONTENT_LENGTH) != 0) {
      if (p->content_length > self->limits_.max_body_bytes) {
        return self->Fail(HttpErrorKind::kBodyTooLarge);
      }
      request.body.reserve(
          std::min<size_t>(static_cast<size_t>(p->content_length), kMaxRetainedBodyCapacity));
    }
    return 0;
  }

  static int OnBody(llhttp_t* p, const char* at, size_t len) {
    LlhttpParser* self = Self(p);
    std::string& body = self->request_.body;
    if (len > self->limits_.max_body_bytes - body.size()) {
      return self->Fail(HttpErrorKind::kBodyTooLarge);
    }
    body.append(at, len);
    return 0;
  }

  static int OnMessageComplete(llhttp_t* p) {
    LlhttpParser* self = Self(p);
    self->message_complete_ = true;
    // We do not implement protocol upgrades (or CONNECT tunnels): answer, then close.
    self->request_.keep_alive = llhttp_should_keep_alive(p) != 0 && p->upgrade == 0;
    return HPE_PAUSED;
  }

  llhttp_t parser_;
  const HttpParserLimits limits_;
  HttpRequest request_;
  HttpParsePhase phase_ = HttpParsePhase::kIdle;
  HttpErrorKind error_ = HttpErrorKind::kBadRequest;
  size_t header_count_ = 0;      // entries of request_.headers in use by this request
  size_t header_bytes_ = 0;      // header-block bytes seen through callbacks
  size_t raw_header_bytes_ = 0;  // header-block bytes consumed, whitespace included
  bool in_field_ = false;        // the last header callback was part of a field name
  bool headers_complete_now_ = false;
  bool message_complete_ = false;
  bool expects_continue_ = false;
};

}  // namespace

std::unique_ptr<HttpParser> NewLlhttpParser(const HttpParserLimits& limits) {
  return std::make_unique<LlhttpParser>(limits);
}

}  // namespace cruddur::net
