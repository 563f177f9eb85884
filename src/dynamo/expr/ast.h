// Internal to dynamo/expr: the resolved syntax tree the parser produces and the evaluator
// walks. Placeholders are already substituted (names into DocumentPaths, values copied in), so
// evaluation needs nothing but the tree and the item. Immutable once built.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "dynamo/expr/expr.h"

namespace cruddur::dynamo::expr::internal {

// A value-producing operand: of a comparison or function in a condition, or the right-hand
// side of an update's SET.
struct Operand {
  enum class Kind { kPath, kValue, kSize, kIfNotExists, kListAppend, kPlus, kMinus };
  Kind kind = Kind::kValue;
  DocumentPath path;          // kPath
  AttributeValue value;       // kValue
  std::vector<Operand> args;  // functions and arithmetic, in source order
};

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe };

struct ConditionNode {
  enum class Kind {
    kAnd,
    kOr,
    kNot,
    kCompare,
    kBetween,
    kIn,
    kAttributeExists,
    kAttributeNotExists,
    kAttributeType,
    kBeginsWith,
    kContains,
  };
  Kind kind = Kind::kAnd;
  CompareOp op = CompareOp::kEq;        // kCompare
  AttrType type = AttrType::kNull;      // kAttributeType
  std::vector<ConditionNode> children;  // kAnd / kOr (two), kNot (one)
  std::vector<Operand> operands;        // comparisons and functions, in source order
};

struct UpdateAction {
  enum class Kind { kSet, kRemove, kAdd, kDelete };
  Kind kind = Kind::kSet;
  DocumentPath path;
  Operand value;  // SET: the right-hand side; ADD / DELETE: the value operand
};

// What a projection selects below one attribute value: the whole value, or some map members
// and/or list elements (paths never overlap, so `whole` excludes the others).
struct ProjectionNode {
  bool whole = false;
  std::map<std::string, ProjectionNode, std::less<>> members;
  std::map<int32_t, ProjectionNode> elements;
};

}  // namespace cruddur::dynamo::expr::internal
