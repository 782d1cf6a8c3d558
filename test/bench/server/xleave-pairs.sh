#!/bin/bash
# tempusd's throughput with 64 basic clients and with 64 interleaved ones
# (ntp-load's one-address-per-client modes), run in back-to-back pairs so
# that other load on a shared machine moves both halves of a pair alike.
# Prints each pair and its ratio (interleaved / basic); never pass/fail.
#
#   test/bench/server/xleave-pairs.sh [BUILD] [SECONDS] [PAIRS]
set -euo pipefail
cd "$(dirname "$0")/../../.."
build=${1:-build}
seconds=${2:-3}
pairs=${3:-6}
load="$build/test/bench/server/ntp-load"
[ -x "$load" ] || { echo "build first: ninja -C $build" >&2; exit 1; }
if [ -z "${TEMPUS_BENCH_INSIDE:-}" ]; then
        exec env TEMPUS_BENCH_INSIDE=1 unshare --net -- "$0" "$@"
fi
ip link set lo up
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '[Clock]\nControl=no\n[Server]\nPort=11124\nAllow=127.0.0.0/8\nLocalStratum=8\n' > "$work/tempus.conf"

rate() {
        taskset -c 0 "$build/src/tempusd" --config "$work/tempus.conf" > "$work/tempusd.log" 2>&1 &
        local pid=$!
        sleep 0.7
        taskset -c 1 "$load" 127.0.0.1 11124 "$seconds" 64 "$1" | awk '{print $1}'
        kill "$pid"; wait "$pid" 2>/dev/null || true
}

echo "| pair | basic replies/s | interleaved replies/s | ratio |"
echo "|------|-----------------|-----------------------|-------|"
for pair in $(seq "$pairs"); do
        basic=$(rate basic)
        xleave=$(rate xleave)
        printf '| %-4s | %15s | %21s | %5.2f |\n' "$pair" "$basic" "$xleave" "$(echo "$xleave / $basic" | bc -l)"
done
