#!/usr/bin/env bash
# Sets everything up and runs every test: installs Debian's packages (with the test peers),
# builds, and runs CTest. Tests that need the Matrix spec data read MXBRIDGE_SPEC_DIR
# (default ../shared/matrix-spec) and are reported as skipped where it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --with-tests
scripts/build.sh -DMXBRIDGE_BUILD_TESTS=ON
ctest --test-dir build --output-on-failure -j2 "$@"
