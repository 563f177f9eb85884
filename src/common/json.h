// The one door to RapidJSON. Include this, never <rapidjson/...> directly: it turns RapidJSON's
// internal assertions into exceptions (a type confusion in our code must not abort the server),
// enables std::string support, and bounds nesting before parsing.
//
// Habit: a fresh rapidjson::Document per request; reusing one grows its allocator without bound.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace cruddur::json {
// Thrown by RAPIDJSON_ASSERT. Callers check types before access; this is a backstop that the
// request dispatcher converts into InternalServerError instead of a crash.
struct JsonAssertion : std::logic_error {
  using std::logic_error::logic_error;
};
}  // namespace cruddur::json

// RAPIDJSON_SSE2 stays off: in RapidJSON 1.1.0 (Debian's) its 16-byte string scan lets the
// control characters 0x1A-0x1F through unescaped when they fall in an aligned block, so a
// message with an ANSI colour code (ESC, 0x1B) made a response that is not JSON; found by
// fuzz/json_fuzz.cc (corpus/json/regress-sse2-writer-control-chars).
#ifndef RAPIDJSON_HAS_STDSTRING
#define RAPIDJSON_HAS_STDSTRING 1
#endif
#ifndef RAPIDJSON_ASSERT
#define RAPIDJSON_ASSERT(x)                                                     \
  do {                                                                          \
    if (!(x)) throw ::cruddur::json::JsonAssertion("rapidjson assertion: " #x); \
  } while (0)
#endif

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/status.h"

namespace cruddur::json {

// JSON nesting bound for any request body. A 32-level AttributeValue costs 64 JSON levels plus
// the request's own wrappers; 128 leaves room and stops stack-exhausting input.
inline constexpr int kMaxDepth = 128;

using Document = rapidjson::Document;
using Value = rapidjson::Value;
using StringBuffer = rapidjson::StringBuffer;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// Parses `text` into `doc` (which should be fresh). Fails with SerializationException when the
// text is not JSON or nests deeper than `max_depth`.
Status Parse(std::string_view text, Document* doc, int max_depth = kMaxDepth);

// Nesting depth of the JSON text (counting objects and arrays, ignoring strings), or -1 as soon
// as it exceeds `limit`. Exposed for tests.
int NestingDepth(std::string_view text, int limit);

// Serializes a value compactly.
std::string ToString(const Value& value);

}  // namespace cruddur::json
