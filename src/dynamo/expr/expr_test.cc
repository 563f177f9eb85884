// Error texts marked "oracle" were checked against DynamoDB Local (the same expression engine
// AWS ships) by sending the expression in a DeleteItem/UpdateItem/GetItem/Query request.
#include "dynamo/expr/expr.h"

#include <gtest/gtest.h>

#include <string>

namespace cruddur::dynamo::expr {
namespace {

AttributeValue N(const char* text) { return AttributeValue::N(Decimal::Parse(text).value()); }
AttributeValue S(const char* text) { return AttributeValue::S(text); }

ExpressionAttributes Attrs(std::map<std::string, AttributeValue, std::less<>> values = {},
                           std::map<std::string, std::string, std::less<>> names = {}) {
  ExpressionAttributes a;
  a.values = std::move(values);
  a.names = std::move(names);
  return a;
}

// The error text of parsing `text` as a ConditionExpression with :v = 1 (plus `values`).
std::string CondError(const std::string& text,
                      std::map<std::string, AttributeValue, std::less<>> values = {}) {
  values.emplace(":v", N("1"));
  ExpressionAttributes attrs = Attrs(std::move(values), {{"#n", "x"}});
  Result<Condition> c = ParseCondition(text, "ConditionExpression", &attrs);
  return c.ok() ? "OK" : c.status().message();
}

bool Eval(const std::string& text, const Item& item,
          std::map<std::string, AttributeValue, std::less<>> values = {}) {
  ExpressionAttributes attrs = Attrs(std::move(values));
  Result<Condition> c = ParseCondition(text, "FilterExpression", &attrs);
  EXPECT_TRUE(c.ok()) << text << ": " << c.status().ToString();
  if (!c.ok()) return false;
  Result<bool> r = EvaluateCondition(*c, item);
  EXPECT_TRUE(r.ok());
  return r.ok() && *r;
}

std::string UpdateError(const std::string& text,
                        std::map<std::string, AttributeValue, std::less<>> values = {}) {
  ExpressionAttributes attrs = Attrs(std::move(values));
  Result<Update> u = ParseUpdate(text, &attrs);
  return u.ok() ? "OK" : u.status().message();
}

// Parses and applies `text` to *item; returns the error text or "OK".
std::string RunUpdate(const std::string& text, Item* item,
                      std::map<std::string, AttributeValue, std::less<>> values = {}) {
  ExpressionAttributes attrs = Attrs(std::move(values));
  Result<Update> u = ParseUpdate(text, &attrs);
  if (!u.ok()) return u.status().message();
  Status s = ApplyUpdate(*u, item);
  return s.ok() ? "OK" : s.message();
}

AttributeValue List(std::initializer_list<AttributeValue> v) { return AttributeValue::L(v); }

// ---- Syntax errors (oracle) ----------------------------------------------------------------

TEST(ConditionSyntax, ErrorsQuoteTokenAndNeighbours) {
  const std::string p = "Invalid ConditionExpression: Syntax error; ";
  EXPECT_EQ(CondError("a = "), p + "token: \"<EOF>\", near: \"= \"");
  EXPECT_EQ(CondError("a x"), p + "token: \"x\", near: \"a x\"");
  EXPECT_EQ(CondError("a = :v x"), p + "token: \"x\", near: \":v x\"");
  EXPECT_EQ(CondError("a IN ()"), p + "token: \")\", near: \"()\"");
  EXPECT_EQ(CondError("(a = :v"), p + "token: \"<EOF>\", near: \":v\"");
  EXPECT_EQ(CondError("a = :v)"), p + "token: \")\", near: \":v)\"");
  EXPECT_EQ(CondError("a[-1] = :v"), p + "token: \"-\", near: \"[-1\"");
  EXPECT_EQ(CondError("a == :v"), p + "token: \"=\", near: \"== :v\"");
  EXPECT_EQ(CondError("a = \"x\""), p + "token: \"\"\", near: \"= \"x\"");
  EXPECT_EQ(CondError("a"), p + "token: \"<EOF>\", near: \"a\"");
  EXPECT_EQ(CondError("1a = :v"), p + "token: \"1\", near: \"1a\"");
  EXPECT_EQ(CondError("_a = :v"), p + "token: \"_\", near: \"_a\"");
  EXPECT_EQ(CondError("\xC3\xA9 = :v"), p + "token: \"\xC3\xA9\", near: \"\xC3\xA9 =\"");
  EXPECT_EQ(CondError("a[01] = :v"), p + "token: \"1\", near: \"01]\"");
  EXPECT_EQ(CondError("= a"), p + "token: \"=\", near: \"= a\"");
  EXPECT_EQ(CondError("a < b < c"), p + "token: \"<\", near: \"b < c\"");
  EXPECT_EQ(CondError("a = :v AND AND"), p + "token: \"AND\", near: \"AND AND\"");
  EXPECT_EQ(CondError("a IN (:v,)"), p + "token: \")\", near: \",)\"");
  EXPECT_EQ(CondError("a[1]b = :v"), p + "token: \"b\", near: \"]b =\"");
  EXPECT_EQ(CondError("a.[1] = :v"), p + "token: \"[\", near: \".[1\"");
  EXPECT_EQ(CondError("a[x] = :v"), p + "token: \"x\", near: \"[x]\"");
  EXPECT_EQ(CondError("NOT"), p + "token: \"<EOF>\", near: \"NOT\"");
  EXPECT_EQ(CondError("((a x))"), p + "token: \"x\", near: \"a x)\"");
  EXPECT_EQ(CondError("a = :v-1"), p + "token: \"-\", near: \":v-1\"");
}

TEST(ConditionSyntax, AcceptedForms) {
  for (const char* ok : {"a = :v",
                         "a1 = :v",
                         "a_b = :v",
                         "a [ 1 ] = :v",
                         "a . b = :v",
                         ":v = a",
                         "(a) = :v",
                         "(a = :v)",
                         "NOT (a = :v)",
                         "(NOT a = :v)",
                         "a = (:v)",
                         "a IN ((:v))",
                         "NOT NOT a = :v",
                         "((a = :v) AND (b = :v))",
                         "a = :v and b = :v",
                         "\ta\n=\r:v",
                         "a=:v",
                         "size = :v",
                         "a.size = :v",
                         "#n = :v",
                         "size(a) < :v",
                         "a IN (:v, b, size(c))",
                         "contains(:v, a)",
                         "a.b[1][2].c = :v",
                         "a <> :v AND NOT b = :v"}) {
    EXPECT_EQ(CondError(ok), "OK") << ok;
  }
}

TEST(ConditionSemantics, ErrorTexts) {  // oracle
  const std::string p = "Invalid ConditionExpression: ";
  EXPECT_EQ(CondError(""), p + "The expression can not be empty;");
  EXPECT_EQ(CondError("status = :v"),
            p + "Attribute name is a reserved keyword; reserved keyword: status");
  EXPECT_EQ(CondError("a.status = :v"),
            p + "Attribute name is a reserved keyword; reserved keyword: status");
  EXPECT_EQ(CondError("#x = :v"),
            p + "An expression attribute name used in the document path is not defined; "
                "attribute name: #x");
  EXPECT_EQ(CondError("a = :zz"),
            p + "An expression attribute value used in expression is not defined; attribute "
                "value: :zz");
  EXPECT_EQ(CondError("a BETWEEN :h AND :l", {{":h", N("5")}, {":l", N("1")}}),
            p + "The BETWEEN operator requires upper bound to be greater than or equal to lower "
                "bound; lower bound operand: AttributeValue: {N:5}, upper bound operand: "
                "AttributeValue: {N:1}");
  EXPECT_EQ(CondError("a BETWEEN :h AND :l", {{":h", S("x")}, {":l", N("1")}}),
            p + "The BETWEEN operator requires same data type for lower and upper bounds; lower "
                "bound operand: AttributeValue: {S:x}, upper bound operand: AttributeValue: {N:1}");
  EXPECT_EQ(CondError("size(a)"),
            p + "The function is not allowed to be used this way in an expression; function: "
                "size");
  EXPECT_EQ(CondError("attribute_exists(a) = :v"),
            p + "The function is not allowed to be used this way in an expression; function: "
                "attribute_exists");
  EXPECT_EQ(CondError("attribute_type(a, :t)", {{":t", S("XX")}}),
            p + "Invalid attribute type name found; type: XX, valid types: "
                "{N,BS,L,B,NULL,M,S,SS,NS,BOOL}");
  EXPECT_EQ(CondError("attribute_type(a, :v)"),
            p + "Incorrect operand type for operator or function; operator or function: "
                "attribute_type, operand type: N");
  EXPECT_EQ(CondError("foo(a)"), p + "Invalid function name; function: foo");
  EXPECT_EQ(CondError("SIZE(a) = :v"), p + "Invalid function name; function: SIZE");
  EXPECT_EQ(CondError("begins_with(a, :v)"),
            p + "Incorrect operand type for operator or function; operator or function: "
                "begins_with, operand type: N");
  EXPECT_EQ(CondError("contains(a)"),
            p + "Incorrect number of operands for operator or function; operator or function: "
                "contains, number of operands: 1");
  EXPECT_EQ(CondError("a < :b", {{":b", AttributeValue::Bool(true)}}),
            p + "Incorrect operand type for operator or function; operator or function: <, "
                "operand type: BOOL");
  EXPECT_EQ(CondError("size(:v) = :v"),
            p + "Incorrect operand type for operator or function; operator or function: size, "
                "operand type: N");
  EXPECT_EQ(CondError("size(size(a)) = :v"),
            p + "Incorrect operand type for operator or function; operator or function: size, "
                "operand type: N");
  EXPECT_EQ(CondError("attribute_exists(:v)"),
            p + "Operator or function requires a document path; operator or function: "
                "attribute_exists");
  EXPECT_EQ(CondError("a = a"),
            p + "The first operand must be distinct from the remaining operands for this "
                "operator or function; operator: =, first operand: [a]");
  EXPECT_EQ(CondError("a.b = a.b"),
            p + "The first operand must be distinct from the remaining operands for this "
                "operator or function; operator: =, first operand: [a, b]");
  EXPECT_EQ(CondError("a IN (:v, a)"),
            p + "The first operand must be distinct from the remaining operands for this "
                "operator or function; operator: IN, first operand: [a]");
  EXPECT_EQ(CondError("begins_with(a, a)"),
            p + "The first operand must be distinct from the remaining operands for this "
                "operator or function; operator: begins_with, first operand: [a]");
  EXPECT_EQ(CondError("((a = :v))"), p + "The expression has redundant parentheses;");
  EXPECT_EQ(CondError("NOT ((a = :v))"), p + "The expression has redundant parentheses;");
  EXPECT_EQ(CondError("a[99999999999] = :v"),
            p + "List index is not within the allowable range; index: [99999999999]");
  EXPECT_EQ(CondError("a[2147483648] = :v"),
            p + "List index is not within the allowable range; index: [2147483648]");
}

TEST(ConditionSemantics, ErrorsComeInDynamoOrder) {  // oracle
  const std::string p = "Invalid ConditionExpression: ";
  EXPECT_EQ(CondError("status = :zz"),
            p + "Attribute name is a reserved keyword; reserved keyword: status");
  EXPECT_EQ(CondError(":zz = #zz"),
            p + "An expression attribute value used in expression is not defined; attribute "
                "value: :zz");
  EXPECT_EQ(CondError("foo(#zz)"), p + "Invalid function name; function: foo");
  EXPECT_EQ(CondError("((a = :zz))"), p + "The expression has redundant parentheses;");
  EXPECT_EQ(CondError("status = :v AND ((a = :v))"),
            p + "The expression has redundant parentheses;");
  EXPECT_EQ(CondError("status x"), p + "Syntax error; token: \"x\", near: \"status x\"");
}

TEST(ConditionLimits, SizeOperatorsInAndDepth) {  // oracle
  const std::string p = "Invalid ConditionExpression: ";
  EXPECT_EQ(CondError("a = :v" + std::string(4090, ' ')), "OK");
  EXPECT_EQ(CondError("a = :v" + std::string(4091, ' ')),
            p + "Expression size has exceeded the maximum allowed size; expression size: 4097");
  std::string many = "a = :v";
  for (int i = 0; i < 150; ++i) many += " AND a = :v";  // 301 operators
  EXPECT_EQ(CondError(many), p + "The expression contains too many operators; operator count: 301");
  std::string fine = "a = :v";
  for (int i = 0; i < 149; ++i) fine += " AND a = :v";
  EXPECT_EQ(CondError(fine), "OK");
  std::string funcs = "a = :v";
  for (int i = 0; i < 150; ++i) funcs += " AND attribute_exists(a)";
  EXPECT_EQ(CondError(funcs),
            p + "The expression contains too many operators; operator count: 301");

  std::string in = "a IN (:v";
  for (int i = 1; i < 100; ++i) in += ",:v";
  EXPECT_EQ(CondError(in + ")"), "OK");
  EXPECT_EQ(CondError(in + ",:v)"),
            p + "The IN operator is provided with too many operands; number of operands: 101");

  std::string deep = "x";
  for (int i = 0; i < 31; ++i) deep += ".a";
  EXPECT_EQ(CondError(deep + " = :v"), "OK");
  EXPECT_EQ(CondError(deep + ".a = :v"),
            p + "The document path has too many nesting levels; nesting levels: 33");
}

TEST(ConditionLimits, DeepParenthesesDoNotOverflow) {
  std::string text = std::string(2000, '(') + "a = :v" + std::string(2000, ')');
  EXPECT_NE(CondError(text), "OK");
}

TEST(ExpressionAttributes, UnusedAndUsedTracking) {  // oracle
  ExpressionAttributes attrs = Attrs({{":v", N("1")}, {":w", N("2")}}, {{"#a", "a"}, {"#b", "b"}});
  ASSERT_TRUE(ParseCondition("#a = :v", "ConditionExpression", &attrs).ok());
  EXPECT_EQ(CheckAllAttributesUsed(attrs).message(),
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}");
  ASSERT_TRUE(ParseUpdate("SET #b = :v", &attrs).ok());
  EXPECT_EQ(CheckAllAttributesUsed(attrs).message(),
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}");
  // Placeholders in a failed parse are not marked used.
  EXPECT_FALSE(ParseProjection("#a, :w", &attrs).ok());
  EXPECT_EQ(attrs.used_values.count(":w"), 0u);
}

TEST(ConditionParse, FilterParamAndTopLevelNames) {
  ExpressionAttributes attrs = Attrs({{":v", N("1")}}, {{"#k", "pk"}});
  Result<Condition> c = ParseCondition("#k = :v AND m.x[1] > :v", "FilterExpression", &attrs);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->top_level_names(), (std::set<std::string, std::less<>>{"m", "pk"}));
  Result<Condition> bad = ParseCondition("a x", "FilterExpression", &attrs);
  EXPECT_EQ(bad.status().message(),
            "Invalid FilterExpression: Syntax error; token: \"x\", near: \"a x\"");
}

// ---- Evaluation -------------------------------------------------------------------------

Item SampleItem() {
  Item item;
  item["s"] = S("hello");
  item["u"] = S("\xC3\xA9");  // one character, two bytes
  item["n"] = N("10");
  item["b"] = AttributeValue::B("abc");
  item["t"] = AttributeValue::Bool(true);
  item["ss"] = AttributeValue::SS({"ab", "c"});
  item["ns"] = AttributeValue::NS({Decimal::FromInt(1), Decimal::FromInt(2)});
  item["l"] = List({S("x"), N("2"), AttributeValue::M({{"p", N("7")}})});
  item["m"] = AttributeValue::M({{"x", N("1")}, {"y", List({N("0"), N("1")})}});
  return item;
}

TEST(Evaluate, Comparisons) {
  Item item = SampleItem();
  EXPECT_TRUE(Eval("n = :a", item, {{":a", N("10.0")}}));
  EXPECT_TRUE(Eval("n > :a", item, {{":a", N("9.5")}}));
  EXPECT_FALSE(Eval("n > :a", item, {{":a", S("9")}}));  // different types: false
  EXPECT_FALSE(Eval("n = :a", item, {{":a", S("10")}}));
  EXPECT_TRUE(Eval("n <> :a", item, {{":a", S("10")}}));
  EXPECT_TRUE(Eval("nope <> :a", item, {{":a", S("x")}}));  // oracle: missing <> x is true
  EXPECT_FALSE(Eval("nope = :a", item, {{":a", S("x")}}));
  EXPECT_TRUE(Eval("s < :a", item, {{":a", S("help")}}));
  EXPECT_TRUE(Eval("b >= :a", item, {{":a", AttributeValue::B("abc")}}));
  EXPECT_FALSE(Eval("t > :a", item, {{":a", N("1")}}));
  EXPECT_TRUE(Eval("l[1] = :a AND l[2].p = :b", item, {{":a", N("2")}, {":b", N("7")}}));
  EXPECT_TRUE(Eval("m.y[1] <= :a", item, {{":a", N("1")}}));
  EXPECT_TRUE(Eval("ss = :a", item, {{":a", AttributeValue::SS({"c", "ab"})}}));
  EXPECT_TRUE(Eval(":a = :a", item, {{":a", N("1")}}));
}

TEST(Evaluate, BetweenInAndLogic) {
  Item item = SampleItem();
  EXPECT_TRUE(Eval("n BETWEEN :a AND :b", item, {{":a", N("10")}, {":b", N("11")}}));
  EXPECT_FALSE(Eval("n BETWEEN :a AND :b", item, {{":a", N("11")}, {":b", N("12")}}));
  EXPECT_FALSE(Eval("s BETWEEN m AND l", item));
  EXPECT_TRUE(Eval("n IN (:a, :b)", item, {{":a", N("1")}, {":b", N("10")}}));
  EXPECT_FALSE(Eval("nope IN (:a)", item, {{":a", N("1")}}));
  // AND binds tighter than OR; NOT tighter than AND.
  EXPECT_TRUE(
      Eval("n = :a OR n = :b AND n = :c", item, {{":a", N("10")}, {":b", N("1")}, {":c", N("2")}}));
  EXPECT_FALSE(Eval("(n = :a OR n = :b) AND n = :c", item,
                    {{":a", N("10")}, {":b", N("1")}, {":c", N("2")}}));
  EXPECT_TRUE(Eval("NOT n = :b AND n = :a", item, {{":a", N("10")}, {":b", N("1")}}));
}

TEST(Evaluate, Functions) {
  Item item = SampleItem();
  EXPECT_TRUE(Eval("attribute_exists(m.y[1])", item));
  EXPECT_FALSE(Eval("attribute_exists(m.y[2])", item));
  EXPECT_TRUE(Eval("attribute_not_exists(m.z)", item));
  EXPECT_TRUE(Eval("attribute_type(ss, :t)", item, {{":t", S("SS")}}));
  EXPECT_FALSE(Eval("attribute_type(ss, :t)", item, {{":t", S("NS")}}));
  EXPECT_TRUE(Eval("begins_with(s, :p)", item, {{":p", S("he")}}));
  EXPECT_FALSE(Eval("begins_with(s, :p)", item, {{":p", S("hello!")}}));
  EXPECT_TRUE(Eval("begins_with(b, :p)", item, {{":p", AttributeValue::B("ab")}}));
  EXPECT_TRUE(Eval("contains(s, :p)", item, {{":p", S("ell")}}));
  EXPECT_TRUE(Eval("contains(b, :p)", item, {{":p", AttributeValue::B("b")}}));  // oracle
  EXPECT_FALSE(Eval("contains(ss, :p)", item, {{":p", S("a")}}));                // oracle
  EXPECT_TRUE(Eval("contains(ss, :p)", item, {{":p", S("ab")}}));
  EXPECT_TRUE(Eval("contains(ns, :p)", item, {{":p", N("2.0")}}));
  EXPECT_TRUE(Eval("contains(l, :p)", item, {{":p", S("x")}}));
  EXPECT_FALSE(Eval("contains(n, :p)", item, {{":p", N("1")}}));
  EXPECT_TRUE(Eval("size(s) = :n", item, {{":n", N("5")}}));
  EXPECT_TRUE(Eval("size(u) = :n", item, {{":n", N("1")}}));  // oracle: characters
  EXPECT_TRUE(Eval("size(b) = :n", item, {{":n", N("3")}}));
  EXPECT_TRUE(Eval("size(l) = :n AND size(m) = :m", item, {{":n", N("3")}, {":m", N("2")}}));
  EXPECT_FALSE(Eval("size(n) = :n", item, {{":n", N("2")}}));
  EXPECT_TRUE(Eval("size(:x) = :n", item, {{":x", S("xy")}, {":n", N("2")}}));
}

TEST(Evaluate, EmptyItemAndEmptyCondition) {
  EXPECT_TRUE(Eval("attribute_not_exists(pk)", Item{}));
  EXPECT_TRUE(*EvaluateCondition(Condition(), Item{}));
}

// ---- Projection -------------------------------------------------------------------------

Item Project(const std::string& text, const Item& item,
             std::map<std::string, std::string, std::less<>> names = {}) {
  ExpressionAttributes attrs = Attrs({}, std::move(names));
  Result<Projection> p = ParseProjection(text, &attrs);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? ApplyProjection(*p, item) : Item{};
}

TEST(Projection, NestedPathsAndIndexes) {  // shapes checked against the oracle
  Item item = SampleItem();
  Item out = Project("s, l[2].p, l[0]", item);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out["s"], S("hello"));
  EXPECT_EQ(out["l"], List({S("x"), AttributeValue::M({{"p", N("7")}})}));
  out = Project("m.y[1], m.x", item);
  EXPECT_EQ(out["m"], AttributeValue::M({{"x", N("1")}, {"y", List({N("1")})}}));
  EXPECT_TRUE(Project("m.zz, nope, l[9], l[0].x", item).empty());
  EXPECT_TRUE(Project("m[0]", item).empty());
  out = Project("#q", item, {{"#q", "n"}});
  EXPECT_EQ(out["n"], N("10"));
  Projection names = Projection::FromAttributeNames({"n", "t", "missing"});
  EXPECT_EQ(ApplyProjection(names, item).size(), 2u);
}

TEST(Projection, Errors) {  // oracle
  auto err = [](const std::string& text) {
    ExpressionAttributes attrs;
    Result<Projection> p = ParseProjection(text, &attrs);
    return p.ok() ? "OK" : p.status().message();
  };
  const std::string p = "Invalid ProjectionExpression: ";
  EXPECT_EQ(err("a, a"), p + "Two document paths overlap with each other; must remove or rewrite "
                             "one of these paths; path one: [a], path two: [a]");
  EXPECT_EQ(err("m.x, m"), p + "Two document paths overlap with each other; must remove or "
                               "rewrite one of these paths; path one: [m, x], path two: [m]");
  EXPECT_EQ(err("l[1], l[1]"), p + "Two document paths overlap with each other; must remove or "
                                   "rewrite one of these paths; path one: [l, [1]], path two: "
                                   "[l, [1]]");
  EXPECT_EQ(err("m.a, m[0]"),
            p + "Two document paths conflict with each other; must remove or "
                "rewrite one of these paths; path one: [m, a], path two: [m, [0]]");
  EXPECT_EQ(err("a[1], a.b.c"), p + "Two document paths conflict with each other; must remove or "
                                    "rewrite one of these paths; path one: [a, [1]], path two: "
                                    "[a, b, c]");
  EXPECT_EQ(err("a.b.c, a.b[0]"), p + "Two document paths conflict with each other; must remove "
                                      "or rewrite one of these paths; path one: [a, b, c], path "
                                      "two: [a, b, [0]]");
  EXPECT_EQ(err("a.b, a.c, a[0].b, a[1]"), p + "Two document paths conflict with each other; "
                                               "must remove or rewrite one of these paths; path "
                                               "one: [a, b], path two: [a, [0], b]");
  EXPECT_EQ(err("a,"), p + "Syntax error; token: \"<EOF>\", near: \",\"");
  EXPECT_EQ(err(",a"), p + "Syntax error; token: \",\", near: \",a\"");
  EXPECT_EQ(err("size(a)"), p + "Syntax error; token: \"(\", near: \"size(a\"");
  EXPECT_EQ(err("(a)"), p + "Syntax error; token: \"(\", near: \"(a\"");
  EXPECT_EQ(err("a = b"), p + "Syntax error; token: \"=\", near: \"a = b\"");
  EXPECT_EQ(err("status"), p + "Attribute name is a reserved keyword; reserved keyword: status");
  EXPECT_EQ(err(""), p + "The expression can not be empty;");
  EXPECT_EQ(err("a, l[1], m.x"), "OK");
}

// ---- Update -----------------------------------------------------------------------------

TEST(UpdateParse, Errors) {  // oracle
  const std::string p = "Invalid UpdateExpression: ";
  EXPECT_EQ(UpdateError("SET a = :v SET b = :v", {{":v", N("1")}}),
            p + "The \"SET\" section can only be used once in an update expression;");
  EXPECT_EQ(UpdateError("REMOVE a REMOVE b"),
            p + "The \"REMOVE\" section can only be used once in an update expression;");
  EXPECT_EQ(UpdateError("SET a = :v REMOVE b SET c = :v", {{":v", N("1")}}),
            p + "The \"SET\" section can only be used once in an update expression;");
  EXPECT_EQ(UpdateError("SET a = :v, a.b = :v", {{":v", N("1")}}),
            p + "Two document paths overlap with each other; must remove or rewrite one of these "
                "paths; path one: [a], path two: [a, b]");
  EXPECT_EQ(UpdateError("SET a.b = :v REMOVE a", {{":v", N("1")}}),
            p + "Two document paths overlap with each other; must remove or rewrite one of these "
                "paths; path one: [a, b], path two: [a]");
  EXPECT_EQ(UpdateError("SET a[1] = :v REMOVE a[1]", {{":v", N("1")}}),
            p + "Two document paths overlap with each other; must remove or rewrite one of these "
                "paths; path one: [a, [1]], path two: [a, [1]]");
  EXPECT_EQ(UpdateError("SET l[0] = :v REMOVE l.a", {{":v", N("1")}}),
            p + "Two document paths conflict with each other; must remove or rewrite one of these "
                "paths; path one: [l, [0]], path two: [l, a]");
  EXPECT_EQ(UpdateError("SET l[0] = :v, l[1] = :v, m.a = :v, m.b = :v", {{":v", N("1")}}), "OK");
  EXPECT_EQ(UpdateError("SET a = :v + :s", {{":v", N("1")}, {":s", S("x")}}),
            p + "Incorrect operand type for operator or function; operator or function: +, "
                "operand type: S");
  EXPECT_EQ(UpdateError("SET a = :v + :v + :v", {{":v", N("1")}}),
            p + "Syntax error; token: \"+\", near: \":v + :v\"");
  EXPECT_EQ(UpdateError("SET a = b - (c + :v)", {{":v", N("1")}}),
            p + "Syntax error; token: \"+\", near: \"c + :v\"");
  EXPECT_EQ(UpdateError("SET a = if_not_exists(:v, b)", {{":v", N("1")}}),
            p + "Operator or function requires a document path; operator or function: "
                "if_not_exists");
  EXPECT_EQ(UpdateError("SET a = list_append(:l, :v)", {{":v", N("1")}, {":l", List({})}}),
            p + "Incorrect operand type for operator or function; operator or function: "
                "list_append, operand type: N");
  EXPECT_EQ(UpdateError("SET a = size(b)"),
            p + "The function is not allowed in an update expression; function: size");
  EXPECT_EQ(UpdateError("SET a = foo(b)"), p + "Invalid function name; function: foo");
  EXPECT_EQ(UpdateError("ADD a :s", {{":s", S("x")}}),
            p + "Incorrect operand type for operator or function; operator: ADD, operand type: "
                "STRING, typeSet: ALLOWED_FOR_ADD_OPERAND");
  EXPECT_EQ(UpdateError("ADD a :l", {{":l", List({})}}),
            p + "Incorrect operand type for operator or function; operator: ADD, operand type: "
                "LIST, typeSet: ALLOWED_FOR_ADD_OPERAND");
  EXPECT_EQ(UpdateError("DELETE a :v", {{":v", N("1")}}),
            p + "Incorrect operand type for operator or function; operator: DELETE, operand "
                "type: NUMBER, typeSet: ALLOWED_FOR_DELETE_OPERAND");
  EXPECT_EQ(UpdateError("SET = :v", {{":v", N("1")}}),
            p + "Syntax error; token: \"=\", near: \"SET = :v\"");
  EXPECT_EQ(UpdateError("SET a :v", {{":v", N("1")}}),
            p + "Syntax error; token: \":v\", near: \"a :v\"");
  EXPECT_EQ(UpdateError("SET a = :v,", {{":v", N("1")}}),
            p + "Syntax error; token: \"<EOF>\", near: \",\"");
  EXPECT_EQ(UpdateError("SET"), p + "Syntax error; token: \"<EOF>\", near: \"SET\"");
  EXPECT_EQ(UpdateError("UPDATE a = :v", {{":v", N("1")}}),
            p + "Syntax error; token: \"UPDATE\", near: \"UPDATE a\"");
  EXPECT_EQ(UpdateError("DELETE a"), p + "Syntax error; token: \"<EOF>\", near: \"a\"");
  EXPECT_EQ(UpdateError("SET a = :l[0]", {{":l", List({})}}),
            p + "Syntax error; token: \"[\", near: \":l[0\"");
  EXPECT_EQ(UpdateError(""), p + "The expression can not be empty;");
  EXPECT_EQ(UpdateError("SET status = :v", {{":v", N("1")}}),
            p + "Attribute name is a reserved keyword; reserved keyword: status");
  EXPECT_EQ(UpdateError("set a = (:v + :v), b = (:v)", {{":v", N("1")}}), "OK");
}

TEST(UpdateParse, TouchedNamesAndWrittenPaths) {
  ExpressionAttributes attrs = Attrs({{":v", N("1")}}, {{"#k", "pk"}});
  Result<Update> u = ParseUpdate("SET m.x = :v, #k = :v REMOVE z ADD n :v", &attrs);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->top_level_names(), (std::set<std::string, std::less<>>{"m", "n", "pk", "z"}));
  Item item{{"m", AttributeValue::M({{"x", N("5")}, {"y", N("6")}})}, {"q", N("1")}};
  EXPECT_EQ(ApplyProjection(u->written(), item), (Item{{"m", AttributeValue::M({{"x", N("5")}})}}));
}

TEST(UpdateApply, SetSemantics) {  // results checked against the oracle
  Item item{{"a", N("1")}, {"b", N("2")}};
  EXPECT_EQ(RunUpdate("SET a = b, b = a", &item), "OK");
  EXPECT_EQ(item["a"], N("2"));
  EXPECT_EQ(item["b"], N("1"));

  item = {{"l", List({N("0"), N("1"), N("2")})}};
  EXPECT_EQ(RunUpdate("SET l[5] = :v", &item, {{":v", S("n")}}), "OK");
  EXPECT_EQ(item["l"], List({N("0"), N("1"), N("2"), S("n")}));
  EXPECT_EQ(RunUpdate("SET l[1] = :v", &item, {{":v", S("q")}}), "OK");
  EXPECT_EQ(item["l"].list[1], S("q"));

  item = {};
  EXPECT_EQ(RunUpdate("SET a = if_not_exists(a, :v), c = :v + if_not_exists(c, :v)", &item,
                      {{":v", N("1")}}),
            "OK");
  EXPECT_EQ(item["a"], N("1"));
  EXPECT_EQ(item["c"], N("2"));
  EXPECT_EQ(RunUpdate("SET a = a - :v", &item, {{":v", N("0.5")}}), "OK");
  EXPECT_EQ(item["a"], N("0.5"));
  EXPECT_EQ(
      RunUpdate("SET l = list_append(if_not_exists(l, :l), :l)", &item, {{":l", List({N("9")})}}),
      "OK");
  EXPECT_EQ(item["l"], List({N("9"), N("9")}));

  item = {{"a", AttributeValue::M({{"b", List({AttributeValue::M({})})}})}};
  EXPECT_EQ(RunUpdate("SET a.b[0].c = :v", &item, {{":v", N("1")}}), "OK");
  EXPECT_EQ(item["a"].map["b"].list[0].map["c"], N("1"));
}

TEST(UpdateApply, Errors) {  // oracle
  const std::string invalid =
      "The document path provided in the update expression is invalid "
      "for update";
  const std::string wrong = "An operand in the update expression has an incorrect data type";
  Item item;
  EXPECT_EQ(RunUpdate("SET a = b + :v", &item, {{":v", N("1")}}),
            "The provided expression refers to an attribute that does not exist in the item");
  EXPECT_EQ(RunUpdate("SET a.b = :v", &item, {{":v", N("1")}}), invalid);
  EXPECT_EQ(RunUpdate("SET a[1] = :v, a[2] = :v", &item, {{":v", N("1")}}), invalid);
  EXPECT_EQ(RunUpdate("REMOVE a.b", &item), invalid);
  EXPECT_EQ(RunUpdate("ADD a.b :v", &item, {{":v", N("1")}}), invalid);
  item = {{"m", AttributeValue::M({{"x", N("1")}})}, {"l", List({N("0")})}, {"s", S("x")}};
  EXPECT_EQ(RunUpdate("SET m.zz.q = :v", &item, {{":v", N("1")}}), invalid);
  EXPECT_EQ(RunUpdate("SET m.x.q = :v", &item, {{":v", N("1")}}), invalid);
  EXPECT_EQ(RunUpdate("SET m[0] = :v", &item, {{":v", N("1")}}), invalid);
  EXPECT_EQ(RunUpdate("SET l.x = :v", &item, {{":v", N("1")}}), invalid);
  EXPECT_EQ(RunUpdate("SET s = s + :v", &item, {{":v", N("1")}}), wrong);
  EXPECT_EQ(RunUpdate("SET s = list_append(s, :l)", &item, {{":l", List({})}}), wrong);
  EXPECT_EQ(RunUpdate("ADD s :v", &item, {{":v", N("1")}}), wrong);
  EXPECT_EQ(RunUpdate("DELETE s :v", &item, {{":v", AttributeValue::SS({"x"})}}), wrong);
  item = {{"n", N("1")}};
  EXPECT_EQ(RunUpdate("SET n = n - :v", &item, {{":v", N("1e125")}}),
            "DynamoDB only supports precision up to 38 digits");
}

TEST(UpdateApply, RemoveAddDelete) {  // results checked against the oracle
  Item item{{"l", List({N("0"), N("1"), N("2")})},
            {"m", AttributeValue::M({{"x", N("1")}, {"y", List({N("0"), N("1"), N("2")})}})}};
  EXPECT_EQ(RunUpdate("REMOVE l[0], l[2], l[7], m.zz, m.y[1]", &item), "OK");
  EXPECT_EQ(item["l"], List({N("1")}));
  EXPECT_EQ(item["m"].map["y"], List({N("0"), N("2")}));
  EXPECT_EQ(RunUpdate("REMOVE l, nope", &item), "OK");
  EXPECT_EQ(item.count("l"), 0u);

  item = {{"s", AttributeValue::SS({"a", "b"})}, {"n", N("1.5")}, {"l", List({N("0")})}};
  EXPECT_EQ(RunUpdate("ADD s :s, n :v, fresh :v, l[0] :v, l[9] :v", &item,
                      {{":s", AttributeValue::SS({"b", "c"})}, {":v", N("-3")}}),
            "OK");
  EXPECT_EQ(item["s"], AttributeValue::SS({"a", "b", "c"}));
  EXPECT_EQ(item["n"], N("-1.5"));
  EXPECT_EQ(item["fresh"], N("-3"));
  EXPECT_EQ(item["l"], List({N("-3"), N("-3")}));

  EXPECT_EQ(RunUpdate("DELETE s :s", &item, {{":s", AttributeValue::SS({"a"})}}), "OK");
  EXPECT_EQ(item["s"], AttributeValue::SS({"b", "c"}));
  EXPECT_EQ(RunUpdate("DELETE s :s, gone :s", &item, {{":s", AttributeValue::SS({"b", "c", "d"})}}),
            "OK");
  EXPECT_EQ(item.count("s"), 0u);  // an emptied set is removed
  EXPECT_EQ(item.count("gone"), 0u);
}

TEST(UpdateApply, NestingLimit) {
  AttributeValue deep = List({});
  for (int i = 0; i < 31; ++i) deep = List({deep});  // 32 levels: allowed
  Item item;
  EXPECT_EQ(RunUpdate("SET a = :v", &item, {{":v", deep}}), "OK");
  item = {{"m", AttributeValue::M({})}};
  EXPECT_EQ(RunUpdate("SET m.x = :v", &item, {{":v", deep}}),
            "Nesting Levels have exceeded supported limits");
}

// ---- Key conditions ---------------------------------------------------------------------

Result<KeyCondition> Key(const std::string& text) {
  ExpressionAttributes attrs =
      Attrs({{":a", S("p")}, {":b", S("q")}, {":n", N("1")}}, {{"#p", "pk"}});
  return ParseKeyCondition(text, &attrs, "pk", "sk");
}

std::string KeyError(const std::string& text) {
  Result<KeyCondition> k = Key(text);
  return k.ok() ? "OK" : k.status().message();
}

TEST(KeyCondition, Shapes) {
  Result<KeyCondition> k = Key("#p = :a");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->hash_value, S("p"));
  EXPECT_FALSE(k->sort.has_value());

  k = Key("sk BETWEEN :a AND :b AND pk = :a");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->sort->op, SortKeyOp::kBetween);
  EXPECT_EQ(k->sort->value, S("p"));
  EXPECT_EQ(k->sort->value2, S("q"));

  k = Key("(pk = :a) AND (:b > sk)");  // flipped operands flip the operator
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->sort->op, SortKeyOp::kLt);
  EXPECT_EQ(k->sort->value, S("q"));

  k = Key("pk = :a AND begins_with(sk, :b)");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->sort->op, SortKeyOp::kBeginsWith);
  EXPECT_EQ(Key(":a = pk").ok(), true);
  for (const char* op : {"=", "<", "<=", ">", ">="}) {
    EXPECT_TRUE(Key(std::string("pk = :a AND sk ") + op + " :b").ok()) << op;
  }
}

TEST(KeyCondition, Errors) {  // oracle, except the key name after "missed key schema element"
  EXPECT_EQ(KeyError("pk = :a AND sk <> :b"),
            "Invalid operator used in KeyConditionExpression: <>");
  EXPECT_EQ(KeyError("pk = :a OR sk = :b"), "Invalid operator used in KeyConditionExpression: OR");
  EXPECT_EQ(KeyError("NOT pk = :a"), "Invalid operator used in KeyConditionExpression: NOT");
  EXPECT_EQ(KeyError("pk IN (:a)"), "Invalid operator used in KeyConditionExpression: IN");
  EXPECT_EQ(KeyError("pk = :a AND contains(sk, :b)"),
            "Invalid operator used in KeyConditionExpression: contains");
  EXPECT_EQ(KeyError("pk < :a"), "Query key condition not supported");
  EXPECT_EQ(KeyError("sk = :b"), "Query condition missed key schema element: pk");
  EXPECT_EQ(KeyError("x = :a"), "Query condition missed key schema element: pk");
  EXPECT_EQ(KeyError("pk = :a AND x = :b"), "Query condition missed key schema element: sk");
  EXPECT_EQ(KeyError("pk = :a AND pk = :a"),
            "KeyConditionExpressions must only contain one condition per key");
  EXPECT_EQ(KeyError("pk = :a AND sk = :b AND sk = :b"),
            "KeyConditionExpressions must only contain one condition per key");
  EXPECT_EQ(KeyError("pk.x = :a"),
            "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
            "allowed: Key: pk");
  EXPECT_EQ(KeyError("pk = :a AND size(sk) = :b"),
            "KeyConditionExpressions cannot contain nested operations");
  EXPECT_EQ(KeyError("pk = :a AND sk = sk"),
            "Invalid KeyConditionExpression: The first operand must be distinct from the "
            "remaining operands for this operator or function; operator: =, first operand: [sk]");
  EXPECT_EQ(KeyError("pk = :a AND sk BETWEEN :b AND :a"),
            "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be "
            "greater than or equal to lower bound; lower bound operand: AttributeValue: {S:q}, "
            "upper bound operand: AttributeValue: {S:p}");
  EXPECT_EQ(KeyError("pk = :a AND begins_with(sk, :n)"),
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: begins_with, operand type: N");
  EXPECT_EQ(KeyError("pk = :a AND ((sk = :b))"),
            "Invalid KeyConditionExpression: The expression has redundant parentheses;");
  EXPECT_EQ(KeyError("pk = :a x"),
            "Invalid KeyConditionExpression: Syntax error; token: \"x\", near: \":a x\"");
}

// Untrusted input never crashes: random token soup through every parser and, when it parses,
// through evaluation and update.
TEST(Robustness, RandomTokenSoup) {
  static const char* kPieces[] = {
      "a",  "b",       ".",   "[",      "]",   "0",      "3",    "(",        ")",   ",",  "=",
      "<>", "<",       ">=",  "+",      "-",   ":v",     ":l",   "#n",       "AND", "OR", "NOT",
      "IN", "BETWEEN", "SET", "REMOVE", "ADD", "DELETE", "size", "contains", " ",   "@"};
  uint32_t seed = 12345;
  auto next = [&seed] {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 16) & 0x7fff;
  };
  Item item = SampleItem();
  item["a"] = List({N("1"), AttributeValue::M({{"b", N("2")}})});
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    int len = 1 + static_cast<int>(next() % 12);
    for (int j = 0; j < len; ++j) {
      text += kPieces[next() % (sizeof(kPieces) / sizeof(kPieces[0]))];
      if (next() % 2) text += " ";
    }
    ExpressionAttributes attrs = Attrs({{":v", N("1")}, {":l", List({N("2")})}}, {{"#n", "b"}});
    if (Result<Condition> c = ParseCondition(text, "ConditionExpression", &attrs); c.ok()) {
      EXPECT_TRUE(EvaluateCondition(*c, item).ok());
    }
    if (Result<Update> u = ParseUpdate(text, &attrs); u.ok()) {
      Item copy = item;
      (void)ApplyUpdate(*u, &copy).ok();
    }
    if (Result<Projection> p = ParseProjection(text, &attrs); p.ok()) ApplyProjection(*p, item);
    (void)ParseKeyCondition(text, &attrs, "a", "b").ok();
  }
}

}  // namespace
}  // namespace cruddur::dynamo::expr
