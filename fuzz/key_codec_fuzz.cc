// Fuzzes the storage key encoding (dynamo/model/key_codec.h). Keys come back from RocksDB, so
// DecodeKeyValue must reject garbage without reading outside its input. The first byte picks
// the key schema of a composite key (partition type, sort type or none); the rest is read as:
//   - a stored key: decode its components in order; each accepted component must be the
//     canonical encoding of the value returned (one value, one key) and consume only its bytes;
//   - raw values: the input split at the first 0xFE into two S/B values, which must round-trip
//     through EncodeKeyValue and whose encodings must sort as unsigned bytes do, also when
//     followed by more key components (the prefix-scan property).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dynamo/model/key_codec.h"

namespace {

using cruddur::dynamo::AttributeValue;
using cruddur::dynamo::AttrType;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

constexpr AttrType kKeyTypes[] = {AttrType::kS, AttrType::kN, AttrType::kB};

int Sign(int v) { return (v > 0) - (v < 0); }

// Decodes one component from the front of *in; on success it must have consumed exactly the
// canonical encoding of the value returned.
bool DecodeComponent(AttrType type, std::string_view* in) {
  const std::string_view before = *in;
  cruddur::Result<AttributeValue> value = cruddur::dynamo::DecodeKeyValue(type, in);
  if (!value.ok()) return false;
  Check(value->type == type);
  std::string reencoded;
  cruddur::dynamo::EncodeKeyValue(*value, &reencoded);
  Check(before.substr(0, before.size() - in->size()) == reencoded);
  return true;
}

void CheckValues(std::string_view a, std::string_view b, AttrType type, std::string_view suffix) {
  std::string ea, eb;
  cruddur::dynamo::EncodeKeyValue(
      type == AttrType::kS ? AttributeValue::S(std::string(a)) : AttributeValue::B(std::string(a)),
      &ea);
  cruddur::dynamo::EncodeKeyBytes(b, &eb);
  std::string_view in = ea;
  cruddur::Result<AttributeValue> decoded = cruddur::dynamo::DecodeKeyValue(type, &in);
  Check(decoded.ok() && decoded->str == a && in.empty());
  // memcmp order of the encodings, even with further components after them, is the unsigned
  // byte order of the values (std::string_view::compare compares as unsigned char).
  const int want = Sign(a.compare(b));
  Check(Sign(ea.compare(eb)) == want);
  Check(Sign((ea + std::string(suffix)).compare(eb)) == (want == 0 ? 1 : want));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t schema = data[0];
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const AttrType partition = kKeyTypes[schema % 3];
  const AttrType sort_type = kKeyTypes[(schema / 3) % 3];
  const bool has_sort = (schema / 9) % 2 == 1;
  std::string_view key = rest;
  if (DecodeComponent(partition, &key) && has_sort) DecodeComponent(sort_type, &key);

  // Unsupported key types are refused, never decoded.
  std::string_view in = rest;
  Check(!cruddur::dynamo::DecodeKeyValue(AttrType::kM, &in).ok());

  const size_t cut = rest.find('\xFE');
  if (cut != std::string_view::npos) {
    const std::string_view a = rest.substr(0, cut), b = rest.substr(cut + 1);
    CheckValues(a, b, partition == AttrType::kS ? AttrType::kS : AttrType::kB, "\x01z");
  }
  return 0;
}
