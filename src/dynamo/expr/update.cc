// Application of a parsed update expression (Developer Guide, "Update expressions").
//
// DynamoDB evaluates every SET right-hand side against the item as it was before the update
// ("SET a = b, b = a" swaps), so those values are computed first, then the actions are applied:
// SET in source order, REMOVE from the highest list index down (so "REMOVE l[0], l[2]" removes
// the elements the client named, not neighbours shifted into their place), then ADD and DELETE.
// Behaviours verified against DynamoDB Local: SET of a list index past the end appends; REMOVE
// of a missing member or index is a no-op but its parent must exist; DELETE that empties a set
// removes the attribute; ADD to a missing attribute creates it.
#include <algorithm>

#include "dynamo/expr/ast.h"
#include "dynamo/expr/expr.h"

namespace cruddur::dynamo::expr {
namespace {

using internal::Operand;
using internal::UpdateAction;

constexpr int kMaxNesting = 32;

Status InvalidPath() {
  return ValidationError(
      "The document path provided in the update expression is invalid for update");
}
Status WrongType() {
  return ValidationError("An operand in the update expression has an incorrect data type");
}

Result<AttributeValue> EvalSetValue(const Operand& o, const Item& item) {
  switch (o.kind) {
    case Operand::Kind::kValue:
      return o.value;
    case Operand::Kind::kPath: {
      const AttributeValue* v = ResolvePath(item, o.path);
      if (v == nullptr) {
        return ValidationError(
            "The provided expression refers to an attribute that does not exist in the item");
      }
      return *v;
    }
    case Operand::Kind::kIfNotExists: {
      const AttributeValue* v = ResolvePath(item, o.args[0].path);
      if (v != nullptr) return *v;
      return EvalSetValue(o.args[1], item);
    }
    case Operand::Kind::kListAppend: {
      CRUDDUR_ASSIGN_OR_RETURN(AttributeValue a, EvalSetValue(o.args[0], item));
      CRUDDUR_ASSIGN_OR_RETURN(AttributeValue b, EvalSetValue(o.args[1], item));
      if (a.type != AttrType::kL || b.type != AttrType::kL) return WrongType();
      for (AttributeValue& v : b.list) a.list.push_back(std::move(v));
      return a;
    }
    case Operand::Kind::kPlus:
    case Operand::Kind::kMinus: {
      CRUDDUR_ASSIGN_OR_RETURN(AttributeValue a, EvalSetValue(o.args[0], item));
      CRUDDUR_ASSIGN_OR_RETURN(AttributeValue b, EvalSetValue(o.args[1], item));
      if (a.type != AttrType::kN || b.type != AttrType::kN) return WrongType();
      CRUDDUR_ASSIGN_OR_RETURN(Decimal sum, o.kind == Operand::Kind::kPlus
                                                ? Decimal::Add(a.num, b.num)
                                                : Decimal::Sub(a.num, b.num));
      return AttributeValue::N(sum);
    }
    case Operand::Kind::kSize:
      break;  // rejected by the parser in update expressions
  }
  return InternalError("unexpected operand in update expression");
}

// Where a path's last element lives: a map (top-level item or M value) or a list.
struct Slot {
  AttributeMap* map = nullptr;
  AttributeList* list = nullptr;
  const PathElement* last = nullptr;
};

// Finds the container of the path's last element. Every intermediate element must exist and
// be the right kind of container, else the path is invalid for update.
Result<Slot> FindSlot(Item* item, const DocumentPath& path) {
  Slot slot;
  slot.last = &path.elements.back();
  if (path.elements.size() == 1) {
    slot.map = item;
    return slot;
  }
  auto it = item->find(path.top_level_name());
  if (it == item->end()) return InvalidPath();
  AttributeValue* v = &it->second;
  for (size_t i = 1; i + 1 < path.elements.size(); ++i) {
    const PathElement& e = path.elements[i];
    if (e.is_index()) {
      if (v->type != AttrType::kL || static_cast<size_t>(e.index) >= v->list.size()) {
        return InvalidPath();
      }
      v = &v->list[e.index];
    } else {
      if (v->type != AttrType::kM) return InvalidPath();
      auto member = v->map.find(e.name);
      if (member == v->map.end()) return InvalidPath();
      v = &member->second;
    }
  }
  if (slot.last->is_index()) {
    if (v->type != AttrType::kL) return InvalidPath();
    slot.list = &v->list;
  } else {
    if (v->type != AttrType::kM) return InvalidPath();
    slot.map = &v->map;
  }
  return slot;
}

// The current value at the slot, or nullptr.
AttributeValue* Lookup(const Slot& slot) {
  if (slot.map != nullptr) {
    auto it = slot.map->find(slot.last->name);
    return it == slot.map->end() ? nullptr : &it->second;
  }
  size_t index = static_cast<size_t>(slot.last->index);
  return index < slot.list->size() ? &(*slot.list)[index] : nullptr;
}

// Writes `value` at the slot; a list index past the end appends.
void Store(const Slot& slot, AttributeValue value) {
  if (slot.map != nullptr) {
    (*slot.map)[slot.last->name] = std::move(value);
    return;
  }
  size_t index = static_cast<size_t>(slot.last->index);
  if (index < slot.list->size()) {
    (*slot.list)[index] = std::move(value);
  } else {
    slot.list->push_back(std::move(value));
  }
}

void Erase(const Slot& slot) {
  if (slot.map != nullptr) {
    slot.map->erase(slot.last->name);
    return;
  }
  size_t index = static_cast<size_t>(slot.last->index);
  if (index < slot.list->size()) slot.list->erase(slot.list->begin() + index);
}

Status AddTo(AttributeValue* target, const AttributeValue& operand) {
  if (target->type != operand.type) return WrongType();
  switch (target->type) {
    case AttrType::kN: {
      CRUDDUR_ASSIGN_OR_RETURN(target->num, Decimal::Add(target->num, operand.num));
      return Status::Ok();
    }
    case AttrType::kSS:
    case AttrType::kBS:
      for (const std::string& s : operand.strs) {
        if (std::find(target->strs.begin(), target->strs.end(), s) == target->strs.end()) {
          target->strs.push_back(s);
        }
      }
      return Status::Ok();
    case AttrType::kNS:
      for (const Decimal& d : operand.nums) {
        if (std::find(target->nums.begin(), target->nums.end(), d) == target->nums.end()) {
          target->nums.push_back(d);
        }
      }
      return Status::Ok();
    default:
      return WrongType();
  }
}

// Removes operand's members from the set; returns whether the set is now empty.
Result<bool> DeleteFrom(AttributeValue* target, const AttributeValue& operand) {
  if (target->type != operand.type) return WrongType();
  if (target->type == AttrType::kNS) {
    std::erase_if(target->nums, [&](const Decimal& d) {
      return std::find(operand.nums.begin(), operand.nums.end(), d) != operand.nums.end();
    });
    return target->nums.empty();
  }
  std::erase_if(target->strs, [&](const std::string& s) {
    return std::find(operand.strs.begin(), operand.strs.end(), s) != operand.strs.end();
  });
  return target->strs.empty();
}

// Orders paths so that, under a common list, higher indexes come first.
bool RemoveOrder(const UpdateAction* a, const UpdateAction* b) {
  const auto& x = a->path.elements;
  const auto& y = b->path.elements;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
    if (x[i] == y[i]) continue;
    if (x[i].is_index() && y[i].is_index()) return x[i].index > y[i].index;
    if (x[i].is_index() != y[i].is_index()) return x[i].is_index();
    return x[i].name > y[i].name;
  }
  return x.size() > y.size();
}

int Depth(const AttributeValue& v) {
  int d = 0;
  if (v.type == AttrType::kM) {
    for (const auto& [name, child] : v.map) d = std::max(d, Depth(child));
    return d + 1;
  }
  if (v.type == AttrType::kL) {
    for (const AttributeValue& child : v.list) d = std::max(d, Depth(child));
    return d + 1;
  }
  return 0;
}

}  // namespace

Status ApplyUpdate(const Update& update, Item* item) {
  if (update.actions_ == nullptr) return Status::Ok();
  const std::vector<UpdateAction>& actions = *update.actions_;

  std::vector<AttributeValue> set_values;
  for (const UpdateAction& a : actions) {
    if (a.kind != UpdateAction::Kind::kSet) continue;
    CRUDDUR_ASSIGN_OR_RETURN(AttributeValue v, EvalSetValue(a.value, *item));
    set_values.push_back(std::move(v));
  }

  size_t next_set = 0;
  std::vector<const UpdateAction*> removes;
  for (const UpdateAction& a : actions) {
    if (a.kind == UpdateAction::Kind::kSet) {
      CRUDDUR_ASSIGN_OR_RETURN(Slot slot, FindSlot(item, a.path));
      Store(slot, std::move(set_values[next_set++]));
    } else if (a.kind == UpdateAction::Kind::kRemove) {
      removes.push_back(&a);
    }
  }
  std::sort(removes.begin(), removes.end(), RemoveOrder);
  for (const UpdateAction* a : removes) {
    CRUDDUR_ASSIGN_OR_RETURN(Slot slot, FindSlot(item, a->path));
    Erase(slot);
  }
  for (const UpdateAction& a : actions) {
    if (a.kind != UpdateAction::Kind::kAdd && a.kind != UpdateAction::Kind::kDelete) continue;
    CRUDDUR_ASSIGN_OR_RETURN(Slot slot, FindSlot(item, a.path));
    AttributeValue* current = Lookup(slot);
    if (a.kind == UpdateAction::Kind::kAdd) {
      if (current == nullptr) {
        Store(slot, a.value.value);
      } else {
        CRUDDUR_RETURN_IF_ERROR(AddTo(current, a.value.value));
      }
    } else if (current != nullptr) {
      CRUDDUR_ASSIGN_OR_RETURN(bool empty, DeleteFrom(current, a.value.value));
      if (empty) Erase(slot);
    }
  }

  for (const std::string& name : update.top_level_names()) {
    auto it = item->find(name);
    if (it != item->end() && Depth(it->second) > kMaxNesting) {
      return ValidationError("Nesting Levels have exceeded supported limits");
    }
  }
  return Status::Ok();
}

}  // namespace cruddur::dynamo::expr
