// Live updates for open pages: server-sent events (SSE, the WHATWG HTML "server-sent events"
// section), fed by the message-stream handler.
//
// GET /api/events (messaging/http_api.h) answers `text/event-stream` and hands the response's
// net::ResponseStream to an EventHub, which keeps each user's open streams and writes to them:
//
//   retry: 2000                       once, first: the browser reconnects 2 s after a drop
//   event: message                    a new message in one of the user's groups:
//   data: {"message_group_uuid":..., "uuid":..., "display_name":..., "handle":...,
//          "message":..., "created_at":...}   (the sender's name and handle, as the entries of
//                                              GET /api/messages and the POST answer)
//   event: group                      the user's row of a group moved (newest first order):
//   data: {"uuid":..., "display_name":..., "handle":..., "message":..., "created_at":...}
//                                     (as an entry of GET /api/message_groups: the OTHER person)
//   : ping                            a comment every heartbeat_interval, so idle proxies and
//                                     browsers keep the connection and dead ones are noticed
//
// For one message, `message` events go out before `group` events. Delivery is at least once
// (a retried stream batch publishes again): pages de-duplicate messages by uuid. Events
// published while a page is disconnected are not replayed; a page that reconnects re-reads the
// lists it shows.
//
// A stream ends when its page goes away (the next write notices), when the server stops, when
// the access token it was opened with expires (the page opens a new one with a fresh token),
// or when its user opens more than max_streams_per_user (the oldest is ended).
//
// Thread-safety: every method may run from any thread at once. Writes never block on the
// network (net::ResponseStream buffers), so publishing under the hub's lock is cheap and keeps
// each stream's events in publishing order.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "messaging/clock.h"
#include "messaging/ddb_json.h"
#include "messaging/store.h"
#include "messaging/stream_handler.h"
#include "net/http_server.h"

namespace cruddur::messaging {

struct EventHubOptions {
  std::size_t max_streams_per_user = 8;
  std::size_t max_streams = 10000;  // across all users
  std::chrono::milliseconds heartbeat_interval{15000};
  Clock clock;  // for token expiry; SystemClock() when empty
};

class EventHub {
 public:
  explicit EventHub(EventHubOptions options = {});
  ~EventHub();  // stops the heartbeat thread and ends every stream
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  // Adds `stream` for the user until `expires_unix_seconds` (0: no expiry). Over
  // max_streams_per_user the user's oldest stream is ended to make room; over max_streams,
  // kThrottling and nothing is added.
  Status Subscribe(const std::string& user_uuid, std::shared_ptr<net::ResponseStream> stream,
                   std::int64_t expires_unix_seconds);

  // Writes one event to every open stream of the user and forgets streams that have ended.
  // `data` is the event's data; each of its lines becomes a `data:` line.
  void Publish(std::string_view user_uuid, std::string_view event, std::string_view data);

  // What the message-stream handler reports (its GroupUpdatedCallback): a `message` event per
  // new message to every participant, then each participant's `group` event.
  void PublishGroupUpdate(const GroupUpdate& update);

  // A GroupUpdatedCallback calling PublishGroupUpdate on this hub.
  GroupUpdatedCallback AsGroupUpdatedCallback();

  // Streams currently held (ended ones are forgotten at the next write to them).
  std::size_t stream_count() const;

 private:
  struct Subscriber {
    std::shared_ptr<net::ResponseStream> stream;
    std::int64_t expires_micros = 0;  // 0: never
  };

  // Writes `frame` to each stream of `subscribers`, dropping those that ended or expired.
  // Requires mu_.
  void WriteLocked(std::vector<Subscriber>* subscribers, std::string_view frame,
                   std::int64_t now_micros);
  void HeartbeatLoop();

  EventHubOptions options_;
  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::unordered_map<std::string, std::vector<Subscriber>> users_;  // oldest first
  std::size_t total_ = 0;
  std::thread heartbeat_;
};

// One SSE event: `event: <name>` and one `data:` line per line of `data`.
std::string SseEvent(std::string_view name, std::string_view data);

// The members of an entry of GET /api/message_groups and GET /api/messages, written into an
// open object; shared by the HTTP API and the events so the two cannot drift.
void WriteMessageGroupFields(ddb::JsonOut& o, const MessageGroup& g);
void WriteMessageFields(ddb::JsonOut& o, const Message& m);

}  // namespace cruddur::messaging
