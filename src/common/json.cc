#include "common/json.h"

#include <rapidjson/error/en.h>

#include <cmath>

namespace cruddur::json {
namespace {

// RapidJSON turns a number too large for a double (say 1e400) into infinity instead of failing,
// and infinity cannot be written back as JSON. Depth is already bounded by Parse.
bool AllNumbersFinite(const Value& v) {
  if (v.IsDouble()) return std::isfinite(v.GetDouble());
  if (v.IsArray()) {
    for (const auto& e : v.GetArray()) {
      if (!AllNumbersFinite(e)) return false;
    }
  } else if (v.IsObject()) {
    for (const auto& m : v.GetObject()) {
      if (!AllNumbersFinite(m.value)) return false;
    }
  }
  return true;
}

}  // namespace

int NestingDepth(std::string_view text, int limit) {
  // One linear pass; strings are skipped so brackets inside them do not count.
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '{':
      case '[':
        if (++depth > limit) return -1;
        if (depth > max_depth) max_depth = depth;
        break;
      case '}':
      case ']':
        --depth;
        break;
      default:
        break;
    }
  }
  return max_depth;
}

Status Parse(std::string_view text, Document* doc, int max_depth) {
  if (NestingDepth(text, max_depth) < 0) {
    return SerializationError("The request body nests deeper than " + std::to_string(max_depth) +
                              " levels");
  }
  try {
    doc->Parse(text.data(), text.size());
  } catch (const JsonAssertion& e) {
    return SerializationError(e.what());
  }
  if (doc->HasParseError()) {
    return SerializationError(std::string("Malformed JSON at offset ") +
                              std::to_string(doc->GetErrorOffset()) + ": " +
                              rapidjson::GetParseError_En(doc->GetParseError()));
  }
  if (!AllNumbersFinite(*doc)) {
    return SerializationError("Malformed JSON: a number is out of the range of a double");
  }
  return Status::Ok();
}

std::string ToString(const Value& value) {
  StringBuffer buffer;
  Writer writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace cruddur::json
