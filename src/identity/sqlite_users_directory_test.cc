// SQLite-only behaviour; the behaviour every store shares is in users_directory_test.cc.
#include "identity/sqlite_users_directory.h"

#include <gtest/gtest.h>

namespace cruddur::identity {
namespace {

TEST(SqliteUsersDirectoryOpenTest, MemoryDatabaseAndUnopenablePath) {
  auto memory = SqliteUsersDirectory::Open(":memory:");
  ASSERT_TRUE(memory.ok());
  ASSERT_TRUE((*memory)->Migrate().ok());
  EXPECT_EQ(*(*memory)->SeedDemoUsers(), 4);

  auto bad = SqliteUsersDirectory::Open("/nonexistent-dir/sub/users.sqlite3");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kIo);
}

}  // namespace
}  // namespace cruddur::identity
