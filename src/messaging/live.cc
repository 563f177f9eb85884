#include "messaging/live.h"

#include <utility>

namespace cruddur::messaging {
namespace {

// A comment line: ignored by EventSource, but it crosses every proxy and lets a write notice a
// page that went away.
constexpr std::string_view kPing = ": ping\n\n";

}  // namespace

std::string SseEvent(std::string_view name, std::string_view data) {
  std::string frame = "event: ";
  frame.append(name);
  frame.push_back('\n');
  // A line break inside data would end the field early; the format's own way to carry one is
  // several data lines, which EventSource joins with "\n". JSON from our writer has none.
  for (;;) {
    const std::size_t eol = data.find('\n');
    frame.append("data: ");
    frame.append(data.substr(0, eol));
    frame.push_back('\n');
    if (eol == std::string_view::npos) break;
    data.remove_prefix(eol + 1);
  }
  frame.push_back('\n');
  return frame;
}

void WriteMessageGroupFields(ddb::JsonOut& o, const MessageGroup& g) {
  o.Key("uuid");
  o.String(g.uuid);
  o.Key("display_name");
  o.String(g.display_name);
  o.Key("handle");
  o.String(g.handle);
  o.Key("message");
  o.String(g.message);
  o.Key("created_at");
  o.String(g.created_at);
}

void WriteMessageFields(ddb::JsonOut& o, const Message& m) {
  o.Key("uuid");
  o.String(m.uuid);
  o.Key("display_name");
  o.String(m.display_name);
  o.Key("handle");
  o.String(m.handle);
  o.Key("message");
  o.String(m.message);
  o.Key("created_at");
  o.String(m.created_at);
}

EventHub::EventHub(EventHubOptions options) : options_(std::move(options)) {
  if (!options_.clock) options_.clock = SystemClock();
  heartbeat_ = std::thread([this] { HeartbeatLoop(); });
}

EventHub::~EventHub() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  heartbeat_.join();
  for (auto& [user, subscribers] : users_) {
    for (Subscriber& s : subscribers) s.stream->Close();
  }
}

Status EventHub::Subscribe(const std::string& user_uuid,
                           std::shared_ptr<net::ResponseStream> stream,
                           std::int64_t expires_unix_seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Subscriber>& subscribers = users_[user_uuid];
  for (auto it = subscribers.begin(); it != subscribers.end();) {
    if (it->stream->closed()) {
      it = subscribers.erase(it);
      --total_;
    } else {
      ++it;
    }
  }
  if (!subscribers.empty() && subscribers.size() >= options_.max_streams_per_user) {
    // Most likely a page reloaded and its old stream is not noticed yet: the oldest goes.
    subscribers.front().stream->Close();
    subscribers.erase(subscribers.begin());
    --total_;
  }
  if (total_ >= options_.max_streams || options_.max_streams_per_user == 0) {
    if (subscribers.empty()) users_.erase(user_uuid);
    return Status(ErrorCode::kThrottling, "too many event streams");
  }
  subscribers.push_back(Subscriber{std::move(stream), expires_unix_seconds * 1000000});
  ++total_;
  return Status::Ok();
}

void EventHub::WriteLocked(std::vector<Subscriber>* subscribers, std::string_view frame,
                           std::int64_t now_micros) {
  for (auto it = subscribers->begin(); it != subscribers->end();) {
    if (it->expires_micros != 0 && now_micros >= it->expires_micros) {
      // The token this stream was opened with is no longer valid: the page reconnects with a
      // fresh one.
      it->stream->Close();
    }
    if (it->stream->Write(frame)) {
      ++it;
    } else {
      it = subscribers->erase(it);
      --total_;
    }
  }
}

void EventHub::Publish(std::string_view user_uuid, std::string_view event, std::string_view data) {
  const std::string frame = SseEvent(event, data);
  const std::int64_t now = options_.clock();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = users_.find(std::string(user_uuid));
  if (it == users_.end()) return;
  WriteLocked(&it->second, frame, now);
  if (it->second.empty()) users_.erase(it);
}

void EventHub::PublishGroupUpdate(const GroupUpdate& update) {
  for (const Message& m : update.messages) {
    ddb::JsonOut o;
    o.w().StartObject();
    o.Key("message_group_uuid");
    o.String(update.group_uuid);
    WriteMessageFields(o, m);
    o.w().EndObject();
    const std::string data = o.str();
    for (const std::string& owner : update.owners) Publish(owner, "message", data);
  }
  for (const GroupUpdate::OwnerRow& row : update.rows) {
    ddb::JsonOut o;
    o.w().StartObject();
    WriteMessageGroupFields(o, row.row);
    o.w().EndObject();
    Publish(row.owner_uuid, "group", o.str());
  }
}

GroupUpdatedCallback EventHub::AsGroupUpdatedCallback() {
  return [this](const GroupUpdate& update) { PublishGroupUpdate(update); };
}

std::size_t EventHub::stream_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_;
}

void EventHub::HeartbeatLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (stop_cv_.wait_for(lock, options_.heartbeat_interval, [this] { return stopping_; })) break;
    const std::int64_t now = options_.clock();
    for (auto it = users_.begin(); it != users_.end();) {
      WriteLocked(&it->second, kPing, now);
      it = it->second.empty() ? users_.erase(it) : std::next(it);
    }
  }
}

}  // namespace cruddur::messaging
