// The demo conversation of `cruddur serve --demo` and `cruddur ddb seed`: andrewbrown and bayko
// talking about which space station show is better, 104 messages one minute apart, the last one
// at `now` (never later), written through MessageStore so every row (group, member, pair,
// message) is as the service itself writes it.
//
// Thread-safety: not for concurrent use with itself on the same users.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "dynamo/client/client.h"
#include "identity/users_directory.h"

namespace cruddur::messaging {

inline constexpr int kDemoMessages = 104;

struct DemoResult {
  std::string message_group_uuid;
  int messages_written = 0;  // 0 when the two already had a conversation (nothing is added)
};

// Seeds the conversation unless andrewbrown and bayko already share a group. The users must be
// in the directory (`cruddur db seed`): kResourceNotFound naming the missing handle otherwise.
Result<DemoResult> SeedDemoConversation(dynamo::DynamoClient* client, const std::string& table,
                                        identity::UsersDirectory* users, std::int64_t now_micros);

}  // namespace cruddur::messaging
