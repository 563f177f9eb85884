#include "triggers/mapping_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace cruddur::triggers {
namespace {

TEST(MappingConfigTest, SpecWithEveryKey) {
  auto c = ParseMappingSpec(
      "name=groups,table=cruddur-messages,start=LATEST,batch-size=10,window-ms=250,retries=2,"
      "bisect=true,on-failure=file:/tmp/f.jsonl,filter='{\"eventName\":[\"INSERT\",\"MODIFY\"]}',"
      "timeout-ms=5000,command=python3 h.py --a=1,b 'c'");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->name, "groups");
  EXPECT_EQ(c->table, "cruddur-messages");
  EXPECT_EQ(c->start, StartingPosition::kLatest);
  EXPECT_EQ(c->batch_size, 10);
  EXPECT_EQ(c->window_ms, 250);
  EXPECT_EQ(c->retries, 2);
  EXPECT_TRUE(c->bisect);
  EXPECT_EQ(c->on_failure, "file:/tmp/f.jsonl");
  EXPECT_EQ(c->filter, R"({"eventName":["INSERT","MODIFY"]})");
  EXPECT_EQ(c->timeout_ms, 5000);
  EXPECT_EQ(c->handler_kind, HandlerKind::kCommand);
  // The unquoted command takes the rest of the line, commas and quotes included.
  EXPECT_EQ(c->handler, "python3 h.py --a=1,b 'c'");
}

TEST(MappingConfigTest, SpecDefaultsAndQuoting) {
  auto c = ParseMappingSpec("name=a,table=tbl,native=message-stream");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->start, StartingPosition::kTrimHorizon);
  EXPECT_EQ(c->batch_size, 100);
  EXPECT_EQ(c->window_ms, 0);
  EXPECT_EQ(c->retries, -1);
  EXPECT_FALSE(c->bisect);
  EXPECT_EQ(c->timeout_ms, 60000);
  EXPECT_EQ(c->handler_kind, HandlerKind::kNative);

  auto q = ParseMappingSpec("command='echo it''s, here',name=b,table=tbl");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->handler, "echo it's, here");
  EXPECT_EQ(q->name, "b");

  auto u = ParseMappingSpec("name=c,table=tbl,url=http://127.0.0.1:9/x");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->handler_kind, HandlerKind::kUrl);
}

TEST(MappingConfigTest, SpecErrorsNameTheKey) {
  struct Case {
    const char* spec;
    const char* expect;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"table=tbl,command=x", "name"},
           {"name=a,command=x", "table"},
           {"name=a,table=tbl", "exactly one handler"},
           {"name=a,table=tbl,native=x,url=http://h", "exactly one handler"},
           {"name=a,table=tbl,batch-size=0,command=x", "batch-size"},
           {"name=a,table=tbl,batch-size=10001,command=x", "batch-size"},
           {"name=a,table=tbl,batch-size=ten,command=x", "not an integer"},
           {"name=a,table=tbl,window-ms=300001,command=x", "window-ms"},
           {"name=a,table=tbl,retries=-2,command=x", "retries"},
           {"name=a,table=tbl,retries=10001,command=x", "retries"},
           {"name=a,table=tbl,timeout-ms=0,command=x", "timeout-ms"},
           {"name=a,table=tbl,bisect=yes,command=x", "bisect"},
           {"name=a,table=tbl,start=AT_TIMESTAMP,command=x", "start"},
           {"name=a,table=tbl,on-failure=s3:bucket,command=x", "on-failure"},
           {"name=a,table=tbl,on-failure=table:x,command=x", "on-failure"},
           {"name=a,table=tbl,filter='{\"eventName\":\"INSERT\"}',command=x", "filter"},
           {"name=a,table=tbl,url=ftp://x", "url"},
           {"name=a b,table=tbl,command=x", "name"},
           {"name=../x,table=tbl,command=x", "name"},
           {"name=a,table=t,command=x", "table"},
           {"name=a,name=b,table=tbl,command=x", "twice"},
           {"name=a,table=tbl,colour=red,command=x", "Unknown trigger key 'colour'"},
           {"name=a,table=tbl,command='x", "closing"},
           {"name=a,table=tbl,command='x'y", "after the closing"},
           {"name=a,tablex", "key=value"},
       }) {
    auto r = ParseMappingSpec(c.spec);
    ASSERT_FALSE(r.ok()) << c.spec;
    EXPECT_EQ(r.status().code(), ErrorCode::kValidation) << c.spec;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos)
        << c.spec << " -> " << r.status().message();
  }
}

TEST(MappingConfigTest, JsonRoundTrip) {
  auto c = ParseMappingSpec(
      "name=groups,table=cruddur-messages,batch-size=7,bisect=true,retries=3,"
      "on-failure=table:failed-batches,filter='{\"eventName\":[\"INSERT\"]}',url=http://h/x");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto back = ParseMappingJson(MappingToJson(*c));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(MappingToJson(*back), MappingToJson(*c));
  EXPECT_EQ(back->filter, c->filter);
  EXPECT_EQ(back->handler_kind, HandlerKind::kUrl);
}

TEST(MappingConfigTest, JsonFormAcceptsFilterObjectsAndChecksTypes) {
  auto c = ParseMappingJson(
      R"({"name":"a","table":"tbl","batch-size":5,"bisect":true,
          "filter":[{"eventName":["INSERT"]}],"command":"cat"})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->batch_size, 5);
  EXPECT_EQ(c->filter, R"([{"eventName":["INSERT"]}])");

  EXPECT_FALSE(
      ParseMappingJson(R"({"name":"a","table":"tbl","batch-size":"5","command":"x"})").ok());
  EXPECT_FALSE(
      ParseMappingJson(R"({"name":"a","table":"tbl","bisect":"true","command":"x"})").ok());
  EXPECT_FALSE(ParseMappingJson(R"({"name":"a","table":"tbl","extra":1,"command":"x"})").ok());
  EXPECT_FALSE(ParseMappingJson(R"([1])").ok());
  EXPECT_FALSE(ParseMappingJson("{").ok());
}

TEST(MappingConfigTest, ConfigFile) {
  char path[] = "/tmp/cruddur-triggers-config-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream out(path);
    out << R"([{"name":"a","table":"tbl","command":"cat"},
               {"name":"b","table":"tbl","native":"message-stream","start":"LATEST"}])";
  }
  auto configs = LoadMappingsFile(path);
  ASSERT_TRUE(configs.ok()) << configs.status().ToString();
  ASSERT_EQ(configs->size(), 2u);
  EXPECT_EQ((*configs)[1].start, StartingPosition::kLatest);
  {
    std::ofstream out(path);
    out << R"([{"name":"a","table":"tbl","command":"cat"},{"name":"a","table":"tbl","command":"x"}])";
  }
  auto dup = LoadMappingsFile(path);
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("used twice"), std::string::npos);
  {
    std::ofstream out(path);
    out << R"([{"name":"a","table":"tbl","command":"cat"},{"name":"b","table":"tbl"}])";
  }
  auto bad = LoadMappingsFile(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("entry 2"), std::string::npos) << bad.status().message();
  std::remove(path);
  EXPECT_EQ(LoadMappingsFile(path).status().code(), ErrorCode::kIo);
}

}  // namespace
}  // namespace cruddur::triggers
