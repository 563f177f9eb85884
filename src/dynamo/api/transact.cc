// TransactWriteItems and TransactGetItems (API Reference, "TransactWriteItems",
// "TransactGetItems"; Developer Guide, "Amazon DynamoDB Transactions: How it works").
//
// A write transaction is validated whole first: every action's shape, expressions, table and
// key; two actions on one item are refused. Then all keys are locked together (one storage
// WriteBatch; the engine takes striped locks in a global order, so transactions cannot
// deadlock), every condition is evaluated against the items as committed, and either every
// write commits in one atomic batch or, when any condition fails, nothing is written and the
// request fails with TransactionCanceledException and one CancellationReason per action, in
// order. Holding the locks from the reads to the commit is what makes the conditions and writes
// serializable with respect to other writers.
//
// A read transaction reads every item from one consistent snapshot (Engine::GetMany).
//
// Capacity (Developer Guide, "Capacity management for transactions"): transactional writes cost
// 2 write units per 1 KB, transactional reads 2 read units per 4 KB.
//
// Texts: DynamoDB Local's for the transaction-specific errors (dynalite has no transactions);
// the single-item texts are PutItem's/UpdateItem's, from common.h and item_write.h.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dynamo/api/api.h"
#include "dynamo/api/common.h"
#include "dynamo/api/idempotency.h"
#include "dynamo/api/item_write.h"
#include "dynamo/api/request_shape.h"
#include "dynamo/json/attribute_json.h"

namespace cruddur::dynamo::api {
namespace {

constexpr size_t kMaxTransactItems = 100;

std::vector<Shape> ActionMembers(std::vector<Shape> specific) {
  std::vector<Shape> members = std::move(specific);
  members.push_back(TableNameShape());
  members.push_back(Map("ExpressionAttributeNames", Str("member")));
  members.push_back(AttrMap("ExpressionAttributeValues"));
  members.push_back(Enum(Str("ReturnValuesOnConditionCheckFailure"), {"ALL_OLD", "NONE"}));
  return members;
}

const Shape& TransactWriteShape() {
  static const Shape shape = Struct(
      "TransactWriteItemsInput",
      {Length(
           NotNull(List(
               "TransactItems",
               Struct(
                   "TransactWriteItem",
                   {Struct("ConditionCheck", ActionMembers({NotNull(AttrMap("Key")),
                                                            NotNull(Str("ConditionExpression"))})),
                    Struct("Put",
                           ActionMembers({NotNull(AttrMap("Item")), Str("ConditionExpression")})),
                    Struct("Delete",
                           ActionMembers({NotNull(AttrMap("Key")), Str("ConditionExpression")})),
                    Struct("Update",
                           ActionMembers({NotNull(AttrMap("Key")), NotNull(Str("UpdateExpression")),
                                          Str("ConditionExpression")}))}))),
           1, kMaxTransactItems),
       Enum(Str("ReturnConsumedCapacity"), {"INDEXES", "TOTAL", "NONE"}),
       Enum(Str("ReturnItemCollectionMetrics"), {"SIZE", "NONE"}),
       Length(Str("ClientRequestToken"), 1, 36)});
  return shape;
}

const Shape& TransactGetShape() {
  static const Shape shape = Struct(
      "TransactGetItemsInput",
      {Length(NotNull(List("TransactItems",
                           Struct("TransactGetItem",
                                  {NotNull(Struct(
                                      "Get", {NotNull(AttrMap("Key")), TableNameShape(),
                                              Str("ProjectionExpression"),
                                              Map("ExpressionAttributeNames", Str("member"))}))}))),
              1, kMaxTransactItems),
       Enum(Str("ReturnConsumedCapacity"), {"INDEXES", "TOTAL", "NONE"})});
  return shape;
}

Status MultipleOperationsOnOneItem() {
  return ValidationError("Transaction request cannot include multiple operations on one item");
}

enum class ActionKind { kConditionCheck, kPut, kDelete, kUpdate };

struct Action {
  ActionKind kind = ActionKind::kPut;
  const json::Value* params = nullptr;
  std::shared_ptr<const storage::TableDef> table;
  Item key;
  Item item;  // kPut
  expr::Condition condition;
  expr::Update update;  // kUpdate
};

// Reads and checks one TransactWriteItem: exactly one action, its expressions, table and key.
Result<Action> ReadAction(ApiContext& ctx, const json::Value& entry) {
  static constexpr std::pair<const char*, ActionKind> kKinds[] = {
      {"ConditionCheck", ActionKind::kConditionCheck},
      {"Put", ActionKind::kPut},
      {"Delete", ActionKind::kDelete},
      {"Update", ActionKind::kUpdate}};
  Action a;
  int present = 0;
  for (const auto& [name, kind] : kKinds) {
    if (const json::Value* v = Member(entry, name)) {
      ++present;
      a.kind = kind;
      a.params = v;
    }
  }
  if (present == 0) {
    return ValidationError(
        "Invalid Request: TransactWriteRequest should contain Delete or Put or Update request");
  }
  if (present > 1) {
    return ValidationError("TransactItems can only contain one of Check, Put, Update or Delete");
  }
  const json::Value& p = *a.params;
  std::vector<std::string_view> exprs = {"ConditionExpression"};
  if (a.kind == ActionKind::kUpdate) exprs = {"UpdateExpression", "ConditionExpression"};
  CRUDDUR_ASSIGN_OR_RETURN(expr::ExpressionAttributes attrs,
                           ReadExpressionAttributes(p, exprs, exprs));
  if (a.kind == ActionKind::kUpdate) {
    const json::Value& text = p["UpdateExpression"];
    CRUDDUR_ASSIGN_OR_RETURN(
        a.update,
        expr::ParseUpdate(std::string_view(text.GetString(), text.GetStringLength()), &attrs));
  }
  CRUDDUR_ASSIGN_OR_RETURN(a.condition, ParseOptionalCondition(p, "ConditionExpression", &attrs));
  CRUDDUR_RETURN_IF_ERROR(expr::CheckAllAttributesUsed(attrs));
  CRUDDUR_ASSIGN_OR_RETURN(a.table, FindTable(ctx, StringMember(p, "TableName")));
  if (a.kind == ActionKind::kPut) {
    CRUDDUR_ASSIGN_OR_RETURN(a.item, DecodeItem(p["Item"]));
    CRUDDUR_RETURN_IF_ERROR(CheckItemForWrite(*a.table, a.item));
    a.key = ExtractKey(a.table->key, a.item);
  } else {
    CRUDDUR_ASSIGN_OR_RETURN(a.key, DecodeKey(*a.table, p["Key"]));
  }
  if (a.kind == ActionKind::kUpdate) {
    CRUDDUR_RETURN_IF_ERROR(CheckUpdateKeepsKey(*a.table, a.update));
  }
  return a;
}

// One CancellationReason (API Reference, "CancellationReason").
struct Reason {
  std::string code = "None";
  std::string message;
  std::optional<Item> item;
};

// The item an action leaves (nullopt: none), or a cancellation reason for this action.
// Run-time failures of an action's expressions against the stored item are reported as the
// action's "ValidationError" reason, as DynamoDB does.
Status Evaluate(const Action& a, const std::optional<Item>& old, std::optional<Item>* result,
                Reason* reason) {
  auto holds = ConditionHolds(a.condition, old);
  if (!holds.ok() && holds.status().code() != ErrorCode::kValidation) return holds.TakeStatus();
  if (!holds.ok() || !*holds) {
    if (!holds.ok()) {
      reason->code = "ValidationError";
      reason->message = holds.status().message();
      return Status::Ok();
    }
    reason->code = "ConditionalCheckFailed";
    reason->message = "The conditional request failed";
    if (old && StringMember(*a.params, "ReturnValuesOnConditionCheckFailure") == "ALL_OLD") {
      reason->item = *old;
    }
    return Status::Ok();
  }
  switch (a.kind) {
    case ActionKind::kConditionCheck:
      *result = old;
      break;
    case ActionKind::kPut:
      *result = a.item;
      break;
    case ActionKind::kDelete:
      result->reset();
      break;
    case ActionKind::kUpdate: {
      auto updated = ApplyUpdateTo(*a.table, a.update, old, a.key);
      if (!updated.ok()) {
        if (updated.status().code() != ErrorCode::kValidation) return updated.TakeStatus();
        reason->code = "ValidationError";
        reason->message = updated.status().message();
        return Status::Ok();
      }
      *result = std::move(updated).value();
      break;
    }
  }
  return Status::Ok();
}

Status Cancelled(const std::vector<Reason>& reasons) {
  std::string codes;
  json::StringBuffer buf;
  json::Writer w(buf);
  w.StartArray();
  for (const auto& r : reasons) {
    codes += (codes.empty() ? "" : ", ") + r.code;
    w.StartObject();
    if (r.item) {
      w.Key("Item");
      WriteItem(*r.item, &w);
    }
    w.Key("Code");
    WriteString(&w, r.code);
    if (!r.message.empty()) {
      w.Key("Message");
      WriteString(&w, r.message);
    }
    w.EndObject();
  }
  w.EndArray();
  return Status(ErrorCode::kTransactionCanceled,
                "Transaction cancelled, please refer cancellation reasons for specific reasons [" +
                    codes + "]")
      .WithDetails("\"CancellationReasons\":" + std::string(buf.GetString(), buf.GetSize()));
}

// Ends an IdempotencyCache entry on every path out of TransactWriteItems.
class TokenScope {
 public:
  TokenScope(ApiContext& ctx, std::string_view token) : ctx_(ctx), token_(token) {}
  ~TokenScope() {
    if (ctx_.idempotency != nullptr)
      ctx_.idempotency->Finish(token_, succeeded_, ctx_.now_micros());
  }
  void Succeeded() { succeeded_ = true; }

 private:
  ApiContext& ctx_;
  std::string_view token_;
  bool succeeded_ = false;
};

// A replayed request is answered as a success; its capacity is the reads of the items it names
// (API Reference, TransactWriteItems "ClientRequestToken": "Subsequent TransactWriteItems calls
// with the same client token return the number of read capacity units consumed in reading the
// item"), priced as transactional reads, two units per 4 KB, as DynamoDB Local charges them.
Status AnswerReplay(ApiContext& ctx, const json::Value& request, const std::vector<Action>& actions,
                    json::Writer* out) {
  CapacityMode mode = ReadCapacityMode(request);
  std::vector<ConsumedCapacity> capacity;
  if (mode != CapacityMode::kNone) {
    std::vector<std::pair<const storage::TableDef*, Item>> keys;
    for (const auto& a : actions) keys.emplace_back(a.table.get(), a.key);
    CRUDDUR_ASSIGN_OR_RETURN(std::vector<std::optional<Item>> items, ctx.engine->GetMany(keys));
    for (size_t i = 0; i < actions.size(); ++i) {
      CapacityFor(&capacity, actions[i].table->name).table_units +=
          2 * ReadUnits(items[i] ? ItemSize(*items[i]) : 0, true);
    }
  }
  out->StartObject();
  WriteCapacityList(mode, capacity, out);
  out->EndObject();
  return Status::Ok();
}

}  // namespace

Status TransactWriteItems(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, TransactWriteShape()));
  std::vector<Action> actions;
  for (const auto& entry : request["TransactItems"].GetArray()) {
    CRUDDUR_ASSIGN_OR_RETURN(Action a, ReadAction(ctx, entry));
    for (const auto& earlier : actions) {
      if (earlier.table->name == a.table->name && earlier.key == a.key) {
        return MultipleOperationsOnOneItem();
      }
    }
    actions.push_back(std::move(a));
  }

  std::string_view token = StringMember(request, "ClientRequestToken");
  std::optional<TokenScope> token_scope;
  if (!token.empty() && ctx.idempotency != nullptr) {
    // The request is what it writes: ReturnConsumedCapacity and ReturnItemCollectionMetrics
    // only shape the answer, so a replay may ask for them differently (DynamoDB Local accepts
    // such a replay; the API Reference has replays "return the number of read capacity units").
    const std::string fingerprint = json::ToString(request["TransactItems"]);
    switch (ctx.idempotency->Begin(token, fingerprint, ctx.now_micros())) {
      case IdempotencyCache::Outcome::kFirst:
        token_scope.emplace(ctx, token);
        break;
      case IdempotencyCache::Outcome::kReplay:
        return AnswerReplay(ctx, request, actions, out);
      case IdempotencyCache::Outcome::kMismatch:
        return Status(ErrorCode::kIdempotentParameterMismatch,
                      "The request with the client token " + std::string(token) +
                          " does not match the parameters of the original request");
      case IdempotencyCache::Outcome::kInProgress:
        return Status(ErrorCode::kTransactionInProgress,
                      "The transaction with the given request token is already in progress.");
    }
  }

  std::vector<std::pair<std::shared_ptr<const storage::TableDef>, Item>> keys;
  keys.reserve(actions.size());
  for (const auto& a : actions) keys.emplace_back(a.table, a.key);
  auto batch = ctx.engine->BeginWrite(std::move(keys));

  std::vector<Reason> reasons(actions.size());
  std::vector<std::optional<Item>> olds(actions.size()), results(actions.size());
  bool cancelled = false;
  for (size_t i = 0; i < actions.size(); ++i) {
    CRUDDUR_ASSIGN_OR_RETURN(olds[i], batch->Read(*actions[i].table, actions[i].key));
    CRUDDUR_RETURN_IF_ERROR(Evaluate(actions[i], olds[i], &results[i], &reasons[i]));
    cancelled = cancelled || reasons[i].code != "None";
  }
  if (cancelled) return Cancelled(reasons);

  std::vector<ConsumedCapacity> capacity;
  for (size_t i = 0; i < actions.size(); ++i) {
    const Action& a = actions[i];
    ConsumedCapacity& cc = CapacityFor(&capacity, a.table->name);
    if (a.kind == ActionKind::kConditionCheck) {
      cc.table_units += 2 * ReadUnits(olds[i] ? ItemSize(*olds[i]) : 0, true);
      continue;
    }
    AddCapacity(WriteCapacity(*a.table, olds[i], results[i]), 2, &cc);
    if (results[i]) {
      batch->Put(*a.table, std::move(*results[i]));
    } else {
      batch->Delete(*a.table, a.key);
    }
  }
  Status st = batch->Commit();
  if (st.code() == ErrorCode::kResourceNotFound)
    return NotFoundError("Requested resource not found");
  CRUDDUR_RETURN_IF_ERROR(st);
  if (token_scope) token_scope->Succeeded();
  ItemCollectionMetricsList collections;
  if (WantsItemCollectionMetrics(request)) {
    for (const auto& a : actions) {
      if (a.kind != ActionKind::kConditionCheck) collections.Add(*batch, *a.table, a.key);
    }
  }

  out->StartObject();
  WriteCapacityList(ReadCapacityMode(request), capacity, out);
  collections.WriteMember(out);
  out->EndObject();
  return Status::Ok();
}

Status TransactGetItems(ApiContext& ctx, const json::Value& request, json::Writer* out) {
  CRUDDUR_RETURN_IF_ERROR(CheckShape(request, TransactGetShape()));
  struct Get {
    std::shared_ptr<const storage::TableDef> table;
    Item key;
    std::optional<expr::Projection> projection;
  };
  std::vector<Get> gets;
  for (const auto& entry : request["TransactItems"].GetArray()) {
    const json::Value& p = entry["Get"];
    Get g;
    CRUDDUR_ASSIGN_OR_RETURN(expr::ExpressionAttributes attrs,
                             ReadExpressionAttributes(p, {}, {"ProjectionExpression"}));
    CRUDDUR_ASSIGN_OR_RETURN(g.projection, ParseOptionalProjection(p, &attrs));
    CRUDDUR_RETURN_IF_ERROR(expr::CheckAllAttributesUsed(attrs));
    CRUDDUR_ASSIGN_OR_RETURN(g.table, FindTable(ctx, StringMember(p, "TableName")));
    CRUDDUR_ASSIGN_OR_RETURN(g.key, DecodeKey(*g.table, p["Key"]));
    for (const auto& earlier : gets) {
      if (earlier.table->name == g.table->name && earlier.key == g.key) {
        return MultipleOperationsOnOneItem();
      }
    }
    gets.push_back(std::move(g));
  }
  std::vector<std::pair<const storage::TableDef*, Item>> keys;
  keys.reserve(gets.size());
  for (const auto& g : gets) keys.emplace_back(g.table.get(), g.key);
  CRUDDUR_ASSIGN_OR_RETURN(std::vector<std::optional<Item>> items, ctx.engine->GetMany(keys));

  std::vector<ConsumedCapacity> capacity;
  for (size_t i = 0; i < gets.size(); ++i) {
    CapacityFor(&capacity, gets[i].table->name).table_units +=
        2 * ReadUnits(items[i] ? ItemSize(*items[i]) : 0, true);
  }
  out->StartObject();
  WriteCapacityList(ReadCapacityMode(request), capacity, out);
  out->Key("Responses");
  out->StartArray();
  for (size_t i = 0; i < gets.size(); ++i) {
    out->StartObject();
    if (items[i]) {
      out->Key("Item");
      WriteItem(
          gets[i].projection ? expr::ApplyProjection(*gets[i].projection, *items[i]) : *items[i],
          out);
    }
    out->EndObject();
  }
  out->EndArray();
  out->EndObject();
  return Status::Ok();
}

}  // namespace cruddur::dynamo::api
