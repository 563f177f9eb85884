#!/usr/bin/env bash
# Installs every build and test dependency from Debian bookworm's packages (as root), then
# configures and builds. Safe to re-run: packages already present are not fetched again.
#
#   scripts/setup.sh [--tests] [--build-dir DIR] [--sanitize]
#
# --tests also builds the GoogleTest binaries (warnings are errors there, as in CI).
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build
with_tests=OFF
sanitize=OFF
while [ $# -gt 0 ]; do
  case "$1" in
    --tests) with_tests=ON ;;
    --build-dir) build_dir="$2"; shift ;;
    --sanitize) sanitize=ON ;;
    *) echo "setup.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

packages=(
  build-essential cmake ninja-build pkg-config git curl ca-certificates
  librocksdb-dev rapidjson-dev node-llhttp libcli11-dev zlib1g-dev libssl-dev
  libsqlite3-dev libpq-dev postgresql libcurl4-openssl-dev libgoogle-perftools-dev libgtest-dev libgmock-dev libbenchmark-dev clang-format
  clang libclang-rt-14-dev
  python3 python3-boto3 python3-pytest python3-requests awscli wrk
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

build_type=Release
[ "$with_tests" = ON ] && build_type=RelWithDebInfo
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" \
  -DCRUDDUR_BUILD_TESTS="$with_tests" -DCRUDDUR_WERROR="$with_tests" -DCRUDDUR_SANITIZE="$sanitize"
cmake --build "$build_dir" -j2
