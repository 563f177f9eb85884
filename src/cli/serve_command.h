// `cruddur serve`: Cruddur's messaging backend in one process, on the embedded defaults or
// against remote services.
//
//   embedded (default)  the engine (`cruddur dynamodb`) on --dynamodb-port with data in
//                       <data-dir>/dynamodb, users in SQLite (<data-dir>/users.sqlite3), tokens
//                       from the local issuer (<data-dir>/local-cognito), and the message-stream
//                       handler as a native trigger on cruddur-messages
//   remote              AWS_ENDPOINT_URL(_DYNAMODB) (or --endpoint-url): DynamoDB over HTTP +
//                       SigV4 (AWS, ScyllaDB Alternator, another engine), the stream handler
//                       polling that endpoint's Streams API; CONNECTION_URL: PostgreSQL;
//                       AWS_COGNITO_USER_POOL_ID/_CLIENT_ID: Cognito tokens
//
// The messaging API listens on --api-port (4567), beside the messaging page (web/, at `/`).
// When the local issuer is the one trusted, the same port publishes its JWKS at
// /.well-known/jwks.json and signs demo users in: POST /api/dev/sign_in {"handle": "bayko"} ->
// {"access_token", "expires_in", "handle"} (404 with Cognito configured: no passwordless
// sign-in where real users live). --demo makes sure the table, the demo
// users and the demo conversation exist, and prints a token and a curl line to try.
#pragma once

#include <cstdint>
#include <string>

namespace cruddur::cli {

struct ServeOptions {
  std::string host = "127.0.0.1";
  uint16_t dynamodb_port = 8000;
  uint16_t api_port = 4567;
  std::string data_dir = "./data";
  bool in_memory = false;    // the embedded engine keeps nothing on disk (users still do)
  std::string endpoint_url;  // overrides AWS_ENDPOINT_URL(_DYNAMODB)
  std::string region = "us-east-1";
  bool demo = false;
  int threads = 0;
  size_t cache_capacity = 100000;
  // Seconds between passes of the embedded engine's TTL sweeper.
  int ttl_period_seconds = 60;
  std::string web_dir;  // the page's files; "" = the repository's web/ (CRUDDUR_WEB_DIR)
};

// Serves until SIGINT/SIGTERM; returns the process exit code.
int RunServe(const ServeOptions& options);

}  // namespace cruddur::cli
