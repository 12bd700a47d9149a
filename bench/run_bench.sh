#!/usr/bin/env bash
# Runs the transaction-endpoint benchmark of bench/README.md: the three (E, K) cases against a
# fresh mxbridge for each journal durability, and prints a table. With --naive, the same cases
# against mxbridge-naive-receiver (the baseline) instead. A fresh target per case, so each
# case's peak RSS is its own.
#
#   bench/run_bench.sh BUILD_DIR [--naive] [--binary PATH] [--duration S] [--warmup N]
#                                [--durability "process_crash power_loss"]
set -euo pipefail

usage() {
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

[[ $# -ge 1 ]] || usage
BUILD_DIR=$(cd "$1" && pwd)
shift
TARGET=mxbridge
BINARY=""
DURATION=10
WARMUP=500
DURABILITIES="process_crash power_loss"
CASES="1:1 1:16 50:4"   # E:K
while [[ $# -gt 0 ]]; do
    case "$1" in
        --naive) TARGET=naive; shift ;;
        --binary) BINARY=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        --warmup) WARMUP=$2; shift 2 ;;
        --durability) DURABILITIES=$2; shift 2 ;;
        --cases) CASES=$2; shift 2 ;;
        *) usage ;;
    esac
done

find_exe() {  # find_exe NAME: the first executable of that name under BUILD_DIR
    find "$BUILD_DIR" -maxdepth 4 -type f -name "$1" -perm -u+x 2>/dev/null | head -n 1
}
LOADGEN=$(find_exe mxbridge-loadgen)
[[ -n "$LOADGEN" ]] || { echo "no mxbridge-loadgen under $BUILD_DIR: build target mxbridge-loadgen" >&2; exit 2; }
if [[ $TARGET == naive ]]; then
    BINARY=${BINARY:-$(find_exe mxbridge-naive-receiver)}
    DURABILITIES="none"
else
    BINARY=${BINARY:-$(find_exe mxbridge)}
fi
[[ -n "$BINARY" && -x "$BINARY" ]] || { echo "no $TARGET binary found under $BUILD_DIR (use --binary)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/mxbridge-bench-XXXXXX)
TARGET_PID=""
stop_target() {
    [[ -n "$TARGET_PID" ]] || return 0
    kill -TERM "$TARGET_PID" 2>/dev/null || true
    for _ in $(seq 50); do  # up to 5 s for a clean shutdown (journal flush), then SIGKILL
        kill -0 "$TARGET_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$TARGET_PID" 2>/dev/null || true
    wait "$TARGET_PID" 2>/dev/null || true
    TARGET_PID=""
}
cleanup() {
    stop_target
    [[ "${MXBRIDGE_KEEP_TEMP:-0}" == 1 ]] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
    local p
    for _ in $(seq 100); do
        p=$((20000 + RANDOM % 40000))
        port_open "$p" || { echo "$p"; return; }
    done
    echo "no free port found" >&2
    exit 1
}

AS_TOKEN=bench-as-token
HS_TOKEN=bench-hs-token

# start_target DURABILITY DIR: starts the target, sets TARGET_PID and PORT, waits until ready.
start_target() {
    local durability=$1 dir=$2
    PORT=$(free_port)
    if [[ $TARGET == naive ]]; then
        "$BINARY" --port "$PORT" --hs-token "$HS_TOKEN" >"$dir/target.log" 2>&1 &
    else
        cat >"$dir/config.yaml" <<YAML
homeserver:
  url: "http://127.0.0.1:1"
  server_name: "bench.local"
  check_on_startup: false
appservice:
  id: bench
  bind_address: 127.0.0.1
  port: $PORT
  public_url: "http://127.0.0.1:$PORT"
  as_token: $AS_TOKEN
  hs_token: $HS_TOKEN
  bot_localpart: benchbot
database:
  path: $dir/bench.db
  durability: $durability
logging:
  level: warn
bridge:
  type: "null"
YAML
        "$BINARY" run -c "$dir/config.yaml" >"$dir/target.log" 2>&1 &
    fi
    TARGET_PID=$!
    for _ in $(seq 150); do  # up to 15 s
        port_open "$PORT" && return 0
        if ! kill -0 "$TARGET_PID" 2>/dev/null; then
            echo "target exited before listening; last lines of $dir/target.log:" >&2
            tail -n 30 "$dir/target.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "target not listening on $PORT after 15 s; last lines:" >&2
    tail -n 30 "$dir/target.log" >&2
    exit 1
}

echo "target: $BINARY   duration ${DURATION}s per case, warmup $WARMUP events"
printf '%-14s %3s %3s %11s %9s %9s %9s %9s %9s %7s %9s %8s\n' \
    durability E K events/s txn/s p50_ms p90_ms p99_ms max_ms errors peakRSS genCPU_s
for durability in $DURABILITIES; do
    for case in $CASES; do
        e=${case%%:*}
        k=${case##*:}
        dir="$WORK/$durability-e$e-k$k"
        mkdir -p "$dir"
        start_target "$durability" "$dir"
        set +e
        row=$("$LOADGEN" --url "http://127.0.0.1:$PORT" --hs-token "$HS_TOKEN" -e "$e" -k "$k" \
                  --duration "$DURATION" --warmup "$WARMUP" --pid "$TARGET_PID" --tsv \
                  2>"$dir/loadgen.err")
        set -e
        stop_target
        if [[ -z "$row" ]]; then
            echo "loadgen failed for E=$e K=$k:" >&2
            cat "$dir/loadgen.err" >&2
            continue
        fi
        IFS=$'\t' read -r eps tps p50 p90 p99 pmax errors rss hwm cpu <<<"$row"
        printf '%-14s %3s %3s %11s %9s %9s %9s %9s %9s %7s %6s MB %8s\n' \
            "$durability" "$e" "$k" "$eps" "$tps" "$p50" "$p90" "$p99" "$pmax" "$errors" \
            "$hwm" "$cpu"
        if [[ "$errors" != 0 ]]; then
            head -n 5 "$dir/loadgen.err" | sed 's/^/    /' >&2
        fi
    done
done
