#include "triggers/admin.h"

#include <gtest/gtest.h>

#include "common/json.h"

namespace cruddur::triggers {
namespace {

// A source with no tables: mappings wait for their stream, which is all these tests need.
class EmptySource : public StreamSource {
 public:
  Result<std::string> LatestStreamArn(const std::string& t) override {
    return NotFoundError("Table " + t + " has no enabled stream");
  }
  Result<std::vector<Shard>> ListShards(const std::string&) override {
    return std::vector<Shard>{};
  }
  Result<std::string> GetShardIterator(const std::string&, const std::string&, IteratorType,
                                       const std::string&) override {
    return NotFoundError("none");
  }
  Result<RecordsPage> GetRecords(const std::string&, int) override { return NotFoundError("none"); }
};

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RunnerOptions o;
    o.error_wait = std::chrono::milliseconds(20);
    o.log = [](std::string_view) {};
    auto r = TriggerRunner::Create(&source_, nullptr, o);
    ASSERT_TRUE(r.ok());
    runner_ = std::move(r).value();
    ASSERT_TRUE(runner_->Start({}).ok());
  }
  net::HttpResponse Call(const std::string& method, const std::string& target,
                         const std::string& body = "") {
    net::HttpRequest req;
    req.method = method;
    req.target = target;
    req.body = body;
    net::HttpResponse resp;
    EXPECT_TRUE(IsTriggersAdminPath(target));
    HandleTriggersAdmin(runner_.get(), req, &resp);
    return resp;
  }
  static std::string Message(const net::HttpResponse& r) {
    json::Document doc;
    if (!json::Parse(r.body, &doc).ok() || !doc.HasMember("message")) return "";
    return doc["message"].GetString();
  }

  EmptySource source_;
  std::unique_ptr<TriggerRunner> runner_;
};

TEST_F(AdminTest, Paths) {
  EXPECT_TRUE(IsTriggersAdminPath("/_cruddur/triggers"));
  EXPECT_TRUE(IsTriggersAdminPath("/_cruddur/triggers/x"));
  EXPECT_TRUE(IsTriggersAdminPath("/_cruddur/triggers?a=b"));
  EXPECT_FALSE(IsTriggersAdminPath("/_cruddur/triggersx"));
  EXPECT_FALSE(IsTriggersAdminPath("/"));
}

TEST_F(AdminTest, CreateListDelete) {
  net::HttpResponse r = Call("GET", "/_cruddur/triggers");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"Mappings":[]})");

  r = Call("POST", "/_cruddur/triggers",
           R"({"name":"g","table":"cruddur-messages","batch-size":5,"command":"cat"})");
  ASSERT_EQ(r.status, 201) << r.body;
  json::Document doc;
  ASSERT_TRUE(json::Parse(r.body, &doc).ok());
  EXPECT_EQ(doc["Mapping"]["batch-size"].GetInt(), 5);

  r = Call("POST", "/_cruddur/triggers",
           R"({"name":"g","table":"cruddur-messages","command":"cat"})");
  EXPECT_EQ(r.status, 409);
  EXPECT_NE(Message(r).find("already exists"), std::string::npos);

  r = Call("POST", "/_cruddur/triggers", R"({"name":"h","table":"cruddur-messages"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(Message(r).find("handler"), std::string::npos);
  EXPECT_EQ(Call("POST", "/_cruddur/triggers", "not json").status, 400);

  r = Call("GET", "/_cruddur/triggers");
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(json::Parse(r.body, &doc).ok());
  ASSERT_EQ(doc["Mappings"].Size(), 1u);
  const json::Value& m = doc["Mappings"][0];
  EXPECT_STREQ(m["name"].GetString(), "g");
  EXPECT_STREQ(m["command"].GetString(), "cat");
  EXPECT_TRUE(m["persistent"].GetBool());
  EXPECT_TRUE(m.HasMember("state"));
  EXPECT_EQ(m["batches_ok"].GetUint64(), 0u);

  EXPECT_EQ(Call("DELETE", "/_cruddur/triggers/g").status, 200);
  r = Call("DELETE", "/_cruddur/triggers/g");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(Message(r).find("does not exist"), std::string::npos);
  EXPECT_EQ(Call("PUT", "/_cruddur/triggers").status, 405);
  EXPECT_EQ(Call("GET", "/_cruddur/triggers/g").status, 405);
  EXPECT_EQ(Call("DELETE", "/_cruddur/triggers/a/b").status, 404);
}

}  // namespace
}  // namespace cruddur::triggers
