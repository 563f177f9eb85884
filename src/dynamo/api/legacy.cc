// Legacy conditional parameters as expressions (API Reference: "Legacy conditional
// parameters", "Condition", "ExpectedAttributeValue", "AttributeValueUpdate").
//
// Validation texts and their order were taken from DynamoDB Local (the same front end as the
// service for these parameters); where the two could differ, the comment says which is
// followed. Entries are checked in request order, so the first bad entry is the one reported.
#include "dynamo/api/legacy.h"

#include <compare>
#include <string>
#include <string_view>
#include <vector>

#include "dynamo/api/common.h"
#include "dynamo/json/attribute_json.h"

namespace cruddur::dynamo::api {
namespace {

// The ComparisonOperator enum in the order the service lists it in its constraint message.
const std::vector<std::string>& OperatorNames() {
  static const std::vector<std::string> names = {
      "IN",       "NULL", "BETWEEN", "LT",          "NOT_CONTAINS", "EQ",      "GT",
      "NOT_NULL", "NE",   "LE",      "BEGINS_WITH", "GE",           "CONTAINS"};
  return names;
}

enum class Op {
  kEq,
  kNe,
  kLe,
  kLt,
  kGe,
  kGt,
  kNotNull,
  kNull,
  kContains,
  kNotContains,
  kBeginsWith,
  kIn,
  kBetween
};

struct OpName {
  std::string_view name;
  Op op;
};

constexpr OpName kOps[] = {{"EQ", Op::kEq},
                           {"NE", Op::kNe},
                           {"LE", Op::kLe},
                           {"LT", Op::kLt},
                           {"GE", Op::kGe},
                           {"GT", Op::kGt},
                           {"NOT_NULL", Op::kNotNull},
                           {"NULL", Op::kNull},
                           {"CONTAINS", Op::kContains},
                           {"NOT_CONTAINS", Op::kNotContains},
                           {"BEGINS_WITH", Op::kBeginsWith},
                           {"IN", Op::kIn},
                           {"BETWEEN", Op::kBetween}};

// One entry of Expected / QueryFilter / ScanFilter / KeyConditions, decoded and checked.
struct Comparison {
  std::string attr;
  Op op = Op::kEq;
  std::vector<AttributeValue> args;
};

Status Invalid(const std::string& text) {
  return ValidationError("One or more parameter values were invalid: " + text);
}

std::string_view ToString(const json::Value& name) {
  return {name.GetString(), name.GetStringLength()};
}

// Shape checking guarantees a known name; the fallback is DynamoDB Local's text for others.
Result<OpName> FindOp(std::string_view name) {
  for (const OpName& o : kOps) {
    if (o.name == name) return o;
  }
  return ValidationError("Comparison type does not exist in DynamoDB");
}

bool TakesNoArguments(Op op) { return op == Op::kNull || op == Op::kNotNull; }

// The AttributeValueList types each operator accepts (API Reference, "Condition"): EQ and NE
// any type; CONTAINS / NOT_CONTAINS a scalar (BOOL and NULL are accepted and simply never
// match a string or set); BEGINS_WITH a String or Binary; the rest String, Number or Binary.
bool ArgumentTypeAllowed(Op op, AttrType t) {
  bool scalar = t == AttrType::kS || t == AttrType::kN || t == AttrType::kB;
  switch (op) {
    case Op::kEq:
    case Op::kNe:
      return true;
    case Op::kContains:
    case Op::kNotContains:
      return scalar || t == AttrType::kBool || t == AttrType::kNull;
    case Op::kBeginsWith:
      return t == AttrType::kS || t == AttrType::kB;
    default:
      return scalar;
  }
}

// Orders two scalars (S, N or B) of one type, as BETWEEN's bounds are ordered.
int CompareScalars(const AttributeValue& a, const AttributeValue& b) {
  if (a.type == AttrType::kN) {
    auto c = a.num <=> b.num;
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  int c = a.str.compare(b.str);  // bytes as unsigned, as DynamoDB orders S and B
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// Argument count, then each argument's type, then same-typed lists, then BETWEEN's bounds.
Status CheckArguments(const OpName& op, const std::vector<AttributeValue>& args) {
  size_t n = args.size();
  bool count_ok = TakesNoArguments(op.op) ? n == 0
                  : op.op == Op::kBetween ? n == 2
                  : op.op == Op::kIn      ? n >= 1
                                          : n == 1;
  if (!count_ok) {
    return Invalid("Invalid number of argument(s) for the " + std::string(op.name) +
                   " ComparisonOperator");
  }
  for (const AttributeValue& a : args) {
    if (!ArgumentTypeAllowed(op.op, a.type)) {
      return Invalid("ComparisonOperator " + std::string(op.name) + " is not valid for " +
                     std::string(AttrTypeName(a.type)) + " AttributeValue type");
    }
  }
  for (const AttributeValue& a : args) {
    if (a.type != args.front().type) {
      return Invalid("AttributeValues inside AttributeValueList must be of same type");
    }
  }
  if (op.op == Op::kBetween && CompareScalars(args[0], args[1]) > 0) {
    return ValidationError(
        "The BETWEEN condition was provided a range where the lower bound is greater than the "
        "upper bound");
  }
  return Status::Ok();
}

Result<std::vector<AttributeValue>> DecodeList(const json::Value* list) {
  std::vector<AttributeValue> out;
  if (list == nullptr) return out;
  for (const auto& v : list->GetArray()) {
    CRUDDUR_ASSIGN_OR_RETURN(AttributeValue value, DecodeAttributeValue(v));
    out.push_back(std::move(value));
  }
  return out;
}

// A Condition (QueryFilter, ScanFilter, KeyConditions): ComparisonOperator and an optional
// AttributeValueList.
Result<Comparison> ReadCondition(std::string_view attr, const json::Value& entry) {
  Comparison c{std::string(attr)};
  CRUDDUR_ASSIGN_OR_RETURN(OpName op, FindOp(StringMember(entry, "ComparisonOperator")));
  c.op = op.op;
  CRUDDUR_ASSIGN_OR_RETURN(c.args, DecodeList(Member(entry, "AttributeValueList")));
  CRUDDUR_RETURN_IF_ERROR(CheckArguments(op, c.args));
  return c;
}

// An ExpectedAttributeValue: either Value/Exists (API Reference: "Exists ... the default is
// true", so a lone Value means EQ) or ComparisonOperator with Value or AttributeValueList.
Result<Comparison> ReadExpected(std::string_view attr, const json::Value& entry) {
  Comparison c{std::string(attr)};
  const json::Value* value = Member(entry, "Value");
  const json::Value* exists = Member(entry, "Exists");
  const json::Value* op_name = Member(entry, "ComparisonOperator");
  const json::Value* list = Member(entry, "AttributeValueList");
  const std::string for_attr = " for Attribute: " + std::string(attr);
  if (op_name != nullptr) {
    if (exists != nullptr) {
      return Invalid("Exists and ComparisonOperator cannot be used together" + for_attr);
    }
    if (value != nullptr && list != nullptr) {
      return Invalid("Value and AttributeValueList cannot be used together" + for_attr);
    }
    std::string_view name = ToString(*op_name);
    CRUDDUR_ASSIGN_OR_RETURN(OpName op, FindOp(name));
    if (value == nullptr && list == nullptr && !TakesNoArguments(op.op)) {
      return Invalid("Value or AttributeValueList must be used with ComparisonOperator: " +
                     std::string(name) + for_attr);
    }
    c.op = op.op;
    if (value != nullptr) {
      CRUDDUR_ASSIGN_OR_RETURN(AttributeValue v, DecodeAttributeValue(*value));
      c.args.push_back(std::move(v));
    } else {
      CRUDDUR_ASSIGN_OR_RETURN(c.args, DecodeList(list));
    }
    CRUDDUR_RETURN_IF_ERROR(CheckArguments(op, c.args));
    return c;
  }
  if (list != nullptr) {
    return Invalid("AttributeValueList can only be used with a ComparisonOperator" + for_attr);
  }
  if (exists == nullptr || exists->GetBool()) {
    if (value == nullptr) {
      return Invalid(std::string("Value must be provided when Exists is ") +
                     (exists == nullptr ? "null" : "true") + for_attr);
    }
    c.op = Op::kEq;
    CRUDDUR_ASSIGN_OR_RETURN(AttributeValue v, DecodeAttributeValue(*value));
    c.args.push_back(std::move(v));
    return c;
  }
  if (value != nullptr) return Invalid("Value cannot be used when Exists is false" + for_attr);
  c.op = Op::kNull;
  return c;
}

// Expression text over generated placeholders, and the attributes that resolve them.
class ExpressionText {
 public:
  std::string Name(std::string_view attr) {
    std::string key = "#l" + std::to_string(attrs_.names.size());
    attrs_.names.emplace(key, std::string(attr));
    return key;
  }
  std::string Value(AttributeValue v) {
    std::string key = ":l" + std::to_string(attrs_.values.size());
    attrs_.values.emplace(key, std::move(v));
    return key;
  }
  expr::ExpressionAttributes* attrs() { return &attrs_; }

 private:
  expr::ExpressionAttributes attrs_;
};

// The most values one IN may list in an expression ("The IN operator is provided with too many
// operands"); legacy IN has no such limit, so longer lists become an OR of INs.
constexpr size_t kInChunk = 100;

std::string ConditionText(const Comparison& c, ExpressionText* x) {
  std::string a = x->Name(c.attr);
  auto v = [&](size_t i) { return x->Value(c.args[i]); };
  switch (c.op) {
    case Op::kEq:
      return a + " = " + v(0);
    case Op::kNe:
      return a + " <> " + v(0);
    case Op::kLe:
      return a + " <= " + v(0);
    case Op::kLt:
      return a + " < " + v(0);
    case Op::kGe:
      return a + " >= " + v(0);
    case Op::kGt:
      return a + " > " + v(0);
    case Op::kNotNull:
      return "attribute_exists(" + a + ")";
    case Op::kNull:
      return "attribute_not_exists(" + a + ")";
    case Op::kContains:
      return "contains(" + a + ", " + v(0) + ")";
    case Op::kNotContains:
      // A missing attribute does not satisfy NOT_CONTAINS (DynamoDB Local), unlike the
      // expression NOT contains(...), which holds for it.
      return "attribute_exists(" + a + ") AND NOT contains(" + a + ", " + v(0) + ")";
    case Op::kBeginsWith:
      return "begins_with(" + a + ", " + v(0) + ")";
    case Op::kBetween:
      return a + " BETWEEN " + v(0) + " AND " + v(1);
    case Op::kIn: {
      std::string out;
      for (size_t i = 0; i < c.args.size(); ++i) {
        if (i % kInChunk == 0) out += (i == 0 ? "" : ") OR ") + a + " IN (";
        if (i % kInChunk != 0) out += ", ";
        out += v(i);
      }
      return out + ")";
    }
  }
  return {};
}

std::string JoinClause(std::string_view keyword, const std::vector<std::string>& parts) {
  if (parts.empty()) return {};
  std::string out = " " + std::string(keyword) + " ";
  for (size_t i = 0; i < parts.size(); ++i) out += (i == 0 ? "" : ", ") + parts[i];
  return out;
}

bool IsKeyAttribute(const storage::KeySchema& key, std::string_view name) {
  return key.hash.name == name || (key.range && key.range->name == name);
}

}  // namespace

Shape ExpectedShape() {
  return Map("Expected",
             Struct("ExpectedAttributeValue", {Attr("Value"), Bool("Exists"),
                                               Enum(Str("ComparisonOperator"), OperatorNames()),
                                               List("AttributeValueList", Attr("member"))}));
}

Shape ConditionMapShape(std::string name) {
  return Map(std::move(name),
             Struct("Condition", {List("AttributeValueList", Attr("member")),
                                  NotNull(Enum(Str("ComparisonOperator"), OperatorNames()))}));
}

Shape AttributeUpdatesShape() {
  return Map("AttributeUpdates",
             Struct("AttributeValueUpdate",
                    {Attr("Value"), Enum(Str("Action"), {"ADD", "PUT", "DELETE"})}));
}

std::string_view LegacyConditionParamName(LegacyConditionParam param) {
  switch (param) {
    case LegacyConditionParam::kExpected:
      return "Expected";
    case LegacyConditionParam::kQueryFilter:
      return "QueryFilter";
    case LegacyConditionParam::kScanFilter:
      return "ScanFilter";
  }
  return {};
}

Result<expr::Condition> LegacyCondition(const json::Value& request, LegacyConditionParam param) {
  const json::Value* entries = Member(request, LegacyConditionParamName(param));
  std::vector<Comparison> comparisons;
  if (entries != nullptr) {
    for (const auto& m : entries->GetObject()) {
      std::string_view attr = ToString(m.name);
      Result<Comparison> c = param == LegacyConditionParam::kExpected
                                 ? ReadExpected(attr, m.value)
                                 : ReadCondition(attr, m.value);
      if (!c.ok()) return c.TakeStatus();
      comparisons.push_back(std::move(c).value());
    }
  }
  std::string_view conditional_operator = StringMember(request, "ConditionalOperator");
  if (!conditional_operator.empty()) {
    if (comparisons.empty()) {
      return ValidationError("ConditionalOperator cannot be used without Filter or Expected");
    }
    if (comparisons.size() == 1) {
      return ValidationError(
          "ConditionalOperator can only be used when Filter or Expected has two or more "
          "elements");
    }
  }
  if (comparisons.empty()) return expr::Condition();

  // API Reference, "ConditionalOperator": AND (the default) or OR of all the entries.
  std::string joiner = conditional_operator == "OR" ? " OR " : " AND ";
  ExpressionText x;
  std::string text;
  for (size_t i = 0; i < comparisons.size(); ++i) {
    if (i > 0) text += joiner;
    text += "(" + ConditionText(comparisons[i], &x) + ")";
  }
  return expr::ParseCondition(
      text, param == LegacyConditionParam::kExpected ? "ConditionExpression" : "FilterExpression",
      x.attrs());
}

Result<expr::Update> LegacyAttributeUpdates(const json::Value& request,
                                            const storage::KeySchema& key) {
  const json::Value* updates = Member(request, "AttributeUpdates");
  if (updates == nullptr || updates->MemberCount() == 0) return expr::Update();
  ExpressionText x;
  std::vector<std::string> set, remove, add, del;
  for (const auto& m : updates->GetObject()) {
    std::string_view attr = ToString(m.name);
    // API Reference, AttributeValueUpdate "Action": "The default is PUT".
    std::string_view action = StringMember(m.value, "Action");
    if (action.empty()) action = "PUT";
    const json::Value* value_json = Member(m.value, "Value");
    if (IsKeyAttribute(key, attr)) {
      return Invalid("Cannot update attribute " + std::string(attr) +
                     ". This attribute is part of the key");
    }
    if (value_json == nullptr) {
      if (action != "DELETE") {
        return Invalid("Only DELETE action is allowed when no attribute value is specified");
      }
      remove.push_back(x.Name(attr));
      continue;
    }
    CRUDDUR_ASSIGN_OR_RETURN(AttributeValue value, DecodeAttributeValue(*value_json));
    if (action == "PUT") {
      set.push_back(x.Name(attr) + " = " + x.Value(std::move(value)));
    } else if (action == "ADD") {
      // "ADD ... The only data types allowed are number, number set, string set or binary set"
      // - and, as the service does, a list, which is appended to an existing list.
      if (value.type == AttrType::kL) {
        std::string a = x.Name(attr);
        std::string empty = x.Value(AttributeValue::L({}));
        set.push_back(a + " = list_append(if_not_exists(" + a + ", " + empty + "), " +
                      x.Value(std::move(value)) + ")");
      } else if (value.type == AttrType::kN || value.is_set()) {
        add.push_back(x.Name(attr) + " " + x.Value(std::move(value)));
      } else {
        return Invalid("ADD action is not supported for the type " +
                       std::string(UpdateTypeName(value.type)));
      }
    } else {
      if (!value.is_set()) {
        return Invalid("DELETE action with value is not supported for the type " +
                       std::string(UpdateTypeName(value.type)));
      }
      del.push_back(x.Name(attr) + " " + x.Value(std::move(value)));
    }
  }
  std::string text = JoinClause("SET", set) + JoinClause("REMOVE", remove) +
                     JoinClause("ADD", add) + JoinClause("DELETE", del);
  return expr::ParseUpdate(text, x.attrs());
}

Status LegacyUpdateStatus(Status status) {
  if (status.code() == ErrorCode::kValidation &&
      status.message() == "An operand in the update expression has an incorrect data type") {
    return ValidationError("Type mismatch for attribute to update");
  }
  return status;
}

Result<expr::KeyCondition> LegacyKeyConditions(const json::Value& key_conditions,
                                               const storage::KeySchema& key) {
  size_t count = key_conditions.MemberCount();
  if (count == 0) return ValidationError("Conditions must be at least length 1");
  if (count > 2) return ValidationError("Conditions can be of length 1 or 2 only");
  std::vector<Comparison> comparisons;
  for (const auto& m : key_conditions.GetObject()) {
    CRUDDUR_ASSIGN_OR_RETURN(Comparison c, ReadCondition(ToString(m.name), m.value));
    comparisons.push_back(std::move(c));
  }
  const Comparison* hash = nullptr;
  const Comparison* range = nullptr;
  for (const Comparison& c : comparisons) {
    if (c.attr == key.hash.name) {
      hash = &c;
    } else if (key.range && c.attr == key.range->name) {
      range = &c;
    } else {
      return ValidationError("Query condition missed key schema element");
    }
  }
  if (hash == nullptr) return ValidationError("Query condition missed key schema element");
  if (TakesNoArguments(hash->op)) {
    return ValidationError("Only scalar types can be used as Hash Key values");
  }
  if (hash->op != Op::kEq) return ValidationError("Query key condition not supported");
  expr::KeyCondition kc;
  kc.hash_value = hash->args[0];
  if (range == nullptr) return kc;

  expr::SortKeyCondition sort;
  switch (range->op) {
    case Op::kEq:
      sort.op = expr::SortKeyOp::kEq;
      break;
    case Op::kLt:
      sort.op = expr::SortKeyOp::kLt;
      break;
    case Op::kLe:
      sort.op = expr::SortKeyOp::kLe;
      break;
    case Op::kGt:
      sort.op = expr::SortKeyOp::kGt;
      break;
    case Op::kGe:
      sort.op = expr::SortKeyOp::kGe;
      break;
    case Op::kBetween:
      sort.op = expr::SortKeyOp::kBetween;
      sort.value2 = range->args[1];
      break;
    case Op::kBeginsWith:
      sort.op = expr::SortKeyOp::kBeginsWith;
      break;
    case Op::kNull:
    case Op::kNotNull:
      return ValidationError("Only scalar types can be used as Range Key values");
    default:
      // NE, IN, CONTAINS, NOT_CONTAINS cannot select a range of the sort key.
      return ValidationError("Attempted conditional constraint is not an indexable operation");
  }
  sort.value = range->args[0];
  kc.sort = std::move(sort);
  return kc;
}

}  // namespace cruddur::dynamo::api
