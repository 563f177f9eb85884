// PartiQL for DynamoDB (Developer Guide, "PartiQL - a SQL-compatible query language for Amazon
// DynamoDB": "Statements", "Functions", "Operators", "Data types"): the subset DynamoDB accepts,
// parsed into a syntax tree, and translated into DynamoDB's own expression language so that the
// API layer evaluates conditions and applies updates with dynamo/expr, exactly as it does for
// the item operations.
//
// Usage, once per statement:
//   CRUDDUR_ASSIGN_OR_RETURN(Statement st, ParseStatement(text));
//   if (st.parameter_count != params.size()) ... "Number of parameters ... don't match."
//   ExpressionWriter w(params);
//   CRUDDUR_ASSIGN_OR_RETURN(std::string cond, w.WriteCondition(*st.where));
//   expr::ParseCondition(cond, "ConditionExpression", &w.attributes()) ...
//
// Ownership: a Statement is a plain value tree that owns everything it holds. ExpressionWriter
// refers to the parameter list it was given, which must outlive it.
//
// Thread-safety: pure functions and values; distinct objects may be used from any thread.
//
// Failure modes: ValidationException only. A statement that does not parse is reported as
// DynamoDB does, "Statement wasn't well formed, can't be processed: <statement>"; literal and
// structure errors carry DynamoDB's texts (some with a "at <line>:<column>:<length>" position).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "dynamo/expr/expr.h"
#include "dynamo/model/attribute_value.h"

namespace cruddur::dynamo::partiql {

// API Reference, ExecuteStatement "Statement": length 1 to 8192.
inline constexpr size_t kMaxStatementChars = 8192;
// Nesting of literals ({...}, [...]) and of parenthesized conditions. Literals deeper than
// DynamoDB's 32 attribute levels could not be stored anyway; the bound keeps recursion shallow.
inline constexpr int kMaxNestingDepth = 32;

// Where a token starts in the statement and how long it is (for "at 1:52:4" positions).
struct SourcePos {
  int line = 1;
  int column = 1;
  int length = 0;
  std::string ToString() const;  // "1:52:4"
};

// A literal value as written, or a `?` parameter, resolved by EvaluateLiteral.
struct Literal {
  enum class Kind { kString, kNumber, kBool, kNull, kParameter, kList, kMap, kSet };
  Kind kind = Kind::kNull;
  std::string text;               // kString: unescaped text; kNumber: as written (with sign)
  bool boolean = false;           // kBool
  size_t parameter = 0;           // kParameter: zero-based index among the statement's `?`
  std::vector<Literal> elements;  // kList, kSet; kMap: the values
  std::vector<std::string> keys;  // kMap: the member names, parallel to elements
  SourcePos pos;
};

// A value-producing term of a condition or of an UPDATE's SET.
struct Operand {
  enum class Kind { kPath, kLiteral, kFunction, kPlus, kMinus };
  Kind kind = Kind::kLiteral;
  expr::DocumentPath path;    // kPath
  Literal literal;            // kLiteral
  std::string function;       // kFunction, lower case: size, list_append, if_not_exists, ...
  std::vector<Operand> args;  // kFunction arguments; kPlus / kMinus: the two sides
};

struct Condition {
  enum class Kind {
    kAnd,
    kOr,
    kNot,
    kCompare,   // operands[0] op operands[1]
    kBetween,   // operands[0] BETWEEN operands[1] AND operands[2]
    kIn,        // operands[0] IN (operands[1..])
    kFunction,  // begins_with, contains, attribute_exists, attribute_not_exists, attribute_type
    kIsMissing,
    kIsNotMissing,
    kIsNull,
    kIsNotNull,
  };
  Kind kind = Kind::kAnd;
  std::string op;                   // kCompare: = <> < <= > >=; kFunction: the name, lower case
  std::vector<Condition> children;  // kAnd / kOr (two), kNot (one)
  std::vector<Operand> operands;
};

struct UpdateAction {
  enum class Kind { kSet, kRemove };
  Kind kind = Kind::kSet;
  expr::DocumentPath path;
  Operand value;  // kSet
};

// UPDATE / DELETE ... RETURNING (Developer Guide, "PartiQL update statements").
enum class Returning { kNone, kAllOld, kModifiedOld, kAllNew, kModifiedNew };

struct OrderBy {
  expr::DocumentPath path;
  bool descending = false;
};

struct Statement {
  enum class Kind { kSelect, kInsert, kUpdate, kDelete };
  Kind kind = Kind::kSelect;
  std::string table;
  std::string index;                           // SELECT ... FROM "table"."index"
  std::vector<expr::DocumentPath> projection;  // SELECT; empty for *
  std::optional<Condition> where;
  std::vector<OrderBy> order_by;      // SELECT
  Literal value;                      // INSERT ... VALUE
  std::vector<UpdateAction> updates;  // UPDATE, in source order
  Returning returning = Returning::kNone;
  size_t parameter_count = 0;  // the number of `?` markers
};

// Parses one statement (an optional trailing ';' is allowed). Keywords are case-insensitive;
// identifiers are bare (letters, digits, '_', not starting with a digit) or "double-quoted".
Result<Statement> ParseStatement(std::string_view text);

// "RETURNING ALL NEW *" etc., for messages.
std::string_view ReturningText(Returning r);

// The value of `literal` with `params` bound to its `?` markers (the caller has checked their
// count). Errors: "Unsupported data type in Bag. DynamoDB only supports either numbers or strings
// in bags at <pos>", "Input collection contains duplicates", "Duplicate keys in tuple. Key: <k>
// under root at <pos>", and Decimal's number texts.
Result<AttributeValue> EvaluateLiteral(const Literal& literal,
                                       const std::vector<AttributeValue>& params);

// The top-level AND terms of a condition, in source order ("a AND (b AND c)" gives a, b, c).
std::vector<const Condition*> Conjuncts(const Condition& where);

// When `c` is `name = literal` or `literal = name` for a top-level attribute `name`, sets *name
// and *literal and returns true.
bool IsAttributeEquality(const Condition& c, std::string* name, const Literal** literal);

// The attribute name a SELECT projection path is returned under: its last member name, followed
// by any list indexes after it ("a.b" -> "b", "l[2]" -> "l[2]").
std::string ProjectionAlias(const expr::DocumentPath& path);

// Writes conditions and updates as DynamoDB expression text, with every attribute name as a
// "#pN" placeholder and every literal as a ":vN" value in attributes(), ready for
// expr::ParseCondition / expr::ParseUpdate.
class ExpressionWriter {
 public:
  explicit ExpressionWriter(const std::vector<AttributeValue>& params) : params_(params) {}

  Result<std::string> WriteCondition(const Condition& c);
  // Several conditions joined with AND (an empty list gives "").
  Result<std::string> WriteConjunction(const std::vector<const Condition*>& terms);
  // SET, REMOVE, and set_add / set_delete (as ADD / DELETE) actions, grouped by clause.
  Result<std::string> WriteUpdate(const std::vector<UpdateAction>& actions);
  // A placeholder for a top-level attribute name or a value (e.g. for attribute_exists(#pk)).
  std::string Name(const std::string& name);
  std::string Value(AttributeValue value);

  expr::ExpressionAttributes& attributes() { return attrs_; }

 private:
  std::string Path(const expr::DocumentPath& path);
  Result<std::string> WriteOperand(const Operand& o);
  Result<std::string> WriteFunction(const Operand& o);

  const std::vector<AttributeValue>& params_;
  expr::ExpressionAttributes attrs_;
  std::map<std::string, std::string, std::less<>> name_placeholders_;
};

}  // namespace cruddur::dynamo::partiql
