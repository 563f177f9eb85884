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

TEST(JsonTest, EscapesEveryControlCharacterWherever) {
  // Regression (fuzz/corpus/json/regress-sse2-writer-control-chars): a control character at
  // any offset of a long string, ESC among them, must come out escaped.
  for (char c = 0x01; c < 0x20; ++c) {
    for (size_t at = 0; at < 40; ++at) {
      std::string s(48, 'x');
      s[at] = c;
      StringBuffer buffer;
      Writer writer(buffer);
      writer.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
      Document doc;
      ASSERT_TRUE(Parse(std::string_view(buffer.GetString(), buffer.GetSize()), &doc).ok())
          << "char " << int(c) << " at " << at;
      EXPECT_EQ(std::string(doc.GetString(), doc.GetStringLength()), s);
    }
  }
}

TEST(JsonTest, RejectsNumbersBeyondADouble) {
  // Regression (fuzz/corpus/json/regress-number-overflows-to-infinity).
  Document doc;
  EXPECT_EQ(Parse("[1e309]", &doc).code(), ErrorCode::kSerialization);
  EXPECT_EQ(Parse("{\"a\":[444000086e300]}", &doc).code(), ErrorCode::kSerialization);
  EXPECT_TRUE(Parse("[1e308, -2.5e-300]", &doc).ok());
}

}  // namespace
}  // namespace cruddur::json
