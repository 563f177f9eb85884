#include "triggers/mapping_config.h"

#include <charconv>
#include <fstream>
#include <set>

#include "triggers/filter.h"

namespace cruddur::triggers {
namespace {

// Config files are small; the bound keeps a wrong path (a log, a database) from being slurped.
constexpr size_t kMaxConfigBytes = 1 << 20;
constexpr size_t kMaxHandlerChars = 8192;

constexpr std::string_view kKnownKeys =
    "name, table, start, batch-size, window-ms, retries, bisect, on-failure, filter, timeout-ms, "
    "command, url, native";

bool ValidChars(std::string_view s) {
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Mapping names become file names (checkpoints), hence the small alphabet and no "." or "..".
bool ValidName(std::string_view s) {
  return !s.empty() && s.size() <= 64 && ValidChars(s) && s != "." && s != "..";
}

// DynamoDB table names: 3-255 of [a-zA-Z0-9_.-] (Developer Guide, "Naming rules").
bool ValidTableName(std::string_view s) {
  return s.size() >= 3 && s.size() <= 255 && ValidChars(s);
}

Status KeyError(std::string_view key, std::string_view what) {
  return ValidationError("Trigger " + std::string(key) + ": " + std::string(what));
}

Status CheckRange(std::string_view key, int value, int lo, int hi) {
  if (value < lo || value > hi) {
    return KeyError(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                             ", got " + std::to_string(value));
  }
  return Status::Ok();
}

Result<int> ParseInt(std::string_view key, std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return KeyError(key, "'" + std::string(text) + "' is not an integer");
  }
  return value;
}

Result<bool> ParseBool(std::string_view key, std::string_view text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return KeyError(key, "must be true or false, got '" + std::string(text) + "'");
}

Result<StartingPosition> ParseStart(std::string_view text) {
  if (text == "TRIM_HORIZON") return StartingPosition::kTrimHorizon;
  if (text == "LATEST") return StartingPosition::kLatest;
  return KeyError("start", "must be TRIM_HORIZON or LATEST, got '" + std::string(text) + "'");
}

bool KnownKey(std::string_view key) {
  for (std::string_view k :
       {"name", "table", "start", "batch-size", "window-ms", "retries", "bisect", "on-failure",
        "filter", "timeout-ms", "command", "url", "native"}) {
    if (k == key) return true;
  }
  return false;
}

Status UnknownKey(std::string_view key) {
  return ValidationError("Unknown trigger key '" + std::string(key) +
                         "' (known: " + std::string(kKnownKeys) + ")");
}

// Applies one key=value (both forms funnel through here). `seen` catches repeated keys and
// counts the handler keys.
Status Apply(std::string_view key, std::string_view value, MappingConfig* c,
             std::set<std::string, std::less<>>* seen, int* handlers) {
  if (!KnownKey(key)) return UnknownKey(key);
  if (!seen->emplace(key).second) return KeyError(key, "given twice");
  if (key == "name") {
    c->name = value;
  } else if (key == "table") {
    c->table = value;
  } else if (key == "start") {
    CRUDDUR_ASSIGN_OR_RETURN(c->start, ParseStart(value));
  } else if (key == "batch-size") {
    CRUDDUR_ASSIGN_OR_RETURN(c->batch_size, ParseInt(key, value));
  } else if (key == "window-ms") {
    CRUDDUR_ASSIGN_OR_RETURN(c->window_ms, ParseInt(key, value));
  } else if (key == "retries") {
    CRUDDUR_ASSIGN_OR_RETURN(c->retries, ParseInt(key, value));
  } else if (key == "timeout-ms") {
    CRUDDUR_ASSIGN_OR_RETURN(c->timeout_ms, ParseInt(key, value));
  } else if (key == "bisect") {
    CRUDDUR_ASSIGN_OR_RETURN(c->bisect, ParseBool(key, value));
  } else if (key == "on-failure") {
    c->on_failure = value;
  } else if (key == "filter") {
    c->filter = value;
  } else if (key == "command" || key == "url" || key == "native") {
    ++*handlers;
    c->handler_kind = key == "command" ? HandlerKind::kCommand
                      : key == "url"   ? HandlerKind::kUrl
                                       : HandlerKind::kNative;
    c->handler = value;
  } else {
    return UnknownKey(key);
  }
  return Status::Ok();
}

Status CheckHandlerCount(int handlers) {
  if (handlers != 1) {
    return ValidationError("A trigger needs exactly one handler: command=, url= or native=");
  }
  return Status::Ok();
}

}  // namespace

std::string_view StartingPositionName(StartingPosition start) {
  return start == StartingPosition::kLatest ? "LATEST" : "TRIM_HORIZON";
}

std::string_view HandlerKindKey(HandlerKind kind) {
  switch (kind) {
    case HandlerKind::kCommand:
      return "command";
    case HandlerKind::kUrl:
      return "url";
    case HandlerKind::kNative:
      return "native";
  }
  return "command";
}

Status ValidateMapping(const MappingConfig& c) {
  if (!ValidName(c.name)) {
    return KeyError("name", "'" + c.name + "' must be 1-64 characters of A-Z a-z 0-9 _ - .");
  }
  if (!ValidTableName(c.table)) {
    return KeyError("table", "'" + c.table + "' must be 3-255 characters of A-Z a-z 0-9 _ - .");
  }
  CRUDDUR_RETURN_IF_ERROR(CheckRange("batch-size", c.batch_size, 1, 10000));
  CRUDDUR_RETURN_IF_ERROR(CheckRange("window-ms", c.window_ms, 0, 300000));
  CRUDDUR_RETURN_IF_ERROR(CheckRange("retries", c.retries, -1, 10000));
  CRUDDUR_RETURN_IF_ERROR(CheckRange("timeout-ms", c.timeout_ms, 1, 900000));
  if (!c.on_failure.empty()) {
    const std::string_view d = c.on_failure;
    if (d.starts_with("file:")) {
      if (d.size() == 5) return KeyError("on-failure", "file: needs a path");
    } else if (d.starts_with("table:")) {
      if (!ValidTableName(d.substr(6))) {
        return KeyError("on-failure", "'" + std::string(d.substr(6)) + "' is not a table name");
      }
    } else {
      return KeyError("on-failure", "must be file:<path> or table:<name>");
    }
  }
  if (!c.filter.empty()) {
    auto f = FilterCriteria::Parse(c.filter);
    if (!f.ok()) return KeyError("filter", f.status().message());
  }
  if (c.handler.empty()) return KeyError(HandlerKindKey(c.handler_kind), "cannot be empty");
  if (c.handler.size() > kMaxHandlerChars) {
    return KeyError(HandlerKindKey(c.handler_kind), "is longer than 8192 characters");
  }
  if (c.handler_kind == HandlerKind::kUrl && !c.handler.starts_with("http://") &&
      !c.handler.starts_with("https://")) {
    return KeyError("url", "must start with http:// or https://");
  }
  if (c.handler_kind == HandlerKind::kNative && !ValidName(c.handler)) {
    return KeyError("native", "'" + c.handler + "' is not a handler name");
  }
  return Status::Ok();
}

Result<MappingConfig> ParseMappingSpec(std::string_view spec) {
  MappingConfig c;
  std::set<std::string, std::less<>> seen;
  int handlers = 0;
  size_t i = 0;
  while (i < spec.size()) {
    const size_t eq = spec.find('=', i);
    if (eq == std::string_view::npos) {
      return ValidationError("Trigger spec: expected key=value at '" + std::string(spec.substr(i)) +
                             "'");
    }
    const std::string_view key = spec.substr(i, eq - i);
    size_t pos = eq + 1;
    std::string value;
    if (pos < spec.size() && spec[pos] == '\'') {
      ++pos;
      bool closed = false;
      while (pos < spec.size()) {
        if (spec[pos] == '\'') {
          if (pos + 1 < spec.size() && spec[pos + 1] == '\'') {
            value += '\'';
            pos += 2;
            continue;
          }
          ++pos;
          closed = true;
          break;
        }
        value += spec[pos++];
      }
      if (!closed) return KeyError(key, "quoted value has no closing '");
      if (pos < spec.size() && spec[pos] != ',') {
        return KeyError(key, "expected , after the closing '");
      }
    } else if (key == "command") {
      value = spec.substr(pos);
      pos = spec.size();
    } else {
      const size_t comma = spec.find(',', pos);
      const size_t end = comma == std::string_view::npos ? spec.size() : comma;
      value = spec.substr(pos, end - pos);
      pos = end;
    }
    CRUDDUR_RETURN_IF_ERROR(Apply(key, value, &c, &seen, &handlers));
    i = pos < spec.size() ? pos + 1 : pos;  // past the comma
  }
  CRUDDUR_RETURN_IF_ERROR(CheckHandlerCount(handlers));
  CRUDDUR_RETURN_IF_ERROR(ValidateMapping(c));
  return c;
}

Result<MappingConfig> MappingFromJson(const json::Value& object) {
  if (!object.IsObject()) return ValidationError("A trigger is a JSON object");
  MappingConfig c;
  std::set<std::string, std::less<>> seen;
  int handlers = 0;
  for (const auto& m : object.GetObject()) {
    const std::string_view key(m.name.GetString(), m.name.GetStringLength());
    const json::Value& v = m.value;
    if (!KnownKey(key)) return UnknownKey(key);
    std::string text;
    if (key == "bisect") {
      if (!v.IsBool()) return KeyError(key, "must be true or false");
      text = v.GetBool() ? "true" : "false";
    } else if (key == "batch-size" || key == "window-ms" || key == "retries" ||
               key == "timeout-ms") {
      if (!v.IsInt()) return KeyError(key, "must be an integer");
      text = std::to_string(v.GetInt());
    } else if (key == "filter" && (v.IsObject() || v.IsArray())) {
      text = json::ToString(v);
    } else if (v.IsString()) {
      text.assign(v.GetString(), v.GetStringLength());
    } else {
      return KeyError(key, "must be a string");
    }
    CRUDDUR_RETURN_IF_ERROR(Apply(key, text, &c, &seen, &handlers));
  }
  CRUDDUR_RETURN_IF_ERROR(CheckHandlerCount(handlers));
  CRUDDUR_RETURN_IF_ERROR(ValidateMapping(c));
  return c;
}

Result<MappingConfig> ParseMappingJson(std::string_view text) {
  json::Document doc;
  if (Status st = json::Parse(text, &doc, 64); !st.ok()) {
    return ValidationError("Trigger JSON: " + st.message());
  }
  return MappingFromJson(doc);
}

Result<std::vector<MappingConfig>> ParseMappingsJson(std::string_view text) {
  json::Document doc;
  if (Status st = json::Parse(text, &doc, 64); !st.ok()) {
    return ValidationError("Trigger config: " + st.message());
  }
  if (!doc.IsArray()) return ValidationError("Trigger config: expected a JSON array of triggers");
  std::vector<MappingConfig> configs;
  std::set<std::string> names;
  for (const json::Value& v : doc.GetArray()) {
    auto c = MappingFromJson(v);
    if (!c.ok()) {
      return ValidationError("Trigger config, entry " + std::to_string(configs.size() + 1) + ": " +
                             c.status().message());
    }
    if (!names.insert(c->name).second) {
      return ValidationError("Trigger config: name '" + c->name + "' is used twice");
    }
    configs.push_back(std::move(c).value());
  }
  return configs;
}

Result<std::vector<MappingConfig>> LoadMappingsFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("Cannot open trigger config " + path);
  std::string text;
  char buf[8192];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxConfigBytes) return IoError("Trigger config " + path + " is over 1 MB");
  }
  if (in.bad()) return IoError("Cannot read trigger config " + path);
  auto configs = ParseMappingsJson(text);
  if (!configs.ok()) return ValidationError(path + ": " + configs.status().message());
  return configs;
}

void WriteMappingJson(const MappingConfig& c, json::Writer* w) {
  w->StartObject();
  w->Key("name");
  w->String(c.name);
  w->Key("table");
  w->String(c.table);
  w->Key("start");
  const std::string_view start = StartingPositionName(c.start);
  w->String(start.data(), static_cast<rapidjson::SizeType>(start.size()));
  w->Key("batch-size");
  w->Int(c.batch_size);
  w->Key("window-ms");
  w->Int(c.window_ms);
  w->Key("retries");
  w->Int(c.retries);
  w->Key("bisect");
  w->Bool(c.bisect);
  if (!c.on_failure.empty()) {
    w->Key("on-failure");
    w->String(c.on_failure);
  }
  if (!c.filter.empty()) {
    w->Key("filter");
    w->String(c.filter);
  }
  w->Key("timeout-ms");
  w->Int(c.timeout_ms);
  const std::string_view key = HandlerKindKey(c.handler_kind);
  w->Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w->String(c.handler);
  w->EndObject();
}

std::string MappingToJson(const MappingConfig& config) {
  json::StringBuffer buf;
  json::Writer w(buf);
  WriteMappingJson(config, &w);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string MappingsToJson(const std::vector<MappingConfig>& configs) {
  json::StringBuffer buf;
  json::Writer w(buf);
  w.StartArray();
  for (const MappingConfig& c : configs) WriteMappingJson(c, &w);
  w.EndArray();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace cruddur::triggers
