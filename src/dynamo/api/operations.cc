#include <algorithm>
#include <array>
#include <utility>

#include "dynamo/api/api.h"

namespace cruddur::dynamo::api {

Operation FindOperation(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, Operation>, 15> kOperations = {{
      {"BatchGetItem", &BatchGetItem},
      {"BatchWriteItem", &BatchWriteItem},
      {"CreateTable", &CreateTable},
      {"DeleteItem", &DeleteItem},
      {"DeleteTable", &DeleteTable},
      {"DescribeTable", &DescribeTable},
      {"GetItem", &GetItem},
      {"ListTables", &ListTables},
      {"PutItem", &PutItem},
      {"Query", &Query},
      {"Scan", &Scan},
      {"TransactGetItems", &TransactGetItems},
      {"TransactWriteItems", &TransactWriteItems},
      {"UpdateItem", &UpdateItem},
      {"UpdateTable", &UpdateTable},
  }};
  auto it = std::lower_bound(kOperations.begin(), kOperations.end(), name,
                             [](const auto& e, std::string_view n) { return e.first < n; });
  if (it == kOperations.end() || it->first != name) return nullptr;
  return it->second;
}

}  // namespace cruddur::dynamo::api
