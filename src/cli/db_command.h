// `cruddur db ...`: the seed's database scripts as subcommands, for whichever users store the
// configuration names (PostgreSQL at CONNECTION_URL / --connection-url, else SQLite in
// --data-dir):
//
//   cruddur db schema-load               create the users table and its unique indexes
//                                        (re-runnable)
//   cruddur db seed                      insert the four demo users that are missing
//   cruddur db drop                      drop the users table
//   cruddur db update-cognito-user-ids   set each user's cognito_user_id to the sub of the pool
//                                        user whose preferred_username is their handle
//
// update-cognito-user-ids reads its pool users from, in order: --from-file (the output of
// `aws cognito-idp list-users` or `cruddur cognito list-users --json`); the Cognito pool
// AWS_COGNITO_USER_POOL_ID names (ListUsers, identity/cognito_users.h; region and credentials
// the AWS way, endpoint override AWS_ENDPOINT_URL_COGNITO_IDP); else the local user pool
// (identity/local_issuer.h), which gives every user without an id one. With a real pool or a file
// --create-missing also inserts the pool users the directory lacks. It prints "---- <handle>
// <sub>" for each user it sets, as the seed's script does, and reports skipped, unmatched and
// refused users on stderr; any refused user makes the exit status 1.
//
// `cruddur cognito list-users` prints the pool's users as "<preferred_username> <sub>" lines
// (users without a preferred_username are reported on stderr), or with --json in the shape of
// `aws cognito-idp list-users`. The pool is --user-pool-id, else AWS_COGNITO_USER_POOL_ID.
//
// Each db subcommand takes --data-dir (default ./data) and --connection-url. A command that
// fails prints the reason to stderr and exits with status 1.
#pragma once

#include <CLI/CLI.hpp>

namespace cruddur::cli {

// Adds `db` and its subcommands to `app`; they run from CLI11 callbacks during parsing.
void AddDbCommand(CLI::App& app);

// Adds `cognito` and its subcommand `list-users` to `app`; they run from CLI11 callbacks.
void AddCognitoCommand(CLI::App& app);

}  // namespace cruddur::cli
