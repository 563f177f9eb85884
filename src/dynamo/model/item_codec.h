// Compact binary encoding of a whole item, the value stored in RocksDB for each item.
//
// Format (version 1), all integers as LEB128 varints:
//   item   := 0x01 count (name value)*          ; names in the Item's (sorted) order
//   name   := len bytes
//   value  := tag payload                       ; tag = 1 + AttrType
//     S, B       : len bytes
//     N          : Decimal::EncodeOrdered bytes (self-delimiting)
//     BOOL       : 0x00 | 0x01
//     NULL       : (nothing)
//     M          : count (name value)*
//     L          : count value*
//     SS, BS     : count (len bytes)*
//     NS         : count (Decimal::EncodeOrdered)*
// The leading version byte lets a later format coexist with stored data.
//
// DecodeItem treats its input as untrusted (disk corruption, a bug elsewhere): every length
// and count is checked against the remaining bytes, nesting is bounded (64 levels), and any
// inconsistency - unknown version or tag, truncation, trailing bytes, a bad BOOL byte, an
// invalid number - returns kInternal "Corrupt item record: ..." instead of crashing or
// over-reading. It does not re-validate DynamoDB rules (empty sets, duplicates): what was
// encoded from a valid Item decodes to an equal Item.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "dynamo/model/attribute_value.h"

namespace cruddur::dynamo {

// Appends the encoding of `item` to *out (does not clear it).
void EncodeItem(const Item& item, std::string* out);

// Decodes a whole record produced by EncodeItem; the input must be consumed exactly.
Result<Item> DecodeItem(std::string_view bytes);

}  // namespace cruddur::dynamo
