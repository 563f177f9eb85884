// Declarative checking of a request's JSON shape against an operation's input model, the way
// DynamoDB's front end (Coral) does it before any operation logic runs:
//
//   1. Type check of every known member, recursively. A member of the wrong JSON type is a
//      SerializationException with the service's texts ("NUMBER_VALUE cannot be converted to
//      String", "Start of structure or map found where not expected", ...). Unknown members are
//      ignored, as the JSON protocol does.
//   2. Constraint check (not null, length, range, enum, name pattern). Up to 10 violations are
//      collected into one ValidationException: "2 validation errors detected: Value null at
//      'tableName' failed to satisfy constraint: Member must not be null; Value 'x' at
//      'keySchema.1.member.keyType' failed to satisfy constraint: Member must satisfy enum value
//      set: [HASH, RANGE]".
//
// Operation-specific rules (which need the table, or relate members to each other) are the
// operation's job and run after this.
//
// Thread-safety: Shape values are immutable after construction; CheckShape is reentrant.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace cruddur::dynamo::api {

enum class ShapeKind {
  kString,
  kBoolean,
  kLong,  // integral JSON number (a fractional one is truncated, as the service does)
  kDouble,
  kList,       // element shape in `members[0]`
  kMap,        // JSON object with string keys; value shape in `members[0]`
  kStruct,     // JSON object with the named `members`
  kAttrValue,  // an AttributeValue; its contents are validated by the wire codec later
};

struct Shape {
  std::string name;  // member name as on the wire ("TableName"); unused for list/map elements
  ShapeKind kind = ShapeKind::kString;
  bool not_null = false;
  std::optional<int64_t> min_value, max_value;    // kLong / kDouble
  std::optional<int64_t> min_length, max_length;  // kString (chars), kList / kMap (entries)
  std::vector<std::string> enum_values;           // kString
  bool name_pattern = false;  // kString: [a-zA-Z0-9_.-]+ (table and index names)
  std::vector<Shape> members;
};

// Builders that keep operation input models short and readable.
Shape Str(std::string name);
Shape Bool(std::string name);
Shape Long(std::string name);
Shape Double(std::string name);
Shape List(std::string name, Shape element);
Shape Map(std::string name, Shape value);
Shape Struct(std::string name, std::vector<Shape> members);
Shape Attr(std::string name);
Shape AttrMap(std::string name);  // Map<String, AttributeValue>, e.g. Item, Key
Shape NotNull(Shape s);
Shape Length(Shape s, std::optional<int64_t> min, std::optional<int64_t> max);
Shape Range(Shape s, std::optional<int64_t> min, std::optional<int64_t> max);
Shape Enum(Shape s, std::vector<std::string> values);
// A table name: not null, 3..255 characters, [a-zA-Z0-9_.-]+.
Shape TableNameShape(std::string name = "TableName", bool required = true);
// An index name: 3..255 characters, [a-zA-Z0-9_.-]+.
Shape IndexNameShape(std::string name = "IndexName");

// Checks `request` (the whole body) against `input`, a kStruct shape. The body itself must be
// a JSON object (else SerializationException).
Status CheckShape(const json::Value& request, const Shape& input);

// "tableName" from "TableName": the service's member path spelling.
std::string LowerFirst(std::string_view name);

}  // namespace cruddur::dynamo::api
