#include "dynamo/json/attribute_json.h"

#include <gtest/gtest.h>

#include <random>

#include "dynamo/model/item_codec.h"

namespace cruddur::dynamo {
namespace {

// Decodes `text` as one AttributeValue; returns "<ErrorName>: <message>" or "ok".
std::string DecodeValueError(std::string_view text) {
  json::Document doc;
  Status st = json::Parse(text, &doc);
  EXPECT_TRUE(st.ok()) << text;
  auto r = DecodeAttributeValue(doc);
  return r.ok() ? "ok" : r.status().ToString();
}

std::string DecodeItemError(std::string_view text) {
  json::Document doc;
  EXPECT_TRUE(json::Parse(text, &doc).ok()) << text;
  auto r = DecodeItem(doc);
  return r.ok() ? "ok" : r.status().ToString();
}

AttributeValue DecodeValueOk(std::string_view text) {
  json::Document doc;
  EXPECT_TRUE(json::Parse(text, &doc).ok()) << text;
  auto r = DecodeAttributeValue(doc);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : AttributeValue();
}

std::string WriteValue(const AttributeValue& v) {
  json::StringBuffer buf;
  json::Writer w(buf);
  WriteAttributeValue(v, &w);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string Nested(int levels, const char* container) {
  std::string s = R"({"S":"x"})";
  for (int i = 0; i < levels; ++i) {
    s = std::string(container) == "L" ? R"({"L":[)" + s + "]}" : R"({"M":{"a":)" + s + "}}";
  }
  return s;
}

constexpr char kV[] = "ValidationException: ";
constexpr char kSer[] = "SerializationException: ";

std::string V(std::string_view m) { return kV + std::string(m); }
std::string Ser(std::string_view m) { return kSer + std::string(m); }

TEST(AttributeJsonTest, DecodesEveryType) {
  EXPECT_EQ(DecodeValueOk(R"({"S":"héllo"})"), AttributeValue::S("héllo"));
  EXPECT_EQ(DecodeValueOk(R"({"S":""})"), AttributeValue::S(""));
  EXPECT_EQ(DecodeValueOk(R"({"N":"1.50"})"), AttributeValue::N(*Decimal::Parse("1.5")));
  EXPECT_EQ(DecodeValueOk(R"({"B":"AAH/"})"), AttributeValue::B(std::string("\x00\x01\xFF", 3)));
  EXPECT_EQ(DecodeValueOk(R"({"B":""})"), AttributeValue::B(""));
  EXPECT_EQ(DecodeValueOk(R"({"BOOL":false})"), AttributeValue::Bool(false));
  EXPECT_EQ(DecodeValueOk(R"({"NULL":true})"), AttributeValue::Null());
  EXPECT_EQ(DecodeValueOk(R"({"M":{}})"), AttributeValue::M({}));
  EXPECT_EQ(DecodeValueOk(R"({"L":[]})"), AttributeValue::L({}));
  EXPECT_EQ(DecodeValueOk(R"({"SS":["a","b"]})"), AttributeValue::SS({"b", "a"}));
  EXPECT_EQ(DecodeValueOk(R"({"NS":["1","2.5"]})"),
            AttributeValue::NS({*Decimal::Parse("2.5"), Decimal::FromInt(1)}));
  EXPECT_EQ(DecodeValueOk(R"({"BS":["YQ==","Yg=="]})"), AttributeValue::BS({"a", "b"}));
  EXPECT_EQ(DecodeValueOk(R"({"L":[{"S":"a"},{"M":{"k":{"N":"-0"}}}]})"),
            AttributeValue::L({AttributeValue::S("a"),
                               AttributeValue::M({{"k", AttributeValue::N(Decimal())}})}));
  // Unknown members and null members are ignored.
  EXPECT_EQ(DecodeValueOk(R"({"Q":"1","S":"a"})"), AttributeValue::S("a"));
  EXPECT_EQ(DecodeValueOk(R"({"B":"YQ==","S":null})"), AttributeValue::B("a"));
  // Unused trailing bits are tolerated, as DynamoDB does.
  EXPECT_EQ(DecodeValueOk(R"({"B":"YR=="})"), AttributeValue::B("a"));
}

TEST(AttributeJsonTest, ValidationErrors) {
  const std::string empty =
      V("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
  EXPECT_EQ(DecodeValueError("{}"), empty);
  EXPECT_EQ(DecodeValueError(R"({"Q":"1"})"), empty);
  EXPECT_EQ(DecodeValueError(R"({"S":null})"), empty);
  EXPECT_EQ(DecodeValueError(R"({"BOOL":null})"), empty);
  EXPECT_EQ(DecodeValueError(R"({"S":"a","N":"1"})"),
            V("Supplied AttributeValue has more than one datatypes set, must contain exactly one "
              "of the supported datatypes"));
  EXPECT_EQ(DecodeValueError(R"({"NULL":true,"BOOL":false})"),
            V("Supplied AttributeValue has more than one datatypes set, must contain exactly one "
              "of the supported datatypes"));
  EXPECT_EQ(DecodeValueError(R"({"N":"abc"})"),
            V("A value provided cannot be converted into a number"));
  EXPECT_EQ(DecodeValueError(R"({"N":"1e126"})"),
            V("Number overflow. Attempting to store a number with magnitude larger than "
              "supported range"));
  EXPECT_EQ(DecodeValueError(R"({"N":"123456789012345678901234567890123456789"})"),
            V("DynamoDB only supports precision up to 38 digits"));
  EXPECT_EQ(DecodeValueError(R"({"SS":[]})"),
            V("One or more parameter values were invalid: An string set  may not be empty"));
  EXPECT_EQ(DecodeValueError(R"({"NS":[]})"),
            V("One or more parameter values were invalid: An number set  may not be empty"));
  EXPECT_EQ(DecodeValueError(R"({"BS":[]})"),
            V("One or more parameter values were invalid: Binary sets should not be empty"));
  // A member's own error comes before the "more than one datatypes" check.
  EXPECT_EQ(DecodeValueError(R"({"SS":[],"N":"1"})"),
            V("One or more parameter values were invalid: An string set  may not be empty"));
  EXPECT_EQ(DecodeValueError(R"({"SS":["a","b","a"]})"),
            V("One or more parameter values were invalid: Input collection [a, b, a] contains "
              "duplicates"));
  EXPECT_EQ(DecodeValueError(R"({"NS":["1","1.0"]})"), V("Input collection contains duplicates"));
  EXPECT_EQ(DecodeValueError(R"({"NS":["1","1","x"]})"), V("Input collection contains duplicates"));
  EXPECT_EQ(DecodeValueError(R"({"NS":["1","x","1"]})"),
            V("A value provided cannot be converted into a number"));
  EXPECT_EQ(DecodeValueError(R"({"NS":[null]})"),
            V("A value provided cannot be converted into a number"));
  EXPECT_EQ(DecodeValueError(R"({"BS":["YQ==","YQ=="]})"),
            V("One or more parameter values were invalid: Input collection of type BS contains "
              "duplicates."));
  EXPECT_EQ(DecodeValueError(R"({"SS":[null]})"),
            V("One or more parameter values were invalid: An string set may not have a null "
              "string as a member"));
  EXPECT_EQ(DecodeValueError(R"({"NULL":false})"),
            V("One or more parameter values were invalid: Null attribute value types must have "
              "the value of true"));
  EXPECT_EQ(DecodeValueError(R"({"L":[null]})"),
            V("The supplied Item contains a null AttributeValue"));
  EXPECT_EQ(DecodeValueError(R"({"M":{"a":null}})"),
            V("The supplied Item contains a null AttributeValue: a is null"));
  EXPECT_EQ(DecodeValueError(R"({"M":{"":{"S":"a"}}})"), V("Empty attribute name"));
}

TEST(AttributeJsonTest, LargeSetsFindDuplicates) {
  std::string ns = R"({"NS":[)", ss = R"({"SS":[)";
  for (int i = 0; i < 100; ++i) {
    ns += "\"" + std::to_string(i) + "\",";
    ss += "\"" + std::to_string(i) + "\",";
  }
  EXPECT_EQ(DecodeValueError(ns + R"("1e1"]})"), V("Input collection contains duplicates"));
  EXPECT_EQ(DecodeValueError(ns + R"("100"]})"), "ok");
  EXPECT_EQ(DecodeValueError(ss + R"("100"]})"), "ok");
  EXPECT_NE(DecodeValueError(ss + R"("7"]})").find("contains duplicates"), std::string::npos);
}

TEST(AttributeJsonTest, NestingDepth) {
  EXPECT_EQ(DecodeValueError(Nested(31, "L")), "ok");
  EXPECT_EQ(DecodeValueError(Nested(31, "M")), "ok");
  EXPECT_EQ(DecodeValueError(Nested(32, "L")), V("Nesting Levels have exceeded supported limits"));
  EXPECT_EQ(DecodeValueError(Nested(32, "M")), V("Nesting Levels have exceeded supported limits"));
  const std::string item_too_deep =
      V("Nesting Levels have exceeded supported limits: Attributes in the item have nested "
        "levels beyond supported limit");
  EXPECT_EQ(DecodeItemError(R"({"x":)" + Nested(31, "L") + "}"), "ok");
  EXPECT_EQ(DecodeItemError(R"({"x":)" + Nested(32, "L") + "}"), item_too_deep);
  EXPECT_EQ(DecodeItemError(R"({"x":)" + Nested(32, "M") + "}"), item_too_deep);
}

TEST(AttributeJsonTest, SerializationErrors) {
  EXPECT_EQ(DecodeValueError(R"({"S":5})"), Ser("NUMBER_VALUE cannot be converted to String"));
  EXPECT_EQ(DecodeValueError(R"({"N":5})"), Ser("NUMBER_VALUE cannot be converted to String"));
  EXPECT_EQ(DecodeValueError(R"({"S":true})"), Ser("TRUE_VALUE cannot be converted to String"));
  EXPECT_EQ(DecodeValueError(R"({"SS":[1]})"), Ser("NUMBER_VALUE cannot be converted to String"));
  EXPECT_EQ(DecodeValueError(R"({"BOOL":"true"})"),
            Ser("STRING_VALUE cannot be converted to Boolean"));
  EXPECT_EQ(DecodeValueError(R"({"NULL":1})"), Ser("NUMBER_VALUE cannot be converted to Boolean"));
  EXPECT_EQ(DecodeValueError(R"({"S":{}})"),
            Ser("Start of structure or map found where not expected."));
  EXPECT_EQ(DecodeValueError(R"({"L":{}})"),
            Ser("Start of structure or map found where not expected."));
  EXPECT_EQ(DecodeValueError(R"({"S":[]})"), Ser("Start of list found where not expected"));
  EXPECT_EQ(DecodeValueError(R"({"M":[]})"), Ser("Start of list found where not expected"));
  EXPECT_EQ(DecodeValueError(R"({"SS":"a"})"), Ser("Unexpected value type in payload"));
  EXPECT_EQ(DecodeValueError(R"("s")"), Ser("Unexpected value type in payload"));
  EXPECT_EQ(DecodeItemError(R"({"x":"s"})"), Ser("Unexpected value type in payload"));
  EXPECT_EQ(DecodeItemError(R"([])"), Ser("Start of list found where not expected"));
  // A shape error later in the document wins over an earlier validation error.
  EXPECT_EQ(DecodeItemError(R"({"a":{},"b":{"S":5}})"),
            Ser("NUMBER_VALUE cannot be converted to String"));
  EXPECT_EQ(DecodeItemError(R"({"a":{"SS":[]},"b":{"L":[{"B":"!!!!"}]}})"),
            Ser("Invalid Base64 character: '!'"));
}

TEST(AttributeJsonTest, Base64) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode(std::string("\xFF\xFE\x00", 3)), "//4A");
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto r = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, s);
  }
  auto err = [](std::string_view t) {
    auto r = Base64Decode(t);
    EXPECT_FALSE(r.ok()) << t;
    return r.ok() ? "ok" : r.status().ToString();
  };
  EXPECT_EQ(err("YQ="),
            Ser("Base64 encoded length is expected a multiple of 4 bytes but found: 3"));
  EXPECT_EQ(err("abc"),
            Ser("Base64 encoded length is expected a multiple of 4 bytes but found: 3"));
  EXPECT_EQ(err("Y Q="), Ser("Invalid Base64 character: ' '"));
  EXPECT_EQ(err("YQ-_"), Ser("Invalid Base64 character: '-'"));
  EXPECT_EQ(err("Y==="), Ser("Invalid Base64 padding"));
  EXPECT_EQ(err("===="), Ser("Invalid Base64 padding"));
  EXPECT_EQ(err("YQ=A"), Ser("Invalid Base64 padding"));
  EXPECT_EQ(err("YQ==YQ=="), Ser("Invalid Base64 padding"));
  EXPECT_EQ(DecodeValueError(R"({"B":"abc"})"),
            Ser("Base64 encoded length is expected a multiple of 4 bytes but found: 3"));
  EXPECT_EQ(DecodeValueError(R"({"BS":["YQ==","a"]})"),
            Ser("Base64 encoded length is expected a multiple of 4 bytes but found: 1"));
}

TEST(AttributeJsonTest, ItemDecoding) {
  json::Document doc;
  ASSERT_TRUE(
      json::Parse(R"({"pk":{"S":"a"},"n":{"N":"00012"},"m":{"M":{"x":{"NULL":true}}}})", &doc)
          .ok());
  auto item = DecodeItem(doc);
  ASSERT_TRUE(item.ok());
  EXPECT_EQ(item->size(), 3u);
  EXPECT_EQ(item->at("n").num.ToString(), "12");
  EXPECT_EQ(DecodeItemError(R"({"":{"S":"x"}})"), V("Empty attribute name"));
  EXPECT_EQ(DecodeItemError(R"({"x":null})"),
            V("The supplied Item contains a null AttributeValue: x is null"));
  // Errors are reported in document order.
  EXPECT_EQ(DecodeItemError(R"({"x":{"N":"x"},"y":{"SS":[]}})"),
            V("A value provided cannot be converted into a number"));
  EXPECT_EQ(DecodeItemError(R"({"y":{"SS":[]},"x":{"N":"x"}})"),
            V("One or more parameter values were invalid: An string set  may not be empty"));
  EXPECT_EQ(DecodeItemError("{}"), "ok");
}

TEST(AttributeJsonTest, WritesWireJson) {
  EXPECT_EQ(WriteValue(AttributeValue::S("a\"b")), R"({"S":"a\"b"})");
  EXPECT_EQ(WriteValue(AttributeValue::N(*Decimal::Parse("1E+2"))), R"({"N":"100"})");
  EXPECT_EQ(WriteValue(AttributeValue::B("foo")), R"({"B":"Zm9v"})");
  EXPECT_EQ(WriteValue(AttributeValue::Bool(true)), R"({"BOOL":true})");
  EXPECT_EQ(WriteValue(AttributeValue::Null()), R"({"NULL":true})");
  EXPECT_EQ(WriteValue(AttributeValue::SS({"x", "y"})), R"({"SS":["x","y"]})");
  EXPECT_EQ(WriteValue(AttributeValue::NS({*Decimal::Parse("1.50")})), R"({"NS":["1.5"]})");
  EXPECT_EQ(WriteValue(AttributeValue::BS({"f", "fo"})), R"({"BS":["Zg==","Zm8="]})");
  EXPECT_EQ(WriteValue(AttributeValue::L({AttributeValue::M({{"k", AttributeValue::S("v")}})})),
            R"({"L":[{"M":{"k":{"S":"v"}}}]})");
  // Strings with NUL bytes survive (lengths are explicit).
  EXPECT_EQ(WriteValue(AttributeValue::S(std::string("a\0b", 3))), R"({"S":"a\u0000b"})");
}

TEST(AttributeJsonTest, RoundTrip) {
  const std::string text =
      R"({"b":{"B":"AAH/"},"bs":{"BS":["Zg==","Zm8="]},"f":{"BOOL":false},)"
      R"("l":{"L":[{"S":"x"},{"L":[]},{"M":{}}]},"m":{"M":{"deep":{"NS":["-1","0.5"]}}},)"
      R"("n":{"N":"-12.5"},"nil":{"NULL":true},"s":{"S":"\u00e9\u0000"},"ss":{"SS":["a","b"]}})";
  json::Document doc;
  ASSERT_TRUE(json::Parse(text, &doc).ok());
  auto item = DecodeItem(doc);
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  json::StringBuffer buf;
  json::Writer w(buf);
  WriteItem(*item, &w);
  const std::string out(buf.GetString(), buf.GetSize());
  json::Document again;
  ASSERT_TRUE(json::Parse(out, &again).ok());
  auto item2 = DecodeItem(again);
  ASSERT_TRUE(item2.ok());
  EXPECT_EQ(*item2, *item);
  EXPECT_EQ(item->at("s").str, std::string("\xC3\xA9\0", 3));
}

// Random values of every type; strings draw from bytes that need JSON escapes and base64
// padding of every length.
class RandomValues {
 public:
  explicit RandomValues(uint64_t seed) : rng_(seed) {}

  std::string Bytes() {
    static constexpr char kAlphabet[] = {'a',    'b',    'Z',    '"',    '\\', '\n', '\0',
                                         '\x7F', '\xC3', '\xA9', '\xFF', '/',  '<'};
    std::string s(Below(7), ' ');
    for (auto& c : s) c = kAlphabet[Below(sizeof(kAlphabet))];
    return s;
  }

  Decimal Number() {
    static constexpr const char* kNumbers[] = {"0",
                                               "1",
                                               "-1",
                                               "1.50",
                                               "-12.75e3",
                                               "1e-130",
                                               "9.9999999999999999999999999999999999999E+125",
                                               "123456789012345678901234567890",
                                               "0.001"};
    return *Decimal::Parse(kNumbers[Below(std::size(kNumbers))]);
  }

  AttributeValue Value(int depth) {
    const int kinds = depth < 4 ? 10 : 8;  // no more M/L past depth 4
    switch (Below(kinds)) {
      case 0:
        return AttributeValue::S(Bytes());
      case 1:
        return AttributeValue::N(Number());
      case 2:
        return AttributeValue::B(Bytes());
      case 3:
        return AttributeValue::Bool(Below(2) == 1);
      case 4:
        return AttributeValue::Null();
      case 5: {
        std::vector<std::string> strs;
        for (size_t i = 0, n = 1 + Below(4); i < n; ++i) strs.push_back(Bytes());
        return AttributeValue::SS(std::move(strs));
      }
      case 6: {
        std::vector<Decimal> nums;
        for (size_t i = 0, n = 1 + Below(4); i < n; ++i) nums.push_back(Number());
        return AttributeValue::NS(std::move(nums));
      }
      case 7: {
        std::vector<std::string> strs;
        for (size_t i = 0, n = 1 + Below(4); i < n; ++i) strs.push_back(Bytes());
        return AttributeValue::BS(std::move(strs));
      }
      case 8:
        return AttributeValue::M(Map(depth + 1));
      default: {
        std::vector<AttributeValue> list;
        for (size_t i = 0, n = Below(4); i < n; ++i) list.push_back(Value(depth + 1));
        return AttributeValue::L(std::move(list));
      }
    }
  }

  AttributeMap Map(int depth) {
    AttributeMap map;
    for (size_t i = 0, n = Below(6); i < n; ++i) map[Bytes()] = Value(depth);
    return map;
  }

 private:
  size_t Below(size_t n) { return static_cast<size_t>(rng_() % n); }
  std::mt19937_64 rng_;
};

std::string WrittenItem(const Item& item) {
  json::StringBuffer buf;
  json::Writer w(buf);
  WriteItem(item, &w);
  return std::string(buf.GetString(), buf.GetSize());
}

TEST(AttributeJsonTest, EncodedItemWritesAsDecodedItem) {
  RandomValues random(7);
  for (int i = 0; i < 3000; ++i) {
    Item item = random.Map(0);
    std::string record;
    EncodeItem(item, &record);
    json::StringBuffer buf;
    json::Writer w(buf);
    ASSERT_TRUE(WriteEncodedItem(record, &w).ok());
    auto decoded = DecodeItem(record);
    ASSERT_TRUE(decoded.ok());
    ASSERT_EQ(std::string(buf.GetString(), buf.GetSize()), WrittenItem(*decoded));
  }
}

TEST(AttributeJsonTest, EncodedItemCorruption) {
  Item item{{"a", AttributeValue::L({AttributeValue::S("x"), AttributeValue::N(Decimal())})}};
  std::string record;
  EncodeItem(item, &record);
  for (size_t n = 0; n < record.size(); ++n) {
    json::StringBuffer buf;
    json::Writer w(buf);
    Status st = WriteEncodedItem(std::string_view(record.data(), n), &w);
    EXPECT_EQ(st.code(), ErrorCode::kInternal) << n;
  }
}

}  // namespace
}  // namespace cruddur::dynamo
