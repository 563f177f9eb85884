// Item record codec (format in item_codec.h). Why this shape: it is on every read and write,
// so encoding is a single append pass with no intermediate allocations. Reading is one parser,
// Walker<Sink>, instantiated for the Item builder and for ItemVisitor: the format's parsing and
// its corruption checks exist once, and the builder, a template argument rather than a virtual
// interface, stays as fast as a hand-written decoder (strings copied once, straight from the
// input into their place in the Item). Numbers reuse the ordered key encoding: already compact
// (<= 22 bytes), self-delimiting and validated on decode.
#include "dynamo/model/item_codec.h"

namespace cruddur::dynamo {
namespace {

constexpr uint8_t kFormatVersion = 2;
constexpr int kMaxDecodeDepth = 64;

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutBytes(std::string_view s, std::string* out) {
  PutVarint(s.size(), out);
  out->append(s);
}

void EncodeValue(const AttributeValue& v, std::string* out);

void EncodeMap(const AttributeMap& map, std::string* out) {
  PutVarint(map.size(), out);
  for (const auto& [name, value] : map) {
    PutBytes(name, out);
    EncodeValue(value, out);
  }
}

void EncodeValue(const AttributeValue& v, std::string* out) {
  out->push_back(static_cast<char>(1 + static_cast<uint8_t>(v.type)));
  switch (v.type) {
    case AttrType::kS:
    case AttrType::kB:
      PutBytes(v.str, out);
      break;
    case AttrType::kN:
      v.num.EncodeOrdered(out);
      break;
    case AttrType::kBool:
      out->push_back(v.boolean ? '\x01' : '\x00');
      break;
    case AttrType::kNull:
      break;
    case AttrType::kM:
      EncodeMap(v.map, out);
      break;
    case AttrType::kL:
      PutVarint(v.list.size(), out);
      for (const auto& e : v.list) EncodeValue(e, out);
      break;
    case AttrType::kSS:
    case AttrType::kBS:
      PutVarint(v.strs.size(), out);
      for (const auto& s : v.strs) PutBytes(s, out);
      break;
    case AttrType::kNS:
      PutVarint(v.nums.size(), out);
      for (const auto& d : v.nums) d.EncodeOrdered(out);
      break;
  }
}

Status Corrupt(std::string_view what) {
  return InternalError("Corrupt item record: " + std::string(what));
}

// Reads from a shrinking view; every accessor checks bounds.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool empty() const { return in_.empty(); }

  Status Varint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) return Corrupt("truncated varint");
      const uint8_t byte = static_cast<uint8_t>(in_[0]);
      in_.remove_prefix(1);
      result |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) {
        *v = result;
        return Status::Ok();
      }
    }
    return Corrupt("varint too long");
  }

  // A count of elements, each at least `min_bytes` long: bounded by what remains, so a corrupt
  // count cannot make us reserve huge memory.
  Status Count(size_t min_bytes, uint64_t* n) {
    CRUDDUR_RETURN_IF_ERROR(Varint(n));
    if (*n > in_.size() / min_bytes) return Corrupt("count exceeds record");
    return Status::Ok();
  }

  Status Bytes(std::string_view* s) {
    uint64_t len = 0;
    CRUDDUR_RETURN_IF_ERROR(Varint(&len));
    if (len > in_.size()) return Corrupt("length exceeds record");
    *s = in_.substr(0, len);
    in_.remove_prefix(len);
    return Status::Ok();
  }

  Status Byte(uint8_t* b) {
    if (in_.empty()) return Corrupt("truncated");
    *b = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return Status::Ok();
  }

  Status Number(Decimal* d) {
    auto r = Decimal::DecodeOrdered(&in_);
    if (!r.ok()) return Corrupt("bad number");
    *d = *r;
    return Status::Ok();
  }

 private:
  std::string_view in_;
};

// Reads the version byte and the size; leaves the reader at the item's attribute count.
Status ReadHeader(Reader* r, uint64_t* size) {
  uint8_t version = 0;
  if (!r->Byte(&version).ok() || version != kFormatVersion) {
    return Corrupt("unknown format version");
  }
  return r->Varint(size);
}

// The one parser. A Sink names the places values go to (Sink::Value, ::Map, ::List, ::Set,
// handles it defines) and fills them:
//   Value Entry(Map, std::string_view name)      ; the next attribute of a map (names sorted)
//   void String(Value, AttrType, std::string_view), Number(Value, const Decimal&), Bool(Value,
//     bool), Null(Value)
//   Map BeginMap(Value), void EndMap(Map)
//   List BeginList(Value, uint64_t n), Value Element(List, uint64_t index), void EndList(List)
//   Set BeginSet(Value, AttrType, uint64_t n), void SetString(Set, uint64_t index,
//     std::string_view), void SetNumber(Set, uint64_t index, const Decimal&), void EndSet(Set)
template <typename Sink>
class Walker {
 public:
  Walker(Reader* r, Sink* sink) : r_(r), sink_(sink) {}

  Status Map(int depth, typename Sink::Map map) {
    uint64_t n = 0;
    CRUDDUR_RETURN_IF_ERROR(r_->Count(2, &n));  // name length + tag at least
    std::string_view previous;
    for (uint64_t i = 0; i < n; ++i) {
      std::string_view name;
      CRUDDUR_RETURN_IF_ERROR(r_->Bytes(&name));
      // Encoded from a std::map: names strictly ascending (as unsigned bytes, std::string's
      // order), which also lets the builder append each one in O(1).
      if (i > 0 && !(previous < name)) {
        return Corrupt(previous == name ? "duplicate name" : "names out of order");
      }
      previous = name;
      CRUDDUR_RETURN_IF_ERROR(Value(depth, sink_->Entry(map, name)));
    }
    return Status::Ok();
  }

 private:
  Status Value(int depth, typename Sink::Value slot) {
    if (depth > kMaxDecodeDepth) return Corrupt("nesting too deep");
    uint8_t tag = 0;
    CRUDDUR_RETURN_IF_ERROR(r_->Byte(&tag));
    if (tag < 1 || tag > 1 + static_cast<uint8_t>(AttrType::kBS)) return Corrupt("bad tag");
    const auto type = static_cast<AttrType>(tag - 1);
    uint64_t n = 0;
    switch (type) {
      case AttrType::kS:
      case AttrType::kB: {
        std::string_view s;
        CRUDDUR_RETURN_IF_ERROR(r_->Bytes(&s));
        sink_->String(slot, type, s);
        return Status::Ok();
      }
      case AttrType::kN: {
        Decimal d;
        CRUDDUR_RETURN_IF_ERROR(r_->Number(&d));
        sink_->Number(slot, d);
        return Status::Ok();
      }
      case AttrType::kBool: {
        uint8_t b = 0;
        CRUDDUR_RETURN_IF_ERROR(r_->Byte(&b));
        if (b > 1) return Corrupt("bad BOOL");
        sink_->Bool(slot, b == 1);
        return Status::Ok();
      }
      case AttrType::kNull:
        sink_->Null(slot);
        return Status::Ok();
      case AttrType::kM: {
        auto map = sink_->BeginMap(slot);
        CRUDDUR_RETURN_IF_ERROR(Map(depth + 1, map));
        sink_->EndMap(map);
        return Status::Ok();
      }
      case AttrType::kL: {
        CRUDDUR_RETURN_IF_ERROR(r_->Count(1, &n));
        auto list = sink_->BeginList(slot, n);
        for (uint64_t i = 0; i < n; ++i) {
          CRUDDUR_RETURN_IF_ERROR(Value(depth + 1, sink_->Element(list, i)));
        }
        sink_->EndList(list);
        return Status::Ok();
      }
      case AttrType::kSS:
      case AttrType::kBS:
      case AttrType::kNS: {
        CRUDDUR_RETURN_IF_ERROR(r_->Count(1, &n));
        auto set = sink_->BeginSet(slot, type, n);
        for (uint64_t i = 0; i < n; ++i) {
          if (type == AttrType::kNS) {
            Decimal d;
            CRUDDUR_RETURN_IF_ERROR(r_->Number(&d));
            sink_->SetNumber(set, i, d);
          } else {
            std::string_view s;
            CRUDDUR_RETURN_IF_ERROR(r_->Bytes(&s));
            sink_->SetString(set, i, s);
          }
        }
        sink_->EndSet(set);
        return Status::Ok();
      }
    }
    return Corrupt("bad tag");
  }

  Reader* r_;
  Sink* sink_;
};

// Builds the Item in place: every value is decoded into its final slot.
struct ItemBuilder {
  using Value = AttributeValue*;
  using Map = AttributeMap*;
  using List = AttributeValue*;
  using Set = AttributeValue*;

  static AttributeValue* Entry(AttributeMap* map, std::string_view name) {
    // Names arrive sorted (checked by the walker): hinting at end() makes insertion O(1).
    return &map->emplace_hint(map->end(), std::string(name), AttributeValue())->second;
  }
  static void String(AttributeValue* v, AttrType type, std::string_view s) {
    v->type = type;
    v->str.assign(s);
  }
  static void Number(AttributeValue* v, const Decimal& d) {
    v->type = AttrType::kN;
    v->num = d;
  }
  static void Bool(AttributeValue* v, bool b) {
    v->type = AttrType::kBool;
    v->boolean = b;
  }
  static void Null(AttributeValue* v) { v->type = AttrType::kNull; }
  static AttributeMap* BeginMap(AttributeValue* v) {
    v->type = AttrType::kM;
    return &v->map;
  }
  static void EndMap(AttributeMap*) {}
  static AttributeValue* BeginList(AttributeValue* v, uint64_t n) {
    v->type = AttrType::kL;
    v->list.resize(n);
    return v;
  }
  static AttributeValue* Element(AttributeValue* list, uint64_t i) { return &list->list[i]; }
  static void EndList(AttributeValue*) {}
  static AttributeValue* BeginSet(AttributeValue* v, AttrType type, uint64_t n) {
    v->type = type;
    if (type == AttrType::kNS) {
      v->nums.resize(n);
    } else {
      v->strs.resize(n);
    }
    return v;
  }
  static void SetString(AttributeValue* set, uint64_t i, std::string_view s) {
    set->strs[i].assign(s);
  }
  static void SetNumber(AttributeValue* set, uint64_t i, const Decimal& d) { set->nums[i] = d; }
  static void EndSet(AttributeValue*) {}
};

// Forwards to an ItemVisitor.
class VisitorSink {
 public:
  struct None {};
  using Value = None;
  using Map = None;
  using List = None;
  using Set = None;

  explicit VisitorSink(ItemVisitor* v) : v_(v) {}

  None Entry(None, std::string_view name) {
    v_->Name(name);
    return {};
  }
  void String(None, AttrType type, std::string_view s) { v_->String(type, s); }
  void Number(None, const Decimal& d) { v_->Number(d); }
  void Bool(None, bool b) { v_->Bool(b); }
  void Null(None) { v_->Null(); }
  None BeginMap(None) {
    v_->BeginMap();
    return {};
  }
  void EndMap(None) { v_->EndMap(); }
  None BeginList(None, uint64_t n) {
    v_->BeginList(n);
    return {};
  }
  None Element(None, uint64_t) { return {}; }
  void EndList(None) { v_->EndList(); }
  None BeginSet(None, AttrType type, uint64_t n) {
    set_member_type_ = type == AttrType::kBS ? AttrType::kB : AttrType::kS;
    v_->BeginSet(type, n);
    return {};
  }
  void SetString(None, uint64_t, std::string_view s) { v_->String(set_member_type_, s); }
  void SetNumber(None, uint64_t, const Decimal& d) { v_->Number(d); }
  void EndSet(None) { v_->EndSet(); }

 private:
  ItemVisitor* v_;
  AttrType set_member_type_ = AttrType::kS;  // of the set being walked (sets do not nest)
};

}  // namespace

void EncodeItem(const Item& item, std::string* out) {
  out->push_back(static_cast<char>(kFormatVersion));
  PutVarint(ItemSize(item), out);
  EncodeMap(item, out);
}

Result<Item> DecodeItem(std::string_view record) {
  Reader r(record);
  uint64_t size = 0;
  CRUDDUR_RETURN_IF_ERROR(ReadHeader(&r, &size));
  Item item;
  ItemBuilder builder;
  CRUDDUR_RETURN_IF_ERROR(Walker<ItemBuilder>(&r, &builder).Map(0, &item));
  if (!r.empty()) return Corrupt("trailing bytes");
  return item;
}

Result<size_t> EncodedItemSize(std::string_view record) {
  Reader r(record);
  uint64_t size = 0;
  CRUDDUR_RETURN_IF_ERROR(ReadHeader(&r, &size));
  return static_cast<size_t>(size);
}

Status VisitItem(std::string_view record, ItemVisitor* visitor) {
  Reader r(record);
  uint64_t size = 0;
  CRUDDUR_RETURN_IF_ERROR(ReadHeader(&r, &size));
  VisitorSink sink(visitor);
  CRUDDUR_RETURN_IF_ERROR(Walker<VisitorSink>(&r, &sink).Map(0, {}));
  if (!r.empty()) return Corrupt("trailing bytes");
  return Status::Ok();
}

}  // namespace cruddur::dynamo
