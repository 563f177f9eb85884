#include <algorithm>
#include <array>
#include <utility>

#include "dynamo/api/api.h"

namespace cruddur::dynamo::api {

Operation FindOperation(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, Operation>, 27> kOperations = {{
      {"BatchExecuteStatement", &BatchExecuteStatement},
      {"BatchGetItem", &BatchGetItem},
      {"BatchWriteItem", &BatchWriteItem},
      {"CreateTable", &CreateTable},
      {"DeleteItem", &DeleteItem},
      {"DeleteTable", &DeleteTable},
      {"DescribeContinuousBackups", &DescribeContinuousBackups},
      {"DescribeEndpoints", &DescribeEndpoints},
      {"DescribeLimits", &DescribeLimits},
      {"DescribeTable", &DescribeTable},
      {"DescribeTimeToLive", &DescribeTimeToLive},
      {"ExecuteStatement", &ExecuteStatement},
      {"ExecuteTransaction", &ExecuteTransaction},
      {"GetItem", &GetItem},
      {"ListTables", &ListTables},
      {"ListTagsOfResource", &ListTagsOfResource},
      {"PutItem", &PutItem},
      {"Query", &Query},
      {"Scan", &Scan},
      {"TagResource", &TagResource},
      {"TransactGetItems", &TransactGetItems},
      {"TransactWriteItems", &TransactWriteItems},
      {"UntagResource", &UntagResource},
      {"UpdateContinuousBackups", &UpdateContinuousBackups},
      {"UpdateItem", &UpdateItem},
      {"UpdateTable", &UpdateTable},
      {"UpdateTimeToLive", &UpdateTimeToLive},
  }};
  auto it = std::lower_bound(kOperations.begin(), kOperations.end(), name,
                             [](const auto& e, std::string_view n) { return e.first < n; });
  if (it == kOperations.end() || it->first != name) return nullptr;
  return it->second;
}

}  // namespace cruddur::dynamo::api
