// In-process tests of Query, Scan, BatchWriteItem, BatchGetItem, TransactWriteItems and
// TransactGetItems over an in-memory engine: requests and responses are the wire JSON.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/json.h"
#include "dynamo/api/api.h"
#include "dynamo/api/idempotency.h"
#include "dynamo/storage/engine.h"

namespace cruddur::dynamo::api {
namespace {

class OpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = storage::Engine::Open({.path = "/ops_test/db", .in_memory = true});
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = std::move(opened).value();
    ctx_.engine = engine_.get();
    ctx_.now_micros = [this] { return now_micros_; };
    ctx_.idempotency = &cache_;
    // Table "tbl": pk (S) + sk (N), a GSI on g + sk projecting ALL and a KEYS_ONLY GSI on g.
    Ok(CreateTable, R"({"TableName":"tbl","BillingMode":"PAY_PER_REQUEST",
        "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},
          {"AttributeName":"sk","AttributeType":"N"},{"AttributeName":"g","AttributeType":"S"}],
        "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],
        "GlobalSecondaryIndexes":[
          {"IndexName":"by_g","KeySchema":[{"AttributeName":"g","KeyType":"HASH"},
            {"AttributeName":"sk","KeyType":"RANGE"}],"Projection":{"ProjectionType":"ALL"}},
          {"IndexName":"g_keys","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],
            "Projection":{"ProjectionType":"KEYS_ONLY"}}]})");
    Ok(CreateTable, R"({"TableName":"usr","BillingMode":"PAY_PER_REQUEST",
        "AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],
        "KeySchema":[{"AttributeName":"id","KeyType":"HASH"}]})");
  }

  Status Call(Operation op, const std::string& body, json::Document* response) {
    json::Document request;
    Status parsed = json::Parse(body, &request);
    EXPECT_TRUE(parsed.ok()) << parsed.ToString() << "\n" << body;
    json::StringBuffer buf;
    json::Writer w(buf);
    Status st = op(ctx_, request, &w);
    if (st.ok()) {
      response->SetObject();
      Status out = json::Parse(std::string_view(buf.GetString(), buf.GetSize()), response);
      EXPECT_TRUE(out.ok()) << out.ToString();
    }
    return st;
  }

  json::Document Ok(Operation op, const std::string& body) {
    json::Document response;
    Status st = Call(op, body, &response);
    EXPECT_TRUE(st.ok()) << st.ToString() << "\n" << body;
    if (!st.ok()) response.SetObject();
    return response;
  }

  Status Err(Operation op, const std::string& body) {
    json::Document response;
    Status st = Call(op, body, &response);
    EXPECT_FALSE(st.ok()) << "expected an error for " << body;
    return st;
  }

  void Put(const std::string& table, const std::string& item) {
    Ok(PutItem, R"({"TableName":")" + table + R"(","Item":)" + item + "}");
  }

  void PutRow(const std::string& pk, int sk, const std::string& extra = "") {
    Put("tbl",
        R"({"pk":{"S":")" + pk + R"("},"sk":{"N":")" + std::to_string(sk) + R"("})" + extra + "}");
  }

  // The sk values of a response's Items, in order.
  static std::vector<int> SortKeys(const json::Value& response) {
    std::vector<int> out;
    for (const auto& item : response["Items"].GetArray()) {
      out.push_back(std::stoi(item["sk"]["N"].GetString()));
    }
    return out;
  }

  // Runs `request` (a JSON object text without its closing brace) page by page, feeding
  // LastEvaluatedKey back, and returns every page's sk values.
  std::vector<std::vector<int>> Pages(Operation op, const std::string& request_head) {
    std::vector<std::vector<int>> pages;
    std::string start;
    for (int guard = 0; guard < 1000; ++guard) {
      json::Document page = Ok(op, request_head + start + "}");
      if (!page.HasMember("Items")) break;
      pages.push_back(SortKeys(page));
      if (!page.HasMember("LastEvaluatedKey")) break;
      start = ",\"ExclusiveStartKey\":" + json::ToString(page["LastEvaluatedKey"]);
    }
    return pages;
  }

  int64_t now_micros_ = int64_t{1700000000} * 1000000;
  IdempotencyCache cache_;
  std::unique_ptr<storage::Engine> engine_;
  ApiContext ctx_;
};

std::vector<int> Flatten(const std::vector<std::vector<int>>& pages) {
  std::vector<int> out;
  for (const auto& p : pages) out.insert(out.end(), p.begin(), p.end());
  return out;
}

std::vector<int> Range(int from, int to) {  // [from, to)
  std::vector<int> out;
  for (int i = from; i < to; ++i) out.push_back(i);
  return out;
}

constexpr const char* kQueryP =
    R"({"TableName":"tbl","KeyConditionExpression":"pk = :p",
        "ExpressionAttributeValues":{":p":{"S":"p"}})";

// ---- Query ----

TEST_F(OpsTest, QueryPagesForwardWithLimit) {
  for (int i = 0; i < 10; ++i) PutRow("p", i);
  PutRow("other", 1);
  auto pages = Pages(Query, std::string(kQueryP) + R"(,"Limit":3)");
  ASSERT_EQ(pages.size(), 4u);
  EXPECT_EQ(pages[0], Range(0, 3));
  EXPECT_EQ(pages[3], std::vector<int>{9});
  EXPECT_EQ(Flatten(pages), Range(0, 10));
}

TEST_F(OpsTest, QueryPagesBackwardWithLimit) {
  for (int i = 0; i < 10; ++i) PutRow("p", i);
  auto pages = Pages(Query, std::string(kQueryP) + R"(,"Limit":4,"ScanIndexForward":false)");
  ASSERT_EQ(pages.size(), 3u);
  std::vector<int> expected = Range(0, 10);
  std::reverse(expected.begin(), expected.end());
  EXPECT_EQ(Flatten(pages), expected);
}

TEST_F(OpsTest, QueryLimitReachedAtEndStillReturnsLastEvaluatedKey) {
  for (int i = 0; i < 4; ++i) PutRow("p", i);
  json::Document first = Ok(Query, std::string(kQueryP) + R"(,"Limit":4})");
  EXPECT_EQ(first["Count"].GetInt(), 4);
  ASSERT_TRUE(first.HasMember("LastEvaluatedKey"));
  EXPECT_EQ(json::ToString(first["LastEvaluatedKey"]), R"({"pk":{"S":"p"},"sk":{"N":"3"}})");
  json::Document second = Ok(Query, std::string(kQueryP) + R"(,"Limit":4,"ExclusiveStartKey":)" +
                                        json::ToString(first["LastEvaluatedKey"]) + "}");
  EXPECT_EQ(second["Count"].GetInt(), 0);
  EXPECT_FALSE(second.HasMember("LastEvaluatedKey"));
  json::Document all = Ok(Query, std::string(kQueryP) + "}");
  EXPECT_EQ(all["Count"].GetInt(), 4);
  EXPECT_FALSE(all.HasMember("LastEvaluatedKey"));
}

TEST_F(OpsTest, QuerySortKeyConditions) {
  for (int i = 0; i < 10; ++i) PutRow("p", i);
  auto q = [&](const std::string& cond, const std::string& values) {
    return SortKeys(Ok(Query, R"({"TableName":"tbl","KeyConditionExpression":"pk = :p AND )" +
                                  cond + R"(","ExpressionAttributeValues":{":p":{"S":"p"},)" +
                                  values + "}}"));
  };
  EXPECT_EQ(q("sk BETWEEN :a AND :b", R"(":a":{"N":"3"},":b":{"N":"5"})"), Range(3, 6));
  EXPECT_EQ(q("sk > :a", R"(":a":{"N":"7"})"), Range(8, 10));
  EXPECT_EQ(q("sk <= :a", R"(":a":{"N":"1"})"), Range(0, 2));
}

TEST_F(OpsTest, QueryRejectsEmptyKeyValues) {
  auto q = [&](const std::string& index, const std::string& cond, const std::string& values) {
    return Err(Query, R"({"TableName":"tbl",)" + index + R"("KeyConditionExpression":")" + cond +
                          R"(","ExpressionAttributeValues":{)" + values + "}}")
        .message();
  };
  const std::string table_text =
      "One or more parameter values are not valid. The AttributeValue for a key attribute cannot "
      "contain an empty string value. Key: ";
  EXPECT_EQ(q("", "pk = :e", R"(":e":{"S":""})"), table_text + "pk");
  EXPECT_EQ(q("", "pk = :p AND sk = :n", R"(":p":{"S":""},":n":{"N":"1"})"), table_text + "pk");
  EXPECT_EQ(q(R"("IndexName":"g_keys",)", "g = :e", R"(":e":{"S":""})"),
            "One or more parameter values are not valid. A value specified for a secondary index "
            "key is not supported. The AttributeValue for a key attribute cannot contain an empty "
            "string value. IndexName: g_keys, IndexKey: g");
}

TEST_F(OpsTest, UpdateToEmptyIndexKeyHasTheUpdateText) {
  EXPECT_EQ(Err(UpdateItem, R"({"TableName":"tbl","Key":{"pk":{"S":"p"},"sk":{"N":"1"}},
                "UpdateExpression":"SET g = :e","ExpressionAttributeValues":{":e":{"S":""}}})")
                .message(),
            "One or more parameter values are not valid. The update expression attempted to "
            "update a secondary index key to a value that is not supported. The AttributeValue "
            "for a key attribute cannot contain an empty string value.");
}

TEST_F(OpsTest, QueryPageStopsAtOneMegabyteBeforeFiltering) {
  std::string big(100 * 1024, 'x');
  for (int i = 0; i < 25; ++i) PutRow("p", i, R"(,"blob":{"S":")" + big + R"("})");
  // A filter that matches nothing: the page is still cut at 1 MB of items read.
  json::Document first = Ok(Query, R"J({"TableName":"tbl","KeyConditionExpression":"pk = :p",
          "FilterExpression":"attribute_exists(nope)",
          "ExpressionAttributeValues":{":p":{"S":"p"}}})J");
  EXPECT_EQ(first["Count"].GetInt(), 0);
  int scanned = first["ScannedCount"].GetInt();
  EXPECT_GE(scanned, 10);
  EXPECT_LE(scanned, 11);
  ASSERT_TRUE(first.HasMember("LastEvaluatedKey"));
  auto pages = Pages(Query, std::string(kQueryP));
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_EQ(Flatten(pages), Range(0, 25));
}

TEST_F(OpsTest, QueryFilterCountAndScannedCount) {
  for (int i = 0; i < 10; ++i) PutRow("p", i, R"(,"n":{"N":")" + std::to_string(i) + R"("})");
  json::Document r = Ok(Query, R"({"TableName":"tbl","KeyConditionExpression":"pk = :p",
      "FilterExpression":"n >= :five","ExpressionAttributeValues":{":p":{"S":"p"},":five":{"N":"5"}}})");
  EXPECT_EQ(r["Count"].GetInt(), 5);
  EXPECT_EQ(r["ScannedCount"].GetInt(), 10);
  EXPECT_EQ(SortKeys(r), Range(5, 10));

  json::Document limited = Ok(Query, R"({"TableName":"tbl","KeyConditionExpression":"pk = :p",
      "FilterExpression":"n >= :two","Limit":4,
      "ExpressionAttributeValues":{":p":{"S":"p"},":two":{"N":"2"}}})");
  EXPECT_EQ(limited["Count"].GetInt(), 2);
  EXPECT_EQ(limited["ScannedCount"].GetInt(), 4);
  EXPECT_TRUE(limited.HasMember("LastEvaluatedKey"));

  json::Document count = Ok(Query, R"({"TableName":"tbl","KeyConditionExpression":"pk = :p",
      "Select":"COUNT","FilterExpression":"n < :two",
      "ExpressionAttributeValues":{":p":{"S":"p"},":two":{"N":"2"}}})");
  EXPECT_FALSE(count.HasMember("Items"));
  EXPECT_EQ(count["Count"].GetInt(), 2);
}

TEST_F(OpsTest, QueryProjectionAndCapacity) {
  for (int i = 0; i < 3; ++i) PutRow("p", i, R"(,"a":{"S":"x"},"b":{"S":"y"})");
  json::Document r = Ok(Query, R"({"TableName":"tbl","KeyConditionExpression":"pk = :p",
      "ProjectionExpression":"a","ReturnConsumedCapacity":"TOTAL",
      "ExpressionAttributeValues":{":p":{"S":"p"}}})");
  EXPECT_EQ(json::ToString(r["Items"][0]), R"({"a":{"S":"x"}})");
  EXPECT_EQ(r["ConsumedCapacity"]["CapacityUnits"].GetDouble(), 0.5);
  json::Document strong = Ok(Query, R"({"TableName":"tbl","KeyConditionExpression":"pk = :p",
      "ConsistentRead":true,"ReturnConsumedCapacity":"TOTAL",
      "ExpressionAttributeValues":{":p":{"S":"p"}}})");
  EXPECT_EQ(strong["ConsumedCapacity"]["CapacityUnits"].GetDouble(), 1.0);
}

TEST_F(OpsTest, QueryOnGlobalSecondaryIndex) {
  for (int i = 0; i < 6; ++i) {
    PutRow("p" + std::to_string(i), i, i % 2 == 0 ? R"(,"g":{"S":"even"})" : R"(,"g":{"S":"odd"})");
  }
  PutRow("nog", 100);  // not in the sparse index
  const std::string head =
      R"({"TableName":"tbl","IndexName":"by_g","KeyConditionExpression":"g = :g",
      "ExpressionAttributeValues":{":g":{"S":"even"}},"Limit":2)";
  json::Document first = Ok(Query, head + "}");
  EXPECT_EQ(SortKeys(first), (std::vector<int>{0, 2}));
  EXPECT_EQ(json::ToString(first["LastEvaluatedKey"]),
            R"({"g":{"S":"even"},"pk":{"S":"p2"},"sk":{"N":"2"}})");
  EXPECT_EQ(Flatten(Pages(Query, head)), (std::vector<int>{0, 2, 4}));

  json::Document capacity = Ok(Query, R"({"TableName":"tbl","IndexName":"by_g",
      "KeyConditionExpression":"g = :g","ReturnConsumedCapacity":"INDEXES",
      "ExpressionAttributeValues":{":g":{"S":"odd"}}})");
  EXPECT_EQ(capacity["ConsumedCapacity"]["Table"]["CapacityUnits"].GetDouble(), 0);
  EXPECT_EQ(
      capacity["ConsumedCapacity"]["GlobalSecondaryIndexes"]["by_g"]["CapacityUnits"].GetDouble(),
      0.5);

  EXPECT_EQ(Err(Query, R"({"TableName":"tbl","IndexName":"by_g","ConsistentRead":true,
      "KeyConditionExpression":"g = :g","ExpressionAttributeValues":{":g":{"S":"odd"}}})")
                .message(),
            "Consistent reads are not supported on global secondary indexes");
  EXPECT_EQ(Err(Query, R"({"TableName":"tbl","IndexName":"nope",
      "KeyConditionExpression":"g = :g","ExpressionAttributeValues":{":g":{"S":"odd"}}})")
                .message(),
            "The table does not have the specified index: nope");
  EXPECT_EQ(Err(Query, R"({"TableName":"tbl","IndexName":"g_keys","Select":"ALL_ATTRIBUTES",
      "KeyConditionExpression":"g = :g","ExpressionAttributeValues":{":g":{"S":"odd"}}})")
                .message(),
            "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not "
            "supported for global secondary index g_keys because its projection type is not ALL");
  json::Document keys_only = Ok(Query, R"({"TableName":"tbl","IndexName":"g_keys",
      "KeyConditionExpression":"g = :g","ExpressionAttributeValues":{":g":{"S":"odd"}}})");
  EXPECT_EQ(keys_only["Count"].GetInt(), 3);
  EXPECT_EQ(keys_only["Items"][0].MemberCount(), 3u);  // pk, sk, g
}

TEST_F(OpsTest, QueryValidationTexts) {
  auto err = [&](const std::string& extra) {
    return Err(Query, R"({"TableName":"tbl")" + extra + "}").message();
  };
  EXPECT_EQ(err(""),
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in "
            "the request.");
  EXPECT_EQ(
      err(R"(,"KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"N":"1"}})"),
      "One or more parameter values were invalid: Condition parameter type does not match "
      "schema type");
  EXPECT_EQ(err(R"(,"KeyConditionExpression":"pk = :p","FilterExpression":"sk > :p",
      "ExpressionAttributeValues":{":p":{"S":"p"}})"),
            "Filter Expression can only contain non-primary key attributes: Primary key "
            "attribute: sk");
  EXPECT_EQ(err(R"(,"KeyConditionExpression":"pk = :p","Select":"SPECIFIC_ATTRIBUTES",
      "ExpressionAttributeValues":{":p":{"S":"p"}})"),
            "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
            "SPECIFIC_ATTRIBUTES");
  EXPECT_EQ(err(R"(,"KeyConditionExpression":"pk = :p","Select":"COUNT","ProjectionExpression":"a",
      "ExpressionAttributeValues":{":p":{"S":"p"}})"),
            "Cannot specify the ProjectionExpression when choosing to get only the Count");
  EXPECT_EQ(err(R"(,"KeyConditionExpression":"pk = :p","Select":"ALL_PROJECTED_ATTRIBUTES",
      "ExpressionAttributeValues":{":p":{"S":"p"}})"),
            "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName");
  EXPECT_EQ(err(R"(,"KeyConditionExpression":"pk = :p","Limit":0,
      "ExpressionAttributeValues":{":p":{"S":"p"}})"),
            "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1");
  EXPECT_EQ(err(R"(,"KeyConditionExpression":"pk = :p","ExclusiveStartKey":{"pk":{"S":"p"}},
      "ExpressionAttributeValues":{":p":{"S":"p"}})"),
            "The provided starting key is invalid");
  EXPECT_EQ(err(R"(,"KeyConditionExpression":"pk = :p",
      "ExclusiveStartKey":{"pk":{"S":"p"},"sk":{"S":"1"}},
      "ExpressionAttributeValues":{":p":{"S":"p"}})"),
            "The provided key element does not match the schema");
  EXPECT_EQ(err(R"(,"KeyConditionExpression":"pk = :p",
      "ExclusiveStartKey":{"pk":{"S":""},"sk":{"N":"1"}},
      "ExpressionAttributeValues":{":p":{"S":"p"}})"),
            "One or more parameter values were invalid: The AttributeValue for a key attribute "
            "cannot contain an empty string value. Key: pk");
  EXPECT_EQ(err(R"(,"KeyConditionExpression":"pk = :p",
      "ExclusiveStartKey":{"pk":{"S":"q"},"sk":{"N":"1"}},
      "ExpressionAttributeValues":{":p":{"S":"p"}})"),
            "The provided starting key is outside query boundaries based on provided conditions");
  EXPECT_EQ(err(R"(,"KeyConditionExpression":"pk = :p AND sk > :s",
      "ExclusiveStartKey":{"pk":{"S":"p"},"sk":{"N":"1"}},
      "ExpressionAttributeValues":{":p":{"S":"p"},":s":{"N":"5"}})"),
            "The provided starting key does not match the range key predicate");
  EXPECT_EQ(Err(Query, R"({"TableName":"missing","KeyConditionExpression":"pk = :p",
      "ExpressionAttributeValues":{":p":{"S":"p"}}})")
                .code(),
            ErrorCode::kResourceNotFound);
}

// ---- Scan ----

TEST_F(OpsTest, ScanSegmentsCoverEveryItemOnce) {
  for (int i = 0; i < 60; ++i) PutRow("p" + std::to_string(i % 17), i);
  std::multiset<int> seen;
  for (int s = 0; s < 4; ++s) {
    auto pages = Pages(
        Scan, R"({"TableName":"tbl","Limit":7,"TotalSegments":4,"Segment":)" + std::to_string(s));
    for (int sk : Flatten(pages)) seen.insert(sk);
  }
  EXPECT_EQ(seen.size(), 60u);
  for (int i = 0; i < 60; ++i) EXPECT_EQ(seen.count(i), 1u) << i;

  auto all = Flatten(Pages(Scan, R"({"TableName":"tbl","Limit":9)"));
  EXPECT_EQ(all.size(), 60u);
}

TEST_F(OpsTest, ScanFilterAndValidation) {
  for (int i = 0; i < 8; ++i) PutRow("p", i);
  json::Document r = Ok(Scan, R"({"TableName":"tbl","FilterExpression":"sk < :n",
      "ExpressionAttributeValues":{":n":{"N":"3"}},"Select":"COUNT"})");
  EXPECT_EQ(r["Count"].GetInt(), 3);
  EXPECT_EQ(r["ScannedCount"].GetInt(), 8);
  EXPECT_EQ(Err(Scan, R"({"TableName":"tbl","Segment":1})").message(),
            "The TotalSegments parameter is required but was not present in the request when "
            "Segment parameter is present");
  EXPECT_EQ(Err(Scan, R"({"TableName":"tbl","TotalSegments":2})").message(),
            "The Segment parameter is required but was not present in the request when parameter "
            "TotalSegments is present");
  EXPECT_EQ(Err(Scan, R"({"TableName":"tbl","TotalSegments":2,"Segment":2})").message(),
            "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
            "Segment: 2 is not less than TotalSegments: 2");
  EXPECT_EQ(Err(Scan, R"({"TableName":"tbl","TotalSegments":1000001,"Segment":0})").message(),
            "1 validation error detected: Value '1000001' at 'totalSegments' failed to satisfy "
            "constraint: Member must have value less than or equal to 1000000");
  EXPECT_EQ(Err(Scan, R"({"TableName":"tbl","ExclusiveStartKey":{"pk":{"S":"p"}}})").message(),
            "The provided starting key is invalid: The provided key element does not match the "
            "schema");
}

// Pages without filter or projection are written from the stored records; with an always-true
// filter they take the decoding path. Both must answer byte for byte alike, LastEvaluatedKey
// included, on the table and on an index.
TEST_F(OpsTest, ReadsFromRecordsMatchTheDecodingPath) {
  for (int i = 0; i < 12; ++i) {
    PutRow("p" + std::to_string(i % 3), i,
           R"(,"g":{"S":"grp"},"b":{"B":"AAH/"},"n":{"N":"-1.50"},"t":{"BOOL":true},)"
           R"("z":{"NULL":true},"ss":{"SS":["x","y"]},"ns":{"NS":["1","2e3"]},)"
           R"("bs":{"BS":["Zg=="]},"m":{"M":{"l":{"L":[{"S":"\u00e9\""},{"M":{}}]}}})");
  }
  const std::string values = R"(,"ExpressionAttributeValues":{":p":{"S":"p1"}})";
  const std::string filter = R"x(,"FilterExpression":"attribute_exists(t)")x" + values;
  for (const std::string head :
       {R"({"TableName":"tbl")", R"({"TableName":"tbl","IndexName":"by_g")",
        R"({"TableName":"tbl","IndexName":"g_keys")"}) {
    for (const std::string limit : {"", R"(,"Limit":1)", R"(,"Limit":5)"}) {
      EXPECT_EQ(json::ToString(Ok(Scan, head + limit + "}")),
                json::ToString(
                    Ok(Scan, head + limit + R"x(,"FilterExpression":"attribute_exists(sk)"})x")))
          << head << limit;
    }
  }
  for (const std::string limit : {"", R"(,"Limit":2)", R"(,"Limit":4)"}) {
    const std::string table_query =
        R"({"TableName":"tbl","KeyConditionExpression":"pk = :p","ScanIndexForward":false)" + limit;
    EXPECT_EQ(json::ToString(Ok(Query, table_query + values + "}")),
              json::ToString(Ok(Query, table_query + filter + "}")));
    const std::string index_query =
        R"({"TableName":"tbl","IndexName":"by_g","KeyConditionExpression":"g = :g")" + limit;
    const std::string index_values = R"(,"ExpressionAttributeValues":{":g":{"S":"grp"}})";
    EXPECT_EQ(
        json::ToString(Ok(Query, index_query + index_values + "}")),
        json::ToString(Ok(Query, index_query + R"x(,"FilterExpression":"attribute_exists(t)")x" +
                                     index_values + "}")));
  }
}

// ---- BatchWriteItem ----

TEST_F(OpsTest, BatchWriteAcrossTables) {
  PutRow("gone", 1);
  json::Document r = Ok(BatchWriteItem, R"({"RequestItems":{
      "tbl":[{"PutRequest":{"Item":{"pk":{"S":"a"},"sk":{"N":"1"}}}},
           {"PutRequest":{"Item":{"pk":{"S":"a"},"sk":{"N":"2"}}}},
           {"DeleteRequest":{"Key":{"pk":{"S":"gone"},"sk":{"N":"1"}}}}],
      "usr":[{"PutRequest":{"Item":{"id":{"S":"x"}}}}]},
      "ReturnConsumedCapacity":"TOTAL"})");
  EXPECT_EQ(json::ToString(r["UnprocessedItems"]), "{}");
  ASSERT_EQ(r["ConsumedCapacity"].Size(), 2u);
  EXPECT_EQ(std::string(r["ConsumedCapacity"][0]["TableName"].GetString()), "tbl");
  EXPECT_EQ(r["ConsumedCapacity"][0]["CapacityUnits"].GetDouble(), 3);
  EXPECT_EQ(Ok(Scan, R"({"TableName":"tbl"})")["Count"].GetInt(), 2);
  EXPECT_EQ(Ok(Scan, R"({"TableName":"usr"})")["Count"].GetInt(), 1);
}

TEST_F(OpsTest, BatchWriteValidatesEverythingBeforeWriting) {
  // The last request is invalid: nothing of the batch may be written.
  Status st = Err(BatchWriteItem, R"({"RequestItems":{
      "usr":[{"PutRequest":{"Item":{"id":{"S":"x"}}}}],
      "tbl":[{"PutRequest":{"Item":{"pk":{"S":"a"},"sk":{"N":"1"}}}},
           {"PutRequest":{"Item":{"pk":{"S":"a"},"sk":{"S":"wrong"}}}}]}})");
  EXPECT_EQ(st.message(), "The provided key element does not match the schema");
  EXPECT_EQ(Ok(Scan, R"({"TableName":"tbl"})")["Count"].GetInt(), 0);
  EXPECT_EQ(Ok(Scan, R"({"TableName":"usr"})")["Count"].GetInt(), 0);

  st = Err(BatchWriteItem, R"({"RequestItems":{
      "usr":[{"PutRequest":{"Item":{"id":{"S":"x"}}}}],
      "missing":[{"PutRequest":{"Item":{"id":{"S":"x"}}}}]}})");
  EXPECT_EQ(st.code(), ErrorCode::kResourceNotFound);
  EXPECT_EQ(Ok(Scan, R"({"TableName":"usr"})")["Count"].GetInt(), 0);
}

TEST_F(OpsTest, BatchWriteLimits) {
  std::string many;
  for (int i = 0; i < 26; ++i) {
    many += std::string(i ? "," : "") + R"({"PutRequest":{"Item":{"id":{"S":"k)" +
            std::to_string(i) + R"("}}}})";
  }
  EXPECT_EQ(Err(BatchWriteItem, R"({"RequestItems":{"usr":[)" + many + "]}}").message(),
            "Too many items requested for the BatchWriteItem call");
  EXPECT_EQ(Err(BatchWriteItem, R"({"RequestItems":{"usr":[
      {"PutRequest":{"Item":{"id":{"S":"a"}}}},{"DeleteRequest":{"Key":{"id":{"S":"a"}}}}]}})")
                .message(),
            "Provided list of item keys contains duplicates");
  EXPECT_EQ(Err(BatchWriteItem, R"({"RequestItems":{"usr":[{}]}})").message(),
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of "
            "the supported datatypes");
  EXPECT_EQ(Err(BatchWriteItem, R"({"RequestItems":{}})").message(),
            "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1");
  EXPECT_EQ(Ok(Scan, R"({"TableName":"usr"})")["Count"].GetInt(), 0);
}

// ---- BatchGetItem ----

TEST_F(OpsTest, BatchGetItems) {
  PutRow("a", 1, R"(,"x":{"S":"1"})");
  PutRow("a", 2, R"(,"x":{"S":"2"})");
  Put("usr", R"({"id":{"S":"k"},"y":{"N":"5"}})");
  json::Document r = Ok(BatchGetItem, R"({"RequestItems":{
      "tbl":{"Keys":[{"pk":{"S":"a"},"sk":{"N":"1"}},{"pk":{"S":"a"},"sk":{"N":"2"}},
                   {"pk":{"S":"a"},"sk":{"N":"3"}}],"ProjectionExpression":"#x",
           "ExpressionAttributeNames":{"#x":"x"}},
      "usr":{"Keys":[{"id":{"S":"k"}}],"ConsistentRead":true}},
      "ReturnConsumedCapacity":"TOTAL"})");
  ASSERT_EQ(r["Responses"]["tbl"].Size(), 2u);
  std::set<std::string> xs;
  for (const auto& item : r["Responses"]["tbl"].GetArray()) xs.insert(json::ToString(item));
  EXPECT_EQ(xs, (std::set<std::string>{R"({"x":{"S":"1"}})", R"({"x":{"S":"2"}})"}));
  EXPECT_EQ(json::ToString(r["Responses"]["usr"][0]), R"({"id":{"S":"k"},"y":{"N":"5"}})");
  EXPECT_EQ(json::ToString(r["UnprocessedKeys"]), "{}");
  EXPECT_EQ(r["ConsumedCapacity"][1]["CapacityUnits"].GetDouble(), 1.0);

  EXPECT_EQ(
      Err(BatchGetItem, R"({"RequestItems":{"usr":{"Keys":[{"id":{"S":"k"}},{"id":{"S":"k"}}]}}})")
          .message(),
      "Provided list of item keys contains duplicates");
  std::string keys;
  for (int i = 0; i < 60; ++i)
    keys += std::string(i ? "," : "") + R"({"id":{"S":"k)" + std::to_string(i) + R"("}})";
  std::string keys2;
  for (int i = 0; i < 41; ++i) {
    keys2 +=
        std::string(i ? "," : "") + R"({"pk":{"S":"a"},"sk":{"N":")" + std::to_string(i) + R"("}})";
  }
  EXPECT_EQ(Err(BatchGetItem, R"({"RequestItems":{"usr":{"Keys":[)" + keys +
                                  R"(]},"tbl":{"Keys":[)" + keys2 + "]}}}")
                .message(),
            "Too many items requested for the BatchGetItem call");
  EXPECT_EQ(
      Err(BatchGetItem, R"({"RequestItems":{"usr":{"Keys":[{"nope":{"S":"k"}}]}}})").message(),
      "The provided key element does not match the schema");
}

TEST_F(OpsTest, BatchGetReturnsTheRestPastSixteenMegabytesAsUnprocessed) {
  std::string big(350 * 1024, 'x');
  std::string keys;
  for (int i = 0; i < 60; ++i) {
    Put("usr", R"({"id":{"S":"k)" + std::to_string(i) + R"("},"blob":{"S":")" + big + R"("}})");
    keys += std::string(i ? "," : "") + R"({"id":{"S":"k)" + std::to_string(i) + R"("}})";
  }
  json::Document r = Ok(
      BatchGetItem, R"({"RequestItems":{"usr":{"Keys":[)" + keys + R"(],"ConsistentRead":true}}})");
  size_t got = r["Responses"]["usr"].Size();
  ASSERT_TRUE(r["UnprocessedKeys"].HasMember("usr"));
  size_t left = r["UnprocessedKeys"]["usr"]["Keys"].Size();
  EXPECT_EQ(got + left, 60u);
  EXPECT_LE(got * big.size(), size_t{16} * 1024 * 1024);
  EXPECT_GT(left, 0u);
  EXPECT_TRUE(r["UnprocessedKeys"]["usr"]["ConsistentRead"].GetBool());
}

// ---- TransactWriteItems / TransactGetItems ----

TEST_F(OpsTest, TransactionCommitsEveryAction) {
  PutRow("a", 1, R"(,"n":{"N":"1"})");
  PutRow("a", 2);
  Ok(TransactWriteItems, R"J({"TransactItems":[
      {"Put":{"TableName":"usr","Item":{"id":{"S":"new"}},"ConditionExpression":"attribute_not_exists(id)"}},
      {"Update":{"TableName":"tbl","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},
                 "UpdateExpression":"SET n = n + :one","ExpressionAttributeValues":{":one":{"N":"1"}}}},
      {"Delete":{"TableName":"tbl","Key":{"pk":{"S":"a"},"sk":{"N":"2"}}}},
      {"ConditionCheck":{"TableName":"tbl","Key":{"pk":{"S":"zz"},"sk":{"N":"0"}},
                         "ConditionExpression":"attribute_not_exists(pk)"}}]})J");
  json::Document got = Ok(TransactGetItems, R"({"TransactItems":[
      {"Get":{"TableName":"tbl","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"ProjectionExpression":"n"}},
      {"Get":{"TableName":"tbl","Key":{"pk":{"S":"a"},"sk":{"N":"2"}}}},
      {"Get":{"TableName":"usr","Key":{"id":{"S":"new"}}}}],"ReturnConsumedCapacity":"TOTAL"})");
  EXPECT_EQ(json::ToString(got["Responses"]),
            R"([{"Item":{"n":{"N":"2"}}},{},{"Item":{"id":{"S":"new"}}}])");
  EXPECT_EQ(got["ConsumedCapacity"][0]["CapacityUnits"].GetDouble(), 4.0);
}

TEST_F(OpsTest, CancelledTransactionWritesNothing) {
  PutRow("a", 1, R"(,"v":{"S":"old"})");
  Status st = Err(TransactWriteItems, R"({"TransactItems":[
      {"Put":{"TableName":"usr","Item":{"id":{"S":"new"}}}},
      {"Delete":{"TableName":"tbl","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},
                 "ConditionExpression":"v = :x","ExpressionAttributeValues":{":x":{"S":"other"}},
                 "ReturnValuesOnConditionCheckFailure":"ALL_OLD"}}]})");
  EXPECT_EQ(st.code(), ErrorCode::kTransactionCanceled);
  EXPECT_EQ(st.message(),
            "Transaction cancelled, please refer cancellation reasons for specific reasons "
            "[None, ConditionalCheckFailed]");
  EXPECT_EQ(st.details_json(),
            R"("CancellationReasons":[{"Code":"None"},{"Item":{"pk":{"S":"a"},"sk":{"N":"1"},)"
            R"("v":{"S":"old"}},"Code":"ConditionalCheckFailed","Message":"The conditional )"
            R"(request failed"}])");
  EXPECT_EQ(Ok(Scan, R"({"TableName":"usr"})")["Count"].GetInt(), 0);
  EXPECT_EQ(Ok(Scan, R"({"TableName":"tbl"})")["Count"].GetInt(), 1);
}

TEST_F(OpsTest, TransactionValidation) {
  EXPECT_EQ(Err(TransactWriteItems, R"({"TransactItems":[
      {"Put":{"TableName":"usr","Item":{"id":{"S":"a"}}}},
      {"Delete":{"TableName":"usr","Key":{"id":{"S":"a"}}}}]})")
                .message(),
            "Transaction request cannot include multiple operations on one item");
  EXPECT_EQ(Err(TransactWriteItems, R"({"TransactItems":[{}]})").message(),
            "Invalid Request: TransactWriteRequest should contain Delete or Put or Update request");
  EXPECT_EQ(Err(TransactWriteItems, R"({"TransactItems":[
      {"Put":{"TableName":"usr","Item":{"id":{"S":"a"}}},"Delete":{"TableName":"usr","Key":{"id":{"S":"b"}}}}]})")
                .message(),
            "TransactItems can only contain one of Check, Put, Update or Delete");
  // A bad action anywhere fails the whole request before anything is written.
  Status st = Err(TransactWriteItems, R"({"TransactItems":[
      {"Put":{"TableName":"usr","Item":{"id":{"S":"a"}}}},
      {"Delete":{"TableName":"tbl","Key":{"pk":{"S":"a"}}}}]})");
  EXPECT_EQ(st.code(), ErrorCode::kValidation);
  EXPECT_EQ(Ok(Scan, R"({"TableName":"usr"})")["Count"].GetInt(), 0);
  EXPECT_EQ(Err(TransactGetItems, R"({"TransactItems":[
      {"Get":{"TableName":"usr","Key":{"id":{"S":"a"}}}},{"Get":{"TableName":"usr","Key":{"id":{"S":"a"}}}}]})")
                .message(),
            "Transaction request cannot include multiple operations on one item");
}

TEST_F(OpsTest, ClientRequestTokenReplaysWithoutApplyingAgain) {
  const std::string request = R"({"ClientRequestToken":"tok-1","TransactItems":[
      {"Update":{"TableName":"usr","Key":{"id":{"S":"c"}},"UpdateExpression":"ADD n :one",
                 "ExpressionAttributeValues":{":one":{"N":"1"}}}}]})";
  auto counter = [&] {
    json::Document r = Ok(GetItem, R"({"TableName":"usr","Key":{"id":{"S":"c"}}})");
    return std::string(r["Item"]["n"]["N"].GetString());
  };
  Ok(TransactWriteItems, request);
  Ok(TransactWriteItems, request);
  EXPECT_EQ(counter(), "1");

  Status mismatch = Err(TransactWriteItems, R"({"ClientRequestToken":"tok-1","TransactItems":[
      {"Delete":{"TableName":"usr","Key":{"id":{"S":"c"}}}}]})");
  EXPECT_EQ(mismatch.code(), ErrorCode::kIdempotentParameterMismatch);
  EXPECT_EQ(counter(), "1");

  // After the 10-minute window the token is new again.
  now_micros_ += IdempotencyCache::kWindowMicros + 1;
  Ok(TransactWriteItems, request);
  EXPECT_EQ(counter(), "2");
}

TEST_F(OpsTest, ClientRequestTokenReplayMayAskForCapacity) {
  const std::string blob(5000, 'x');
  const std::string items = R"("TransactItems":[{"Put":{"TableName":"usr",
      "Item":{"id":{"S":"r"},"d":{"S":")" +
                            blob + R"("}}}}])";
  Ok(TransactWriteItems, R"({"ClientRequestToken":"tok-3",)" + items + "}");
  // Asking for capacity (or collection metrics) does not make it another request; the replay
  // costs a transactional read of the 5 KB item: 2 x 2 units.
  const std::string replay_request = R"({"ClientRequestToken":"tok-3",
      "ReturnConsumedCapacity":"TOTAL","ReturnItemCollectionMetrics":"SIZE",)" +
                                     items + "}";
  json::Document replay = Ok(TransactWriteItems, replay_request);
  ASSERT_TRUE(replay.HasMember("ConsumedCapacity"));
  EXPECT_EQ(replay["ConsumedCapacity"][0]["CapacityUnits"].GetDouble(), 4.0);
}

TEST_F(OpsTest, CancelledTransactionDoesNotKeepItsToken) {
  const std::string request = R"J({"ClientRequestToken":"tok-2","TransactItems":[
      {"Put":{"TableName":"usr","Item":{"id":{"S":"c"}},"ConditionExpression":"attribute_exists(id)"}}]})J";
  EXPECT_EQ(Err(TransactWriteItems, request).code(), ErrorCode::kTransactionCanceled);
  EXPECT_EQ(Err(TransactWriteItems, request).code(), ErrorCode::kTransactionCanceled);
  EXPECT_EQ(cache_.size(), 0u);
}

TEST_F(OpsTest, LocalIndexFetchesUnprojectedAttributesFromTheTable) {
  Ok(CreateTable, R"({"TableName":"lsi","BillingMode":"PAY_PER_REQUEST",
      "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},
        {"AttributeName":"sk","AttributeType":"N"},{"AttributeName":"at","AttributeType":"S"}],
      "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],
      "LocalSecondaryIndexes":[{"IndexName":"by_at","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},
        {"AttributeName":"at","KeyType":"RANGE"}],"Projection":{"ProjectionType":"KEYS_ONLY"}}]})");
  for (int i = 0; i < 3; ++i) {
    Put("lsi", R"({"pk":{"S":"p"},"sk":{"N":")" + std::to_string(i) + R"("},"at":{"S":"t)" +
                   std::to_string(2 - i) + R"("},"body":{"S":"b"}})");
  }
  const std::string head =
      R"({"TableName":"lsi","IndexName":"by_at","KeyConditionExpression":"pk = :p",
      "ExpressionAttributeValues":{":p":{"S":"p"}},"ReturnConsumedCapacity":"INDEXES")";
  json::Document projected = Ok(Query, head + "}");
  EXPECT_EQ(SortKeys(projected), (std::vector<int>{2, 1, 0}));  // in `at` order
  EXPECT_FALSE(projected["Items"][0].HasMember("body"));
  EXPECT_EQ(projected["ConsumedCapacity"]["Table"]["CapacityUnits"].GetDouble(), 0);

  json::Document all = Ok(Query, head + R"(,"Select":"ALL_ATTRIBUTES","Limit":2})");
  EXPECT_EQ(json::ToString(all["Items"][0]),
            R"({"at":{"S":"t0"},"body":{"S":"b"},"pk":{"S":"p"},"sk":{"N":"2"}})");
  EXPECT_EQ(json::ToString(all["LastEvaluatedKey"]),
            R"({"at":{"S":"t1"},"pk":{"S":"p"},"sk":{"N":"1"}})");
  EXPECT_EQ(all["ConsumedCapacity"]["Table"]["CapacityUnits"].GetDouble(), 1.0);
  EXPECT_EQ(all["ConsumedCapacity"]["LocalSecondaryIndexes"]["by_at"]["CapacityUnits"].GetDouble(),
            0.5);

  json::Document specific = Ok(Query, head + R"(,"ProjectionExpression":"body"})");
  EXPECT_EQ(json::ToString(specific["Items"][0]), R"({"body":{"S":"b"}})");
}

TEST_F(OpsTest, ConcurrentTransactionsAreIsolated) {
  // Each transaction moves one unit from "a" to "b" only if "a" is still positive; run
  // concurrently, the units are conserved and "a" never goes below zero.
  Put("usr", R"({"id":{"S":"a"},"n":{"N":"40"}})");
  Put("usr", R"({"id":{"S":"b"},"n":{"N":"0"}})");
  const std::string move = R"J({"TransactItems":[
      {"Update":{"TableName":"usr","Key":{"id":{"S":"a"}},"UpdateExpression":"SET n = n - :one",
                 "ConditionExpression":"n > :zero",
                 "ExpressionAttributeValues":{":one":{"N":"1"},":zero":{"N":"0"}}}},
      {"Update":{"TableName":"usr","Key":{"id":{"S":"b"}},"UpdateExpression":"SET n = n + :one",
                 "ExpressionAttributeValues":{":one":{"N":"1"}}}}]})J";
  std::vector<std::thread> threads;
  std::atomic<int> committed{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 15; ++i) {
        json::Document request;
        ASSERT_TRUE(json::Parse(move, &request).ok());
        json::StringBuffer buf;
        json::Writer w(buf);
        if (TransactWriteItems(ctx_, request, &w).ok()) ++committed;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(committed.load(), 40);
  json::Document got = Ok(TransactGetItems, R"({"TransactItems":[
      {"Get":{"TableName":"usr","Key":{"id":{"S":"a"}}}},
      {"Get":{"TableName":"usr","Key":{"id":{"S":"b"}}}}]})");
  EXPECT_EQ(std::string(got["Responses"][0]["Item"]["n"]["N"].GetString()), "0");
  EXPECT_EQ(std::string(got["Responses"][1]["Item"]["n"]["N"].GetString()), "40");
}

TEST(IdempotencyCacheTest, BoundedAndExpiring) {
  IdempotencyCache cache(2);
  EXPECT_EQ(cache.Begin("a", "x", 0), IdempotencyCache::Outcome::kFirst);
  EXPECT_EQ(cache.Begin("a", "x", 1), IdempotencyCache::Outcome::kInProgress);
  EXPECT_EQ(cache.Begin("a", "y", 1), IdempotencyCache::Outcome::kMismatch);
  cache.Finish("a", true, 2);
  EXPECT_EQ(cache.Begin("a", "x", 3), IdempotencyCache::Outcome::kReplay);
  EXPECT_EQ(cache.Begin("b", "x", 4), IdempotencyCache::Outcome::kFirst);
  cache.Finish("b", true, 5);
  // Full: the oldest completed token goes to make room.
  EXPECT_EQ(cache.Begin("c", "x", 6), IdempotencyCache::Outcome::kFirst);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.Begin("b", "x", 7), IdempotencyCache::Outcome::kReplay);
  EXPECT_EQ(cache.Begin("b", "x", 5 + IdempotencyCache::kWindowMicros),
            IdempotencyCache::Outcome::kFirst);
}

}  // namespace
}  // namespace cruddur::dynamo::api
