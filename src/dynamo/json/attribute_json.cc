// DynamoDB wire codec for AttributeValues. Texts and check order follow what DynamoDB answers
// (API Reference, "AttributeValue"; Developer Guide, "Supported data types": sets are non-empty
// and hold unique values, numbers compared numerically; "Nested attribute depth": 32 levels).
// Serialization errors (the JSON does not have the shape of the model) are found in the same
// pass when they come first; when a validation error is found first, the whole input is
// re-scanned for shape errors before answering, because DynamoDB deserializes the full request
// before validating any of it. That re-scan only happens on the error path.
#include "dynamo/json/attribute_json.h"

#include <algorithm>
#include <array>

#include "dynamo/model/item_codec.h"

namespace cruddur::dynamo {
namespace {

constexpr char kEmptyValue[] =
    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes";
constexpr char kMultipleTypes[] =
    "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the "
    "supported datatypes";
constexpr char kInvalidPrefix[] = "One or more parameter values were invalid: ";
constexpr char kNotANumber[] = "A value provided cannot be converted into a number";
constexpr char kNullInList[] = "The supplied Item contains a null AttributeValue";
constexpr char kItemTooDeep[] =
    "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels "
    "beyond supported limit";
constexpr char kValueTooDeep[] = "Nesting Levels have exceeded supported limits";

Status Invalid(std::string_view what) {
  return ValidationError(std::string(kInvalidPrefix) + std::string(what));
}

// ---- Serialization (shape) errors -------------------------------------------------------

std::string_view TokenName(const json::Value& v) {
  if (v.IsNumber()) return "NUMBER_VALUE";
  if (v.IsTrue()) return "TRUE_VALUE";
  if (v.IsFalse()) return "FALSE_VALUE";
  if (v.IsString()) return "STRING_VALUE";
  return "NULL_VALUE";
}

// `v` is not of the scalar kind expected ("String" or "Boolean").
Status WrongScalar(const json::Value& v, std::string_view expected) {
  if (v.IsObject())
    return SerializationError("Start of structure or map found where not expected.");
  if (v.IsArray()) return SerializationError("Start of list found where not expected");
  return SerializationError(std::string(TokenName(v)) + " cannot be converted to " +
                            std::string(expected));
}

Status WrongContainer() { return SerializationError("Unexpected value type in payload"); }

// ---- Base64 ---------------------------------------------------------------------------

constexpr char kB64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> MakeB64Table() {
  std::array<int8_t, 256> t{};
  for (auto& x : t) x = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<uint8_t>(kB64Alphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr std::array<int8_t, 256> kB64Table = MakeB64Table();

Status Base64DecodeInto(std::string_view text, std::string* out) {
  if (text.size() % 4 != 0) {
    return SerializationError(
        "Base64 encoded length is expected a multiple of 4 bytes but found: " +
        std::to_string(text.size()));
  }
  size_t pad = 0;
  if (!text.empty() && text.back() == '=')
    pad = text.size() >= 2 && text[text.size() - 2] == '=' ? 2 : 1;
  const size_t body = text.size() - pad;
  out->clear();
  out->reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < body; ++i) {
    const int8_t d = kB64Table[static_cast<uint8_t>(text[i])];
    if (d < 0) {
      if (text[i] == '=') return SerializationError("Invalid Base64 padding");
      return SerializationError(std::string("Invalid Base64 character: '") + text[i] + "'");
    }
    acc = (acc << 6) | static_cast<uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  // One padding '=' leaves 18 bits (2 bytes), two leave 12 bits (1 byte); both are already
  // emitted above. A whole quantum of padding ("====") is not valid.
  if (pad > 0 && body % 4 < 2) return SerializationError("Invalid Base64 padding");
  return Status::Ok();
}

// ---- Decoding ---------------------------------------------------------------------------

class Decoder {
 public:
  // `item_context`: errors are reported as for an item (depth text).
  explicit Decoder(bool item_context) : item_context_(item_context) {}

  Status Value(const json::Value& v, int parent_level, AttributeValue* out);
  Status Map(const json::Value& v, int level, AttributeMap* out);

 private:
  Status Member(AttrType type, const json::Value& m, int level, AttributeValue* out);
  Status StringSet(const json::Value& m, AttrType type, std::vector<std::string>* out);
  Status NumberSet(const json::Value& m, std::vector<Decimal>* out);
  Status String(const json::Value& m, std::string* out) {
    if (!m.IsString()) return WrongScalar(m, "String");
    out->assign(m.GetString(), m.GetStringLength());
    return Status::Ok();
  }

  bool item_context_;
};

Status Decoder::Value(const json::Value& v, int parent_level, AttributeValue* out) {
  if (!v.IsObject()) return WrongContainer();
  int found = 0;
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    AttrType type;
    if (it->value.IsNull()) continue;
    if (!ParseAttrType(std::string_view(it->name.GetString(), it->name.GetStringLength()), &type)) {
      continue;  // unknown members are ignored by the JSON protocol
    }
    ++found;
    if (found == 1) {
      CRUDDUR_RETURN_IF_ERROR(Member(type, it->value, parent_level + 1, out));
    } else {
      // Still validate the member (DynamoDB reports its errors first), into a scratch value.
      AttributeValue scratch;
      CRUDDUR_RETURN_IF_ERROR(Member(type, it->value, parent_level + 1, &scratch));
    }
  }
  if (found == 0) return ValidationError(kEmptyValue);
  if (found > 1) return ValidationError(kMultipleTypes);
  return Status::Ok();
}

Status Decoder::Member(AttrType type, const json::Value& m, int level, AttributeValue* out) {
  out->type = type;
  switch (type) {
    case AttrType::kS:
      return String(m, &out->str);
    case AttrType::kB: {
      if (!m.IsString()) return WrongScalar(m, "String");
      return Base64DecodeInto(std::string_view(m.GetString(), m.GetStringLength()), &out->str);
    }
    case AttrType::kN: {
      if (!m.IsString()) return WrongScalar(m, "String");
      auto d = Decimal::Parse(std::string_view(m.GetString(), m.GetStringLength()));
      if (!d.ok()) return d.TakeStatus();
      out->num = *d;
      return Status::Ok();
    }
    case AttrType::kBool:
      if (!m.IsBool()) return WrongScalar(m, "Boolean");
      out->boolean = m.GetBool();
      return Status::Ok();
    case AttrType::kNull:
      if (!m.IsBool()) return WrongScalar(m, "Boolean");
      if (!m.GetBool()) return Invalid("Null attribute value types must have the value of true");
      return Status::Ok();
    case AttrType::kM:
      if (!m.IsObject()) return m.IsArray() ? WrongScalar(m, "") : WrongContainer();
      if (level > kMaxAttributeDepth) {
        return ValidationError(item_context_ ? kItemTooDeep : kValueTooDeep);
      }
      return Map(m, level, &out->map);
    case AttrType::kL: {
      if (!m.IsArray()) return m.IsObject() ? WrongScalar(m, "") : WrongContainer();
      if (level > kMaxAttributeDepth) {
        return ValidationError(item_context_ ? kItemTooDeep : kValueTooDeep);
      }
      out->list.resize(m.Size());
      for (rapidjson::SizeType i = 0; i < m.Size(); ++i) {
        if (m[i].IsNull()) return ValidationError(kNullInList);
        CRUDDUR_RETURN_IF_ERROR(Value(m[i], level, &out->list[i]));
      }
      return Status::Ok();
    }
    case AttrType::kSS:
    case AttrType::kBS:
      return StringSet(m, type, &out->strs);
    case AttrType::kNS:
      return NumberSet(m, &out->nums);
  }
  return WrongContainer();
}

Status Decoder::Map(const json::Value& v, int level, AttributeMap* out) {
  if (!v.IsObject()) return v.IsArray() ? WrongScalar(v, "") : WrongContainer();
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    std::string name(it->name.GetString(), it->name.GetStringLength());
    if (name.empty()) return ValidationError("Empty attribute name");
    if (it->value.IsNull()) {
      return ValidationError(std::string(kNullInList) + ": " + name + " is null");
    }
    AttributeValue value;
    CRUDDUR_RETURN_IF_ERROR(Value(it->value, level, &value));
    // A repeated JSON key keeps the last value, as a JSON object deserializer does.
    out->insert_or_assign(std::move(name), std::move(value));
  }
  return Status::Ok();
}

// True when two of the first `count` values are equivalent under `less`: pairwise for tiny
// sets, else by sorting pointers (O(n log n), no copies).
template <typename T, typename Less>
bool HasDuplicate(const std::vector<T>& values, size_t count, Less less) {
  if (count < 2) return false;
  if (count <= 8) {
    for (size_t i = 0; i < count; ++i) {
      for (size_t j = i + 1; j < count; ++j) {
        if (!less(values[i], values[j]) && !less(values[j], values[i])) return true;
      }
    }
    return false;
  }
  std::vector<const T*> ptrs(count);
  for (size_t i = 0; i < count; ++i) ptrs[i] = &values[i];
  std::sort(ptrs.begin(), ptrs.end(), [&](const T* a, const T* b) { return less(*a, *b); });
  for (size_t i = 1; i < count; ++i) {
    if (!less(*ptrs[i - 1], *ptrs[i])) return true;
  }
  return false;
}

Status Decoder::StringSet(const json::Value& m, AttrType type, std::vector<std::string>* out) {
  if (!m.IsArray()) return m.IsObject() ? WrongScalar(m, "") : WrongContainer();
  const bool binary = type == AttrType::kBS;
  if (m.Empty())
    return Invalid(binary ? "Binary sets should not be empty" : "An string set  may not be empty");
  out->resize(m.Size());
  for (rapidjson::SizeType i = 0; i < m.Size(); ++i) {
    const json::Value& e = m[i];
    if (e.IsNull()) {
      return Invalid(binary ? "An binary set may not have a null binary as a member"
                            : "An string set may not have a null string as a member");
    }
    if (!e.IsString()) return WrongScalar(e, "String");
    std::string_view text(e.GetString(), e.GetStringLength());
    if (binary) {
      CRUDDUR_RETURN_IF_ERROR(Base64DecodeInto(text, &(*out)[i]));
    } else {
      (*out)[i].assign(text);
    }
  }
  if (HasDuplicate(*out, out->size(), std::less<std::string>())) {
    if (binary) return Invalid("Input collection of type BS contains duplicates.");
    std::string listing = "Input collection [";
    for (size_t i = 0; i < out->size(); ++i) {
      if (i > 0) listing += ", ";
      listing += (*out)[i];
    }
    listing += "] contains duplicates";
    return Invalid(listing);
  }
  return Status::Ok();
}

Status Decoder::NumberSet(const json::Value& m, std::vector<Decimal>* out) {
  if (!m.IsArray()) return m.IsObject() ? WrongScalar(m, "") : WrongContainer();
  if (m.Empty()) return Invalid("An number set  may not be empty");
  out->resize(m.Size());
  // DynamoDB checks for duplicates as it parses, so a duplicate before the first bad number
  // wins over that number's error.
  Status parse_error;
  size_t parsed = 0;
  for (rapidjson::SizeType i = 0; i < m.Size() && parse_error.ok(); ++i) {
    const json::Value& e = m[i];
    if (e.IsNull()) {
      parse_error = ValidationError(kNotANumber);
      break;
    }
    if (!e.IsString()) return WrongScalar(e, "String");
    auto d = Decimal::Parse(std::string_view(e.GetString(), e.GetStringLength()));
    if (!d.ok()) {
      parse_error = d.TakeStatus();
      break;
    }
    (*out)[i] = *d;
    ++parsed;
  }
  if (HasDuplicate(*out, parsed, std::less<Decimal>())) {
    return ValidationError("Input collection contains duplicates");
  }
  return parse_error;
}

// Shape check over a whole AttributeValue / map, used only after a validation error to find
// any serialization error that DynamoDB would have reported first.
Status CheckShape(const json::Value& v, bool is_map);

Status CheckMemberShape(AttrType type, const json::Value& m) {
  std::string scratch;
  switch (type) {
    case AttrType::kS:
    case AttrType::kN:
      return m.IsString() ? Status::Ok() : WrongScalar(m, "String");
    case AttrType::kB:
      if (!m.IsString()) return WrongScalar(m, "String");
      return Base64DecodeInto(std::string_view(m.GetString(), m.GetStringLength()), &scratch);
    case AttrType::kBool:
    case AttrType::kNull:
      return m.IsBool() ? Status::Ok() : WrongScalar(m, "Boolean");
    case AttrType::kM:
      return CheckShape(m, /*is_map=*/true);
    case AttrType::kL:
      if (!m.IsArray()) return m.IsObject() ? WrongScalar(m, "") : WrongContainer();
      for (const auto& e : m.GetArray()) {
        if (!e.IsNull()) CRUDDUR_RETURN_IF_ERROR(CheckShape(e, /*is_map=*/false));
      }
      return Status::Ok();
    case AttrType::kSS:
    case AttrType::kNS:
    case AttrType::kBS:
      if (!m.IsArray()) return m.IsObject() ? WrongScalar(m, "") : WrongContainer();
      for (const auto& e : m.GetArray()) {
        if (e.IsNull()) continue;
        if (!e.IsString()) return WrongScalar(e, "String");
        if (type == AttrType::kBS) {
          CRUDDUR_RETURN_IF_ERROR(
              Base64DecodeInto(std::string_view(e.GetString(), e.GetStringLength()), &scratch));
        }
      }
      return Status::Ok();
  }
  return Status::Ok();
}

Status CheckShape(const json::Value& v, bool is_map) {
  if (!v.IsObject()) return v.IsArray() && is_map ? WrongScalar(v, "") : WrongContainer();
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    if (it->value.IsNull()) continue;
    if (is_map) {
      CRUDDUR_RETURN_IF_ERROR(CheckShape(it->value, /*is_map=*/false));
      continue;
    }
    AttrType type;
    if (!ParseAttrType(std::string_view(it->name.GetString(), it->name.GetStringLength()), &type)) {
      continue;
    }
    CRUDDUR_RETURN_IF_ERROR(CheckMemberShape(type, it->value));
  }
  return Status::Ok();
}

// Prefers a serialization error anywhere in `root` over the validation error `st`.
Status PreferShapeError(Status st, const json::Value& root, bool is_map) {
  if (st.ok() || st.code() == ErrorCode::kSerialization) return st;
  Status shape = CheckShape(root, is_map);
  return shape.ok() ? st : shape;
}

// ---- Encoding ---------------------------------------------------------------------------

void WriteString(std::string_view s, json::Writer* w) {
  w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void WriteKey(std::string_view s, json::Writer* w) {
  w->Key(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void WriteBase64(std::string_view bytes, json::Writer* w, std::string* scratch) {
  scratch->clear();
  scratch->reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) |
                       (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    scratch->push_back(kB64Alphabet[(n >> 18) & 63]);
    scratch->push_back(kB64Alphabet[(n >> 12) & 63]);
    scratch->push_back(kB64Alphabet[(n >> 6) & 63]);
    scratch->push_back(kB64Alphabet[n & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 16;
    if (rest == 2) n |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 8;
    scratch->push_back(kB64Alphabet[(n >> 18) & 63]);
    scratch->push_back(kB64Alphabet[(n >> 12) & 63]);
    scratch->push_back(rest == 2 ? kB64Alphabet[(n >> 6) & 63] : '=');
    scratch->push_back('=');
  }
  if (w != nullptr) WriteString(*scratch, w);
}

void WriteValue(const AttributeValue& v, json::Writer* w, std::string* scratch) {
  w->StartObject();
  WriteKey(AttrTypeName(v.type), w);
  switch (v.type) {
    case AttrType::kS:
      WriteString(v.str, w);
      break;
    case AttrType::kB:
      WriteBase64(v.str, w, scratch);
      break;
    case AttrType::kN:
      WriteString(v.num.ToString(), w);
      break;
    case AttrType::kBool:
      w->Bool(v.boolean);
      break;
    case AttrType::kNull:
      w->Bool(true);
      break;
    case AttrType::kM:
      w->StartObject();
      for (const auto& [name, e] : v.map) {
        WriteKey(name, w);
        WriteValue(e, w, scratch);
      }
      w->EndObject();
      break;
    case AttrType::kL:
      w->StartArray();
      for (const auto& e : v.list) WriteValue(e, w, scratch);
      w->EndArray();
      break;
    case AttrType::kSS:
      w->StartArray();
      for (const auto& s : v.strs) WriteString(s, w);
      w->EndArray();
      break;
    case AttrType::kBS:
      w->StartArray();
      for (const auto& s : v.strs) WriteBase64(s, w, scratch);
      w->EndArray();
      break;
    case AttrType::kNS:
      w->StartArray();
      for (const auto& d : v.nums) WriteString(d.ToString(), w);
      w->EndArray();
      break;
  }
  w->EndObject();
}

// WriteValue's output, driven by a record walk instead of an AttributeValue.
class EncodedItemWriter : public ItemVisitor {
 public:
  explicit EncodedItemWriter(json::Writer* w) : w_(w) {}

  void Name(std::string_view name) override { WriteKey(name, w_); }
  void String(AttrType type, std::string_view bytes) override {
    if (!in_set_) Open(type);
    if (type == AttrType::kB) {
      WriteBase64(bytes, w_, &scratch_);
    } else {
      WriteString(bytes, w_);
    }
    if (!in_set_) w_->EndObject();
  }
  void Number(const Decimal& number) override {
    if (!in_set_) Open(AttrType::kN);
    WriteString(number.ToString(), w_);
    if (!in_set_) w_->EndObject();
  }
  void Bool(bool value) override {
    Open(AttrType::kBool);
    w_->Bool(value);
    w_->EndObject();
  }
  void Null() override {
    Open(AttrType::kNull);
    w_->Bool(true);
    w_->EndObject();
  }
  void BeginMap() override {
    Open(AttrType::kM);
    w_->StartObject();
  }
  void EndMap() override {
    w_->EndObject();
    w_->EndObject();
  }
  void BeginList(size_t) override {
    Open(AttrType::kL);
    w_->StartArray();
  }
  void EndList() override {
    w_->EndArray();
    w_->EndObject();
  }
  void BeginSet(AttrType type, size_t) override {
    Open(type);
    w_->StartArray();
    in_set_ = true;
  }
  void EndSet() override {
    in_set_ = false;
    w_->EndArray();
    w_->EndObject();
  }

 private:
  // Starts an AttributeValue object: {"<type>":
  void Open(AttrType type) {
    w_->StartObject();
    WriteKey(AttrTypeName(type), w_);
  }

  json::Writer* w_;
  std::string scratch_;
  bool in_set_ = false;  // sets hold bare strings and do not nest
};

}  // namespace

Result<AttributeValue> DecodeAttributeValue(const json::Value& v) {
  AttributeValue out;
  Status st = Decoder(/*item_context=*/false).Value(v, /*parent_level=*/1, &out);
  if (!st.ok()) return PreferShapeError(std::move(st), v, /*is_map=*/false);
  return out;
}

Result<Item> DecodeItem(const json::Value& v) {
  Item out;
  Status st = Decoder(/*item_context=*/true).Map(v, /*level=*/1, &out);
  if (!st.ok()) return PreferShapeError(std::move(st), v, /*is_map=*/true);
  return out;
}

void WriteAttributeValue(const AttributeValue& v, json::Writer* w) {
  std::string scratch;
  WriteValue(v, w, &scratch);
}

void WriteItem(const Item& item, json::Writer* w) {
  std::string scratch;
  w->StartObject();
  for (const auto& [name, v] : item) {
    WriteKey(name, w);
    WriteValue(v, w, &scratch);
  }
  w->EndObject();
}

Status WriteEncodedItem(std::string_view record, json::Writer* w) {
  EncodedItemWriter writer(w);
  w->StartObject();
  CRUDDUR_RETURN_IF_ERROR(VisitItem(record, &writer));
  w->EndObject();
  return Status::Ok();
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  WriteBase64(bytes, nullptr, &out);
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  std::string out;
  CRUDDUR_RETURN_IF_ERROR(Base64DecodeInto(text, &out));
  return out;
}

}  // namespace cruddur::dynamo
