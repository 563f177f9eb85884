// Fuzzes the HTTP/1.1 request parser behind the server's seam (net/http_parser.h,
// NewLlhttpParser) with the byte stream of one connection, driven the way
// HttpServer's Consume loop drives it: parse, answer each complete request, NextMessage, stop
// at the first failure or after a request that does not keep the connection alive.
//
// The same stream is parsed three times:
//   1. in one buffer, with limits no input of -max_len can reach;
//   2. split into reads of pseudo-random sizes (derived from the bytes, so reproducible), with
//      the same limits: the requests, and where parsing fails, must not depend on how the bytes
//      arrived;
//   3. split the same way with tiny limits, to exercise the 413/431 paths (only crashes count:
//      the header limit is enforced on raw bytes per read, so it legitimately depends on splits).
// Invariants: a step never consumes more than it was given, and every request consumes at least
// one byte (otherwise the server's loop would spin).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/http_parser.h"

namespace {

namespace net = cruddur::net;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

struct ParsedRequest {
  net::HttpRequest request;
  bool expects_continue = false;
  bool is_http10 = false;
  bool operator==(const ParsedRequest& o) const {
    return request.method == o.request.method && request.target == o.request.target &&
           request.headers == o.request.headers && request.body == o.request.body &&
           request.keep_alive == o.request.keep_alive && expects_continue == o.expects_continue &&
           is_http10 == o.is_http10;
  }
};

struct Outcome {
  std::vector<ParsedRequest> requests;
  bool failed = false;
  net::HttpErrorKind error = net::HttpErrorKind::kBadRequest;
  bool stopped = false;  // a request closed the connection; later bytes are never parsed
};

// Feeds `stream` to a fresh parser in reads of the sizes `next_read` returns (0 = the rest).
template <typename NextRead>
Outcome ParseConnection(std::string_view stream, const net::HttpParserLimits& limits,
                        NextRead next_read) {
  std::unique_ptr<net::HttpParser> parser = net::NewLlhttpParser(limits);
  Outcome out;
  size_t offset = 0;
  while (offset < stream.size() && !out.failed && !out.stopped) {
    size_t read = next_read();
    if (read == 0 || read > stream.size() - offset) read = stream.size() - offset;
    const char* data = stream.data() + offset;
    size_t len = read;
    offset += read;
    while (len > 0) {
      const net::HttpParseStep step = parser->Parse(data, len);
      Check(step.consumed <= len);
      data += step.consumed;
      len -= step.consumed;
      if (step.failed) {
        out.failed = true;
        out.error = step.error;
        break;
      }
      if (!step.message_complete) {
        Check(len == 0);  // a step that neither fails nor completes takes the whole read
        break;
      }
      ParsedRequest parsed{parser->request(), parser->expects_continue(), parser->is_http10()};
      const bool keep_alive = parsed.request.keep_alive;
      out.requests.push_back(std::move(parsed));
      Check(out.requests.size() <= stream.size());
      parser->NextMessage();
      Check(parser->phase() == net::HttpParsePhase::kIdle);
      if (!keep_alive) {
        out.stopped = true;
        break;
      }
    }
  }
  return out;
}

// Read sizes from a small generator seeded with a hash of the stream.
class ReadSizes {
 public:
  explicit ReadSizes(std::string_view stream) {
    for (unsigned char c : stream) state_ = (state_ ^ c) * 0x100000001b3ull;
  }
  size_t operator()() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    // Mostly tiny reads (splitting tokens and CRLFs), sometimes larger ones.
    return (state_ & 3) == 0 ? 1 + (state_ >> 8) % 512 : 1 + (state_ >> 8) % 8;
  }

 private:
  uint64_t state_ = 0xcbf29ce484222325ull;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view stream(reinterpret_cast<const char*>(data), size);
  // Far above what -max_len lets the fuzzer write, so only the grammar decides.
  const net::HttpParserLimits roomy{1 << 20, 1 << 20};
  const Outcome whole = ParseConnection(stream, roomy, [] { return size_t{0}; });
  const Outcome split = ParseConnection(stream, roomy, ReadSizes(stream));
  Check(whole.requests == split.requests);
  Check(whole.failed == split.failed && whole.error == split.error);
  Check(whole.stopped == split.stopped);

  const net::HttpParserLimits tiny{64, 16};
  (void)ParseConnection(stream, tiny, ReadSizes(stream));
  return 0;
}
