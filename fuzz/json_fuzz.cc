// Fuzzes request JSON decoding: json::Parse (common/json.h: depth bound, RapidJSON behind it)
// and the AttributeValue wire codec (dynamo/json/attribute_json.h). The input is a request body
// as a client sends it. Every object found at the top level or one level down is decoded as an
// Item (an Item, Key or ExpressionAttributeValues object) and as a single AttributeValue, the
// way the API layer reads request members. Round trips asserted:
//   - json::ToString of a parsed document is JSON again (its text is not compared: RapidJSON's
//     default number parsing is not correctly rounded, so a double may print differently);
//   - a decoded Item or AttributeValue written as JSON decodes to an equal value;
//   - a decoded Item stored as a record (item_codec.h) decodes to an equal Item, and
//     WriteEncodedItem of that record writes exactly what WriteItem writes;
//   - Base64Decode(Base64Encode(bytes)) == bytes for the raw input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/json.h"
#include "dynamo/json/attribute_json.h"
#include "dynamo/model/item_codec.h"

namespace {

namespace dynamo = cruddur::dynamo;
namespace json = cruddur::json;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

template <typename WriteFn>
std::string Written(WriteFn write) {
  json::StringBuffer buffer;
  json::Writer writer(buffer);
  write(&writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

void CheckItem(const dynamo::Item& item) {
  const std::string text = Written([&](json::Writer* w) { dynamo::WriteItem(item, w); });
  json::Document doc;
  Check(json::Parse(text, &doc).ok());
  cruddur::Result<dynamo::Item> again = dynamo::DecodeItem(doc);
  Check(again.ok() && *again == item);

  std::string record;
  dynamo::EncodeItem(item, &record);
  cruddur::Result<dynamo::Item> stored = dynamo::DecodeItem(std::string_view(record));
  Check(stored.ok() && *stored == item);
  cruddur::Status streamed_status;
  const std::string streamed =
      Written([&](json::Writer* w) { streamed_status = dynamo::WriteEncodedItem(record, w); });
  Check(streamed_status.ok() && streamed == text);
}

void CheckValue(const dynamo::AttributeValue& value) {
  const std::string text = Written([&](json::Writer* w) { dynamo::WriteAttributeValue(value, w); });
  json::Document doc;
  Check(json::Parse(text, &doc).ok());
  cruddur::Result<dynamo::AttributeValue> again = dynamo::DecodeAttributeValue(doc);
  Check(again.ok() && *again == value);
}

void DecodeBoth(const json::Value& v) {
  cruddur::Result<dynamo::Item> item = dynamo::DecodeItem(v);
  if (item.ok()) CheckItem(*item);
  cruddur::Result<dynamo::AttributeValue> value = dynamo::DecodeAttributeValue(v);
  if (value.ok()) CheckValue(*value);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  cruddur::Result<std::string> decoded = dynamo::Base64Decode(dynamo::Base64Encode(text));
  Check(decoded.ok() && *decoded == text);
  (void)dynamo::Base64Decode(text);
  (void)json::NestingDepth(text, json::kMaxDepth);

  json::Document doc;
  if (!json::Parse(text, &doc).ok()) return 0;
  const std::string compact = json::ToString(doc);
  json::Document reparsed;
  Check(json::Parse(compact, &reparsed).ok());

  const json::Value& root = doc;
  DecodeBoth(root);
  if (!root.IsObject()) return 0;
  for (const auto& member : root.GetObject()) {
    if (!member.value.IsObject()) continue;
    DecodeBoth(member.value);
    for (const auto& inner : member.value.GetObject()) DecodeBoth(inner.value);
  }
  return 0;
}
