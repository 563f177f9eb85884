// The message-stream handler: the seed's Lambda, without its bugs. For every INSERT of a
// message row (pk MSG#<group>) in a batch of DynamoDB stream records, it moves both
// participants' group rows to that message: sk = the message's sk, message = its text.
//
// Since sk is part of a group row's key, "moving" a row is a delete plus a put. The seed did
// them as two calls per row after a GSI query, so a concurrent or retried invocation could
// delete a row another had just written (leaving none, or two), and any record could move a
// group back in time. Here, per group and attempt: read the member rows (a strongly consistent
// Query of MBR#<group>, which records where each owner's group row is), then ONE
// TransactWriteItems holding, for each owner whose row is older than the message:
//   Update MBR#<group>/<owner> SET last_sk = :new  IF last_sk = :old
//   Delete GRP#<owner>/<old sk>
//   Put    GRP#<owner>/<new sk>
// The condition makes the read and the move atomic: if anyone moved the row in between, the
// transaction is cancelled, the rows are read again and the comparison redone. An owner whose
// row is already at or past the message is left alone, so a retried, duplicated or out-of-order
// record never moves a group back.
//
// Every record of the batch is handled (the seed looked at Records[0] only); within a batch
// only the newest message of each group matters, so records are folded per group first.
// REMOVE and MODIFY records and rows other than MSG# are ignored; so are messages of a group
// with no member rows (not written by this store). A record without NewImage (a KEYS_ONLY
// stream) has its message read from the table.
//
// Live updates: after a group's rows are handled, an optional GroupUpdatedCallback gets the
// batch's new messages in the group and each participant's group row as it now stands (see
// GroupUpdate), so open pages can be told (messaging/live.h). Delivery is at least once: a
// retried batch reports its messages again.
//
// Errors: the first failing group's Status after every group was tried (so the trigger runner
// retries the batch; redoing the groups that succeeded is harmless). A record that is not a
// stream record is kValidation.
//
// Thread-safety: HandleRecords may run on any number of threads at once (the engine's
// transactions arbitrate); the client must outlive the handler.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "dynamo/client/client.h"
#include "messaging/store.h"

namespace cruddur::messaging {

// Told, after a group's rows were handled, which group got a message and who its participants
// are, so caches can drop what they hold for them. Must be thread-safe.
using GroupChangedCallback =
    std::function<void(const std::string& group_uuid, const std::vector<std::string>& owners)>;

// What one batch changed in one group.
struct GroupUpdate {
  struct OwnerRow {
    std::string owner_uuid;
    MessageGroup row;  // as GET /api/message_groups shows it to this owner
  };

  std::string group_uuid;
  std::vector<std::string> owners;  // both participants
  // The batch's new messages in the group, oldest first. Only records that carry NewImage are
  // here (a KEYS_ONLY stream gives none).
  std::vector<Message> messages;
  // The group row of each participant whose row is now at the batch's newest message; a row
  // already past it was moved by a later message, whose own batch reports it.
  std::vector<OwnerRow> rows;
};

// Told, after a group's rows were handled, what changed in it. Must be thread-safe and quick
// (it runs on the trigger runner's thread).
using GroupUpdatedCallback = std::function<void(const GroupUpdate& update)>;

class MessageStreamHandler {
 public:
  // `on_change` runs before `on_update` for each group, so caches are fresh by the time live
  // subscribers are told. Either may be empty.
  MessageStreamHandler(dynamo::DynamoClient* client, std::string table_name,
                       GroupChangedCallback on_change = {}, GroupUpdatedCallback on_update = {});

  // `records`: each one stream record object as JSON text, as GetRecords returns it and as a
  // Lambda event's Records[i] holds it (triggers::StreamRecord::json).
  Status HandleRecords(const std::vector<std::string_view>& records);

  // A Lambda event: {"Records":[...]}.
  Status HandleLambdaEvent(std::string_view event_json);

 private:
  // Moves the group's rows forward to the message with key `sk`; `text` is its text, or
  // nullopt to read it from the message row. `messages`: the batch's messages in the group.
  Status MoveGroup(const std::string& group_uuid, const std::string& sk,
                   std::optional<std::string> text, std::vector<Message> messages);

  // Tells both callbacks that the group's rows now stand as `members` says (after the move).
  void Notify(const std::string& group_uuid, const std::vector<GroupMember>& members,
              const std::string& sk, const std::string& text, std::vector<Message> messages);

  dynamo::DynamoClient* client_;
  MessageStore store_;  // for the member rows
  GroupChangedCallback on_change_;
  GroupUpdatedCallback on_update_;
};

}  // namespace cruddur::messaging
