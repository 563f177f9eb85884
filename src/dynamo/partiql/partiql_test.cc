// Texts marked "oracle" were checked against DynamoDB Local with ExecuteStatement.
#include "dynamo/partiql/partiql.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cruddur::dynamo::partiql {
namespace {

Statement Parse(const std::string& text) {
  Result<Statement> st = ParseStatement(text);
  EXPECT_TRUE(st.ok()) << text << ": " << st.status().ToString();
  return st.ok() ? std::move(st).value() : Statement();
}

std::string ParseError(const std::string& text) {
  Result<Statement> st = ParseStatement(text);
  return st.ok() ? "OK" : st.status().message();
}

// The condition text and its placeholders, as "text | #p0=a #p1=b | :v0=S:x".
std::string Translate(const std::string& where, const std::vector<AttributeValue>& params = {}) {
  Statement st = Parse("SELECT * FROM t WHERE " + where);
  ExpressionWriter w(params);
  Result<std::string> text = w.WriteCondition(*st.where);
  if (!text.ok()) return text.status().message();
  std::string out = *text + " |";
  for (const auto& [k, v] : w.attributes().names) out += " " + k + "=" + v;
  out += " |";
  for (const auto& [k, v] : w.attributes().values) {
    out += " " + k + "=" + std::string(AttrTypeName(v.type)) + ":" +
           (v.type == AttrType::kN ? v.num.ToString() : v.str);
  }
  return out;
}

TEST(PartiqlParse, SelectWithProjectionIndexAndOrder) {
  Statement st =
      Parse(R"(select a, "b c".d[2], m['k'] FROM "tbl"."idx" WHERE pk = 'x' ORDER BY sk DESC;)");
  EXPECT_EQ(st.kind, Statement::Kind::kSelect);
  EXPECT_EQ(st.table, "tbl");
  EXPECT_EQ(st.index, "idx");
  ASSERT_EQ(st.projection.size(), 3u);
  EXPECT_EQ(st.projection[1].ToString(), "b c.d[2]");
  EXPECT_EQ(st.projection[2].ToString(), "m.k");
  ASSERT_EQ(st.order_by.size(), 1u);
  EXPECT_TRUE(st.order_by[0].descending);
  EXPECT_EQ(ProjectionAlias(st.projection[1]), "d[2]");
}

TEST(PartiqlParse, SelectStarWithoutWhere) {
  Statement st = Parse("SELECT * FROM t");
  EXPECT_TRUE(st.projection.empty());
  EXPECT_FALSE(st.where.has_value());
}

TEST(PartiqlParse, InsertValueWithParameters) {
  Statement st = Parse(
      "INSERT INTO \"t\" VALUE {'pk': ?, 'n': -1.5e2, 'l': [1, 'a', {'x': TRUE}], "
      "'s': <<'a', 'b'>>, 'z': null, 'q': ?}");
  EXPECT_EQ(st.kind, Statement::Kind::kInsert);
  EXPECT_EQ(st.parameter_count, 2u);
  Result<AttributeValue> v =
      EvaluateLiteral(st.value, {AttributeValue::S("k"), AttributeValue::Bool(false)});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->type, AttrType::kM);
  EXPECT_EQ(v->map.at("pk"), AttributeValue::S("k"));
  EXPECT_EQ(v->map.at("n").num.ToString(), "-150");
  EXPECT_EQ(v->map.at("l").list.size(), 3u);
  EXPECT_EQ(v->map.at("s"), AttributeValue::SS({"a", "b"}));
  EXPECT_EQ(v->map.at("z").type, AttrType::kNull);
  EXPECT_EQ(v->map.at("q"), AttributeValue::Bool(false));
}

TEST(PartiqlParse, UpdateWithClausesAndReturning) {
  Statement st = Parse(
      "UPDATE t SET a = a + 1, b.c[0] = 'x' REMOVE d SET e = list_append(e, [1]) "
      "WHERE pk = 'k' AND sk = 2 RETURNING MODIFIED OLD *");
  EXPECT_EQ(st.kind, Statement::Kind::kUpdate);
  ASSERT_EQ(st.updates.size(), 4u);
  EXPECT_EQ(st.updates[2].kind, UpdateAction::Kind::kRemove);
  EXPECT_EQ(st.returning, Returning::kModifiedOld);
  EXPECT_EQ(Conjuncts(*st.where).size(), 2u);
  ExpressionWriter w({});
  Result<std::string> text = w.WriteUpdate(st.updates);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "SET #p0 = #p0 + :v0, #p1.#p2[0] = :v1, #p4 = list_append(#p4, :v2) REMOVE #p3");
}

TEST(PartiqlParse, SetAddAndDeleteBecomeAddAndDelete) {
  Statement st = Parse(
      "UPDATE t SET s = set_add(s, <<1>>) SET r = set_delete(r, <<'a'>>) "
      "WHERE pk = 'k'");
  ExpressionWriter w({});
  Result<std::string> text = w.WriteUpdate(st.updates);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "ADD #p0 :v0 DELETE #p1 :v1");
}

TEST(PartiqlParse, DeleteNeedsWhere) {
  EXPECT_EQ(ParseError("DELETE FROM t"),
            "Where clause does not contain a mandatory equality on all key attributes");
  Statement st = Parse("DELETE FROM t WHERE pk = 'a' RETURNING ALL OLD *");
  EXPECT_EQ(st.kind, Statement::Kind::kDelete);
  EXPECT_EQ(st.returning, Returning::kAllOld);
}

TEST(PartiqlParse, SyntaxErrorsQuoteTheStatement) {  // oracle
  for (const char* bad :
       {"SELEC * FROM t", "SELECT * FROM \"t\" WHERE", "SELECT * FROM t WHERE a = = 1",
        "SELECT * FROM t WHERE a = 'x", "INSERT INTO t VALUE {'a': 1}, {'b': 2}",
        "SELECT * FROM t WHERE a = 1 garbage", "SELECT * FROM t WHERE a ~ 1"}) {
    EXPECT_EQ(ParseError(bad),
              std::string("Statement wasn't well formed, can't be processed: ") + bad);
  }
}

TEST(PartiqlParse, LiteralErrorsCarryPositions) {  // oracle
  EXPECT_EQ(ParseError("INSERT INTO \"partiql_t1\" VALUE {'pk':'a', 'sk': 9, 'pk': 'b'}"),
            "Duplicate keys in tuple. Key: pk under root at 1:52:4");
  EXPECT_EQ(ParseError("INSERT INTO \"partiql_t1\" VALUE {'pk':'e', 'sk': 9, 'ss': <<>>}"),
            "Empty bags are not supported at 1:58:2");
  EXPECT_EQ(ParseError("INSERT INTO \"partiql_t1\" VALUE [1]"),
            "Unsupported format in item expression. Please use struct format {...} to express "
            "item values for insert statement. at 1:32:1");
  EXPECT_EQ(ParseError("UPDATE t SET v = 1 WHERE pk = 'a' RETURNING ALL NEW v"),
            "Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause");
  Statement st = Parse("INSERT INTO \"partiql_t1\" VALUE {'pk':'e', 'sk': 9, 'ss': <<'a',1>>}");
  EXPECT_EQ(EvaluateLiteral(st.value, {}).status().message(),
            "Unsupported data type in Bag. DynamoDB only supports either numbers or strings in "
            "bags at 1:64:1");
  st = Parse("INSERT INTO t VALUE {'s': <<'a','a'>>}");
  EXPECT_EQ(EvaluateLiteral(st.value, {}).status().message(),
            "Input collection contains duplicates");
}

TEST(PartiqlParse, BoundsInput) {
  EXPECT_NE(ParseError("SELECT * FROM t WHERE a = '" + std::string(8200, 'x') + "'"), "OK");
  std::string deep = "SELECT * FROM t WHERE a = " + std::string(40, '[') + std::string(40, ']');
  EXPECT_NE(ParseError(deep), "OK");
  std::string parens =
      "SELECT * FROM t WHERE " + std::string(2000, '(') + "a = 1" + std::string(2000, ')');
  EXPECT_NE(ParseError(parens), "OK");
  std::string nots = "SELECT * FROM t WHERE ";
  for (int i = 0; i < 100; ++i) nots += "NOT ";
  EXPECT_NE(ParseError(nots + "a = 1"), "OK");
}

TEST(PartiqlTranslate, Conditions) {
  EXPECT_EQ(Translate("a = 1 AND (b <> 'x' OR NOT c < 2)"),
            "(#p0 = :v0) AND ((#p1 <> :v1) OR (NOT (#p2 < :v2))) | #p0=a #p1=b #p2=c | :v0=N:1 "
            ":v1=S:x :v2=N:2");
  EXPECT_EQ(Translate("a BETWEEN ? AND ?", {AttributeValue::N(Decimal::FromInt(1)),
                                            AttributeValue::N(Decimal::FromInt(5))}),
            "#p0 BETWEEN :v0 AND :v1 | #p0=a | :v0=N:1 :v1=N:5");
  EXPECT_EQ(Translate("pk IN ['a', 'b']"), "#p0 IN (:v0, :v1) | #p0=pk | :v0=S:a :v1=S:b");
  EXPECT_EQ(Translate("m.x IS MISSING"), "attribute_not_exists(#p0.#p1) | #p0=m #p1=x |");
  EXPECT_EQ(Translate("x IS NOT NULL"), "NOT attribute_type(#p0, :v0) | #p0=x | :v0=S:NULL");
  EXPECT_EQ(Translate("begins_with(\"select\", 'a') AND size(l[0]) > 2"),
            "(begins_with(#p0, :v0)) AND (size(#p1[0]) > :v1) | #p0=select #p1=l | :v0=S:a "
            ":v1=N:2");
  EXPECT_EQ(Translate("(a) = 1"), "#p0 = :v0 | #p0=a | :v0=N:1");
}

TEST(PartiqlTranslate, KeyEqualities) {
  Statement st = Parse("DELETE FROM t WHERE 'k' = pk AND sk = ? AND x > 1 AND m.a = 2");
  std::vector<const Condition*> terms = Conjuncts(*st.where);
  ASSERT_EQ(terms.size(), 4u);
  std::string name;
  const Literal* literal = nullptr;
  ASSERT_TRUE(IsAttributeEquality(*terms[0], &name, &literal));
  EXPECT_EQ(name, "pk");
  EXPECT_EQ(literal->text, "k");
  ASSERT_TRUE(IsAttributeEquality(*terms[1], &name, &literal));
  EXPECT_EQ(literal->kind, Literal::Kind::kParameter);
  EXPECT_FALSE(IsAttributeEquality(*terms[2], &name, &literal));
  EXPECT_FALSE(IsAttributeEquality(*terms[3], &name, &literal));
}

}  // namespace
}  // namespace cruddur::dynamo::partiql
