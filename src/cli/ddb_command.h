// `cruddur ddb ...`: the seed's bin/ddb scripts as subcommands, over the HTTP DynamoDB client
// (dynamo/client/http_client.h), so they work against `cruddur dynamodb`, `cruddur serve`,
// DynamoDB Local or AWS alike:
//
//   cruddur ddb schema-load [prod]           create cruddur-messages (MessageStore::CreateTable:
//                                            the seed's schema, its GSI, a NEW_IMAGE stream) and
//                                            print its description; an existing table is
//                                            reported and left alone (exit 0)
//   cruddur ddb list-tables [prod]           every table name, one a line, all pages
//   cruddur ddb drop <table> [prod]          delete the table (a table name is required)
//   cruddur ddb scan [prod]                  every item of cruddur-messages, all pages, one
//                                            DynamoDB-JSON item a line
//   cruddur ddb seed [prod]                  the demo conversation between andrewbrown and bayko
//                                            (messaging/demo.h: 104 messages a minute apart, the
//                                            last at now); if the two already share a group,
//                                            nothing is written and the group is named (exit 0)
//   cruddur ddb get-conversation [group] [prod]
//                                            the group's messages oldest first, one a line:
//                                            handle, local time ("2026-11-24 09:02 AM"), text;
//                                            without a group, andrewbrown's newest conversation
//   cruddur ddb list-conversations [handle] [prod]
//                                            the user's (default andrewbrown) conversations
//                                            newest first: other handle, local time, last text
//
// Where: without `prod`, the endpoint is --endpoint-url (default http://127.0.0.1:8000, the
// local engine; AWS_ENDPOINT_URL is not consulted, as the seed's scripts hardcode theirs), with
// the AWS configuration's credentials and region when it resolves and dummy ones (us-east-1)
// when it does not. With `prod` (as the seed's scripts take it) the AWS configuration must
// resolve and decides (aws_config.h: AWS_ENDPOINT_URL, region, keys, profiles), i.e. real AWS
// unless --endpoint-url names another endpoint. Calls are retried up to 3 attempts (the AWS CLI's
// default; AWS_MAX_ATTEMPTS or the profile's max_attempts override).
//
// Users (seed, get-conversation, list-conversations) come from the users directory named by
// --data-dir (SQLite, default ./data) or CONNECTION_URL / --connection-url (PostgreSQL); a
// missing demo user is reported with the hint to run `cruddur db seed`.
//
// Failures print one line to stderr ("cruddur ddb <sub>: ...", e.g. "cannot reach the DynamoDB
// endpoint at http://127.0.0.1:8000: ...") and exit with status 1; usage errors exit as CLI11's
// own do.
#pragma once

#include <CLI/CLI.hpp>

namespace cruddur::cli {

// Adds `ddb` and its subcommands to `app`; they run from CLI11 callbacks during parsing.
void AddDdbCommand(CLI::App& app);

}  // namespace cruddur::cli
