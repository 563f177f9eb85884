// DynamoDB's expression language: condition/filter, projection, update and key-condition
// expressions (Developer Guide: "Condition expressions", "Comparison operator and function
// reference", "Update expressions", "Projection expressions", "Key condition expressions",
// "Expression attribute names", "Expression attribute values", "Reserved words").
//
// Usage, once per request:
//   ExpressionAttributes attrs{.names = ..., .values = ...};
//   CRUDDUR_ASSIGN_OR_RETURN(Condition cond, ParseCondition(text, "ConditionExpression", &attrs));
//   CRUDDUR_ASSIGN_OR_RETURN(Update update, ParseUpdate(update_text, &attrs));
//   CRUDDUR_RETURN_IF_ERROR(CheckAllAttributesUsed(attrs));   // after every expression parsed
// then per item: EvaluateCondition(cond, item), ApplyUpdate(update, &item), ...
//
// Ownership: a parsed Condition / Projection / Update copies what it needs out of
// ExpressionAttributes (values are copied once at parse time), so it does not refer to
// `attrs` after parsing. Parsed objects are immutable and cheap to copy (shared, const AST);
// they may be evaluated from several threads at once. Evaluation never copies the item.
//
// Failure modes: every parse error is a ValidationException whose text is DynamoDB's, prefixed
// with "Invalid <Param>: " exactly as DynamoDB does (e.g. "Invalid UpdateExpression: Syntax
// error; token: \"=\", near: \"SET =\""). Evaluation of a condition can only fail for
// conditions whose operands come from the item (see EvaluateCondition). ApplyUpdate fails with
// DynamoDB's ValidationException texts when the item's data does not fit the update.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "dynamo/model/attribute_value.h"

namespace cruddur::dynamo::expr {

// The request's ExpressionAttributeNames / ExpressionAttributeValues. Parsing records every
// placeholder it resolves in used_names / used_values, across all the expressions of one
// request, so CheckAllAttributesUsed can report the leftovers as DynamoDB does.
struct ExpressionAttributes {
  std::map<std::string, std::string, std::less<>> names;      // "#n" -> attribute name
  std::map<std::string, AttributeValue, std::less<>> values;  // ":v" -> value
  std::set<std::string, std::less<>> used_names;
  std::set<std::string, std::less<>> used_values;
};

// Fails with DynamoDB's "Value provided in ExpressionAttributeNames unused in expressions:
// keys: {#a, #b}" (names are checked first) or "Value provided in ExpressionAttributeValues
// unused in expressions: keys: {:x}". Call after parsing all of the request's expressions.
Status CheckAllAttributesUsed(const ExpressionAttributes& attrs);

// One step of a document path: a map member / top-level attribute name, or a list index.
struct PathElement {
  std::string name;  // meaningful when index < 0
  int32_t index = -1;
  bool is_index() const { return index >= 0; }
  bool operator==(const PathElement&) const = default;
};

// A resolved document path (placeholders already substituted): the first element is always a
// name (the top-level attribute), later ones are ".member" names or "[index]" indexes.
struct DocumentPath {
  std::vector<PathElement> elements;
  const std::string& top_level_name() const { return elements.front().name; }
  // "a.b[2].c", for messages and debugging.
  std::string ToString() const;
  bool operator==(const DocumentPath&) const = default;
};

// Resolves `path` in `item`; nullptr when any step is missing or the wrong kind of container.
// The pointer aliases `item` and is valid while `item` is unchanged.
const AttributeValue* ResolvePath(const Item& item, const DocumentPath& path);

namespace internal {
struct ConditionNode;
struct UpdateAction;
struct ProjectionNode;
}  // namespace internal

// ---- Condition / filter expressions ------------------------------------------------------

class Condition {
 public:
  Condition() = default;  // an empty condition: always true
  bool empty() const { return root_ == nullptr; }
  // The top-level attribute names the condition reads (e.g. to reject key attributes in a
  // Query's FilterExpression: "Filter Expression can only contain non-primary key attributes").
  const std::set<std::string, std::less<>>& top_level_names() const { return names_; }

 private:
  friend Result<Condition> ParseCondition(std::string_view, std::string_view,
                                          ExpressionAttributes*);
  friend Result<bool> EvaluateCondition(const Condition&, const Item&);
  std::shared_ptr<const internal::ConditionNode> root_;
  std::set<std::string, std::less<>> names_;
};

// `param` is the request parameter the text came from, "ConditionExpression" or
// "FilterExpression"; it prefixes every error ("Invalid FilterExpression: ...").
Result<Condition> ParseCondition(std::string_view text, std::string_view param,
                                 ExpressionAttributes* attrs);

// Evaluates against `item` (pass an empty Item when the item does not exist). Comparisons of
// values of different types are false, not errors. Errors are ValidationExceptions for
// operands that can only be checked at run time, with DynamoDB's texts.
Result<bool> EvaluateCondition(const Condition& condition, const Item& item);

// ---- Projection expressions --------------------------------------------------------------

class Projection {
 public:
  Projection() = default;  // empty: selects nothing
  // A projection of the given paths, which must not overlap (ParseProjection checks that).
  static Projection FromPaths(std::vector<DocumentPath> paths);
  // A projection of plain top-level attribute names (the legacy AttributesToGet parameter).
  static Projection FromAttributeNames(const std::vector<std::string>& names);
  const std::vector<DocumentPath>& paths() const { return paths_; }
  bool empty() const { return paths_.empty(); }

 private:
  friend Item ApplyProjection(const Projection&, const Item&);
  std::vector<DocumentPath> paths_;
  std::shared_ptr<const internal::ProjectionNode> tree_;
};

// Errors: "Invalid ProjectionExpression: ...", including overlapping or duplicate paths ("Two
// document paths overlap with each other; must remove or rewrite one of these paths; path one:
// [a], path two: [a, b]") and paths that use one value as both a map and a list ("Two document
// paths conflict with each other; ... path one: [m, a], path two: [m, [0]]").
Result<Projection> ParseProjection(std::string_view text, ExpressionAttributes* attrs);

// The attributes of `item` the projection selects. Nested paths yield nested structure:
// "a.b[1]" on {a: {b: [x, y, z], c: 1}} yields {a: {b: [y]}}; list elements selected by several
// indexes keep list order. Paths that do not resolve are skipped.
Item ApplyProjection(const Projection& projection, const Item& item);

// ---- Update expressions ------------------------------------------------------------------

class Update {
 public:
  Update() = default;
  // Top-level attribute names any action writes (to reject updates of key attributes).
  const std::set<std::string, std::less<>>& top_level_names() const { return names_; }
  // The paths the update writes, as a projection: ApplyProjection(update.written(), old_item)
  // and (..., new_item) give ReturnValues UPDATED_OLD / UPDATED_NEW.
  const Projection& written() const { return written_; }

 private:
  friend Result<Update> ParseUpdate(std::string_view, ExpressionAttributes*);
  friend Status ApplyUpdate(const Update&, Item*);
  std::shared_ptr<const std::vector<internal::UpdateAction>> actions_;
  std::set<std::string, std::less<>> names_;
  Projection written_;
};

// Errors: "Invalid UpdateExpression: ..." (syntax, reserved words, a clause used twice,
// overlapping or conflicting paths, wrong function use, undefined placeholders, operands of the
// wrong type known at parse time).
Result<Update> ParseUpdate(std::string_view text, ExpressionAttributes* attrs);

// Applies every action to *item (an empty Item for a new one). All operands read the item as it
// was before the update, as DynamoDB does. On error *item may be partly updated: callers apply
// to a copy. Errors (ValidationException): "The document path provided in the update expression
// is invalid for update", "An operand in the update expression has an incorrect data type",
// number overflow texts from Decimal, and "Nesting Levels have exceeded supported limits" for
// results deeper than 32 levels.
Status ApplyUpdate(const Update& update, Item* item);

// ---- Key condition expressions (Query) ---------------------------------------------------

enum class SortKeyOp { kEq, kLt, kLe, kGt, kGe, kBetween, kBeginsWith };

struct SortKeyCondition {
  SortKeyOp op = SortKeyOp::kEq;
  AttributeValue value;   // the operand; the lower bound for BETWEEN
  AttributeValue value2;  // the upper bound for BETWEEN, else unused
};

struct KeyCondition {
  AttributeValue hash_value;
  std::optional<SortKeyCondition> sort;
};

// Parses a Query's KeyConditionExpression for a table or index whose keys are `hash_key` and,
// when non-empty, `range_key`. Errors (ValidationException) are DynamoDB's: "Invalid
// KeyConditionExpression: ..." for syntax and unsupported operators/functions, "Query condition
// missed key schema element: pk", "Query key condition not supported", "KeyConditionExpressions
// must only contain one condition per key". It does not check value types against the key
// schema ("Condition parameter type does not match schema type"): the caller knows the schema.
Result<KeyCondition> ParseKeyCondition(std::string_view text, ExpressionAttributes* attrs,
                                       std::string_view hash_key, std::string_view range_key);

}  // namespace cruddur::dynamo::expr
