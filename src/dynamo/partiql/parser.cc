// Lexer and recursive-descent parser for DynamoDB's PartiQL subset (Developer Guide, "PartiQL
// select statements", "insert statements", "update statements", "delete statements",
// "Functions", "Operators"). Any text the grammar below does not accept is reported with the
// service's one syntax error, which quotes the whole statement: "Statement wasn't well formed,
// can't be processed: <statement>" (checked against DynamoDB Local).
//
//   statement  := (select | insert | update | delete) [';']
//   select     := SELECT ('*' | path {',' path}) FROM name ['.' name] [WHERE cond]
//                 [ORDER BY path [ASC|DESC] {',' path [ASC|DESC]}]
//   insert     := INSERT INTO name VALUE literal
//   update     := UPDATE name (SET path '=' operand {',' path '=' operand} | REMOVE path
//                 {',' path})+ WHERE cond [returning]
//   delete     := DELETE FROM name WHERE cond [returning]
//   returning  := RETURNING (ALL | MODIFIED) (OLD | NEW) '*'
//   cond       := and {OR and};  and := not {AND not};  not := NOT not | predicate
//   predicate  := '(' cond ')' | function '(' operand {',' operand} ')'
//               | operand (cmp operand | BETWEEN operand AND operand | IN list
//                          | IS [NOT] (MISSING | NULL))
//   operand    := term {('+' | '-') term};  term := literal | path | function | '(' operand ')'
//   literal    := 'string' | number | TRUE | FALSE | NULL | '?' | '[' ... ']' | '{' ... '}'
//               | '<<' ... '>>'
#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "dynamo/partiql/partiql.h"

namespace cruddur::dynamo::partiql {
namespace {

enum class Tok { kIdent, kQuotedIdent, kString, kNumber, kPunct, kParam, kEnd, kInvalid };

struct Token {
  Tok type = Tok::kEnd;
  std::string text;  // identifiers and strings unescaped; punctuation as written
  SourcePos pos;
};

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits the statement into tokens; an unterminated string or identifier, or a character no
// token starts with, yields a kInvalid token (which no rule accepts).
std::vector<Token> Lex(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  int line = 1;
  size_t line_start = 0;
  while (true) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) {
      if (s[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
      ++i;
    }
    Token t;
    t.pos.line = line;
    t.pos.column = static_cast<int>(i - line_start) + 1;
    size_t start = i;
    if (i >= s.size()) {
      t.type = Tok::kEnd;
      out.push_back(std::move(t));
      return out;
    }
    char c = s[i];
    if (IsIdentStart(c)) {
      while (i < s.size() && IsIdentChar(s[i])) ++i;
      t.type = Tok::kIdent;
      t.text = std::string(s.substr(start, i - start));
    } else if (c == '"' || c == '\'') {
      // Quotes inside are doubled ('it''s', "a""b").
      ++i;
      bool closed = false;
      while (i < s.size()) {
        if (s[i] == c) {
          if (i + 1 < s.size() && s[i + 1] == c) {
            t.text += c;
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        t.text += s[i++];
      }
      t.type = !closed ? Tok::kInvalid : (c == '"' ? Tok::kQuotedIdent : Tok::kString);
    } else if (IsDigit(c) || (c == '.' && i + 1 < s.size() && IsDigit(s[i + 1]))) {
      while (i < s.size() && (IsDigit(s[i]) || s[i] == '.')) ++i;
      if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
        if (j < s.size() && IsDigit(s[j])) {
          i = j;
          while (i < s.size() && IsDigit(s[i])) ++i;
        }
      }
      t.type = Tok::kNumber;
      t.text = std::string(s.substr(start, i - start));
    } else if (c == '?') {
      ++i;
      t.type = Tok::kParam;
      t.text = "?";
    } else {
      static constexpr std::string_view kTwo[] = {"<<", ">>", "<=", ">=", "<>", "!="};
      t.type = Tok::kPunct;
      for (std::string_view two : kTwo) {
        if (s.substr(i, 2) == two) {
          t.text = std::string(two);
          i += 2;
          break;
        }
      }
      if (t.text.empty()) {
        static constexpr std::string_view kOne = ",.[](){}=<>+-*;:";
        if (kOne.find(c) == std::string_view::npos) t.type = Tok::kInvalid;
        t.text = std::string(1, c);
        ++i;
      }
    }
    t.pos.length = static_cast<int>(i - start);
    out.push_back(std::move(t));
  }
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text), tokens_(Lex(text)) {}

  Result<Statement> Parse() {
    Statement st;
    if (!ParseStatementBody(&st)) return error_.ok() ? Malformed() : error_;
    Accept(";");
    if (Peek().type != Tok::kEnd) return Malformed();
    st.parameter_count = parameters_;
    return st;
  }

 private:
  Status Malformed() const {
    return ValidationError("Statement wasn't well formed, can't be processed: " +
                           std::string(text_));
  }
  // Records a specific error (the first one wins) and fails the parse.
  bool Fail(Status st) {
    if (error_.ok()) error_ = std::move(st);
    return false;
  }

  const Token& Peek(size_t ahead = 0) const {
    size_t i = pos_ + ahead;
    return i < tokens_.size() ? tokens_[i] : tokens_.back();
  }
  bool IsKeyword(std::string_view kw, size_t ahead = 0) const {
    const Token& t = Peek(ahead);
    return t.type == Tok::kIdent && Upper(t.text) == kw;
  }
  bool AcceptKeyword(std::string_view kw) {
    if (!IsKeyword(kw)) return false;
    ++pos_;
    return true;
  }
  bool IsPunct(std::string_view p, size_t ahead = 0) const {
    const Token& t = Peek(ahead);
    return t.type == Tok::kPunct && t.text == p;
  }
  bool Accept(std::string_view p) {
    if (!IsPunct(p)) return false;
    ++pos_;
    return true;
  }

  bool ParseStatementBody(Statement* st) {
    if (AcceptKeyword("SELECT")) return ParseSelect(st);
    if (AcceptKeyword("INSERT")) return ParseInsert(st);
    if (AcceptKeyword("UPDATE")) return ParseUpdate(st);
    if (AcceptKeyword("DELETE")) return ParseDelete(st);
    return false;
  }

  // A table or index name: bare or double-quoted.
  bool ParseName(std::string* out) {
    const Token& t = Peek();
    if (t.type != Tok::kIdent && t.type != Tok::kQuotedIdent) return false;
    *out = t.text;
    ++pos_;
    return true;
  }

  bool ParseSelect(Statement* st) {
    st->kind = Statement::Kind::kSelect;
    if (!Accept("*")) {
      do {
        expr::DocumentPath path;
        if (!ParsePath(&path)) return false;
        st->projection.push_back(std::move(path));
      } while (Accept(","));
    }
    if (!AcceptKeyword("FROM") || !ParseName(&st->table)) return false;
    if (Accept(".") && !ParseName(&st->index)) return false;
    if (AcceptKeyword("WHERE")) {
      st->where.emplace();
      if (!ParseCondition(&*st->where, 0)) return false;
    }
    if (AcceptKeyword("ORDER")) {
      if (!AcceptKeyword("BY")) return false;
      do {
        OrderBy ob;
        if (!ParsePath(&ob.path)) return false;
        if (AcceptKeyword("DESC")) {
          ob.descending = true;
        } else {
          AcceptKeyword("ASC");
        }
        st->order_by.push_back(std::move(ob));
      } while (Accept(","));
    }
    return true;
  }

  bool ParseInsert(Statement* st) {
    st->kind = Statement::Kind::kInsert;
    if (!AcceptKeyword("INTO") || !ParseName(&st->table) || !AcceptKeyword("VALUE")) return false;
    if (!ParseLiteral(&st->value, 0)) return false;
    if (st->value.kind != Literal::Kind::kMap) {
      return Fail(ValidationError(
          "Unsupported format in item expression. Please use struct format {...} to express item "
          "values for insert statement. at " +
          st->value.pos.ToString()));
    }
    return true;
  }

  bool ParseUpdate(Statement* st) {
    st->kind = Statement::Kind::kUpdate;
    if (!ParseName(&st->table)) return false;
    while (true) {
      if (AcceptKeyword("SET")) {
        do {
          UpdateAction a;
          if (!ParsePath(&a.path) || !Accept("=") || !ParseOperand(&a.value, 0)) return false;
          st->updates.push_back(std::move(a));
        } while (Accept(","));
      } else if (AcceptKeyword("REMOVE")) {
        do {
          UpdateAction a;
          a.kind = UpdateAction::Kind::kRemove;
          if (!ParsePath(&a.path)) return false;
          st->updates.push_back(std::move(a));
        } while (Accept(","));
      } else {
        break;
      }
    }
    if (st->updates.empty()) return false;
    if (!AcceptKeyword("WHERE")) {
      return Fail(ValidationError(
          "Where clause does not contain a mandatory equality on all key attributes"));
    }
    st->where.emplace();
    return ParseCondition(&*st->where, 0) && ParseReturning(st);
  }

  bool ParseDelete(Statement* st) {
    st->kind = Statement::Kind::kDelete;
    if (!AcceptKeyword("FROM") || !ParseName(&st->table)) return false;
    if (!AcceptKeyword("WHERE")) {
      return Fail(ValidationError(
          "Where clause does not contain a mandatory equality on all key attributes"));
    }
    st->where.emplace();
    return ParseCondition(&*st->where, 0) && ParseReturning(st);
  }

  bool ParseReturning(Statement* st) {
    if (!AcceptKeyword("RETURNING")) return true;
    bool all = false;
    if (AcceptKeyword("ALL")) {
      all = true;
    } else if (!AcceptKeyword("MODIFIED")) {
      return false;
    }
    bool is_new = false;
    if (AcceptKeyword("NEW")) {
      is_new = true;
    } else if (!AcceptKeyword("OLD")) {
      return false;
    }
    if (!Accept("*")) {
      return Fail(ValidationError(
          "Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause"));
    }
    st->returning = all ? (is_new ? Returning::kAllNew : Returning::kAllOld)
                        : (is_new ? Returning::kModifiedNew : Returning::kModifiedOld);
    return true;
  }

  // path := name {'.' name | '[' integer ']' | '[' 'string' ']'}
  bool ParsePath(expr::DocumentPath* path) {
    const Token& first = Peek();
    if (first.type != Tok::kIdent && first.type != Tok::kQuotedIdent) return false;
    path->elements.push_back(expr::PathElement{first.text, -1});
    ++pos_;
    while (true) {
      if (IsPunct(".") && (Peek(1).type == Tok::kIdent || Peek(1).type == Tok::kQuotedIdent)) {
        path->elements.push_back(expr::PathElement{Peek(1).text, -1});
        pos_ += 2;
      } else if (IsPunct("[") && IsPunct("]", 2)) {
        const Token& inner = Peek(1);
        if (inner.type == Tok::kString) {
          path->elements.push_back(expr::PathElement{inner.text, -1});
        } else if (inner.type == Tok::kNumber && inner.text.size() <= 9 &&
                   inner.text.find_first_not_of("0123456789") == std::string::npos) {
          path->elements.push_back(expr::PathElement{"", std::stoi(inner.text)});
        } else {
          return false;
        }
        pos_ += 3;
      } else {
        return true;
      }
    }
  }

  bool ParseCondition(Condition* out, int depth) {
    if (depth > kMaxNestingDepth) return false;
    if (!ParseAnd(out, depth)) return false;
    while (AcceptKeyword("OR")) {
      Condition rhs;
      if (!ParseAnd(&rhs, depth)) return false;
      Condition node;
      node.kind = Condition::Kind::kOr;
      node.children.push_back(std::move(*out));
      node.children.push_back(std::move(rhs));
      *out = std::move(node);
    }
    return true;
  }

  bool ParseAnd(Condition* out, int depth) {
    if (!ParseNot(out, depth)) return false;
    while (AcceptKeyword("AND")) {
      Condition rhs;
      if (!ParseNot(&rhs, depth)) return false;
      Condition node;
      node.kind = Condition::Kind::kAnd;
      node.children.push_back(std::move(*out));
      node.children.push_back(std::move(rhs));
      *out = std::move(node);
    }
    return true;
  }

  bool ParseNot(Condition* out, int depth) {
    if (AcceptKeyword("NOT")) {
      if (depth + 1 > kMaxNestingDepth) return false;
      Condition inner;
      if (!ParseNot(&inner, depth + 1)) return false;
      out->kind = Condition::Kind::kNot;
      out->children.push_back(std::move(inner));
      return true;
    }
    return ParsePredicate(out, depth);
  }

  static bool IsConditionFunction(const std::string& name) {
    return name == "begins_with" || name == "contains" || name == "attribute_exists" ||
           name == "attribute_not_exists" || name == "attribute_type";
  }

  bool ParsePredicate(Condition* out, int depth) {
    // '(' cond ')' unless the parenthesis opens an operand, as in "(a) = 1": try the condition
    // first and fall back when a comparison follows it or it does not parse.
    if (IsPunct("(") && backtracks_left_ > 0) {
      --backtracks_left_;
      size_t saved = pos_;
      ++pos_;
      Condition inner;
      if (ParseCondition(&inner, depth + 1) && Accept(")") && !StartsComparison()) {
        *out = std::move(inner);
        return true;
      }
      if (!error_.ok()) return false;
      pos_ = saved;
    }
    if (Peek().type == Tok::kIdent && IsPunct("(", 1) && IsConditionFunction(Lower(Peek().text))) {
      out->kind = Condition::Kind::kFunction;
      out->op = Lower(Peek().text);
      pos_ += 2;
      do {
        Operand arg;
        if (!ParseOperand(&arg, depth + 1)) return false;
        out->operands.push_back(std::move(arg));
      } while (Accept(","));
      return Accept(")");
    }
    Operand lhs;
    if (!ParseOperand(&lhs, depth + 1)) return false;
    out->operands.push_back(std::move(lhs));
    static constexpr std::string_view kCompare[] = {"=", "<>", "!=", "<", "<=", ">", ">="};
    for (std::string_view op : kCompare) {
      if (Accept(op)) {
        out->kind = Condition::Kind::kCompare;
        out->op = op == "!=" ? "<>" : std::string(op);
        Operand rhs;
        if (!ParseOperand(&rhs, depth + 1)) return false;
        out->operands.push_back(std::move(rhs));
        return true;
      }
    }
    if (AcceptKeyword("BETWEEN")) {
      out->kind = Condition::Kind::kBetween;
      Operand lo, hi;
      if (!ParseOperand(&lo, depth + 1) || !AcceptKeyword("AND") || !ParseOperand(&hi, depth + 1))
        return false;
      out->operands.push_back(std::move(lo));
      out->operands.push_back(std::move(hi));
      return true;
    }
    if (AcceptKeyword("IN")) {
      out->kind = Condition::Kind::kIn;
      std::string close;
      if (Accept("[")) {
        close = "]";
      } else if (Accept("(")) {
        close = ")";
      } else {
        return false;
      }
      do {
        Operand v;
        if (!ParseOperand(&v, depth + 1)) return false;
        out->operands.push_back(std::move(v));
      } while (Accept(","));
      return Accept(close);
    }
    if (AcceptKeyword("IS")) {
      bool negated = AcceptKeyword("NOT");
      if (AcceptKeyword("MISSING")) {
        out->kind = negated ? Condition::Kind::kIsNotMissing : Condition::Kind::kIsMissing;
      } else if (AcceptKeyword("NULL")) {
        out->kind = negated ? Condition::Kind::kIsNotNull : Condition::Kind::kIsNull;
      } else {
        return false;
      }
      return true;
    }
    return false;
  }

  bool StartsComparison() const {
    for (std::string_view op : {"=", "<>", "!=", "<", "<=", ">", ">=", "+", "-"}) {
      if (IsPunct(op)) return true;
    }
    return IsKeyword("BETWEEN") || IsKeyword("IN") || IsKeyword("IS");
  }

  bool ParseOperand(Operand* out, int depth) {
    if (depth > kMaxNestingDepth) return false;
    if (!ParseTerm(out, depth)) return false;
    while (IsPunct("+") || IsPunct("-")) {
      bool plus = IsPunct("+");
      ++pos_;
      Operand rhs;
      if (!ParseTerm(&rhs, depth)) return false;
      Operand node;
      node.kind = plus ? Operand::Kind::kPlus : Operand::Kind::kMinus;
      node.args.push_back(std::move(*out));
      node.args.push_back(std::move(rhs));
      *out = std::move(node);
    }
    return true;
  }

  bool ParseTerm(Operand* out, int depth) {
    const Token& t = Peek();
    if (Accept("(")) {
      return ParseOperand(out, depth + 1) && Accept(")");
    }
    if (t.type == Tok::kIdent && IsPunct("(", 1)) {
      out->kind = Operand::Kind::kFunction;
      out->function = Lower(t.text);
      pos_ += 2;
      do {
        Operand arg;
        if (!ParseOperand(&arg, depth + 1)) return false;
        out->args.push_back(std::move(arg));
      } while (Accept(","));
      return Accept(")");
    }
    bool keyword_literal = IsKeyword("TRUE") || IsKeyword("FALSE") || IsKeyword("NULL");
    if ((t.type == Tok::kIdent && !keyword_literal) || t.type == Tok::kQuotedIdent) {
      out->kind = Operand::Kind::kPath;
      return ParsePath(&out->path);
    }
    out->kind = Operand::Kind::kLiteral;
    return ParseLiteral(&out->literal, depth);
  }

  bool ParseLiteral(Literal* out, int depth) {
    if (depth > kMaxNestingDepth) return false;
    const Token& t = Peek();
    out->pos = t.pos;
    if (t.type == Tok::kString) {
      out->kind = Literal::Kind::kString;
      out->text = t.text;
      ++pos_;
      return true;
    }
    if (t.type == Tok::kNumber || (IsPunct("-") && Peek(1).type == Tok::kNumber) ||
        (IsPunct("+") && Peek(1).type == Tok::kNumber)) {
      out->kind = Literal::Kind::kNumber;
      if (t.type == Tok::kPunct) {
        out->text = t.text;
        ++pos_;
      }
      out->text += Peek().text;
      ++pos_;
      return true;
    }
    if (t.type == Tok::kParam) {
      out->kind = Literal::Kind::kParameter;
      out->parameter = parameters_++;
      ++pos_;
      return true;
    }
    if (AcceptKeyword("TRUE") || AcceptKeyword("FALSE")) {
      out->kind = Literal::Kind::kBool;
      out->boolean = Upper(t.text) == "TRUE";
      return true;
    }
    if (AcceptKeyword("NULL")) {
      out->kind = Literal::Kind::kNull;
      return true;
    }
    if (Accept("[")) {
      out->kind = Literal::Kind::kList;
      return ParseElements(out, "]", depth);
    }
    if (Accept("<<")) {
      out->kind = Literal::Kind::kSet;
      if (IsPunct(">>")) {
        return Fail(ValidationError("Empty bags are not supported at " + out->pos.ToString()));
      }
      return ParseElements(out, ">>", depth);
    }
    if (Accept("{")) {
      out->kind = Literal::Kind::kMap;
      if (Accept("}")) return true;
      do {
        const Token& key = Peek();
        if (key.type != Tok::kString || !IsPunct(":", 1)) return false;
        for (const auto& existing : out->keys) {
          if (existing == key.text) {
            return Fail(ValidationError("Duplicate keys in tuple. Key: " + key.text +
                                        " under root at " + key.pos.ToString()));
          }
        }
        out->keys.push_back(key.text);
        pos_ += 2;
        Literal value;
        if (!ParseLiteral(&value, depth + 1)) return false;
        out->elements.push_back(std::move(value));
      } while (Accept(","));
      return Accept("}");
    }
    return false;
  }

  bool ParseElements(Literal* out, std::string_view close, int depth) {
    if (Accept(close)) return true;
    do {
      Literal e;
      if (!ParseLiteral(&e, depth + 1)) return false;
      out->elements.push_back(std::move(e));
    } while (Accept(","));
    return Accept(close);
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  size_t parameters_ = 0;
  // Each "(" at the start of a predicate may be parsed twice (as a condition, then as an
  // operand); nested ones would multiply that, so the retries are budgeted and, once spent, a
  // "(" there is read as an operand only.
  int backtracks_left_ = 256;
  Status error_;
};

}  // namespace

std::string SourcePos::ToString() const {
  return std::to_string(line) + ":" + std::to_string(column) + ":" + std::to_string(length);
}

Result<Statement> ParseStatement(std::string_view text) {
  if (text.size() > kMaxStatementChars) {
    return ValidationError(
        "1 validation error detected: Value at 'statement' failed to satisfy "
        "constraint: Member must have length less than or equal to 8192");
  }
  return Parser(text).Parse();
}

std::string_view ReturningText(Returning r) {
  switch (r) {
    case Returning::kNone:
      return "";
    case Returning::kAllOld:
      return "RETURNING ALL OLD *";
    case Returning::kModifiedOld:
      return "RETURNING MODIFIED OLD *";
    case Returning::kAllNew:
      return "RETURNING ALL NEW *";
    case Returning::kModifiedNew:
      return "RETURNING MODIFIED NEW *";
  }
  return "";
}

}  // namespace cruddur::dynamo::partiql
