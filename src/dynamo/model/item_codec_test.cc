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
  EXPECT_EQ(bytes[0], '\x02');
  auto size = EncodedItemSize(bytes);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, ItemSize(item));
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

// Records every callback as text, to compare walks.
class TraceVisitor : public ItemVisitor {
 public:
  void Name(std::string_view name) override { out += "name:" + std::string(name) + " "; }
  void String(AttrType type, std::string_view bytes) override {
    out += std::string(AttrTypeName(type)) + ":" + std::string(bytes) + " ";
  }
  void Number(const Decimal& number) override { out += "N:" + number.ToString() + " "; }
  void Bool(bool value) override { out += value ? "true " : "false "; }
  void Null() override { out += "null "; }
  void BeginMap() override { out += "{ "; }
  void EndMap() override { out += "} "; }
  void BeginList(size_t count) override { out += "[" + std::to_string(count) + " "; }
  void EndList() override { out += "] "; }
  void BeginSet(AttrType type, size_t count) override {
    out += std::string(AttrTypeName(type)) + "<" + std::to_string(count) + " ";
  }
  void EndSet() override { out += "> "; }
  std::string out;
};

TEST(ItemCodecTest, VisitReportsEveryValueInOrder) {
  Item item;
  item["a"] = AttributeValue::S("x");
  item["b"] = AttributeValue::B("y");
  item["c"] = AttributeValue::N(*Decimal::Parse("1.50"));
  item["d"] = AttributeValue::Bool(false);
  item["e"] = AttributeValue::Null();
  item["f"] = AttributeValue::L({AttributeValue::M({{"k", AttributeValue::Bool(true)}})});
  item["g"] = AttributeValue::SS({"s2", "s1"});
  item["h"] = AttributeValue::NS({*Decimal::Parse("-2")});
  item["i"] = AttributeValue::BS({"b1"});
  std::string bytes;
  EncodeItem(item, &bytes);
  TraceVisitor trace;
  ASSERT_TRUE(VisitItem(bytes, &trace).ok());
  EXPECT_EQ(trace.out,
            "name:a S:x name:b B:y name:c N:1.5 name:d false name:e null name:f [1 { name:k true "
            "} ] name:g SS<2 S:s2 S:s1 > name:h NS<1 N:-2 > name:i BS<1 B:b1 > ");
}

// The header's size is ItemSize's, also past one varint byte.
TEST(ItemCodecTest, EncodedItemSize) {
  Item item{{"k", AttributeValue::S(std::string(300, 'x'))}};
  std::string bytes;
  EncodeItem(item, &bytes);
  EXPECT_EQ(*EncodedItemSize(bytes), 301u);
  EXPECT_FALSE(EncodedItemSize("").ok());
  EXPECT_FALSE(EncodedItemSize(std::string("\x01\x00\x00", 3)).ok());  // version 1
  EXPECT_FALSE(EncodedItemSize(std::string("\x02\x80", 2)).ok());      // truncated size
}

void ExpectCorrupt(std::string_view bytes) {
  auto r = DecodeItem(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInternal);
  EXPECT_EQ(r.status().message().rfind("Corrupt item record: ", 0), 0u) << r.status().message();
  TraceVisitor trace;
  Status st = VisitItem(bytes, &trace);
  EXPECT_EQ(st.ToString(), r.status().ToString());
}

// A version 2 record with size 0 and `body` (count, then attributes).
std::string Record(std::string_view body) { return std::string("\x02\x00", 2) + std::string(body); }

TEST(ItemCodecTest, RejectsCorruptRecords) {
  std::string good;
  EncodeItem(SampleItem(), &good);
  for (size_t n = 0; n < good.size(); ++n) ExpectCorrupt(std::string_view(good.data(), n));
  ExpectCorrupt(good + "x");                      // trailing bytes
  ExpectCorrupt(std::string("\x01\x00\x00", 3));  // unknown version
  ExpectCorrupt(Record(std::string("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x01", 10)));  // huge count
  ExpectCorrupt(
      Record(std::string("\x01\x01"
                         "a"
                         "\x0B",
                         4)));  // bad tag
  ExpectCorrupt(
      Record(std::string("\x01\x01"
                         "a"
                         "\x04\x02",
                         5)));  // bad BOOL
  ExpectCorrupt(
      Record(std::string("\x01\x01"
                         "a"
                         "\x01\x05"
                         "ab",
                         6)));  // string past end
  ExpectCorrupt(
      Record(std::string("\x02\x01"
                         "b"
                         "\x05\x01"
                         "a"
                         "\x05",
                         8)));  // names unsorted
  ExpectCorrupt(
      Record(std::string("\x02\x01"
                         "a"
                         "\x05\x01"
                         "a"
                         "\x05",
                         8)));  // duplicate name
  ExpectCorrupt(
      Record(std::string("\x01\x01"
                         "m"
                         "\x06\x02\x01"
                         "b"
                         "\x05\x01"
                         "a"
                         "\x05",
                         11)));  // names unsorted inside an M
  // Nesting bomb: many L levels with count 1.
  std::string bomb =
      Record(std::string("\x01\x01"
                         "a",
                         3));
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
    TraceVisitor trace;
    EXPECT_EQ(VisitItem(bad, &trace).ok(), r.ok());
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
