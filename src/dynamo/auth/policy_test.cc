#include "dynamo/auth/policy.h"

#include <gtest/gtest.h>

namespace cruddur::dynamo::auth {
namespace {

constexpr std::string_view kTable =
    "arn:aws:dynamodb:us-east-1:546310198960:table/cruddur-messages";
constexpr std::string_view kIndex =
    "arn:aws:dynamodb:us-east-1:546310198960:table/cruddur-messages/index/message-group-sk-index";

// The seed's "Create an Inline Policy", exactly as written there.
constexpr std::string_view kSeedInlinePolicy = R"({
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "VisualEditor0",
            "Effect": "Allow",
            "Action": [
                "dynamodb:PutItem",
                "dynamodb:DeleteItem",
                "dynamodb:Query"
            ],
            "Resource": [
                "arn:aws:dynamodb:us-east-1:546310198960:table/cruddur-messages",
                "arn:aws:dynamodb:us-east-1:546310198960:table/cruddur-messages/index/message-group-sk-index"
            ]
        }
    ]
})";

Policy MustParse(std::string_view text) {
  Result<Policy> policy = ParsePolicyText(text, "test policy");
  EXPECT_TRUE(policy.ok()) << policy.status().ToString();
  return policy.ok() ? std::move(policy).value() : Policy{};
}

Decision Decide(const std::vector<Policy>& policies, std::string_view action,
                std::string_view resource, const ConditionKeys* keys = nullptr) {
  return Evaluate(policies, {action, resource, keys});
}

std::string ParseError(std::string_view text) {
  Result<Policy> policy = ParsePolicyText(text, "p");
  EXPECT_FALSE(policy.ok()) << text;
  if (!policy.ok()) {
    EXPECT_EQ(policy.status().code(), ErrorCode::kValidation);
  }
  return policy.ok() ? "" : policy.status().message();
}

TEST(WildcardTest, StarAndQuestionMark) {
  EXPECT_TRUE(WildcardMatch("dynamodb:Get*", "dynamodb:GetItem", false));
  EXPECT_TRUE(WildcardMatch("dynamodb:*", "dynamodb:Query", false));
  EXPECT_TRUE(WildcardMatch("*", "", false));
  EXPECT_TRUE(WildcardMatch("a?c", "abc", false));
  EXPECT_FALSE(WildcardMatch("a?c", "ac", false));
  EXPECT_TRUE(WildcardMatch("*item", "dynamodb:PutItem", true));
  EXPECT_FALSE(WildcardMatch("*item", "dynamodb:PutItem", false));
  EXPECT_TRUE(WildcardMatch("a*b*c", "axxbyyc", false));
  EXPECT_FALSE(WildcardMatch("a*b*c", "axxbyy", false));
  EXPECT_TRUE(WildcardMatch("**", "anything", false));
  // No exponential blow-up on adversarial patterns.
  EXPECT_FALSE(WildcardMatch(std::string(100, '*') + "b", std::string(5000, 'a'), false));
}

TEST(WildcardTest, ResourcesMatchArnSegments) {
  EXPECT_TRUE(ResourceMatches("*", std::string(kTable)));
  EXPECT_TRUE(ResourceMatches("arn:aws:dynamodb:*:*:table/cruddur-messages", kTable));
  EXPECT_TRUE(ResourceMatches("arn:aws:dynamodb:us-east-?:546310198960:table/*", kIndex));
  EXPECT_FALSE(ResourceMatches("arn:aws:dynamodb:us-west-2:546310198960:table/*", kTable));
  EXPECT_FALSE(ResourceMatches("arn:aws:dynamodb:us-east-1:546310198960:table/Cruddur-messages",
                               kTable));  // case-sensitive
  EXPECT_TRUE(
      ResourceMatches("arn:aws:dynamodb:us-east-1:546310198960:table/cruddur-messages/stream/*",
                      "arn:aws:dynamodb:us-east-1:546310198960:table/cruddur-messages/stream/"
                      "2026-11-24T08:54:24.123"));
  // A wildcard does not reach across segments: "*" in the region does not eat the account.
  EXPECT_FALSE(ResourceMatches("arn:aws:dynamodb:*:table/cruddur-messages", kTable));
  EXPECT_FALSE(ResourceMatches(std::string(kTable), "not an arn"));
}

TEST(PolicyTest, SeedInlinePolicyLoadsAsWritten) {
  std::vector<Policy> policies{MustParse(kSeedInlinePolicy)};
  ASSERT_EQ(policies[0].statements.size(), 1u);
  EXPECT_EQ(policies[0].version, "2012-10-17");
  EXPECT_EQ(policies[0].statements[0].sid, "VisualEditor0");
  for (std::string_view action : {"dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"}) {
    EXPECT_EQ(Decide(policies, action, kTable), Decision::kAllow) << action;
  }
  EXPECT_EQ(Decide(policies, "dynamodb:Query", kIndex), Decision::kAllow);
  // Action names compare case-insensitively, as IAM does.
  EXPECT_EQ(Decide(policies, "DynamoDB:putitem", kTable), Decision::kAllow);
  EXPECT_EQ(Decide(policies, "dynamodb:Scan", kTable), Decision::kImplicitDeny);
  EXPECT_EQ(Decide(policies, "dynamodb:GetItem", kTable), Decision::kImplicitDeny);
  EXPECT_EQ(
      Decide(policies, "dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:546310198960:table/other"),
      Decision::kImplicitDeny);
  EXPECT_EQ(Decide(policies, "dynamodb:Query",
                   "arn:aws:dynamodb:us-east-1:546310198960:table/cruddur-messages/index/other"),
            Decision::kImplicitDeny);
  EXPECT_EQ(Decide(policies, "dynamodb:PutItem",
                   "arn:aws:dynamodb:us-east-1:000000000000:table/cruddur-messages"),
            Decision::kImplicitDeny);
}

TEST(PolicyTest, ExplicitDenyWinsAcrossPolicies) {
  std::vector<Policy> policies{
      MustParse(R"({"Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}})"),
      MustParse(R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny",
        "Action":["dynamodb:Delete*"],"Resource":"arn:aws:dynamodb:*:*:table/cruddur-messages"}]})"),
  };
  EXPECT_EQ(Decide(policies, "dynamodb:GetItem", kTable), Decision::kAllow);
  EXPECT_EQ(Decide(policies, "dynamodb:DeleteItem", kTable), Decision::kExplicitDeny);
  EXPECT_EQ(Decide(policies, "dynamodb:DeleteTable", kTable), Decision::kExplicitDeny);
  EXPECT_EQ(Decide(policies, "dynamodb:DeleteItem",
                   "arn:aws:dynamodb:us-east-1:546310198960:table/other"),
            Decision::kAllow);
  EXPECT_EQ(Decide({}, "dynamodb:GetItem", kTable), Decision::kImplicitDeny);
}

TEST(PolicyTest, NotActionAndNotResource) {
  std::vector<Policy> policies{MustParse(R"({"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","NotAction":["dynamodb:Scan","dynamodb:Delete*"],"Resource":"*"},
    {"Effect":"Deny","Action":"dynamodb:*",
     "NotResource":["arn:aws:dynamodb:us-east-1:546310198960:table/cruddur-*"]}]})")};
  EXPECT_EQ(Decide(policies, "dynamodb:GetItem", kTable), Decision::kAllow);
  EXPECT_EQ(Decide(policies, "dynamodb:Query", kIndex), Decision::kAllow);
  EXPECT_EQ(Decide(policies, "dynamodb:Scan", kTable), Decision::kImplicitDeny);
  EXPECT_EQ(Decide(policies, "dynamodb:DeleteItem", kTable), Decision::kImplicitDeny);
  EXPECT_EQ(Decide(policies, "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:546310198960:table/x"),
            Decision::kExplicitDeny);
  // NotAction covers other services' actions too, as in IAM.
  EXPECT_EQ(Decide(policies, "s3:GetObject", "*"), Decision::kAllow);
}

TEST(PolicyTest, LeadingKeysWithForAllValues) {
  std::vector<Policy> policies{MustParse(R"({"Version":"2012-10-17","Statement":[{
    "Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:Query","dynamodb:Scan"],"Resource":"*",
    "Condition":{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["MSG#1","GRP#1"]}}}]})")};
  ConditionKeys own{{"dynamodb:leadingkeys", {"MSG#1"}}};
  ConditionKeys both{{"dynamodb:leadingkeys", {"GRP#1", "MSG#1"}}};
  ConditionKeys foreign{{"dynamodb:leadingkeys", {"MSG#1", "MSG#2"}}};
  EXPECT_EQ(Decide(policies, "dynamodb:GetItem", kTable, &own), Decision::kAllow);
  EXPECT_EQ(Decide(policies, "dynamodb:GetItem", kTable, &both), Decision::kAllow);
  EXPECT_EQ(Decide(policies, "dynamodb:GetItem", kTable, &foreign), Decision::kImplicitDeny);
  // IAM: ForAllValues over a key the request does not carry is true (why AWS adds a Deny on
  // Scan or a Null check to such policies).
  ConditionKeys none;
  EXPECT_EQ(Decide(policies, "dynamodb:Scan", kTable, &none), Decision::kAllow);
  EXPECT_EQ(Decide(policies, "dynamodb:Scan", kTable, nullptr), Decision::kAllow);
}

TEST(PolicyTest, StringLikeAndAttributes) {
  std::vector<Policy> policies{MustParse(R"({"Version":"2012-10-17","Statement":[{
    "Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{
      "ForAllValues:StringLike":{"dynamodb:LeadingKeys":"MSG#*"},
      "ForAllValues:StringEquals":{"dynamodb:Attributes":["pk","sk","message"]},
      "StringEqualsIfExists":{"dynamodb:Select":"SPECIFIC_ATTRIBUTES"}}}]})")};
  ConditionKeys ok{{"dynamodb:leadingkeys", {"MSG#abc"}}, {"dynamodb:attributes", {"pk", "sk"}}};
  EXPECT_EQ(Decide(policies, "dynamodb:GetItem", kTable, &ok), Decision::kAllow);
  ConditionKeys bad_key{{"dynamodb:leadingkeys", {"GRP#abc"}},
                        {"dynamodb:attributes", {"pk", "sk"}}};
  EXPECT_EQ(Decide(policies, "dynamodb:GetItem", kTable, &bad_key), Decision::kImplicitDeny);
  ConditionKeys bad_attr{{"dynamodb:leadingkeys", {"MSG#abc"}},
                         {"dynamodb:attributes", {"pk", "secret"}}};
  EXPECT_EQ(Decide(policies, "dynamodb:GetItem", kTable, &bad_attr), Decision::kImplicitDeny);
  ConditionKeys all_attrs{{"dynamodb:leadingkeys", {"MSG#abc"}},
                          {"dynamodb:select", {"ALL_ATTRIBUTES"}}};
  EXPECT_EQ(Decide(policies, "dynamodb:Query", kTable, &all_attrs), Decision::kImplicitDeny);
}

TEST(PolicyTest, SingleValuedAndNegatedOperators) {
  std::vector<Policy> policies{MustParse(R"({"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":"dynamodb:*","Resource":"*"},
    {"Effect":"Deny","Action":"dynamodb:*","Resource":"*",
     "Condition":{"StringNotEquals":{"dynamodb:ReturnValues":["NONE","ALL_NEW"]}}},
    {"Effect":"Deny","Action":"dynamodb:*","Resource":"*",
     "Condition":{"ForAnyValue:StringEqualsIgnoreCase":{"dynamodb:Attributes":"SECRET"}}}]})")};
  ConditionKeys none;
  // StringNotEquals on a missing key is true: the Deny applies.
  EXPECT_EQ(Decide(policies, "dynamodb:PutItem", kTable, &none), Decision::kExplicitDeny);
  ConditionKeys all_new{{"dynamodb:returnvalues", {"ALL_NEW"}}};
  EXPECT_EQ(Decide(policies, "dynamodb:PutItem", kTable, &all_new), Decision::kAllow);
  ConditionKeys all_old{{"dynamodb:returnvalues", {"ALL_OLD"}}};
  EXPECT_EQ(Decide(policies, "dynamodb:PutItem", kTable, &all_old), Decision::kExplicitDeny);
  ConditionKeys secret{{"dynamodb:returnvalues", {"NONE"}},
                       {"dynamodb:attributes", {"pk", "secret"}}};
  EXPECT_EQ(Decide(policies, "dynamodb:PutItem", kTable, &secret), Decision::kExplicitDeny);
}

TEST(PolicyTest, NullOperatorAndKeyNamesIgnoreCase) {
  std::vector<Policy> policies{MustParse(R"({"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":"dynamodb:*","Resource":"*",
     "Condition":{"Null":{"DynamoDB:LeadingKeys":"false"}}}]})")};
  ConditionKeys with{{"dynamodb:leadingkeys", {"a"}}};
  ConditionKeys without;
  EXPECT_EQ(Decide(policies, "dynamodb:Query", kTable, &with), Decision::kAllow);
  EXPECT_EQ(Decide(policies, "dynamodb:Scan", kTable, &without), Decision::kImplicitDeny);
}

TEST(PolicyTest, NonStringConditionValuesCompareAsText) {
  std::vector<Policy> policies{MustParse(R"({"Statement":{"Effect":"Allow","Action":"*",
    "Resource":"*","Condition":{"StringEquals":{"aws:x":[true, 12]}}}})")};
  ConditionKeys t{{"aws:x", {"true"}}};
  ConditionKeys n{{"aws:x", {"12"}}};
  EXPECT_EQ(Decide(policies, "dynamodb:GetItem", kTable, &t), Decision::kAllow);
  EXPECT_EQ(Decide(policies, "dynamodb:GetItem", kTable, &n), Decision::kAllow);
}

TEST(PolicyTest, StrictParsing) {
  EXPECT_NE(ParseError("[]").find("must be a JSON object"), std::string::npos);
  EXPECT_NE(ParseError(R"({"Version":"2012-10-17"})").find("needs a Statement"), std::string::npos);
  EXPECT_NE(ParseError(R"({"Version":"2012-10-18","Statement":[]})").find("Version"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"Statement":[],"Extra":1})").find("unknown policy element 'Extra'"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]})")
                .find("Effect must be"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
                          "Actions":"x"}]})")
                .find("statement 1: unknown Statement element 'Actions'"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"Statement":[{"Effect":"Allow","Action":"*","NotAction":"*",
                          "Resource":"*"}]})")
                .find("not both"),
            std::string::npos);
  EXPECT_NE(
      ParseError(R"({"Statement":[{"Effect":"Allow","Action":"*"}]})").find("needs a Resource"),
      std::string::npos);
  EXPECT_NE(
      ParseError(R"({"Statement":[{"Effect":"Allow","Resource":"*"}]})").find("needs an Action"),
      std::string::npos);
  EXPECT_NE(ParseError(R"({"Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
                          "Principal":{"AWS":"*"}}]})")
                .find("Principal is not allowed"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"Statement":[{"Effect":"Allow","Action":"PutItem","Resource":"*"}]})")
                .find("<service>:<action>"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]})")
                .find("empty list"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"Statement":[{"Effect":"Allow","Action":"*","Resource":"table/x"}]})")
                .find("must be \"*\" or an ARN"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
      "Condition":{"NumericEquals":{"dynamodb:x":"1"}}}]})")
                .find("unsupported condition operator 'NumericEquals'"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
      "Condition":{"ForAllValues:Null":{"dynamodb:x":"true"}}}]})")
                .find("unsupported condition operator"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
      "Condition":{"StringEquals":{"dynamodb:LeadingKeys":"${aws:username}"}}}]})")
                .find("policy variables"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
      "Condition":{"StringEquals":{"LeadingKeys":"a"}}}]})")
                .find("<prefix>:<name>"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
      "Condition":{"StringEquals":{"dynamodb:LeadingKeys":{"a":1}}}}]})")
                .find("values must be strings"),
            std::string::npos);
  EXPECT_NE(ParseError("{not json").find("not JSON"), std::string::npos);
}

}  // namespace
}  // namespace cruddur::dynamo::auth
