#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, builds the tiny connector test in
# out_of_tree/ against it with find_package(mxbridge), and runs it.
# Args: <cmake> <build dir> <out_of_tree source dir>.
set -euo pipefail
cmake="$1"; build="$2"; source="$3"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/mxbridge-kit-oot.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
"$cmake" --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" || { cat "$tmp/install.log"; exit 1; }
test -f "$tmp/prefix/include/mxbridge/testing/fake_bridge_context.h" ||
    { echo "the testing kit's headers were not installed"; exit 1; }
"$cmake" -S "$source" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_BUILD_TYPE=Release
"$cmake" --build "$tmp/build" -j2
"$tmp/build/shout_connector_test"
