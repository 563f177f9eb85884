#include "dynamo/auth/access.h"

#include <gtest/gtest.h>

namespace cruddur::dynamo::auth {
namespace {

constexpr std::string_view kArn = "arn:aws:dynamodb:us-east-1:546310198960:table/";

class AccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::EngineOptions options;
    options.path = "/auth-access-test";
    options.in_memory = true;
    auto engine = storage::Engine::Open(options);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine).value();
    storage::TableDef messages;
    messages.name = "cruddur-messages";
    messages.key.hash = {"pk", AttrType::kS};
    messages.key.range = storage::KeyAttribute{"sk", AttrType::kS};
    storage::IndexDef gsi;
    gsi.name = "message-group-sk-index";
    gsi.key.hash = {"message_group_uuid", AttrType::kS};
    gsi.key.range = storage::KeyAttribute{"sk", AttrType::kS};
    messages.gsis.push_back(gsi);
    ASSERT_TRUE(engine_->CreateTable(messages).ok());
    storage::TableDef numbers;
    numbers.name = "numbers";
    numbers.key.hash = {"id", AttrType::kN};
    ASSERT_TRUE(engine_->CreateTable(numbers).ok());
  }

  std::vector<AccessCheck> Describe(std::string_view operation, std::string_view body,
                                    ApiFamily family = ApiFamily::kDynamoDB) {
    json::Document doc;
    EXPECT_TRUE(json::Parse(body, &doc).ok()) << body;
    return DescribeAccess(family, operation, doc, *engine_, {"us-east-1", "546310198960"});
  }

  static std::vector<std::string> Key(const AccessCheck& check, const std::string& name) {
    auto it = check.keys.find(name);
    return it == check.keys.end() ? std::vector<std::string>{"<absent>"} : it->second;
  }

  std::unique_ptr<storage::Engine> engine_;
};

using Values = std::vector<std::string>;

TEST_F(AccessTest, ItemOperations) {
  auto checks = Describe("PutItem", R"j({"TableName":"cruddur-messages",
      "Item":{"pk":{"S":"MSG#1"},"sk":{"S":"2026"},"message":{"S":"hi"}},
      "ConditionExpression":"attribute_not_exists(#p)","ExpressionAttributeNames":{"#p":"pk"},
      "ReturnValues":"ALL_OLD"})j");
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].action, "dynamodb:PutItem");
  EXPECT_EQ(checks[0].resource, std::string(kArn) + "cruddur-messages");
  EXPECT_EQ(Key(checks[0], "dynamodb:leadingkeys"), Values{"MSG#1"});
  EXPECT_EQ(Key(checks[0], "dynamodb:attributes"), (Values{"message", "pk", "sk"}));
  EXPECT_EQ(Key(checks[0], "dynamodb:returnvalues"), Values{"ALL_OLD"});

  checks = Describe("GetItem", R"({"TableName":"numbers","Key":{"id":{"N":"1.50"}},
      "ProjectionExpression":"#a, b.c","ExpressionAttributeNames":{"#a":"a"}})");
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(Key(checks[0], "dynamodb:leadingkeys"), Values{"1.5"});
  EXPECT_EQ(Key(checks[0], "dynamodb:attributes"), (Values{"a", "b", "id"}));

  checks = Describe("UpdateItem", R"({"TableName":"cruddur-messages",
      "Key":{"pk":{"S":"GRP#1"},"sk":{"S":"x"}},"UpdateExpression":"SET msg = :m REMOVE stale",
      "ExpressionAttributeValues":{":m":{"S":"x"}}})");
  EXPECT_EQ(checks[0].action, "dynamodb:UpdateItem");
  EXPECT_EQ(Key(checks[0], "dynamodb:leadingkeys"), Values{"GRP#1"});
  EXPECT_EQ(Key(checks[0], "dynamodb:attributes"), (Values{"msg", "pk", "sk", "stale"}));

  // No such table: the resource is still named, the keys cannot be known.
  checks = Describe("DeleteItem", R"({"TableName":"ghost","Key":{"pk":{"S":"a"}}})");
  EXPECT_EQ(checks[0].resource, std::string(kArn) + "ghost");
  EXPECT_EQ(Key(checks[0], "dynamodb:leadingkeys"), Values{"<absent>"});
}

TEST_F(AccessTest, QueryAndScan) {
  auto checks = Describe("Query", R"j({"TableName":"cruddur-messages",
      "IndexName":"message-group-sk-index",
      "KeyConditionExpression":"message_group_uuid = :g AND begins_with(sk, :y)",
      "ExpressionAttributeValues":{":g":{"S":"G1"},":y":{"S":"2026"}},"Select":"ALL_ATTRIBUTES"})j");
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].resource,
            std::string(kArn) + "cruddur-messages/index/message-group-sk-index");
  EXPECT_EQ(Key(checks[0], "dynamodb:leadingkeys"), Values{"G1"});
  EXPECT_EQ(Key(checks[0], "dynamodb:attributes"), (Values{"message_group_uuid", "sk"}));
  EXPECT_EQ(Key(checks[0], "dynamodb:select"), Values{"ALL_ATTRIBUTES"});

  checks = Describe("Query", R"({"TableName":"cruddur-messages","KeyConditions":{
      "pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"MSG#9"}]}}})");
  EXPECT_EQ(checks[0].resource, std::string(kArn) + "cruddur-messages");
  EXPECT_EQ(Key(checks[0], "dynamodb:leadingkeys"), Values{"MSG#9"});

  checks = Describe("Scan", R"({"TableName":"cruddur-messages","FilterExpression":"x > :v",
      "ExpressionAttributeValues":{":v":{"N":"1"}}})");
  EXPECT_EQ(checks[0].action, "dynamodb:Scan");
  EXPECT_EQ(Key(checks[0], "dynamodb:leadingkeys"), Values{"<absent>"});
  EXPECT_EQ(Key(checks[0], "dynamodb:attributes"), Values{"x"});
}

TEST_F(AccessTest, BatchesCheckEveryTable) {
  auto checks = Describe("BatchWriteItem", R"({"RequestItems":{
      "cruddur-messages":[{"PutRequest":{"Item":{"pk":{"S":"A"},"sk":{"S":"1"}}}},
                          {"DeleteRequest":{"Key":{"pk":{"S":"B"},"sk":{"S":"1"}}}}],
      "numbers":[{"PutRequest":{"Item":{"id":{"N":"7"}}}}]}})");
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[0].action, "dynamodb:BatchWriteItem");
  EXPECT_EQ(checks[0].resource, std::string(kArn) + "cruddur-messages");
  EXPECT_EQ(Key(checks[0], "dynamodb:leadingkeys"), (Values{"A", "B"}));
  EXPECT_EQ(checks[1].resource, std::string(kArn) + "numbers");
  EXPECT_EQ(Key(checks[1], "dynamodb:leadingkeys"), Values{"7"});

  checks = Describe("BatchGetItem", R"({"RequestItems":{
      "numbers":{"Keys":[{"id":{"N":"1"}},{"id":{"N":"2"}}],"ProjectionExpression":"v"}}})");
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].action, "dynamodb:BatchGetItem");
  EXPECT_EQ(Key(checks[0], "dynamodb:leadingkeys"), (Values{"1", "2"}));
  EXPECT_EQ(Key(checks[0], "dynamodb:attributes"), (Values{"id", "v"}));

  // Malformed: still one check, on no table.
  checks = Describe("BatchGetItem", R"({})");
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].resource, std::string(kArn));
}

TEST_F(AccessTest, TransactionsCheckTheUnderlyingActions) {
  auto checks = Describe("TransactWriteItems", R"j({"TransactItems":[
      {"Put":{"TableName":"cruddur-messages","Item":{"pk":{"S":"A"},"sk":{"S":"1"}}}},
      {"ConditionCheck":{"TableName":"numbers","Key":{"id":{"N":"3"}},
                         "ConditionExpression":"attribute_exists(id)"}},
      {"Delete":{"TableName":"numbers","Key":{"id":{"N":"4"}}}}]})j");
  ASSERT_EQ(checks.size(), 3u);
  EXPECT_EQ(checks[0].action, "dynamodb:PutItem");
  EXPECT_EQ(Key(checks[0], "dynamodb:leadingkeys"), Values{"A"});
  EXPECT_EQ(Key(checks[0], "dynamodb:enclosingoperation"), Values{"TransactWriteItems"});
  EXPECT_EQ(checks[1].action, "dynamodb:ConditionCheckItem");
  EXPECT_EQ(checks[1].resource, std::string(kArn) + "numbers");
  EXPECT_EQ(checks[2].action, "dynamodb:DeleteItem");
  EXPECT_EQ(Key(checks[2], "dynamodb:leadingkeys"), Values{"4"});

  checks =
      Describe("TransactGetItems",
               R"({"TransactItems":[{"Get":{"TableName":"numbers","Key":{"id":{"N":"1"}}}}]})");
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].action, "dynamodb:GetItem");
  EXPECT_EQ(Key(checks[0], "dynamodb:enclosingoperation"), Values{"TransactGetItems"});

  checks = Describe("TransactWriteItems", R"({"TransactItems":[]})");
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].action, "dynamodb:PutItem");
}

TEST_F(AccessTest, TableLevelAndStreams) {
  auto checks = Describe("ListTables", "{}");
  EXPECT_EQ(checks[0].action, "dynamodb:ListTables");
  EXPECT_EQ(checks[0].resource, "*");
  checks = Describe("DeleteTable", R"({"TableName":"numbers"})");
  EXPECT_EQ(checks[0].action, "dynamodb:DeleteTable");
  EXPECT_EQ(checks[0].resource, std::string(kArn) + "numbers");
  checks = Describe("DescribeLimits", "{}");
  EXPECT_EQ(checks[0].resource, "*");
  // Tagging names its table by ARN.
  checks = Describe("TagResource", R"({"ResourceArn":")" + std::string(kArn) + R"(numbers"})");
  EXPECT_EQ(checks[0].action, "dynamodb:TagResource");
  EXPECT_EQ(checks[0].resource, std::string(kArn) + "numbers");

  const std::string stream = std::string(kArn) + "numbers/stream/2026-11-24T08:54:24.123";
  checks = Describe("DescribeStream", R"({"StreamArn":")" + stream + R"("})", ApiFamily::kStreams);
  EXPECT_EQ(checks[0].action, "dynamodb:DescribeStream");
  EXPECT_EQ(checks[0].resource, stream);
  checks = Describe("GetRecords", R"({"ShardIterator":")" + stream + R"(|1|MTIzfDQ1Ng=="})",
                    ApiFamily::kStreams);
  EXPECT_EQ(checks[0].action, "dynamodb:GetRecords");
  EXPECT_EQ(checks[0].resource, stream);
  checks = Describe("ListStreams", R"({"TableName":"numbers"})", ApiFamily::kStreams);
  EXPECT_EQ(checks[0].resource, "*");
}

TEST_F(AccessTest, AuthorizeWordsDenialsAsAws) {
  Result<Policy> policy = ParsePolicyText(
      R"({"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:*:*:table/cruddur-*"},
        {"Effect":"Deny","Action":"dynamodb:Scan","Resource":"*"}]})",
      "p");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  Principal principal;
  principal.arn = "arn:aws:iam::546310198960:user/lambda";
  principal.policies.push_back(std::move(policy).value());

  EXPECT_TRUE(
      Authorize(principal, Describe("GetItem", R"({"TableName":"cruddur-messages"})")).ok());
  Status denied = Authorize(principal, Describe("PutItem", R"({"TableName":"numbers"})"));
  EXPECT_EQ(denied.code(), ErrorCode::kAccessDenied);
  EXPECT_EQ(denied.message(),
            "User: arn:aws:iam::546310198960:user/lambda is not authorized to perform: "
            "dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:546310198960:table/numbers "
            "because no identity-based policy allows the dynamodb:PutItem action");
  denied = Authorize(principal, Describe("Scan", R"({"TableName":"cruddur-messages"})"));
  EXPECT_EQ(denied.message(),
            "User: arn:aws:iam::546310198960:user/lambda is not authorized to perform: "
            "dynamodb:Scan on resource: arn:aws:dynamodb:us-east-1:546310198960:table/"
            "cruddur-messages with an explicit deny in an identity-based policy");
  // One denied table denies the whole batch.
  denied = Authorize(principal, Describe("BatchWriteItem", R"({"RequestItems":{
      "cruddur-messages":[{"PutRequest":{"Item":{"pk":{"S":"A"},"sk":{"S":"1"}}}}],
      "numbers":[{"PutRequest":{"Item":{"id":{"N":"7"}}}}]}})"));
  EXPECT_EQ(denied.code(), ErrorCode::kAccessDenied);
  EXPECT_NE(denied.message().find("dynamodb:BatchWriteItem on resource: "
                                  "arn:aws:dynamodb:us-east-1:546310198960:table/numbers"),
            std::string::npos);
}

}  // namespace
}  // namespace cruddur::dynamo::auth
