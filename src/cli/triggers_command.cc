#include "cli/triggers_command.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "common/json.h"
#include "triggers/admin.h"
#include "triggers/http_handler.h"
#include "triggers/mapping_config.h"

namespace cruddur::cli {
namespace {

constexpr std::chrono::milliseconds kRequestTimeout{30000};

struct TriggersOptions {
  std::string endpoint_url = "http://127.0.0.1:8000";
  std::string spec;
  std::string name;
  bool json = false;
};

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "cruddur triggers: %s\n", message.c_str());
  throw CLI::RuntimeError(1);
}

std::string AdminUrl(const TriggersOptions& o, const std::string& suffix = "") {
  std::string base = o.endpoint_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + std::string(triggers::kAdminPathPrefix) + suffix;
}

// Sends the request; returns the body of a 2xx answer, or fails with the server's message.
std::string Send(std::string_view method, const std::string& url, std::string_view body) {
  auto r = triggers::SendHttpRequest(method, url, body, kRequestTimeout);
  if (!r.ok()) Fail(r.status().message());
  if (r->status >= 200 && r->status < 300) return r->body;
  json::Document doc;
  std::string message = r->body;
  if (json::Parse(r->body, &doc).ok() && doc.IsObject() && doc.HasMember("message") &&
      doc["message"].IsString()) {
    message = doc["message"].GetString();
  }
  Fail("HTTP " + std::to_string(r->status) + ": " + message);
}

std::string Member(const json::Value& v, const char* name) {
  auto it = v.FindMember(name);
  if (it == v.MemberEnd()) return "";
  if (it->value.IsString()) return it->value.GetString();
  return json::ToString(it->value);
}

void List(const TriggersOptions& o) {
  const std::string body = Send("GET", AdminUrl(o), "");
  if (o.json) {
    std::printf("%s\n", body.c_str());
    return;
  }
  json::Document doc;
  if (!json::Parse(body, &doc).ok() || !doc.IsObject() || !doc.HasMember("Mappings") ||
      !doc["Mappings"].IsArray()) {
    Fail("unexpected answer: " + body);
  }
  if (doc["Mappings"].Empty()) {
    std::printf("no triggers\n");
    return;
  }
  for (const json::Value& m : doc["Mappings"].GetArray()) {
    std::string handler;
    for (const char* key : {"command", "url", "native"}) {
      if (m.HasMember(key)) handler = std::string(key) + "=" + Member(m, key);
    }
    std::printf("%s  table=%s  %s\n  state=%s ok=%s failed=%s delivered=%s filtered=%s last=%s\n",
                Member(m, "name").c_str(), Member(m, "table").c_str(), handler.c_str(),
                Member(m, "state").c_str(), Member(m, "batches_ok").c_str(),
                Member(m, "batches_failed").c_str(), Member(m, "records_delivered").c_str(),
                Member(m, "records_filtered").c_str(), Member(m, "last_sequence_number").c_str());
    const std::string error = Member(m, "last_error");
    if (!error.empty()) std::printf("  last error: %s\n", error.c_str());
  }
}

void Create(const TriggersOptions& o) {
  auto config = o.spec.starts_with("{") ? triggers::ParseMappingJson(o.spec)
                                        : triggers::ParseMappingSpec(o.spec);
  if (!config.ok()) Fail(config.status().message());
  Send("POST", AdminUrl(o), triggers::MappingToJson(*config));
  std::printf("created trigger %s\n", config->name.c_str());
}

void Delete(const TriggersOptions& o) {
  Send("DELETE", AdminUrl(o, "/" + o.name), "");
  std::printf("deleted trigger %s\n", o.name.c_str());
}

}  // namespace

void AddTriggersCommand(CLI::App& app) {
  auto options = std::make_shared<TriggersOptions>();
  CLI::App* triggers =
      app.add_subcommand("triggers", "List, create and delete triggers of a running engine");
  triggers->require_subcommand(1);
  triggers->fallthrough();
  triggers->add_option("--endpoint-url", options->endpoint_url, "The engine's URL")
      ->capture_default_str();

  CLI::App* list = triggers->add_subcommand("list", "List triggers with their state");
  list->add_flag("--json", options->json, "Print the server's JSON answer");
  list->callback([options] { List(*options); });

  CLI::App* create = triggers->add_subcommand(
      "create",
      "Create a trigger from a spec (name=...,table=...,command=... - the command last) or a "
      "JSON object");
  create->add_option("spec", options->spec, "The trigger")->required();
  create->callback([options] { Create(*options); });

  CLI::App* del = triggers->add_subcommand("delete", "Delete a trigger and its checkpoint");
  del->add_option("name", options->name, "The trigger's name")->required();
  del->callback([options] { Delete(*options); });
}

}  // namespace cruddur::cli
