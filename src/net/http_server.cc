// The event loops behind HttpServer.
//
// Shape: N threads, each running one Loop with its own epoll instance and its own listening
// socket (SO_REUSEPORT: the kernel hashes each new connection to one socket, so loops never
// contend on accept). A connection lives its whole life on the loop that accepted it, so no
// connection state is shared between threads; the only shared state is the connection count
// (an atomic) and the stop eventfd.
//
// Epoll is level-triggered. Each readable event reads one chunk into a per-loop buffer (so a
// busy client cannot starve the others on its loop) and feeds it to the connection's parser;
// the parser stops at each complete request, which is answered before the next is parsed, so
// pipelined requests are answered in order. Responses are appended to a per-connection output
// buffer and written with one send() after the chunk is consumed, so a pipelined burst costs
// one syscall. EPOLLOUT is only registered while output is pending. If a client pipelines
// faster than it reads (output past kOutputHighWater), parsing stops, the unparsed bytes are
// kept and reading is disabled until the output drains.
//
// Timeouts are checked by a periodic sweep over the loop's connections (a few times per
// shortest timeout, at most once a second): a 10k-connection sweep is cheaper than keeping
// per-connection timers ordered on every byte. The header timeout runs from the first byte of
// a request to the end of its header block (slowloris); the idle timeout from the last byte
// read or written.
//
// Streaming responses (ResponseStream) are written by other threads. A producer appends to the
// stream's own buffer under the stream's mutex and, if the loop has not been told yet, puts the
// stream on its loop's ready list (StreamWaker) and writes the loop's eventfd; the loop then
// moves the bytes into the connection's output as one chunk. It only takes them once the
// previous output has reached the socket, so a client that does not read leaves the bytes in
// the stream, whose bound (stream_max_pending_bytes) then ends the stream and the connection:
// at most twice the bound is held per streaming connection. A streaming connection keeps
// reading (and discarding) input only to notice the client going away.
//
// Closing after a response (errors, `Connection: close`, HTTP/1.0, shutdown) is a "lingering
// close" as in RFC 9112 section 9.6: shut down our write side, then read and discard until the
// client closes or kLingerMs passes. Closing at once with unread request bytes in the kernel
// buffer would make the kernel send RST, which can destroy the response (e.g. a 413) before
// the client reads it.
#include "net/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <system_error>
#include <thread>

#include "net/http_parser.h"

namespace cruddur::net {

// An event loop's wake-up channel for streams: which streams have news, and an eventfd to say
// so. Shared by the loop and the streams attached to it; closes the eventfd when the last of
// them lets go, so a producer never writes to a reused descriptor.
class StreamWaker {
 public:
  explicit StreamWaker(int fd) : fd_(fd) {}
  ~StreamWaker() { ::close(fd_); }
  StreamWaker(const StreamWaker&) = delete;
  StreamWaker& operator=(const StreamWaker&) = delete;

  int fd() const { return fd_; }

  // Any thread.
  void Notify(std::shared_ptr<ResponseStream> stream) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ready_.push_back(std::move(stream));
    }
    const uint64_t one = 1;
    // A failed write means the counter is already non-zero: the loop wakes anyway.
    [[maybe_unused]] const ssize_t written = write(fd_, &one, sizeof(one));
  }

  // The loop thread: the streams with news since the last call.
  std::vector<std::shared_ptr<ResponseStream>> TakeReady() {
    uint64_t count = 0;
    [[maybe_unused]] const ssize_t n = read(fd_, &count, sizeof(count));
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(ready_, {});
  }

 private:
  const int fd_;
  std::mutex mu_;
  std::vector<std::shared_ptr<ResponseStream>> ready_;
};

// The event loop's access to a stream's state. Everything but Create/Write/Close/closed runs on
// the loop thread of the connection the stream is attached to.
class StreamAttachment {
 public:
  // Binds the stream to a connection; false if it was already bound to one.
  static bool Attach(ResponseStream& s, std::shared_ptr<StreamWaker> waker, void* conn,
                     size_t max_pending) {
    std::lock_guard<std::mutex> lock(s.mu_);
    if (s.attached_) return false;
    s.attached_ = true;
    s.max_pending_ = max_pending;
    if (!s.ended_) {
      s.waker_ = std::move(waker);
      s.conn_ = conn;
    }
    return true;
  }

  static void* Conn(ResponseStream& s) {
    std::lock_guard<std::mutex> lock(s.mu_);
    return s.conn_;
  }

  struct Taken {
    std::string data;
    bool overflowed = false;
    bool finished = false;  // the producer closed it and every byte has been taken
  };

  // Takes the pending bytes (only their state when `take_data` is false).
  static Taken Take(ResponseStream& s, bool take_data) {
    Taken taken;
    std::lock_guard<std::mutex> lock(s.mu_);
    s.wake_queued_ = false;
    if (s.overflowed_) {
      taken.overflowed = true;
      return taken;
    }
    if (take_data) taken.data.swap(s.pending_);
    taken.finished = s.producer_closed_ && s.pending_.empty();
    return taken;
  }

  // The connection is done with the stream (or never took it): writes fail from now on.
  static void Detach(ResponseStream& s) {
    std::lock_guard<std::mutex> lock(s.mu_);
    s.ended_ = true;
    s.attached_ = true;
    std::string().swap(s.pending_);
    s.waker_.reset();
    s.conn_ = nullptr;
  }
};

std::shared_ptr<ResponseStream> ResponseStream::Create() {
  return std::make_shared<ResponseStream>(Token{});
}

bool ResponseStream::Write(std::string_view data) {
  std::lock_guard<std::mutex> lock(mu_);
  if (ended_) return false;
  if (data.empty()) return true;
  if (data.size() > max_pending_ - std::min(max_pending_, pending_.size())) {
    // The client is not reading: end the stream and let the loop drop the connection.
    ended_ = true;
    overflowed_ = true;
    std::string().swap(pending_);
  } else {
    pending_.append(data);
  }
  if (waker_ != nullptr && !wake_queued_) {
    wake_queued_ = true;
    waker_->Notify(shared_from_this());
  }
  return !overflowed_;
}

void ResponseStream::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (ended_) return;
  ended_ = true;
  producer_closed_ = true;
  if (waker_ != nullptr && !wake_queued_) {
    wake_queued_ = true;
    waker_->Notify(shared_from_this());
  }
}

bool ResponseStream::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ended_;
}

const std::string* HttpRequest::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

namespace {

constexpr size_t kReadChunk = 64 << 10;
// Past this much unsent output, stop parsing pipelined requests until the client reads.
constexpr size_t kOutputHighWater = 1 << 20;
// Buffers that grew past this (a large response) are released rather than kept for reuse.
constexpr size_t kMaxRetainedCapacity = 1 << 20;
constexpr int64_t kLingerMs = 2000;
constexpr int kMaxEvents = 256;
// Accepts per listener wakeup, so a connection flood cannot starve established connections.
constexpr int kMaxAcceptsPerWakeup = 128;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string ErrnoMessage(std::string_view what, int err) {
  std::string message(what);
  message += ": ";
  message += std::strerror(err);
  return message;
}

char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLowerAscii(a[i]) != ToLowerAscii(b[i])) return false;
  }
  return true;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

HttpResponse DefaultErrorResponse(HttpErrorKind kind) {
  HttpResponse response;
  switch (kind) {
    case HttpErrorKind::kBadRequest:
      response.status = 400;
      break;
    case HttpErrorKind::kBodyTooLarge:
      response.status = 413;
      break;
    case HttpErrorKind::kHeadersTooLarge:
      response.status = 431;
      break;
    case HttpErrorKind::kTimeout:
      response.status = 408;
      break;
  }
  response.headers.emplace_back("Content-Type", "text/plain");
  response.body = std::string(ReasonPhrase(response.status)) + "\n";
  return response;
}

// Header names the server writes itself; a handler's copies are dropped.
bool IsServerHeader(std::string_view name) {
  return EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "connection") ||
         EqualsIgnoreCase(name, "date") || EqualsIgnoreCase(name, "transfer-encoding");
}

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

void AppendNumber(std::string* out, uint64_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), n);
  out->append(buf, end);
}

// RFC 9110 section 8.6: no Content-Length (and no body) on 1xx, 204 and 304.
bool IsBodyless(int status) { return status < 200 || status == 204 || status == 304; }

void AppendHeaderLines(std::string* out, const HttpResponse& response, int status,
                       std::string_view date) {
  out->append("HTTP/1.1 ");
  AppendNumber(out, static_cast<uint64_t>(status));
  out->push_back(' ');
  out->append(ReasonPhrase(status));
  out->append("\r\n");
  for (const auto& [name, value] : response.headers) {
    // A handler echoing client input must not be able to split the response.
    if (IsServerHeader(name) || HasLineBreak(name) || HasLineBreak(value)) continue;
    out->append(name);
    out->append(": ");
    out->append(value);
    out->append("\r\n");
  }
  out->append("Date: ");
  out->append(date);
  out->append("\r\n");
}

// Stream bytes as they go on the wire: one chunk (RFC 9112 section 7.1), or raw when the body
// is delimited by the connection closing.
void AppendStreamData(std::string* out, std::string_view data, bool chunked) {
  if (data.empty()) return;
  if (chunked) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), data.size(), 16);
    out->append(buf, end);
    out->append("\r\n");
  }
  out->append(data);
  if (chunked) out->append("\r\n");
}

// What AppendResponse needs to know about the request being answered.
struct ResponseFraming {
  bool head = false;             // HEAD: headers as for GET, no body
  bool close = false;            // the connection closes after this response
  bool echo_keep_alive = false;  // HTTP/1.0 keep-alive must be confirmed explicitly
};

void AppendResponse(std::string* out, const HttpResponse& response, const ResponseFraming& framing,
                    std::string_view date) {
  const int status = (response.status >= 100 && response.status <= 999) ? response.status : 500;
  AppendHeaderLines(out, response, status, date);
  const bool bodyless = IsBodyless(status);
  if (!bodyless) {
    out->append("Content-Length: ");
    AppendNumber(out, response.body.size());
    out->append("\r\n");
  }
  if (framing.close) {
    out->append("Connection: close\r\n");
  } else if (framing.echo_keep_alive) {
    out->append("Connection: keep-alive\r\n");
  }
  out->append("\r\n");
  if (!bodyless && !framing.head) out->append(response.body);
}

// State shared by all loops of one server.
struct ServerShared {
  HttpServerOptions options;
  HttpHandler handler;
  int stop_fd = -1;
  std::atomic<int> open_connections{0};
};

struct Conn {
  int fd = -1;
  size_t index = 0;  // position in Loop::conns_
  std::unique_ptr<HttpParser> parser;
  std::string out;  // response bytes not yet written, from out_sent on
  size_t out_sent = 0;
  std::string in;  // bytes read but not parsed while parsing is paused for backpressure
  std::shared_ptr<ResponseStream> stream;  // set while a streaming response is being sent
  bool stream_chunked = false;             // its body is chunked (else ends with the connection)
  uint32_t interest = 0;                   // epoll events currently registered
  int64_t last_activity_ms = 0;
  int64_t header_start_ms = -1;  // first byte of a request whose headers are incomplete
  int64_t linger_start_ms = -1;
  bool read_paused = false;        // backpressure: output past the high-water mark
  bool close_after_write = false;  // no more requests: close once `out` is written
  bool peer_closed = false;        // the client shut down its side
  bool lingering = false;          // our side is shut down; discarding input until EOF
  bool dead = false;
};

class Loop {
 public:
  Loop(ServerShared* shared, int listen_fd) : shared_(shared), listen_fd_(listen_fd) {
    const HttpServerOptions& o = shared_->options;
    sweep_period_ms_ = std::clamp(std::min(o.header_timeout_ms, o.idle_timeout_ms) / 4, 10, 1000);
    limits_ = HttpParserLimits{o.max_header_bytes, o.max_body_bytes};
  }

  ~Loop() {
    for (auto& conn : conns_) {
      if (conn->stream != nullptr) StreamAttachment::Detach(*conn->stream);
      ::close(conn->fd);
      shared_->open_connections.fetch_sub(1, std::memory_order_relaxed);
    }
    if (listen_fd_ >= 0) ::close(listen_fd_);
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
    if (spare_fd_ >= 0) ::close(spare_fd_);
  }

  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  Status Init() {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) return IoError(ErrnoMessage("epoll_create1", errno));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &listen_tag_;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev) != 0) {
      return IoError(ErrnoMessage("epoll_ctl(listen)", errno));
    }
    const int wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd < 0) return IoError(ErrnoMessage("eventfd", errno));
    waker_ = std::make_shared<StreamWaker>(wake_fd);
    ev.data.ptr = &wake_tag_;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd, &ev) != 0) {
      return IoError(ErrnoMessage("epoll_ctl(eventfd)", errno));
    }
    ev.data.ptr = &stop_tag_;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, shared_->stop_fd, &ev) != 0) {
      return IoError(ErrnoMessage("epoll_ctl(stop)", errno));
    }
    spare_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    read_buf_ = std::make_unique<char[]>(kReadChunk);
    return Status::Ok();
  }

  void Run() {
    epoll_event events[kMaxEvents];
    now_ms_ = NowMs();
    last_sweep_ms_ = now_ms_;
    while (!(draining_ && conns_.empty())) {
      const int timeout = (conns_.empty() && !draining_) ? -1 : sweep_period_ms_;
      const int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout);
      if (n < 0 && errno != EINTR) break;  // only EBADF/EFAULT/EINVAL: a bug, not load
      now_ms_ = NowMs();
      for (int i = 0; i < n; ++i) {
        void* tag = events[i].data.ptr;
        if (tag == &listen_tag_) {
          Accept();
        } else if (tag == &stop_tag_) {
          BeginDrain();
        } else if (tag == &wake_tag_) {
          OnStreamsReady();
        } else {
          OnConnEvent(static_cast<Conn*>(tag), events[i].events);
        }
      }
      if (now_ms_ - last_sweep_ms_ >= sweep_period_ms_) Sweep();
      graveyard_.clear();
    }
  }

 private:
  void Accept() {
    for (int i = 0; i < kMaxAcceptsPerWakeup && listen_fd_ >= 0; ++i) {
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if ((errno == EMFILE || errno == ENFILE) && spare_fd_ >= 0) {
          // Out of descriptors: accept-and-close one pending connection with the spare so
          // the level-triggered listener does not spin, then take the spare back.
          ::close(spare_fd_);
          const int shed = accept(listen_fd_, nullptr, nullptr);
          if (shed >= 0) ::close(shed);
          spare_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        }
        return;
      }
      // The cap is global; an excess connection is accepted and closed at once, which keeps
      // the backlog moving instead of leaving clients hanging in it.
      if (shared_->open_connections.fetch_add(1, std::memory_order_relaxed) >=
          shared_->options.max_connections) {
        shared_->open_connections.fetch_sub(1, std::memory_order_relaxed);
        ::close(fd);
        continue;
      }
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      auto conn = std::make_unique<Conn>();
      conn->fd = fd;
      conn->parser = NewLlhttpParser(limits_);
      conn->last_activity_ms = now_ms_;
      conn->interest = EPOLLIN;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.ptr = conn.get();
      if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        ::close(fd);
        shared_->open_connections.fetch_sub(1, std::memory_order_relaxed);
        continue;
      }
      conn->index = conns_.size();
      conns_.push_back(std::move(conn));
    }
  }

  // Stop accepting; close connections with nothing in progress; let the others finish the
  // request they are on (answered with `Connection: close`) for at most one header timeout.
  void BeginDrain() {
    if (draining_) return;
    draining_ = true;
    drain_start_ms_ = now_ms_;
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, shared_->stop_fd, nullptr);
    if (listen_fd_ >= 0) {
      epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
      ::close(listen_fd_);
      listen_fd_ = -1;
    }
    // Backwards: Close() moves the last connection into the closed one's slot.
    for (size_t i = conns_.size(); i-- > 0;) {
      Conn* c = conns_[i].get();
      if (c->lingering || c->close_after_write) continue;
      if (c->stream != nullptr) {
        // Send what the producer wrote so far, then end the body.
        AppendStreamData(&c->out, StreamAttachment::Take(*c->stream, true).data, c->stream_chunked);
        EndStream(c);
        continue;
      }
      if (c->parser->phase() != HttpParsePhase::kIdle) continue;  // mid-request: finish it
      if (c->out_sent == c->out.size()) {
        Close(c);
      } else {
        c->close_after_write = true;  // pipelined requests not yet parsed are not answered
        c->read_paused = false;
        c->in.clear();
        UpdateInterest(c);
      }
    }
  }

  void OnConnEvent(Conn* c, uint32_t events) {
    if (c->dead) return;
    if ((events & EPOLLERR) != 0) {
      Close(c);
      return;
    }
    if ((events & EPOLLIN) != 0 && (c->interest & EPOLLIN) != 0) OnReadable(c);
    if (!c->dead && (events & EPOLLOUT) != 0 && (c->interest & EPOLLOUT) != 0) Flush(c);
    // Both directions are shut (e.g. the client closed while we linger): nothing more to do.
    if (!c->dead && (events & EPOLLHUP) != 0) Close(c);
  }

  void OnReadable(Conn* c) {
    char* buf = read_buf_.get();
    const ssize_t n = recv(c->fd, buf, kReadChunk, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      Close(c);
      return;
    }
    if (n == 0) {
      OnPeerClosed(c);
      return;
    }
    c->last_activity_ms = now_ms_;
    // Discarded: after a streaming response nothing more is answered on this connection.
    if (c->lingering || c->stream != nullptr) return;
    Consume(c, buf, static_cast<size_t>(n));
    if (!c->dead) Flush(c);
  }

  void OnPeerClosed(Conn* c) {
    c->peer_closed = true;
    if (c->lingering || c->stream != nullptr) {
      Close(c);
      return;
    }
    // A half-closed client may still read the answers to what it sent; a request cut short
    // can never complete.
    c->close_after_write = true;
    c->read_paused = false;
    c->in.clear();
    Flush(c);
  }

  // Parses and answers the requests in [data, data + len).
  void Consume(Conn* c, const char* data, size_t len) {
    HttpParser& parser = *c->parser;
    while (len > 0) {
      const HttpParseStep step = parser.Parse(data, len);
      data += step.consumed;
      len -= step.consumed;
      if (step.headers_complete) {
        c->header_start_ms = -1;
        // RFC 9110 section 10.1.1: the client waits for this before sending the body. It is
        // pointless once the body is here (the request completed in this step).
        if (!step.message_complete && !step.failed && parser.expects_continue()) {
          c->out.append(kContinue);
        }
      }
      if (step.failed) {
        SendError(c, step.error);
        return;
      }
      if (!step.message_complete) break;
      Respond(c);
      // Bytes after a closing request, or after one answered with a stream, are not read.
      if (c->close_after_write || c->stream != nullptr) return;
      if (c->out.size() - c->out_sent > kOutputHighWater) {
        if (!WriteOut(c) && c->dead) return;
        if (c->out.size() - c->out_sent > kOutputHighWater) {
          c->in.assign(data, len);
          c->read_paused = true;
          UpdateInterest(c);
          return;
        }
      }
    }
    if (parser.phase() == HttpParsePhase::kHeaders) {
      if (c->header_start_ms < 0) c->header_start_ms = now_ms_;
    } else {
      c->header_start_ms = -1;
    }
  }

  void Respond(Conn* c) {
    HttpParser& parser = *c->parser;
    const HttpRequest& request = parser.request();
    HttpResponse& response = response_;
    response.status = 200;
    response.headers.clear();
    response.body.clear();
    response.stream.reset();
    // The handler's contract is not to throw; a throw (e.g. bad_alloc) must still not take the
    // loop, and every connection on it, down with it.
    try {
      shared_->handler(request, &response);
    } catch (...) {
      if (response.stream != nullptr) StreamAttachment::Detach(*response.stream);
      response = HttpResponse{500, {}, {}, nullptr};
    }
    if (response.stream != nullptr) {
      std::shared_ptr<ResponseStream> stream = std::move(response.stream);
      response.stream.reset();
      RespondWithStream(c, request, std::move(stream));
      parser.NextMessage();
      return;
    }
    ResponseFraming framing;
    framing.head = request.method == "HEAD";
    framing.close = !request.keep_alive || draining_;
    framing.echo_keep_alive = parser.is_http10();
    AppendResponse(&c->out, response, framing, Date());
    if (response.body.capacity() > kMaxRetainedCapacity) response = HttpResponse();
    parser.NextMessage();
    if (framing.close) {
      c->close_after_write = true;
      UpdateInterest(c);
    }
  }

  // Sends the head of a streaming response; the stream's bytes follow as Flush takes them.
  void RespondWithStream(Conn* c, const HttpRequest& request,
                         std::shared_ptr<ResponseStream> stream) {
    HttpResponse& response = response_;
    const int status = (response.status >= 100 && response.status <= 999) ? response.status : 500;
    const bool head = request.method == "HEAD";
    const bool refuse = head || IsBodyless(status) || draining_;
    if (refuse ||
        !StreamAttachment::Attach(*stream, waker_, c, shared_->options.stream_max_pending_bytes)) {
      ResponseFraming framing;
      framing.head = head;
      framing.close = true;
      if (refuse) {
        // Nothing will be streamed: a HEAD, a status without a body, or a server stopping (the
        // body, if any, is the whole of it).
        StreamAttachment::Detach(*stream);
        AppendResponse(&c->out, response, framing, Date());
      } else {
        // A handler handed out a stream that already belongs to another response.
        AppendResponse(&c->out, HttpResponse{500, {}, {}, nullptr}, framing, Date());
      }
      c->close_after_write = true;
      UpdateInterest(c);
      return;
    }
    c->stream = std::move(stream);
    // HTTP/1.0 has no chunked coding: the body ends when the connection closes.
    c->stream_chunked = !c->parser->is_http10();
    c->read_paused = false;
    c->in.clear();
    AppendHeaderLines(&c->out, response, status, Date());
    if (c->stream_chunked) c->out.append("Transfer-Encoding: chunked\r\n");
    c->out.append("Connection: close\r\n\r\n");
    AppendStreamData(&c->out, response.body, c->stream_chunked);
    UpdateInterest(c);
  }

  // The loop's eventfd fired: streams on this loop have bytes, were closed or overflowed.
  void OnStreamsReady() {
    for (const std::shared_ptr<ResponseStream>& stream : waker_->TakeReady()) {
      Conn* c = static_cast<Conn*>(StreamAttachment::Conn(*stream));
      if (c == nullptr) continue;  // the connection is gone
      if (c->out_sent == c->out.size()) {
        Flush(c);
      } else if (StreamAttachment::Take(*stream, /*take_data=*/false).overflowed) {
        Close(c);
      }
    }
  }

  // Moves what the producer wrote into the output, if the previous output is all sent. True
  // when output was added (or the stream finished); the connection is closed on overflow.
  bool TakeStreamOutput(Conn* c) {
    StreamAttachment::Taken taken =
        StreamAttachment::Take(*c->stream, /*take_data=*/c->out_sent == c->out.size());
    if (taken.overflowed) {
      Close(c);
      return false;
    }
    AppendStreamData(&c->out, taken.data, c->stream_chunked);
    if (!taken.finished) return !taken.data.empty();
    EndStream(c);
    return true;
  }

  // Ends the body (with the last chunk when chunked); the connection closes once it is sent.
  void EndStream(Conn* c) {
    StreamAttachment::Detach(*c->stream);
    c->stream.reset();
    if (c->stream_chunked) c->out.append(kLastChunk);
    c->close_after_write = true;
    UpdateInterest(c);
  }

  // Queues the refusal for a request that never reached the handler; the connection closes.
  void SendError(Conn* c, HttpErrorKind kind) {
    HttpResponse response;
    if (shared_->options.error_responder) {
      try {
        response = shared_->options.error_responder(kind);
      } catch (...) {
        response = DefaultErrorResponse(kind);
      }
    } else {
      response = DefaultErrorResponse(kind);
    }
    ResponseFraming framing;
    framing.close = true;
    AppendResponse(&c->out, response, framing, Date());
    c->close_after_write = true;
    c->header_start_ms = -1;
    c->read_paused = false;
    c->in.clear();
    UpdateInterest(c);
  }

  // Writes as much pending output as the socket takes. True when all of it was written; false
  // when the socket is full (EPOLLOUT is then registered) or the connection died.
  bool WriteOut(Conn* c) {
    while (c->out_sent < c->out.size()) {
      const ssize_t n =
          send(c->fd, c->out.data() + c->out_sent, c->out.size() - c->out_sent, MSG_NOSIGNAL);
      if (n > 0) {
        c->out_sent += static_cast<size_t>(n);
        c->last_activity_ms = now_ms_;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        UpdateInterest(c);
        return false;
      }
      Close(c);
      return false;
    }
    if (c->out.capacity() > kMaxRetainedCapacity) {
      std::string().swap(c->out);
    } else {
      c->out.clear();
    }
    c->out_sent = 0;
    return true;
  }

  // Writes pending output, then closes or resumes parsing as the connection's state says.
  void Flush(Conn* c) {
    for (;;) {
      if (!WriteOut(c)) return;
      if (c->stream != nullptr) {
        const bool more = TakeStreamOutput(c);
        if (c->dead) return;
        if (more) continue;
      }
      if (c->close_after_write) {
        FinishConnection(c);
        return;
      }
      if (!c->read_paused) break;
      c->read_paused = false;
      const std::string pending = std::move(c->in);
      c->in.clear();
      Consume(c, pending.data(), pending.size());
      if (c->dead) return;
    }
    UpdateInterest(c);
  }

  void FinishConnection(Conn* c) {
    if (c->peer_closed || shutdown(c->fd, SHUT_WR) != 0) {
      Close(c);
      return;
    }
    c->lingering = true;
    c->linger_start_ms = now_ms_;
    UpdateInterest(c);
  }

  void UpdateInterest(Conn* c) {
    uint32_t want = 0;
    if (c->lingering) {
      want = EPOLLIN;
    } else {
      if (!c->read_paused && !c->close_after_write) want |= EPOLLIN;
      if (c->out_sent < c->out.size()) want |= EPOLLOUT;
    }
    if (want == c->interest) return;
    epoll_event ev{};
    ev.events = want;
    ev.data.ptr = c;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
      Close(c);
      return;
    }
    c->interest = want;
  }

  void Close(Conn* c) {
    if (c->dead) return;
    c->dead = true;
    if (c->stream != nullptr) {
      StreamAttachment::Detach(*c->stream);
      c->stream.reset();
    }
    // Removed from the epoll set explicitly: close() alone removes it only when no other
    // descriptor shares the open file, and a child forked by a command trigger holds copies of
    // every descriptor until its exec. Events for a closed-but-shared socket would then name
    // this connection after it is freed.
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c->fd, nullptr);
    ::close(c->fd);
    shared_->open_connections.fetch_sub(1, std::memory_order_relaxed);
    const size_t index = c->index;
    // Freed after the current batch of events, which may still name this connection.
    graveyard_.push_back(std::move(conns_[index]));
    if (index + 1 != conns_.size()) {
      conns_[index] = std::move(conns_.back());
      conns_[index]->index = index;
    }
    conns_.pop_back();
  }

  void Sweep() {
    last_sweep_ms_ = now_ms_;
    const HttpServerOptions& o = shared_->options;
    for (size_t i = conns_.size(); i-- > 0;) {
      Conn* c = conns_[i].get();
      if (c->lingering) {
        if (now_ms_ - c->linger_start_ms >= kLingerMs) Close(c);
        continue;
      }
      if (draining_ && now_ms_ - drain_start_ms_ >= o.header_timeout_ms) {
        Close(c);
        continue;
      }
      if (c->stream != nullptr) {
        // Never idle while the client reads what is streamed; dropped when it stops reading.
        if (c->out_sent != c->out.size() && now_ms_ - c->last_activity_ms >= o.idle_timeout_ms) {
          Close(c);
        }
        continue;
      }
      if (c->close_after_write) {
        // Only waiting for the client to read: give up when it stops reading.
        if (now_ms_ - c->last_activity_ms >= o.idle_timeout_ms) Close(c);
        continue;
      }
      const bool header_timeout =
          c->header_start_ms >= 0 && now_ms_ - c->header_start_ms >= o.header_timeout_ms;
      const bool idle = now_ms_ - c->last_activity_ms >= o.idle_timeout_ms;
      if (!header_timeout && !idle) continue;
      if (c->parser->phase() == HttpParsePhase::kIdle && c->out_sent == c->out.size()) {
        Close(c);  // an idle keep-alive connection: nothing to tell the client
      } else if (c->read_paused || c->out_sent != c->out.size()) {
        Close(c);  // the client stopped reading its responses
      } else {
        SendError(c, HttpErrorKind::kTimeout);
        Flush(c);
      }
    }
  }

  // The current time as an IMF-fixdate (RFC 9110 section 5.6.7), recomputed once a second.
  std::string_view Date() {
    const time_t now = time(nullptr);
    if (now != date_time_) {
      static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
      static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
      tm t{};
      gmtime_r(&now, &t);
      snprintf(date_, sizeof(date_), "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[t.tm_wday % 7],
               t.tm_mday, kMonths[t.tm_mon % 12], t.tm_year + 1900, t.tm_hour, t.tm_min, t.tm_sec);
      date_time_ = now;
    }
    return date_;
  }

  ServerShared* const shared_;
  int listen_fd_;
  int epoll_fd_ = -1;
  int spare_fd_ = -1;    // reserve descriptor for shedding connections at EMFILE
  char listen_tag_ = 0;  // addresses used as epoll tags for the non-connection fds
  char stop_tag_ = 0;
  char wake_tag_ = 0;
  std::shared_ptr<StreamWaker> waker_;
  HttpParserLimits limits_{};
  int sweep_period_ms_ = 1000;
  int64_t now_ms_ = 0;
  int64_t last_sweep_ms_ = 0;
  int64_t drain_start_ms_ = 0;
  bool draining_ = false;
  std::unique_ptr<char[]> read_buf_;
  HttpResponse response_;  // reused for every request on this loop
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<std::unique_ptr<Conn>> graveyard_;
  time_t date_time_ = 0;
  char date_[40] = {};
};

struct ResolvedAddress {
  sockaddr_storage storage{};
  socklen_t len = 0;
  void set_port(uint16_t port) {
    if (storage.ss_family == AF_INET) {
      reinterpret_cast<sockaddr_in*>(&storage)->sin_port = htons(port);
    } else {
      reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port = htons(port);
    }
  }
  const sockaddr* addr() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

Result<ResolvedAddress> ParseAddress(const std::string& host, uint16_t port) {
  ResolvedAddress a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    a.len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    a.len = sizeof(sockaddr_in6);
  } else {
    return IoError("listen host is not a numeric IPv4 or IPv6 address: " + host);
  }
  a.set_port(port);
  return a;
}

// A bound socket; listening when `listen` is set.
Result<int> BindSocket(const ResolvedAddress& address, bool reuse_port, bool listen_now) {
  const int fd =
      socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) return IoError(ErrnoMessage("socket", errno));
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    const int err = errno;
    ::close(fd);
    return IoError(ErrnoMessage("setsockopt(SO_REUSEPORT)", err));
  }
  if (bind(fd, address.addr(), address.len) != 0) {
    const int err = errno;
    ::close(fd);
    return IoError(ErrnoMessage("bind", err));
  }
  if (listen_now && listen(fd, SOMAXCONN) != 0) {
    const int err = errno;
    ::close(fd);
    return IoError(ErrnoMessage("listen", err));
  }
  return fd;
}

Result<uint16_t> BoundPort(int fd) {
  sockaddr_storage storage{};
  socklen_t len = sizeof(storage);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &len) != 0) {
    return IoError(ErrnoMessage("getsockname", errno));
  }
  if (storage.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<sockaddr_in*>(&storage)->sin_port);
  }
  return ntohs(reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port);
}

Status ValidateOptions(const HttpServerOptions& o) {
  if (o.threads < 0) return ValidationError("threads must be >= 0");
  if (o.max_body_bytes == 0 || o.max_header_bytes == 0) {
    return ValidationError("max_body_bytes and max_header_bytes must be positive");
  }
  if (o.header_timeout_ms <= 0 || o.idle_timeout_ms <= 0) {
    return ValidationError("header_timeout_ms and idle_timeout_ms must be positive");
  }
  if (o.max_connections <= 0) return ValidationError("max_connections must be positive");
  return Status::Ok();
}

}  // namespace

struct HttpServer::Impl {
  ServerShared shared;
  uint16_t port = 0;
  std::vector<std::unique_ptr<Loop>> loops;
  std::vector<std::thread> threads;
  std::mutex wait_mu;

  ~Impl() {
    if (shared.stop_fd >= 0) ::close(shared.stop_fd);
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  RequestStop();
  Wait();
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options,
                                                      HttpHandler handler) {
  CRUDDUR_RETURN_IF_ERROR(ValidateOptions(options));
  if (!handler) return ValidationError("an HTTP handler is required");
  const int threads = options.threads > 0
                          ? options.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  CRUDDUR_ASSIGN_OR_RETURN(ResolvedAddress address, ParseAddress(options.host, options.port));

  auto impl = std::make_unique<Impl>();
  impl->shared.options = std::move(options);
  impl->shared.handler = std::move(handler);
  impl->shared.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl->shared.stop_fd < 0) return IoError(ErrnoMessage("eventfd", errno));

  uint16_t port = impl->shared.options.port;
  if (port != 0) {
    // SO_REUSEPORT would let us silently join another process's listeners on this port (same
    // user); a plain bind first reports "address in use" as it should.
    CRUDDUR_ASSIGN_OR_RETURN(int probe, BindSocket(address, /*reuse_port=*/false, false));
    ::close(probe);
  }
  for (int i = 0; i < threads; ++i) {
    address.set_port(port);
    CRUDDUR_ASSIGN_OR_RETURN(int fd, BindSocket(address, /*reuse_port=*/true, true));
    auto loop = std::make_unique<Loop>(&impl->shared, fd);  // owns fd from here
    if (port == 0) {
      CRUDDUR_ASSIGN_OR_RETURN(port, BoundPort(fd));
    }
    CRUDDUR_RETURN_IF_ERROR(loop->Init());
    impl->loops.push_back(std::move(loop));
  }
  impl->port = port;

  std::unique_ptr<HttpServer> server(new HttpServer(std::move(impl)));
  for (auto& loop : server->impl_->loops) {
    try {
      server->impl_->threads.emplace_back([l = loop.get()] { l->Run(); });
    } catch (const std::system_error& e) {
      return IoError(std::string("starting an event-loop thread: ") + e.what());
    }
  }
  return server;
}

uint16_t HttpServer::port() const { return impl_->port; }

int HttpServer::open_connections() const {
  return impl_->shared.open_connections.load(std::memory_order_relaxed);
}

void HttpServer::RequestStop() {
  const uint64_t one = 1;
  // Only write(2) on an eventfd: async-signal-safe. The counter never overflows in practice
  // (2^64 - 2 stops); a failed write means it is already signalled.
  [[maybe_unused]] const ssize_t written = write(impl_->shared.stop_fd, &one, sizeof(one));
}

void HttpServer::Wait() {
  std::lock_guard<std::mutex> lock(impl_->wait_mu);
  for (std::thread& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
}

}  // namespace cruddur::net
