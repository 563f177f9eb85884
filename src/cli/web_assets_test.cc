#include "cli/web_assets.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace cruddur::cli {
namespace {

class WebAssetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/web_assets_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::filesystem::create_directories(dir_ + "/img");
    std::ofstream(dir_ + "/index.html") << "<!doctype html><title>t</title>";
    std::ofstream(dir_ + "/app.js") << "console.log(1)";
    std::ofstream(dir_ + "/img/logo.svg") << "<svg/>";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  net::HttpResponse Get(const std::string& target, const WebAssets& assets, bool* served,
                        std::string method = "GET") {
    net::HttpRequest req;
    req.method = std::move(method);
    req.target = target;
    net::HttpResponse resp;
    *served = assets.Serve(req, &resp);
    return resp;
  }

  std::string dir_;
};

TEST_F(WebAssetsTest, ServesLoadedFilesAndNothingElse) {
  auto assets = WebAssets::Load(dir_);
  ASSERT_TRUE(assets.ok()) << assets.status().ToString();
  EXPECT_EQ(assets->size(), 3u);
  bool served = false;
  net::HttpResponse r = Get("/", *assets, &served);
  EXPECT_TRUE(served);
  EXPECT_EQ(r.body, "<!doctype html><title>t</title>");
  EXPECT_EQ(r.headers[0].second, "text/html; charset=utf-8");
  r = Get("/app.js?v=2", *assets, &served);
  EXPECT_TRUE(served);
  EXPECT_EQ(r.headers[0].second, "text/javascript; charset=utf-8");
  r = Get("/img/logo.svg", *assets, &served);
  EXPECT_TRUE(served);
  EXPECT_EQ(r.body, "<svg/>");
  r = Get("/app.js", *assets, &served, "HEAD");
  EXPECT_TRUE(served);
  EXPECT_TRUE(r.body.empty());

  for (const char* other : {"/api/message_groups", "/../etc/passwd", "/img/../app.js", "/nope"}) {
    Get(other, *assets, &served);
    EXPECT_FALSE(served) << other;
  }
  Get("/app.js", *assets, &served, "POST");
  EXPECT_FALSE(served);

  // Files are read once: later changes on disk do not show.
  std::ofstream(dir_ + "/app.js") << "changed";
  r = Get("/app.js", *assets, &served);
  EXPECT_EQ(r.body, "console.log(1)");
}

TEST_F(WebAssetsTest, MissingFolderIsNotFound) {
  EXPECT_EQ(WebAssets::Load(dir_ + "/absent").status().code(), ErrorCode::kResourceNotFound);
}

}  // namespace
}  // namespace cruddur::cli
