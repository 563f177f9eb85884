#include "triggers/filter.h"

#include <gtest/gtest.h>

namespace cruddur::triggers {
namespace {

// A stream record as GetRecords returns it (NEW_AND_OLD_IMAGES).
constexpr std::string_view kInsert = R"({
  "eventID":"1","eventName":"INSERT","eventVersion":"1.1","eventSource":"aws:dynamodb",
  "awsRegion":"us-east-1",
  "dynamodb":{"Keys":{"pk":{"S":"MSG#123"},"sk":{"S":"2026-01-01"}},
              "NewImage":{"pk":{"S":"MSG#123"},"sk":{"S":"2026-01-01"},"n":{"N":"42"},
                          "flag":{"BOOL":true},"tags":{"SS":["a","b"]}},
              "SequenceNumber":"100","SizeBytes":64,"StreamViewType":"NEW_AND_OLD_IMAGES"}})";

bool Match(std::string_view pattern, std::string_view record = kInsert) {
  auto f = FilterCriteria::Parse(pattern);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return f.ok() && f->Matches(record);
}

TEST(FilterTest, ExactValuesOnEventNameAndKeys) {
  EXPECT_TRUE(Match(R"({"eventName":["INSERT"]})"));
  EXPECT_TRUE(Match(R"({"eventName":["MODIFY","INSERT"]})"));
  EXPECT_FALSE(Match(R"({"eventName":["REMOVE"]})"));
  EXPECT_TRUE(Match(R"({"dynamodb":{"Keys":{"pk":{"S":["MSG#123"]}}}})"));
  EXPECT_FALSE(Match(R"({"dynamodb":{"Keys":{"pk":{"S":["MSG#124"]}}}})"));
  // Every member of the pattern must match.
  EXPECT_FALSE(Match(R"({"eventName":["INSERT"],"dynamodb":{"Keys":{"pk":{"S":["x"]}}}})"));
  EXPECT_TRUE(Match(R"({"dynamodb":{"NewImage":{"flag":{"BOOL":[true]}}}})"));
  EXPECT_FALSE(Match(R"({"dynamodb":{"NewImage":{"flag":{"BOOL":[false]}}}})"));
  // A number in the pattern does not equal DynamoDB's numeric string; numeric does.
  EXPECT_FALSE(Match(R"({"dynamodb":{"NewImage":{"n":{"N":[42]}}}})"));
  EXPECT_TRUE(Match(R"({"dynamodb":{"NewImage":{"n":{"N":["42"]}}}})"));
  EXPECT_TRUE(Match(R"({"dynamodb":{"SizeBytes":[64]}})"));
}

TEST(FilterTest, Prefix) {
  EXPECT_TRUE(Match(R"({"dynamodb":{"NewImage":{"pk":{"S":[{"prefix":"MSG#"}]}}}})"));
  EXPECT_FALSE(Match(R"({"dynamodb":{"NewImage":{"pk":{"S":[{"prefix":"GRP#"}]}}}})"));
  EXPECT_FALSE(Match(R"({"dynamodb":{"NewImage":{"n":{"N":[{"prefix":"GRP#"}]}}}})"));
}

TEST(FilterTest, Exists) {
  EXPECT_TRUE(Match(R"({"dynamodb":{"NewImage":{"flag":{"BOOL":[{"exists":true}]}}}})"));
  EXPECT_FALSE(Match(R"({"dynamodb":{"NewImage":{"gone":{"S":[{"exists":true}]}}}})"));
  EXPECT_TRUE(Match(R"({"dynamodb":{"NewImage":{"gone":{"S":[{"exists":false}]}}}})"));
  // Absent all the way up: OldImage is not in the record at all.
  EXPECT_TRUE(Match(R"({"dynamodb":{"OldImage":{"pk":{"S":[{"exists":false}]}}}})"));
  EXPECT_FALSE(Match(R"({"dynamodb":{"OldImage":{"pk":{"S":[{"exists":true}]}}}})"));
}

TEST(FilterTest, AnythingBut) {
  EXPECT_TRUE(Match(R"({"eventName":[{"anything-but":["REMOVE"]}]})"));
  EXPECT_FALSE(Match(R"({"eventName":[{"anything-but":["REMOVE","INSERT"]}]})"));
  EXPECT_FALSE(Match(R"({"eventName":[{"anything-but":"INSERT"}]})"));
  // Absent fields do not match anything-but.
  EXPECT_FALSE(Match(R"({"nothing":[{"anything-but":["x"]}]})"));
}

TEST(FilterTest, NumericOnNumbersAndNumericStrings) {
  EXPECT_TRUE(Match(R"({"dynamodb":{"NewImage":{"n":{"N":[{"numeric":[">",41]}]}}}})"));
  EXPECT_TRUE(Match(R"({"dynamodb":{"NewImage":{"n":{"N":[{"numeric":[">",0,"<=",42]}]}}}})"));
  EXPECT_FALSE(Match(R"({"dynamodb":{"NewImage":{"n":{"N":[{"numeric":[">",0,"<",42]}]}}}})"));
  EXPECT_TRUE(Match(R"({"dynamodb":{"NewImage":{"n":{"N":[{"numeric":["=",42.0]}]}}}})"));
  EXPECT_TRUE(Match(R"({"dynamodb":{"SizeBytes":[{"numeric":[">=",64]}]}})"));
  EXPECT_TRUE(Match(R"({"dynamodb":{"NewImage":{"n":{"N":[{"numeric":["<",42.5]}]}}}})"));
  EXPECT_FALSE(Match(R"({"dynamodb":{"NewImage":{"pk":{"S":[{"numeric":[">",0]}]}}}})"));
}

TEST(FilterTest, ArraysMatchAnyElement) {
  EXPECT_TRUE(Match(R"({"dynamodb":{"NewImage":{"tags":{"SS":["b"]}}}})"));
  EXPECT_FALSE(Match(R"({"dynamodb":{"NewImage":{"tags":{"SS":["c"]}}}})"));
}

TEST(FilterTest, SeveralPatternsAreAlternatives) {
  EXPECT_TRUE(Match(R"([{"eventName":["REMOVE"]},{"eventName":["INSERT"]}])"));
  EXPECT_FALSE(Match(R"([{"eventName":["REMOVE"]},{"eventName":["MODIFY"]}])"));
}

TEST(FilterTest, RejectsWhatItDoesNotUnderstand) {
  for (std::string_view bad : {
           R"(not json)",
           R"("INSERT")",
           R"({"eventName":"INSERT"})",
           R"({"eventName":[]})",
           R"({"eventName":[{"suffix":"T"}]})",
           R"({"eventName":[{"prefix":1}]})",
           R"({"eventName":[{"exists":"yes"}]})",
           R"({"n":[{"numeric":[">"]}]})",
           R"({"n":[{"numeric":["!=",1]}]})",
           R"({"n":[{"numeric":[">","1"]}]})",
           R"([])",
           R"([{},{},{},{},{},{}])",
           R"({})",
       }) {
    auto f = FilterCriteria::Parse(bad);
    EXPECT_FALSE(f.ok()) << bad;
    EXPECT_EQ(f.status().code(), ErrorCode::kValidation) << bad;
  }
  auto f = FilterCriteria::Parse(R"({"eventName":[{"suffix":"T"}]})");
  EXPECT_NE(f.status().message().find("eventName"), std::string::npos) << f.status().message();
}

TEST(FilterTest, NonJsonRecordDoesNotMatch) {
  auto f = FilterCriteria::Parse(R"({"eventName":[{"exists":false}]})");
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->Matches(std::string_view("{oops")));
  EXPECT_TRUE(f->Matches(std::string_view("{}")));
}

}  // namespace
}  // namespace cruddur::triggers
