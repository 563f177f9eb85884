#include "messaging/store.h"

#include <algorithm>
#include <utility>

#include "identity/jwt.h"
#include "identity/uuid.h"
#include "messaging/ddb_json.h"

namespace cruddur::messaging {
namespace {

// Bounded retries of a transaction cancelled by a concurrent writer (AWS reports a
// TransactionConflict reason when another transaction holds one of the items; the caller is
// told to retry). Past this, the engine's error is returned.
constexpr int kMaxAttempts = 16;

std::string GroupPk(std::string_view user_uuid) { return "GRP#" + std::string(user_uuid); }
std::string MessagePk(std::string_view group_uuid) { return "MSG#" + std::string(group_uuid); }
std::string MemberPk(std::string_view group_uuid) { return "MBR#" + std::string(group_uuid); }
std::string PairPk(std::string_view a, std::string_view b) {
  return "PAIR#" + std::string(std::min(a, b)) + "#" + std::string(std::max(a, b));
}

// A message or group sk: a timestamp, '#', a canonical uuid.
bool IsSortKey(std::string_view sk) {
  return sk.size() == kTimestampLength + 1 + 36 && sk[kTimestampLength] == '#' &&
         ParseTimestamp(sk.substr(0, kTimestampLength)).has_value() &&
         identity::IsCanonicalUuid(sk.substr(kTimestampLength + 1));
}

std::string EncodeCursor(std::string_view sk) { return identity::Base64UrlEncode(sk); }

Result<std::string> DecodeCursor(std::string_view cursor) {
  if (cursor.size() > kMaxCursorBytes) return ValidationError("invalid cursor");
  std::optional<std::string> sk = identity::Base64UrlDecode(cursor);
  if (!sk || !IsSortKey(*sk)) return ValidationError("invalid cursor");
  return *sk;
}

// The sk's time as created_at; the seed's rows (sk = created_at alone) are read unchanged.
std::string CreatedAt(std::string_view sk) {
  return std::string(sk.substr(0, std::min(sk.size(), kTimestampLength)));
}

Status ValidateText(std::string_view text) {
  std::optional<std::size_t> chars = Utf8Length(text);
  if (!chars) return ValidationError("message is not valid UTF-8");
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return ValidationError("message_blank");
  }
  if (*chars > kMaxMessageChars) return ValidationError("message_exceed_max_chars");
  return Status::Ok();
}

Status ValidateProfile(const identity::ShortProfile& p) {
  if (p.uuid.empty() || p.uuid.size() > identity::kMaxUuidBytes) {
    return ValidationError("a participant has no valid uuid");
  }
  return Status::Ok();
}

int ClampLimit(int limit) { return std::clamp(limit, 1, kMaxPageSize); }

// A Query of one partition, newest first, one item past `limit` so the page knows whether
// older items remain without an empty trailing page.
std::string NewestFirstQuery(const std::string& table, const std::string& pk,
                             const std::string& start_sk, int limit) {
  ddb::JsonOut o;
  o.w().StartObject();
  o.Key("TableName");
  o.String(table);
  o.Key("KeyConditionExpression");
  o.String("pk = :pk");
  o.Key("ExpressionAttributeValues");
  o.w().StartObject();
  o.S(":pk", pk);
  o.w().EndObject();
  o.Key("ScanIndexForward");
  o.w().Bool(false);
  o.Key("ConsistentRead");
  o.w().Bool(true);
  o.Key("Limit");
  o.w().Int(limit + 1);
  if (!start_sk.empty()) {
    o.Key("ExclusiveStartKey");
    o.w().StartObject();
    o.S("pk", pk);
    o.S("sk", start_sk);
    o.w().EndObject();
  }
  o.w().EndObject();
  return o.str();
}

Status MalformedRow(std::string_view pk) {
  return InternalError("malformed row in partition " + std::string(pk));
}

void WriteMessageItem(ddb::JsonOut& o, std::string_view group_uuid, const Message& m) {
  o.w().StartObject();
  o.S("pk", MessagePk(group_uuid));
  o.S("sk", m.sk);
  o.S("message", m.message);
  o.S("message_uuid", m.uuid);
  o.S("user_uuid", m.user_uuid);
  o.S("user_display_name", m.display_name);
  o.S("user_handle", m.handle);
  o.w().EndObject();
}

// {"Put":{"TableName":..,"Item":<item>[,"ConditionExpression":..]}}; `item` writes the item.
template <typename F>
void WritePut(ddb::JsonOut& o, const std::string& table, F item, std::string_view condition) {
  o.w().StartObject();
  o.Key("Put");
  o.w().StartObject();
  o.Key("TableName");
  o.String(table);
  o.Key("Item");
  item();
  if (!condition.empty()) {
    o.Key("ConditionExpression");
    o.String(condition);
  }
  o.w().EndObject();
  o.w().EndObject();
}

}  // namespace

std::string MessageSortKey(std::int64_t micros, std::string_view message_uuid) {
  return FormatTimestamp(micros) + "#" + std::string(message_uuid);
}

std::optional<std::size_t> Utf8Length(std::string_view text) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len;
    std::uint32_t cp;
    if (c < 0x80) {
      len = 1;
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return std::nullopt;
    }
    if (i + len > text.size()) return std::nullopt;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8 (RFC 3629).
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    i += len;
    ++count;
  }
  return count;
}

MessageStore::MessageStore(dynamo::DynamoClient* client, MessageStoreOptions options)
    : client_(client), options_(std::move(options)) {
  if (!options_.clock) options_.clock = SystemClock();
}

Status MessageStore::CreateTable() {
  ddb::JsonOut o;
  o.w().StartObject();
  o.Key("TableName");
  o.String(options_.table_name);
  o.Key("AttributeDefinitions");
  o.w().StartArray();
  for (const char* name : {"message_group_uuid", "pk", "sk"}) {
    o.w().StartObject();
    o.Key("AttributeName");
    o.String(name);
    o.Key("AttributeType");
    o.String("S");
    o.w().EndObject();
  }
  o.w().EndArray();
  auto key_schema = [&o](const char* hash) {
    o.Key("KeySchema");
    o.w().StartArray();
    o.w().StartObject();
    o.Key("AttributeName");
    o.String(hash);
    o.Key("KeyType");
    o.String("HASH");
    o.w().EndObject();
    o.w().StartObject();
    o.Key("AttributeName");
    o.String("sk");
    o.Key("KeyType");
    o.String("RANGE");
    o.w().EndObject();
    o.w().EndArray();
  };
  auto throughput = [&o] {
    o.Key("ProvisionedThroughput");
    o.w().StartObject();
    o.Key("ReadCapacityUnits");
    o.w().Int(5);
    o.Key("WriteCapacityUnits");
    o.w().Int(5);
    o.w().EndObject();
  };
  key_schema("pk");
  o.Key("BillingMode");
  o.String("PROVISIONED");
  throughput();
  o.Key("GlobalSecondaryIndexes");
  o.w().StartArray();
  o.w().StartObject();
  o.Key("IndexName");
  o.String(kGroupIndexName);
  key_schema("message_group_uuid");
  o.Key("Projection");
  o.w().StartObject();
  o.Key("ProjectionType");
  o.String("ALL");
  o.w().EndObject();
  throughput();
  o.w().EndObject();
  o.w().EndArray();
  o.Key("StreamSpecification");
  o.w().StartObject();
  o.Key("StreamEnabled");
  o.w().Bool(true);
  o.Key("StreamViewType");
  o.String("NEW_IMAGE");
  o.w().EndObject();
  o.w().EndObject();
  return client_->Call(dynamo::Api::kDynamoDB, "CreateTable", o.str()).TakeStatus();
}

namespace {

// One page of partition `pk`, newest first, after `cursor`: the Query, the cursor and the limit
// shared by both listings. `parse` turns a row into a T (whose sk the next cursor is made of),
// or nullopt for a row missing an attribute.
template <typename T, typename Parse>
Result<Page<T>> NewestPage(dynamo::DynamoClient* client, const std::string& table,
                           const std::string& pk, std::string_view cursor, int limit, Parse parse) {
  std::string start;
  if (!cursor.empty()) {
    CRUDDUR_ASSIGN_OR_RETURN(start, DecodeCursor(cursor));
  }
  limit = ClampLimit(limit);
  json::Document doc;
  CRUDDUR_RETURN_IF_ERROR(
      ddb::Call(client, "Query", NewestFirstQuery(table, pk, start, limit), &doc));
  Page<T> page;
  if (!doc.HasMember("Items") || !doc["Items"].IsArray()) return MalformedRow(pk);
  for (const auto& item : doc["Items"].GetArray()) {
    if (static_cast<int>(page.items.size()) == limit) {
      page.next_cursor = EncodeCursor(page.items.back().sk);
      break;
    }
    std::optional<T> row = parse(item);
    if (!row) return MalformedRow(pk);
    page.items.push_back(std::move(*row));
  }
  return page;
}

}  // namespace

Result<Page<MessageGroup>> MessageStore::ListMessageGroups(std::string_view user_uuid,
                                                           std::string_view cursor, int limit) {
  if (user_uuid.empty() || user_uuid.size() > identity::kMaxUuidBytes) {
    return ValidationError("invalid user uuid");
  }
  return NewestPage<MessageGroup>(client_, options_.table_name, GroupPk(user_uuid), cursor, limit,
                                  [](const json::Value& item) -> std::optional<MessageGroup> {
                                    auto sk = ddb::GetS(item, "sk");
                                    auto group = ddb::GetS(item, "message_group_uuid");
                                    auto other = ddb::GetS(item, "user_uuid");
                                    auto name = ddb::GetS(item, "user_display_name");
                                    auto handle = ddb::GetS(item, "user_handle");
                                    auto message = ddb::GetS(item, "message");
                                    if (!sk || !group || !other || !name || !handle || !message)
                                      return std::nullopt;
                                    return MessageGroup{std::string(*group),   std::string(*other),
                                                        std::string(*name),    std::string(*handle),
                                                        std::string(*message), CreatedAt(*sk),
                                                        std::string(*sk)};
                                  });
}

Result<Page<Message>> MessageStore::ListMessages(std::string_view group_uuid,
                                                 std::string_view cursor, int limit) {
  if (!identity::IsCanonicalUuid(group_uuid)) return NotFoundError("unknown message group");
  CRUDDUR_ASSIGN_OR_RETURN(
      Page<Message> page,
      NewestPage<Message>(client_, options_.table_name, MessagePk(group_uuid), cursor, limit,
                          [](const json::Value& item) -> std::optional<Message> {
                            auto sk = ddb::GetS(item, "sk");
                            auto uuid = ddb::GetS(item, "message_uuid");
                            auto user = ddb::GetS(item, "user_uuid");
                            auto name = ddb::GetS(item, "user_display_name");
                            auto handle = ddb::GetS(item, "user_handle");
                            auto message = ddb::GetS(item, "message");
                            if (!sk || !uuid || !user || !name || !handle || !message)
                              return std::nullopt;
                            return Message{std::string(*uuid),    std::string(*user),
                                           std::string(*name),    std::string(*handle),
                                           std::string(*message), CreatedAt(*sk),
                                           std::string(*sk)};
                          }));
  // Read newest first so the page is the newest one; shown oldest to newest, as the seed.
  std::reverse(page.items.begin(), page.items.end());
  return page;
}

Result<std::vector<GroupMember>> MessageStore::Members(std::string_view group_uuid) {
  if (!identity::IsCanonicalUuid(group_uuid)) return NotFoundError("unknown message group");
  const std::string pk = MemberPk(group_uuid);
  ddb::JsonOut o;
  o.w().StartObject();
  o.Key("TableName");
  o.String(options_.table_name);
  o.Key("KeyConditionExpression");
  o.String("pk = :pk");
  o.Key("ExpressionAttributeValues");
  o.w().StartObject();
  o.S(":pk", pk);
  o.w().EndObject();
  o.Key("ConsistentRead");
  o.w().Bool(true);
  o.w().EndObject();
  json::Document doc;
  CRUDDUR_RETURN_IF_ERROR(ddb::Call(client_, "Query", o.str(), &doc));
  if (!doc.HasMember("Items") || !doc["Items"].IsArray()) return MalformedRow(pk);
  std::vector<GroupMember> members;
  for (const auto& item : doc["Items"].GetArray()) {
    auto owner = ddb::GetS(item, "sk");
    auto last = ddb::GetS(item, "last_sk");
    auto other = ddb::GetS(item, "user_uuid");
    auto name = ddb::GetS(item, "user_display_name");
    auto handle = ddb::GetS(item, "user_handle");
    if (!owner || !last || !other || !name || !handle) return MalformedRow(pk);
    members.push_back(GroupMember{
        std::string(*owner), std::string(*last),
        identity::ShortProfile{std::string(*other), std::string(*handle), std::string(*name)}});
  }
  if (members.empty()) return NotFoundError("unknown message group");
  return members;
}

Status MessageStore::CheckMember(std::string_view group_uuid, std::string_view user_uuid) {
  if (!identity::IsCanonicalUuid(group_uuid)) return NotFoundError("unknown message group");
  ddb::JsonOut o;
  o.w().StartObject();
  o.Key("TableName");
  o.String(options_.table_name);
  o.Key("Key");
  o.w().StartObject();
  o.S("pk", MemberPk(group_uuid));
  o.S("sk", user_uuid);
  o.w().EndObject();
  o.Key("ConsistentRead");
  o.w().Bool(true);
  o.w().EndObject();
  json::Document doc;
  CRUDDUR_RETURN_IF_ERROR(ddb::Call(client_, "GetItem", o.str(), &doc));
  if (doc.IsObject() && doc.HasMember("Item")) return Status::Ok();
  CRUDDUR_RETURN_IF_ERROR(Members(group_uuid).TakeStatus());
  return Status(ErrorCode::kAccessDenied, "not a member of this message group");
}

Result<PostedMessage> MessageStore::CreateMessage(std::string_view group_uuid,
                                                  const identity::ShortProfile& sender,
                                                  std::string_view text) {
  CRUDDUR_RETURN_IF_ERROR(ValidateText(text));
  CRUDDUR_RETURN_IF_ERROR(ValidateProfile(sender));
  if (!identity::IsCanonicalUuid(group_uuid)) return NotFoundError("unknown message group");
  Status last;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    CRUDDUR_ASSIGN_OR_RETURN(std::string message_uuid, identity::NewRandomUuid());
    const std::string sk = MessageSortKey(options_.clock(), message_uuid);
    Message m{message_uuid,  sender.uuid, sender.display_name, sender.handle, std::string(text),
              CreatedAt(sk), sk};
    // The sender's member row must exist in the same transaction as the put, so membership
    // cannot be checked and then lost (there is no leaving a group, but the check is free).
    ddb::JsonOut o;
    o.w().StartObject();
    o.Key("TransactItems");
    o.w().StartArray();
    o.w().StartObject();
    o.Key("ConditionCheck");
    o.w().StartObject();
    o.Key("TableName");
    o.String(options_.table_name);
    o.Key("Key");
    o.w().StartObject();
    o.S("pk", MemberPk(group_uuid));
    o.S("sk", sender.uuid);
    o.w().EndObject();
    o.Key("ConditionExpression");
    o.String("attribute_exists(pk)");
    o.w().EndObject();
    o.w().EndObject();
    WritePut(
        o, options_.table_name, [&] { WriteMessageItem(o, group_uuid, m); },
        "attribute_not_exists(pk)");
    o.w().EndArray();
    o.w().EndObject();
    Status st = client_->Call(dynamo::Api::kDynamoDB, "TransactWriteItems", o.str()).TakeStatus();
    if (st.ok()) return PostedMessage{std::string(group_uuid), std::move(m), false};
    std::vector<std::string> codes = ddb::CancellationCodes(st);
    if (codes.empty()) return st;
    if (codes[0] == "ConditionalCheckFailed") {
      CRUDDUR_RETURN_IF_ERROR(Members(group_uuid).TakeStatus());
      return Status(ErrorCode::kAccessDenied, "not a member of this message group");
    }
    // A conflict with a concurrent transaction (or, never in practice, a uuid collision):
    // try again with a fresh key.
    last = std::move(st);
  }
  return last;
}

Result<std::optional<std::string>> MessageStore::FindGroup(std::string_view user_a,
                                                           std::string_view user_b) {
  ddb::JsonOut o;
  o.w().StartObject();
  o.Key("TableName");
  o.String(options_.table_name);
  o.Key("Key");
  o.w().StartObject();
  o.S("pk", PairPk(user_a, user_b));
  o.S("sk", "PAIR");
  o.w().EndObject();
  o.Key("ConsistentRead");
  o.w().Bool(true);
  o.w().EndObject();
  json::Document doc;
  CRUDDUR_RETURN_IF_ERROR(ddb::Call(client_, "GetItem", o.str(), &doc));
  if (!doc.IsObject() || !doc.HasMember("Item")) return std::optional<std::string>();
  auto group = ddb::GetS(doc["Item"], "group_uuid");
  if (!group) return MalformedRow(PairPk(user_a, user_b));
  return std::optional<std::string>(std::string(*group));
}

Result<PostedMessage> MessageStore::CreateMessageGroup(const identity::ShortProfile& sender,
                                                       const identity::ShortProfile& receiver,
                                                       std::string_view text) {
  CRUDDUR_RETURN_IF_ERROR(ValidateText(text));
  CRUDDUR_RETURN_IF_ERROR(ValidateProfile(sender));
  CRUDDUR_RETURN_IF_ERROR(ValidateProfile(receiver));
  if (sender.uuid == receiver.uuid) return ValidationError("cannot_message_self");
  Status last;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    CRUDDUR_ASSIGN_OR_RETURN(std::optional<std::string> existing,
                             FindGroup(sender.uuid, receiver.uuid));
    if (existing) return CreateMessage(*existing, sender, text);

    CRUDDUR_ASSIGN_OR_RETURN(std::string group_uuid, identity::NewRandomUuid());
    CRUDDUR_ASSIGN_OR_RETURN(std::string message_uuid, identity::NewRandomUuid());
    const std::string sk = MessageSortKey(options_.clock(), message_uuid);
    Message m{message_uuid,  sender.uuid, sender.display_name, sender.handle, std::string(text),
              CreatedAt(sk), sk};
    const std::string& table = options_.table_name;

    ddb::JsonOut o;
    o.w().StartObject();
    o.Key("TransactItems");
    o.w().StartArray();
    // First, so its cancellation reason is codes[0]: the pair row that makes this the only
    // conversation between the two.
    WritePut(
        o, table,
        [&] {
          o.w().StartObject();
          o.S("pk", PairPk(sender.uuid, receiver.uuid));
          o.S("sk", "PAIR");
          o.S("group_uuid", group_uuid);
          o.w().EndObject();
        },
        "attribute_not_exists(pk)");
    for (const auto* owner : {&sender, &receiver}) {
      const identity::ShortProfile& other = owner == &sender ? receiver : sender;
      WritePut(
          o, table,
          [&] {
            o.w().StartObject();
            o.S("pk", MemberPk(group_uuid));
            o.S("sk", owner->uuid);
            o.S("last_sk", sk);
            o.S("user_uuid", other.uuid);
            o.S("user_display_name", other.display_name);
            o.S("user_handle", other.handle);
            o.w().EndObject();
          },
          "attribute_not_exists(pk)");
      WritePut(
          o, table,
          [&] {
            o.w().StartObject();
            o.S("pk", GroupPk(owner->uuid));
            o.S("sk", sk);
            o.S("message_group_uuid", group_uuid);
            o.S("message", text);
            o.S("user_uuid", other.uuid);
            o.S("user_display_name", other.display_name);
            o.S("user_handle", other.handle);
            o.w().EndObject();
          },
          "attribute_not_exists(pk)");
    }
    WritePut(
        o, table, [&] { WriteMessageItem(o, group_uuid, m); }, "attribute_not_exists(pk)");
    o.w().EndArray();
    o.w().EndObject();

    Status st = client_->Call(dynamo::Api::kDynamoDB, "TransactWriteItems", o.str()).TakeStatus();
    if (st.ok()) return PostedMessage{group_uuid, std::move(m), true};
    if (ddb::CancellationCodes(st).empty()) return st;
    // Someone else created the pair first (FindGroup finds it on the next turn) or a
    // concurrent transaction conflicted: start over.
    last = std::move(st);
  }
  return last;
}

}  // namespace cruddur::messaging
