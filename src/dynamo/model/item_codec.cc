// Item record codec (format in item_codec.h). Why this shape: it is on every read and write,
// so encoding is a single append pass with no intermediate allocations, and decoding moves
// strings straight out of the input with one bounds check per length. Numbers reuse the
// ordered key encoding: already compact (<= 22 bytes), self-delimiting and validated on decode.
#include "dynamo/model/item_codec.h"

#include <iterator>

namespace cruddur::dynamo {
namespace {

constexpr uint8_t kFormatVersion = 1;
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

  Status Bytes(std::string* s) {
    uint64_t len = 0;
    CRUDDUR_RETURN_IF_ERROR(Varint(&len));
    if (len > in_.size()) return Corrupt("length exceeds record");
    s->assign(in_.data(), len);
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

  static Status Corrupt(std::string_view what) {
    return InternalError("Corrupt item record: " + std::string(what));
  }

 private:
  std::string_view in_;
};

Status DecodeValue(Reader* r, int depth, AttributeValue* v);

Status DecodeMap(Reader* r, int depth, AttributeMap* map) {
  uint64_t n = 0;
  CRUDDUR_RETURN_IF_ERROR(r->Count(2, &n));  // name length + tag at least
  for (uint64_t i = 0; i < n; ++i) {
    std::string name;
    CRUDDUR_RETURN_IF_ERROR(r->Bytes(&name));
    AttributeValue value;
    CRUDDUR_RETURN_IF_ERROR(DecodeValue(r, depth, &value));
    // Encoded from a std::map, names arrive sorted: hinting at end() makes insertion O(1).
    auto it = map->emplace_hint(map->end(), std::move(name), std::move(value));
    if (std::next(it) != map->end()) return Reader::Corrupt("names out of order");
    if (map->size() != i + 1) return Reader::Corrupt("duplicate name");
  }
  return Status::Ok();
}

Status DecodeValue(Reader* r, int depth, AttributeValue* v) {
  if (depth > kMaxDecodeDepth) return Reader::Corrupt("nesting too deep");
  uint8_t tag = 0;
  CRUDDUR_RETURN_IF_ERROR(r->Byte(&tag));
  if (tag < 1 || tag > 1 + static_cast<uint8_t>(AttrType::kBS)) return Reader::Corrupt("bad tag");
  v->type = static_cast<AttrType>(tag - 1);
  uint64_t n = 0;
  switch (v->type) {
    case AttrType::kS:
    case AttrType::kB:
      return r->Bytes(&v->str);
    case AttrType::kN:
      return r->Number(&v->num);
    case AttrType::kBool: {
      uint8_t b = 0;
      CRUDDUR_RETURN_IF_ERROR(r->Byte(&b));
      if (b > 1) return Reader::Corrupt("bad BOOL");
      v->boolean = b == 1;
      return Status::Ok();
    }
    case AttrType::kNull:
      return Status::Ok();
    case AttrType::kM:
      return DecodeMap(r, depth + 1, &v->map);
    case AttrType::kL:
      CRUDDUR_RETURN_IF_ERROR(r->Count(1, &n));
      v->list.resize(n);
      for (auto& e : v->list) CRUDDUR_RETURN_IF_ERROR(DecodeValue(r, depth + 1, &e));
      return Status::Ok();
    case AttrType::kSS:
    case AttrType::kBS:
      CRUDDUR_RETURN_IF_ERROR(r->Count(1, &n));
      v->strs.resize(n);
      for (auto& s : v->strs) CRUDDUR_RETURN_IF_ERROR(r->Bytes(&s));
      return Status::Ok();
    case AttrType::kNS:
      CRUDDUR_RETURN_IF_ERROR(r->Count(1, &n));
      v->nums.resize(n);
      for (auto& d : v->nums) CRUDDUR_RETURN_IF_ERROR(r->Number(&d));
      return Status::Ok();
  }
  return Reader::Corrupt("bad tag");
}

}  // namespace

void EncodeItem(const Item& item, std::string* out) {
  out->push_back(static_cast<char>(kFormatVersion));
  EncodeMap(item, out);
}

Result<Item> DecodeItem(std::string_view bytes) {
  if (bytes.empty() || static_cast<uint8_t>(bytes[0]) != kFormatVersion) {
    return Reader::Corrupt("unknown format version");
  }
  Reader r(bytes.substr(1));
  Item item;
  CRUDDUR_RETURN_IF_ERROR(DecodeMap(&r, 0, &item));
  if (!r.empty()) return Reader::Corrupt("trailing bytes");
  return item;
}

}  // namespace cruddur::dynamo
