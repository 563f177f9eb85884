// Runs real /bin/sh and /usr/bin/python3 children.
#include "triggers/command_handler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/json.h"

namespace cruddur::triggers {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr char kArn[] =
    "arn:aws:dynamodb:eu-west-1:000000000000:table/cruddur-messages/stream/2026-01-01T00:00:00.000";

StreamRecord Record(int seq, const std::string& event_name = "INSERT") {
  StreamRecord r;
  r.sequence_number = std::to_string(seq);
  r.event_name = event_name;
  r.json = R"({"eventID":"e)" + std::to_string(seq) + R"(","eventName":")" + event_name +
           R"(","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"eu-west-1",)"
           R"("dynamodb":{"ApproximateCreationDateTime":1767225600,"Keys":{"pk":{"S":"k)" +
           std::to_string(seq) + R"("}},"SequenceNumber":")" + std::to_string(seq) +
           R"(","SizeBytes":12,"StreamViewType":"KEYS_ONLY"}})";
  return r;
}

Batch MakeBatch(int n) {
  Batch b;
  b.mapping = "groups";
  b.stream_arn = kArn;
  b.shard_id = "shardId-00000000000000000001-00000001";
  for (int i = 1; i <= n; ++i) b.records.push_back(Record(i));
  return b;
}

class CommandHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cruddur-command-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  CommandHandler Make(const std::string& command, milliseconds timeout = milliseconds(20000)) {
    return CommandHandler("groups", command, {"eu-west-1", "http://127.0.0.1:8123"}, timeout,
                          [this](std::string_view line) {
                            std::lock_guard lock(mu_);
                            lines_.emplace_back(line);
                          });
  }
  std::vector<std::string> Lines() {
    std::lock_guard lock(mu_);
    return lines_;
  }
  static std::string Slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  std::string dir_;
  std::mutex mu_;
  std::vector<std::string> lines_;
};

TEST_F(CommandHandlerTest, PythonSeesTheLambdaEventAndEnvironment) {
  const std::string script = dir_ + "/h.py";
  const std::string out = dir_ + "/out.json";
  {
    std::ofstream s(script);
    s << "import json, os, sys\n"
         "event = json.load(sys.stdin)\n"
         "env = {k: os.environ.get(k) for k in ['AWS_REGION', 'AWS_DEFAULT_REGION',\n"
         "       'AWS_LAMBDA_FUNCTION_NAME', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_DYNAMODB',\n"
         "       'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']}\n"
         "json.dump({'event': event, 'env': env}, open(sys.argv[1], 'w'))\n";
  }
  CommandHandler h = Make("/usr/bin/python3 " + script + " " + out);
  Status st = h.Handle(MakeBatch(3));
  ASSERT_TRUE(st.ok()) << st.ToString();

  json::Document doc;
  ASSERT_TRUE(json::Parse(Slurp(out), &doc).ok());
  const json::Value& records = doc["event"]["Records"];
  ASSERT_TRUE(records.IsArray());
  ASSERT_EQ(records.Size(), 3u);
  const json::Value& r = records[0];
  EXPECT_STREQ(r["eventID"].GetString(), "e1");
  EXPECT_STREQ(r["eventName"].GetString(), "INSERT");
  EXPECT_STREQ(r["eventVersion"].GetString(), "1.1");
  EXPECT_STREQ(r["eventSource"].GetString(), "aws:dynamodb");
  EXPECT_STREQ(r["awsRegion"].GetString(), "eu-west-1");
  EXPECT_STREQ(r["eventSourceARN"].GetString(), kArn);
  EXPECT_STREQ(r["dynamodb"]["Keys"]["pk"]["S"].GetString(), "k1");
  EXPECT_STREQ(r["dynamodb"]["SequenceNumber"].GetString(), "1");
  EXPECT_EQ(r["dynamodb"]["ApproximateCreationDateTime"].GetInt64(), 1767225600);
  EXPECT_STREQ(records[2]["dynamodb"]["SequenceNumber"].GetString(), "3");

  const json::Value& env = doc["env"];
  EXPECT_STREQ(env["AWS_REGION"].GetString(), "eu-west-1");
  EXPECT_STREQ(env["AWS_DEFAULT_REGION"].GetString(), "eu-west-1");
  EXPECT_STREQ(env["AWS_LAMBDA_FUNCTION_NAME"].GetString(), "groups");
  EXPECT_STREQ(env["AWS_ENDPOINT_URL"].GetString(), "http://127.0.0.1:8123");
  EXPECT_STREQ(env["AWS_ENDPOINT_URL_DYNAMODB"].GetString(), "http://127.0.0.1:8123");
  EXPECT_TRUE(env["AWS_ACCESS_KEY_ID"].IsString());
  EXPECT_TRUE(env["AWS_SECRET_ACCESS_KEY"].IsString());
}

TEST_F(CommandHandlerTest, ExitStatusDecides) {
  EXPECT_TRUE(Make("cat >/dev/null; exit 0").Handle(MakeBatch(1)).ok());
  Status st = Make("exit 3").Handle(MakeBatch(1));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("status 3"), std::string::npos) << st.message();
  st = Make("kill -9 $$").Handle(MakeBatch(1));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("signal 9"), std::string::npos) << st.message();
  st = Make("/no/such/program").Handle(MakeBatch(1));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("status 127"), std::string::npos) << st.message();
}

TEST_F(CommandHandlerTest, OutputIsPassedThroughPrefixed) {
  ASSERT_TRUE(Make("echo out; echo err >&2; printf partial").Handle(MakeBatch(1)).ok());
  std::vector<std::string> lines = Lines();
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (std::vector<std::string>{"[groups] err", "[groups] out", "[groups] partial"}));
}

TEST_F(CommandHandlerTest, TimeoutKillsTheProcessGroup) {
  const std::string marker = dir_ + "/survived";
  const auto start = Clock::now();
  Status st =
      Make("(sleep 2; touch " + marker + ") & sleep 30", milliseconds(300)).Handle(MakeBatch(1));
  const auto took = Clock::now() - start;
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "Task timed out after 0.30 seconds");
  EXPECT_LT(took, std::chrono::seconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_FALSE(std::filesystem::exists(marker)) << "the background child outlived the timeout";
}

TEST_F(CommandHandlerTest, BackgroundLeftoversDoNotHoldTheCall) {
  const auto start = Clock::now();
  Status st = Make("sleep 30 & echo done").Handle(MakeBatch(1));
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
}

TEST_F(CommandHandlerTest, ChildThatIgnoresALargeStdinIsNoProblem) {
  // The event is far larger than a pipe buffer and the child never reads it: the write fails
  // with EPIPE, which must neither kill this process (SIGPIPE is not ignored in the test) nor
  // fail the batch.
  Batch big = MakeBatch(1);
  big.records[0].json.insert(1, "\"pad\":\"" + std::string(1 << 20, 'x') + "\",");
  EXPECT_TRUE(Make("exit 0").Handle(big).ok());
}

TEST_F(CommandHandlerTest, CancelStopsTheChild) {
  std::atomic<bool> cancel{false};
  Batch b = MakeBatch(1);
  b.cancel = &cancel;
  std::thread canceller([&cancel] {
    std::this_thread::sleep_for(milliseconds(200));
    cancel = true;
  });
  const auto start = Clock::now();
  Status st = Make("sleep 30").Handle(b);
  canceller.join();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("cancelled"), std::string::npos);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
}

TEST_F(CommandHandlerTest, ConcurrentCallsKeepTheirOwnStdin) {
  // Each child must see EOF on its own stdin even while another child is being forked.
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      const std::string out = dir_ + "/c" + std::to_string(i);
      if (Make("cat > " + out, milliseconds(20000)).Handle(MakeBatch(i + 1)).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
  for (int i = 0; i < 4; ++i) {
    json::Document doc;
    ASSERT_TRUE(json::Parse(Slurp(dir_ + "/c" + std::to_string(i)), &doc).ok());
    EXPECT_EQ(doc["Records"].Size(), static_cast<rapidjson::SizeType>(i + 1));
  }
}

TEST(LambdaEventTest, AddsEventSourceArnToEachRecord) {
  Batch b = MakeBatch(2);
  b.records.push_back({"3", "REMOVE", "{}"});
  const std::string event = BuildLambdaEvent(b);
  json::Document doc;
  ASSERT_TRUE(json::Parse(event, &doc).ok()) << event;
  ASSERT_EQ(doc["Records"].Size(), 3u);
  for (const json::Value& r : doc["Records"].GetArray()) {
    EXPECT_STREQ(r["eventSourceARN"].GetString(), kArn);
  }
  EXPECT_EQ(doc["Records"][2].MemberCount(), 1u);
}

}  // namespace
}  // namespace cruddur::triggers
