#include "triggers/command_handler.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <utility>
#include <vector>

extern char** environ;

namespace cruddur::triggers {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A line longer than this is passed on in pieces rather than buffered without bound.
constexpr size_t kMaxLine = 64 << 10;
// How long output may keep flowing after the child exited (its background processes may hold
// the pipes open) before the group is killed.
constexpr milliseconds kExitGrace{200};
constexpr milliseconds kPollSlice{50};

class Pipe {
 public:
  Pipe() = default;
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() {
    CloseRead();
    CloseWrite();
  }
  // O_CLOEXEC: a child forked by another mapping's thread at the same moment must not inherit
  // our ends (it would hold this child's stdin open, and the child would never see EOF).
  bool Open() { return pipe2(fds_, O_CLOEXEC) == 0; }
  int read_fd() const { return fds_[0]; }
  int write_fd() const { return fds_[1]; }
  void CloseRead() { Close(&fds_[0]); }
  void CloseWrite() { Close(&fds_[1]); }

 private:
  static void Close(int* fd) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
  int fds_[2] = {-1, -1};
};

// Splits a byte stream into prefixed lines.
class LineSplitter {
 public:
  LineSplitter(std::string prefix, const CommandHandler::OutputSink& sink)
      : prefix_(std::move(prefix)), sink_(sink) {}
  void Feed(std::string_view data) {
    while (!data.empty()) {
      const size_t nl = data.find('\n');
      if (nl == std::string_view::npos) {
        pending_.append(data);
        if (pending_.size() >= kMaxLine) Flush();
        return;
      }
      pending_.append(data.substr(0, nl));
      Emit();
      data.remove_prefix(nl + 1);
    }
  }
  void Flush() {
    if (!pending_.empty()) Emit();
  }

 private:
  void Emit() {
    sink_(prefix_ + pending_);
    pending_.clear();
  }
  std::string prefix_;
  const CommandHandler::OutputSink& sink_;
  std::string pending_;
};

void WriteToStderr(std::string_view line) {
  std::string out(line);
  out += '\n';
  // One write per line, so lines of concurrent handlers do not interleave mid-line.
  const ssize_t ignored = ::write(STDERR_FILENO, out.data(), out.size());
  (void)ignored;
}

// Writes to the child's stdin without letting SIGPIPE (the child closed stdin early) kill the
// server when the process has not ignored it: block it in this thread, and consume the one the
// write raised.
ssize_t WriteNoSigpipe(int fd, const char* data, size_t size) {
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  const ssize_t n = ::write(fd, data, size);
  const int saved = errno;
  if (n < 0 && saved == EPIPE) {
    const timespec zero{};
    sigtimedwait(&pipe_set, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return n;
}

std::vector<std::string> BuildEnvironment(const std::string& mapping,
                                          const CommandEnvironment& env) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view kv(*e);
    const size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    vars[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  // The variables a Lambda runtime defines (Lambda Developer Guide, "Defined runtime environment
  // variables"), as far as they mean something locally.
  vars["AWS_REGION"] = env.region;
  vars["AWS_DEFAULT_REGION"] = env.region;
  vars["AWS_LAMBDA_FUNCTION_NAME"] = mapping;
  if (!env.endpoint_url.empty()) {
    vars["AWS_ENDPOINT_URL"] = env.endpoint_url;
    vars["AWS_ENDPOINT_URL_DYNAMODB"] = env.endpoint_url;
  }
  // A Lambda always has credentials; the SDKs refuse to sign without any.
  vars.try_emplace("AWS_ACCESS_KEY_ID", "cruddurlocal");
  vars.try_emplace("AWS_SECRET_ACCESS_KEY", "cruddurlocal");
  std::vector<std::string> out;
  out.reserve(vars.size());
  for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
  return out;
}

std::string Seconds(milliseconds ms) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", static_cast<double>(ms.count()) / 1000.0);
  return buf;
}

}  // namespace

CommandHandler::CommandHandler(std::string mapping, std::string command, CommandEnvironment env,
                               milliseconds timeout, OutputSink output)
    : mapping_(std::move(mapping)),
      command_(std::move(command)),
      env_(std::move(env)),
      timeout_(timeout),
      output_(output ? std::move(output) : OutputSink(&WriteToStderr)) {}

Status CommandHandler::Handle(const Batch& batch) {
  const std::string event = BuildLambdaEvent(batch);
  const std::vector<std::string> env_strings = BuildEnvironment(mapping_, env_);
  // Everything the child needs is built before fork: between fork and exec a child of a
  // multi-threaded process may only make async-signal-safe calls (no allocation).
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (const std::string& s : env_strings) envp.push_back(const_cast<char*>(s.c_str()));
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c";
  char* argv[] = {sh.data(), dash_c.data(), command_.data(), nullptr};

  Pipe in, out, err;
  if (!in.Open() || !out.Open() || !err.Open()) {
    return IoError("Cannot create pipes for the trigger command: " + std::string(strerror(errno)));
  }
  const pid_t pid = fork();
  if (pid < 0) return IoError("Cannot fork the trigger command: " + std::string(strerror(errno)));
  if (pid == 0) {
    setpgid(0, 0);
    dup2(in.read_fd(), STDIN_FILENO);
    dup2(out.write_fd(), STDOUT_FILENO);
    dup2(err.write_fd(), STDERR_FILENO);
    // The server blocks SIGINT/SIGTERM in every thread and ignores SIGPIPE; both would be
    // inherited across exec.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &dfl, nullptr);
    close_range(3, ~0U, 0);
    execve("/bin/sh", argv, envp.data());
    _exit(127);
  }
  // Both sides set the group, so a kill right after fork reaches it whichever runs first.
  setpgid(pid, pid);
  in.CloseRead();
  out.CloseWrite();
  err.CloseWrite();
  for (int fd : {in.write_fd(), out.read_fd(), err.read_fd()}) {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  }

  LineSplitter out_lines("[" + mapping_ + "] ", output_);
  LineSplitter err_lines("[" + mapping_ + "] ", output_);
  size_t written = 0;
  bool out_open = true, err_open = true, exited = false;
  bool timed_out = false, cancelled = false;
  const Clock::time_point deadline = Clock::now() + timeout_;
  Clock::time_point exited_at;
  char buf[16384];
  for (;;) {
    if (!exited) {
      // WNOWAIT: the child stays a zombie, so its pid (= the group id) cannot be reused before
      // the group is killed below.
      siginfo_t info{};
      if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
          info.si_pid == pid) {
        exited = true;
        exited_at = Clock::now();
      }
    }
    const Clock::time_point now = Clock::now();
    if (exited && ((!out_open && !err_open) || now - exited_at >= kExitGrace)) break;
    if (batch.cancelled()) {
      cancelled = true;
      break;
    }
    if (!exited && now >= deadline) {
      timed_out = true;
      break;
    }
    if (in.write_fd() >= 0 && written == event.size()) in.CloseWrite();  // EOF for the child
    pollfd fds[3];
    nfds_t n = 0;
    int in_slot = -1, out_slot = -1, err_slot = -1;
    if (in.write_fd() >= 0) {
      in_slot = static_cast<int>(n);
      fds[n++] = {in.write_fd(), POLLOUT, 0};
    }
    if (out_open) {
      out_slot = static_cast<int>(n);
      fds[n++] = {out.read_fd(), POLLIN, 0};
    }
    if (err_open) {
      err_slot = static_cast<int>(n);
      fds[n++] = {err.read_fd(), POLLIN, 0};
    }
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - now);
    const int wait_ms = static_cast<int>(std::max<int64_t>(
        0, std::min<int64_t>(kPollSlice.count(), exited ? kPollSlice.count() : left.count())));
    if (n == 0) {
      poll(nullptr, 0, wait_ms);
      continue;
    }
    if (poll(fds, n, wait_ms) < 0 && errno != EINTR) break;
    if (in_slot >= 0 && fds[in_slot].revents != 0) {
      const ssize_t w =
          WriteNoSigpipe(in.write_fd(), event.data() + written, event.size() - written);
      if (w > 0) {
        written += static_cast<size_t>(w);
      } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        in.CloseWrite();  // the child closed its stdin: it need not read the whole event
        written = event.size();
      }
    }
    auto drain = [&](int slot, int fd, bool* open, LineSplitter* lines) {
      if (slot < 0 || fds[slot].revents == 0) return;
      const ssize_t r = ::read(fd, buf, sizeof(buf));
      if (r > 0) {
        lines->Feed(std::string_view(buf, static_cast<size_t>(r)));
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        *open = false;
      }
    };
    drain(out_slot, out.read_fd(), &out_open, &out_lines);
    drain(err_slot, err.read_fd(), &err_open, &err_lines);
  }
  // The whole group goes: on timeout or cancel the handler itself, after a normal exit whatever
  // it left running in the background.
  kill(-pid, SIGKILL);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  out_lines.Flush();
  err_lines.Flush();

  if (timed_out) {
    // Lambda's own words for a function that ran out of time.
    return InternalError("Task timed out after " + Seconds(timeout_) + " seconds");
  }
  if (cancelled) return InternalError("Command cancelled: the trigger runner is stopping");
  if (WIFEXITED(wstatus)) {
    if (WEXITSTATUS(wstatus) == 0) return Status::Ok();
    return InternalError("Command exited with status " + std::to_string(WEXITSTATUS(wstatus)));
  }
  if (WIFSIGNALED(wstatus)) {
    return InternalError("Command killed by signal " + std::to_string(WTERMSIG(wstatus)));
  }
  return InternalError("Command ended abnormally");
}

}  // namespace cruddur::triggers
