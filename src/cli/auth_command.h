// `cruddur auth token <handle> [--data-dir DIR] [--ttl SECONDS] [--connection-url URL]`: prints an
// access token from the local issuer (identity/local_issuer.h) for the user with that handle,
// for `Authorization: Bearer <token>`. The token carries the user's cognito_user_id as its sub;
// a user without one is given the local pool's sub for their handle first (as `cruddur db
// update-cognito-user-ids` would). `cruddur serve` trusts these tokens only when no Cognito
// pool is configured; with AWS_COGNITO_USER_POOL_ID set the command still mints one but says
// so on stderr. Fails (stderr, exit status 1) when the user does not exist.
#pragma once

#include <CLI/CLI.hpp>

namespace cruddur::cli {

// Adds `auth` and `auth token` to `app`; they run from CLI11 callbacks during parsing.
void AddAuthCommand(CLI::App& app);

}  // namespace cruddur::cli
