// `cruddur db ...`: the seed's database scripts as subcommands, for whichever users store the
// configuration names (PostgreSQL at CONNECTION_URL / --connection-url, else SQLite in
// --data-dir):
//
//   cruddur db schema-load               create the users table and its unique indexes
//   (re-runnable) cruddur db seed                      insert the four demo users that are missing
//   cruddur db drop                      drop the users table
//   cruddur db update-cognito-user-ids   give every user without a cognito_user_id the sub the
//                                        local user pool holds for their handle
//
// update-cognito-user-ids reads the local pool (identity/local_issuer.h) only: with
// AWS_COGNITO_USER_POOL_ID set it refuses, since reading a real pool's ListUsers is not built.
// Each subcommand takes --data-dir (default ./data) and --connection-url. A command that fails
// prints the reason to stderr and exits with status 1.
#pragma once

#include <CLI/CLI.hpp>

namespace cruddur::cli {

// Adds `db` and its subcommands to `app`; they run from CLI11 callbacks during parsing.
void AddDbCommand(CLI::App& app);

}  // namespace cruddur::cli
