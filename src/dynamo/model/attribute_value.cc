#include "dynamo/model/attribute_value.h"

#include <algorithm>
#include <array>

namespace cruddur::dynamo {
namespace {

constexpr std::array<std::string_view, 10> kTypeNames = {"S", "N", "B",  "BOOL", "NULL",
                                                         "M", "L", "SS", "NS",   "BS"};

// Sets hold no duplicates (a wire-decoder invariant), so two sets are equal exactly when they
// have the same size and every member of one is in the other. Sorting copies of views keeps
// large sets O(n log n).
bool SameStringSet(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.size() != b.size()) return false;
  if (a.size() <= 8) {
    return std::all_of(a.begin(), a.end(), [&b](const std::string& s) {
      return std::find(b.begin(), b.end(), s) != b.end();
    });
  }
  std::vector<std::string_view> x(a.begin(), a.end()), y(b.begin(), b.end());
  std::sort(x.begin(), x.end());
  std::sort(y.begin(), y.end());
  return x == y;
}

bool SameNumberSet(const std::vector<Decimal>& a, const std::vector<Decimal>& b) {
  if (a.size() != b.size()) return false;
  if (a.size() <= 8) {
    return std::all_of(a.begin(), a.end(), [&b](const Decimal& d) {
      return std::find(b.begin(), b.end(), d) != b.end();
    });
  }
  std::vector<Decimal> x = a, y = b;
  std::sort(x.begin(), x.end());
  std::sort(y.begin(), y.end());
  return x == y;
}

// Bytes DynamoDB counts for a number (Developer Guide, "Item sizes and formats": "1 byte per
// two significant digits + 1 byte", leading and trailing zeros trimmed). The documented rule is
// approximate; we count base-100 digit pairs aligned at the decimal point (the digits a
// centesimal encoding stores), plus one byte of exponent, plus one for a negative sign. This
// gives 21 bytes at most for 38 digits, 2 for 27 and 3 for -27, as the guide's figures do.
size_t NumberSize(const Decimal& d) {
  if (d.is_zero()) return 1;
  const int lead = d.LeadExponent();  // position of the first significant digit
  const int last = d.exponent();      // position of the last significant digit
  // Pair index of a decimal position p: floor(p / 2).
  auto pair = [](int p) { return p >= 0 ? p / 2 : -((-p + 1) / 2); };
  size_t size = 1 + static_cast<size_t>(pair(lead) - pair(last) + 1);
  if (d.is_negative()) ++size;
  return size;
}

}  // namespace

std::string_view AttrTypeName(AttrType type) { return kTypeNames[static_cast<size_t>(type)]; }

std::string_view UpdateTypeName(AttrType type) {
  static constexpr std::array<std::string_view, 10> kUpdateTypeNames = {
      "STRING", "NUMBER", "BINARY",     "BOOLEAN",    "NULL",
      "MAP",    "LIST",   "STRING_SET", "NUMBER_SET", "BINARY_SET"};
  return kUpdateTypeNames[static_cast<size_t>(type)];
}

bool ParseAttrType(std::string_view name, AttrType* type) {
  for (size_t i = 0; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == name) {
      *type = static_cast<AttrType>(i);
      return true;
    }
  }
  return false;
}

AttributeValue AttributeValue::S(std::string v) {
  AttributeValue a;
  a.type = AttrType::kS;
  a.str = std::move(v);
  return a;
}
AttributeValue AttributeValue::N(Decimal v) {
  AttributeValue a;
  a.type = AttrType::kN;
  a.num = v;
  return a;
}
AttributeValue AttributeValue::B(std::string bytes) {
  AttributeValue a;
  a.type = AttrType::kB;
  a.str = std::move(bytes);
  return a;
}
AttributeValue AttributeValue::Bool(bool v) {
  AttributeValue a;
  a.type = AttrType::kBool;
  a.boolean = v;
  return a;
}
AttributeValue AttributeValue::Null() {
  AttributeValue a;
  a.type = AttrType::kNull;
  return a;
}
AttributeValue AttributeValue::M(AttributeMap v) {
  AttributeValue a;
  a.type = AttrType::kM;
  a.map = std::move(v);
  return a;
}
AttributeValue AttributeValue::L(AttributeList v) {
  AttributeValue a;
  a.type = AttrType::kL;
  a.list = std::move(v);
  return a;
}
AttributeValue AttributeValue::SS(std::vector<std::string> v) {
  AttributeValue a;
  a.type = AttrType::kSS;
  a.strs = std::move(v);
  return a;
}
AttributeValue AttributeValue::NS(std::vector<Decimal> v) {
  AttributeValue a;
  a.type = AttrType::kNS;
  a.nums = std::move(v);
  return a;
}
AttributeValue AttributeValue::BS(std::vector<std::string> v) {
  AttributeValue a;
  a.type = AttrType::kBS;
  a.strs = std::move(v);
  return a;
}

bool AttributeValue::operator==(const AttributeValue& other) const {
  if (type != other.type) return false;
  switch (type) {
    case AttrType::kS:
    case AttrType::kB:
      return str == other.str;
    case AttrType::kN:
      return num == other.num;
    case AttrType::kBool:
      return boolean == other.boolean;
    case AttrType::kNull:
      return true;
    case AttrType::kM:
      return map == other.map;
    case AttrType::kL:
      return list == other.list;
    case AttrType::kSS:
    case AttrType::kBS:
      return SameStringSet(strs, other.strs);
    case AttrType::kNS:
      return SameNumberSet(nums, other.nums);
  }
  return false;
}

size_t AttributeValueSize(const AttributeValue& value) {
  switch (value.type) {
    case AttrType::kS:
    case AttrType::kB:
      return value.str.size();
    case AttrType::kN:
      return NumberSize(value.num);
    case AttrType::kBool:
    case AttrType::kNull:
      return 1;
    case AttrType::kM: {
      size_t size = 3;
      for (const auto& [name, v] : value.map) size += 1 + name.size() + AttributeValueSize(v);
      return size;
    }
    case AttrType::kL: {
      size_t size = 3;
      for (const auto& v : value.list) size += 1 + AttributeValueSize(v);
      return size;
    }
    case AttrType::kSS:
    case AttrType::kBS: {
      size_t size = 0;
      for (const auto& s : value.strs) size += s.size();
      return size;
    }
    case AttrType::kNS: {
      size_t size = 0;
      for (const auto& d : value.nums) size += NumberSize(d);
      return size;
    }
  }
  return 0;
}

size_t ItemSize(const Item& item) {
  size_t size = 0;
  for (const auto& [name, v] : item) size += name.size() + AttributeValueSize(v);
  return size;
}

}  // namespace cruddur::dynamo
