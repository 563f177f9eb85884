#!/usr/bin/env bash
# The main job on embedded defaults: install, build (optimized, in build-release/, apart from
# the test build in build/), then run `cruddur serve --demo`: the messaging API on
# 127.0.0.1:4567, the DynamoDB-compatible engine on 127.0.0.1:8000, data in ./data, the demo
# users and conversation loaded, and a token + curl line printed. Extra arguments go to
# `cruddur serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --build-dir build-release
exec ./build-release/src/cli/cruddur serve --demo --host 127.0.0.1 --data-dir ./data "$@"
