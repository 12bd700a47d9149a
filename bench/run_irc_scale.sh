#!/usr/bin/env bash
# Runs the IRC bridge scale benchmark of bench/README.md ("IRC bridge at scale"): a real
# InspIRCd, the real mxbridge with the IRC bridge and the homeserver double; 10,000 puppets
# brought up, 1,000 of them KILLed at once, probe latency before and during the storm.
# Options after BUILD_DIR go to mxbridge-irc-scale (--users, --channels, --kill,
# --connect-rate, --connect-burst, --probe-rate, --baseline-seconds, --help).
#
#   bench/run_irc_scale.sh BUILD_DIR [mxbridge-irc-scale options]
set -euo pipefail

usage() {
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

[[ $# -ge 1 && -d "$1" ]] || usage
BUILD_DIR=$(cd "$1" && pwd)
shift

DRIVER="$BUILD_DIR/bench/irc_scale/mxbridge-irc-scale"
MXBRIDGE="$BUILD_DIR/framework/mxbridge"
if [[ ! -x "$DRIVER" || ! -x "$MXBRIDGE" ]]; then
    echo "run_irc_scale.sh: build it first (tests and bench on):" >&2
    echo "  cmake -S . -B $BUILD_DIR -DMXBRIDGE_BUILD_TESTS=ON -DMXBRIDGE_BUILD_BENCH=ON" >&2
    echo "  cmake --build $BUILD_DIR -j2 --target mxbridge-irc-scale" >&2
    exit 2
fi
if ! command -v "${INSPIRCD:-inspircd}" > /dev/null; then
    echo "run_irc_scale.sh: inspircd is not installed (apt-get install -y inspircd)" >&2
    exit 2
fi

# Bridge and ircd each hold one socket per puppet: lift the soft fd limit to the hard one.
ulimit -Sn "$(ulimit -Hn)"
if [[ "$(ulimit -Sn)" != unlimited && "$(ulimit -Sn)" -lt 12000 ]]; then
    echo "run_irc_scale.sh: the fd limit is $(ulimit -Sn); 10,000 puppets need ~12,000 (raise ulimit -Hn)" >&2
    exit 2
fi

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo '?')"
# Every wait inside is bounded; this bounds the whole run too. On TERM the driver's harness
# kills the ircd and the bridge it started.
exec timeout --signal=TERM 3600 "$DRIVER" --mxbridge "$MXBRIDGE" "$@"
