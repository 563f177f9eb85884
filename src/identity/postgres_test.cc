// PostgreSQL-only behaviour: the connection pool, connection failures, and migrating a table
// made by the seed's schema. Needs CRUDDUR_TEST_POSTGRES_URL (skipped without it), except the
// tests of an unreachable server.
#include "identity/postgres.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "identity/postgres_test_util.h"
#include "identity/postgres_users_directory.h"

namespace cruddur::identity {
namespace {

using std::chrono::milliseconds;

class PostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = TestPostgresUrl();
    if (url_.empty()) GTEST_SKIP() << "CRUDDUR_TEST_POSTGRES_URL is not set";
  }
  std::string url_;
};

TEST_F(PostgresTest, PoolIsBoundedAndWaitsForAReturn) {
  auto pool = pg::PgPool::Create({url_, 2, milliseconds(200)});
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  auto first = (*pool)->Acquire();
  auto second = (*pool)->Acquire();
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ((*pool)->open_connections(), 2u);

  auto start = std::chrono::steady_clock::now();
  auto third = (*pool)->Acquire();
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), ErrorCode::kIo);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(150));

  { auto returned = std::move(first).value(); }
  auto reused = (*pool)->Acquire();
  ASSERT_TRUE(reused.ok()) << reused.status().ToString();
  EXPECT_EQ((*pool)->open_connections(), 2u);
  auto rows = (**reused).Exec("SELECT $1::int + 1", {std::string("41")});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->Text(0, 0), "42");
}

TEST_F(PostgresTest, ConnectionLeftInATransactionIsClosedNotReused) {
  auto pool = pg::PgPool::Create({url_, 2, milliseconds(200)});
  ASSERT_TRUE(pool.ok());
  std::string first_backend;
  {
    auto lease = (*pool)->Acquire();
    ASSERT_TRUE(lease.ok());
    first_backend = (**lease).Exec("SELECT pg_backend_pid()")->Text(0, 0);
    ASSERT_TRUE((**lease).Exec("BEGIN").ok());
  }
  EXPECT_EQ((*pool)->open_connections(), 0u);
  auto next = (*pool)->Acquire();
  ASSERT_TRUE(next.ok());
  EXPECT_NE((**next).Exec("SELECT pg_backend_pid()")->Text(0, 0), first_backend);
  // A connection handed back idle is reused: same server process.
  std::string second_backend = (**next).Exec("SELECT pg_backend_pid()")->Text(0, 0);
  { auto returned = std::move(next).value(); }
  auto again = (*pool)->Acquire();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((**again).Exec("SELECT pg_backend_pid()")->Text(0, 0), second_backend);
}

TEST_F(PostgresTest, FailedStatementReportsSqlState) {
  auto conn = pg::PgConnection::Connect(url_);
  ASSERT_TRUE(conn.ok());
  pg::PgError error;
  auto bad = conn->Exec("SELECT * FROM no_such_table_here", {}, &error);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kIo);
  EXPECT_EQ(error.sqlstate, "42P01");
  EXPECT_NE(error.message.find("no_such_table_here"), std::string::npos);
  auto null_param = conn->Exec("SELECT $1::text IS NULL", {std::nullopt});
  ASSERT_TRUE(null_param.ok());
  EXPECT_EQ(null_param->Text(0, 0), "t");
}

// The seed's schema.sql: no unique constraints, TIMESTAMP without a zone.
constexpr char kSeedSchema[] =
    "CREATE TABLE users (uuid UUID PRIMARY KEY, display_name text, handle text, email text,"
    " cognito_user_id text, created_at TIMESTAMP default current_timestamp NOT NULL)";

TEST_F(PostgresTest, MigrateAddsUniqueIndexesToTheSeedsTable) {
  TestSchema schema(url_);
  ASSERT_TRUE(schema.ok());
  ASSERT_TRUE(schema.Exec(kSeedSchema));
  ASSERT_TRUE(schema.Exec(
      "INSERT INTO users (uuid, display_name, handle, email) VALUES"
      " ('11111111-2222-4333-8444-555555555555', 'Andrew Brown', 'andrewbrown', 'a@x')"));
  auto users = PostgresUsersDirectory::Open({schema.url(), 2});
  ASSERT_TRUE(users.ok()) << users.status().ToString();
  ASSERT_TRUE((*users)->Migrate().ok());
  ASSERT_TRUE((*users)->Migrate().ok());
  EXPECT_EQ((*users)->CreateUser({"B", "andrewbrown", "b@x", std::nullopt}).status().code(),
            ErrorCode::kResourceInUse);
  auto seeded = (*users)->SeedDemoUsers();
  ASSERT_TRUE(seeded.ok()) << seeded.status().ToString();
  EXPECT_EQ(*seeded, 3);
  auto andrew = (*users)->UserByHandle("andrewbrown");
  ASSERT_TRUE(andrew.ok());
  EXPECT_EQ(andrew->uuid, "11111111-2222-4333-8444-555555555555");
  EXPECT_EQ(andrew->created_at.size(), 24u) << andrew->created_at;
}

TEST_F(PostgresTest, MigrateReportsDuplicatesItCannotIndex) {
  TestSchema schema(url_);
  ASSERT_TRUE(schema.ok());
  ASSERT_TRUE(schema.Exec(kSeedSchema));
  ASSERT_TRUE(
      schema.Exec("INSERT INTO users (uuid, display_name, handle, email) VALUES"
                  " ('11111111-2222-4333-8444-555555555555', 'A', 'dup', 'a@x'),"
                  " ('11111111-2222-4333-8444-555555555556', 'B', 'dup', 'b@x')"));
  auto users = PostgresUsersDirectory::Open({schema.url(), 2});
  ASSERT_TRUE(users.ok());
  Status migrated = (*users)->Migrate();
  EXPECT_EQ(migrated.code(), ErrorCode::kIo);
  EXPECT_NE(migrated.message().find("users_handle_key"), std::string::npos) << migrated.message();
  // The failed migration's connection was not reused mid-transaction.
  EXPECT_TRUE((*users)->ListUsers().ok());
}

TEST(PostgresConnectTest, UnreachableServerIsAnIoErrorWithoutThePassword) {
  auto pool = pg::PgPool::Create({"postgresql://cruddur:s3cret-pw@127.0.0.1:1/none"});
  ASSERT_FALSE(pool.ok());
  EXPECT_EQ(pool.status().code(), ErrorCode::kIo);
  EXPECT_EQ(pool.status().message().find("s3cret-pw"), std::string::npos);
  auto users = PostgresUsersDirectory::Open({"postgresql://127.0.0.1:1/none"});
  EXPECT_EQ(users.status().code(), ErrorCode::kIo);
  EXPECT_EQ(pg::PgPool::Create({"postgresql://127.0.0.1:1/none", 0}).status().code(),
            ErrorCode::kValidation);
}

}  // namespace
}  // namespace cruddur::identity
