// Posts to a real net::HttpServer on 127.0.0.1, port 0.
#include "triggers/http_handler.h"

#include <gtest/gtest.h>

#include <mutex>

#include "common/json.h"
#include "net/http_server.h"

namespace cruddur::triggers {
namespace {

using std::chrono::milliseconds;

class HttpHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    net::HttpServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.threads = 1;
    auto server = net::HttpServer::Start(
        options, [this](const net::HttpRequest& req, net::HttpResponse* resp) {
          std::lock_guard lock(mu_);
          methods_.push_back(req.method);
          bodies_.push_back(req.body);
          const std::string* ct = req.Header("content-type");
          content_types_.push_back(ct ? *ct : "");
          resp->status = status_;
          resp->body = status_ == 200 ? "{}" : "handler broke";
        });
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    url_ = "http://127.0.0.1:" + std::to_string(server_->port()) + "/hook";
  }

  Batch MakeBatch() {
    Batch b;
    b.mapping = "m";
    b.stream_arn = "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x";
    b.shard_id = "shardId-1";
    b.records.push_back(
        {"7", "INSERT", R"({"eventName":"INSERT","dynamodb":{"SequenceNumber":"7"}})"});
    return b;
  }

  std::mutex mu_;
  int status_ = 200;
  std::vector<std::string> methods_, bodies_, content_types_;
  std::unique_ptr<net::HttpServer> server_;
  std::string url_;
};

TEST_F(HttpHandlerTest, PostsTheLambdaEvent) {
  HttpPostHandler h(url_, milliseconds(10000));
  Status st = h.Handle(MakeBatch());
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::lock_guard lock(mu_);
  ASSERT_EQ(bodies_.size(), 1u);
  EXPECT_EQ(methods_[0], "POST");
  EXPECT_EQ(content_types_[0], "application/json");
  json::Document doc;
  ASSERT_TRUE(json::Parse(bodies_[0], &doc).ok());
  EXPECT_STREQ(doc["Records"][0]["eventSourceARN"].GetString(),
               "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x");
  EXPECT_EQ(bodies_[0], BuildLambdaEvent(MakeBatch()));
}

TEST_F(HttpHandlerTest, Non2xxFailsWithStatusAndBody) {
  status_ = 500;
  HttpPostHandler h(url_, milliseconds(10000));
  Status st = h.Handle(MakeBatch());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("HTTP 500"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("handler broke"), std::string::npos) << st.message();
}

TEST_F(HttpHandlerTest, UnreachableIsAnIoError) {
  const uint16_t port = server_->port();
  server_.reset();  // nothing listens there any more
  HttpPostHandler h("http://127.0.0.1:" + std::to_string(port) + "/hook", milliseconds(5000));
  Status st = h.Handle(MakeBatch());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), ErrorCode::kIo);
}

TEST_F(HttpHandlerTest, SendHttpRequestReturnsStatusAndBody) {
  auto r = SendHttpRequest("DELETE", url_, "", milliseconds(10000));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{}");
  std::lock_guard lock(mu_);
  EXPECT_EQ(methods_.back(), "DELETE");
}

}  // namespace
}  // namespace cruddur::triggers
