// The triggers admin endpoints, served on the engine's port under /_cruddur/triggers (a path no
// DynamoDB client uses: the DynamoDB protocol is POST /):
//
//   GET    /_cruddur/triggers         200 {"Mappings":[...]} (MappingStatesToJson)
//   POST   /_cruddur/triggers         body: one mapping as a JSON object (mapping_config.h)
//                                     201 {"Mapping":{...}} | 400 invalid | 409 name in use
//   DELETE /_cruddur/triggers/<name>  200 {"Deleted":"<name>"} | 404 no such mapping
//
// Errors answer {"message":"..."}; other methods 405, other paths under the prefix 404.
//
// Thread-safety: as TriggerRunner; safe on any HTTP loop thread. DELETE blocks until the
// mapping's worker has stopped (see TriggerRunner::RemoveMapping).
#pragma once

#include <string_view>

#include "net/http_server.h"
#include "triggers/trigger_runner.h"

namespace cruddur::triggers {

inline constexpr std::string_view kAdminPathPrefix = "/_cruddur/triggers";

// True when the request's path is /_cruddur/triggers or below it (query string ignored): the
// caller should then answer it with HandleTriggersAdmin.
bool IsTriggersAdminPath(std::string_view target);

void HandleTriggersAdmin(TriggerRunner* runner, const net::HttpRequest& request,
                         net::HttpResponse* response);

}  // namespace cruddur::triggers
