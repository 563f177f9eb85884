// One suite for every UsersDirectory implementation: each test runs against SQLite and against
// a real PostgreSQL server. The PostgreSQL half needs CRUDDUR_TEST_POSTGRES_URL (scripts/test.sh
// starts a server with scripts/postgres_test_server.sh and sets it) and is skipped without it.
// Every PostgreSQL test works in a schema of its own, so tests may run in parallel on one
// database.
#include "identity/users_directory.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "identity/postgres_test_util.h"
#include "identity/postgres_users_directory.h"
#include "identity/sqlite_users_directory.h"

namespace cruddur::identity {
namespace {

// One store under test: where its data lives, and how to open a directory on it.
class TestStore {
 public:
  virtual ~TestStore() = default;
  // Opens another directory object on the same data.
  virtual Result<std::unique_ptr<UsersDirectory>> Open() = 0;
};

class SqliteStore final : public TestStore {
 public:
  SqliteStore() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "identity_test_XXXXXX").string();
    EXPECT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  ~SqliteStore() override { std::filesystem::remove_all(dir_); }
  Result<std::unique_ptr<UsersDirectory>> Open() override {
    CRUDDUR_ASSIGN_OR_RETURN(std::unique_ptr<SqliteUsersDirectory> users,
                             SqliteUsersDirectory::Open((dir_ / "users.sqlite3").string()));
    return std::unique_ptr<UsersDirectory>(std::move(users));
  }

 private:
  std::filesystem::path dir_;
};

// A schema of its own on the test server (postgres_test_util.h).
class PostgresStore final : public TestStore {
 public:
  explicit PostgresStore(std::string url) : schema_(std::move(url)) { EXPECT_TRUE(schema_.ok()); }
  Result<std::unique_ptr<UsersDirectory>> Open() override {
    CRUDDUR_ASSIGN_OR_RETURN(std::unique_ptr<PostgresUsersDirectory> users,
                             PostgresUsersDirectory::Open({schema_.url(), 4}));
    return std::unique_ptr<UsersDirectory>(std::move(users));
  }

 private:
  TestSchema schema_;
};

struct StoreKind {
  const char* name;
  bool postgres;
};
void PrintTo(const StoreKind& kind, std::ostream* os) { *os << kind.name; }

class UsersDirectoryTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    if (GetParam().postgres) {
      std::string url = TestPostgresUrl();
      if (url.empty()) {
        GTEST_SKIP() << "CRUDDUR_TEST_POSTGRES_URL is not set (scripts/postgres_test_server.sh)";
      }
      store_ = std::make_unique<PostgresStore>(url);
    } else {
      store_ = std::make_unique<SqliteStore>();
    }
    users_ = OpenAnother();
    ASSERT_NE(users_, nullptr);
    ASSERT_TRUE(users_->Migrate().ok());
  }
  void TearDown() override {
    users_.reset();
    store_.reset();
  }

  std::unique_ptr<UsersDirectory> OpenAnother() {
    auto opened = store_->Open();
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return opened.ok() ? std::move(opened).value() : nullptr;
  }

  std::unique_ptr<TestStore> store_;
  std::unique_ptr<UsersDirectory> users_;
};

TEST_P(UsersDirectoryTest, CreateUserAssignsUuidAndCreatedAt) {
  auto user = users_->CreateUser({"Andrew Brown", "andrewbrown", "andrew@exampro.co", "sub-1"});
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_EQ(user->uuid.size(), 36u);
  EXPECT_EQ(user->uuid[14], '4');
  EXPECT_EQ(user->handle, "andrewbrown");
  EXPECT_EQ(user->display_name, "Andrew Brown");
  EXPECT_EQ(user->email, "andrew@exampro.co");
  EXPECT_EQ(user->cognito_user_id, "sub-1");
  EXPECT_EQ(user->created_at.size(), 24u) << user->created_at;
  EXPECT_EQ(user->created_at.back(), 'Z');

  auto again = users_->UserByHandle("andrewbrown");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->uuid, user->uuid);
  EXPECT_EQ(again->created_at, user->created_at);
}

TEST_P(UsersDirectoryTest, MigrateTwiceKeepsRows) {
  ASSERT_TRUE(users_->CreateUser({"A", "a", "a@x", std::nullopt}).ok());
  ASSERT_TRUE(users_->Migrate().ok());
  EXPECT_TRUE(users_->UserByHandle("a").ok());
}

TEST_P(UsersDirectoryTest, UniqueHandleAndCognitoUserId) {
  ASSERT_TRUE(users_->CreateUser({"A", "a", "a@x", "sub-a"}).ok());
  auto dup_handle = users_->CreateUser({"B", "a", "b@x", std::nullopt});
  ASSERT_FALSE(dup_handle.ok());
  EXPECT_EQ(dup_handle.status().code(), ErrorCode::kResourceInUse);
  EXPECT_NE(dup_handle.status().message().find("handle"), std::string::npos);

  auto dup_sub = users_->CreateUser({"B", "b", "b@x", "sub-a"});
  ASSERT_FALSE(dup_sub.ok());
  EXPECT_EQ(dup_sub.status().code(), ErrorCode::kResourceInUse);
  EXPECT_NE(dup_sub.status().message().find("cognito_user_id"), std::string::npos);

  // Users without a cognito_user_id do not collide with each other.
  EXPECT_TRUE(users_->CreateUser({"B", "b", "b@x", std::nullopt}).ok());
  EXPECT_TRUE(users_->CreateUser({"C", "c", "c@x", std::nullopt}).ok());

  Status taken = users_->SetCognitoUserId("b", "sub-a");
  EXPECT_EQ(taken.code(), ErrorCode::kResourceInUse) << taken.ToString();
}

TEST_P(UsersDirectoryTest, ValidatesInput) {
  EXPECT_EQ(users_->CreateUser({"A", "", "a@x", std::nullopt}).status().code(),
            ErrorCode::kValidation);
  EXPECT_EQ(users_->CreateUser({"", "a", "a@x", std::nullopt}).status().code(),
            ErrorCode::kValidation);
  EXPECT_EQ(users_->CreateUser({"A", "a", "", std::nullopt}).status().code(),
            ErrorCode::kValidation);
  EXPECT_EQ(users_->CreateUser({"A", std::string(kMaxHandleBytes + 1, 'h'), "a@x", std::nullopt})
                .status()
                .code(),
            ErrorCode::kValidation);
  EXPECT_EQ(users_->CreateUser({"A", "a", "a@x", ""}).status().code(), ErrorCode::kValidation);
  EXPECT_EQ(users_->UuidFromCognitoUserId("").status().code(), ErrorCode::kValidation);
  EXPECT_EQ(users_->UsersByUuids({"u", ""}).status().code(), ErrorCode::kValidation);
  EXPECT_EQ(users_->UsersByUuids({std::string(kMaxUuidBytes + 1, 'u')}).status().code(),
            ErrorCode::kValidation);
  EXPECT_EQ(
      users_->UsersByUuids(std::vector<std::string>(kMaxUuidsPerLookup + 1, "u")).status().code(),
      ErrorCode::kValidation);
}

TEST_P(UsersDirectoryTest, SeedTwiceLeavesFourUsers) {
  auto first = users_->SeedDemoUsers();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, 4);
  auto second = users_->SeedDemoUsers();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, 0);

  std::set<std::string> uuids;
  for (const NewUser& demo : DemoUsers()) {
    auto user = users_->UserByHandle(demo.handle);
    ASSERT_TRUE(user.ok()) << demo.handle;
    EXPECT_EQ(user->display_name, demo.display_name);
    EXPECT_EQ(user->email, demo.email);
    EXPECT_FALSE(user->cognito_user_id.has_value());
    uuids.insert(user->uuid);
  }
  EXPECT_EQ(uuids.size(), 4u);
  auto all = users_->UsersByUuids({uuids.begin(), uuids.end()});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 4u);
  ASSERT_EQ(DemoUsers().size(), 4u);
  EXPECT_EQ(DemoUsers()[0].handle, "andrewbrown");
  EXPECT_EQ(DemoUsers()[1].handle, "bayko");
  EXPECT_EQ(DemoUsers()[2].handle, "londo");
  EXPECT_EQ(DemoUsers()[3].handle, "altbrown");
}

TEST_P(UsersDirectoryTest, SeedKeepsExistingUserWithSameHandle) {
  auto mine = users_->CreateUser({"Mine", "londo", "me@x", "sub-l"});
  ASSERT_TRUE(mine.ok());
  auto seeded = users_->SeedDemoUsers();
  ASSERT_TRUE(seeded.ok());
  EXPECT_EQ(*seeded, 3);
  auto londo = users_->UserByHandle("londo");
  ASSERT_TRUE(londo.ok());
  EXPECT_EQ(londo->uuid, mine->uuid);
  EXPECT_EQ(londo->display_name, "Mine");
}

TEST_P(UsersDirectoryTest, CognitoUserIdMapsToUuid) {
  ASSERT_TRUE(users_->SeedDemoUsers().ok());
  auto missing = users_->UuidFromCognitoUserId("sub-andrew");
  EXPECT_EQ(missing.status().code(), ErrorCode::kResourceNotFound);

  ASSERT_TRUE(users_->SetCognitoUserId("andrewbrown", "sub-andrew").ok());
  // Setting the same value again succeeds (update-cognito-user-ids is re-runnable).
  ASSERT_TRUE(users_->SetCognitoUserId("andrewbrown", "sub-andrew").ok());
  auto uuid = users_->UuidFromCognitoUserId("sub-andrew");
  ASSERT_TRUE(uuid.ok()) << uuid.status().ToString();
  EXPECT_EQ(*uuid, users_->UserByHandle("andrewbrown")->uuid);

  EXPECT_EQ(users_->SetCognitoUserId("nobody", "sub-x").code(), ErrorCode::kResourceNotFound);
}

TEST_P(UsersDirectoryTest, ShortProfileAndMessageUsers) {
  ASSERT_TRUE(users_->SeedDemoUsers().ok());
  auto bayko = users_->ShortProfileByHandle("bayko");
  ASSERT_TRUE(bayko.ok());
  EXPECT_EQ(bayko->handle, "bayko");
  EXPECT_EQ(bayko->display_name, "Andrew Bayko");
  EXPECT_EQ(bayko->uuid, users_->UserByHandle("bayko")->uuid);
  EXPECT_EQ(users_->ShortProfileByHandle("nobody").status().code(), ErrorCode::kResourceNotFound);

  auto pair = users_->CreateMessageUsers("andrewbrown", "bayko");
  ASSERT_TRUE(pair.ok()) << pair.status().ToString();
  EXPECT_EQ(pair->sender.handle, "andrewbrown");
  EXPECT_EQ(pair->sender.display_name, "Andrew Brown");
  EXPECT_EQ(pair->receiver, *bayko);

  auto self = users_->CreateMessageUsers("londo", "londo");
  ASSERT_TRUE(self.ok());
  EXPECT_EQ(self->sender, self->receiver);

  auto no_receiver = users_->CreateMessageUsers("andrewbrown", "nobody");
  EXPECT_EQ(no_receiver.status().code(), ErrorCode::kResourceNotFound);
  EXPECT_NE(no_receiver.status().message().find("nobody"), std::string::npos);
  auto no_sender = users_->CreateMessageUsers("ghost", "bayko");
  EXPECT_EQ(no_sender.status().code(), ErrorCode::kResourceNotFound);
  EXPECT_NE(no_sender.status().message().find("ghost"), std::string::npos);
  // The failed calls left no transaction open.
  EXPECT_TRUE(users_->CreateUser({"D", "d", "d@x", std::nullopt}).ok());
}

TEST_P(UsersDirectoryTest, UsersByUuidsKeepsOrderAndSkipsUnknown) {
  ASSERT_TRUE(users_->SeedDemoUsers().ok());
  std::string londo = users_->UserByHandle("londo")->uuid;
  std::string bayko = users_->UserByHandle("bayko")->uuid;
  auto users = users_->UsersByUuids({londo, "00000000-0000-4000-8000-000000000000", bayko, londo});
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->size(), 3u);
  EXPECT_EQ((*users)[0].handle, "londo");
  EXPECT_EQ((*users)[1].handle, "bayko");
  EXPECT_EQ((*users)[2].handle, "londo");
  auto none = users_->UsersByUuids({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_P(UsersDirectoryTest, DropRemovesTableAndMigrateRecreates) {
  ASSERT_TRUE(users_->SeedDemoUsers().ok());
  ASSERT_TRUE(users_->Drop().ok());
  EXPECT_TRUE(users_->Drop().ok());
  auto gone = users_->ShortProfileByHandle("bayko");
  EXPECT_EQ(gone.status().code(), ErrorCode::kResourceNotFound) << gone.status().ToString();
  EXPECT_EQ(users_->SeedDemoUsers().status().code(), ErrorCode::kResourceNotFound);
  ASSERT_TRUE(users_->Migrate().ok());
  EXPECT_EQ(users_->ShortProfileByHandle("bayko").status().code(), ErrorCode::kResourceNotFound);
  auto seeded = users_->SeedDemoUsers();
  ASSERT_TRUE(seeded.ok()) << seeded.status().ToString();
  EXPECT_EQ(*seeded, 4);
}

TEST_P(UsersDirectoryTest, DataSurvivesReopenAndIsSharedBetweenConnections) {
  ASSERT_TRUE(users_->SeedDemoUsers().ok());
  auto other = OpenAnother();
  ASSERT_TRUE(other->SetCognitoUserId("bayko", "sub-bayko").ok());
  auto uuid = users_->UuidFromCognitoUserId("sub-bayko");
  ASSERT_TRUE(uuid.ok()) << uuid.status().ToString();
  std::string bayko = *uuid;
  other.reset();
  users_.reset();
  users_ = OpenAnother();
  EXPECT_EQ(users_->UserByHandle("bayko")->uuid, bayko);
}

TEST_P(UsersDirectoryTest, ConcurrentCallsFromManyThreads) {
  ASSERT_TRUE(users_->SeedDemoUsers().ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 50; ++i) {
        std::string handle = "u" + std::to_string(t) + "_" + std::to_string(i);
        EXPECT_TRUE(users_->CreateUser({"U", handle, "u@x", "sub-" + handle}).ok());
        EXPECT_TRUE(users_->UuidFromCognitoUserId("sub-" + handle).ok());
        EXPECT_TRUE(users_->CreateMessageUsers("andrewbrown", handle).ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
}

TEST_P(UsersDirectoryTest, ConcurrentCreatesOfOneHandleHaveOneWinner) {
  std::vector<std::thread> threads;
  std::vector<ErrorCode> codes(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([this, t, &codes] {
      codes[t] =
          users_->CreateUser({"Same", "same", "s@x", "sub-" + std::to_string(t)}).status().code();
    });
  }
  for (std::thread& thread : threads) thread.join();
  int winners = 0;
  for (ErrorCode code : codes) {
    if (code == ErrorCode::kOk) {
      ++winners;
    } else {
      EXPECT_EQ(code, ErrorCode::kResourceInUse);
    }
  }
  EXPECT_EQ(winners, 1);
}

TEST_P(UsersDirectoryTest, ListUsersOrderedByHandle) {
  auto empty = users_->ListUsers();
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->empty());
  ASSERT_TRUE(users_->SeedDemoUsers().ok());
  ASSERT_TRUE(users_->SetCognitoUserId("londo", "sub-londo").ok());
  auto all = users_->ListUsers();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  std::vector<std::string> handles;
  for (const User& user : *all) handles.push_back(user.handle);
  EXPECT_EQ(handles, (std::vector<std::string>{"altbrown", "andrewbrown", "bayko", "londo"}));
  EXPECT_EQ((*all)[3].cognito_user_id, "sub-londo");
  EXPECT_FALSE((*all)[0].cognito_user_id.has_value());
  EXPECT_EQ((*all)[0].email, "altbrown@exampro.co");
  EXPECT_EQ((*all)[0].created_at.size(), 24u);
}

// Values are bound, never spliced into SQL: quotes and SQL text are stored as they are.
TEST_P(UsersDirectoryTest, ValuesAreNeverSql) {
  const std::string nasty = "x'); DROP TABLE users; --";
  auto user = users_->CreateUser({nasty, "o'brien", "o'brien@x", "sub-'\"%"});
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_EQ(users_->UserByHandle("o'brien")->display_name, nasty);
  EXPECT_EQ(*users_->UuidFromCognitoUserId("sub-'\"%"), user->uuid);
  EXPECT_EQ(users_->UuidFromCognitoUserId("sub-%").status().code(), ErrorCode::kResourceNotFound);
  EXPECT_EQ(users_->ShortProfileByHandle("o%").status().code(), ErrorCode::kResourceNotFound);
  // Text that is not a canonical uuid names no user, in either store.
  std::string upper = user->uuid;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto found = users_->UsersByUuids({"not-a-uuid", "{" + user->uuid + "}", upper, user->uuid});
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].handle, "o'brien");
}

INSTANTIATE_TEST_SUITE_P(Stores, UsersDirectoryTest,
                         ::testing::Values(StoreKind{"Sqlite", false}, StoreKind{"Postgres", true}),
                         [](const ::testing::TestParamInfo<StoreKind>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace cruddur::identity
