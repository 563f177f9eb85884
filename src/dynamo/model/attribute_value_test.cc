#include "dynamo/model/attribute_value.h"

#include <gtest/gtest.h>

namespace cruddur::dynamo {
namespace {

Decimal D(std::string_view s) { return *Decimal::Parse(s); }

TEST(AttributeValueTest, TypeNames) {
  for (auto t : {AttrType::kS, AttrType::kN, AttrType::kB, AttrType::kBool, AttrType::kNull,
                 AttrType::kM, AttrType::kL, AttrType::kSS, AttrType::kNS, AttrType::kBS}) {
    AttrType back;
    ASSERT_TRUE(ParseAttrType(AttrTypeName(t), &back));
    EXPECT_EQ(back, t);
  }
  AttrType t;
  EXPECT_FALSE(ParseAttrType("s", &t));
  EXPECT_FALSE(ParseAttrType("", &t));
  EXPECT_EQ(AttrTypeName(AttrType::kBool), "BOOL");
}

TEST(AttributeValueTest, Equality) {
  EXPECT_EQ(AttributeValue::S("a"), AttributeValue::S("a"));
  EXPECT_NE(AttributeValue::S("a"), AttributeValue::B("a"));
  EXPECT_EQ(AttributeValue::N(D("1.0")), AttributeValue::N(D("1")));
  EXPECT_NE(AttributeValue::Bool(true), AttributeValue::Bool(false));
  EXPECT_EQ(AttributeValue::Null(), AttributeValue::Null());
  EXPECT_EQ(AttributeValue::SS({"a", "b"}), AttributeValue::SS({"b", "a"}));
  EXPECT_NE(AttributeValue::SS({"a", "b"}), AttributeValue::SS({"a", "c"}));
  EXPECT_NE(AttributeValue::SS({"a"}), AttributeValue::SS({"a", "b"}));
  EXPECT_EQ(AttributeValue::NS({D("1"), D("2.50")}), AttributeValue::NS({D("2.5"), D("1")}));
  EXPECT_NE(AttributeValue::SS({"a"}), AttributeValue::BS({"a"}));
  EXPECT_EQ(AttributeValue::L({AttributeValue::S("x"), AttributeValue::N(D("1"))}),
            AttributeValue::L({AttributeValue::S("x"), AttributeValue::N(D("1.00"))}));
  EXPECT_NE(AttributeValue::L({AttributeValue::S("x"), AttributeValue::S("y")}),
            AttributeValue::L({AttributeValue::S("y"), AttributeValue::S("x")}));
  EXPECT_EQ(AttributeValue::M({{"a", AttributeValue::Null()}}),
            AttributeValue::M({{"a", AttributeValue::Null()}}));
  EXPECT_NE(AttributeValue::M({{"a", AttributeValue::Null()}}),
            AttributeValue::M({{"b", AttributeValue::Null()}}));
  // Large sets take the sorting path.
  std::vector<std::string> a, b;
  std::vector<Decimal> na, nb;
  for (int i = 0; i < 50; ++i) {
    a.push_back(std::to_string(i));
    b.insert(b.begin(), std::to_string(i));
    na.push_back(Decimal::FromInt(i));
    nb.insert(nb.begin(), Decimal::FromInt(i));
  }
  EXPECT_EQ(AttributeValue::SS(a), AttributeValue::SS(b));
  EXPECT_EQ(AttributeValue::NS(na), AttributeValue::NS(nb));
  b[0] = "x";
  nb[0] = Decimal::FromInt(1000);
  EXPECT_NE(AttributeValue::SS(a), AttributeValue::SS(b));
  EXPECT_NE(AttributeValue::NS(na), AttributeValue::NS(nb));
}

size_t NSize(std::string_view n) { return AttributeValueSize(AttributeValue::N(D(n))); }

TEST(AttributeValueTest, NumberSizes) {
  EXPECT_EQ(NSize("0"), 1u);
  EXPECT_EQ(NSize("27"), 2u);  // Developer Guide figures
  EXPECT_EQ(NSize("-27"), 3u);
  EXPECT_EQ(NSize("461"), 3u);
  EXPECT_EQ(NSize("1"), 2u);
  EXPECT_EQ(NSize("100"), 2u);
  EXPECT_EQ(NSize("1e125"), 2u);
  EXPECT_EQ(NSize("1786461547"), 6u);
  EXPECT_EQ(NSize("123.45"), 4u);  // 01|23|.45
  EXPECT_EQ(NSize("0.5"), 2u);
  EXPECT_EQ(NSize("0.05"), 2u);
  EXPECT_EQ(NSize("0.005"), 2u);  // .00|50
  EXPECT_EQ(NSize("1.5"), 3u);
  EXPECT_EQ(NSize(std::string(38, '9')), 20u);
  EXPECT_EQ(NSize("9" + std::string(37, '9') + "0"), 21u);
  EXPECT_EQ(NSize("-" + std::string(37, '9') + "0"), 21u);
}

TEST(AttributeValueTest, ItemSize) {
  Item item;
  item["pk"] = AttributeValue::S("abc");                                            // 2 + 3
  item["b"] = AttributeValue::B(std::string("\x00\x01", 2));                        // 1 + 2
  item["t"] = AttributeValue::Bool(true);                                           // 1 + 1
  item["z"] = AttributeValue::Null();                                               // 1 + 1
  item["n"] = AttributeValue::N(D("27"));                                           // 1 + 2
  item["ss"] = AttributeValue::SS({"ab", "c"});                                     // 2 + 3
  item["ns"] = AttributeValue::NS({D("1"), D("-27")});                              // 2 + 2 + 3
  item["l"] = AttributeValue::L({AttributeValue::S("x"), AttributeValue::Null()});  // 1 + 3 + 2 + 2
  item["m"] = AttributeValue::M({{"k", AttributeValue::S("vv")}});  // 1 + 3 + (1 + 1 + 2)
  item["e"] = AttributeValue::M({});                                // 1 + 3
  item["é"] = AttributeValue::S("ü");                               // 2 + 2
  EXPECT_EQ(ItemSize(item), 5u + 3 + 2 + 2 + 3 + 5 + 7 + 8 + 8 + 4 + 4);
  EXPECT_EQ(ItemSize(Item{}), 0u);
}

}  // namespace
}  // namespace cruddur::dynamo
