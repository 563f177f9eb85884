// The configuration of one event-source mapping: which table's stream feeds which handler, and
// how (Lambda's CreateEventSourceMapping parameters for DynamoDB streams, Lambda Developer Guide
// "Using AWS Lambda with Amazon DynamoDB", with Lambda's ranges and defaults).
//
// A mapping is written either as one line for the command line, or as a JSON object (a config
// file holds a JSON array of them). Both use the same keys:
//
//   name        unique id: 1-64 of [A-Za-z0-9_.-]                                  (required)
//   table       the source table                                                    (required)
//   start       TRIM_HORIZON | LATEST, used only while no checkpoint exists  (TRIM_HORIZON)
//   batch-size  1..10000 records per handler call                                        (100)
//   window-ms   maximum batching window, 0..300000 ms                                      (0)
//   retries     maximum retry attempts: -1 = until it succeeds, else 0..10000             (-1)
//   bisect      true | false: split a failing batch in two and retry each half         (false)
//   on-failure  file:<path> | table:<name>: where a batch that exhausted its retries goes
//   filter      filter criteria JSON: one pattern or a list of up to 5 (triggers/filter.h)
//   timeout-ms  handler time limit, 1..900000 ms                                        (60000)
//   exactly one handler:
//   command     a /bin/sh command run per batch with the Lambda event on stdin
//   url         an http:// or https:// URL the Lambda event is POSTed to
//   native      the name of a handler registered in-process (NativeHandlerRegistry)
//
// One-line form: comma-separated key=value pairs, e.g.
//   name=groups,table=cruddur-messages,batch-size=10,on-failure=file:/tmp/f.jsonl,command=python3
//   h.py
// Quoting rule: a value that starts with ' runs to the next lone ' (write '' for a literal '),
// so it may hold commas: filter='{"eventName":["INSERT"]}'. An unquoted `command=` takes the rest
// of the line, commas included, so it must come last.
//
// In JSON, numbers are JSON numbers, `bisect` a JSON bool, and `filter` a pattern object, a list
// of them, or a string holding that JSON (as Lambda's FilterCriteria.Filters[].Pattern).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace cruddur::triggers {

enum class StartingPosition { kTrimHorizon, kLatest };
enum class HandlerKind { kCommand, kUrl, kNative };

struct MappingConfig {
  std::string name;
  std::string table;
  StartingPosition start = StartingPosition::kTrimHorizon;
  int batch_size = 100;
  int window_ms = 0;
  int retries = -1;
  bool bisect = false;
  std::string on_failure;  // "" (failed batches are logged and dropped), file:..., table:...
  std::string filter;      // "" = every record; else filter criteria JSON text
  int timeout_ms = 60000;
  HandlerKind handler_kind = HandlerKind::kCommand;
  std::string handler;  // the command, URL or native handler name
};

// Checks ranges, names and the shapes of on-failure, filter and handler; ValidationException
// naming the key otherwise.
Status ValidateMapping(const MappingConfig& config);

// The one-line form (see above), validated.
Result<MappingConfig> ParseMappingSpec(std::string_view spec);
// One JSON object, validated.
Result<MappingConfig> MappingFromJson(const json::Value& object);
Result<MappingConfig> ParseMappingJson(std::string_view text);
// A config file's text: a JSON array of mapping objects with distinct names.
Result<std::vector<MappingConfig>> ParseMappingsJson(std::string_view text);
// Reads and parses a config file (kIo when it cannot be read).
Result<std::vector<MappingConfig>> LoadMappingsFile(const std::string& path);

// The JSON object form, with every key (defaults included); MappingFromJson reads it back.
void WriteMappingJson(const MappingConfig& config, json::Writer* writer);
std::string MappingToJson(const MappingConfig& config);
std::string MappingsToJson(const std::vector<MappingConfig>& configs);

std::string_view StartingPositionName(StartingPosition start);
std::string_view HandlerKindKey(HandlerKind kind);  // "command" | "url" | "native"

}  // namespace cruddur::triggers
