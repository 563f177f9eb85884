// The messaging service: what the HTTP API does for an authenticated caller, over the store, the
// users directory and the read cache. Validation of request bodies (the 422 codes) is the HTTP
// layer's; this layer checks what needs the store (membership, who the receiver is, talking to
// oneself).
//
// The cache holds each user's first page of message groups and each group's newest page of
// messages with the group's participants (membership never changes, so a cached page also
// answers "may this user read it"). It is kept fresh by OnGroupChanged, which the message-stream
// handler calls for every group it handles, and by this service's own writes. Run the stream
// handler in the same process (as `cruddur serve` does) or construct the service with
// cache_capacity 0: a cache nobody invalidates would serve stale inboxes.
//
// Errors: the store's (kResourceNotFound, kAccessDenied, kValidation with a seed error code as
// message, e.g. "cannot_message_self") and the users directory's.
// Thread-safety: every call may run from any number of threads at once; store and users must
// outlive the service.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "identity/users_directory.h"
#include "messaging/read_cache.h"
#include "messaging/store.h"

namespace cruddur::messaging {

struct MessagingServiceOptions {
  std::size_t cache_capacity = 100000;  // entries per cache; 0 turns caching off
};

struct MessagingCacheStats {
  CacheStats groups;    // first pages of inboxes
  CacheStats messages;  // newest pages of groups
};

class MessagingService {
 public:
  MessagingService(MessageStore* store, identity::UsersDirectory* users,
                   MessagingServiceOptions options = {});

  MessageStore* store() const { return store_; }

  // The caller's groups, newest first (the first page from the cache).
  Result<Page<MessageGroup>> MessageGroups(std::string_view user_uuid, std::string_view cursor);

  // A group's messages for one of its participants (the newest page from the cache).
  Result<Page<Message>> Messages(std::string_view user_uuid, std::string_view group_uuid,
                                 std::string_view cursor);

  // Posts into a group the sender belongs to.
  Result<PostedMessage> PostToGroup(const identity::ShortProfile& sender,
                                    std::string_view group_uuid, std::string_view text);

  // Starts (or continues) the conversation with the user whose handle this is.
  // kResourceNotFound for an unknown handle; kValidation "cannot_message_self".
  Result<PostedMessage> StartConversation(const identity::ShortProfile& sender,
                                          std::string_view receiver_handle, std::string_view text);

  // The stream handler's callback (GroupChangedCallback): a message landed in the group.
  void OnGroupChanged(const std::string& group_uuid, const std::vector<std::string>& owners);

  MessagingCacheStats cache_stats() const;

 private:
  struct CachedMessages {
    std::vector<std::string> members;
    Page<Message> page;
  };

  MessageStore* store_;
  identity::UsersDirectory* users_;
  const bool caching_;
  LruCache<Page<MessageGroup>> groups_;
  LruCache<CachedMessages> messages_;
};

}  // namespace cruddur::messaging
