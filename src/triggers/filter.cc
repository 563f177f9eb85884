#include "triggers/filter.h"

#include <charconv>
#include <optional>
#include <utility>

#include "dynamo/model/decimal.h"

namespace cruddur::triggers {

using dynamo::Decimal;

namespace {

// A JSON number as an exact decimal. Doubles come from RapidJSON's parse; std::to_chars gives
// the shortest text that reads back as the same double, i.e. the digits the pattern's author
// wrote (up to 17 significant digits), so "0.1" compares as 0.1, not 0.1000000000000000055.
std::optional<Decimal> NumberOf(const json::Value& v) {
  if (v.IsInt64()) return Decimal::FromInt(v.GetInt64());
  std::string text;
  if (v.IsUint64()) {
    text = std::to_string(v.GetUint64());
  } else if (v.IsNumber()) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v.GetDouble());
    if (ec != std::errc()) return std::nullopt;
    text.assign(buf, end);
  } else if (v.IsString()) {
    // DynamoDB JSON carries numbers as strings ({"N": "42"}).
    text.assign(v.GetString(), v.GetStringLength());
  } else {
    return std::nullopt;
  }
  auto d = Decimal::Parse(text);
  if (!d.ok()) return std::nullopt;
  return *d;
}

enum class Op { kEq, kLt, kLe, kGt, kGe };

struct Condition {
  enum class Kind { kExact, kPrefix, kExists, kAnythingBut, kNumeric };
  Kind kind = Kind::kExact;
  // kExact / kAnythingBut: the values (a JSON array); kPrefix: one string.
  json::Document values;
  std::string prefix;
  bool exists = true;
  std::vector<std::pair<Op, Decimal>> comparisons;
};

bool SameValue(const json::Value& pattern, const json::Value& v) {
  if (pattern.IsNull()) return v.IsNull();
  if (pattern.IsBool()) return v.IsBool() && v.GetBool() == pattern.GetBool();
  if (pattern.IsString()) return v.IsString() && v == pattern;
  if (pattern.IsNumber()) {
    if (!v.IsNumber()) return false;
    auto a = NumberOf(pattern), b = NumberOf(v);
    return a && b && *a == *b;
  }
  return false;
}

bool ScalarHolds(const Condition& c, const json::Value& v) {
  switch (c.kind) {
    case Condition::Kind::kExact:
      for (const json::Value& p : c.values.GetArray()) {
        if (SameValue(p, v)) return true;
      }
      return false;
    case Condition::Kind::kPrefix:
      return v.IsString() && std::string_view(v.GetString(), v.GetStringLength())
                                 .starts_with(std::string_view(c.prefix));
    case Condition::Kind::kAnythingBut:
      if (v.IsNull()) return false;
      for (const json::Value& p : c.values.GetArray()) {
        if (SameValue(p, v)) return false;
      }
      return true;
    case Condition::Kind::kNumeric: {
      auto n = NumberOf(v);
      if (!n) return false;
      for (const auto& [op, bound] : c.comparisons) {
        const auto cmp = *n <=> bound;
        const bool ok = op == Op::kEq   ? cmp == 0
                        : op == Op::kLt ? cmp < 0
                        : op == Op::kLe ? cmp <= 0
                        : op == Op::kGt ? cmp > 0
                                        : cmp >= 0;
        if (!ok) return false;
      }
      return true;
    }
    case Condition::Kind::kExists:
      return c.exists;
  }
  return false;
}

// `v` is the record's field, nullptr when absent.
bool Holds(const Condition& c, const json::Value* v) {
  if (c.kind == Condition::Kind::kExists) return (v != nullptr) == c.exists;
  if (v == nullptr) return false;
  if (v->IsArray()) {
    for (const json::Value& e : v->GetArray()) {
      if (ScalarHolds(c, e)) return true;
    }
    return false;
  }
  return ScalarHolds(c, *v);
}

Status PatternError(const std::string& path, std::string_view what) {
  return ValidationError("Invalid filter pattern at " + (path.empty() ? "the top" : path) + ": " +
                         std::string(what));
}

Result<Op> ParseOp(std::string_view s) {
  if (s == "=") return Op::kEq;
  if (s == "<") return Op::kLt;
  if (s == "<=") return Op::kLe;
  if (s == ">") return Op::kGt;
  if (s == ">=") return Op::kGe;
  return ValidationError("unknown numeric operator '" + std::string(s) + "'");
}

bool IsScalar(const json::Value& v) {
  return v.IsString() || v.IsNumber() || v.IsBool() || v.IsNull();
}

Result<Condition> ParseCondition(const json::Value& v, const std::string& path) {
  Condition c;
  if (IsScalar(v)) {
    c.kind = Condition::Kind::kExact;
    c.values.SetArray();
    c.values.PushBack(json::Value(v, c.values.GetAllocator()), c.values.GetAllocator());
    return c;
  }
  if (!v.IsObject() || v.MemberCount() != 1) {
    return PatternError(path, "a condition is a value or an object with one operator");
  }
  const std::string_view op(v.MemberBegin()->name.GetString(),
                            v.MemberBegin()->name.GetStringLength());
  const json::Value& arg = v.MemberBegin()->value;
  if (op == "prefix") {
    if (!arg.IsString()) return PatternError(path, "prefix takes a string");
    c.kind = Condition::Kind::kPrefix;
    c.prefix.assign(arg.GetString(), arg.GetStringLength());
    return c;
  }
  if (op == "exists") {
    if (!arg.IsBool()) return PatternError(path, "exists takes true or false");
    c.kind = Condition::Kind::kExists;
    c.exists = arg.GetBool();
    return c;
  }
  if (op == "anything-but") {
    c.kind = Condition::Kind::kAnythingBut;
    c.values.SetArray();
    auto& alloc = c.values.GetAllocator();
    if (arg.IsArray()) {
      if (arg.Empty()) return PatternError(path, "anything-but takes a non-empty list");
      for (const json::Value& e : arg.GetArray()) {
        if (!e.IsString() && !e.IsNumber()) {
          return PatternError(path, "anything-but takes strings or numbers");
        }
        c.values.PushBack(json::Value(e, alloc), alloc);
      }
    } else if (arg.IsString() || arg.IsNumber()) {
      c.values.PushBack(json::Value(arg, alloc), alloc);
    } else {
      return PatternError(path, "anything-but takes a value or a list of values");
    }
    return c;
  }
  if (op == "numeric") {
    if (!arg.IsArray() || (arg.Size() != 2 && arg.Size() != 4)) {
      return PatternError(path, "numeric takes [op, n] or [op, n, op, n]");
    }
    c.kind = Condition::Kind::kNumeric;
    for (rapidjson::SizeType i = 0; i < arg.Size(); i += 2) {
      if (!arg[i].IsString() || !arg[i + 1].IsNumber()) {
        return PatternError(path, "numeric takes operator strings each followed by a number");
      }
      auto o = ParseOp(std::string_view(arg[i].GetString(), arg[i].GetStringLength()));
      if (!o.ok()) return PatternError(path, o.status().message());
      auto n = NumberOf(arg[i + 1]);
      if (!n) return PatternError(path, "numeric bound out of range");
      c.comparisons.emplace_back(*o, *n);
    }
    return c;
  }
  return PatternError(path, "unsupported operator '" + std::string(op) +
                                "' (supported: prefix, exists, anything-but, numeric)");
}

}  // namespace

// A pattern object: members that are objects descend, members that are arrays are leaves.
struct FilterCriteria::Node {
  struct Child {
    std::string name;
    std::unique_ptr<Node> node;
  };
  std::vector<Child> children;
  std::vector<Condition> conditions;  // non-empty for a leaf
  bool leaf = false;

  bool Matches(const json::Value* v) const {
    if (leaf) {
      for (const Condition& c : conditions) {
        if (Holds(c, v)) return true;
      }
      return false;
    }
    // An absent or non-object field still lets {"exists": false} leaves below it match.
    for (const Child& child : children) {
      const json::Value* member = nullptr;
      if (v != nullptr && v->IsObject()) {
        auto it =
            v->FindMember(json::Value(rapidjson::StringRef(child.name.data(), child.name.size())));
        if (it != v->MemberEnd()) member = &it->value;
      }
      if (!child.node->Matches(member)) return false;
    }
    return true;
  }
};

namespace {

Status ParseNode(const json::Value& v, const std::string& path, FilterCriteria::Node* node) {
  if (v.IsArray()) {
    if (v.Empty()) return PatternError(path, "a list of conditions cannot be empty");
    node->leaf = true;
    for (const json::Value& e : v.GetArray()) {
      CRUDDUR_ASSIGN_OR_RETURN(Condition c, ParseCondition(e, path));
      node->conditions.push_back(std::move(c));
    }
    return Status::Ok();
  }
  if (!v.IsObject()) {
    return PatternError(path, "values must be objects or lists of conditions, e.g. [\"INSERT\"]");
  }
  if (v.MemberCount() == 0) return PatternError(path, "an object cannot be empty");
  for (const auto& m : v.GetObject()) {
    std::string name(m.name.GetString(), m.name.GetStringLength());
    const std::string child_path = path.empty() ? name : path + "." + name;
    auto child = std::make_unique<FilterCriteria::Node>();
    CRUDDUR_RETURN_IF_ERROR(ParseNode(m.value, child_path, child.get()));
    node->children.push_back({std::move(name), std::move(child)});
  }
  return Status::Ok();
}

}  // namespace

FilterCriteria::FilterCriteria() = default;
FilterCriteria::FilterCriteria(FilterCriteria&&) noexcept = default;
FilterCriteria& FilterCriteria::operator=(FilterCriteria&&) noexcept = default;
FilterCriteria::~FilterCriteria() = default;

Result<FilterCriteria> FilterCriteria::Parse(std::string_view text) {
  json::Document doc;
  if (Status st = json::Parse(text, &doc, 32); !st.ok()) {
    return ValidationError("Invalid filter pattern: not JSON (" + st.message() + ")");
  }
  std::vector<const json::Value*> patterns;
  if (doc.IsArray()) {
    for (const json::Value& p : doc.GetArray()) patterns.push_back(&p);
  } else {
    patterns.push_back(&doc);
  }
  if (patterns.empty() || patterns.size() > static_cast<size_t>(kMaxPatterns)) {
    return ValidationError("A filter has 1 to " + std::to_string(kMaxPatterns) + " patterns");
  }
  FilterCriteria criteria;
  for (const json::Value* p : patterns) {
    if (!p->IsObject()) return ValidationError("Invalid filter pattern: a pattern is an object");
    if (json::ToString(*p).size() > kMaxPatternChars) {
      return ValidationError("Invalid filter pattern: longer than " +
                             std::to_string(kMaxPatternChars) + " characters");
    }
    auto node = std::make_unique<Node>();
    CRUDDUR_RETURN_IF_ERROR(ParseNode(*p, "", node.get()));
    criteria.patterns_.push_back(std::move(node));
  }
  return criteria;
}

bool FilterCriteria::Matches(const json::Value& record) const {
  for (const auto& p : patterns_) {
    if (p->Matches(&record)) return true;
  }
  return false;
}

bool FilterCriteria::Matches(std::string_view record_json) const {
  json::Document doc;
  if (!json::Parse(record_json, &doc).ok()) return false;
  return Matches(doc);
}

}  // namespace cruddur::triggers
