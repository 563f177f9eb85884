// Tests of the legacy parameter translation: requests are wire JSON, conditions and updates are
// checked by evaluating them against items.
#include "dynamo/api/legacy.h"

#include <gtest/gtest.h>

#include <string>

#include "common/json.h"
#include "dynamo/json/attribute_json.h"

namespace cruddur::dynamo::api {
namespace {

json::Document Parse(const std::string& text) {
  json::Document doc;
  Status st = json::Parse(text, &doc);
  EXPECT_TRUE(st.ok()) << st.ToString() << "\n" << text;
  return doc;
}

Item ItemOf(const std::string& text) {
  json::Document doc = Parse(text);
  auto item = DecodeItem(doc);
  EXPECT_TRUE(item.ok()) << item.status().ToString();
  return item.ok() ? std::move(item).value() : Item();
}

storage::KeySchema Key() {
  storage::KeySchema key;
  key.hash = {"pk", AttrType::kS};
  key.range = storage::KeyAttribute{"sk", AttrType::kN};
  return key;
}

const char* kItem =
    R"({"pk":{"S":"a"},"sk":{"N":"1"},"n":{"N":"5"},"s":{"S":"hello"},"ss":{"SS":["x","y"]},
        "l":{"L":[{"S":"x"},{"N":"1"}]},"b":{"B":"YWJj"}})";

// Whether `request`'s Expected (or filter, for `param`) holds for kItem.
bool Holds(const std::string& request,
           LegacyConditionParam param = LegacyConditionParam::kExpected) {
  json::Document doc = Parse(request);
  auto cond = LegacyCondition(doc, param);
  EXPECT_TRUE(cond.ok()) << cond.status().ToString() << "\n" << request;
  if (!cond.ok()) return false;
  auto holds = expr::EvaluateCondition(*cond, ItemOf(kItem));
  EXPECT_TRUE(holds.ok()) << holds.status().ToString();
  return holds.ok() && *holds;
}

std::string ConditionError(const std::string& request,
                           LegacyConditionParam param = LegacyConditionParam::kExpected) {
  json::Document doc = Parse(request);
  auto cond = LegacyCondition(doc, param);
  EXPECT_FALSE(cond.ok()) << request;
  return cond.status().message();
}

std::string Cmp(const std::string& attr, const std::string& op, const std::string& values) {
  return R"({"ScanFilter":{")" + attr + R"(":{"ComparisonOperator":")" + op +
         R"(","AttributeValueList":[)" + values + "]}}}";
}

bool Filter(const std::string& attr, const std::string& op, const std::string& values) {
  return Holds(Cmp(attr, op, values), LegacyConditionParam::kScanFilter);
}

TEST(LegacyConditionTest, ValueAndExists) {
  EXPECT_TRUE(Holds(R"({"Expected":{"n":{"Value":{"N":"5"}}}})"));
  EXPECT_FALSE(Holds(R"({"Expected":{"n":{"Value":{"N":"6"}}}})"));
  EXPECT_TRUE(Holds(R"({"Expected":{"n":{"Value":{"N":"5.0"}, "Exists":true}}})"));
  EXPECT_TRUE(Holds(R"({"Expected":{"zz":{"Exists":false}}})"));
  EXPECT_FALSE(Holds(R"({"Expected":{"n":{"Exists":false}}})"));
  EXPECT_TRUE(Holds(R"({"Expected":{"n":{"Value":{"N":"5"}, "ComparisonOperator":"GE"}}})"));
  EXPECT_TRUE(Holds(R"({"Expected":{}})"));
  EXPECT_TRUE(Holds(R"({})"));
}

TEST(LegacyConditionTest, EveryOperator) {
  EXPECT_TRUE(Filter("n", "EQ", R"({"N":"5"})"));
  EXPECT_FALSE(Filter("n", "EQ", R"({"S":"5"})"));
  EXPECT_TRUE(Filter("ss", "EQ", R"({"SS":["y","x"]})"));
  EXPECT_TRUE(Filter("n", "NE", R"({"S":"5"})"));
  EXPECT_TRUE(Filter("zz", "NE", R"({"N":"5"})"));
  EXPECT_TRUE(Filter("n", "LE", R"({"N":"5"})"));
  EXPECT_FALSE(Filter("n", "LT", R"({"N":"5"})"));
  EXPECT_TRUE(Filter("n", "GE", R"({"N":"5"})"));
  EXPECT_FALSE(Filter("n", "GT", R"({"N":"5"})"));
  EXPECT_FALSE(Filter("n", "GT", R"({"S":"1"})"));
  EXPECT_TRUE(Filter("n", "NOT_NULL", ""));
  EXPECT_FALSE(Filter("zz", "NOT_NULL", ""));
  EXPECT_TRUE(Filter("zz", "NULL", ""));
  EXPECT_TRUE(Filter("s", "CONTAINS", R"({"S":"ell"})"));
  EXPECT_TRUE(Filter("ss", "CONTAINS", R"({"S":"x"})"));
  EXPECT_TRUE(Filter("l", "CONTAINS", R"({"N":"1"})"));
  EXPECT_TRUE(Filter("b", "CONTAINS", R"({"B":"Yg=="})"));
  EXPECT_TRUE(Filter("s", "NOT_CONTAINS", R"({"S":"zz"})"));
  EXPECT_FALSE(Filter("l", "NOT_CONTAINS", R"({"N":"1"})"));
  EXPECT_FALSE(Filter("zz", "NOT_CONTAINS", R"({"N":"1"})"));  // missing: not satisfied
  EXPECT_TRUE(Filter("s", "BEGINS_WITH", R"({"S":"he"})"));
  EXPECT_FALSE(Filter("s", "BEGINS_WITH", R"({"S":"el"})"));
  EXPECT_TRUE(Filter("n", "IN", R"({"N":"4"},{"N":"5"})"));
  EXPECT_FALSE(Filter("n", "IN", R"({"N":"4"})"));
  EXPECT_TRUE(Filter("n", "BETWEEN", R"({"N":"5"},{"N":"6"})"));
  EXPECT_FALSE(Filter("n", "BETWEEN", R"({"N":"6"},{"N":"7"})"));
}

TEST(LegacyConditionTest, InBeyondTheExpressionLimit) {
  std::string values;
  for (int i = 100; i < 250; ++i) {
    values += std::string(values.empty() ? "" : ",") + R"({"N":")" + std::to_string(i) + R"("})";
  }
  EXPECT_FALSE(Filter("n", "IN", values));
  EXPECT_TRUE(Filter("n", "IN", values + R"(,{"N":"5"})"));
}

TEST(LegacyConditionTest, ConditionalOperator) {
  const char* two = R"("n":{"ComparisonOperator":"GT","AttributeValueList":[{"N":"4"}]},
                       "zz":{"ComparisonOperator":"NOT_NULL"})";
  EXPECT_TRUE(Holds(std::string(R"({"ConditionalOperator":"OR","Expected":{)") + two + "}}"));
  EXPECT_FALSE(Holds(std::string(R"({"ConditionalOperator":"AND","Expected":{)") + two + "}}"));
  EXPECT_FALSE(Holds(std::string(R"({"Expected":{)") + two + "}}"));
  EXPECT_EQ(ConditionError(R"({"ConditionalOperator":"OR"})"),
            "ConditionalOperator cannot be used without Filter or Expected");
  EXPECT_EQ(ConditionError(R"({"ConditionalOperator":"OR","Expected":{}})"),
            "ConditionalOperator cannot be used without Filter or Expected");
  EXPECT_EQ(ConditionError(R"({"ConditionalOperator":"OR","Expected":{"n":{"Exists":false}}})"),
            "ConditionalOperator can only be used when Filter or Expected has two or more "
            "elements");
}

TEST(LegacyConditionTest, ExpectedErrors) {
  const std::string p = "One or more parameter values were invalid: ";
  EXPECT_EQ(ConditionError(R"({"Expected":{"n":{"Exists":true}}})"),
            p + "Value must be provided when Exists is true for Attribute: n");
  EXPECT_EQ(ConditionError(R"({"Expected":{"n":{}}})"),
            p + "Value must be provided when Exists is null for Attribute: n");
  EXPECT_EQ(ConditionError(R"({"Expected":{"n":{"Exists":false,"Value":{"N":"1"}}}})"),
            p + "Value cannot be used when Exists is false for Attribute: n");
  EXPECT_EQ(ConditionError(R"({"Expected":{"n":{"Exists":true,"ComparisonOperator":"NULL"}}})"),
            p + "Exists and ComparisonOperator cannot be used together for Attribute: n");
  EXPECT_EQ(ConditionError(R"({"Expected":{"n":{"Value":{"N":"1"},"ComparisonOperator":"EQ",
                                                "AttributeValueList":[{"N":"1"}]}}})"),
            p + "Value and AttributeValueList cannot be used together for Attribute: n");
  EXPECT_EQ(ConditionError(R"({"Expected":{"n":{"AttributeValueList":[{"N":"1"}]}}})"),
            p + "AttributeValueList can only be used with a ComparisonOperator for Attribute: n");
  EXPECT_EQ(ConditionError(R"({"Expected":{"n":{"ComparisonOperator":"EQ"}}})"),
            p + "Value or AttributeValueList must be used with ComparisonOperator: EQ for "
                "Attribute: n");
  EXPECT_EQ(ConditionError(R"({"Expected":{"n":{"ComparisonOperator":"BETWEEN",
                                                "Value":{"N":"1"}}}})"),
            p + "Invalid number of argument(s) for the BETWEEN ComparisonOperator");
}

TEST(LegacyConditionTest, ArgumentErrors) {
  const std::string p = "One or more parameter values were invalid: ";
  auto error = [](const std::string& op, const std::string& values) {
    return ConditionError(Cmp("n", op, values), LegacyConditionParam::kScanFilter);
  };
  EXPECT_EQ(error("EQ", ""), p + "Invalid number of argument(s) for the EQ ComparisonOperator");
  EXPECT_EQ(error("NULL", R"({"N":"1"})"),
            p + "Invalid number of argument(s) for the NULL ComparisonOperator");
  EXPECT_EQ(error("IN", ""), p + "Invalid number of argument(s) for the IN ComparisonOperator");
  EXPECT_EQ(error("LT", R"({"SS":["a"]})"),
            p + "ComparisonOperator LT is not valid for SS AttributeValue type");
  EXPECT_EQ(error("CONTAINS", R"({"L":[]})"),
            p + "ComparisonOperator CONTAINS is not valid for L AttributeValue type");
  EXPECT_EQ(error("BEGINS_WITH", R"({"N":"1"})"),
            p + "ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type");
  EXPECT_EQ(error("BETWEEN", R"({"N":"1"},{"SS":["a"]})"),
            p + "ComparisonOperator BETWEEN is not valid for SS AttributeValue type");
  EXPECT_EQ(error("IN", R"({"N":"1"},{"S":"a"})"),
            p + "AttributeValues inside AttributeValueList must be of same type");
  EXPECT_EQ(error("BETWEEN", R"({"S":"b"},{"S":"a"})"),
            "The BETWEEN condition was provided a range where the lower bound is greater than "
            "the upper bound");
  EXPECT_EQ(error("EQ", R"({"N":"x"})"), "A value provided cannot be converted into a number");
}

// Applies `request`'s AttributeUpdates to kItem.
Result<Item> Update(const std::string& request) {
  json::Document doc = Parse(request);
  CRUDDUR_ASSIGN_OR_RETURN(expr::Update update, LegacyAttributeUpdates(doc, Key()));
  Item item = ItemOf(kItem);
  CRUDDUR_RETURN_IF_ERROR(LegacyUpdateStatus(expr::ApplyUpdate(update, &item)));
  return item;
}

TEST(LegacyUpdateTest, Actions) {
  auto put = Update(R"({"AttributeUpdates":{"n":{"Value":{"S":"now"}}}})");
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->at("n"), AttributeValue::S("now"));

  auto add = Update(R"({"AttributeUpdates":{"n":{"Action":"ADD","Value":{"N":"3"}},
                                            "new":{"Action":"ADD","Value":{"N":"2"}},
                                            "ss":{"Action":"ADD","Value":{"SS":["z"]}},
                                            "l":{"Action":"ADD","Value":{"L":[{"S":"q"}]}},
                                            "l2":{"Action":"ADD","Value":{"L":[{"S":"q"}]}}}})");
  ASSERT_TRUE(add.ok()) << add.status().ToString();
  EXPECT_EQ(add->at("n"), AttributeValue::N(*Decimal::Parse("8")));
  EXPECT_EQ(add->at("new"), AttributeValue::N(*Decimal::Parse("2")));
  EXPECT_EQ(add->at("ss"), AttributeValue::SS({"x", "y", "z"}));
  EXPECT_EQ(add->at("l").list.size(), 3u);
  EXPECT_EQ(add->at("l2"), AttributeValue::L({AttributeValue::S("q")}));

  auto del = Update(R"({"AttributeUpdates":{"n":{"Action":"DELETE"},
                                            "ss":{"Action":"DELETE","Value":{"SS":["x"]}},
                                            "zz":{"Action":"DELETE","Value":{"SS":["x"]}}}})");
  ASSERT_TRUE(del.ok()) << del.status().ToString();
  EXPECT_EQ(del->count("n"), 0u);
  EXPECT_EQ(del->at("ss"), AttributeValue::SS({"y"}));
  EXPECT_EQ(del->count("zz"), 0u);

  auto emptied = Update(R"({"AttributeUpdates":{"ss":{"Action":"DELETE",
                                                       "Value":{"SS":["x","y"]}}}})");
  ASSERT_TRUE(emptied.ok());
  EXPECT_EQ(emptied->count("ss"), 0u);
}

TEST(LegacyUpdateTest, Errors) {
  const std::string p = "One or more parameter values were invalid: ";
  auto error = [](const std::string& updates) {
    auto r = Update(R"({"AttributeUpdates":)" + updates + "}");
    EXPECT_FALSE(r.ok()) << updates;
    return r.status().message();
  };
  EXPECT_EQ(error(R"({"n":{"Action":"PUT"}})"),
            p + "Only DELETE action is allowed when no attribute value is specified");
  EXPECT_EQ(error(R"({"n":{"Action":"ADD","Value":{"S":"x"}}})"),
            p + "ADD action is not supported for the type STRING");
  EXPECT_EQ(error(R"({"n":{"Action":"ADD","Value":{"M":{}}}})"),
            p + "ADD action is not supported for the type MAP");
  EXPECT_EQ(error(R"({"n":{"Action":"DELETE","Value":{"N":"1"}}})"),
            p + "DELETE action with value is not supported for the type NUMBER");
  EXPECT_EQ(error(R"({"sk":{"Action":"ADD","Value":{"S":"x"}}})"),
            p + "Cannot update attribute sk. This attribute is part of the key");
  EXPECT_EQ(error(R"({"a":{"Action":"ADD","Value":{"S":"x"}},"pk":{"Value":{"S":"x"}}})"),
            p + "ADD action is not supported for the type STRING");
  EXPECT_EQ(error(R"({"s":{"Action":"ADD","Value":{"N":"1"}}})"),
            "Type mismatch for attribute to update");
  EXPECT_EQ(error(R"({"ss":{"Action":"DELETE","Value":{"NS":["1"]}}})"),
            "Type mismatch for attribute to update");
  EXPECT_EQ(error(R"({"s":{"Action":"ADD","Value":{"L":[]}}})"),
            "Type mismatch for attribute to update");
}

Result<expr::KeyCondition> KeyConditions(const std::string& conditions) {
  json::Document doc = Parse(conditions);
  return LegacyKeyConditions(doc, Key());
}

TEST(LegacyKeyConditionsTest, HashAndRange) {
  auto hash =
      KeyConditions(R"({"pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"a"}]}})");
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_EQ(hash->hash_value, AttributeValue::S("a"));
  EXPECT_FALSE(hash->sort.has_value());

  auto between = KeyConditions(R"({"sk":{"ComparisonOperator":"BETWEEN",
                                         "AttributeValueList":[{"N":"2"},{"N":"4"}]},
                                   "pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"a"}]}})");
  ASSERT_TRUE(between.ok()) << between.status().ToString();
  ASSERT_TRUE(between->sort.has_value());
  EXPECT_EQ(between->sort->op, expr::SortKeyOp::kBetween);
  EXPECT_EQ(between->sort->value, AttributeValue::N(*Decimal::Parse("2")));
  EXPECT_EQ(between->sort->value2, AttributeValue::N(*Decimal::Parse("4")));
}

TEST(LegacyKeyConditionsTest, Errors) {
  auto error = [](const std::string& conditions) {
    auto r = KeyConditions(conditions);
    EXPECT_FALSE(r.ok()) << conditions;
    return r.status().message();
  };
  const std::string hash = R"("pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"a"}]})";
  EXPECT_EQ(error("{}"), "Conditions must be at least length 1");
  EXPECT_EQ(error("{" + hash +
                  R"(,"sk":{"ComparisonOperator":"NOT_NULL"},"v":{"ComparisonOperator":"NULL"}})"),
            "Conditions can be of length 1 or 2 only");
  EXPECT_EQ(error(R"({"sk":{"ComparisonOperator":"EQ","AttributeValueList":[{"N":"1"}]}})"),
            "Query condition missed key schema element");
  EXPECT_EQ(
      error("{" + hash + R"(,"v":{"ComparisonOperator":"EQ","AttributeValueList":[{"N":"1"}]}})"),
      "Query condition missed key schema element");
  EXPECT_EQ(error(R"({"pk":{"ComparisonOperator":"GT","AttributeValueList":[{"S":"a"}]}})"),
            "Query key condition not supported");
  EXPECT_EQ(error(R"({"pk":{"ComparisonOperator":"NULL"}})"),
            "Only scalar types can be used as Hash Key values");
  EXPECT_EQ(error("{" + hash + R"(,"sk":{"ComparisonOperator":"NOT_NULL"}})"),
            "Only scalar types can be used as Range Key values");
  EXPECT_EQ(
      error("{" + hash + R"(,"sk":{"ComparisonOperator":"IN","AttributeValueList":[{"N":"1"}]}})"),
      "Attempted conditional constraint is not an indexable operation");
  EXPECT_EQ(error("{" + hash + R"(,"sk":{"ComparisonOperator":"LT","AttributeValueList":[]}})"),
            "One or more parameter values were invalid: Invalid number of argument(s) for the LT "
            "ComparisonOperator");
}

}  // namespace
}  // namespace cruddur::dynamo::api
