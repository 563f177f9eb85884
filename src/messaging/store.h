// Cruddur's direct messages on the seed's DynamoDB table, through the DynamoClient seam only, so
// the same code runs on the in-process engine, `cruddur dynamodb`, AWS DynamoDB or Alternator.
//
// The table is the seed's: `cruddur-messages`, keys pk (HASH) / sk (RANGE), all strings, and the
// sparse GSI `message-group-sk-index` (message_group_uuid HASH, sk RANGE, projection ALL) that
// holds only group rows. Items (attribute names exactly as the seed writes them):
//
//   group row    pk=GRP#<owner uuid>  sk=<sk of the group's last message>
//                message_group_uuid, message (last text), user_uuid, user_display_name,
//                user_handle (the OTHER participant)
//   message row  pk=MSG#<group uuid>  sk=<created_at>#<message uuid>
//                message_uuid, message, user_uuid, user_display_name, user_handle (the sender)
//
// and two kinds the seed did not have, which make the bugs below impossible:
//
//   member row   pk=MBR#<group uuid>  sk=<owner uuid>
//                last_sk (sk of the owner's group row), user_uuid, user_display_name,
//                user_handle (the other participant, copied into every new group row)
//   pair row     pk=PAIR#<smaller uuid>#<larger uuid>  sk=PAIR   group_uuid
//
// Why: a message sk carries its uuid so two messages in one microsecond are two rows (the
// seed's sk=created_at made the second overwrite the first) and group rows of one owner never
// collide either; the pair row, written with attribute_not_exists in the group's creating
// transaction, makes a second conversation between the same two people impossible even when
// both start one at the same instant; member rows answer "is this user in this group" and
// "where is each owner's group row now" with strongly consistent key reads, which the GSI
// (eventually consistent on AWS) cannot. None of them carries message_group_uuid, so the GSI
// still holds group rows only and the seed's scripts keep working.
//
// Timestamps: clock.h. created_at in the JSON is the first 32 characters of sk.
//
// Errors (Status codes): kResourceNotFound unknown group (or a group uuid that is not a
// canonical uuid), kAccessDenied the user is not one of the group's two participants,
// kValidation a malformed cursor or bad argument, kResourceInUse CreateTable on an existing
// table; anything else is the engine's error as the client returned it (kIo, kInternal,
// kThrottling, ...).
//
// Thread-safety: every call may run from any number of threads at once; the client must be
// thread-safe (all DynamoClients are) and outlive the store.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "dynamo/client/client.h"
#include "identity/users_directory.h"
#include "messaging/clock.h"

namespace cruddur::messaging {

inline constexpr std::string_view kDefaultTableName = "cruddur-messages";
inline constexpr std::string_view kGroupIndexName = "message-group-sk-index";
inline constexpr int kDefaultPageSize = 20;  // the seed's Limit
inline constexpr int kMaxPageSize = 100;
inline constexpr std::size_t kMaxMessageChars = 1024;  // Unicode code points
// A cursor longer than this is malformed (a real one is ~92 characters).
inline constexpr std::size_t kMaxCursorBytes = 256;

// One row of an inbox: GET /api/message_groups.
struct MessageGroup {
  std::string uuid;          // message_group_uuid
  std::string user_uuid;     // the other participant
  std::string display_name;  // the other participant's
  std::string handle;        // the other participant's
  std::string message;       // the last message's text
  std::string created_at;    // the last message's time
  std::string sk;
};

// One message: GET /api/messages/<group>.
struct Message {
  std::string uuid;  // message_uuid
  std::string user_uuid;
  std::string display_name;
  std::string handle;
  std::string message;
  std::string created_at;
  std::string sk;
};

template <typename T>
struct Page {
  std::vector<T> items;
  // Opaque (base64url); present when older items remain.
  std::optional<std::string> next_cursor;
};

struct PostedMessage {
  std::string message_group_uuid;
  Message message;
  bool created_group = false;  // a new conversation was made (else posted into one)
};

// The participants of a group, as its member rows say.
struct GroupMember {
  std::string owner_uuid;
  std::string last_sk;           // the sk of the owner's group row
  identity::ShortProfile other;  // who the owner talks to
};

struct MessageStoreOptions {
  std::string table_name = std::string(kDefaultTableName);
  Clock clock;  // SystemClock() when empty
};

// The message's sk: FormatTimestamp(micros) + "#" + message uuid.
std::string MessageSortKey(std::int64_t micros, std::string_view message_uuid);

// Counts Unicode code points of valid UTF-8; nullopt if `text` is not valid UTF-8.
std::optional<std::size_t> Utf8Length(std::string_view text);

class MessageStore {
 public:
  MessageStore(dynamo::DynamoClient* client, MessageStoreOptions options);

  const std::string& table_name() const { return options_.table_name; }
  dynamo::DynamoClient* client() const { return client_; }
  std::int64_t NowMicros() const { return options_.clock(); }

  // The seed's schema-load: creates the table and its GSI, with a NEW_IMAGE stream for the
  // message-stream handler (the seed enabled it in the console). PROVISIONED 5/5 as the seed.
  Status CreateTable();

  // The user's groups, newest first; `cursor` from a previous page's next_cursor. `limit` is
  // clamped to [1, kMaxPageSize]. No begins_with(sk, <year>): every group, whatever its year.
  Result<Page<MessageGroup>> ListMessageGroups(std::string_view user_uuid,
                                               std::string_view cursor = {},
                                               int limit = kDefaultPageSize);

  // The group's newest `limit` messages (or those older than `cursor`), returned oldest to
  // newest. Does not check membership: callers do (CheckMember).
  Result<Page<Message>> ListMessages(std::string_view group_uuid, std::string_view cursor = {},
                                     int limit = kDefaultPageSize);

  // The group's member rows (two). kResourceNotFound if the group does not exist.
  Result<std::vector<GroupMember>> Members(std::string_view group_uuid);

  // Ok if `user_uuid` is a participant; kAccessDenied if the group exists without them;
  // kResourceNotFound if it does not exist.
  Status CheckMember(std::string_view group_uuid, std::string_view user_uuid);

  // Posts into an existing group. The membership check and the put are one transaction, so a
  // non-member can never write. Errors: kAccessDenied, kResourceNotFound, kValidation (text
  // empty, over kMaxMessageChars or not UTF-8).
  Result<PostedMessage> CreateMessage(std::string_view group_uuid,
                                      const identity::ShortProfile& sender, std::string_view text);

  // Starts a conversation: both group rows, both member rows, the pair row and the first message
  // in ONE TransactWriteItems. If the two already talk (or another caller starts the same
  // conversation concurrently and wins), posts into that group instead. kValidation if sender
  // and receiver are the same user.
  Result<PostedMessage> CreateMessageGroup(const identity::ShortProfile& sender,
                                           const identity::ShortProfile& receiver,
                                           std::string_view text);

  // The group two users share, if any (strongly consistent).
  Result<std::optional<std::string>> FindGroup(std::string_view user_a, std::string_view user_b);

 private:
  dynamo::DynamoClient* client_;
  MessageStoreOptions options_;
};

}  // namespace cruddur::messaging
