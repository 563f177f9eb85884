// Filter criteria for stream records, in Lambda's event-filtering pattern language (Lambda
// Developer Guide, "Control which events Lambda sends to your function" and "Using event filtering
// with a DynamoDB event source"). A pattern is a JSON object that mirrors the record: nested
// objects descend into the record, and each leaf is an array of conditions of which one must
// hold. Several patterns may be given; a record passes when any one matches.
//
// Supported conditions (a documented subset of Lambda's):
//   "INSERT", 5, true, null        exact value (numbers compare as decimals)
//   {"prefix": "abc"}              a string starting with abc
//   {"exists": true|false}         the field is present / absent
//   {"anything-but": [v, ...]}     present and equal to none of the values (or one value)
//   {"numeric": [">", 0, "<=", 5]} one or two comparisons (=, <, <=, >, >=); the field may be a
//                                  JSON number or a numeric string, so DynamoDB's {"N": "42"}
//                                  compares as a number
// When the record's field is an array (e.g. an SS set), the condition holds if it holds for any
// element. The record is the Lambda event record, so patterns can name `eventName` and
// `dynamodb.Keys` / `dynamodb.NewImage` / `dynamodb.OldImage` with DynamoDB's type keys, e.g.
//   {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"pk": {"S": [{"prefix": "MSG#"}]}}}}
//
// Thread-safety: a parsed FilterCriteria is immutable; Matches may be called from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace cruddur::triggers {

class FilterCriteria {
 public:
  // Lambda's bounds: at most 5 filters per mapping, each pattern at most 4096 characters.
  static constexpr int kMaxPatterns = 5;
  static constexpr size_t kMaxPatternChars = 4096;

  // `text` is one pattern (a JSON object) or a JSON array of patterns. ValidationException with
  // a message naming the problem when the text is not a pattern this subset understands.
  static Result<FilterCriteria> Parse(std::string_view text);

  FilterCriteria(FilterCriteria&&) noexcept;
  FilterCriteria& operator=(FilterCriteria&&) noexcept;
  ~FilterCriteria();

  // True when any pattern matches the record (a JSON object).
  bool Matches(const json::Value& record) const;
  // Same on the record's JSON text; false when the text is not JSON.
  bool Matches(std::string_view record_json) const;

  struct Node;

 private:
  FilterCriteria();
  std::vector<std::unique_ptr<Node>> patterns_;
};

}  // namespace cruddur::triggers
