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

# The same plug-in built as if against another plug-in API version is refused at load, with
# both versions named, instead of being called through interfaces whose layout differs.
"$cmake" -S "$source" -B "$tmp/build-other" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-DMXBRIDGE_PLUGIN_API_VERSION=999 >"$tmp/other.log" \
    || { cat "$tmp/other.log"; exit 1; }
"$cmake" --build "$tmp/build-other" -j2 >>"$tmp/other.log" || { cat "$tmp/other.log"; exit 1; }
cat >"$tmp/config.yaml" <<YAML
homeserver:
  url: http://127.0.0.1:1
  server_name: hs.test
appservice:
  public_url: http://127.0.0.1:2
  as_token: as_token_for_the_version_check
  hs_token: hs_token_for_the_version_check
bridge:
  type: $tmp/build-other/libmxbridge_echo.so
YAML
set +e
out="$("$tmp/prefix/bin/mxbridge" check-config -c "$tmp/config.yaml" 2>&1)"
code=$?
set -e
echo "$out"
want="was built against mxbridge plug-in API 999, and this mxbridge has plug-in API"
if [[ $code -ne 7 || "$out" != *"$want"* ]]; then
    echo "expected exit 7 naming both plug-in API versions, got exit $code"
    exit 1
fi
echo "a plug-in of another API version is refused at load, naming both versions"
