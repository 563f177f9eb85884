// Evaluation of parsed conditions and projections (Developer Guide, "Comparison operator and
// function reference", "Projection expressions"). Evaluation reads the item through pointers
// and never copies it; only size() produces a new (numeric) value.
#include <algorithm>
#include <optional>

#include "dynamo/expr/ast.h"
#include "dynamo/expr/expr.h"

namespace cruddur::dynamo::expr {
namespace {

using internal::CompareOp;
using internal::ConditionNode;
using internal::Operand;
using internal::ProjectionNode;

const AttributeValue* Step(const AttributeValue* v, const PathElement& e) {
  if (e.is_index()) {
    if (v->type != AttrType::kL || static_cast<size_t>(e.index) >= v->list.size()) return nullptr;
    return &v->list[e.index];
  }
  if (v->type != AttrType::kM) return nullptr;
  auto it = v->map.find(e.name);
  return it == v->map.end() ? nullptr : &it->second;
}

// An operand's value during evaluation: a pointer into the item or the tree, or an owned value
// for size().
struct Value {
  const AttributeValue* ptr = nullptr;
  AttributeValue owned;
  const AttributeValue* get() const { return ptr; }
};

// size() as the guide defines it: characters of a String (as Java counts them, UTF-16 units),
// bytes of a Binary, elements of a set, list or map. Other types have no size.
std::optional<int64_t> SizeOf(const AttributeValue& v) {
  switch (v.type) {
    case AttrType::kS: {
      int64_t n = 0;
      for (unsigned char c : v.str) {
        if ((c & 0xC0) != 0x80) n += c >= 0xF0 ? 2 : 1;
      }
      return n;
    }
    case AttrType::kB:
      return static_cast<int64_t>(v.str.size());
    case AttrType::kSS:
    case AttrType::kBS:
      return static_cast<int64_t>(v.strs.size());
    case AttrType::kNS:
      return static_cast<int64_t>(v.nums.size());
    case AttrType::kL:
      return static_cast<int64_t>(v.list.size());
    case AttrType::kM:
      return static_cast<int64_t>(v.map.size());
    default:
      return std::nullopt;
  }
}

void EvalOperand(const Operand& o, const Item& item, Value* out) {
  switch (o.kind) {
    case Operand::Kind::kPath:
      out->ptr = ResolvePath(item, o.path);
      return;
    case Operand::Kind::kValue:
      out->ptr = &o.value;
      return;
    case Operand::Kind::kSize: {
      Value arg;
      EvalOperand(o.args[0], item, &arg);
      std::optional<int64_t> n = arg.get() ? SizeOf(*arg.get()) : std::nullopt;
      if (!n) {
        out->ptr = nullptr;
        return;
      }
      out->owned = AttributeValue::N(Decimal::FromInt(*n));
      out->ptr = &out->owned;
      return;
    }
    default:
      out->ptr = nullptr;  // update-only operands never reach a condition
  }
}

// Three-way comparison of two S, N or B values of the same type; nullopt otherwise, since
// ordering comparisons of other or mismatched types are simply false.
std::optional<int> Order(const AttributeValue* a, const AttributeValue* b) {
  if (a == nullptr || b == nullptr || a->type != b->type) return std::nullopt;
  switch (a->type) {
    case AttrType::kN: {
      auto c = a->num <=> b->num;
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    case AttrType::kS:
    case AttrType::kB: {
      int c = a->str.compare(b->str);
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    default:
      return std::nullopt;
  }
}

bool Equal(const AttributeValue* a, const AttributeValue* b) {
  return a != nullptr && b != nullptr && *a == *b;
}

bool Contains(const AttributeValue* hay, const AttributeValue* needle) {
  if (hay == nullptr || needle == nullptr) return false;
  switch (hay->type) {
    case AttrType::kS:
    case AttrType::kB:
      return needle->type == hay->type && hay->str.find(needle->str) != std::string::npos;
    case AttrType::kSS:
      return needle->type == AttrType::kS &&
             std::find(hay->strs.begin(), hay->strs.end(), needle->str) != hay->strs.end();
    case AttrType::kBS:
      return needle->type == AttrType::kB &&
             std::find(hay->strs.begin(), hay->strs.end(), needle->str) != hay->strs.end();
    case AttrType::kNS:
      return needle->type == AttrType::kN &&
             std::find(hay->nums.begin(), hay->nums.end(), needle->num) != hay->nums.end();
    case AttrType::kL:
      return std::find(hay->list.begin(), hay->list.end(), *needle) != hay->list.end();
    default:
      return false;
  }
}

bool Evaluate(const ConditionNode& n, const Item& item) {
  switch (n.kind) {
    case ConditionNode::Kind::kAnd:
      return Evaluate(n.children[0], item) && Evaluate(n.children[1], item);
    case ConditionNode::Kind::kOr:
      return Evaluate(n.children[0], item) || Evaluate(n.children[1], item);
    case ConditionNode::Kind::kNot:
      return !Evaluate(n.children[0], item);
    case ConditionNode::Kind::kAttributeExists:
      return ResolvePath(item, n.operands[0].path) != nullptr;
    case ConditionNode::Kind::kAttributeNotExists:
      return ResolvePath(item, n.operands[0].path) == nullptr;
    case ConditionNode::Kind::kAttributeType: {
      const AttributeValue* v = ResolvePath(item, n.operands[0].path);
      return v != nullptr && v->type == n.type;
    }
    default:
      break;
  }
  Value a, b;
  EvalOperand(n.operands[0], item, &a);
  switch (n.kind) {
    case ConditionNode::Kind::kCompare: {
      EvalOperand(n.operands[1], item, &b);
      if (n.op == CompareOp::kEq) return Equal(a.get(), b.get());
      // "<>" is true when the attribute is missing or of another type.
      if (n.op == CompareOp::kNe) return !Equal(a.get(), b.get());
      std::optional<int> c = Order(a.get(), b.get());
      if (!c) return false;
      switch (n.op) {
        case CompareOp::kLt:
          return *c < 0;
        case CompareOp::kLe:
          return *c <= 0;
        case CompareOp::kGt:
          return *c > 0;
        default:
          return *c >= 0;
      }
    }
    case ConditionNode::Kind::kBetween: {
      Value hi;
      EvalOperand(n.operands[1], item, &b);
      EvalOperand(n.operands[2], item, &hi);
      std::optional<int> lo_cmp = Order(a.get(), b.get());
      std::optional<int> hi_cmp = Order(a.get(), hi.get());
      return lo_cmp && hi_cmp && *lo_cmp >= 0 && *hi_cmp <= 0;
    }
    case ConditionNode::Kind::kIn:
      for (size_t i = 1; i < n.operands.size(); ++i) {
        EvalOperand(n.operands[i], item, &b);
        if (Equal(a.get(), b.get())) return true;
      }
      return false;
    case ConditionNode::Kind::kBeginsWith: {
      EvalOperand(n.operands[1], item, &b);
      const AttributeValue* s = a.get();
      const AttributeValue* p = b.get();
      return s != nullptr && p != nullptr && s->type == p->type &&
             (s->type == AttrType::kS || s->type == AttrType::kB) &&
             s->str.compare(0, p->str.size(), p->str) == 0 && s->str.size() >= p->str.size();
    }
    case ConditionNode::Kind::kContains:
      EvalOperand(n.operands[1], item, &b);
      return Contains(a.get(), b.get());
    default:
      return false;
  }
}

void AddToTree(ProjectionNode* root, const DocumentPath& path) {
  ProjectionNode* node = root;
  for (const PathElement& e : path.elements) {
    node = e.is_index() ? &node->elements[e.index] : &node->members[e.name];
  }
  node->whole = true;
}

// The part of `v` that `node` selects, or nullopt when nothing under it matched.
std::optional<AttributeValue> Project(const ProjectionNode& node, const AttributeValue& v) {
  if (node.whole) return v;
  if (v.type == AttrType::kM && !node.members.empty()) {
    AttributeMap out;
    for (const auto& [name, child] : node.members) {
      auto it = v.map.find(name);
      if (it == v.map.end()) continue;
      std::optional<AttributeValue> p = Project(child, it->second);
      if (p) out.emplace(name, std::move(*p));
    }
    if (!out.empty()) return AttributeValue::M(std::move(out));
  }
  if (v.type == AttrType::kL && !node.elements.empty()) {
    AttributeList out;
    for (const auto& [index, child] : node.elements) {
      if (static_cast<size_t>(index) >= v.list.size()) break;
      std::optional<AttributeValue> p = Project(child, v.list[index]);
      if (p) out.push_back(std::move(*p));
    }
    if (!out.empty()) return AttributeValue::L(std::move(out));
  }
  return std::nullopt;
}

}  // namespace

const AttributeValue* ResolvePath(const Item& item, const DocumentPath& path) {
  auto it = item.find(path.top_level_name());
  if (it == item.end()) return nullptr;
  const AttributeValue* v = &it->second;
  for (size_t i = 1; i < path.elements.size() && v != nullptr; ++i) {
    v = Step(v, path.elements[i]);
  }
  return v;
}

Result<bool> EvaluateCondition(const Condition& condition, const Item& item) {
  if (condition.root_ == nullptr) return true;
  return Evaluate(*condition.root_, item);
}

Projection Projection::FromPaths(std::vector<DocumentPath> paths) {
  auto tree = std::make_shared<ProjectionNode>();
  for (const DocumentPath& p : paths) AddToTree(tree.get(), p);
  Projection out;
  out.paths_ = std::move(paths);
  out.tree_ = std::move(tree);
  return out;
}

Projection Projection::FromAttributeNames(const std::vector<std::string>& names) {
  std::vector<DocumentPath> paths;
  for (const std::string& name : names) {
    DocumentPath p;
    p.elements.push_back(PathElement{name, -1});
    paths.push_back(std::move(p));
  }
  return FromPaths(std::move(paths));
}

Item ApplyProjection(const Projection& projection, const Item& item) {
  Item out;
  if (projection.tree_ == nullptr) return out;
  for (const auto& [name, child] : projection.tree_->members) {
    auto it = item.find(name);
    if (it == item.end()) continue;
    std::optional<AttributeValue> p = Project(child, it->second);
    if (p) out.emplace(name, std::move(*p));
  }
  return out;
}

}  // namespace cruddur::dynamo::expr
