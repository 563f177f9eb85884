#include "common/json.h"

#include <rapidjson/error/en.h>

namespace cruddur::json {

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
  return Status::Ok();
}

std::string ToString(const Value& value) {
  StringBuffer buffer;
  Writer writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace cruddur::json
