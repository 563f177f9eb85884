// Order-preserving encoding of DynamoDB key values (S, N, B) for storage keys.
//
// EncodeKeyValue appends a self-delimiting byte string whose memcmp order equals DynamoDB's
// sort-key order for values of one type: S by UTF-8 bytes, B by unsigned bytes, N numerically.
// Because every component ends unambiguously, a concatenation of encoded components (e.g.
// table prefix + partition key + sort key) sorts component by component, and a prefix scan
// over "encoded partition key" visits exactly that partition, in sort-key order.
//
// Format:
//   S, B: the bytes with every 0x00 written as 0x00 0xFF, then the terminator 0x00 0x01.
//         (0x00 0x01 < 0x00 0xFF, so "a" sorts before "a\0" and before "ab".)
//   N:    Decimal::EncodeOrdered (see decimal.h).
// The type itself is not written: the table schema says which type each key attribute has.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "dynamo/model/attribute_value.h"

namespace cruddur::dynamo {

// Appends the encoding of `v` to *out. Precondition: v.type is kS, kN or kB (the API layer has
// validated key types against the schema); for any other type nothing is appended.
void EncodeKeyValue(const AttributeValue& v, std::string* out);

// Raw-bytes form of the S/B encoding, for callers that hold only the bytes (e.g. building a
// range bound from a string). Same output as EncodeKeyValue(AttributeValue::S(bytes)).
void EncodeKeyBytes(std::string_view bytes, std::string* out);

// Decodes one component of type `type` (kS, kN or kB) from the front of *in and advances *in
// past it. Fails with kInternal ("Corrupt key encoding: ...") on truncated or malformed input
// or an unsupported type; never reads outside *in.
Result<AttributeValue> DecodeKeyValue(AttrType type, std::string_view* in);

}  // namespace cruddur::dynamo
