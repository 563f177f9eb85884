#include "identity/sqlite_users_directory.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace cruddur::identity {
namespace {

class SqliteUsersDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "identity_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = (dir_ / "users.sqlite3").string();
    dir_users_ = OpenOrDie();
    ASSERT_TRUE(dir_users_->Migrate().ok());
  }
  void TearDown() override {
    dir_users_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<SqliteUsersDirectory> OpenOrDie() {
    auto opened = SqliteUsersDirectory::Open(path_);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return std::move(opened).value();
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<SqliteUsersDirectory> dir_users_;
};

TEST_F(SqliteUsersDirectoryTest, CreateUserAssignsUuidAndCreatedAt) {
  auto user = dir_users_->CreateUser({"Andrew Brown", "andrewbrown", "andrew@exampro.co", "sub-1"});
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_EQ(user->uuid.size(), 36u);
  EXPECT_EQ(user->uuid[14], '4');
  EXPECT_EQ(user->handle, "andrewbrown");
  EXPECT_EQ(user->display_name, "Andrew Brown");
  EXPECT_EQ(user->email, "andrew@exampro.co");
  EXPECT_EQ(user->cognito_user_id, "sub-1");
  EXPECT_EQ(user->created_at.size(), 24u) << user->created_at;
  EXPECT_EQ(user->created_at.back(), 'Z');

  auto again = dir_users_->UserByHandle("andrewbrown");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->uuid, user->uuid);
  EXPECT_EQ(again->created_at, user->created_at);
}

TEST_F(SqliteUsersDirectoryTest, MigrateTwiceKeepsRows) {
  ASSERT_TRUE(dir_users_->CreateUser({"A", "a", "a@x", std::nullopt}).ok());
  ASSERT_TRUE(dir_users_->Migrate().ok());
  EXPECT_TRUE(dir_users_->UserByHandle("a").ok());
}

TEST_F(SqliteUsersDirectoryTest, UniqueHandleAndCognitoUserId) {
  ASSERT_TRUE(dir_users_->CreateUser({"A", "a", "a@x", "sub-a"}).ok());
  auto dup_handle = dir_users_->CreateUser({"B", "a", "b@x", std::nullopt});
  ASSERT_FALSE(dup_handle.ok());
  EXPECT_EQ(dup_handle.status().code(), ErrorCode::kResourceInUse);
  EXPECT_NE(dup_handle.status().message().find("handle"), std::string::npos);

  auto dup_sub = dir_users_->CreateUser({"B", "b", "b@x", "sub-a"});
  ASSERT_FALSE(dup_sub.ok());
  EXPECT_EQ(dup_sub.status().code(), ErrorCode::kResourceInUse);
  EXPECT_NE(dup_sub.status().message().find("cognito_user_id"), std::string::npos);

  // Users without a cognito_user_id do not collide with each other.
  EXPECT_TRUE(dir_users_->CreateUser({"B", "b", "b@x", std::nullopt}).ok());
  EXPECT_TRUE(dir_users_->CreateUser({"C", "c", "c@x", std::nullopt}).ok());

  Status taken = dir_users_->SetCognitoUserId("b", "sub-a");
  EXPECT_EQ(taken.code(), ErrorCode::kResourceInUse) << taken.ToString();
}

TEST_F(SqliteUsersDirectoryTest, ValidatesInput) {
  EXPECT_EQ(dir_users_->CreateUser({"A", "", "a@x", std::nullopt}).status().code(),
            ErrorCode::kValidation);
  EXPECT_EQ(dir_users_->CreateUser({"", "a", "a@x", std::nullopt}).status().code(),
            ErrorCode::kValidation);
  EXPECT_EQ(dir_users_->CreateUser({"A", "a", "", std::nullopt}).status().code(),
            ErrorCode::kValidation);
  EXPECT_EQ(
      dir_users_->CreateUser({"A", std::string(kMaxHandleBytes + 1, 'h'), "a@x", std::nullopt})
          .status()
          .code(),
      ErrorCode::kValidation);
  EXPECT_EQ(dir_users_->CreateUser({"A", "a", "a@x", ""}).status().code(), ErrorCode::kValidation);
  EXPECT_EQ(dir_users_->UuidFromCognitoUserId("").status().code(), ErrorCode::kValidation);
  EXPECT_EQ(dir_users_->UsersByUuids({"u", ""}).status().code(), ErrorCode::kValidation);
  EXPECT_EQ(dir_users_->UsersByUuids({std::string(kMaxUuidBytes + 1, 'u')}).status().code(),
            ErrorCode::kValidation);
  EXPECT_EQ(dir_users_->UsersByUuids(std::vector<std::string>(kMaxUuidsPerLookup + 1, "u"))
                .status()
                .code(),
            ErrorCode::kValidation);
}

TEST_F(SqliteUsersDirectoryTest, SeedTwiceLeavesFourUsers) {
  auto first = dir_users_->SeedDemoUsers();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, 4);
  auto second = dir_users_->SeedDemoUsers();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, 0);

  std::set<std::string> uuids;
  for (const NewUser& demo : DemoUsers()) {
    auto user = dir_users_->UserByHandle(demo.handle);
    ASSERT_TRUE(user.ok()) << demo.handle;
    EXPECT_EQ(user->display_name, demo.display_name);
    EXPECT_EQ(user->email, demo.email);
    EXPECT_FALSE(user->cognito_user_id.has_value());
    uuids.insert(user->uuid);
  }
  EXPECT_EQ(uuids.size(), 4u);
  auto all = dir_users_->UsersByUuids({uuids.begin(), uuids.end()});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 4u);
  ASSERT_EQ(DemoUsers().size(), 4u);
  EXPECT_EQ(DemoUsers()[0].handle, "andrewbrown");
  EXPECT_EQ(DemoUsers()[1].handle, "bayko");
  EXPECT_EQ(DemoUsers()[2].handle, "londo");
  EXPECT_EQ(DemoUsers()[3].handle, "altbrown");
}

TEST_F(SqliteUsersDirectoryTest, SeedKeepsExistingUserWithSameHandle) {
  auto mine = dir_users_->CreateUser({"Mine", "londo", "me@x", "sub-l"});
  ASSERT_TRUE(mine.ok());
  auto seeded = dir_users_->SeedDemoUsers();
  ASSERT_TRUE(seeded.ok());
  EXPECT_EQ(*seeded, 3);
  auto londo = dir_users_->UserByHandle("londo");
  ASSERT_TRUE(londo.ok());
  EXPECT_EQ(londo->uuid, mine->uuid);
  EXPECT_EQ(londo->display_name, "Mine");
}

TEST_F(SqliteUsersDirectoryTest, CognitoUserIdMapsToUuid) {
  ASSERT_TRUE(dir_users_->SeedDemoUsers().ok());
  auto missing = dir_users_->UuidFromCognitoUserId("sub-andrew");
  EXPECT_EQ(missing.status().code(), ErrorCode::kResourceNotFound);

  ASSERT_TRUE(dir_users_->SetCognitoUserId("andrewbrown", "sub-andrew").ok());
  // Setting the same value again succeeds (update-cognito-user-ids is re-runnable).
  ASSERT_TRUE(dir_users_->SetCognitoUserId("andrewbrown", "sub-andrew").ok());
  auto uuid = dir_users_->UuidFromCognitoUserId("sub-andrew");
  ASSERT_TRUE(uuid.ok()) << uuid.status().ToString();
  EXPECT_EQ(*uuid, dir_users_->UserByHandle("andrewbrown")->uuid);

  EXPECT_EQ(dir_users_->SetCognitoUserId("nobody", "sub-x").code(), ErrorCode::kResourceNotFound);
}

TEST_F(SqliteUsersDirectoryTest, ShortProfileAndMessageUsers) {
  ASSERT_TRUE(dir_users_->SeedDemoUsers().ok());
  auto bayko = dir_users_->ShortProfileByHandle("bayko");
  ASSERT_TRUE(bayko.ok());
  EXPECT_EQ(bayko->handle, "bayko");
  EXPECT_EQ(bayko->display_name, "Andrew Bayko");
  EXPECT_EQ(bayko->uuid, dir_users_->UserByHandle("bayko")->uuid);
  EXPECT_EQ(dir_users_->ShortProfileByHandle("nobody").status().code(),
            ErrorCode::kResourceNotFound);

  auto pair = dir_users_->CreateMessageUsers("andrewbrown", "bayko");
  ASSERT_TRUE(pair.ok()) << pair.status().ToString();
  EXPECT_EQ(pair->sender.handle, "andrewbrown");
  EXPECT_EQ(pair->sender.display_name, "Andrew Brown");
  EXPECT_EQ(pair->receiver, *bayko);

  auto self = dir_users_->CreateMessageUsers("londo", "londo");
  ASSERT_TRUE(self.ok());
  EXPECT_EQ(self->sender, self->receiver);

  auto no_receiver = dir_users_->CreateMessageUsers("andrewbrown", "nobody");
  EXPECT_EQ(no_receiver.status().code(), ErrorCode::kResourceNotFound);
  EXPECT_NE(no_receiver.status().message().find("nobody"), std::string::npos);
  auto no_sender = dir_users_->CreateMessageUsers("ghost", "bayko");
  EXPECT_EQ(no_sender.status().code(), ErrorCode::kResourceNotFound);
  EXPECT_NE(no_sender.status().message().find("ghost"), std::string::npos);
  // The failed calls left no transaction open.
  EXPECT_TRUE(dir_users_->CreateUser({"D", "d", "d@x", std::nullopt}).ok());
}

TEST_F(SqliteUsersDirectoryTest, UsersByUuidsKeepsOrderAndSkipsUnknown) {
  ASSERT_TRUE(dir_users_->SeedDemoUsers().ok());
  std::string londo = dir_users_->UserByHandle("londo")->uuid;
  std::string bayko = dir_users_->UserByHandle("bayko")->uuid;
  auto users =
      dir_users_->UsersByUuids({londo, "00000000-0000-4000-8000-000000000000", bayko, londo});
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->size(), 3u);
  EXPECT_EQ((*users)[0].handle, "londo");
  EXPECT_EQ((*users)[1].handle, "bayko");
  EXPECT_EQ((*users)[2].handle, "londo");
  auto none = dir_users_->UsersByUuids({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(SqliteUsersDirectoryTest, DropRemovesTableAndMigrateRecreates) {
  ASSERT_TRUE(dir_users_->SeedDemoUsers().ok());
  ASSERT_TRUE(dir_users_->Drop().ok());
  EXPECT_TRUE(dir_users_->Drop().ok());
  auto gone = dir_users_->ShortProfileByHandle("bayko");
  EXPECT_EQ(gone.status().code(), ErrorCode::kResourceNotFound) << gone.status().ToString();
  EXPECT_EQ(dir_users_->SeedDemoUsers().status().code(), ErrorCode::kResourceNotFound);
  ASSERT_TRUE(dir_users_->Migrate().ok());
  EXPECT_EQ(dir_users_->ShortProfileByHandle("bayko").status().code(),
            ErrorCode::kResourceNotFound);
  auto seeded = dir_users_->SeedDemoUsers();
  ASSERT_TRUE(seeded.ok()) << seeded.status().ToString();
  EXPECT_EQ(*seeded, 4);
}

TEST_F(SqliteUsersDirectoryTest, DataSurvivesReopenAndIsSharedBetweenConnections) {
  ASSERT_TRUE(dir_users_->SeedDemoUsers().ok());
  auto other = OpenOrDie();
  ASSERT_TRUE(other->SetCognitoUserId("bayko", "sub-bayko").ok());
  auto uuid = dir_users_->UuidFromCognitoUserId("sub-bayko");
  ASSERT_TRUE(uuid.ok()) << uuid.status().ToString();
  std::string bayko = *uuid;
  other.reset();
  dir_users_.reset();
  dir_users_ = OpenOrDie();
  EXPECT_EQ(dir_users_->UserByHandle("bayko")->uuid, bayko);
}

TEST_F(SqliteUsersDirectoryTest, ConcurrentCallsFromManyThreads) {
  ASSERT_TRUE(dir_users_->SeedDemoUsers().ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 50; ++i) {
        std::string handle = "u" + std::to_string(t) + "_" + std::to_string(i);
        EXPECT_TRUE(dir_users_->CreateUser({"U", handle, "u@x", "sub-" + handle}).ok());
        EXPECT_TRUE(dir_users_->UuidFromCognitoUserId("sub-" + handle).ok());
        EXPECT_TRUE(dir_users_->CreateMessageUsers("andrewbrown", handle).ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
}

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
