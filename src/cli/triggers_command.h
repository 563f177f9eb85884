// `cruddur triggers`: list, create and delete the event-source mappings of a running
// `cruddur dynamodb`, through its admin endpoints (triggers/admin.h):
//
//   cruddur triggers list   [--json]                 [--endpoint-url http://127.0.0.1:8000]
//   cruddur triggers create <spec | json object>     [--endpoint-url ...]
//   cruddur triggers delete <name>                   [--endpoint-url ...]
//
// <spec> is the one-line form of triggers/mapping_config.h, e.g.
//   cruddur triggers create 'name=groups,table=cruddur-messages,command=python3 h.py'
// and is checked here before anything is sent. Exit status 0 on success, 1 otherwise (the
// server's or the checker's message on stderr).
#pragma once

#include <CLI/CLI.hpp>

namespace cruddur::cli {

void AddTriggersCommand(CLI::App& app);

}  // namespace cruddur::cli
