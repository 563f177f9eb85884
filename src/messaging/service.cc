#include "messaging/service.h"

#include <algorithm>
#include <utility>

#include "identity/uuid.h"

namespace cruddur::messaging {

MessagingService::MessagingService(MessageStore* store, identity::UsersDirectory* users,
                                   MessagingServiceOptions options)
    : store_(store),
      users_(users),
      caching_(options.cache_capacity > 0),
      groups_(options.cache_capacity),
      messages_(options.cache_capacity) {}

Result<Page<MessageGroup>> MessagingService::MessageGroups(std::string_view user_uuid,
                                                           std::string_view cursor) {
  if (!caching_ || !cursor.empty()) return store_->ListMessageGroups(user_uuid, cursor);
  const std::string key(user_uuid);
  auto hit = groups_.Get(key);
  if (hit.value) return std::move(*hit.value);
  CRUDDUR_ASSIGN_OR_RETURN(Page<MessageGroup> page, store_->ListMessageGroups(user_uuid));
  groups_.Fill(key, hit.stamp, page);
  return page;
}

Result<Page<Message>> MessagingService::Messages(std::string_view user_uuid,
                                                 std::string_view group_uuid,
                                                 std::string_view cursor) {
  if (!identity::IsCanonicalUuid(group_uuid)) return NotFoundError("unknown message group");
  if (!caching_ || !cursor.empty()) {
    CRUDDUR_RETURN_IF_ERROR(store_->CheckMember(group_uuid, user_uuid));
    return store_->ListMessages(group_uuid, cursor);
  }
  const std::string key(group_uuid);
  auto hit = messages_.Get(key);
  if (hit.value) {
    const auto& members = hit.value->members;
    if (std::find(members.begin(), members.end(), user_uuid) == members.end()) {
      return Status(ErrorCode::kAccessDenied, "not a member of this message group");
    }
    return std::move(hit.value->page);
  }
  CRUDDUR_ASSIGN_OR_RETURN(std::vector<GroupMember> members, store_->Members(group_uuid));
  CachedMessages cached;
  for (const auto& m : members) cached.members.push_back(m.owner_uuid);
  if (std::find(cached.members.begin(), cached.members.end(), user_uuid) == cached.members.end()) {
    return Status(ErrorCode::kAccessDenied, "not a member of this message group");
  }
  CRUDDUR_ASSIGN_OR_RETURN(cached.page, store_->ListMessages(group_uuid));
  Page<Message> page = cached.page;
  messages_.Fill(key, hit.stamp, std::move(cached));
  return page;
}

Result<PostedMessage> MessagingService::PostToGroup(const identity::ShortProfile& sender,
                                                    std::string_view group_uuid,
                                                    std::string_view text) {
  Result<PostedMessage> posted = store_->CreateMessage(group_uuid, sender, text);
  // The group's rows move when the stream handler runs; its message page changed now.
  if (posted.ok() && caching_) messages_.Invalidate(posted->message_group_uuid);
  return posted;
}

Result<PostedMessage> MessagingService::StartConversation(const identity::ShortProfile& sender,
                                                          std::string_view receiver_handle,
                                                          std::string_view text) {
  CRUDDUR_ASSIGN_OR_RETURN(identity::ShortProfile receiver,
                           users_->ShortProfileByHandle(receiver_handle));
  if (receiver.uuid == sender.uuid) return ValidationError("cannot_message_self");
  Result<PostedMessage> posted = store_->CreateMessageGroup(sender, receiver, text);
  if (posted.ok() && caching_) {
    messages_.Invalidate(posted->message_group_uuid);
    if (posted->created_group) {
      groups_.Invalidate(sender.uuid);
      groups_.Invalidate(receiver.uuid);
    }
  }
  return posted;
}

void MessagingService::OnGroupChanged(const std::string& group_uuid,
                                      const std::vector<std::string>& owners) {
  if (!caching_) return;
  messages_.Invalidate(group_uuid);
  for (const auto& owner : owners) groups_.Invalidate(owner);
}

MessagingCacheStats MessagingService::cache_stats() const {
  return MessagingCacheStats{groups_.stats(), messages_.stats()};
}

}  // namespace cruddur::messaging
