// The seam between the HTTP server and the byte-level HTTP/1.1 request parser. The server only
// speaks to this interface, so llhttp (the default, net/llhttp_parser.cc) could be replaced by
// another parser without touching the event loop.
//
// A parser instance belongs to one connection and is used by one thread at a time. It holds the
// request being parsed; the strings in it keep their capacity between requests so that a
// keep-alive connection parses without allocating in the common case.
#pragma once

#include <cstddef>
#include <memory>

#include "net/http_server.h"

namespace cruddur::net {

struct HttpParserLimits {
  size_t max_header_bytes;  // request line + header block (and trailers), as received
  size_t max_body_bytes;    // the decoded body
};

// Where the parser is within the current request.
enum class HttpParsePhase {
  kIdle,     // between requests: no byte of the next request seen yet
  kHeaders,  // request line or headers in progress
  kBody,     // headers complete, body (or chunked trailer) in progress
};

// What one call to HttpParser::Parse did.
struct HttpParseStep {
  size_t consumed = 0;            // bytes of the input used; the rest belongs to later calls
  bool headers_complete = false;  // the current request's header block ended during this call
  bool message_complete = false;  // request() holds a whole request; call NextMessage() next
  bool failed = false;            // the stream is unusable from here on; `error` says why
  HttpErrorKind error = HttpErrorKind::kBadRequest;
};

class HttpParser {
 public:
  virtual ~HttpParser() = default;

  // Parses a prefix of [data, data + len), stopping right after the first complete request or
  // at the first error. Never reads past `len`, never throws; any byte sequence is safe.
  // After message_complete, Parse must not be called again before NextMessage(). After
  // failed, Parse must not be called again at all.
  virtual HttpParseStep Parse(const char* data, size_t len) = 0;

  virtual HttpParsePhase phase() const = 0;

  // True once the current request's headers carry `Expect: 100-continue` on HTTP/1.1.
  virtual bool expects_continue() const = 0;

  // True once the current request line says HTTP/1.0 (whose keep-alive must be echoed).
  virtual bool is_http10() const = 0;

  // The request being parsed; complete only after a step with message_complete.
  virtual HttpRequest& request() = 0;

  // Forgets the completed request and readies the parser for the next one on the connection.
  virtual void NextMessage() = 0;
};

// The default parser, built on llhttp (Debian's node-llhttp C sources).
std::unique_ptr<HttpParser> NewLlhttpParser(const HttpParserLimits& limits);

}  // namespace cruddur::net
