#include "dynamo/model/item_codec.h"

#include <gtest/gtest.h>

#include <random>

namespace cruddur::dynamo {
namespace {

Item SampleItem() {
  Item item;
  item["pk"] = AttributeValue::S("user#1");
  item["n"] = AttributeValue::N(*Decimal::Parse("-12.75e3"));
  item["zero"] = AttributeValue::N(Decimal());
  item["bin"] = AttributeValue::B(std::string("\x00\x01\xFF", 3));
  item["t"] = AttributeValue::Bool(true);
  item["f"] = AttributeValue::Bool(false);
  item["nil"] = AttributeValue::Null();
  item["ss"] = AttributeValue::SS({"b", "a", ""});
  item["ns"] = AttributeValue::NS({*Decimal::Parse("1"), *Decimal::Parse("1e-130")});
  item["bs"] = AttributeValue::BS({std::string("\x00", 1), "zz"});
  item["l"] =
      AttributeValue::L({AttributeValue::S("x"), AttributeValue::L({}), AttributeValue::M({})});
  AttributeMap inner;
  inner["deep"] = AttributeValue::L({AttributeValue::M({{"k", AttributeValue::S("v")}})});
  item["m"] = AttributeValue::M(std::move(inner));
  item[""] = AttributeValue::S("empty name survives the codec");
  return item;
}

TEST(ItemCodecTest, RoundTrip) {
  Item item = SampleItem();
  std::string bytes;
  EncodeItem(item, &bytes);
  EXPECT_EQ(bytes[0], '\x01');
  auto back = DecodeItem(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, item);
  // Set member order is preserved too.
  EXPECT_EQ(back->at("ss").strs, item.at("ss").strs);

  std::string empty;
  EncodeItem(Item{}, &empty);
  auto e = DecodeItem(empty);
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->empty());
}

TEST(ItemCodecTest, EncodeAppends) {
  std::string out = "prefix";
  EncodeItem(Item{}, &out);
  EXPECT_EQ(out.substr(0, 6), "prefix");
}

TEST(ItemCodecTest, DeepNestingRoundTrips) {
  AttributeValue v = AttributeValue::S("leaf");
  for (int i = 0; i < 32; ++i) v = AttributeValue::L({std::move(v)});
  Item item{{"deep", v}};
  std::string bytes;
  EncodeItem(item, &bytes);
  auto back = DecodeItem(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, item);
}

void ExpectCorrupt(std::string_view bytes) {
  auto r = DecodeItem(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInternal);
  EXPECT_EQ(r.status().message().rfind("Corrupt item record: ", 0), 0u) << r.status().message();
}

TEST(ItemCodecTest, RejectsCorruptRecords) {
  std::string good;
  EncodeItem(SampleItem(), &good);
  for (size_t n = 0; n < good.size(); ++n) ExpectCorrupt(std::string_view(good.data(), n));
  ExpectCorrupt(good + "x");                  // trailing bytes
  ExpectCorrupt(std::string("\x02\x00", 2));  // unknown version
  ExpectCorrupt(std::string("\x01\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x01", 11));  // huge count
  ExpectCorrupt(
      std::string("\x01\x01\x01"
                  "a"
                  "\x0B",
                  5));  // bad tag
  ExpectCorrupt(
      std::string("\x01\x01\x01"
                  "a"
                  "\x04\x02",
                  6));  // bad BOOL
  ExpectCorrupt(
      std::string("\x01\x01\x01"
                  "a"
                  "\x01\x05"
                  "ab",
                  7));  // string past end
  ExpectCorrupt(
      std::string("\x01\x02\x01"
                  "b"
                  "\x05\x01"
                  "a"
                  "\x05",
                  9));  // names unsorted
  ExpectCorrupt(
      std::string("\x01\x02\x01"
                  "a"
                  "\x05\x01"
                  "a"
                  "\x05",
                  9));  // duplicate name
  // Nesting bomb: many L levels with count 1.
  std::string bomb(
      "\x01\x01\x01"
      "a",
      4);
  for (int i = 0; i < 100000; ++i) bomb += "\x07\x01";
  ExpectCorrupt(bomb);
}

TEST(ItemCodecTest, RandomMutationsNeverCrash) {
  std::string good;
  EncodeItem(SampleItem(), &good);
  std::mt19937_64 rng(11);
  for (int i = 0; i < 20000; ++i) {
    std::string bad = good;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits; ++k) bad[rng() % bad.size()] = static_cast<char>(rng());
    auto r = DecodeItem(bad);
    if (r.ok()) {
      // Whatever decodes must re-encode to a record that decodes to the same item.
      std::string again;
      EncodeItem(*r, &again);
      auto r2 = DecodeItem(again);
      ASSERT_TRUE(r2.ok());
      EXPECT_EQ(*r2, *r);
    }
  }
}

}  // namespace
}  // namespace cruddur::dynamo
