#!/usr/bin/env bash
# The main job on embedded defaults: install, build (optimized, in build-release/, apart from
# the test build in build/), then run the engine on 127.0.0.1:8000 with its data in ./data.
# Extra arguments go to `cruddur dynamodb`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --build-dir build-release
exec ./build-release/src/cli/cruddur dynamodb --host 127.0.0.1 --port 8000 --data-dir ./data "$@"
