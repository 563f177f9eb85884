// Fuzzes the expression language (dynamo/expr/expr.h): the lexer and parser of condition,
// update, projection and key-condition expressions, placeholder resolution, and - for whatever
// parses - evaluation against a fixed item, so the evaluator sees every shape the parser
// accepts. The first byte picks the kind: 'U' update, 'P' projection, 'K' key condition,
// anything else a condition; the rest is the expression text. ExpressionAttributeNames and
// ExpressionAttributeValues are a fixed set of placeholders of every type (below), which the
// dictionary (fuzz/expression.dict) also names.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "dynamo/expr/expr.h"

namespace {

namespace dynamo = cruddur::dynamo;
namespace expr = cruddur::dynamo::expr;
using dynamo::AttributeValue;
using dynamo::Decimal;

AttributeValue N(std::string_view text) { return AttributeValue::N(Decimal::Parse(text).value()); }
AttributeValue S(std::string text) { return AttributeValue::S(std::move(text)); }

expr::ExpressionAttributes MakeAttributes() {
  expr::ExpressionAttributes attrs;
  attrs.names = {{"#pk", "pk"},   {"#sk", "sk"},   {"#n", "name"},    {"#a", "a"},
                 {"#b", "b"},     {"#l", "list"},  {"#m", "map"},     {"#s", "tags"},
                 {"#ns", "nums"}, {"#dot", "a.b"}, {"#size", "size"}, {"#c", "count"}};
  attrs.values = {
      {":v", N("1")},
      {":one", N("1")},
      {":hi", N("10")},
      {":big", N("9.9999999999999999999999999999999999999E+125")},
      {":tiny", N("-1E-130")},
      {":s", S("hello")},
      {":e", S("")},
      {":pk", S("user#1")},
      {":pre", S("2023-")},
      {":b", AttributeValue::B(std::string("\x00\x01\xff", 3))},
      {":t", AttributeValue::Bool(true)},
      {":null", AttributeValue::Null()},
      {":l", AttributeValue::L({N("1"), S("x")})},
      {":m", AttributeValue::M({{"a", N("1")}, {"b", S("y")}})},
      {":ss", AttributeValue::SS({"a", "b"})},
      {":ns", AttributeValue::NS({Decimal::FromInt(1), Decimal::FromInt(2)})},
      {":bs", AttributeValue::BS({std::string("\x01", 1), std::string("\x02", 1)})},
  };
  return attrs;
}

dynamo::Item MakeItem() {
  dynamo::Item item;
  item["pk"] = S("user#1");
  item["sk"] = S("2023-05-01T10:00:00Z");
  item["name"] = S("Andrew");
  item["a"] = N("5");
  item["a.b"] = S("dotted");
  item["b"] = N("-12.5");
  item["count"] = N("99999999999999999999999999999999999999");
  item["size"] = N("3");
  item["list"] = AttributeValue::L(
      {N("1"), S("x"),
       AttributeValue::M({{"a", AttributeValue::L({N("2"), AttributeValue::Null()})}})});
  item["map"] = AttributeValue::M({{"a", N("1")},
                                   {"b", AttributeValue::M({{"c", S("deep")}})},
                                   {"flag", AttributeValue::Bool(false)}});
  item["tags"] = AttributeValue::SS({"a", "c"});
  item["nums"] = AttributeValue::NS({Decimal::FromInt(2), Decimal::FromInt(3)});
  item["bins"] = AttributeValue::BS({std::string("\x01", 1)});
  item["nothing"] = AttributeValue::Null();
  return item;
}

const expr::ExpressionAttributes& Attributes() {
  static const expr::ExpressionAttributes attrs = MakeAttributes();
  return attrs;
}

const dynamo::Item& SampleItem() {
  static const dynamo::Item item = MakeItem();
  return item;
}

void FuzzCondition(std::string_view text, expr::ExpressionAttributes* attrs) {
  cruddur::Result<expr::Condition> condition =
      expr::ParseCondition(text, "FilterExpression", attrs);
  if (!condition.ok()) return;
  (void)expr::CheckAllAttributesUsed(*attrs);
  (void)expr::EvaluateCondition(*condition, SampleItem());
  (void)expr::EvaluateCondition(*condition, dynamo::Item());
}

void FuzzUpdate(std::string_view text, expr::ExpressionAttributes* attrs) {
  cruddur::Result<expr::Update> update = expr::ParseUpdate(text, attrs);
  if (!update.ok()) return;
  for (const dynamo::Item& start : {SampleItem(), dynamo::Item()}) {
    dynamo::Item item = start;
    if (expr::ApplyUpdate(*update, &item).ok()) {
      (void)expr::ApplyProjection(update->written(), start);
      (void)expr::ApplyProjection(update->written(), item);
    }
  }
}

void FuzzProjection(std::string_view text, expr::ExpressionAttributes* attrs) {
  cruddur::Result<expr::Projection> projection = expr::ParseProjection(text, attrs);
  if (!projection.ok()) return;
  (void)expr::ApplyProjection(*projection, SampleItem());
  for (const expr::DocumentPath& path : projection->paths()) {
    (void)path.ToString();
    (void)expr::ResolvePath(SampleItem(), path);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const char kind = static_cast<char>(data[0]);
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  expr::ExpressionAttributes attrs = Attributes();
  switch (kind) {
    case 'U':
      FuzzUpdate(text, &attrs);
      break;
    case 'P':
      FuzzProjection(text, &attrs);
      break;
    case 'K':
      (void)expr::ParseKeyCondition(text, &attrs, "pk", "sk");
      attrs = Attributes();
      (void)expr::ParseKeyCondition(text, &attrs, "pk", "");
      break;
    default:
      FuzzCondition(text, &attrs);
      break;
  }
  return 0;
}
