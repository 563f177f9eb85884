#include "messaging/stream_handler.h"

#include <algorithm>
#include <map>
#include <utility>

#include "common/json.h"
#include "messaging/ddb_json.h"

namespace cruddur::messaging {
namespace {

// Bounded re-reads when another handler moved a row between our read and our transaction. Each
// lost race means someone else made progress, so this is only reached under a storm of
// writers; the batch then fails and the trigger runner retries it.
constexpr int kMaxAttempts = 32;

struct Latest {
  std::string sk;
  std::optional<std::string> text;
  std::vector<Message> messages;  // every message of the batch in the group with a NewImage
};

// The sk's time as created_at (as the store renders it).
std::string CreatedAt(std::string_view sk) {
  return std::string(sk.substr(0, std::min(sk.size(), kTimestampLength)));
}

// The message a NewImage holds, as GET /api/messages renders it; nullopt when the row lacks an
// attribute (it is then left out of live updates, not failed).
std::optional<Message> ImageMessage(const json::Value& image, std::string_view sk) {
  auto uuid = ddb::GetS(image, "message_uuid");
  auto user = ddb::GetS(image, "user_uuid");
  auto name = ddb::GetS(image, "user_display_name");
  auto handle = ddb::GetS(image, "user_handle");
  auto message = ddb::GetS(image, "message");
  if (!uuid || !user || !name || !handle || !message) return std::nullopt;
  return Message{std::string(*uuid),   std::string(*user),    std::string(*name),
                 std::string(*handle), std::string(*message), CreatedAt(sk),
                 std::string(sk)};
}

// Adds the record to `latest` (group uuid -> newest message seen) if it is an INSERT of a
// message row.
Status Fold(const json::Value& record, std::map<std::string, Latest>* latest) {
  if (!record.IsObject()) return ValidationError("stream record is not an object");
  auto name = record.FindMember("eventName");
  auto body = record.FindMember("dynamodb");
  if (name == record.MemberEnd() || !name->value.IsString() || body == record.MemberEnd() ||
      !body->value.IsObject()) {
    return ValidationError("stream record without eventName or dynamodb");
  }
  if (std::string_view(name->value.GetString()) != "INSERT") return Status::Ok();
  auto keys = body->value.FindMember("Keys");
  if (keys == body->value.MemberEnd()) return ValidationError("stream record without Keys");
  auto pk = ddb::GetS(keys->value, "pk");
  auto sk = ddb::GetS(keys->value, "sk");
  if (!pk || !sk) return ValidationError("stream record without string pk and sk");
  if (pk->substr(0, 4) != "MSG#") return Status::Ok();
  std::string group(pk->substr(4));
  std::optional<std::string> text;
  Latest& slot = (*latest)[group];
  auto image = body->value.FindMember("NewImage");
  if (image != body->value.MemberEnd()) {
    auto message = ddb::GetS(image->value, "message");
    if (!message) return ValidationError("message row without a message attribute");
    text = std::string(*message);
    if (std::optional<Message> m = ImageMessage(image->value, *sk)) {
      slot.messages.push_back(std::move(*m));
    }
  }
  if (slot.sk < *sk) {
    slot.sk = std::string(*sk);
    slot.text = std::move(text);
  }
  return Status::Ok();
}

}  // namespace

MessageStreamHandler::MessageStreamHandler(dynamo::DynamoClient* client, std::string table_name,
                                           GroupChangedCallback on_change,
                                           GroupUpdatedCallback on_update)
    : client_(client),
      store_(client, MessageStoreOptions{std::move(table_name), {}}),
      on_change_(std::move(on_change)),
      on_update_(std::move(on_update)) {}

Status MessageStreamHandler::HandleRecords(const std::vector<std::string_view>& records) {
  std::map<std::string, Latest> latest;
  for (std::string_view text : records) {
    json::Document doc;
    CRUDDUR_RETURN_IF_ERROR(json::Parse(text, &doc));
    CRUDDUR_RETURN_IF_ERROR(Fold(doc, &latest));
  }
  Status first;
  for (auto& [group, message] : latest) {
    Status st = MoveGroup(group, message.sk, std::move(message.text), std::move(message.messages));
    if (!st.ok() && first.ok()) first = std::move(st);
  }
  return first;
}

Status MessageStreamHandler::HandleLambdaEvent(std::string_view event_json) {
  json::Document doc;
  CRUDDUR_RETURN_IF_ERROR(json::Parse(event_json, &doc));
  if (!doc.IsObject() || !doc.HasMember("Records") || !doc["Records"].IsArray()) {
    return ValidationError("event without Records");
  }
  std::vector<std::string> texts;
  for (const auto& record : doc["Records"].GetArray()) texts.push_back(json::ToString(record));
  return HandleRecords(std::vector<std::string_view>(texts.begin(), texts.end()));
}

void MessageStreamHandler::Notify(const std::string& group_uuid,
                                  const std::vector<GroupMember>& members, const std::string& sk,
                                  const std::string& text, std::vector<Message> messages) {
  std::vector<std::string> owners;
  for (const GroupMember& m : members) owners.push_back(m.owner_uuid);
  if (on_change_) on_change_(group_uuid, owners);
  if (!on_update_) return;
  GroupUpdate update;
  update.group_uuid = group_uuid;
  update.owners = std::move(owners);
  // Stream order is commit order, which for one group is sk order but for the odd retried
  // record; sort so subscribers see them oldest first.
  std::sort(messages.begin(), messages.end(),
            [](const Message& a, const Message& b) { return a.sk < b.sk; });
  update.messages = std::move(messages);
  for (const GroupMember& m : members) {
    if (sk < m.last_sk) continue;  // a newer message's batch reports this row
    update.rows.push_back(GroupUpdate::OwnerRow{
        m.owner_uuid, MessageGroup{group_uuid, m.other.uuid, m.other.display_name, m.other.handle,
                                   text, CreatedAt(sk), sk}});
  }
  on_update_(update);
}

Status MessageStreamHandler::MoveGroup(const std::string& group_uuid, const std::string& sk,
                                       std::optional<std::string> text,
                                       std::vector<Message> messages) {
  const std::string& table = store_.table_name();
  if (!text) {
    ddb::JsonOut o;
    o.w().StartObject();
    o.Key("TableName");
    o.String(table);
    o.Key("Key");
    o.w().StartObject();
    o.S("pk", "MSG#" + group_uuid);
    o.S("sk", sk);
    o.w().EndObject();
    o.Key("ConsistentRead");
    o.w().Bool(true);
    o.w().EndObject();
    json::Document doc;
    CRUDDUR_RETURN_IF_ERROR(ddb::Call(client_, "GetItem", o.str(), &doc));
    if (!doc.IsObject() || !doc.HasMember("Item")) return Status::Ok();  // deleted since
    auto message = ddb::GetS(doc["Item"], "message");
    if (!message) return ValidationError("message row without a message attribute");
    text = std::string(*message);
  }

  Status last;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    Result<std::vector<GroupMember>> members = store_.Members(group_uuid);
    if (members.status().code() == ErrorCode::kResourceNotFound) return Status::Ok();
    CRUDDUR_RETURN_IF_ERROR(members.status());
    ddb::JsonOut o;
    o.w().StartObject();
    o.Key("TransactItems");
    o.w().StartArray();
    int moved = 0;
    for (const GroupMember& m : *members) {
      if (!(m.last_sk < sk)) continue;  // already at or past this message: never move back
      ++moved;
      // Update MBR#<group>/<owner> SET last_sk = :new IF last_sk = :old
      o.w().StartObject();
      o.Key("Update");
      o.w().StartObject();
      o.Key("TableName");
      o.String(table);
      o.Key("Key");
      o.w().StartObject();
      o.S("pk", "MBR#" + group_uuid);
      o.S("sk", m.owner_uuid);
      o.w().EndObject();
      o.Key("UpdateExpression");
      o.String("SET last_sk = :new");
      o.Key("ConditionExpression");
      o.String("last_sk = :old");
      o.Key("ExpressionAttributeValues");
      o.w().StartObject();
      o.S(":new", sk);
      o.S(":old", m.last_sk);
      o.w().EndObject();
      o.w().EndObject();
      o.w().EndObject();
      // Delete GRP#<owner>/<old sk>
      o.w().StartObject();
      o.Key("Delete");
      o.w().StartObject();
      o.Key("TableName");
      o.String(table);
      o.Key("Key");
      o.w().StartObject();
      o.S("pk", "GRP#" + m.owner_uuid);
      o.S("sk", m.last_sk);
      o.w().EndObject();
      o.w().EndObject();
      o.w().EndObject();
      // Put GRP#<owner>/<new sk>
      o.w().StartObject();
      o.Key("Put");
      o.w().StartObject();
      o.Key("TableName");
      o.String(table);
      o.Key("Item");
      o.w().StartObject();
      o.S("pk", "GRP#" + m.owner_uuid);
      o.S("sk", sk);
      o.S("message_group_uuid", group_uuid);
      o.S("message", *text);
      o.S("user_uuid", m.other.uuid);
      o.S("user_display_name", m.other.display_name);
      o.S("user_handle", m.other.handle);
      o.w().EndObject();
      o.w().EndObject();
      o.w().EndObject();
    }
    o.w().EndArray();
    o.w().EndObject();
    if (moved == 0) {
      Notify(group_uuid, *members, sk, *text, std::move(messages));
      return Status::Ok();
    }
    Status st = client_->Call(dynamo::Api::kDynamoDB, "TransactWriteItems", o.str()).TakeStatus();
    if (st.ok()) {
      Notify(group_uuid, *members, sk, *text, std::move(messages));
      return Status::Ok();
    }
    if (ddb::CancellationCodes(st).empty()) return st;
    last = std::move(st);  // a row moved under us (or a conflict): read again
  }
  return last;
}

}  // namespace cruddur::messaging
