// An HTTP/1.1 keep-alive server: one epoll event loop per thread, each with its own listening
// socket bound with SO_REUSEPORT so the kernel spreads connections across loops without a
// shared accept lock. Requests are parsed behind the HttpParser seam (net/http_parser.h; llhttp
// by default), pipelined requests are answered in order, and everything that comes off the wire
// is bounded: body size, header size, time to send headers (slowloris), idle keep-alive time and
// the number of open connections.
//
// Ownership: HttpServer owns its sockets, threads and its copy of the handler; whatever the
// handler refers to must outlive the server. Thread-safety: the handler runs on the loop
// threads, possibly on several at once; streaming responses are written from any thread through
// ResponseStream. RequestStop() may be called from any thread or a signal
// handler; Wait() and the destructor from one thread that is not a loop thread.
// Signals: loop threads inherit the signal mask of the thread calling Start(); a process that
// waits for SIGTERM/SIGINT with sigwait() must block them before Start().
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace cruddur::net {

// One parsed request, as handed to the handler. Valid only for the duration of the call.
struct HttpRequest {
  std::string method;                                        // "POST"
  std::string target;                                        // "/" (path + query as sent)
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, values as sent
  std::string body;                                          // de-chunked if sent chunked
  bool keep_alive = true;  // false for HTTP/1.0 without keep-alive or `Connection: close`

  // Returns the first header with that lower-case name, or nullptr.
  const std::string* Header(std::string_view lower_name) const;
};

class StreamWaker;  // an event loop's wake-up channel, in http_server.cc

// The body of a streaming response (server-sent events, long polls): bytes written by any thread
// after the handler returned, sent as they come until one side ends the stream.
//
// Lifecycle: a handler makes one with Create(), may Write() to it at once (buffered until the
// headers are sent), hands it to the server in HttpResponse::stream and keeps a copy for the
// producer. The stream ends when
//   - the producer calls Close(): what was written is flushed, then the connection closes;
//   - the client disconnects, or stops reading and lets more than the server's
//     stream_max_pending_bytes pile up (the connection is dropped);
//   - the server stops (HttpServer::RequestStop): the body is ended cleanly and flushed;
//   - the response is never sent (HEAD, a status without a body, the handler threw).
// After any of these Write() returns false and closed() is true, so producers can drop it.
//
// Thread-safety: every method may be called from any thread at any time, also after the server
// is gone. Write() never blocks on the network: it appends to a bounded buffer and wakes the
// connection's event loop.
class ResponseStream : public std::enable_shared_from_this<ResponseStream> {
 private:
  struct Token {};

 public:
  static std::shared_ptr<ResponseStream> Create();
  explicit ResponseStream(Token) {}
  ResponseStream(const ResponseStream&) = delete;
  ResponseStream& operator=(const ResponseStream&) = delete;

  // Queues `data` to be sent (an empty write is a no-op). False, with nothing queued, when the
  // stream has ended; also when this write would exceed the pending-bytes bound, which ends it.
  bool Write(std::string_view data);

  // Ends the body once what is queued has been sent. Idempotent.
  void Close();

  bool closed() const;

 private:
  friend class StreamAttachment;  // the server's side, in http_server.cc

  mutable std::mutex mu_;
  std::string pending_;                 // written, not yet taken by the event loop
  size_t max_pending_ = 1 << 20;        // the server's stream_max_pending_bytes once attached
  bool producer_closed_ = false;        // Close() was called
  bool ended_ = false;                  // no more writes accepted (any reason)
  bool overflowed_ = false;             // the pending bound was hit: drop the connection
  bool attached_ = false;               // handed to a connection (at most once)
  bool wake_queued_ = false;            // the loop has been told to look at this stream
  std::shared_ptr<StreamWaker> waker_;  // the loop's wake-up channel while attached
  void* conn_ = nullptr;                // the connection; read and written on its loop thread only
};

struct HttpResponse {
  int status = 200;
  // Content-Length, Transfer-Encoding, Connection and Date are added by the server; do not set
  // them here.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Set to stream the body: the headers go out without Content-Length (HTTP/1.1:
  // `Transfer-Encoding: chunked`; HTTP/1.0: the body ends when the connection closes), with
  // `Connection: close`; `body`, if any, is sent first, then whatever is written to the stream.
  // The connection serves no further request, is never closed as idle while the client reads,
  // and requests pipelined behind this one are not answered.
  std::shared_ptr<ResponseStream> stream;
};

// Called on an event-loop thread, possibly concurrently from several threads: must be
// thread-safe and should not block for long (it stalls every connection on its loop).
using HttpHandler = std::function<void(const HttpRequest&, HttpResponse*)>;

enum class HttpErrorKind {
  kBadRequest,       // unparsable request (default: 400)
  kBodyTooLarge,     // body over max_body_bytes (default: 413)
  kHeadersTooLarge,  // request line + headers over max_header_bytes (default: 431)
  kTimeout,          // headers not complete within header_timeout_ms (default: 408)
};

// Builds the response sent (then the connection is closed) when a request is refused before
// reaching the handler. Called on a loop thread; must be thread-safe.
using HttpErrorResponder = std::function<HttpResponse(HttpErrorKind)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // numeric IPv4 or IPv6 address
  uint16_t port = 8000;            // 0 = pick a free port; see HttpServer::port()
  int threads = 0;                 // 0 = std::thread::hardware_concurrency()
  size_t max_body_bytes = 16 << 20;
  size_t max_header_bytes = 64 << 10;
  int header_timeout_ms = 10000;  // from the first byte of a request to the end of its headers
  int idle_timeout_ms = 60000;    // a keep-alive connection with no request in progress
  int max_connections = 10000;    // across all loops; excess connections are accepted and closed
  // Per streaming response: bytes written but not yet taken by a connection whose client does
  // not read fast enough; past this the connection is dropped (see ResponseStream).
  size_t stream_max_pending_bytes = 1 << 20;
  HttpErrorResponder error_responder;  // optional; a plain-text default otherwise
};

class HttpServer {
 public:
  // Binds every loop's socket and starts the loops. Fails with a Status (kIo) when the host is
  // not a numeric address or a socket cannot be bound (e.g. address in use); no thread is left
  // running on failure.
  static Result<std::unique_ptr<HttpServer>> Start(HttpServerOptions options, HttpHandler handler);

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();  // RequestStop() then Wait()

  uint16_t port() const;  // the bound port (useful with port 0)

  // Connections currently open across all loops (for tests and metrics; a relaxed read).
  int open_connections() const;

  // Begins a graceful stop: loops close their listening sockets and idle connections; a
  // connection in the middle of a request finishes it (the answer carries `Connection: close`),
  // responses are flushed, then connections close and the loops exit. Pipelined requests not
  // yet started are not answered. Open streaming responses are ended (see ResponseStream) and
  // flushed. Stragglers are cut off after header_timeout_ms.
  // Async-signal-safe (writes an eventfd); returns at once; idempotent.
  void RequestStop();

  // Blocks until every loop has stopped and its thread is joined. Only stops after
  // RequestStop(). Idempotent.
  void Wait();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cruddur::net
