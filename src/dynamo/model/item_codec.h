// Compact binary encoding of a whole item, the value stored in RocksDB for each item.
//
// Format (version 2), all integers as LEB128 varints:
//   record := 0x02 size count (name value)*    ; names in the Item's (sorted) order
//   size   := ItemSize(item)                    ; DynamoDB's size, for pages and capacity
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
// The leading version byte lets a later format coexist with stored data. The size in the header
// lets a reader charge an item to a page without walking it.
//
// Three readers share one parser: DecodeItem builds an Item, VisitItem reports the values to an
// ItemVisitor without building one (e.g. to write JSON straight from the record), and
// EncodedItemSize reads only the header. They treat their input as untrusted (disk corruption,
// a bug elsewhere): every length and count is checked against the remaining bytes, nesting is
// bounded (64 levels), and any inconsistency - unknown version or tag, truncation, trailing
// bytes, a bad BOOL byte, an invalid number, names out of order - returns kInternal "Corrupt
// item record: ..." instead of crashing or over-reading. They do not re-validate DynamoDB rules
// (empty sets, duplicates) nor the stored size: what was encoded from a valid Item decodes to an
// equal Item.
//
// Thread-safety: pure functions; a visitor is called on the caller's thread only.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"
#include "dynamo/model/attribute_value.h"

namespace cruddur::dynamo {

// Appends the encoding of `item` to *out (does not clear it).
void EncodeItem(const Item& item, std::string* out);

// Decodes a whole record produced by EncodeItem; the input must be consumed exactly.
Result<Item> DecodeItem(std::string_view record);

// ItemSize of the item in `record`, from its header (O(1); the rest is not checked).
Result<size_t> EncodedItemSize(std::string_view record);

// Receives the contents of a record in order, as DecodeItem would build them. For the item and
// each M: Name(name) then that attribute's value, per attribute in name order. A value is one
// of String (S or B), Number (N), Bool, Null, or a container: BeginMap ... EndMap,
// BeginList(count) value* EndList, BeginSet(type, count) member* EndSet, where the members of
// an SS or BS set are String(kS or kB, bytes) and those of an NS are Number. The top-level item
// itself is not wrapped in BeginMap/EndMap. Views and references are valid only during the call.
class ItemVisitor {
 public:
  virtual ~ItemVisitor() = default;
  virtual void Name(std::string_view name) = 0;
  virtual void String(AttrType type, std::string_view bytes) = 0;  // type kS or kB
  virtual void Number(const Decimal& number) = 0;
  virtual void Bool(bool value) = 0;
  virtual void Null() = 0;
  virtual void BeginMap() = 0;
  virtual void EndMap() = 0;
  virtual void BeginList(size_t count) = 0;
  virtual void EndList() = 0;
  virtual void BeginSet(AttrType type, size_t count) = 0;  // type kSS, kNS or kBS
  virtual void EndSet() = 0;
};

// Walks `record` reporting to *visitor. On a corrupt record returns the error after having
// reported the part before the corruption (the visitor sees a prefix, never unchecked bytes).
Status VisitItem(std::string_view record, ItemVisitor* visitor);

}  // namespace cruddur::dynamo
