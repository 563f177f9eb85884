// DynamoDB's AttributeValue: one of S, N, B, BOOL, NULL, M, L, SS, NS, BS.
//
// A plain value type with public members: only the members that belong to `type` are
// meaningful; the others stay empty. Constructors below keep that invariant; code that builds
// values by hand must too. Thread-compatible.
//
// Invariants of a *valid* value (as produced by the wire decoder, dynamo/json): sets are
// non-empty and free of duplicates; numbers are within Decimal's range; nesting depth <= 32.
// Set members keep the order the client sent (DynamoDB does not promise an order; equality
// ignores it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "dynamo/model/decimal.h"

namespace cruddur::dynamo {

enum class AttrType : uint8_t { kS, kN, kB, kBool, kNull, kM, kL, kSS, kNS, kBS };

// "S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS".
std::string_view AttrTypeName(AttrType type);
// Inverse of AttrTypeName; false when `name` is not one of them.
bool ParseAttrType(std::string_view name, AttrType* type);
// "STRING", "NUMBER", ..., "BINARY_SET": the spelling of the service's update-type errors
// (UpdateExpression ADD/DELETE, legacy AttributeUpdates).
std::string_view UpdateTypeName(AttrType type);

struct AttributeValue;
// Attribute name -> value. Ordered so that serialization is deterministic.
using AttributeMap = std::map<std::string, AttributeValue, std::less<>>;
using AttributeList = std::vector<AttributeValue>;
// A whole item is a top-level attribute map.
using Item = AttributeMap;

struct AttributeValue {
  AttrType type = AttrType::kNull;
  bool boolean = false;           // BOOL
  std::string str;                // S (UTF-8 text) or B (raw bytes, already base64-decoded)
  Decimal num;                    // N
  std::vector<std::string> strs;  // SS (UTF-8) or BS (raw bytes)
  std::vector<Decimal> nums;      // NS
  AttributeList list;             // L
  AttributeMap map;               // M

  static AttributeValue S(std::string v);
  static AttributeValue N(Decimal v);
  static AttributeValue B(std::string bytes);
  static AttributeValue Bool(bool v);
  static AttributeValue Null();
  static AttributeValue M(AttributeMap v);
  static AttributeValue L(AttributeList v);
  static AttributeValue SS(std::vector<std::string> v);
  static AttributeValue NS(std::vector<Decimal> v);
  static AttributeValue BS(std::vector<std::string> v);

  bool is_set() const {
    return type == AttrType::kSS || type == AttrType::kNS || type == AttrType::kBS;
  }

  // DynamoDB equality: same type and value; numbers numerically; sets as unordered sets;
  // lists element-wise; maps key-wise.
  bool operator==(const AttributeValue& other) const;
};

// Size of an attribute value as DynamoDB counts it for the 400 KB item limit and capacity
// units (Developer Guide, "Item sizes and formats"): S and B by their byte length (B raw, not
// base64); N as 1 byte plus one per base-100 digit pair aligned at the decimal point, plus 1 if
// negative (the guide's "1 byte per two significant digits + 1 byte": 27 -> 2, -27 -> 3, at most
// 21); BOOL and NULL 1 byte; sets the sum of their members; M and L 3 bytes plus, per element,
// 1 byte + its value (+ its name's length in an M).
size_t AttributeValueSize(const AttributeValue& value);
// Size of a whole item: the sum of each attribute name's UTF-8 length plus its value's size.
size_t ItemSize(const Item& item);

}  // namespace cruddur::dynamo
