#include "dynamo/storage/engine.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "dynamo/model/item_codec.h"

namespace cruddur::dynamo::storage {
namespace {

AttributeValue S(std::string v) { return AttributeValue::S(std::move(v)); }
AttributeValue B(std::string v) { return AttributeValue::B(std::move(v)); }
AttributeValue N(std::string_view v) { return AttributeValue::N(Decimal::Parse(v).value()); }
AttributeValue N(int64_t v) { return AttributeValue::N(Decimal::FromInt(v)); }

std::string EncodedRecord(const Item& item) {
  std::string record;
  EncodeItem(item, &record);
  return record;
}

KeySchema Schema(std::string hash, AttrType hash_type, std::optional<std::string> range = {},
                 AttrType range_type = AttrType::kS) {
  KeySchema schema{{std::move(hash), hash_type}, std::nullopt};
  if (range) schema.range = KeyAttribute{std::move(*range), range_type};
  return schema;
}

// Also checks that each record, read before the item is decoded, holds that item and its size.
std::vector<Item> Drain(ItemIterator* it) {
  std::vector<Item> items;
  while (it->Next()) {
    Result<Item> from_record = DecodeItem(it->record());
    const size_t size = it->size();
    EXPECT_EQ(size, ItemSize(it->item()));
    EXPECT_TRUE(from_record.ok() && *from_record == it->item());
    EXPECT_EQ(it->record(), std::string_view(EncodedRecord(it->item())));
    items.push_back(it->item());
  }
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  return items;
}

// Runs each test against a real on-disk database and against the in-memory Env.
class EngineTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/storage_test.XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
    Reopen();
  }
  void TearDown() override {
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }
  bool in_memory() const { return GetParam(); }
  void Reopen() {
    engine_.reset();
    auto opened = Engine::Open({.path = dir_ + "/db", .in_memory = in_memory()});
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = std::move(opened).value();
  }

  std::shared_ptr<const TableDef> Create(TableDef def) {
    std::string name = def.name;
    Status status = engine_->CreateTable(std::move(def));
    EXPECT_TRUE(status.ok()) << status.ToString();
    return engine_->GetTable(name);
  }
  std::shared_ptr<const TableDef> CreateSimple(const std::string& name, KeySchema key) {
    return Create({.name = name, .key = std::move(key)});
  }

  // Key attributes of `item` under the table's schema.
  static Item KeyOf(const TableDef& table, const Item& item) {
    Item key;
    key.insert(*item.find(table.key.hash.name));
    if (table.key.range) key.insert(*item.find(table.key.range->name));
    return key;
  }

  void Put(const std::shared_ptr<const TableDef>& table, Item item) {
    auto batch = engine_->BeginWrite({{table, KeyOf(*table, item)}});
    batch->Put(*table, std::move(item));
    Status status = batch->Commit();
    ASSERT_TRUE(status.ok()) << status.ToString();
  }
  void Delete(const std::shared_ptr<const TableDef>& table, const Item& key) {
    auto batch = engine_->BeginWrite({{table, key}});
    batch->Delete(*table, key);
    Status status = batch->Commit();
    ASSERT_TRUE(status.ok()) << status.ToString();
  }
  std::optional<Item> Get(const TableDef& table, const Item& key) {
    auto item = engine_->Get(table, key);
    EXPECT_TRUE(item.ok()) << item.status().ToString();
    return item.ok() ? std::move(item).value() : std::nullopt;
  }

  std::string dir_;
  std::unique_ptr<Engine> engine_;
};

TEST_P(EngineTest, CreateListDeleteTables) {
  CreateSimple("b", Schema("pk", AttrType::kS));
  auto a = CreateSimple("a", Schema("pk", AttrType::kN, "sk", AttrType::kB));
  EXPECT_EQ(engine_->ListTables(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(a->key, Schema("pk", AttrType::kN, "sk", AttrType::kB));
  EXPECT_NE(a->id, engine_->GetTable("b")->id);

  EXPECT_EQ(engine_->CreateTable({.name = "a", .key = Schema("x", AttrType::kS)}).code(),
            ErrorCode::kResourceInUse);
  ASSERT_TRUE(engine_->SetTableMeta("a", "{\"desc\":1}").ok());
  EXPECT_EQ(engine_->GetTable("a")->meta, "{\"desc\":1}");
  EXPECT_EQ(a->meta, "");  // the old snapshot is unchanged
  EXPECT_EQ(engine_->SetTableMeta("zz", "").code(), ErrorCode::kResourceNotFound);

  ASSERT_TRUE(engine_->DeleteTable("a").ok());
  EXPECT_EQ(engine_->GetTable("a"), nullptr);
  EXPECT_EQ(engine_->DeleteTable("a").code(), ErrorCode::kResourceNotFound);
  EXPECT_EQ(engine_->ListTables(), (std::vector<std::string>{"b"}));
}

TEST_P(EngineTest, PutGetOverwriteDelete) {
  auto t = CreateSimple("t", Schema("pk", AttrType::kS, "sk", AttrType::kN));
  Item item{{"pk", S("a")}, {"sk", N(1)}, {"v", S("one")}};
  Put(t, item);
  EXPECT_EQ(Get(*t, {{"pk", S("a")}, {"sk", N(1)}}), item);
  EXPECT_EQ(Get(*t, {{"pk", S("a")}, {"sk", N("1.0")}}), item);  // numbers compare numerically
  EXPECT_EQ(Get(*t, {{"pk", S("a")}, {"sk", N(2)}}), std::nullopt);
  EXPECT_EQ(Get(*t, {{"pk", S("b")}, {"sk", N(1)}}), std::nullopt);

  Item replaced{{"pk", S("a")}, {"sk", N(1)}, {"w", AttributeValue::Bool(true)}};
  Put(t, replaced);
  EXPECT_EQ(Get(*t, {{"pk", S("a")}, {"sk", N(1)}}), replaced);
  EXPECT_EQ(engine_->Stats(*t).item_count, 1);
  EXPECT_EQ(engine_->Stats(*t).size_bytes, static_cast<int64_t>(ItemSize(replaced)));

  Delete(t, {{"pk", S("a")}, {"sk", N(1)}});
  EXPECT_EQ(Get(*t, {{"pk", S("a")}, {"sk", N(1)}}), std::nullopt);
  EXPECT_EQ(engine_->Stats(*t).item_count, 0);
  EXPECT_EQ(engine_->Stats(*t).size_bytes, 0);
  // Deleting an absent item changes nothing.
  Delete(t, {{"pk", S("a")}, {"sk", N(1)}});
  EXPECT_EQ(engine_->Stats(*t).item_count, 0);
}

TEST_P(EngineTest, KeyValidation) {
  auto t = CreateSimple("t", Schema("pk", AttrType::kS, "sk", AttrType::kN));
  auto missing = engine_->Get(*t, {{"pk", S("a")}});
  EXPECT_EQ(missing.status().code(), ErrorCode::kValidation);
  auto wrong = engine_->Get(*t, {{"pk", S("a")}, {"sk", S("1")}});
  EXPECT_EQ(wrong.status().code(), ErrorCode::kValidation);
  EXPECT_EQ(wrong.status().message(),
            "One or more parameter values were invalid: Type mismatch for key sk expected: N "
            "actual: S");

  // A write to a key that was not locked fails the whole batch.
  auto batch = engine_->BeginWrite({{t, {{"pk", S("a")}, {"sk", N(1)}}}});
  batch->Put(*t, {{"pk", S("a")}, {"sk", N(1)}});
  batch->Put(*t, {{"pk", S("a")}, {"sk", N(2)}});
  EXPECT_EQ(batch->Commit().code(), ErrorCode::kInternal);
  batch.reset();
  EXPECT_EQ(Get(*t, {{"pk", S("a")}, {"sk", N(1)}}), std::nullopt);
}

// Checks every SortRange kind over `values` (distinct, in ascending sort-key order) with
// each value as the operand, in both directions, plus exclusive start keys.
void CheckSortOrder(
    Engine* engine, const std::shared_ptr<const TableDef>& t,
    const std::vector<AttributeValue>& values,
    const std::function<bool(const AttributeValue&, const AttributeValue&)>& starts_with) {
  auto sort_keys = [](const std::vector<Item>& items) {
    std::vector<AttributeValue> keys;
    for (const Item& item : items) keys.push_back(item.at("sk"));
    return keys;
  };
  auto query = [&](const SortRange& range, bool forward, const Item* start = nullptr) {
    auto it = engine->Query(*t, nullptr, S("p"), range, forward, start);
    return sort_keys(Drain(it.get()));
  };
  auto expect = [&](const SortRange& range, const std::function<bool(size_t)>& in_range,
                    const std::string& what) {
    std::vector<AttributeValue> expected;
    for (size_t i = 0; i < values.size(); ++i) {
      if (in_range(i)) expected.push_back(values[i]);
    }
    EXPECT_EQ(query(range, true), expected) << what;
    std::reverse(expected.begin(), expected.end());
    EXPECT_EQ(query(range, false), expected) << what << " (backward)";
  };

  EXPECT_EQ(query(SortRange::All(), true), values);
  for (size_t p = 0; p < values.size(); ++p) {
    const AttributeValue& v = values[p];
    std::string label = "pivot " + std::to_string(p);
    expect(
        SortRange::Eq(v), [&](size_t i) { return i == p; }, "Eq " + label);
    expect(
        SortRange::Lt(v), [&](size_t i) { return i < p; }, "Lt " + label);
    expect(
        SortRange::Le(v), [&](size_t i) { return i <= p; }, "Le " + label);
    expect(
        SortRange::Gt(v), [&](size_t i) { return i > p; }, "Gt " + label);
    expect(
        SortRange::Ge(v), [&](size_t i) { return i >= p; }, "Ge " + label);
    for (size_t q = p; q < values.size(); q += 3) {
      expect(
          SortRange::Between(v, values[q]), [&](size_t i) { return i >= p && i <= q; },
          "Between " + label);
    }
    if (starts_with) {
      expect(
          SortRange::BeginsWith(v), [&](size_t i) { return starts_with(values[i], v); },
          "BeginsWith " + label);
    }
    // Exclusive start keys resume strictly after (or before, backward) the given key.
    Item start{{"pk", S("p")}, {"sk", v}};
    std::vector<AttributeValue> after(values.begin() + p + 1, values.end());
    EXPECT_EQ(query(SortRange::All(), true, &start), after) << label;
    std::vector<AttributeValue> before(values.begin(), values.begin() + p);
    std::reverse(before.begin(), before.end());
    EXPECT_EQ(query(SortRange::All(), false, &start), before) << label;
  }
}

void PutAll(Engine* engine, const std::shared_ptr<const TableDef>& t,
            const std::vector<AttributeValue>& sort_values) {
  // Insert in a scrambled order, plus neighbouring partitions that must never show up.
  std::vector<size_t> order(sort_values.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = (i * 7) % order.size();
  std::set<size_t> seen(order.begin(), order.end());
  ASSERT_EQ(seen.size(), order.size());
  for (const std::string pk : {"o", "p", "p\x01", "q", "pp"}) {
    for (size_t i : order) {
      auto batch = engine->BeginWrite({{t, {{"pk", S(pk)}, {"sk", sort_values[i]}}}});
      batch->Put(*t, {{"pk", S(pk)}, {"sk", sort_values[i]}, {"x", S("y")}});
      ASSERT_TRUE(batch->Commit().ok());
    }
  }
}

TEST_P(EngineTest, QueryOrderStrings) {
  auto t = CreateSimple("t", Schema("pk", AttrType::kS, "sk", AttrType::kS));
  std::vector<AttributeValue> values;
  for (std::string v : {std::string("A"), std::string("Z"), std::string("a"), std::string("a\0", 2),
                        std::string("a\0\0", 3), std::string("a\0b", 3), std::string("a\x01", 2),
                        std::string("ab"), std::string("abc"), std::string("abd"), std::string("b"),
                        std::string("\xc3\xa9"), std::string("\xff")}) {
    values.push_back(S(v));
  }
  PutAll(engine_.get(), t, values);
  CheckSortOrder(engine_.get(), t, values, [](const AttributeValue& v, const AttributeValue& p) {
    return v.str.starts_with(p.str);
  });
}

// A partition larger than the descending-read probe (RangeIterator::kProbeLimit = 64), so
// descending queries over most of it step back with Prev while narrow ones are served from the
// forward probe: both paths must give the same order.
TEST_P(EngineTest, QueryOrderLargePartition) {
  auto t = CreateSimple("t", Schema("pk", AttrType::kS, "sk", AttrType::kS));
  std::vector<AttributeValue> values;
  for (int i = 0; i < 100; ++i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "k%03d", i);
    values.push_back(S(buf));
  }
  PutAll(engine_.get(), t, values);
  CheckSortOrder(engine_.get(), t, values, [](const AttributeValue& v, const AttributeValue& p) {
    return v.str.starts_with(p.str);
  });
}

TEST_P(EngineTest, QueryOrderBinary) {
  auto t = CreateSimple("t", Schema("pk", AttrType::kS, "sk", AttrType::kB));
  std::vector<AttributeValue> values;
  for (std::string v :
       {std::string("\0", 1), std::string("\0\0", 2), std::string("\0\xff", 2), std::string("\x01"),
        std::string("\x7f"), std::string("\x80"), std::string("\x80\0", 2), std::string("\xfe\xff"),
        std::string("\xff"), std::string("\xff\xff")}) {
    values.push_back(B(v));
  }
  PutAll(engine_.get(), t, values);
  CheckSortOrder(engine_.get(), t, values, [](const AttributeValue& v, const AttributeValue& p) {
    return v.str.starts_with(p.str);
  });
}

TEST_P(EngineTest, QueryOrderNumbers) {
  auto t = CreateSimple("t", Schema("pk", AttrType::kS, "sk", AttrType::kN));
  std::vector<AttributeValue> values;
  for (std::string_view v : {"-9.9999999999999999999999999999999999999e125",
                             "-1e100",
                             "-123456789012345678901234",
                             "-10",
                             "-2",
                             "-1.5",
                             "-1",
                             "-0.5",
                             "-0.01",
                             "-1e-130",
                             "0",
                             "1e-130",
                             "1e-10",
                             "0.001",
                             "0.5",
                             "1",
                             "1.5",
                             "2",
                             "10",
                             "11",
                             "100",
                             "1234567890123456789012345678901234567.8",
                             "1e100",
                             "9.9999999999999999999999999999999999999e125"}) {
    values.push_back(N(v));
  }
  PutAll(engine_.get(), t, values);
  CheckSortOrder(engine_.get(), t, values, nullptr);
}

TEST_P(EngineTest, QueryHashOnlyTableAndWrongTypes) {
  auto t = CreateSimple("t", Schema("pk", AttrType::kN));
  Put(t, {{"pk", N(5)}, {"a", S("x")}});
  Put(t, {{"pk", N(6)}});
  auto it = engine_->Query(*t, nullptr, N("5.0"), SortRange::All(), true, nullptr);
  EXPECT_EQ(Drain(it.get()), (std::vector<Item>{{{"pk", N(5)}, {"a", S("x")}}}));
  it = engine_->Query(*t, nullptr, S("5"), SortRange::All(), true, nullptr);
  EXPECT_FALSE(it->Next());
  EXPECT_EQ(it->status().code(), ErrorCode::kValidation);
  it = engine_->Query(*t, nullptr, N(5), SortRange::Eq(N(1)), true, nullptr);
  EXPECT_FALSE(it->Next());
  EXPECT_EQ(it->status().code(), ErrorCode::kValidation);
}

TEST_P(EngineTest, QueryRejectsStartKeyOutsideCondition) {
  auto t = CreateSimple("t", Schema("pk", AttrType::kS, "sk", AttrType::kN));
  for (int i = 0; i < 5; ++i) Put(t, {{"pk", S("p")}, {"sk", N(i)}});
  auto status_of = [&](const SortRange& range, const Item& start) {
    auto it = engine_->Query(*t, nullptr, S("p"), range, true, &start);
    while (it->Next()) {
    }
    return it->status();
  };
  Status other_partition = status_of(SortRange::All(), {{"pk", S("q")}, {"sk", N(1)}});
  EXPECT_EQ(other_partition.code(), ErrorCode::kValidation);
  EXPECT_EQ(other_partition.message(),
            "The provided starting key is outside query boundaries based on provided condition");
  EXPECT_EQ(status_of(SortRange::Gt(N(2)), {{"pk", S("p")}, {"sk", N(1)}}).code(),
            ErrorCode::kValidation);
  EXPECT_TRUE(status_of(SortRange::Gt(N(2)), {{"pk", S("p")}, {"sk", N(3)}}).ok());
  EXPECT_EQ(status_of(SortRange::All(), {{"pk", S("p")}}).message(),
            "The provided starting key is invalid");
  // A start key need not name an existing item.
  Item between{{"pk", S("p")}, {"sk", N("2.5")}};
  auto it = engine_->Query(*t, nullptr, S("p"), SortRange::All(), true, &between);
  EXPECT_EQ(Drain(it.get()).size(), 2u);
}

TEST_P(EngineTest, ScanSegmentsCoverEveryItemOnce) {
  auto t = CreateSimple("t", Schema("pk", AttrType::kS, "sk", AttrType::kN));
  auto other = CreateSimple("other", Schema("pk", AttrType::kS));
  std::set<std::pair<std::string, std::string>> all;
  for (int p = 0; p < 60; ++p) {
    for (int s = 0; s < 5; ++s) {
      Put(t, {{"pk", S("user#" + std::to_string(p))}, {"sk", N(s)}});
      all.emplace("user#" + std::to_string(p), std::to_string(s));
    }
    Put(other, {{"pk", S("user#" + std::to_string(p))}});
  }
  for (int total : {1, 2, 3, 7, 64}) {
    std::multiset<std::pair<std::string, std::string>> seen;
    int nonempty_segments = 0;
    for (int segment = 0; segment < total; ++segment) {
      auto it = engine_->Scan(*t, nullptr, segment, total, nullptr);
      auto items = Drain(it.get());
      if (!items.empty()) ++nonempty_segments;
      for (const Item& item : items) {
        seen.emplace(item.at("pk").str, item.at("sk").num.ToString());
      }
    }
    EXPECT_EQ(seen.size(), all.size()) << total;
    EXPECT_EQ(std::set(seen.begin(), seen.end()), all) << total;
    if (total <= 7) {
      EXPECT_EQ(nonempty_segments, total) << "hash spread";
    }
  }
  // Paging with exclusive start keys, two items at a time, sees everything once in order.
  std::vector<Item> paged;
  std::optional<Item> last;
  for (;;) {
    auto it = engine_->Scan(*t, nullptr, 0, 1, last ? &*last : nullptr);
    int n = 0;
    while (n < 2 && it->Next()) {
      paged.push_back(it->item());
      ++n;
    }
    if (n == 0) break;
    last = paged.back();
  }
  auto it = engine_->Scan(*t, nullptr, 0, 1, nullptr);
  EXPECT_EQ(paged, Drain(it.get()));
  // Items of one partition stay together in sort order within a Scan.
  std::map<std::string, std::vector<std::string>> by_partition;
  for (const Item& item : paged)
    by_partition[item.at("pk").str].push_back(item.at("sk").num.ToString());
  for (const auto& [pk, sks] : by_partition) {
    EXPECT_EQ(sks, (std::vector<std::string>{"0", "1", "2", "3", "4"})) << pk;
  }
  EXPECT_EQ(engine_->Scan(*t, nullptr, 3, 3, nullptr)->status().code(), ErrorCode::kValidation);
  // A start key must lie in the requested segment.
  Item start = paged.front();
  int in_segment = -1;
  for (int segment = 0; segment < 4 && in_segment < 0; ++segment) {
    auto probe = engine_->Scan(*t, nullptr, segment, 4, nullptr);
    if (probe->Next() && probe->item() == start) in_segment = segment;
  }
  ASSERT_EQ(in_segment, 0);
  auto wrong = engine_->Scan(*t, nullptr, 1, 4, &start);
  EXPECT_FALSE(wrong->Next());
  EXPECT_EQ(wrong->status().message(),
            "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use "
            "ExclusiveStartKey with correct Segment. TotalSegments: 4 Segment: 1");
  EXPECT_EQ(Drain(engine_->Scan(*t, nullptr, 0, 4, &start).get()).size() + 1,
            Drain(engine_->Scan(*t, nullptr, 0, 4, nullptr).get()).size());
}

TableDef IndexedTable() {
  TableDef def{.name = "msgs", .key = Schema("pk", AttrType::kS, "sk", AttrType::kS)};
  def.gsis.push_back({.name = "keys",
                      .key = Schema("g", AttrType::kS, "gs", AttrType::kN),
                      .projection = ProjectionType::kKeysOnly});
  def.gsis.push_back({.name = "include",
                      .key = Schema("g", AttrType::kS),
                      .projection = ProjectionType::kInclude,
                      .non_key_attributes = {"x", "missing"}});
  def.gsis.push_back(
      {.name = "all", .key = Schema("gs", AttrType::kN), .projection = ProjectionType::kAll});
  def.lsis.push_back({.name = "local",
                      .key = Schema("pk", AttrType::kS, "x", AttrType::kS),
                      .projection = ProjectionType::kAll});
  return def;
}

TEST_P(EngineTest, SecondaryIndexes) {
  auto t = Create(IndexedTable());
  const IndexDef* keys = t->FindIndex("keys");
  const IndexDef* include = t->FindIndex("include");
  const IndexDef* all = t->FindIndex("all");
  const IndexDef* local = t->FindIndex("local");
  ASSERT_TRUE(keys && include && all && local);
  EXPECT_EQ(t->FindIndex("nope"), nullptr);
  std::set<uint32_t> ids{keys->id, include->id, all->id, local->id};
  EXPECT_EQ(ids.size(), 4u);

  Item full{{"pk", S("u1")}, {"sk", S("m1")}, {"g", S("grp")},
            {"gs", N(3)},    {"x", S("xv")},  {"y", S("yv")}};
  Put(t, full);
  Put(t, {{"pk", S("u1")}, {"sk", S("m2")}, {"g", S("grp")}, {"gs", N(1)}});
  Put(t, {{"pk", S("u2")}, {"sk", S("m3")}, {"y", S("no index keys")}});
  Put(t, {{"pk", S("u3")}, {"sk", S("m4")}, {"g", N(7)}, {"gs", S("wrong types")}});
  Put(t, {{"pk", S("u4")}, {"sk", S("m5")}, {"g", S("grp")}});  // no gs: not in "keys"

  auto query = [&](const IndexDef* index, const AttributeValue& hash,
                   const SortRange& range = SortRange::All(), bool forward = true) {
    auto it = engine_->Query(*t, index, hash, range, forward, nullptr);
    return Drain(it.get());
  };
  EXPECT_EQ(query(keys, S("grp")),
            (std::vector<Item>{{{"pk", S("u1")}, {"sk", S("m2")}, {"g", S("grp")}, {"gs", N(1)}},
                               {{"pk", S("u1")}, {"sk", S("m1")}, {"g", S("grp")}, {"gs", N(3)}}}));
  EXPECT_EQ(query(keys, S("grp"), SortRange::Gt(N(2))).size(), 1u);
  auto included = query(include, S("grp"));
  ASSERT_EQ(included.size(), 3u);  // ordered by table key within equal index keys
  EXPECT_EQ(included[0], (Item{{"pk", S("u1")}, {"sk", S("m1")}, {"g", S("grp")}, {"x", S("xv")}}));
  EXPECT_EQ(included[2], (Item{{"pk", S("u4")}, {"sk", S("m5")}, {"g", S("grp")}}));
  EXPECT_EQ(query(all, N(3)), (std::vector<Item>{full}));
  EXPECT_EQ(query(local, S("u1")), (std::vector<Item>{full}));
  EXPECT_TRUE(query(keys, S("nothing")).empty());
  EXPECT_EQ(Drain(engine_->Scan(*t, nullptr, 0, 1, nullptr).get()).size(), 5u);
  EXPECT_EQ(Drain(engine_->Scan(*t, keys, 0, 1, nullptr).get()).size(), 2u);
  EXPECT_EQ(Drain(engine_->Scan(*t, include, 0, 1, nullptr).get()).size(), 3u);

  // Exclusive start key on an index: table keys plus index keys.
  Item start{{"pk", S("u1")}, {"sk", S("m2")}, {"g", S("grp")}, {"gs", N(1)}};
  auto it = engine_->Query(*t, keys, S("grp"), SortRange::All(), true, &start);
  EXPECT_EQ(Drain(it.get()).size(), 1u);
  Item bad_start{{"pk", S("u1")}, {"sk", S("m2")}};
  it = engine_->Query(*t, keys, S("grp"), SortRange::All(), true, &bad_start);
  EXPECT_FALSE(it->Next());
  EXPECT_EQ(it->status().code(), ErrorCode::kValidation);

  // Changing an index key moves the entry; removing it removes the entry; non-key
  // attribute changes show up in the projection.
  Item moved = full;
  moved["g"] = S("other");
  moved["x"] = S("new x");
  Put(t, moved);
  EXPECT_EQ(query(keys, S("grp")).size(), 1u);
  EXPECT_EQ(query(keys, S("other")).size(), 1u);
  EXPECT_EQ(query(include, S("other"))[0].at("x"), S("new x"));
  EXPECT_EQ(query(all, N(3)), (std::vector<Item>{moved}));
  EXPECT_EQ(query(local, S("u1"), SortRange::Eq(S("new x"))), (std::vector<Item>{moved}));
  EXPECT_TRUE(query(local, S("u1"), SortRange::Eq(S("xv"))).empty());

  Item unindexed = moved;
  unindexed.erase("g");
  unindexed.erase("x");
  Put(t, unindexed);
  EXPECT_TRUE(query(keys, S("other")).empty());
  EXPECT_TRUE(query(include, S("other")).empty());
  EXPECT_TRUE(query(local, S("u1")).empty());
  EXPECT_EQ(query(all, N(3)), (std::vector<Item>{unindexed}));

  Delete(t, {{"pk", S("u1")}, {"sk", S("m1")}});
  EXPECT_TRUE(query(all, N(3)).empty());
  Delete(t, {{"pk", S("u1")}, {"sk", S("m2")}});
  Delete(t, {{"pk", S("u4")}, {"sk", S("m5")}});
  EXPECT_TRUE(Drain(engine_->Scan(*t, keys, 0, 1, nullptr).get()).empty());
  EXPECT_TRUE(Drain(engine_->Scan(*t, include, 0, 1, nullptr).get()).empty());
}

TEST_P(EngineTest, MultiItemCommitIsAtomic) {
  auto a = CreateSimple("a", Schema("pk", AttrType::kS));
  auto b = CreateSimple("b", Schema("pk", AttrType::kN));
  Put(a, {{"pk", S("gone")}});
  auto batch = engine_->BeginWrite({{a, {{"pk", S("x")}}},
                                    {b, {{"pk", N(1)}}},
                                    {a, {{"pk", S("gone")}}},
                                    {a, {{"pk", S("read")}}}});
  auto read = batch->Read(*a, {{"pk", S("gone")}});
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, (Item{{"pk", S("gone")}}));
  EXPECT_EQ(batch->Read(*a, {{"pk", S("read")}}).value(), std::nullopt);
  batch->Put(*a, {{"pk", S("x")}, {"v", N(1)}});
  batch->Put(*b, {{"pk", N(1)}, {"v", N(2)}});
  batch->Delete(*a, {{"pk", S("gone")}});
  // Nothing is visible before Commit.
  EXPECT_EQ(Get(*a, {{"pk", S("x")}}), std::nullopt);
  EXPECT_NE(Get(*a, {{"pk", S("gone")}}), std::nullopt);
  ASSERT_TRUE(batch->Commit().ok());
  EXPECT_EQ(batch->Read(*a, {{"pk", S("gone")}}).value(), std::nullopt);
  EXPECT_EQ(batch->Commit().code(), ErrorCode::kInternal);
  batch.reset();
  auto many = engine_->GetMany(
      {{a.get(), {{"pk", S("x")}}}, {b.get(), {{"pk", N(1)}}}, {a.get(), {{"pk", S("gone")}}}});
  ASSERT_TRUE(many.ok());
  EXPECT_EQ((*many)[0], (Item{{"pk", S("x")}, {"v", N(1)}}));
  EXPECT_EQ((*many)[1], (Item{{"pk", N(1)}, {"v", N(2)}}));
  EXPECT_EQ((*many)[2], std::nullopt);
  EXPECT_EQ(engine_->Stats(*a).item_count, 1);
  EXPECT_EQ(engine_->Stats(*b).item_count, 1);

  // A failing batch writes nothing at all, not even its valid parts.
  batch = engine_->BeginWrite({{a, {{"pk", S("y")}}}, {b, {{"pk", N(2)}}}});
  batch->Put(*a, {{"pk", S("y")}});
  batch->Put(*b, {{"pk", S("wrong type")}});
  EXPECT_EQ(batch->Commit().code(), ErrorCode::kValidation);
  batch.reset();
  EXPECT_EQ(Get(*a, {{"pk", S("y")}}), std::nullopt);
}

TEST_P(EngineTest, ConcurrentReadModifyWriteLosesNothing) {
  auto t = CreateSimple("t", Schema("pk", AttrType::kS));
  Put(t, {{"pk", S("c")}, {"n", N(0)}});
  Put(t, {{"pk", S("a")}, {"n", N(1000)}});
  Put(t, {{"pk", S("b")}, {"n", N(1000)}});
  constexpr int kThreads = 6;
  constexpr int kIncrements = 150;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < kIncrements; ++j) {
        auto batch = engine_->BeginWrite({{t, {{"pk", S("c")}}}});
        Item item = *batch->Read(*t, {{"pk", S("c")}}).value();
        item["n"] = AttributeValue::N(*Decimal::Add(item["n"].num, Decimal::FromInt(1)));
        batch->Put(*t, std::move(item));
        ASSERT_TRUE(batch->Commit().ok());
        // Transfers between two keys locked in opposite orders must not deadlock.
        std::string from = i % 2 == 0 ? "a" : "b";
        std::string to = i % 2 == 0 ? "b" : "a";
        auto transfer = engine_->BeginWrite({{t, {{"pk", S(from)}}}, {t, {{"pk", S(to)}}}});
        Item f = *transfer->Read(*t, {{"pk", S(from)}}).value();
        Item g = *transfer->Read(*t, {{"pk", S(to)}}).value();
        f["n"] = AttributeValue::N(*Decimal::Sub(f["n"].num, Decimal::FromInt(1)));
        g["n"] = AttributeValue::N(*Decimal::Add(g["n"].num, Decimal::FromInt(1)));
        transfer->Put(*t, std::move(f));
        transfer->Put(*t, std::move(g));
        ASSERT_TRUE(transfer->Commit().ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(Get(*t, {{"pk", S("c")}})->at("n"), N(kThreads * kIncrements));
  Decimal a = Get(*t, {{"pk", S("a")}})->at("n").num;
  Decimal b = Get(*t, {{"pk", S("b")}})->at("n").num;
  EXPECT_EQ(*Decimal::Add(a, b), Decimal::FromInt(2000));
  EXPECT_EQ(a, Decimal::FromInt(1000));  // as many transfers each way
  EXPECT_EQ(engine_->Stats(*t).item_count, 3);
}

TEST_P(EngineTest, StatsAndDataSurviveReopen) {
  auto t = Create(IndexedTable());
  CreateSimple("empty", Schema("k", AttrType::kB));
  ASSERT_TRUE(engine_->SetTableMeta("msgs", "meta-json").ok());
  int64_t bytes = 0;
  for (int i = 0; i < 20; ++i) {
    Item item{{"pk", S("p" + std::to_string(i % 3))},
              {"sk", S(std::to_string(i))},
              {"g", S("grp")},
              {"gs", N(i)}};
    bytes += static_cast<int64_t>(ItemSize(item));
    Put(t, item);
  }
  Delete(t, {{"pk", S("p0")}, {"sk", S("0")}});
  bytes -= static_cast<int64_t>(
      ItemSize({{"pk", S("p0")}, {"sk", S("0")}, {"g", S("grp")}, {"gs", N(0)}}));
  EXPECT_EQ(engine_->Stats(*t).item_count, 19);
  EXPECT_EQ(engine_->Stats(*t).size_bytes, bytes);
  if (in_memory()) return;  // a private in-memory Env does not outlive its Engine

  TableDef before = *t;
  Reopen();
  auto reopened = engine_->GetTable("msgs");
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->id, before.id);
  EXPECT_EQ(reopened->key, before.key);
  EXPECT_EQ(reopened->meta, "meta-json");
  ASSERT_EQ(reopened->gsis.size(), 3u);
  EXPECT_EQ(reopened->gsis[1].non_key_attributes, before.gsis[1].non_key_attributes);
  EXPECT_EQ(reopened->lsis[0].id, before.lsis[0].id);
  EXPECT_EQ(engine_->ListTables(), (std::vector<std::string>{"empty", "msgs"}));
  EXPECT_EQ(engine_->Stats(*reopened).item_count, 19);
  EXPECT_EQ(engine_->Stats(*reopened).size_bytes, bytes);
  EXPECT_EQ(Drain(engine_
                      ->Query(*reopened, reopened->FindIndex("keys"), S("grp"), SortRange::All(),
                              true, nullptr)
                      .get())
                .size(),
            19u);
  // Ids keep growing after a restart: a new table never reuses one.
  auto fresh = CreateSimple("fresh", Schema("k", AttrType::kS));
  EXPECT_GT(fresh->id, reopened->id);
}

// An acknowledged commit survives the process dying without any shutdown (kill -9): the
// write-ahead log is written before Commit returns. The child is a re-executed copy of this
// test binary (threadsafe death test) that writes and then _exit()s.
TEST(EngineCrashTest, CommittedWritesSurviveProcessDeath) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // The parent picks the directory; the re-executed child finds it in the environment.
  if (getenv("CRUDDUR_STORAGE_CRASH_DIR") == nullptr) {
    char dir_template[] = "/tmp/storage_crash.XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    setenv("CRUDDUR_STORAGE_CRASH_DIR", dir_template, 1);
  }
  std::string dir = getenv("CRUDDUR_STORAGE_CRASH_DIR");
  auto write_and_die = [&] {
    auto engine = std::move(Engine::Open({.path = dir + "/db"})).value();
    if (!engine->CreateTable({.name = "t", .key = Schema("pk", AttrType::kS)}).ok()) _exit(2);
    auto t = engine->GetTable("t");
    for (int i = 0; i < 100; ++i) {
      auto batch = engine->BeginWrite({{t, {{"pk", S(std::to_string(i))}}}});
      batch->Put(*t, {{"pk", S(std::to_string(i))}, {"v", N(i)}});
      if (!batch->Commit().ok()) _exit(3);
    }
    _exit(0);
  };
  EXPECT_EXIT(write_and_die(), ::testing::ExitedWithCode(0), "");
  unsetenv("CRUDDUR_STORAGE_CRASH_DIR");
  {
    auto opened = Engine::Open({.path = dir + "/db"});
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    auto t = (*opened)->GetTable("t");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ((*opened)->Stats(*t).item_count, 100);
    auto item = (*opened)->Get(*t, {{"pk", S("99")}});
    ASSERT_TRUE(item.ok());
    EXPECT_EQ(*item, (Item{{"pk", S("99")}, {"v", N(99)}}));
  }
  std::filesystem::remove_all(dir);
}

TEST_P(EngineTest, DeleteTableRemovesOnlyItsData) {
  auto t = Create(IndexedTable());
  auto other = CreateSimple("other", Schema("pk", AttrType::kS, "sk", AttrType::kS));
  for (int i = 0; i < 10; ++i) {
    Put(t, {{"pk", S("p")}, {"sk", S(std::to_string(i))}, {"g", S("grp")}, {"gs", N(i)}});
    Put(other, {{"pk", S("p")}, {"sk", S(std::to_string(i))}});
  }
  // A batch that began before the delete cannot write into the deleted table.
  auto late = engine_->BeginWrite({{t, {{"pk", S("p")}, {"sk", S("late")}}}});
  late->Put(*t, {{"pk", S("p")}, {"sk", S("late")}});
  ASSERT_TRUE(engine_->DeleteTable("msgs").ok());
  EXPECT_EQ(late->Commit().code(), ErrorCode::kResourceNotFound);
  late.reset();

  EXPECT_TRUE(Drain(engine_->Scan(*t, nullptr, 0, 1, nullptr).get()).empty());
  EXPECT_TRUE(Drain(engine_->Scan(*t, t->FindIndex("all"), 0, 1, nullptr).get()).empty());
  EXPECT_EQ(Drain(engine_->Scan(*other, nullptr, 0, 1, nullptr).get()).size(), 10u);

  auto recreated = Create(IndexedTable());
  EXPECT_NE(recreated->id, t->id);
  EXPECT_EQ(engine_->Stats(*recreated).item_count, 0);
  EXPECT_TRUE(Drain(engine_->Scan(*recreated, nullptr, 0, 1, nullptr).get()).empty());
  EXPECT_TRUE(
      Drain(engine_->Scan(*recreated, recreated->FindIndex("all"), 0, 1, nullptr).get()).empty());
  EXPECT_EQ(Get(*recreated, {{"pk", S("p")}, {"sk", S("1")}}), std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(Storage, EngineTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "InMemory" : "OnDisk"; });

}  // namespace
}  // namespace cruddur::dynamo::storage
