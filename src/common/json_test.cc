#include "common/json.h"

#include <gtest/gtest.h>

namespace cruddur::json {
namespace {

TEST(JsonTest, ParsesObject) {
  Document doc;
  ASSERT_TRUE(Parse(R"({"a":[1,{"b":"}"}]})", &doc).ok());
  EXPECT_TRUE(doc.IsObject());
  EXPECT_EQ(ToString(doc), R"({"a":[1,{"b":"}"}]})");
}

TEST(JsonTest, RejectsMalformedAndTrailingGarbage) {
  Document a, b;
  EXPECT_EQ(Parse("{\"a\":", &a).code(), ErrorCode::kSerialization);
  EXPECT_EQ(Parse("{} x", &b).code(), ErrorCode::kSerialization);
}

TEST(JsonTest, BoundsDepthIgnoringStrings) {
  EXPECT_EQ(NestingDepth(R"({"x":"[[[[{{{{"})", 10), 1);
  std::string deep(200, '[');
  deep += std::string(200, ']');
  EXPECT_EQ(NestingDepth(deep, 128), -1);
  Document doc;
  EXPECT_EQ(Parse(deep, &doc).code(), ErrorCode::kSerialization);
}

TEST(JsonTest, AssertionBecomesException) {
  Document doc;
  ASSERT_TRUE(Parse("[1]", &doc).ok());
  EXPECT_THROW((void)doc.GetObject(), JsonAssertion);
}

}  // namespace
}  // namespace cruddur::json
