#!/usr/bin/env bash
# Configures and builds mxbridge into ./build (RelWithDebInfo). Extra arguments go to CMake.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build "$@"
cmake --build build -j"$jobs"
