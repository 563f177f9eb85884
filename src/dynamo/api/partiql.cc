// ExecuteStatement, BatchExecuteStatement and ExecuteTransaction (API Reference, those three
// operations; Developer Guide, "PartiQL - a SQL-compatible query language for Amazon DynamoDB").
//
// A statement is parsed by dynamo/partiql and translated into the item operations' own terms:
// its WHERE becomes a condition expression evaluated by dynamo/expr, its SET/REMOVE an update
// expression, so PartiQL and the JSON operations cannot disagree on what a condition or an
// update means.
//   SELECT  reads a page like Query/Scan. A WHERE that fixes the partition key with = or IN (or
//           an OR of such equalities) queries those partitions one after another (narrowed by a
//           sort-key condition when there is one); anything else scans (Developer Guide, "PartiQL
//           select statements": only these avoid "a full table scan"). The whole WHERE is then
//           applied to every item read, so the narrowing never changes the result. NextToken
//           carries the partition being read and the last key read.
//   INSERT  is a put that fails with DuplicateItemException when the key exists ("PartiQL insert
//           statements": "If the item already exists ... returns a DuplicateItemException").
//   UPDATE  is an UpdateItem of an existing item: WHERE must name the full key with equalities,
//           the rest of WHERE is the condition, and a missing item fails the condition
//           ("PartiQL update statements").
//   DELETE  is a DeleteItem with the same WHERE rules; deleting a missing item succeeds.
// A transaction's writes are handed, as a TransactWriteItems request, to TransactWriteItems
// itself (one commit path, ClientRequestToken included); its reads are one consistent GetMany
// like TransactGetItems.
//
// Texts: DynamoDB Local's (the PartiQL front end AWS ships) unless a comment says otherwise.
#include "dynamo/partiql/partiql.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dynamo/api/api.h"
#include "dynamo/api/common.h"
#include "dynamo/api/item_write.h"
#include "dynamo/api/request_shape.h"
#include "dynamo/json/attribute_json.h"

namespace cruddur::dynamo::api {
namespace {

using partiql::Statement;

constexpr size_t kMaxBatchStatements = 25;
constexpr size_t kMaxTransactStatements = 100;
// The 1 MB page of Query and Scan applies to SELECT alike (API Reference, ExecuteStatement
// "Limit").
constexpr size_t kPageBytes = 1024 * 1024;

constexpr std::string_view kDuplicateItemText = "Duplicate primary key exists in table";

Shape StatementShape() {
  return NotNull(Length(Str("Statement"), 1, static_cast<int64_t>(partiql::kMaxStatementChars)));
}
Shape ParametersShape() { return Length(List("Parameters", Attr("member")), 1, std::nullopt); }
Shape CapacityShape() { return Enum(Str("ReturnConsumedCapacity"), {"INDEXES", "TOTAL", "NONE"}); }

// API Reference, ExecuteStatement errors: DuplicateItemException.
Status DuplicateItem() {
  return Status(ErrorCode::kDuplicateItem, std::string(kDuplicateItemText));
}
bool IsDuplicateItem(const Status& st) { return st.code() == ErrorCode::kDuplicateItem; }

Status KeyTypeMismatch(const std::string& name) {
  return ValidationError(
      "Key attribute's data type should match its data type in table's schema: Key " + name);
}

bool IsKeyOf(const storage::KeySchema& key, std::string_view name) {
  return key.hash.name == name || (key.range && key.range->name == name);
}

const storage::KeyAttribute* KeyAttr(const storage::KeySchema& key, std::string_view name) {
  if (key.hash.name == name) return &key.hash;
  if (key.range && key.range->name == name) return &*key.range;
  return nullptr;
}

// A statement with its table resolved and its expressions parsed, ready to run.
struct Prepared {
  Statement st;
  std::shared_ptr<const storage::TableDef> table;
  const storage::IndexDef* index = nullptr;
  bool is_gsi = false;
  std::vector<AttributeValue> params;
  // INSERT / UPDATE / DELETE, and single-item SELECTs (full_key).
  Item key;
  bool full_key = false;
  Item item;  // INSERT
  std::string condition_text, update_text;
  expr::ExpressionAttributes attrs;  // the placeholders of the two texts
  expr::Condition condition;         // UPDATE / DELETE condition; SELECT filter
  expr::Update update;
};

// Splits WHERE into equalities naming the table key and the other terms. Fails unless every key
// attribute has exactly one equality.
Status SplitKey(const storage::KeySchema& schema, const partiql::Condition& where,
                const std::vector<AttributeValue>& params, Item* key,
                std::vector<const partiql::Condition*>* rest) {
  for (const partiql::Condition* term : partiql::Conjuncts(where)) {
    std::string name;
    const partiql::Literal* literal = nullptr;
    const storage::KeyAttribute* attr = nullptr;
    if (partiql::IsAttributeEquality(*term, &name, &literal) &&
        (attr = KeyAttr(schema, name)) != nullptr) {
      if (key->count(name)) {
        return ValidationError("Multiple conditions on same key " + name +
                               ". Only single item Update/Insert/Delete are supported");
      }
      CRUDDUR_ASSIGN_OR_RETURN(AttributeValue v, partiql::EvaluateLiteral(*literal, params));
      if (v.type != attr->type) return KeyTypeMismatch(name);
      key->emplace(name, std::move(v));
      continue;
    }
    rest->push_back(term);
  }
  if (key->size() != (schema.range ? 2u : 1u)) {
    return ValidationError(
        "Where clause does not contain a mandatory equality on all key attributes");
  }
  return Status::Ok();
}

Result<std::vector<AttributeValue>> DecodeParameters(const json::Value& entry) {
  std::vector<AttributeValue> params;
  if (const json::Value* list = Member(entry, "Parameters")) {
    for (const auto& v : list->GetArray()) {
      CRUDDUR_ASSIGN_OR_RETURN(AttributeValue a, DecodeAttributeValue(v));
      params.push_back(std::move(a));
    }
  }
  return params;
}

Status PrepareInsert(Prepared* p) {
  CRUDDUR_ASSIGN_OR_RETURN(AttributeValue value, partiql::EvaluateLiteral(p->st.value, p->params));
  p->item = std::move(value.map);
  const storage::KeySchema& schema = p->table->key;
  for (const auto* attr : {&schema.hash, schema.range ? &*schema.range : nullptr}) {
    if (attr == nullptr) continue;
    auto it = p->item.find(attr->name);
    if (it == p->item.end()) {
      return ValidationError("Key attribute should be present in the item: Key " + attr->name);
    }
    if (it->second.type != attr->type) return KeyTypeMismatch(attr->name);
  }
  CRUDDUR_RETURN_IF_ERROR(CheckItemForWrite(*p->table, p->item));
  p->key = ExtractKey(schema, p->item);
  p->full_key = true;
  // The same existence test as a condition, for the transaction path (TransactWriteItems Put).
  partiql::ExpressionWriter w(p->params);
  p->condition_text = "attribute_not_exists(" + w.Name(schema.hash.name) + ")";
  p->attrs = std::move(w.attributes());
  return Status::Ok();
}

Status PrepareUpdateOrDelete(Prepared* p) {
  bool is_update = p->st.kind == Statement::Kind::kUpdate;
  if (!is_update && p->st.returning != partiql::Returning::kNone &&
      p->st.returning != partiql::Returning::kAllOld) {
    return ValidationError(
        "Invalid returning clause: " + std::string(partiql::ReturningText(p->st.returning)) +
        ". Only RETURNING ALL OLD * is allowed in DELETE statements.");
  }
  std::vector<const partiql::Condition*> rest;
  CRUDDUR_RETURN_IF_ERROR(SplitKey(p->table->key, *p->st.where, p->params, &p->key, &rest));
  CRUDDUR_RETURN_IF_ERROR(CheckItemForWrite(*p->table, p->key));
  p->full_key = true;
  partiql::ExpressionWriter w(p->params);
  if (is_update) {
    CRUDDUR_ASSIGN_OR_RETURN(p->update_text, w.WriteUpdate(p->st.updates));
  }
  CRUDDUR_ASSIGN_OR_RETURN(std::string rest_text, w.WriteConjunction(rest));
  // UPDATE never creates an item: the key must exist.
  if (is_update) {
    p->condition_text = "attribute_exists(" + w.Name(p->table->key.hash.name) + ")";
    if (!rest_text.empty()) p->condition_text += " AND " + rest_text;
  } else {
    p->condition_text = rest_text;
  }
  p->attrs = std::move(w.attributes());
  expr::ExpressionAttributes attrs = p->attrs;
  if (is_update) {
    CRUDDUR_ASSIGN_OR_RETURN(p->update, expr::ParseUpdate(p->update_text, &attrs));
    CRUDDUR_RETURN_IF_ERROR(CheckUpdateKeepsKey(*p->table, p->update));
  }
  if (!p->condition_text.empty()) {
    CRUDDUR_ASSIGN_OR_RETURN(
        p->condition, expr::ParseCondition(p->condition_text, "ConditionExpression", &attrs));
  }
  return Status::Ok();
}

Status PrepareSelect(Prepared* p) {
  const Statement& st = p->st;
  if (!st.index.empty()) {
    p->index = p->table->FindIndex(st.index);
    if (p->index == nullptr) {
      return ValidationError("The table does not have the specified index: " + st.index);
    }
    p->is_gsi = std::any_of(p->table->gsis.begin(), p->table->gsis.end(),
                            [&](const storage::IndexDef& g) { return g.name == st.index; });
  }
  std::vector<std::string> aliases;
  for (const auto& path : st.projection) {
    std::string alias = partiql::ProjectionAlias(path);
    if (std::find(aliases.begin(), aliases.end(), alias) != aliases.end()) {
      return ValidationError("Duplicate identifiers in select clause: " + alias);
    }
    aliases.push_back(std::move(alias));
  }
  const storage::KeySchema& schema = p->index ? p->index->key : p->table->key;
  if (!st.order_by.empty() && !st.where) {
    return ValidationError("Must have WHERE clause in the statement when using ORDER BY clause.");
  }
  for (const auto& ob : st.order_by) {
    if (ob.path.elements.size() != 1 || !IsKeyOf(schema, ob.path.top_level_name())) {
      return ValidationError("Variable reference " + ob.path.ToString() +
                             " in ORDER BY clause must be part of the primary key");
    }
  }
  if (!st.where) return Status::Ok();
  partiql::ExpressionWriter w(p->params);
  CRUDDUR_ASSIGN_OR_RETURN(p->condition_text, w.WriteCondition(*st.where));
  p->attrs = std::move(w.attributes());
  expr::ExpressionAttributes attrs = p->attrs;
  CRUDDUR_ASSIGN_OR_RETURN(p->condition,
                           expr::ParseCondition(p->condition_text, "FilterExpression", &attrs));
  // A single-item read (batches and transactions): the table key, fixed by equalities.
  if (p->index == nullptr) {
    Item key;
    std::vector<const partiql::Condition*> rest;
    if (SplitKey(p->table->key, *st.where, p->params, &key, &rest).ok()) {
      p->key = std::move(key);
      p->full_key = true;
    }
  }
  return Status::Ok();
}

// Parses and prepares the statement of one request entry (a member "Statement" and optional
// "Parameters"). *kind is set as soon as the statement parses, even when preparing fails.
Result<Prepared> Prepare(ApiContext& ctx, const json::Value& entry,
                         std::optional<Statement::Kind>* kind = nullptr) {
  Prepared p;
  CRUDDUR_ASSIGN_OR_RETURN(p.params, DecodeParameters(entry));
  CRUDDUR_ASSIGN_OR_RETURN(p.st, partiql::ParseStatement(StringMember(entry, "Statement")));
  if (kind != nullptr) *kind = p.st.kind;
  // Parameters beyond the statement's `?` markers are ignored (DynamoDB Local).
  if (p.params.size() < p.st.parameter_count) {
    return ValidationError("Number of parameters in request and statement don't match.");
  }
  CRUDDUR_ASSIGN_OR_RETURN(p.table, FindTable(ctx, p.st.table));
  switch (p.st.kind) {
    case Statement::Kind::kInsert:
      CRUDDUR_RETURN_IF_ERROR(PrepareInsert(&p));
      break;
    case Statement::Kind::kUpdate:
    case Statement::Kind::kDelete:
      CRUDDUR_RETURN_IF_ERROR(PrepareUpdateOrDelete(&p));
      break;
    case Statement::Kind::kSelect:
      CRUDDUR_RETURN_IF_ERROR(PrepareSelect(&p));
      break;
  }
  return p;
}

// The attributes a SELECT returns: everything, or each projected path under its alias.
Item Project(const Prepared& p, const Item& item) {
  if (p.st.projection.empty()) return item;
  Item out;
  for (const auto& path : p.st.projection) {
    if (const AttributeValue* v = expr::ResolvePath(item, path)) {
      out.emplace(partiql::ProjectionAlias(path), *v);
    }
  }
  return out;
}

// ---- Single writes ----

struct WriteOutcome {
  std::optional<Item> returned;  // RETURNING's item
  ConsumedCapacity capacity;
};

// Runs a prepared INSERT / UPDATE / DELETE under the key's lock, like PutItem / UpdateItem /
// DeleteItem. `params` is the request object holding ReturnValuesOnConditionCheckFailure.
Result<WriteOutcome> RunWrite(ApiContext& ctx, const Prepared& p, const json::Value& params,
                              CapacityMode mode) {
  SingleWrite write(ctx, p.table, p.key, mode);
  CRUDDUR_ASSIGN_OR_RETURN(std::optional<Item> old, write.ReadCurrent());
  WriteOutcome out;
  using partiql::Returning;
  switch (p.st.kind) {
    case Statement::Kind::kInsert:
      if (old) return DuplicateItem();
      CRUDDUR_RETURN_IF_ERROR(write.Put(p.item));
      break;
    case Statement::Kind::kUpdate: {
      CRUDDUR_RETURN_IF_ERROR(CheckWriteCondition(p.condition, old, params));
      CRUDDUR_ASSIGN_OR_RETURN(Item updated, ApplyUpdateTo(*p.table, p.update, old, p.key));
      CRUDDUR_RETURN_IF_ERROR(write.Put(updated));
      switch (p.st.returning) {
        case Returning::kNone:
          break;
        case Returning::kAllOld:
          out.returned = old;
          break;
        case Returning::kModifiedOld:
          out.returned = expr::ApplyProjection(p.update.written(), *old);
          break;
        case Returning::kAllNew:
          out.returned = std::move(updated);
          break;
        case Returning::kModifiedNew:
          out.returned = expr::ApplyProjection(p.update.written(), updated);
          break;
      }
      break;
    }
    case Statement::Kind::kDelete:
      CRUDDUR_RETURN_IF_ERROR(CheckWriteCondition(p.condition, old, params));
      CRUDDUR_RETURN_IF_ERROR(write.Delete());
      if (p.st.returning == Returning::kAllOld) out.returned = old;
      break;
    case Statement::Kind::kSelect:
      return InternalError("RunWrite called for a SELECT");
  }
  out.capacity = write.capacity();
  return out;
}

// ---- SELECT pages ----

// Where a SELECT reads: the partitions its WHERE fixes (in order), or the whole table/index.
struct ReadPlan {
  bool scan = true;
  std::vector<AttributeValue> hashes;
  storage::SortRange range;
  bool forward = true;
};

// Values of the partition key `name` fixed by one WHERE term: `name = v`, `name IN [...]`, or
// an OR of such equalities. Empty when the term does not fix it.
Result<std::vector<AttributeValue>> HashValues(const partiql::Condition& term,
                                               const storage::KeyAttribute& hash,
                                               const std::vector<AttributeValue>& params) {
  std::vector<const partiql::Literal*> literals;
  std::string name;
  const partiql::Literal* literal = nullptr;
  if (term.kind == partiql::Condition::Kind::kIn) {
    const partiql::Operand& lhs = term.operands[0];
    if (lhs.kind != partiql::Operand::Kind::kPath || lhs.path.elements.size() != 1 ||
        lhs.path.top_level_name() != hash.name) {
      return std::vector<AttributeValue>();
    }
    for (size_t i = 1; i < term.operands.size(); ++i) {
      if (term.operands[i].kind != partiql::Operand::Kind::kLiteral) {
        return std::vector<AttributeValue>();
      }
      literals.push_back(&term.operands[i].literal);
    }
  } else if (term.kind == partiql::Condition::Kind::kOr) {
    std::vector<AttributeValue> all;
    for (const auto& child : term.children) {
      CRUDDUR_ASSIGN_OR_RETURN(std::vector<AttributeValue> sub, HashValues(child, hash, params));
      if (sub.empty()) return std::vector<AttributeValue>();
      for (auto& v : sub) all.push_back(std::move(v));
    }
    return all;
  } else if (partiql::IsAttributeEquality(term, &name, &literal) && name == hash.name) {
    literals.push_back(literal);
  } else {
    return std::vector<AttributeValue>();
  }
  std::vector<AttributeValue> values;
  for (const auto* l : literals) {
    CRUDDUR_ASSIGN_OR_RETURN(AttributeValue v, partiql::EvaluateLiteral(*l, params));
    if (v.type != hash.type) return KeyTypeMismatch(hash.name);
    values.push_back(std::move(v));
  }
  return values;
}

// A sort-key range implied by one WHERE term, when it is a comparison, BETWEEN or begins_with
// of the sort key with values of its type.
std::optional<storage::SortRange> SortRangeOf(const partiql::Condition& term,
                                              const storage::KeyAttribute& range,
                                              const std::vector<AttributeValue>& params) {
  auto is_key = [&](const partiql::Operand& o) {
    return o.kind == partiql::Operand::Kind::kPath && o.path.elements.size() == 1 &&
           o.path.top_level_name() == range.name;
  };
  auto value = [&](const partiql::Operand& o) -> std::optional<AttributeValue> {
    if (o.kind != partiql::Operand::Kind::kLiteral) return std::nullopt;
    auto v = partiql::EvaluateLiteral(o.literal, params);
    if (!v.ok() || v->type != range.type) return std::nullopt;
    return std::move(v).value();
  };
  using Kind = partiql::Condition::Kind;
  if (term.kind == Kind::kCompare && term.op != "<>") {
    bool key_left = is_key(term.operands[0]);
    if (!key_left && !is_key(term.operands[1])) return std::nullopt;
    auto v = value(term.operands[key_left ? 1 : 0]);
    if (!v) return std::nullopt;
    std::string op = term.op;
    if (!key_left) {  // "5 < sk" is "sk > 5"
      if (op == "<")
        op = ">";
      else if (op == ">")
        op = "<";
      else if (op == "<=")
        op = ">=";
      else if (op == ">=")
        op = "<=";
    }
    if (op == "=") return storage::SortRange::Eq(*v);
    if (op == "<") return storage::SortRange::Lt(*v);
    if (op == "<=") return storage::SortRange::Le(*v);
    if (op == ">") return storage::SortRange::Gt(*v);
    return storage::SortRange::Ge(*v);
  }
  if (term.kind == Kind::kBetween && is_key(term.operands[0])) {
    auto lo = value(term.operands[1]);
    auto hi = value(term.operands[2]);
    // An empty range (lo > hi) is left to the filter rather than refused like Query does.
    if (lo && hi && !(hi->type == AttrType::kN ? hi->num < lo->num : hi->str < lo->str)) {
      return storage::SortRange::Between(*lo, *hi);
    }
    return std::nullopt;
  }
  if (term.kind == Kind::kFunction && term.op == "begins_with" && term.operands.size() == 2 &&
      is_key(term.operands[0]) && range.type != AttrType::kN) {
    if (auto v = value(term.operands[1])) return storage::SortRange::BeginsWith(*v);
  }
  return std::nullopt;
}

Result<ReadPlan> PlanRead(const Prepared& p) {
  ReadPlan plan;
  const storage::KeySchema& schema = p.index ? p.index->key : p.table->key;
  for (const auto& ob : p.st.order_by) {
    if (schema.range && ob.path.top_level_name() == schema.range->name)
      plan.forward = !ob.descending;
  }
  if (!p.st.where) return plan;
  std::vector<const partiql::Condition*> terms = partiql::Conjuncts(*p.st.where);
  for (const auto* term : terms) {
    CRUDDUR_ASSIGN_OR_RETURN(std::vector<AttributeValue> values,
                             HashValues(*term, schema.hash, p.params));
    if (values.empty()) continue;
    plan.scan = false;
    for (auto& v : values) {
      if (std::find(plan.hashes.begin(), plan.hashes.end(), v) == plan.hashes.end()) {
        plan.hashes.push_back(std::move(v));
      }
    }
    break;
  }
  if (plan.scan || !schema.range) return plan;
  for (const auto* term : terms) {
    if (auto range = SortRangeOf(*term, *schema.range, p.params)) {
      plan.range = std::move(*range);
      break;
    }
  }
  return plan;
}

// NextToken: base64 of {"op": <partition index>, "key": <last key read>}. Opaque to clients.
std::string EncodeNextToken(size_t op, const Item& key) {
  json::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  w.Key("op");
  w.Uint64(op);
  w.Key("key");
  WriteItem(key, &w);
  w.EndObject();
  return Base64Encode(std::string_view(buf.GetString(), buf.GetSize()));
}

Status DecodeNextToken(std::string_view token, size_t ops, size_t* op, Item* key) {
  Status invalid = ValidationError("Invalid NextToken");
  auto text = Base64Decode(token);
  if (!text.ok()) return invalid;
  json::Document doc;
  if (!json::Parse(*text, &doc).ok() || !doc.IsObject()) return invalid;
  auto op_member = doc.FindMember("op");
  auto key_member = doc.FindMember("key");
  if (op_member == doc.MemberEnd() || !op_member->value.IsUint64() ||
      op_member->value.GetUint64() >= ops || key_member == doc.MemberEnd() ||
      !key_member->value.IsObject()) {
    return invalid;
  }
  auto decoded = DecodeItem(key_member->value);
  if (!decoded.ok()) return invalid;
  *op = static_cast<size_t>(op_member->value.GetUint64());
  *key = std::move(decoded).value();
  return Status::Ok();
}

Status RunSelect(ApiContext& ctx, const Prepared& p, const json::Value& request,
                 json::Writer* out) {
  bool consistent = BoolMember(request, "ConsistentRead", false);
  if (p.is_gsi && consistent) {
    return ValidationError("Consistent reads are not supported on global secondary indexes");
  }
  CRUDDUR_ASSIGN_OR_RETURN(ReadPlan plan, PlanRead(p));
  size_t ops = plan.scan ? 1 : plan.hashes.size();
  size_t op = 0;
  std::optional<Item> start;
  std::string_view token = StringMember(request, "NextToken");
  if (!token.empty()) {
    Item key;
    CRUDDUR_RETURN_IF_ERROR(DecodeNextToken(token, ops, &op, &key));
    start = std::move(key);
  }
  int64_t limit = LongMember(request, "Limit").value_or(0);

  // The key attributes a NextToken must carry: the table key and, for an index, its key.
  std::vector<std::string> key_names = {p.table->key.hash.name};
  if (p.table->key.range) key_names.push_back(p.table->key.range->name);
  if (p.index != nullptr) {
    key_names.push_back(p.index->key.hash.name);
    if (p.index->key.range) key_names.push_back(p.index->key.range->name);
  }

  out->StartObject();
  out->Key("Items");
  out->StartArray();
  int64_t scanned = 0;
  size_t read_bytes = 0;
  bool stopped = false;
  Item last_key;
  size_t last_op = op;
  for (; op < ops && !stopped; ++op) {
    auto it = plan.scan ? ctx.engine->Scan(*p.table, p.index, 0, 1, start ? &*start : nullptr)
                        : ctx.engine->Query(*p.table, p.index, plan.hashes[op], plan.range,
                                            plan.forward, start ? &*start : nullptr);
    start.reset();
    while (true) {
      if ((limit > 0 && scanned >= limit) || read_bytes >= kPageBytes) {
        stopped = true;
        break;
      }
      if (!it->Next()) break;
      ++scanned;
      read_bytes += it->size();
      const Item& item = it->item();
      last_key.clear();
      for (const auto& name : key_names) {
        auto f = item.find(name);
        if (f != item.end()) last_key.emplace(f->first, f->second);
      }
      last_op = op;
      if (!p.condition.empty()) {
        CRUDDUR_ASSIGN_OR_RETURN(bool matches, expr::EvaluateCondition(p.condition, item));
        if (!matches) continue;
      }
      WriteItem(Project(p, item), out);
    }
    CRUDDUR_RETURN_IF_ERROR(it->status());
  }
  out->EndArray();
  if (stopped) {
    out->Key("NextToken");
    WriteString(out, EncodeNextToken(last_op, last_key));
  }
  ConsumedCapacity cc;
  cc.table = p.table->name;
  double units = ReadUnits(read_bytes, consistent);
  if (p.index == nullptr) {
    cc.table_units = units;
  } else {
    (p.is_gsi ? cc.index_units : cc.local_index_units)[p.index->name] = units;
  }
  cc.WriteMember(ReadCapacityMode(request), out);
  out->EndObject();
  return Status::Ok();
}

// A single-item SELECT of a batch or transaction: the item, when it exists and passes WHERE.
Result<std::optional<Item>> FilterRead(const Prepared& p, std::optional<Item> item) {
  if (!item) return item;
  CRUDDUR_ASSIGN_OR_RETURN(bool ok, ConditionHolds(p.condition, item));
  if (!ok) return std::optional<Item>();
  return std::optional<Item>(Project(p, *item));
}

// ---- Batches ----

// BatchStatementError codes (API Reference, "BatchStatementError").
std::string BatchErrorCode(const Status& st) {
  if (IsDuplicateItem(st)) return "DuplicateItem";
  switch (st.code()) {
    case ErrorCode::kConditionalCheckFailed:
      return "ConditionalCheckFailed";
    case ErrorCode::kValidation:
    case ErrorCode::kSerialization:
      return "ValidationError";
    case ErrorCode::kResourceNotFound:
      return "ResourceNotFound";
    case ErrorCode::kItemCollectionSizeLimitExceeded:
      return "ItemCollectionSizeLimitExceeded";
    case ErrorCode::kRequestLimitExceeded:
      return "RequestLimitExceeded";
    case ErrorCode::kProvisionedThroughputExceeded:
      return "ProvisionedThroughputExceeded";
    case ErrorCode::kTransactionConflict:
      return "TransactionConflict";
    case ErrorCode::kThrottling:
      return "ThrottlingError";
    case ErrorCode::kAccessDenied:
      return "AccessDenied";
    default:
      return "InternalServerError";
  }
}

void WriteBatchError(const Status& st, const std::string* table, json::Writer* out) {
  out->StartObject();
  out->Key("Error");
  out->StartObject();
  out->Key("Code");
  WriteString(out, BatchErrorCode(st));
  out->Key("Message");
  WriteString(out, st.message());
  out->EndObject();
  if (table != nullptr) {
    out->Key("TableName");
    WriteString(out, *table);
  }
  out->EndObject();
}

bool SameItem(const Prepared& a, const Prepared& b) {
  return a.table->name == b.table->name && a.key == b.key;
}

// ---- Transactions ----

void WriteStringMember(json::Writer* w, const char* key, std::string_view value) {
  w->Key(key);
  WriteString(w, value);
}

void WriteAttributes(const expr::ExpressionAttributes& attrs, json::Writer* w) {
  if (!attrs.names.empty()) {
    w->Key("ExpressionAttributeNames");
    w->StartObject();
    for (const auto& [k, v] : attrs.names) WriteStringMember(w, k.c_str(), v);
    w->EndObject();
  }
  if (!attrs.values.empty()) {
    w->Key("ExpressionAttributeValues");
    w->StartObject();
    for (const auto& [k, v] : attrs.values) {
      w->Key(k.c_str());
      WriteAttributeValue(v, w);
    }
    w->EndObject();
  }
}

// The TransactWriteItems request equivalent to the prepared writes.
std::string TransactWriteRequest(const std::vector<Prepared>& writes, const json::Value& request) {
  json::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  w.Key("TransactItems");
  w.StartArray();
  for (const auto& p : writes) {
    w.StartObject();
    bool is_insert = p.st.kind == Statement::Kind::kInsert;
    w.Key(is_insert ? "Put" : (p.st.kind == Statement::Kind::kUpdate ? "Update" : "Delete"));
    w.StartObject();
    WriteStringMember(&w, "TableName", p.table->name);
    w.Key(is_insert ? "Item" : "Key");
    WriteItem(is_insert ? p.item : p.key, &w);
    if (!p.update_text.empty()) WriteStringMember(&w, "UpdateExpression", p.update_text);
    if (!p.condition_text.empty()) WriteStringMember(&w, "ConditionExpression", p.condition_text);
    WriteAttributes(p.attrs, &w);
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  for (const char* member : {"ClientRequestToken", "ReturnConsumedCapacity"}) {
    std::string_view v = StringMember(request, member);
    if (!v.empty()) WriteStringMember(&w, member, v);
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

// TransactWriteItems reports an INSERT whose key exists as a failed condition; ExecuteTransaction
// reports it as a ValidationError "Duplicate primary key exists in table" (DynamoDB Local).
Status RewordCancellation(const std::vector<Prepared>& writes, Status st) {
  json::Document doc;
  if (!json::Parse("{" + st.details_json() + "}", &doc).ok() || !doc.IsObject()) return st;
  auto reasons = doc.FindMember("CancellationReasons");
  if (reasons == doc.MemberEnd() || !reasons->value.IsArray() ||
      reasons->value.Size() != writes.size()) {
    return st;
  }
  std::string codes;
  auto& alloc = doc.GetAllocator();
  for (size_t i = 0; i < writes.size(); ++i) {
    json::Value& r = reasons->value[static_cast<rapidjson::SizeType>(i)];
    auto code = r.FindMember("Code");
    if (code == r.MemberEnd() || !code->value.IsString()) return st;
    if (writes[i].st.kind == Statement::Kind::kInsert &&
        std::string_view(code->value.GetString()) == "ConditionalCheckFailed") {
      code->value.SetString("ValidationError", alloc);
      r.RemoveMember("Item");
      auto msg = r.FindMember("Message");
      if (msg != r.MemberEnd()) {
        msg->value.SetString(kDuplicateItemText.data(),
                             static_cast<rapidjson::SizeType>(kDuplicateItemText.size()), alloc);
      }
    }
    codes += (i > 0 ? ", " : "") + std::string(code->value.GetString());
  }
  return Status(ErrorCode::kTransactionCanceled,
                "Transaction cancelled, please refer cancellation reasons for specific reasons [" +
                    codes + "]")
      .WithDetails("\"CancellationReasons\":" + json::ToString(reasons->value));
}

Status RunTransactWrites(ApiContext& ctx, const std::vector<Prepared>& writes,
                         const json::Value& request, json::Writer* out) {
  json::Document inner_request;
  CRUDDUR_RETURN_IF_ERROR(json::Parse(TransactWriteRequest(writes, request), &inner_request));
  json::StringBuffer buf;
  json::Writer inner(buf);
  Status st = TransactWriteItems(ctx, inner_request, &inner);
  if (st.code() == ErrorCode::kTransactionCanceled)
    return RewordCancellation(writes, std::move(st));
  CRUDDUR_RETURN_IF_ERROR(st);
  json::Document response;
  CRUDDUR_RETURN_IF_ERROR(json::Parse(std::string_view(buf.GetString(), buf.GetSize()), &response));
  out->StartObject();
  out->Key("Responses");
  out->StartArray();
  out->EndArray();
  auto cc = response.FindMember("ConsumedCapacity");
  if (cc != response.MemberEnd()) {
    out->Key("ConsumedCapacity");
    cc->value.Accept(*out);
  }
  out->EndObject();
  return Status::Ok();
}

Status RunTransactReads(ApiContext& ctx, const std::vector<Prepared>& reads,
                        const json::Value& request, json::Writer* out) {
  std::vector<std::pair<const storage::TableDef*, Item>> keys;
  for (const auto& p : reads) keys.emplace_back(p.table.get(), p.key);
  CRUDDUR_ASSIGN_OR_RETURN(std::vector<std::optional<Item>> items, ctx.engine->GetMany(keys));
  std::vector<ConsumedCapacity> capacity;
  out->StartObject();
  out->Key("Responses");
  out->StartArray();
  for (size_t i = 0; i < reads.size(); ++i) {
    // Transactional reads cost twice a consistent read (Developer Guide, "Capacity management
    // for transactions").
    CapacityFor(&capacity, reads[i].table->name).table_units +=
        2 * ReadUnits(items[i] ? ItemSize(*items[i]) : 0, true);
    CRUDDUR_ASSIGN_OR_RETURN(std::optional<Item> item, FilterRead(reads[i], std::move(items[i])));
    out->StartObject();
    if (item) {
      out->Key("Item");
      WriteItem(*item, out);
    }
    out->EndObject();
  }
  out->EndArray();
  WriteCapacityList(ReadCapacityMode(request), capacity, out);
  out->EndObject();
  return Status::Ok();
}

}  // namespace

Status ExecuteStatement(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  static const Shape shape = Struct(
      "ExecuteStatementInput",
      {StatementShape(), ParametersShape(), Bool("ConsistentRead"),
       Length(Str("NextToken"), 1, 32768), CapacityShape(), Range(Long("Limit"), 1, std::nullopt),
       Enum(Str("ReturnValuesOnConditionCheckFailure"), {"ALL_OLD", "NONE"})});
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, shape));
  CRUDDUR_ASSIGN_OR_RETURN(Prepared p, Prepare(ctx, request));
  if (p.st.kind == Statement::Kind::kSelect) return RunSelect(ctx, p, request, out);
  CapacityMode mode = ReadCapacityMode(request);
  CRUDDUR_ASSIGN_OR_RETURN(WriteOutcome w, RunWrite(ctx, p, request, mode));
  out->StartObject();
  out->Key("Items");
  out->StartArray();
  if (w.returned) WriteItem(*w.returned, out);
  out->EndArray();
  w.capacity.WriteMember(mode, out);
  out->EndObject();
  return Status::Ok();
}

Status BatchExecuteStatement(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  static const Shape shape = Struct(
      "BatchExecuteStatementInput",
      {Length(NotNull(List("Statements",
                           Struct("BatchStatementRequest",
                                  {StatementShape(), ParametersShape(), Bool("ConsistentRead")}))),
              1, kMaxBatchStatements),
       CapacityShape()});
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, shape));
  const auto& entries = request["Statements"].GetArray();
  std::vector<Result<Prepared>> prepared;
  bool reads = false, writes = false;
  for (const auto& entry : entries) {
    std::optional<Statement::Kind> kind;
    prepared.push_back(Prepare(ctx, entry, &kind));
    if (kind) (*kind == Statement::Kind::kSelect ? reads : writes) = true;
  }
  // Developer Guide, "Running batch operations with PartiQL": a batch is all reads or all
  // writes, and names each item once.
  if (reads && writes) {
    return ValidationError("Read and write requests together in the same batch is not supported.");
  }
  for (size_t i = 0; i < prepared.size(); ++i) {
    if (!prepared[i].ok() || !prepared[i]->full_key) continue;
    for (size_t j = 0; j < i; ++j) {
      if (prepared[j].ok() && prepared[j]->full_key && SameItem(*prepared[i], *prepared[j])) {
        return ValidationError("Provided list of item keys contains duplicates");
      }
    }
  }
  CapacityMode mode = ReadCapacityMode(request);
  std::vector<ConsumedCapacity> capacity;
  out->StartObject();
  out->Key("Responses");
  out->StartArray();
  for (size_t i = 0; i < prepared.size(); ++i) {
    if (!prepared[i].ok()) {
      WriteBatchError(prepared[i].status(), nullptr, out);
      continue;
    }
    const Prepared& p = *prepared[i];
    if (p.st.kind == Statement::Kind::kSelect) {
      if (!p.full_key || p.index != nullptr) {
        WriteBatchError(ValidationError("Only single item select is supported"), nullptr, out);
        continue;
      }
      bool consistent =
          BoolMember(entries[static_cast<rapidjson::SizeType>(i)], "ConsistentRead", false);
      auto item = ctx.engine->Get(*p.table, p.key);
      if (!item.ok()) {
        WriteBatchError(item.status(), &p.table->name, out);
        continue;
      }
      CapacityFor(&capacity, p.table->name).table_units +=
          ReadUnits(*item ? ItemSize(**item) : 0, consistent);
      auto filtered = FilterRead(p, std::move(item).value());
      if (!filtered.ok()) {
        WriteBatchError(filtered.status(), &p.table->name, out);
        continue;
      }
      out->StartObject();
      WriteStringMember(out, "TableName", p.table->name);
      if (*filtered) {
        out->Key("Item");
        WriteItem(**filtered, out);
      }
      out->EndObject();
      continue;
    }
    auto w = RunWrite(ctx, p, entries[static_cast<rapidjson::SizeType>(i)], mode);
    if (!w.ok()) {
      WriteBatchError(w.status(), &p.table->name, out);
      continue;
    }
    AddCapacity(w->capacity, 1, &CapacityFor(&capacity, p.table->name));
    out->StartObject();
    WriteStringMember(out, "TableName", p.table->name);
    out->EndObject();
  }
  out->EndArray();
  WriteCapacityList(mode, capacity, out);
  out->EndObject();
  return Status::Ok();
}

Status ExecuteTransaction(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  static const Shape shape = Struct(
      "ExecuteTransactionInput",
      {Length(NotNull(List("TransactStatements", Struct("ParameterizedStatement",
                                                        {StatementShape(), ParametersShape()}))),
              1, kMaxTransactStatements),
       Length(Str("ClientRequestToken"), 1, 36), CapacityShape()});
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, shape));
  std::vector<Prepared> statements;
  bool reads = false, writes = false;
  size_t index = 0;
  for (const auto& entry : request["TransactStatements"].GetArray()) {
    auto in_statement = [&](const Status& st) {
      if (st.code() != ErrorCode::kValidation) return st;
      return ValidationError("Validation failed in TransactStatements[" + std::to_string(index) +
                             "]: " + st.message());
    };
    auto p = Prepare(ctx, entry);
    if (!p.ok()) return in_statement(p.status());
    if (p->st.returning != partiql::Returning::kNone) {
      return in_statement(
          ValidationError("RETURNING clause is not supported in ExecuteTransaction."));
    }
    if (p->st.kind == Statement::Kind::kSelect) {
      reads = true;
      if (!p->full_key || p->index != nullptr) {
        return in_statement(ValidationError(
            "Select statements within ExecuteTransaction must specify the primary key in the "
            "where clause."));
      }
    } else {
      writes = true;
    }
    for (const auto& earlier : statements) {
      if (SameItem(earlier, *p)) {
        return ValidationError(
            "Transaction request cannot include multiple operations on one item");
      }
    }
    statements.push_back(std::move(p).value());
    ++index;
  }
  if (reads && writes) {
    return ValidationError(
        "ExecuteTransaction API does not support both read and write operations in the same "
        "request.");
  }
  if (reads) return RunTransactReads(ctx, statements, request, out);
  return RunTransactWrites(ctx, statements, request, out);
}

}  // namespace cruddur::dynamo::api
