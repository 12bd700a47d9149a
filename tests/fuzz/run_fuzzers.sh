#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in their own build directory and runs each for a
# bounded time; exits 1 if any finds a crash, leak, undefined behaviour, hang or property
# violation, and 77 (CTest's "skipped") where clang or libFuzzer is missing. Seeds come from
# tests/fuzz/corpus/<target>/ (read only); inputs libFuzzer finds go to
# <build>/fuzz-corpus/, crashes to <build>/fuzz-artifacts/.
#
# Environment:
#   FUZZ_MAX_TOTAL_TIME  seconds per target (default 60)
#   FUZZ_MAX_LEN         longest input tried (default 16384: past both IRC line limits)
#   FUZZ_TARGETS         space-separated targets (default: all)
#   FUZZ_PARALLEL        targets fuzzed at once, one core each (default 1)
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
parallel=${FUZZ_PARALLEL:-1}
jobs=${FUZZ_BUILD_JOBS:-2}
targets=${FUZZ_TARGETS:-"fuzz_irc_message fuzz_irc_formatting fuzz_xmpp_stream fuzz_xmpp_styling fuzz_matrix_html fuzz_transaction fuzz_config fuzz_slack_envelope fuzz_purple_wire"}
skipped=77

if ! command -v clang++ >/dev/null; then
    echo "skipped: clang++ not found; apt-get install clang libclang-rt-dev" >&2
    exit "$skipped"
fi
mkdir -p "$build_dir"
# Debian 12's clang only recommends libclang-rt-14-dev, which holds libFuzzer and the
# sanitizer runtimes; without it every fuzzer fails to link, so find out first.
probe="$build_dir/libfuzzer-probe"
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' |
    clang++ -x c++ - -fsanitize=fuzzer,address,undefined -o "$probe" 2>"$probe.log"; then
    cat "$probe.log" >&2
    echo "skipped: clang++ cannot link libFuzzer; apt-get install libclang-rt-dev (Debian 12:" \
        "libclang-rt-14-dev, which clang only recommends)" >&2
    exit "$skipped"
fi

echo "== configuring and building $targets with clang in $build_dir"
if ! CXX=clang++ cmake -S "$source_dir" -B "$build_dir" -DMXBRIDGE_BUILD_FUZZ=ON \
    -DMXBRIDGE_BUILD_TESTS=ON -DMXBRIDGE_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    >"$build_dir/fuzz-configure.log" 2>&1; then
    cat "$build_dir/fuzz-configure.log" >&2
    exit 1
fi
# shellcheck disable=SC2086 # word splitting of the target list is intended
cmake --build "$build_dir" --target $targets -j "$jobs"

# The seed corpus and dictionary of each target.
corpus_of() { echo "${1#fuzz_}"; }
dict_of() {
    case "$1" in
        fuzz_irc_*) echo irc ;;
        fuzz_xmpp_styling) echo styling ;;
        fuzz_xmpp_*) echo xmpp ;;
        fuzz_matrix_html) echo html ;;
        fuzz_transaction | fuzz_slack_*) echo json ;;
        fuzz_config) echo yaml ;;
        fuzz_purple_*) echo purple ;;
    esac
}

mkdir -p "$build_dir/fuzz-artifacts"
run_one() {
    local target=$1 corpus dict work
    corpus=$(corpus_of "$target")
    dict=$(dict_of "$target")
    work="$build_dir/fuzz-corpus/$corpus"
    mkdir -p "$work"
    local status=0
    # -timeout: one input running 30 s is a hang, reported like a crash. libFuzzer's own
    # failure code is 77, which CTest would report as skipped: -error_exitcode changes it.
    # In the build directory: a failed property check also leaves a copy of its input there.
    (cd "$build_dir" && "$build_dir/tests/fuzz/$target" -max_total_time="$max_time" \
        -max_len="$max_len" -timeout=30 -error_exitcode=1 -timeout_exitcode=1 \
        ${dict:+-dict="$here/dict/$dict.dict"} -print_final_stats=1 \
        -artifact_prefix="$build_dir/fuzz-artifacts/$target-" "$work" "$here/corpus/$corpus") \
        >"$build_dir/fuzz-$target.log" 2>&1 || status=$?
    echo "$status" >"$build_dir/fuzz-$target.status"
}

echo "== fuzzing each target for ${max_time}s, $parallel at a time"
for target in $targets; do
    rm -f "$build_dir/fuzz-$target.status"
    while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n || true; done
    run_one "$target" &
done
wait

failed=0
for target in $targets; do
    log="$build_dir/fuzz-$target.log"
    status=$(cat "$build_dir/fuzz-$target.status" 2>/dev/null || echo "no status")
    echo "== $target (log: $log)"
    grep -E '^INFO: Seed:|^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" || true
    if [ "$status" != 0 ]; then
        failed=1
        echo "!! $target failed (exit $status); the end of its log:" >&2
        tail -n 60 "$log" >&2
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        if [ -n "$artifact" ]; then
            echo "!! reproducer: $artifact" >&2
            echo "!! replay it: $build_dir/tests/fuzz/$target $artifact" >&2
        fi
    fi
done
exit "$failed"
