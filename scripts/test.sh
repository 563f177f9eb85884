#!/usr/bin/env bash
# Every test: install, build with warnings as errors, run the unit tests (ctest) and the
# black-box boto3 / AWS CLI suite against a freshly started `cruddur dynamodb`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests --build-dir build

echo "== unit tests"
ctest --test-dir build --output-on-failure -j2 --timeout 300

echo "== black-box suite (boto3 + AWS CLI)"
CRUDDUR_BIN="$PWD/build/src/cli/cruddur" /usr/bin/python3 -m pytest tests/compat -q -p no:cacheprovider
