// From PartiQL's syntax tree to DynamoDB's own expression language. DynamoDB documents its
// PartiQL conditions and functions as those of condition expressions (Developer Guide,
// "PartiQL functions": begins_with, contains, attribute_type, size, EXISTS, MISSING), and its
// UPDATE as an UpdateItem (set_add / set_delete are "ADD" and "DELETE"), so translating keeps
// one evaluator for both front ends. Names and values always go through placeholders, which is
// what lets a PartiQL attribute be any string (reserved words, spaces, dots).
#include <string>
#include <utility>
#include <vector>

#include "dynamo/partiql/partiql.h"

namespace cruddur::dynamo::partiql {
namespace {

Status BagTypeError(const SourcePos& pos) {
  return ValidationError(
      "Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags at " +
      pos.ToString());
}

Result<AttributeValue> EvaluateSet(const Literal& literal,
                                   const std::vector<AttributeValue>& params) {
  std::vector<AttributeValue> members;
  for (const auto& e : literal.elements) {
    CRUDDUR_ASSIGN_OR_RETURN(AttributeValue v, EvaluateLiteral(e, params));
    if ((v.type != AttrType::kS && v.type != AttrType::kN) ||
        (!members.empty() && v.type != members.front().type)) {
      return BagTypeError(e.pos);
    }
    for (const auto& m : members) {
      if (m == v) return ValidationError("Input collection contains duplicates");
    }
    members.push_back(std::move(v));
  }
  if (members.front().type == AttrType::kS) {
    std::vector<std::string> strs;
    for (auto& m : members) strs.push_back(std::move(m.str));
    return AttributeValue::SS(std::move(strs));
  }
  std::vector<Decimal> nums;
  for (auto& m : members) nums.push_back(m.num);
  return AttributeValue::NS(std::move(nums));
}

}  // namespace

Result<AttributeValue> EvaluateLiteral(const Literal& literal,
                                       const std::vector<AttributeValue>& params) {
  switch (literal.kind) {
    case Literal::Kind::kString:
      return AttributeValue::S(literal.text);
    case Literal::Kind::kNumber: {
      CRUDDUR_ASSIGN_OR_RETURN(Decimal d, Decimal::Parse(literal.text));
      return AttributeValue::N(d);
    }
    case Literal::Kind::kBool:
      return AttributeValue::Bool(literal.boolean);
    case Literal::Kind::kNull:
      return AttributeValue::Null();
    case Literal::Kind::kParameter:
      if (literal.parameter >= params.size()) {
        return ValidationError("Number of parameters in request and statement don't match.");
      }
      return params[literal.parameter];
    case Literal::Kind::kList: {
      AttributeList list;
      for (const auto& e : literal.elements) {
        CRUDDUR_ASSIGN_OR_RETURN(AttributeValue v, EvaluateLiteral(e, params));
        list.push_back(std::move(v));
      }
      return AttributeValue::L(std::move(list));
    }
    case Literal::Kind::kMap: {
      AttributeMap map;
      for (size_t i = 0; i < literal.elements.size(); ++i) {
        CRUDDUR_ASSIGN_OR_RETURN(AttributeValue v, EvaluateLiteral(literal.elements[i], params));
        map.emplace(literal.keys[i], std::move(v));
      }
      return AttributeValue::M(std::move(map));
    }
    case Literal::Kind::kSet:
      return EvaluateSet(literal, params);
  }
  return InternalError("unknown literal kind");
}

std::vector<const Condition*> Conjuncts(const Condition& where) {
  if (where.kind != Condition::Kind::kAnd) return {&where};
  std::vector<const Condition*> out = Conjuncts(where.children[0]);
  for (const Condition* c : Conjuncts(where.children[1])) out.push_back(c);
  return out;
}

bool IsAttributeEquality(const Condition& c, std::string* name, const Literal** literal) {
  if (c.kind != Condition::Kind::kCompare || c.op != "=") return false;
  for (int side = 0; side < 2; ++side) {
    const Operand& path = c.operands[side];
    const Operand& value = c.operands[1 - side];
    if (path.kind == Operand::Kind::kPath && path.path.elements.size() == 1 &&
        value.kind == Operand::Kind::kLiteral) {
      *name = path.path.top_level_name();
      *literal = &value.literal;
      return true;
    }
  }
  return false;
}

std::string ProjectionAlias(const expr::DocumentPath& path) {
  size_t last_name = 0;
  for (size_t i = 0; i < path.elements.size(); ++i) {
    if (!path.elements[i].is_index()) last_name = i;
  }
  std::string alias = path.elements[last_name].name;
  for (size_t i = last_name + 1; i < path.elements.size(); ++i) {
    alias += "[" + std::to_string(path.elements[i].index) + "]";
  }
  return alias;
}

std::string ExpressionWriter::Name(const std::string& name) {
  auto it = name_placeholders_.find(name);
  if (it != name_placeholders_.end()) return it->second;
  std::string placeholder = "#p" + std::to_string(name_placeholders_.size());
  name_placeholders_.emplace(name, placeholder);
  attrs_.names.emplace(placeholder, name);
  return placeholder;
}

std::string ExpressionWriter::Value(AttributeValue value) {
  std::string placeholder = ":v" + std::to_string(attrs_.values.size());
  attrs_.values.emplace(placeholder, std::move(value));
  return placeholder;
}

std::string ExpressionWriter::Path(const expr::DocumentPath& path) {
  std::string out;
  for (const auto& e : path.elements) {
    if (e.is_index()) {
      out += "[" + std::to_string(e.index) + "]";
    } else {
      if (!out.empty()) out += ".";
      out += Name(e.name);
    }
  }
  return out;
}

Result<std::string> ExpressionWriter::WriteFunction(const Operand& o) {
  std::string out = o.function + "(";
  for (size_t i = 0; i < o.args.size(); ++i) {
    CRUDDUR_ASSIGN_OR_RETURN(std::string arg, WriteOperand(o.args[i]));
    out += (i > 0 ? ", " : "") + arg;
  }
  return out + ")";
}

Result<std::string> ExpressionWriter::WriteOperand(const Operand& o) {
  switch (o.kind) {
    case Operand::Kind::kPath:
      return Path(o.path);
    case Operand::Kind::kLiteral: {
      CRUDDUR_ASSIGN_OR_RETURN(AttributeValue v, EvaluateLiteral(o.literal, params_));
      return Value(std::move(v));
    }
    case Operand::Kind::kFunction:
      return WriteFunction(o);
    case Operand::Kind::kPlus:
    case Operand::Kind::kMinus: {
      CRUDDUR_ASSIGN_OR_RETURN(std::string lhs, WriteOperand(o.args[0]));
      CRUDDUR_ASSIGN_OR_RETURN(std::string rhs, WriteOperand(o.args[1]));
      return lhs + (o.kind == Operand::Kind::kPlus ? " + " : " - ") + rhs;
    }
  }
  return InternalError("unknown operand kind");
}

Result<std::string> ExpressionWriter::WriteCondition(const Condition& c) {
  switch (c.kind) {
    case Condition::Kind::kAnd:
    case Condition::Kind::kOr: {
      CRUDDUR_ASSIGN_OR_RETURN(std::string lhs, WriteCondition(c.children[0]));
      CRUDDUR_ASSIGN_OR_RETURN(std::string rhs, WriteCondition(c.children[1]));
      return "(" + lhs + (c.kind == Condition::Kind::kAnd ? ") AND (" : ") OR (") + rhs + ")";
    }
    case Condition::Kind::kNot: {
      CRUDDUR_ASSIGN_OR_RETURN(std::string inner, WriteCondition(c.children[0]));
      return "NOT (" + inner + ")";
    }
    case Condition::Kind::kCompare: {
      CRUDDUR_ASSIGN_OR_RETURN(std::string lhs, WriteOperand(c.operands[0]));
      CRUDDUR_ASSIGN_OR_RETURN(std::string rhs, WriteOperand(c.operands[1]));
      return lhs + " " + c.op + " " + rhs;
    }
    case Condition::Kind::kBetween: {
      CRUDDUR_ASSIGN_OR_RETURN(std::string v, WriteOperand(c.operands[0]));
      CRUDDUR_ASSIGN_OR_RETURN(std::string lo, WriteOperand(c.operands[1]));
      CRUDDUR_ASSIGN_OR_RETURN(std::string hi, WriteOperand(c.operands[2]));
      return v + " BETWEEN " + lo + " AND " + hi;
    }
    case Condition::Kind::kIn: {
      CRUDDUR_ASSIGN_OR_RETURN(std::string out, WriteOperand(c.operands[0]));
      out += " IN (";
      for (size_t i = 1; i < c.operands.size(); ++i) {
        CRUDDUR_ASSIGN_OR_RETURN(std::string v, WriteOperand(c.operands[i]));
        out += (i > 1 ? ", " : "") + v;
      }
      return out + ")";
    }
    case Condition::Kind::kFunction: {
      Operand call;
      call.kind = Operand::Kind::kFunction;
      call.function = c.op;
      call.args = c.operands;
      return WriteFunction(call);
    }
    // Developer Guide, "PartiQL functions": "MISSING" is attribute_not_exists; IS NULL tests the
    // NULL type, so a missing attribute IS NOT NULL (DynamoDB Local agrees).
    case Condition::Kind::kIsMissing:
    case Condition::Kind::kIsNotMissing: {
      CRUDDUR_ASSIGN_OR_RETURN(std::string p, WriteOperand(c.operands[0]));
      return std::string(c.kind == Condition::Kind::kIsMissing ? "attribute_not_exists("
                                                               : "attribute_exists(") +
             p + ")";
    }
    case Condition::Kind::kIsNull:
    case Condition::Kind::kIsNotNull: {
      CRUDDUR_ASSIGN_OR_RETURN(std::string p, WriteOperand(c.operands[0]));
      std::string test = "attribute_type(" + p + ", " + Value(AttributeValue::S("NULL")) + ")";
      return c.kind == Condition::Kind::kIsNull ? test : "NOT " + test;
    }
  }
  return InternalError("unknown condition kind");
}

Result<std::string> ExpressionWriter::WriteConjunction(const std::vector<const Condition*>& terms) {
  std::string out;
  for (const Condition* t : terms) {
    CRUDDUR_ASSIGN_OR_RETURN(std::string text, WriteCondition(*t));
    out += (out.empty() ? "(" : " AND (") + text + ")";
  }
  return out;
}

Result<std::string> ExpressionWriter::WriteUpdate(const std::vector<UpdateAction>& actions) {
  std::string set, remove, add, del;
  auto append = [](std::string* clause, const std::string& text) {
    *clause += (clause->empty() ? "" : ", ") + text;
  };
  for (const auto& a : actions) {
    std::string path = Path(a.path);
    if (a.kind == UpdateAction::Kind::kRemove) {
      append(&remove, path);
      continue;
    }
    const Operand& v = a.value;
    // "SET s = set_add(s, <<'x'>>)" adds to the set at the path it names (Developer Guide,
    // "PartiQL update statements"); any other first argument is an error of the function.
    bool set_op = v.kind == Operand::Kind::kFunction &&
                  (v.function == "set_add" || v.function == "set_delete");
    if (set_op && v.args.size() == 2 && v.args[0].kind == Operand::Kind::kPath &&
        v.args[0].path == a.path) {
      CRUDDUR_ASSIGN_OR_RETURN(std::string operand, WriteOperand(v.args[1]));
      append(v.function == "set_add" ? &add : &del, path + " " + operand);
      continue;
    }
    if (set_op) {
      return ValidationError("The first argument of " + v.function +
                             " must be the attribute being set: " + a.path.ToString());
    }
    CRUDDUR_ASSIGN_OR_RETURN(std::string value, WriteOperand(v));
    append(&set, path + " = " + value);
  }
  std::string out;
  for (const auto& [keyword, clause] : {std::pair<const char*, const std::string&>{"SET ", set},
                                        {"REMOVE ", remove},
                                        {"ADD ", add},
                                        {"DELETE ", del}}) {
    if (clause.empty()) continue;
    out += (out.empty() ? "" : " ") + std::string(keyword) + clause;
  }
  return out;
}

}  // namespace cruddur::dynamo::partiql
