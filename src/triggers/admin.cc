#include "triggers/admin.h"

#include <string>

#include "common/json.h"

namespace cruddur::triggers {
namespace {

std::string_view PathOf(std::string_view target) {
  const size_t q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

void Answer(net::HttpResponse* response, int status, std::string body) {
  response->status = status;
  response->headers.emplace_back("Content-Type", "application/json");
  response->body = std::move(body);
}

void AnswerError(net::HttpResponse* response, int status, const std::string& message) {
  json::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  w.Key("message");
  w.String(message);
  w.EndObject();
  Answer(response, status, std::string(buf.GetString(), buf.GetSize()));
}

int HttpStatusFor(const Status& st) {
  switch (st.code()) {
    case ErrorCode::kValidation:
    case ErrorCode::kSerialization:
      return 400;
    case ErrorCode::kResourceNotFound:
      return 404;
    case ErrorCode::kResourceInUse:
      return 409;
    default:
      return 500;
  }
}

}  // namespace

bool IsTriggersAdminPath(std::string_view target) {
  const std::string_view path = PathOf(target);
  if (!path.starts_with(kAdminPathPrefix)) return false;
  return path.size() == kAdminPathPrefix.size() || path[kAdminPathPrefix.size()] == '/';
}

void HandleTriggersAdmin(TriggerRunner* runner, const net::HttpRequest& request,
                         net::HttpResponse* response) {
  std::string_view path = PathOf(request.target);
  path.remove_prefix(std::min(path.size(), kAdminPathPrefix.size()));
  if (path == "/") path = "";
  if (path.empty()) {
    if (request.method == "GET") {
      Answer(response, 200, MappingStatesToJson(runner->ListMappings()));
      return;
    }
    if (request.method == "POST") {
      auto config = ParseMappingJson(request.body);
      if (!config.ok()) {
        AnswerError(response, 400, config.status().message());
        return;
      }
      if (Status st = runner->AddMapping(*config); !st.ok()) {
        AnswerError(response, HttpStatusFor(st), st.message());
        return;
      }
      Answer(response, 201, "{\"Mapping\":" + MappingToJson(*config) + "}");
      return;
    }
    response->headers.emplace_back("Allow", "GET, POST");
    AnswerError(response, 405, "Use GET to list triggers or POST to create one");
    return;
  }
  // /<name>: names are [A-Za-z0-9_.-], so no percent-decoding is needed.
  const std::string name(path.substr(1));
  if (name.empty() || name.find('/') != std::string::npos) {
    AnswerError(response, 404, "No such path");
    return;
  }
  if (request.method != "DELETE") {
    response->headers.emplace_back("Allow", "DELETE");
    AnswerError(response, 405, "Use DELETE to remove a trigger");
    return;
  }
  if (Status st = runner->RemoveMapping(name); !st.ok()) {
    AnswerError(response, HttpStatusFor(st), st.message());
    return;
  }
  json::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  w.Key("Deleted");
  w.String(name);
  w.EndObject();
  Answer(response, 200, std::string(buf.GetString(), buf.GetSize()));
}

}  // namespace cruddur::triggers
