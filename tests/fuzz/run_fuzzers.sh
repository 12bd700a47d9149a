#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in their own build directory and runs each for a
# bounded time. Seeds come from tests/fuzz/corpus/<target>/ (read only); inputs libFuzzer
# finds go to <build>/fuzz-corpus/, crashes to <build>/fuzz-artifacts/.
#
# Environment:
#   FUZZ_MAX_TOTAL_TIME  seconds per target (default 60)
#   FUZZ_MAX_LEN         longest input tried (default 16384: past both IRC line limits)
#   FUZZ_TARGETS         space-separated targets (default: all IRC targets)
#   FUZZ_BUILD_JOBS      parallel build jobs (default 2)
#   MXBRIDGE_FUZZ_BUILD_DIR   build directory (default <repo>/build-fuzz)
#   MXBRIDGE_FUZZ_SOURCE_DIR  CMake source directory (default the repository root)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source_dir=${MXBRIDGE_FUZZ_SOURCE_DIR:-$root}
build_dir=${MXBRIDGE_FUZZ_BUILD_DIR:-$root/build-fuzz}
max_time=${FUZZ_MAX_TOTAL_TIME:-60}
max_len=${FUZZ_MAX_LEN:-16384}
jobs=${FUZZ_BUILD_JOBS:-2}
targets=${FUZZ_TARGETS:-"fuzz_irc_message fuzz_irc_formatting"}

if ! command -v clang++ >/dev/null; then
    # Debian 12 ships libFuzzer inside the clang package; later releases split it out.
    echo "clang++ not found: apt-get install clang (and libclang-rt-<version>-dev where it exists)" >&2
    exit 1
fi

CXX=clang++ cmake -S "$source_dir" -B "$build_dir" -DMXBRIDGE_BUILD_FUZZ=ON -DMXBRIDGE_BUILD_TESTS=ON \
    -DMXBRIDGE_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# shellcheck disable=SC2086 # word splitting of the target list is intended
cmake --build "$build_dir" --target $targets -j "$jobs"

failed=0
mkdir -p "$build_dir/fuzz-artifacts"
for target in $targets; do
    corpus=${target#fuzz_}
    work="$build_dir/fuzz-corpus/$corpus"
    mkdir -p "$work"
    binary=$(find "$build_dir" -type f -name "$target" -perm -u+x | head -n 1)
    log="$build_dir/fuzz-$target.log"
    echo "== $target for ${max_time}s (log: $log)"
    set +e
    "$binary" -max_total_time="$max_time" -max_len="$max_len" -print_final_stats=1 \
        -artifact_prefix="$build_dir/fuzz-artifacts/$target-" "$work" "$here/corpus/$corpus" >"$log" 2>&1
    status=$?
    set -e
    grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|SUMMARY|ERROR' "$log" || true
    if [ "$status" -ne 0 ]; then
        echo "!! $target failed (exit $status); crash inputs in $build_dir/fuzz-artifacts/" >&2
        failed=1
    fi
done
exit "$failed"
