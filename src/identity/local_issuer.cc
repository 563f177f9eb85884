// The local user pool's files.
//
// Why these choices:
// - users.json has the shape of `aws cognito-idp list-users` output ({"Users":[{"Username",
//   "Attributes":[{"Name":"sub",...},{"Name":"preferred_username",...}]}]}), so whatever reads
//   a saved ListUsers answer reads the local pool too.
// - The key file is written to a private temporary name (O_EXCL, 0600) and then link()ed into
//   place: link fails if another process got there first, and then we load theirs. rename would
//   silently replace it, and two processes would sign with different keys.
// - The private key never leaves the folder; only jwks.json (public) is meant to be shared.
#include "identity/local_issuer.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <utility>

#include "common/json.h"
#include "identity/uuid.h"

namespace cruddur::identity {
namespace {

namespace fs = std::filesystem;

Status ErrnoError(std::string what) {
  return IoError(std::move(what) + ": " + std::strerror(errno));
}

Result<std::string> ReadSmallFile(const fs::path& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot open " + path.string());
  std::string text(max_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return IoError("cannot read " + path.string());
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > max_bytes) return ValidationError(path.string() + " is too large");
  return text;
}

// Writes `text` to a new file `path` (which must not exist) with `mode`, flushed to disk.
Status WriteNewFile(const fs::path& path, std::string_view text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoError("cannot create " + path.string());
  std::size_t written = 0;
  while (written < text.size()) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status error = ErrnoError("cannot write " + path.string());
      ::close(fd);
      return error;
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) return ErrnoError("cannot flush " + path.string());
  return Status::Ok();
}

fs::path TemporaryName(const fs::path& path) {
  Result<std::string> suffix = NewRandomUuid();
  return path.string() + ".tmp-" + (suffix.ok() ? *suffix : std::to_string(::getpid()));
}

// Replaces `path` with `text` atomically (write a temporary file, rename over).
Status ReplaceFile(const fs::path& path, std::string_view text, mode_t mode) {
  fs::path temp = TemporaryName(path);
  CRUDDUR_RETURN_IF_ERROR(WriteNewFile(temp, text, mode));
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    Status error = ErrnoError("cannot replace " + path.string());
    ::unlink(temp.c_str());
    return error;
  }
  return Status::Ok();
}

Result<DevIssuer> LoadOrCreateKey(const fs::path& dir, const DevIssuerOptions& options) {
  fs::path key_path = dir / "private-key.pem";
  if (!fs::exists(key_path)) {
    CRUDDUR_ASSIGN_OR_RETURN(DevIssuer fresh, DevIssuer::Generate(options));
    CRUDDUR_ASSIGN_OR_RETURN(std::string pem, fresh.PrivateKeyPem());
    fs::path temp = TemporaryName(key_path);
    CRUDDUR_RETURN_IF_ERROR(WriteNewFile(temp, pem, 0600));
    int linked = ::link(temp.c_str(), key_path.c_str());
    int link_errno = errno;
    ::unlink(temp.c_str());
    if (linked == 0) return fresh;
    if (link_errno != EEXIST) {
      errno = link_errno;
      return ErrnoError("cannot create " + key_path.string());
    }
  }
  CRUDDUR_ASSIGN_OR_RETURN(std::string pem, ReadSmallFile(key_path, 64 * 1024));
  Result<DevIssuer> loaded = DevIssuer::FromPrivateKeyPem(options, pem);
  if (!loaded.ok()) {
    return Status(loaded.status().code(), key_path.string() + ": " + loaded.status().message());
  }
  return loaded;
}

std::optional<std::string> Attribute(const json::Value& user, const char* name) {
  auto attributes = user.FindMember("Attributes");
  if (attributes == user.MemberEnd() || !attributes->value.IsArray()) return std::nullopt;
  for (const json::Value& attribute : attributes->value.GetArray()) {
    if (!attribute.IsObject()) continue;
    auto n = attribute.FindMember("Name");
    auto v = attribute.FindMember("Value");
    if (n == attribute.MemberEnd() || v == attribute.MemberEnd() || !n->value.IsString() ||
        !v->value.IsString()) {
      continue;
    }
    if (std::string_view(n->value.GetString(), n->value.GetStringLength()) == name) {
      return std::string(v->value.GetString(), v->value.GetStringLength());
    }
  }
  return std::nullopt;
}

Result<std::vector<LocalPoolUser>> ParsePool(const fs::path& path, std::string_view text) {
  json::Document doc;
  if (!json::Parse(text, &doc, 16).ok() || !doc.IsObject()) {
    return ValidationError(path.string() + " is not a JSON object");
  }
  auto users = doc.FindMember("Users");
  if (users == doc.MemberEnd() || !users->value.IsArray()) {
    return ValidationError(path.string() + " has no Users array");
  }
  std::vector<LocalPoolUser> pool;
  for (const json::Value& user : users->value.GetArray()) {
    if (!user.IsObject()) return ValidationError(path.string() + ": a user is not an object");
    auto username = user.FindMember("Username");
    std::optional<std::string> sub = Attribute(user, "sub");
    std::optional<std::string> handle = Attribute(user, "preferred_username");
    if (username == user.MemberEnd() || !username->value.IsString() || !sub || !handle) {
      return ValidationError(path.string() + ": a user lacks Username, sub or preferred_username");
    }
    pool.push_back({std::string(username->value.GetString(), username->value.GetStringLength()),
                    *sub, *handle});
  }
  return pool;
}

std::string SerializePool(const std::vector<LocalPoolUser>& pool) {
  json::StringBuffer buffer;
  json::Writer writer(buffer);
  writer.StartObject();
  writer.Key("Users");
  writer.StartArray();
  for (const LocalPoolUser& user : pool) {
    writer.StartObject();
    writer.Key("Username");
    writer.String(user.username);
    writer.Key("Attributes");
    writer.StartArray();
    for (const auto& [name, value] : {std::pair<const char*, const std::string&>{"sub", user.sub},
                                      {"preferred_username", user.preferred_username}}) {
      writer.StartObject();
      writer.Key("Name");
      writer.String(name);
      writer.Key("Value");
      writer.String(value);
      writer.EndObject();
    }
    writer.EndArray();
    writer.Key("Enabled");
    writer.Bool(true);
    writer.Key("UserStatus");
    writer.String("CONFIRMED");
    writer.EndObject();
  }
  writer.EndArray();
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Result<std::vector<LocalPoolUser>> ReadPool(const fs::path& path) {
  if (!fs::exists(path)) return std::vector<LocalPoolUser>();
  CRUDDUR_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, kMaxLocalPoolBytes));
  return ParsePool(path, text);
}

// An exclusive flock held for the object's life.
class FileLock {
 public:
  static Result<FileLock> Acquire(const fs::path& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoError("cannot open " + path.string());
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        Status error = ErrnoError("cannot lock " + path.string());
        ::close(fd);
        return error;
      }
    }
    return FileLock(fd);
  }
  FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileLock& operator=(FileLock&&) = delete;
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace

Result<LocalIssuer> LocalIssuer::Open(const fs::path& data_dir,
                                      std::int64_t token_lifetime_seconds) {
  fs::path dir = data_dir / "local-cognito";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, ec);
  if (ec) return IoError("cannot restrict " + dir.string() + ": " + ec.message());
  CRUDDUR_ASSIGN_OR_RETURN(DevIssuer issuer, LoadOrCreateKey(dir, {kLocalIssuer, kLocalClientId,
                                                                   token_lifetime_seconds}));
  LocalIssuer local(dir, std::move(issuer));
  Result<std::string> published = ReadSmallFile(local.jwks_path(), kMaxJwksBytes);
  if (!published.ok() || *published != local.issuer_.JwksJson()) {
    CRUDDUR_RETURN_IF_ERROR(ReplaceFile(local.jwks_path(), local.issuer_.JwksJson(), 0644));
  }
  return local;
}

JwtVerifierOptions LocalIssuer::VerifierOptions() {
  return JwtVerifierOptions{kLocalIssuer, kLocalClientId, 60};
}

Result<std::string> LocalIssuer::SubFor(std::string_view handle) const {
  CRUDDUR_RETURN_IF_ERROR(ValidateText("handle", handle, kMaxHandleBytes));
  CRUDDUR_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(dir_ / "users.lock"));
  fs::path path = dir_ / "users.json";
  CRUDDUR_ASSIGN_OR_RETURN(std::vector<LocalPoolUser> pool, ReadPool(path));
  for (const LocalPoolUser& user : pool) {
    if (user.preferred_username == handle) return user.sub;
  }
  CRUDDUR_ASSIGN_OR_RETURN(std::string sub, NewRandomUuid());
  pool.push_back({std::string(handle), sub, std::string(handle)});
  CRUDDUR_RETURN_IF_ERROR(ReplaceFile(path, SerializePool(pool), 0600));
  return sub;
}

Result<std::vector<LocalPoolUser>> LocalIssuer::ListUsers() const {
  CRUDDUR_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(dir_ / "users.lock"));
  return ReadPool(dir_ / "users.json");
}

Result<std::vector<AssignedCognitoUserId>> AssignLocalCognitoUserIds(UsersDirectory& users,
                                                                     const LocalIssuer& issuer) {
  CRUDDUR_ASSIGN_OR_RETURN(std::vector<User> all, users.ListUsers());
  std::vector<AssignedCognitoUserId> assigned;
  for (const User& user : all) {
    if (user.cognito_user_id) continue;
    CRUDDUR_ASSIGN_OR_RETURN(std::string sub, issuer.SubFor(user.handle));
    CRUDDUR_RETURN_IF_ERROR(users.SetCognitoUserId(user.handle, sub));
    assigned.push_back({user.handle, std::move(sub)});
  }
  return assigned;
}

Result<std::string> MintLocalAccessToken(UsersDirectory& users, const LocalIssuer& issuer,
                                         std::string_view handle, std::int64_t now_unix_seconds) {
  CRUDDUR_ASSIGN_OR_RETURN(User user, users.UserByHandle(handle));
  std::string sub;
  if (user.cognito_user_id) {
    sub = *user.cognito_user_id;
  } else {
    CRUDDUR_ASSIGN_OR_RETURN(sub, issuer.SubFor(handle));
    CRUDDUR_RETURN_IF_ERROR(users.SetCognitoUserId(handle, sub));
  }
  return issuer.issuer().SignAccessToken(sub, handle, now_unix_seconds);
}

}  // namespace cruddur::identity
