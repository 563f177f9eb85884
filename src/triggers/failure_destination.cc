#include "triggers/failure_destination.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <random>

#include "common/json.h"

namespace cruddur::triggers {
namespace {

void WriteRecordInfo(const FailedBatch& f, json::Writer* w) {
  w->Key("mapping");
  w->String(f.batch->mapping);
  w->Key("failed_at");
  w->String(NowIso8601());
  w->Key("error");
  w->String(f.error);
}

class FileDestination : public FailureDestination {
 public:
  explicit FileDestination(std::string path) : path_(std::move(path)) {}

  Status Send(const FailedBatch& f) override {
    json::StringBuffer buf;
    json::Writer w(buf);
    w.StartObject();
    WriteRecordInfo(f, &w);
    w.Key("attempts");
    w.Int(f.attempts);
    w.Key("shard_id");
    w.String(f.batch->shard_id);
    w.Key("first_sequence_number");
    w.String(f.batch->records.front().sequence_number);
    w.Key("last_sequence_number");
    w.String(f.batch->records.back().sequence_number);
    w.Key("event");
    const std::string event = BuildLambdaEvent(*f.batch);
    w.RawValue(event.data(), event.size(), rapidjson::kObjectType);
    w.EndObject();
    std::string line(buf.GetString(), buf.GetSize());
    line += '\n';

    std::lock_guard lock(mu_);
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return IoError("Cannot open " + path_ + ": " + strerror(errno));
    std::string_view rest = line;
    Status st;
    while (!rest.empty()) {
      const ssize_t n = ::write(fd, rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        st = IoError("Cannot append to " + path_ + ": " + strerror(errno));
        break;
      }
      rest.remove_prefix(static_cast<size_t>(n));
    }
    if (st.ok() && ::fsync(fd) != 0) st = IoError("Cannot fsync " + path_ + ": " + strerror(errno));
    ::close(fd);
    return st;
  }

 private:
  std::string path_;
  std::mutex mu_;
};

class TableDestination : public FailureDestination {
 public:
  TableDestination(std::string table, dynamo::DynamoClient* client)
      : table_(std::move(table)), client_(client) {}

  Status Send(const FailedBatch& f) override {
    json::StringBuffer buf;
    json::Writer w(buf);
    auto string_attr = [&w](const char* name, const std::string& value) {
      w.Key(name);
      w.StartObject();
      w.Key("S");
      w.String(value);
      w.EndObject();
    };
    w.StartObject();
    w.Key("TableName");
    w.String(table_);
    w.Key("Item");
    w.StartObject();
    string_attr("id", RandomUuid());
    string_attr("mapping", f.batch->mapping);
    string_attr("failed_at", NowIso8601());
    string_attr("error", f.error);
    string_attr("event", BuildLambdaEvent(*f.batch));
    w.EndObject();
    w.EndObject();
    auto r = client_->Call(dynamo::Api::kDynamoDB, "PutItem",
                           std::string_view(buf.GetString(), buf.GetSize()));
    return r.ok() ? Status::Ok() : r.TakeStatus();
  }

 private:
  std::string table_;
  dynamo::DynamoClient* client_;
};

}  // namespace

std::string RandomUuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = rng(), lo = rng();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;                  // version 4
  lo = (lo & ~(0xC000ULL << 48)) | (0x8000ULL << 48);  // variant 10
  char out[37];
  std::snprintf(out, sizeof(out), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return out;
}

std::string NowIso8601() {
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char out[80];
  std::snprintf(out, sizeof(out), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return out;
}

Result<std::unique_ptr<FailureDestination>> MakeFailureDestination(const std::string& spec,
                                                                   dynamo::DynamoClient* client) {
  if (spec.starts_with("file:")) {
    return std::unique_ptr<FailureDestination>(new FileDestination(spec.substr(5)));
  }
  if (spec.starts_with("table:")) {
    if (client == nullptr) {
      return ValidationError("on-failure " + spec + " needs a DynamoDB client");
    }
    return std::unique_ptr<FailureDestination>(new TableDestination(spec.substr(6), client));
  }
  return ValidationError("on-failure must be file:<path> or table:<name>");
}

}  // namespace cruddur::triggers
