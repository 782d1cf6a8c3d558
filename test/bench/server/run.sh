#!/bin/bash
# Server throughput benchmark: tempusd and chronyd (Debian's package,
# unpacked by the integration tests into BUILD/peers) each answer a
# closed-loop load from ntp-load on loopback, inside a network namespace of
# their own. The server runs on CPU 0, the load on CPU 1. Prints replies per
# second and the server's resident memory; never pass/fail.
#
# A second table compares 64 basic clients with 64 clients in interleaved
# mode (ntp-load's one-address-per-client modes): interleaved replies cost
# the server a kernel transmit timestamp read back from its error queue and
# a client log update per reply.
#
#   test/bench/server/run.sh [BUILD] [SECONDS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../../.."
build=${1:-build}
seconds=${2:-10}
rounds=${3:-3}
load="$build/test/bench/server/ntp-load"
chronyd="$build/peers/root/usr/sbin/chronyd"
[ -x "$load" ] || { echo "build first: ninja -C $build" >&2; exit 1; }
if [ ! -x "$chronyd" ]; then
        python3 -c "import sys; sys.path.insert(0, 'test/integration'); import tempus_test; tempus_test.fetch_peers('$build')"
fi

if [ -z "${TEMPUS_BENCH_INSIDE:-}" ]; then
        exec env TEMPUS_BENCH_INSIDE=1 unshare --net -- "$0" "$@"
fi
ip link set lo up
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'port 11123\ncmdport 0\nlocal stratum 8\nallow 127.0.0.0/8\npidfile %s/chronyd.pid\n' "$work" > "$work/chrony.conf"
printf '[Clock]\nControl=no\n[Server]\nPort=11124\nAllow=127.0.0.0/8\nLocalStratum=8\n' > "$work/tempus.conf"

measure() {
        local name=$1 port=$2; shift 2
        taskset -c 0 "$@" > "$work/$name.log" 2>&1 &
        local pid=$!
        sleep 1
        local rate
        rate=$(taskset -c 1 "$load" 127.0.0.1 "$port" "$seconds" 64 $mode | tee "$work/load.out" | awk '{print $1}')
        local rss
        rss=$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
        kill "$pid"; wait "$pid" 2>/dev/null || true
        rm -f "$work/chronyd.pid"
        if [ -z "$mode" ]; then
                printf '| %-8s | %9s | %6s |\n' "$name" "$rate" "$rss"
        else
                printf '| %-8s | %-7s | %9s | %11s |\n' "$name" "$mode" "$rate" \
                        "$(grep -o '[0-9.]*% interleaved' "$work/load.out" | cut -d% -f1)%"
        fi
}

mode=
echo "| server   | replies/s | RSS MB |"
echo "|----------|-----------|--------|"
for round in $(seq "$rounds"); do
        measure chronyd 11123 "$chronyd" -x -d -u root -f "$work/chrony.conf"
        measure tempusd 11124 "$build/src/tempusd" --config "$work/tempus.conf"
done

echo
echo "| server   | clients | replies/s | interleaved |"
echo "|----------|---------|-----------|-------------|"
for round in $(seq "$rounds"); do
        for mode in basic xleave; do
                measure chronyd 11123 "$chronyd" -x -d -u root -f "$work/chrony.conf"
                measure tempusd 11124 "$build/src/tempusd" --config "$work/tempus.conf"
        done
done
