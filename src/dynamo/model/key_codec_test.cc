#include "dynamo/model/key_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace cruddur::dynamo {
namespace {

std::string Enc(const AttributeValue& v) {
  std::string out;
  EncodeKeyValue(v, &out);
  return out;
}

TEST(KeyCodecTest, StringEncodingFormat) {
  EXPECT_EQ(Enc(AttributeValue::S("ab")), std::string("ab\x00\x01", 4));
  EXPECT_EQ(Enc(AttributeValue::B(std::string("a\x00", 2))), std::string("a\x00\xFF\x00\x01", 5));
  EXPECT_EQ(Enc(AttributeValue::S("")), std::string("\x00\x01", 2));
  std::string raw;
  EncodeKeyBytes("ab", &raw);
  EXPECT_EQ(raw, Enc(AttributeValue::S("ab")));
}

TEST(KeyCodecTest, RoundTripAndSelfDelimiting) {
  std::vector<AttributeValue> values = {AttributeValue::S(""),
                                        AttributeValue::S("hello"),
                                        AttributeValue::S(std::string("\x00\x00", 2)),
                                        AttributeValue::B(std::string("\x00\xFF\x01", 3)),
                                        AttributeValue::N(*Decimal::Parse("-1.5")),
                                        AttributeValue::N(Decimal()),
                                        AttributeValue::S("ünï")};
  std::string all;
  for (const auto& v : values) EncodeKeyValue(v, &all);
  std::string_view in = all;
  for (const auto& v : values) {
    auto r = DecodeKeyValue(v.type, &in);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, v);
  }
  EXPECT_TRUE(in.empty());
}

// Composite keys (partition, sort) sort by partition then by sort key.
TEST(KeyCodecTest, CompositeOrderIsComponentOrder) {
  std::mt19937_64 rng(3);
  auto rand_bytes = [&rng] {
    std::string s(static_cast<size_t>(rng() % 4), '\0');
    for (char& c : s)
      c = "\x00\x01\xFF"
          "ab"[rng() % 5];
    return s;
  };
  struct Key {
    std::string pk, sk;
    std::string enc;
  };
  std::vector<Key> keys;
  for (int i = 0; i < 2000; ++i) {
    Key k{rand_bytes(), rand_bytes(), ""};
    EncodeKeyValue(AttributeValue::B(k.pk), &k.enc);
    EncodeKeyValue(AttributeValue::B(k.sk), &k.enc);
    keys.push_back(std::move(k));
  }
  auto by_enc = keys;
  std::sort(by_enc.begin(), by_enc.end(), [](const Key& a, const Key& b) { return a.enc < b.enc; });
  auto by_parts = keys;
  // Unsigned byte comparison, as DynamoDB orders B (std::string compares char_traits<char>,
  // which compares as unsigned char).
  std::sort(by_parts.begin(), by_parts.end(),
            [](const Key& a, const Key& b) { return std::tie(a.pk, a.sk) < std::tie(b.pk, b.sk); });
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(by_enc[i].pk, by_parts[i].pk);
    EXPECT_EQ(by_enc[i].sk, by_parts[i].sk);
  }
}

TEST(KeyCodecTest, NumberKeysSortNumerically) {
  std::vector<std::string> sorted = {"-100", "-2.5", "-1", "0", "0.001", "1", "2", "10", "1e20"};
  std::vector<std::string> enc;
  for (const auto& s : sorted) enc.push_back(Enc(AttributeValue::N(*Decimal::Parse(s))));
  EXPECT_TRUE(std::is_sorted(enc.begin(), enc.end()));
}

TEST(KeyCodecTest, CorruptInput) {
  for (std::string bad : {std::string("abc"), std::string("a\x00", 2), std::string("a\x00\x02", 3),
                          std::string("")}) {
    std::string_view in = bad;
    auto r = DecodeKeyValue(AttrType::kS, &in);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kInternal);
  }
  std::string_view in = "x";
  EXPECT_FALSE(DecodeKeyValue(AttrType::kN, &in).ok());
  EXPECT_FALSE(DecodeKeyValue(AttrType::kM, &in).ok());
}

}  // namespace
}  // namespace cruddur::dynamo
