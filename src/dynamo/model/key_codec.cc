// Key component encoding. Why this format: DynamoDB orders S sort keys by their UTF-8 bytes and
// B sort keys as unsigned bytes (Developer Guide, "Query": "sorted by sort key value ... by the
// underlying UTF-8 / binary bytes"), and N numerically. Escaping 0x00 keeps the terminator
// unambiguous while preserving byte order: a value that ends sorts before any extension of it,
// because the terminator's second byte (0x01) is below the escape's (0xFF) and every real byte
// other than 0x00 is compared directly.
#include "dynamo/model/key_codec.h"

#include <cstring>

namespace cruddur::dynamo {

void EncodeKeyBytes(std::string_view bytes, std::string* out) {
  out->reserve(out->size() + bytes.size() + 2);
  size_t start = 0;
  while (true) {
    const void* hit = std::memchr(bytes.data() + start, 0, bytes.size() - start);
    if (hit == nullptr) break;
    const size_t pos = static_cast<size_t>(static_cast<const char*>(hit) - bytes.data());
    out->append(bytes.data() + start, pos - start);
    out->push_back('\x00');
    out->push_back('\xFF');
    start = pos + 1;
  }
  out->append(bytes.data() + start, bytes.size() - start);
  out->push_back('\x00');
  out->push_back('\x01');
}

void EncodeKeyValue(const AttributeValue& v, std::string* out) {
  switch (v.type) {
    case AttrType::kS:
    case AttrType::kB:
      EncodeKeyBytes(v.str, out);
      return;
    case AttrType::kN:
      v.num.EncodeOrdered(out);
      return;
    default:
      return;  // not a key type; see the header's precondition
  }
}

static Result<std::string> DecodeKeyBytes(std::string_view* in) {
  std::string bytes;
  size_t pos = 0;
  while (true) {
    const void* hit = std::memchr(in->data() + pos, 0, in->size() - pos);
    if (hit == nullptr) return InternalError("Corrupt key encoding: unterminated string");
    const size_t zero = static_cast<size_t>(static_cast<const char*>(hit) - in->data());
    bytes.append(in->data() + pos, zero - pos);
    if (zero + 1 >= in->size()) return InternalError("Corrupt key encoding: truncated escape");
    const char next = (*in)[zero + 1];
    if (next == '\x01') {
      in->remove_prefix(zero + 2);
      return bytes;
    }
    if (next != '\xFF') return InternalError("Corrupt key encoding: bad escape");
    bytes.push_back('\x00');
    pos = zero + 2;
  }
}

Result<AttributeValue> DecodeKeyValue(AttrType type, std::string_view* in) {
  switch (type) {
    case AttrType::kS:
    case AttrType::kB: {
      CRUDDUR_ASSIGN_OR_RETURN(std::string bytes, DecodeKeyBytes(in));
      return type == AttrType::kS ? AttributeValue::S(std::move(bytes))
                                  : AttributeValue::B(std::move(bytes));
    }
    case AttrType::kN: {
      CRUDDUR_ASSIGN_OR_RETURN(Decimal d, Decimal::DecodeOrdered(in));
      return AttributeValue::N(d);
    }
    default:
      return InternalError("Corrupt key encoding: unsupported key type");
  }
}

}  // namespace cruddur::dynamo
