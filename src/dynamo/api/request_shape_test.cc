#include "dynamo/api/request_shape.h"

#include <gtest/gtest.h>

namespace cruddur::dynamo::api {
namespace {

Status Check(const char* body, const Shape& shape) {
  json::Document doc;
  Status st = json::Parse(body, &doc);
  if (!st.ok()) return st;
  return CheckShape(doc, shape);
}

const Shape& TestShape() {
  static const Shape shape = Struct(
      "TestInput",
      {TableNameShape(), Range(Long("Limit"), 1, 100), Bool("ConsistentRead"),
       Length(
           NotNull(List("KeySchema", Struct("KeySchemaElement",
                                            {NotNull(Str("AttributeName")),
                                             NotNull(Enum(Str("KeyType"), {"HASH", "RANGE"}))}))),
           1, 2),
       AttrMap("Item")});
  return shape;
}

TEST(RequestShapeTest, AcceptsWellFormedInput) {
  EXPECT_TRUE(
      Check(R"({"TableName":"abc","Limit":5,"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
                       "Item":{"a":{"S":"x"}},"Unknown":1})",
            TestShape())
          .ok());
}

TEST(RequestShapeTest, WrongJsonTypesAreSerializationErrors) {
  Status st = Check(R"({"TableName":5,"KeySchema":[]})", TestShape());
  EXPECT_EQ(st.code(), ErrorCode::kSerialization);
  EXPECT_EQ(st.message(), "NUMBER_VALUE cannot be converted to String");
  st = Check(R"({"TableName":"abc","Limit":"5","KeySchema":[]})", TestShape());
  EXPECT_EQ(st.message(), "STRING_VALUE cannot be converted to Long");
  st = Check(R"({"TableName":"abc","KeySchema":{}})", TestShape());
  EXPECT_EQ(st.message(), "Start of structure or map found where not expected");
  st = Check(R"({"TableName":"abc","KeySchema":[],"Item":{"a":"x"}})", TestShape());
  EXPECT_EQ(st.message(), "Unexpected value type in payload");
  st = Check(R"({"TableName":"abc","KeySchema":[],"ConsistentRead":1})", TestShape());
  EXPECT_EQ(st.message(), "NUMBER_VALUE cannot be converted to Boolean");
}

TEST(RequestShapeTest, CollectsConstraintViolationsInServiceFormat) {
  Status st =
      Check(R"({"Limit":0,"KeySchema":[{"AttributeName":"pk","KeyType":"FOO"}]})", TestShape());
  EXPECT_EQ(st.code(), ErrorCode::kValidation);
  EXPECT_EQ(st.message(),
            "3 validation errors detected: Value null at 'tableName' failed to satisfy "
            "constraint: Member must not be null; Value '0' at 'limit' failed to satisfy "
            "constraint: Member must have value greater than or equal to 1; Value 'FOO' at "
            "'keySchema.1.member.keyType' failed to satisfy constraint: Member must satisfy enum "
            "value set: [HASH, RANGE]");
}

TEST(RequestShapeTest, TableNameLengthAndPattern) {
  Status st = Check(R"({"TableName":"a b","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]})",
                    TestShape());
  EXPECT_EQ(st.message(),
            "1 validation error detected: Value 'a b' at 'tableName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
  st = Check(R"({"TableName":"ab","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]})",
             TestShape());
  EXPECT_EQ(st.message(),
            "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: "
            "Member must have length greater than or equal to 3");
}

TEST(RequestShapeTest, BodyMustBeAnObject) {
  EXPECT_EQ(Check("[]", TestShape()).code(), ErrorCode::kSerialization);
}

}  // namespace
}  // namespace cruddur::dynamo::api
