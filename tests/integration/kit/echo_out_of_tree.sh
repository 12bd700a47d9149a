#!/usr/bin/env bash
# Installs the build tree into a temporary prefix and builds examples/echo against it, as the
# example's CMakeLists.txt tells a bridge author to, then runs one round trip through the plug-in
# with integration_kit. Args: <cmake> <build dir> <examples/echo> <integration_kit>.
set -euo pipefail
cmake="$1"; build="$2"; source="$3"; kit="$4"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/mxbridge-oot.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
"$cmake" --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" || { cat "$tmp/install.log"; exit 1; }
"$cmake" -S "$source" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
    -DCMAKE_BUILD_TYPE=Release
"$cmake" --build "$tmp/build" -j2
test -f "$tmp/build/libmxbridge_echo.so" || { echo "libmxbridge_echo.so was not built"; exit 1; }
echo "built $tmp/build/libmxbridge_echo.so against $tmp/prefix"
MXBRIDGE_ECHO_PLUGIN="$tmp/build/libmxbridge_echo.so" \
    "$kit" --no-skip --test-case="the out-of-tree echo plug-in round-trips a message"
