// Lexer, recursive-descent parser and placeholder resolution for all four expression kinds.
//
// DynamoDB validates an expression in stages, and the stage decides which error a client sees
// first (checked against DynamoDB Local): the size limit (4096 characters), then syntax, then
// structural checks (redundant parentheses, a clause used twice), then one left-to-right walk
// that resolves placeholders and checks reserved words, function names, operand counts and the
// types of constant operands, and finally the operator count (at most 300) and, for updates and
// projections, overlapping document paths.
//
// Syntax errors quote the offending token and the text from the start of the token before it
// to the end of the token after it, exactly as DynamoDB's generated parser does:
// `a = :v x` -> Syntax error; token: "x", near: ":v x".
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "dynamo/expr/ast.h"
#include "dynamo/expr/expr.h"
#include "dynamo/expr/reserved_words.h"

namespace cruddur::dynamo::expr {
namespace {

using internal::CompareOp;
using internal::ConditionNode;
using internal::Operand;
using internal::UpdateAction;

constexpr size_t kMaxExpressionChars = 4096;  // "Expression parameters" limits in the guide.
constexpr int kMaxOperators = 300;
constexpr size_t kMaxInOperands = 100;
constexpr size_t kMaxPathDepth = 32;
// Bounds recursion on deeply parenthesized input; far above anything the operator limit admits.
constexpr int kMaxParseDepth = 256;

// ---- Lexer ------------------------------------------------------------------------------

enum class Tok {
  kName,
  kNamePlaceholder,
  kValuePlaceholder,
  kNumber,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kDot,
  kComma,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kPlus,
  kMinus,
  kAnd,
  kOr,
  kNot,
  kBetween,
  kIn,
  kSet,
  kRemove,
  kAdd,
  kDelete,
  kInvalid,
  kEof,
};

struct Token {
  Tok type;
  size_t begin;
  size_t end;
};

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWordChar(char c) { return IsAlpha(c) || IsDigit(c) || c == '_'; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

Tok KeywordOrName(std::string_view word) {
  static constexpr std::pair<std::string_view, Tok> kKeywords[] = {
      {"AND", Tok::kAnd},         {"OR", Tok::kOr},   {"NOT", Tok::kNot},
      {"BETWEEN", Tok::kBetween}, {"IN", Tok::kIn},   {"SET", Tok::kSet},
      {"REMOVE", Tok::kRemove},   {"ADD", Tok::kAdd}, {"DELETE", Tok::kDelete},
  };
  for (const auto& [kw, tok] : kKeywords) {
    if (EqualsIgnoreCase(word, kw)) return tok;
  }
  return Tok::kName;
}

// Names are a letter then letters, digits or '_'; placeholders are '#'/':' then at least one
// word character; list indexes are "0" or a number without leading zeros (so "01" lexes as two
// numbers and fails to parse, as in DynamoDB). Anything else is a one-character kInvalid token
// that the parser reports as a syntax error where it meets it.
std::vector<Token> Lex(std::string_view text) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
      continue;
    }
    size_t start = i;
    Tok type = Tok::kInvalid;
    if (IsAlpha(c)) {
      while (i < text.size() && IsWordChar(text[i])) ++i;
      type = KeywordOrName(text.substr(start, i - start));
    } else if ((c == '#' || c == ':') && i + 1 < text.size() && IsWordChar(text[i + 1])) {
      ++i;
      while (i < text.size() && IsWordChar(text[i])) ++i;
      type = c == '#' ? Tok::kNamePlaceholder : Tok::kValuePlaceholder;
    } else if (IsDigit(c)) {
      ++i;
      if (c != '0') {
        while (i < text.size() && IsDigit(text[i])) ++i;
      }
      type = Tok::kNumber;
    } else {
      ++i;
      auto next_is = [&](char n) { return i < text.size() && text[i] == n; };
      switch (c) {
        case '(':
          type = Tok::kLParen;
          break;
        case ')':
          type = Tok::kRParen;
          break;
        case '[':
          type = Tok::kLBracket;
          break;
        case ']':
          type = Tok::kRBracket;
          break;
        case '.':
          type = Tok::kDot;
          break;
        case ',':
          type = Tok::kComma;
          break;
        case '=':
          type = Tok::kEq;
          break;
        case '+':
          type = Tok::kPlus;
          break;
        case '-':
          type = Tok::kMinus;
          break;
        case '<':
          if (next_is('>')) {
            ++i;
            type = Tok::kNe;
          } else if (next_is('=')) {
            ++i;
            type = Tok::kLe;
          } else {
            type = Tok::kLt;
          }
          break;
        case '>':
          if (next_is('=')) {
            ++i;
            type = Tok::kGe;
          } else {
            type = Tok::kGt;
          }
          break;
        default:
          // One whole UTF-8 code point, so the error quotes a readable character.
          while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
          type = Tok::kInvalid;
      }
    }
    out.push_back({type, start, i});
  }
  out.push_back({Tok::kEof, text.size(), text.size()});
  return out;
}

// Characters as DynamoDB counts them for the size limit (code points, not bytes).
size_t CountChars(std::string_view text) {
  size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// ---- Syntax tree (unresolved) -----------------------------------------------------------

struct PathSeg {
  bool is_index = false;
  std::string_view text;  // a name, a "#placeholder", or the index digits
};

struct Syn {
  enum class Kind {
    kPath,
    kValue,
    kFunc,
    kParenOperand,
    kArith,
    kCompare,
    kBetween,
    kIn,
    kAnd,
    kOr,
    kNot,
    kParenCond,
  };
  Kind kind = Kind::kPath;
  std::string_view text;  // value placeholder, function name or operator spelling
  std::vector<PathSeg> path;
  std::vector<Syn> kids;
};

struct SynClause {
  Tok keyword;
  std::vector<Syn> targets;  // paths
  std::vector<Syn> values;   // SET: right-hand sides; ADD/DELETE: values; REMOVE: empty
};

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text), toks_(Lex(text)) {
    // Matching parentheses, found once so '(' can be classified without backtracking.
    match_.assign(toks_.size(), 0);
    std::vector<size_t> open;
    for (size_t i = 0; i < toks_.size(); ++i) {
      if (toks_[i].type == Tok::kLParen) open.push_back(i);
      if (toks_[i].type == Tok::kRParen && !open.empty()) {
        match_[open.back()] = i;
        open.pop_back();
      }
    }
  }

  bool ParseConditionText(Syn* out) { return ParseOr(out, 0) && Expect(Tok::kEof); }

  bool ParseProjectionText(std::vector<Syn>* out) {
    do {
      Syn path;
      if (!ParsePath(&path)) return false;
      out->push_back(std::move(path));
    } while (Accept(Tok::kComma));
    return Expect(Tok::kEof);
  }

  bool ParseUpdateText(std::vector<SynClause>* out) {
    do {
      Tok kw = Peek();
      if (kw != Tok::kSet && kw != Tok::kRemove && kw != Tok::kAdd && kw != Tok::kDelete) {
        return Fail();
      }
      ++pos_;
      SynClause clause{kw, {}, {}};
      do {
        Syn target;
        if (!ParsePath(&target)) return false;
        clause.targets.push_back(std::move(target));
        Syn value;
        if (kw == Tok::kSet) {
          if (!Expect(Tok::kEq) || !ParseSetValue(&value, 0)) return false;
          clause.values.push_back(std::move(value));
        } else if (kw == Tok::kAdd || kw == Tok::kDelete) {
          if (Peek() != Tok::kValuePlaceholder) return Fail();
          value.kind = Syn::Kind::kValue;
          value.text = Text(pos_++);
          clause.values.push_back(std::move(value));
        }
      } while (Accept(Tok::kComma));
      out->push_back(std::move(clause));
    } while (Peek() != Tok::kEof);
    return true;
  }

  bool redundant_parens() const { return redundant_parens_; }

  // "Syntax error; token: \"x\", near: \"a x\"" for the failure recorded by Fail().
  std::string SyntaxError() const {
    const Token& t = toks_[error_at_];
    std::string token = t.type == Tok::kEof ? "<EOF>" : std::string(Text(error_at_));
    size_t from = error_at_ > 0 ? toks_[error_at_ - 1].begin : t.begin;
    size_t to = error_at_ + 1 < toks_.size() ? toks_[error_at_ + 1].end : t.end;
    return "Syntax error; token: \"" + token + "\", near: \"" +
           std::string(text_.substr(from, to - from)) + "\"";
  }

 private:
  Tok Peek(size_t ahead = 0) const {
    return pos_ + ahead < toks_.size() ? toks_[pos_ + ahead].type : Tok::kEof;
  }
  std::string_view Text(size_t i) const {
    return text_.substr(toks_[i].begin, toks_[i].end - toks_[i].begin);
  }
  bool Fail() {
    error_at_ = std::min(pos_, toks_.size() - 1);
    return false;
  }
  bool Accept(Tok t) {
    if (Peek() != t) return false;
    ++pos_;
    return true;
  }
  bool Expect(Tok t) { return Accept(t) || Fail(); }

  // path := (name | #name) ('.' (name | #name) | '[' number ']')*
  bool ParsePath(Syn* out) {
    out->kind = Syn::Kind::kPath;
    if (Peek() != Tok::kName && Peek() != Tok::kNamePlaceholder) return Fail();
    out->path.push_back({false, Text(pos_++)});
    while (true) {
      if (Accept(Tok::kDot)) {
        if (Peek() != Tok::kName && Peek() != Tok::kNamePlaceholder) return Fail();
        out->path.push_back({false, Text(pos_++)});
      } else if (Accept(Tok::kLBracket)) {
        if (Peek() != Tok::kNumber) return Fail();
        out->path.push_back({true, Text(pos_++)});
        if (!Expect(Tok::kRBracket)) return false;
      } else {
        return true;
      }
    }
  }

  // operand := path | :value | function '(' args ')' | '(' operand ')'
  bool ParseOperand(Syn* out, int depth) {
    if (depth > kMaxParseDepth) return Fail();
    switch (Peek()) {
      case Tok::kName:
        if (Peek(1) == Tok::kLParen) return ParseFunction(out, depth);
        return ParsePath(out);
      case Tok::kNamePlaceholder:
        return ParsePath(out);
      case Tok::kValuePlaceholder:
        out->kind = Syn::Kind::kValue;
        out->text = Text(pos_++);
        return true;
      case Tok::kLParen: {
        ++pos_;
        out->kind = Syn::Kind::kParenOperand;
        out->kids.emplace_back();
        return ParseOperand(&out->kids.back(), depth + 1) && Expect(Tok::kRParen);
      }
      default:
        return Fail();
    }
  }

  bool ParseFunction(Syn* out, int depth) {
    out->kind = Syn::Kind::kFunc;
    out->text = Text(pos_);
    pos_ += 2;  // name '('
    do {
      out->kids.emplace_back();
      bool ok = in_update_ ? ParseSetValue(&out->kids.back(), depth + 1)
                           : ParseOperand(&out->kids.back(), depth + 1);
      if (!ok) return false;
    } while (Accept(Tok::kComma));
    return Expect(Tok::kRParen);
  }

  // set_value := operand [('+' | '-') operand] | '(' set_value ')'. A parenthesized operand
  // of '+'/'-' may not itself hold arithmetic ("b - (c + :v)" is a syntax error at '+').
  bool ParseSetValue(Syn* out, int depth) {
    in_update_ = true;
    if (depth > kMaxParseDepth) return Fail();
    if (Peek() == Tok::kLParen) {
      size_t close = match_[pos_];
      Tok after = close != 0 && close + 1 < toks_.size() ? toks_[close + 1].type : Tok::kEof;
      if (after != Tok::kPlus && after != Tok::kMinus) {
        ++pos_;
        out->kind = Syn::Kind::kParenOperand;
        out->kids.emplace_back();
        return ParseSetValue(&out->kids.back(), depth + 1) && Expect(Tok::kRParen);
      }
    }
    Syn lhs;
    if (!ParseOperand(&lhs, depth + 1)) return false;
    if (Peek() != Tok::kPlus && Peek() != Tok::kMinus) {
      *out = std::move(lhs);
      return true;
    }
    out->kind = Syn::Kind::kArith;
    out->text = Text(pos_++);
    out->kids.push_back(std::move(lhs));
    out->kids.emplace_back();
    return ParseOperand(&out->kids.back(), depth + 1);
  }

  bool ParseOr(Syn* out, int depth) {
    if (!ParseAnd(out, depth)) return false;
    while (Accept(Tok::kOr)) {
      Syn rhs;
      if (!ParseAnd(&rhs, depth)) return false;
      Syn node{Syn::Kind::kOr, "OR", {}, {}};
      node.kids.push_back(std::move(*out));
      node.kids.push_back(std::move(rhs));
      *out = std::move(node);
    }
    return true;
  }

  bool ParseAnd(Syn* out, int depth) {
    if (!ParseNot(out, depth)) return false;
    while (Accept(Tok::kAnd)) {
      Syn rhs;
      if (!ParseNot(&rhs, depth)) return false;
      Syn node{Syn::Kind::kAnd, "AND", {}, {}};
      node.kids.push_back(std::move(*out));
      node.kids.push_back(std::move(rhs));
      *out = std::move(node);
    }
    return true;
  }

  bool ParseNot(Syn* out, int depth) {
    if (depth > kMaxParseDepth) return Fail();
    if (Accept(Tok::kNot)) {
      out->kind = Syn::Kind::kNot;
      out->text = "NOT";
      out->kids.emplace_back();
      return ParseNot(&out->kids.back(), depth + 1);
    }
    return ParsePrimary(out, depth);
  }

  // '(' starts a parenthesized condition unless its matching ')' is followed by a comparator,
  // BETWEEN or IN, in which case it starts a parenthesized operand: "(a) = :v".
  bool ParsePrimary(Syn* out, int depth) {
    if (Peek() == Tok::kLParen) {
      size_t close = match_[pos_];
      Tok after = close != 0 && close + 1 < toks_.size() ? toks_[close + 1].type : Tok::kEof;
      bool operand = after == Tok::kEq || after == Tok::kNe || after == Tok::kLt ||
                     after == Tok::kLe || after == Tok::kGt || after == Tok::kGe ||
                     after == Tok::kBetween || after == Tok::kIn;
      if (!operand) {
        ++pos_;
        out->kind = Syn::Kind::kParenCond;
        out->kids.emplace_back();
        if (!ParseOr(&out->kids.back(), depth + 1) || !Expect(Tok::kRParen)) return false;
        if (out->kids.back().kind == Syn::Kind::kParenCond) redundant_parens_ = true;
        return true;
      }
    }
    return ParseComparison(out, depth);
  }

  bool ParseComparison(Syn* out, int depth) {
    Syn lhs;
    if (!ParseOperand(&lhs, depth + 1)) return false;
    Tok op = Peek();
    switch (op) {
      case Tok::kEq:
      case Tok::kNe:
      case Tok::kLt:
      case Tok::kLe:
      case Tok::kGt:
      case Tok::kGe: {
        out->kind = Syn::Kind::kCompare;
        out->text = Text(pos_++);
        out->kids.push_back(std::move(lhs));
        out->kids.emplace_back();
        return ParseOperand(&out->kids.back(), depth + 1);
      }
      case Tok::kBetween: {
        ++pos_;
        out->kind = Syn::Kind::kBetween;
        out->text = "BETWEEN";
        out->kids.push_back(std::move(lhs));
        out->kids.emplace_back();
        if (!ParseOperand(&out->kids.back(), depth + 1) || !Expect(Tok::kAnd)) return false;
        out->kids.emplace_back();
        return ParseOperand(&out->kids.back(), depth + 1);
      }
      case Tok::kIn: {
        ++pos_;
        out->kind = Syn::Kind::kIn;
        out->text = "IN";
        out->kids.push_back(std::move(lhs));
        if (!Expect(Tok::kLParen)) return false;
        do {
          out->kids.emplace_back();
          if (!ParseOperand(&out->kids.back(), depth + 1)) return false;
        } while (Accept(Tok::kComma));
        return Expect(Tok::kRParen);
      }
      default:
        // A function call may stand alone as a condition; the resolver decides whether this
        // function may. A bare path or value may not: that is a syntax error here.
        if (lhs.kind != Syn::Kind::kFunc) return Fail();
        *out = std::move(lhs);
        return true;
    }
  }

  std::string_view text_;
  std::vector<Token> toks_;
  std::vector<size_t> match_;
  size_t pos_ = 0;
  size_t error_at_ = 0;
  bool redundant_parens_ = false;
  bool in_update_ = false;
};

// ---- Resolution -------------------------------------------------------------------------

std::string PathForMessage(const DocumentPath& path) {
  std::string out = "[";
  for (size_t i = 0; i < path.elements.size(); ++i) {
    if (i > 0) out += ", ";
    const PathElement& e = path.elements[i];
    out += e.is_index() ? "[" + std::to_string(e.index) + "]" : e.name;
  }
  return out + "]";
}

// How two paths of one projection or update relate. They overlap when one equals or is a
// prefix of the other; they conflict when, after a common prefix, one steps into a map member
// and the other into a list element of the same value (DynamoDB: "Two document paths conflict
// with each other", e.g. "m.a" and "m[0]"), since no value is both.
enum class PathClash { kNone, kOverlap, kConflict };

PathClash Clash(const DocumentPath& a, const DocumentPath& b) {
  size_t n = std::min(a.elements.size(), b.elements.size());
  for (size_t i = 0; i < n; ++i) {
    const PathElement& x = a.elements[i];
    const PathElement& y = b.elements[i];
    if (x.is_index() != y.is_index()) return PathClash::kConflict;
    if (!(x == y)) return PathClash::kNone;
  }
  return PathClash::kOverlap;
}

// "{N:5}", the form DynamoDB quotes constant operands in BETWEEN errors.
std::string ValueForMessage(const AttributeValue& v) {
  std::string body;
  switch (v.type) {
    case AttrType::kN:
      body = v.num.ToString();
      break;
    case AttrType::kS:
    case AttrType::kB:
      body = v.str;
      break;
    case AttrType::kBool:
      body = v.boolean ? "true" : "false";
      break;
    case AttrType::kNull:
      body = "true";
      break;
    default:
      body = "...";
      break;
  }
  return "AttributeValue: {" + std::string(AttrTypeName(v.type)) + ":" + body + "}";
}

bool IsKnownFunction(std::string_view name) {
  return name == "attribute_exists" || name == "attribute_not_exists" || name == "attribute_type" ||
         name == "begins_with" || name == "contains" || name == "size" || name == "if_not_exists" ||
         name == "list_append";
}

bool IsScalarComparable(AttrType t) {
  return t == AttrType::kS || t == AttrType::kN || t == AttrType::kB;
}

class Resolver {
 public:
  Resolver(std::string_view param, ExpressionAttributes* attrs) : param_(param), attrs_(attrs) {}

  Status Error(const std::string& message) const {
    return ValidationError("Invalid " + std::string(param_) + ": " + message);
  }

  Status CheckOperatorCount() const {
    if (operators_ > kMaxOperators) {
      return Error("The expression contains too many operators; operator count: " +
                   std::to_string(kMaxOperators + 1));
    }
    return Status::Ok();
  }

  Result<DocumentPath> ResolvePath(const Syn& syn) {
    DocumentPath path;
    for (const PathSeg& seg : syn.path) {
      PathElement e;
      if (seg.is_index) {
        int64_t index = 0;
        auto [ptr, ec] = std::from_chars(seg.text.data(), seg.text.data() + seg.text.size(), index);
        if (ec != std::errc() || index > std::numeric_limits<int32_t>::max()) {
          return Error("List index is not within the allowable range; index: [" +
                       std::string(seg.text) + "]");
        }
        e.index = static_cast<int32_t>(index);
      } else if (seg.text.front() == '#') {
        auto it = attrs_->names.find(seg.text);
        if (it == attrs_->names.end()) {
          return Error(
              "An expression attribute name used in the document path is not defined; "
              "attribute name: " +
              std::string(seg.text));
        }
        attrs_->used_names.insert(std::string(seg.text));
        e.name = it->second;
      } else {
        // DynamoDB Local accepts "size" as a plain attribute name though the guide lists it.
        if (internal::IsReservedWord(seg.text) && !EqualsIgnoreCase(seg.text, "size")) {
          return Error("Attribute name is a reserved keyword; reserved keyword: " +
                       std::string(seg.text));
        }
        e.name = std::string(seg.text);
      }
      path.elements.push_back(std::move(e));
    }
    if (path.elements.size() > kMaxPathDepth) {
      return Error("The document path has too many nesting levels; nesting levels: " +
                   std::to_string(path.elements.size()));
    }
    return path;
  }

  Result<AttributeValue> ResolveValue(std::string_view name) {
    auto it = attrs_->values.find(name);
    if (it == attrs_->values.end()) {
      return Error(
          "An expression attribute value used in expression is not defined; attribute value: " +
          std::string(name));
    }
    attrs_->used_values.insert(std::string(name));
    return it->second;
  }

  Status OperandTypeError(std::string_view op, std::string_view type) const {
    return Error("Incorrect operand type for operator or function; operator or function: " +
                 std::string(op) + ", operand type: " + std::string(type));
  }
  Status OperandCountError(std::string_view op, size_t n) const {
    return Error("Incorrect number of operands for operator or function; operator or function: " +
                 std::string(op) + ", number of operands: " + std::to_string(n));
  }
  Status RequiresPathError(std::string_view op) const {
    return Error("Operator or function requires a document path; operator or function: " +
                 std::string(op));
  }

  // Constant operands of `op` must have one of `allowed` types. size() yields N.
  Status CheckConstType(const Operand& o, std::string_view op, bool (*allowed)(AttrType)) const {
    if (o.kind == Operand::Kind::kValue && !allowed(o.value.type)) {
      return OperandTypeError(op, AttrTypeName(o.value.type));
    }
    if (o.kind == Operand::Kind::kSize && !allowed(AttrType::kN)) return OperandTypeError(op, "N");
    return Status::Ok();
  }

  Status CheckDistinct(std::string_view op, const std::vector<Operand>& operands) const {
    const Operand& first = operands.front();
    if (first.kind != Operand::Kind::kPath) return Status::Ok();
    for (size_t i = 1; i < operands.size(); ++i) {
      if (operands[i].kind == Operand::Kind::kPath && operands[i].path == first.path) {
        return Error(
            "The first operand must be distinct from the remaining operands for this operator or "
            "function; operator: " +
            std::string(op) + ", first operand: " + PathForMessage(first.path));
      }
    }
    return Status::Ok();
  }

  // An operand of a condition: path, value, size(...) or a parenthesized operand.
  Result<Operand> ResolveConditionOperand(const Syn& syn) {
    Operand out;
    switch (syn.kind) {
      case Syn::Kind::kPath: {
        out.kind = Operand::Kind::kPath;
        CRUDDUR_ASSIGN_OR_RETURN(out.path, ResolvePath(syn));
        return out;
      }
      case Syn::Kind::kValue: {
        out.kind = Operand::Kind::kValue;
        CRUDDUR_ASSIGN_OR_RETURN(out.value, ResolveValue(syn.text));
        return out;
      }
      case Syn::Kind::kParenOperand:
        return ResolveConditionOperand(syn.kids.front());
      case Syn::Kind::kFunc: {
        if (!IsKnownFunction(syn.text)) return InvalidFunction(syn.text);
        if (syn.text != "size") return NotAllowedThisWay(syn.text);
        ++operators_;
        out.kind = Operand::Kind::kSize;
        for (const Syn& kid : syn.kids) {
          CRUDDUR_ASSIGN_OR_RETURN(Operand arg, ResolveConditionOperand(kid));
          out.args.push_back(std::move(arg));
        }
        if (out.args.size() != 1) return OperandCountError("size", out.args.size());
        CRUDDUR_RETURN_IF_ERROR(CheckConstType(out.args[0], "size", [](AttrType t) {
          return t == AttrType::kS || t == AttrType::kB || t == AttrType::kSS ||
                 t == AttrType::kNS || t == AttrType::kBS || t == AttrType::kL || t == AttrType::kM;
        }));
        return out;
      }
      default:
        return InternalError("condition where an operand was expected");
    }
  }

  Status InvalidFunction(std::string_view name) const {
    return Error("Invalid function name; function: " + std::string(name));
  }
  Status NotAllowedThisWay(std::string_view name) const {
    return Error("The function is not allowed to be used this way in an expression; function: " +
                 std::string(name));
  }

  Result<ConditionNode> ResolveCondition(const Syn& syn) {
    ConditionNode node;
    switch (syn.kind) {
      case Syn::Kind::kAnd:
      case Syn::Kind::kOr:
      case Syn::Kind::kNot: {
        ++operators_;
        node.kind = syn.kind == Syn::Kind::kAnd  ? ConditionNode::Kind::kAnd
                    : syn.kind == Syn::Kind::kOr ? ConditionNode::Kind::kOr
                                                 : ConditionNode::Kind::kNot;
        for (const Syn& kid : syn.kids) {
          CRUDDUR_ASSIGN_OR_RETURN(ConditionNode child, ResolveCondition(kid));
          node.children.push_back(std::move(child));
        }
        return node;
      }
      case Syn::Kind::kParenCond:
        return ResolveCondition(syn.kids.front());
      case Syn::Kind::kCompare:
      case Syn::Kind::kBetween:
      case Syn::Kind::kIn:
        return ResolveComparison(syn);
      case Syn::Kind::kFunc:
        return ResolveConditionFunction(syn);
      default:
        return InternalError("operand where a condition was expected");
    }
  }

  Result<ConditionNode> ResolveComparison(const Syn& syn) {
    ++operators_;
    ConditionNode node;
    for (const Syn& kid : syn.kids) {
      CRUDDUR_ASSIGN_OR_RETURN(Operand o, ResolveConditionOperand(kid));
      node.operands.push_back(std::move(o));
    }
    if (syn.kind == Syn::Kind::kIn) {
      node.kind = ConditionNode::Kind::kIn;
      if (node.operands.size() - 1 > kMaxInOperands) {
        return Error("The IN operator is provided with too many operands; number of operands: " +
                     std::to_string(node.operands.size() - 1));
      }
      CRUDDUR_RETURN_IF_ERROR(CheckDistinct("IN", node.operands));
      return node;
    }
    if (syn.kind == Syn::Kind::kBetween) {
      node.kind = ConditionNode::Kind::kBetween;
      for (const Operand& o : node.operands) {
        CRUDDUR_RETURN_IF_ERROR(CheckConstType(o, "BETWEEN", IsScalarComparable));
      }
      const Operand& lo = node.operands[1];
      const Operand& hi = node.operands[2];
      if (lo.kind == Operand::Kind::kValue && hi.kind == Operand::Kind::kValue) {
        if (lo.value.type != hi.value.type) {
          return Error(
              "The BETWEEN operator requires same data type for lower and upper bounds; lower "
              "bound operand: " +
              ValueForMessage(lo.value) + ", upper bound operand: " + ValueForMessage(hi.value));
        }
        if (CompareScalars(lo.value, hi.value) > 0) {
          return Error(
              "The BETWEEN operator requires upper bound to be greater than or equal to lower "
              "bound; lower bound operand: " +
              ValueForMessage(lo.value) + ", upper bound operand: " + ValueForMessage(hi.value));
        }
      }
      CRUDDUR_RETURN_IF_ERROR(CheckDistinct("BETWEEN", node.operands));
      return node;
    }
    node.kind = ConditionNode::Kind::kCompare;
    std::string_view op = syn.text;
    node.op = op == "="    ? CompareOp::kEq
              : op == "<>" ? CompareOp::kNe
              : op == "<"  ? CompareOp::kLt
              : op == "<=" ? CompareOp::kLe
              : op == ">"  ? CompareOp::kGt
                           : CompareOp::kGe;
    if (node.op != CompareOp::kEq && node.op != CompareOp::kNe) {
      for (const Operand& o : node.operands) {
        CRUDDUR_RETURN_IF_ERROR(CheckConstType(o, op, IsScalarComparable));
      }
    }
    CRUDDUR_RETURN_IF_ERROR(CheckDistinct(op, node.operands));
    return node;
  }

  Result<ConditionNode> ResolveConditionFunction(const Syn& syn) {
    std::string_view name = syn.text;
    if (!IsKnownFunction(name)) return InvalidFunction(name);
    if (name == "size" || name == "if_not_exists" || name == "list_append") {
      return NotAllowedThisWay(name);
    }
    ++operators_;
    ConditionNode node;
    for (const Syn& kid : syn.kids) {
      CRUDDUR_ASSIGN_OR_RETURN(Operand o, ResolveConditionOperand(kid));
      node.operands.push_back(std::move(o));
    }
    size_t want = name == "attribute_exists" || name == "attribute_not_exists" ? 1 : 2;
    if (node.operands.size() != want) return OperandCountError(name, node.operands.size());
    if (node.operands[0].kind != Operand::Kind::kPath && (want == 1 || name == "attribute_type")) {
      return RequiresPathError(name);
    }
    if (name == "attribute_exists" || name == "attribute_not_exists") {
      node.kind = name == "attribute_exists" ? ConditionNode::Kind::kAttributeExists
                                             : ConditionNode::Kind::kAttributeNotExists;
      return node;
    }
    if (name == "attribute_type") {
      node.kind = ConditionNode::Kind::kAttributeType;
      const Operand& t = node.operands[1];
      if (t.kind != Operand::Kind::kValue) {
        // DynamoDB's own wording lists its internal type names.
        return OperandTypeError(name,
                                "{DICT,B,INTSET,N,DOUBLESET,DECIMALSET,DOUBLE,FS,L,M,BS,NULL,FLOAT,"
                                "S,NS,HDS,SS,HD,BOOL,INT,DECIMAL}");
      }
      if (t.value.type != AttrType::kS) return OperandTypeError(name, AttrTypeName(t.value.type));
      if (!ParseAttrType(t.value.str, &node.type)) {
        return Error("Invalid attribute type name found; type: " + t.value.str +
                     ", valid types: {N,BS,L,B,NULL,M,S,SS,NS,BOOL}");
      }
      return node;
    }
    if (name == "begins_with") {
      node.kind = ConditionNode::Kind::kBeginsWith;
      for (const Operand& o : node.operands) {
        CRUDDUR_RETURN_IF_ERROR(CheckConstType(
            o, name, [](AttrType t) { return t == AttrType::kS || t == AttrType::kB; }));
      }
    } else {
      node.kind = ConditionNode::Kind::kContains;
    }
    CRUDDUR_RETURN_IF_ERROR(CheckDistinct(name, node.operands));
    return node;
  }

  // The right-hand side of SET, or an argument of if_not_exists / list_append.
  Result<Operand> ResolveUpdateOperand(const Syn& syn) {
    Operand out;
    switch (syn.kind) {
      case Syn::Kind::kPath:
      case Syn::Kind::kValue:
        return ResolveConditionOperand(syn);
      case Syn::Kind::kParenOperand:
        return ResolveUpdateOperand(syn.kids.front());
      case Syn::Kind::kArith: {
        ++operators_;
        out.kind = syn.text == "+" ? Operand::Kind::kPlus : Operand::Kind::kMinus;
        for (const Syn& kid : syn.kids) {
          CRUDDUR_ASSIGN_OR_RETURN(Operand arg, ResolveUpdateOperand(kid));
          CRUDDUR_RETURN_IF_ERROR(
              CheckConstType(arg, syn.text, [](AttrType t) { return t == AttrType::kN; }));
          out.args.push_back(std::move(arg));
        }
        return out;
      }
      case Syn::Kind::kFunc: {
        std::string_view name = syn.text;
        if (!IsKnownFunction(name)) return InvalidFunction(name);
        if (name != "if_not_exists" && name != "list_append") {
          return Error("The function is not allowed in an update expression; function: " +
                       std::string(name));
        }
        ++operators_;
        out.kind =
            name == "if_not_exists" ? Operand::Kind::kIfNotExists : Operand::Kind::kListAppend;
        for (const Syn& kid : syn.kids) {
          CRUDDUR_ASSIGN_OR_RETURN(Operand arg, ResolveUpdateOperand(kid));
          out.args.push_back(std::move(arg));
        }
        if (out.args.size() != 2) return OperandCountError(name, out.args.size());
        if (out.kind == Operand::Kind::kIfNotExists) {
          if (out.args[0].kind != Operand::Kind::kPath) return RequiresPathError(name);
        } else {
          for (const Operand& arg : out.args) {
            CRUDDUR_RETURN_IF_ERROR(
                CheckConstType(arg, name, [](AttrType t) { return t == AttrType::kL; }));
          }
        }
        return out;
      }
      default:
        return InternalError("condition where an update operand was expected");
    }
  }

  // -1, 0, 1 for two S, N or B values of the same type.
  static int CompareScalars(const AttributeValue& a, const AttributeValue& b) {
    if (a.type == AttrType::kN) {
      auto c = a.num <=> b.num;
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    int c = a.str.compare(b.str);  // UTF-8 and raw bytes both compare as unsigned bytes
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }

 private:
  std::string_view param_;
  ExpressionAttributes* attrs_;
  int operators_ = 0;
};

// The checks every expression kind starts with: empty text and the size limit.
Status CheckText(std::string_view text, std::string_view param) {
  std::string prefix = "Invalid " + std::string(param) + ": ";
  size_t chars = CountChars(text);
  if (chars > kMaxExpressionChars) {
    return ValidationError(prefix +
                           "Expression size has exceeded the maximum allowed size; expression "
                           "size: " +
                           std::to_string(chars));
  }
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return ValidationError(prefix + "The expression can not be empty;");
  }
  return Status::Ok();
}

Status ClashError(const Resolver& r, PathClash clash, const DocumentPath& one,
                  const DocumentPath& two) {
  return r.Error(std::string("Two document paths ") +
                 (clash == PathClash::kConflict ? "conflict" : "overlap") +
                 " with each other; must remove or rewrite one of these paths; path one: " +
                 PathForMessage(one) + ", path two: " + PathForMessage(two));
}

// Reports the first clashing pair in the order the paths were written.
Status CheckNoOverlap(const Resolver& r, const std::vector<DocumentPath>& paths) {
  for (size_t i = 0; i < paths.size(); ++i) {
    for (size_t j = i + 1; j < paths.size(); ++j) {
      PathClash clash = Clash(paths[i], paths[j]);
      if (clash != PathClash::kNone) return ClashError(r, clash, paths[i], paths[j]);
    }
  }
  return Status::Ok();
}

void CollectNames(const Operand& o, std::set<std::string, std::less<>>* names) {
  if (!o.path.elements.empty()) names->insert(o.path.top_level_name());
  for (const Operand& arg : o.args) CollectNames(arg, names);
}

void CollectNames(const ConditionNode& n, std::set<std::string, std::less<>>* names) {
  for (const ConditionNode& c : n.children) CollectNames(c, names);
  for (const Operand& o : n.operands) CollectNames(o, names);
}

Result<ConditionNode> ParseConditionTree(std::string_view text, std::string_view param,
                                         ExpressionAttributes* attrs) {
  Resolver resolver(param, attrs);
  CRUDDUR_RETURN_IF_ERROR(CheckText(text, param));
  Parser parser(text);
  Syn syn;
  if (!parser.ParseConditionText(&syn)) return resolver.Error(parser.SyntaxError());
  if (parser.redundant_parens()) return resolver.Error("The expression has redundant parentheses;");
  CRUDDUR_ASSIGN_OR_RETURN(ConditionNode root, resolver.ResolveCondition(syn));
  CRUDDUR_RETURN_IF_ERROR(resolver.CheckOperatorCount());
  return root;
}

}  // namespace

std::string DocumentPath::ToString() const {
  std::string out;
  for (const PathElement& e : elements) {
    if (e.is_index()) {
      out += "[" + std::to_string(e.index) + "]";
    } else {
      if (!out.empty()) out += ".";
      out += e.name;
    }
  }
  return out;
}

Status CheckAllAttributesUsed(const ExpressionAttributes& attrs) {
  auto unused = [](const auto& defined, const auto& used) {
    std::string keys;
    for (const auto& [key, value] : defined) {
      if (used.count(key)) continue;
      if (!keys.empty()) keys += ", ";
      keys += key;
    }
    return keys;
  };
  std::string names = unused(attrs.names, attrs.used_names);
  if (!names.empty()) {
    return ValidationError(
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {" + names + "}");
  }
  std::string values = unused(attrs.values, attrs.used_values);
  if (!values.empty()) {
    return ValidationError(
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {" + values +
        "}");
  }
  return Status::Ok();
}

Result<Condition> ParseCondition(std::string_view text, std::string_view param,
                                 ExpressionAttributes* attrs) {
  CRUDDUR_ASSIGN_OR_RETURN(ConditionNode root, ParseConditionTree(text, param, attrs));
  Condition out;
  CollectNames(root, &out.names_);
  out.root_ = std::make_shared<const ConditionNode>(std::move(root));
  return out;
}

Result<Projection> ParseProjection(std::string_view text, ExpressionAttributes* attrs) {
  constexpr std::string_view kParam = "ProjectionExpression";
  Resolver resolver(kParam, attrs);
  CRUDDUR_RETURN_IF_ERROR(CheckText(text, kParam));
  Parser parser(text);
  std::vector<Syn> syns;
  if (!parser.ParseProjectionText(&syns)) return resolver.Error(parser.SyntaxError());
  std::vector<DocumentPath> paths;
  for (const Syn& syn : syns) {
    CRUDDUR_ASSIGN_OR_RETURN(DocumentPath path, resolver.ResolvePath(syn));
    paths.push_back(std::move(path));
  }
  CRUDDUR_RETURN_IF_ERROR(CheckNoOverlap(resolver, paths));
  return Projection::FromPaths(std::move(paths));
}

Result<Update> ParseUpdate(std::string_view text, ExpressionAttributes* attrs) {
  constexpr std::string_view kParam = "UpdateExpression";
  Resolver resolver(kParam, attrs);
  CRUDDUR_RETURN_IF_ERROR(CheckText(text, kParam));
  Parser parser(text);
  std::vector<SynClause> clauses;
  if (!parser.ParseUpdateText(&clauses)) return resolver.Error(parser.SyntaxError());
  std::set<Tok> seen;
  for (const SynClause& clause : clauses) {
    if (!seen.insert(clause.keyword).second) {
      std::string_view name = clause.keyword == Tok::kSet      ? "SET"
                              : clause.keyword == Tok::kRemove ? "REMOVE"
                              : clause.keyword == Tok::kAdd    ? "ADD"
                                                               : "DELETE";
      return resolver.Error("The \"" + std::string(name) +
                            "\" section can only be used once in an update expression;");
    }
  }
  std::vector<UpdateAction> actions;
  for (const SynClause& clause : clauses) {
    for (size_t i = 0; i < clause.targets.size(); ++i) {
      UpdateAction action;
      CRUDDUR_ASSIGN_OR_RETURN(action.path, resolver.ResolvePath(clause.targets[i]));
      switch (clause.keyword) {
        case Tok::kSet: {
          action.kind = UpdateAction::Kind::kSet;
          CRUDDUR_ASSIGN_OR_RETURN(action.value, resolver.ResolveUpdateOperand(clause.values[i]));
          break;
        }
        case Tok::kRemove:
          action.kind = UpdateAction::Kind::kRemove;
          break;
        default: {
          bool add = clause.keyword == Tok::kAdd;
          action.kind = add ? UpdateAction::Kind::kAdd : UpdateAction::Kind::kDelete;
          action.value.kind = Operand::Kind::kValue;
          CRUDDUR_ASSIGN_OR_RETURN(action.value.value,
                                   resolver.ResolveValue(clause.values[i].text));
          AttrType t = action.value.value.type;
          if (!(action.value.value.is_set() || (add && t == AttrType::kN))) {
            return resolver.Error(
                std::string("Incorrect operand type for operator or function; operator: ") +
                (add ? "ADD" : "DELETE") + ", operand type: " + std::string(UpdateTypeName(t)) +
                ", typeSet: " + (add ? "ALLOWED_FOR_ADD_OPERAND" : "ALLOWED_FOR_DELETE_OPERAND"));
          }
        }
      }
      actions.push_back(std::move(action));
    }
  }
  CRUDDUR_RETURN_IF_ERROR(resolver.CheckOperatorCount());
  std::vector<DocumentPath> paths;
  for (const UpdateAction& a : actions) paths.push_back(a.path);
  CRUDDUR_RETURN_IF_ERROR(CheckNoOverlap(resolver, paths));

  Update out;
  for (const DocumentPath& p : paths) out.names_.insert(p.top_level_name());
  out.written_ = Projection::FromPaths(std::move(paths));
  out.actions_ = std::make_shared<const std::vector<UpdateAction>>(std::move(actions));
  return out;
}

// Key conditions parse as conditions, then must have the shape DynamoDB's Query accepts:
// "hash = :v" optionally AND-ed with one sort-key condition (=, <, <=, >, >=, BETWEEN,
// begins_with) on the range key. Errors outside the "Invalid KeyConditionExpression:" family
// are DynamoDB's plain Query texts.
Result<KeyCondition> ParseKeyCondition(std::string_view text, ExpressionAttributes* attrs,
                                       std::string_view hash_key, std::string_view range_key) {
  CRUDDUR_ASSIGN_OR_RETURN(ConditionNode root,
                           ParseConditionTree(text, "KeyConditionExpression", attrs));
  std::vector<const ConditionNode*> conds;
  // Flatten ANDs; anything else that combines conditions is not a key condition.
  std::vector<const ConditionNode*> stack{&root};
  while (!stack.empty()) {
    const ConditionNode* n = stack.back();
    stack.pop_back();
    switch (n->kind) {
      case ConditionNode::Kind::kAnd:
        stack.push_back(&n->children[1]);
        stack.push_back(&n->children[0]);
        break;
      case ConditionNode::Kind::kOr:
        return ValidationError("Invalid operator used in KeyConditionExpression: OR");
      case ConditionNode::Kind::kNot:
        return ValidationError("Invalid operator used in KeyConditionExpression: NOT");
      case ConditionNode::Kind::kIn:
        return ValidationError("Invalid operator used in KeyConditionExpression: IN");
      case ConditionNode::Kind::kAttributeExists:
        return ValidationError("Invalid operator used in KeyConditionExpression: attribute_exists");
      case ConditionNode::Kind::kAttributeNotExists:
        return ValidationError(
            "Invalid operator used in KeyConditionExpression: attribute_not_exists");
      case ConditionNode::Kind::kAttributeType:
        return ValidationError("Invalid operator used in KeyConditionExpression: attribute_type");
      case ConditionNode::Kind::kContains:
        return ValidationError("Invalid operator used in KeyConditionExpression: contains");
      case ConditionNode::Kind::kCompare:
        if (n->op == CompareOp::kNe) {
          return ValidationError("Invalid operator used in KeyConditionExpression: <>");
        }
        conds.push_back(n);
        break;
      default:
        conds.push_back(n);
    }
  }
  KeyCondition out;
  bool have_hash = false;
  for (const ConditionNode* n : conds) {
    // Find the key path operand and the value operands; a comparison may be written either
    // way round ("pk = :v" or ":v = pk"), which flips the operator.
    const Operand* path = nullptr;
    std::vector<const AttributeValue*> values;
    bool flipped = false;
    for (size_t i = 0; i < n->operands.size(); ++i) {
      const Operand& o = n->operands[i];
      if (o.kind == Operand::Kind::kSize) {
        return ValidationError("KeyConditionExpressions cannot contain nested operations");
      }
      if (o.kind == Operand::Kind::kPath && path == nullptr) {
        path = &o;
        flipped = i > 0;
      } else if (o.kind == Operand::Kind::kValue) {
        values.push_back(&o.value);
      } else {
        return ValidationError("Query key condition not supported");
      }
    }
    if (path == nullptr) return ValidationError("Query key condition not supported");
    if (path->path.elements.size() > 1) {
      return ValidationError(
          "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
          "allowed: Key: " +
          path->path.top_level_name());
    }
    const std::string& name = path->path.top_level_name();
    bool is_hash = name == hash_key;
    bool is_range = !range_key.empty() && name == range_key;
    if (!is_hash && !is_range) {
      // Name the key element the condition should have been on.
      bool hash_elsewhere = std::any_of(conds.begin(), conds.end(), [&](const ConditionNode* c) {
        return std::any_of(c->operands.begin(), c->operands.end(), [&](const Operand& o) {
          return o.kind == Operand::Kind::kPath && o.path.top_level_name() == hash_key;
        });
      });
      std::string_view missing = hash_elsewhere && !range_key.empty() ? range_key : hash_key;
      return ValidationError("Query condition missed key schema element: " + std::string(missing));
    }
    if (is_hash) {
      if (have_hash) {
        return ValidationError("KeyConditionExpressions must only contain one condition per key");
      }
      if (n->kind != ConditionNode::Kind::kCompare || n->op != CompareOp::kEq) {
        return ValidationError("Query key condition not supported");
      }
      have_hash = true;
      out.hash_value = *values[0];
      continue;
    }
    if (out.sort.has_value()) {
      return ValidationError("KeyConditionExpressions must only contain one condition per key");
    }
    SortKeyCondition sort;
    switch (n->kind) {
      case ConditionNode::Kind::kBetween:
        if (flipped) return ValidationError("Query key condition not supported");
        sort.op = SortKeyOp::kBetween;
        sort.value2 = *values[1];
        break;
      case ConditionNode::Kind::kBeginsWith:
        if (flipped) return ValidationError("Query key condition not supported");
        sort.op = SortKeyOp::kBeginsWith;
        break;
      default:
        switch (n->op) {
          case CompareOp::kEq:
            sort.op = SortKeyOp::kEq;
            break;
          case CompareOp::kLt:
            sort.op = flipped ? SortKeyOp::kGt : SortKeyOp::kLt;
            break;
          case CompareOp::kLe:
            sort.op = flipped ? SortKeyOp::kGe : SortKeyOp::kLe;
            break;
          case CompareOp::kGt:
            sort.op = flipped ? SortKeyOp::kLt : SortKeyOp::kGt;
            break;
          case CompareOp::kGe:
            sort.op = flipped ? SortKeyOp::kLe : SortKeyOp::kGe;
            break;
          case CompareOp::kNe:
            break;  // rejected above
        }
    }
    sort.value = *values[0];
    out.sort = std::move(sort);
  }
  if (!have_hash) {
    return ValidationError("Query condition missed key schema element: " + std::string(hash_key));
  }
  return out;
}

}  // namespace cruddur::dynamo::expr
