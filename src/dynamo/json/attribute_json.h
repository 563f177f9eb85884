// The DynamoDB wire codec for AttributeValues: JSON <-> dynamo::AttributeValue.
//
// Decoding validates exactly what DynamoDB validates for an AttributeValue and reports it with
// DynamoDB's error type and *core* text. DynamoDB wraps some of these by context, and that
// wrapping is the API layer's job: Item, Key and nested values use the core text unchanged;
// ExpressionAttributeValues report "ExpressionAttributeValues contains invalid value: <core
// text> for key <name>" (e.g. "... Supplied AttributeValue is empty, must contain exactly one
// of the supported datatypes for key :v").
//
// Texts (ValidationException unless marked [Serialization] = SerializationException):
//   no type member       "Supplied AttributeValue is empty, must contain exactly one of the
//                         supported datatypes"  (unknown members and members whose value is
//                         JSON null are ignored, as the JSON protocol does)
//   two type members     "Supplied AttributeValue has more than one datatypes set, must contain
//                         exactly one of the supported datatypes"
//   bad number           Decimal::Parse's texts ("A value provided cannot be converted into a
//                         number", "DynamoDB only supports precision up to 38 digits",
//                         "Number overflow. ...", "Number underflow. ...")
//   empty set            "One or more parameter values were invalid: An string set  may not be
//                         empty" / "... An number set  may not be empty" (two spaces, as
//                         DynamoDB) / "... Binary sets should not be empty"
//   duplicates           SS: "One or more parameter values were invalid: Input collection
//                         [a, b, a] contains duplicates"; NS (compared numerically): "Input
//                         collection contains duplicates"; BS: "One or more parameter values
//                         were invalid: Input collection of type BS contains duplicates."
//   null set member      SS: "One or more parameter values were invalid: An string set may not
//                         have a null string as a member"; NS: the not-a-number text; BS: "One
//                         or more parameter values were invalid: An binary set may not have a
//                         null binary as a member"
//   NULL: false          "One or more parameter values were invalid: Null attribute value types
//                         must have the value of true"
//   null value           in an L: "The supplied Item contains a null AttributeValue"; in an
//                         item or M: "The supplied Item contains a null AttributeValue: <name> is
//                         null"
//   too deep             more than 32 levels counting the enclosing item (so at most 31 nested
//                         M/L): DecodeItem: "Nesting Levels have exceeded supported limits:
//                         Attributes in the item have nested levels beyond supported limit";
//                         DecodeAttributeValue: "Nesting Levels have exceeded supported limits"
//   empty name           "Empty attribute name" (an item's or an M's key is "")
//   bad base64           [Serialization] "Base64 encoded length is expected a multiple of 4
//                         bytes but found: <n>", "Invalid Base64 character: '<c>'" or
//                         "Invalid Base64 padding"
//   wrong JSON type      [Serialization] "NUMBER_VALUE cannot be converted to String" (also
//                         TRUE_VALUE/FALSE_VALUE; "STRING_VALUE/NUMBER_VALUE cannot be converted
//                         to Boolean" for BOOL/NULL), "Start of structure or map found where not
//                         expected.", "Start of list found where not expected", and "Unexpected
//                         value type in payload" where an object or list was required.
//
// Order: like DynamoDB, a request that is malformed anywhere (a [Serialization] error) reports
// that before any ValidationException; among validation errors the first in document order
// wins, and inside one AttributeValue member errors (e.g. an empty set) come before the
// "empty"/"more than one datatypes" checks.
//
// Encoding writes DynamoDB's wire form: {"S":"..."}, {"N":"<canonical>"}, {"B":"<base64>"},
// {"BOOL":true}, {"NULL":true}, {"M":{...}}, {"L":[...]}, {"SS":[...]}, {"NS":[...]},
// {"BS":[...]}. Items are written as objects of name -> AttributeValue.
//
// Ownership: decoding copies strings out of the rapidjson Value (the Document may die after);
// encoding only writes through the given Writer (WriteEncodedItem reads the record only during
// the call). Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/json.h"
#include "common/status.h"
#include "dynamo/model/attribute_value.h"

namespace cruddur::dynamo {

// Maximum nesting of M/L values DynamoDB accepts (Developer Guide, "Nested attribute depth").
inline constexpr int kMaxAttributeDepth = 32;

// Decodes one AttributeValue ({"S": "x"} etc.). A non-object is a [Serialization] error.
Result<AttributeValue> DecodeAttributeValue(const json::Value& v);

// Decodes an object of attribute name -> AttributeValue (an Item, a Key, an M body).
// A non-object is a [Serialization] error.
Result<Item> DecodeItem(const json::Value& v);

// Writes `v` as a JSON AttributeValue object.
void WriteAttributeValue(const AttributeValue& v, json::Writer* w);
// Writes `item` as a JSON object of name -> AttributeValue.
void WriteItem(const Item& item, json::Writer* w);
// Writes the item of an item record (dynamo/model/item_codec.h) exactly as
// WriteItem(*DecodeItem(record), w) would, byte for byte, without building the Item. On a
// corrupt record returns DecodeItem's kInternal error, having written part of the item: the
// Writer's output must then be discarded.
Status WriteEncodedItem(std::string_view record, json::Writer* w);

// RFC 4648 base64 (standard alphabet, padded). Exposed for the API layer (e.g. binary
// ExclusiveStartKey values) and tests.
std::string Base64Encode(std::string_view bytes);
// Strict decode: length a multiple of 4, only alphabet characters, '=' only as one or two
// final padding characters. Unused low bits of the last character are ignored, as DynamoDB
// accepts "YR==". Errors as "bad base64" above.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace cruddur::dynamo
