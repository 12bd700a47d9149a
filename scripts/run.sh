#!/usr/bin/env bash
# Sets everything up and runs the bridge: installs Debian's packages, builds, then
# `mxbridge run -c config.yaml`. The first run writes a commented config.yaml and the
# registration file, and prints what to do next.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh -DMXBRIDGE_BUILD_TESTS=OFF -DMXBRIDGE_BUILD_BENCH=OFF >/dev/null
exec build/framework/mxbridge run -c "${MXBRIDGE_CONFIG:-config.yaml}" "$@"
