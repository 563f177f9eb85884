// Test helpers for code that needs a real PostgreSQL server (tests only).
#pragma once

#include <cstdlib>
#include <string>

#include "identity/postgres.h"
#include "identity/uuid.h"

namespace cruddur::identity {

// The test server's URL from CRUDDUR_TEST_POSTGRES_URL (set by scripts/test.sh after
// scripts/postgres_test_server.sh start), or empty when there is none.
inline std::string TestPostgresUrl() {
  const char* url = std::getenv("CRUDDUR_TEST_POSTGRES_URL");
  return url == nullptr ? std::string() : std::string(url);
}

// A schema of its own for one test, dropped with everything in it at destruction. url() is the
// server URL with this schema first on the search_path, so unqualified tables are the test's
// own and tests may run in parallel on one database.
class TestSchema {
 public:
  explicit TestSchema(std::string server_url) : server_url_(std::move(server_url)) {
    auto suffix = NewRandomUuid();
    name_ = "test_" + suffix->substr(0, 8) + suffix->substr(9, 4);
    ok_ = Admin("CREATE SCHEMA " + name_);
  }
  ~TestSchema() { Admin("DROP SCHEMA IF EXISTS " + name_ + " CASCADE"); }
  TestSchema(const TestSchema&) = delete;
  TestSchema& operator=(const TestSchema&) = delete;

  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }
  std::string url() const {
    return server_url_ + (server_url_.find('?') == std::string::npos ? "?" : "&") +
           "options=-c%20search_path%3D" + name_;
  }
  // Runs one statement in the schema; false if it fails.
  bool Exec(const std::string& sql) const {
    auto conn = pg::PgConnection::Connect(url());
    return conn.ok() && conn->Exec(sql.c_str()).ok();
  }

 private:
  bool Admin(const std::string& sql) const {
    auto conn = pg::PgConnection::Connect(server_url_);
    return conn.ok() && conn->Exec(sql.c_str()).ok();
  }

  std::string server_url_;
  std::string name_;
  bool ok_ = false;
};

}  // namespace cruddur::identity
