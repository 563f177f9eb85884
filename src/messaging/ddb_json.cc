#include "messaging/ddb_json.h"

namespace cruddur::messaging::ddb {

void JsonOut::Key(std::string_view k) {
  w_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
}

void JsonOut::String(std::string_view s) {
  w_.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void JsonOut::S(std::string_view name, std::string_view value) {
  Key(name);
  w_.StartObject();
  w_.Key("S");
  String(value);
  w_.EndObject();
}

std::optional<std::string_view> GetS(const json::Value& item, const char* name) {
  if (!item.IsObject()) return std::nullopt;
  auto it = item.FindMember(name);
  if (it == item.MemberEnd() || !it->value.IsObject()) return std::nullopt;
  auto s = it->value.FindMember("S");
  if (s == it->value.MemberEnd() || !s->value.IsString()) return std::nullopt;
  return std::string_view(s->value.GetString(), s->value.GetStringLength());
}

Status Call(dynamo::DynamoClient* client, std::string_view operation, const std::string& request,
            json::Document* out) {
  CRUDDUR_ASSIGN_OR_RETURN(std::string body,
                           client->Call(dynamo::Api::kDynamoDB, operation, request));
  Status parsed = json::Parse(body, out);
  if (!parsed.ok()) {
    return InternalError(std::string(operation) + " answered with a body that is not JSON");
  }
  return Status::Ok();
}

std::vector<std::string> CancellationCodes(const Status& status) {
  std::vector<std::string> codes;
  if (status.code() != ErrorCode::kTransactionCanceled || status.details_json().empty()) {
    return codes;
  }
  json::Document doc;
  if (!json::Parse("{" + status.details_json() + "}", &doc).ok() || !doc.IsObject()) return codes;
  auto it = doc.FindMember("CancellationReasons");
  if (it == doc.MemberEnd() || !it->value.IsArray()) return codes;
  for (const auto& reason : it->value.GetArray()) {
    std::string code;
    if (reason.IsObject()) {
      auto c = reason.FindMember("Code");
      if (c != reason.MemberEnd() && c->value.IsString()) code = c->value.GetString();
    }
    codes.push_back(std::move(code));
  }
  return codes;
}

}  // namespace cruddur::messaging::ddb
