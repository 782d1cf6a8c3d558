#!/bin/bash
# NTS server benchmark: tempusd and chronyd (Debian's package, unpacked by
# the integration tests into BUILD/peers) as NTS servers with the same
# certificate, made here by openssl, each on CPU 0 inside a network
# namespace of its own, the load on CPU 1. Prints NTS-KE handshakes per
# second (nts-load ke, one after another) and NTS-authenticated NTP
# replies per second (ntp-load sending one NTS request from nts-load);
# never pass/fail. The two servers take turns going first, round by
# round, so that a slow spell of the machine does not fall on one of them
# only; after the rounds it prints each server's median, minimum and
# maximum.
#
#   test/bench/server/nts-run.sh [BUILD] [SECONDS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../../.."
build=${1:-build}
seconds=${2:-10}
rounds=${3:-3}
load="$build/test/bench/server/ntp-load"
nts="$build/test/bench/server/nts-load"
chronyd="$build/peers/root/usr/sbin/chronyd"
[ -x "$nts" ] || { echo "build first: ninja -C $build" >&2; exit 1; }
if [ ! -x "$chronyd" ]; then
        python3 -c "import sys; sys.path.insert(0, 'test/integration'); import tempus_test; tempus_test.fetch_peers('$build')"
fi

if [ -z "${TEMPUS_BENCH_INSIDE:-}" ]; then
        exec env TEMPUS_BENCH_INSIDE=1 unshare --net -- "$0" "$@"
fi
ip link set lo up
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(
        cd "$work"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem \
                -days 2 -subj /CN=bench-ca 2>/dev/null
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr \
                -subj /CN=localhost 2>/dev/null
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
                -extfile ext 2>/dev/null
)
mkdir "$work/chrony-nts" "$work/tempus-nts"
printf 'port 11123\ncmdport 0\nlocal stratum 8\nallow 127.0.0.0/8\npidfile %s/chronyd.pid\nntsport 14460\n' \
        "$work" > "$work/chrony.conf"
printf 'ntsservercert %s/server.pem\nntsserverkey %s/server.key\nntsdumpdir %s/chrony-nts\n' \
        "$work" "$work" "$work" >> "$work/chrony.conf"
printf '[Clock]\nControl=no\n[Server]\nPort=11124\nAllow=127.0.0.0/8\nLocalStratum=8\nNTSPort=14461\n' \
        > "$work/tempus.conf"
printf 'NTSServerCertFile=%s/server.pem\nNTSServerKeyFile=%s/server.key\n[Auth]\nNTSDumpDir=%s/tempus-nts\n' \
        "$work" "$work" "$work" >> "$work/tempus.conf"

measure() {
        local name=$1 ke_port=$2; shift 2
        taskset -c 0 "$@" > "$work/$name.log" 2>&1 &
        local pid=$!
        sleep 2
        local ke port rate
        ke=$(taskset -c 1 "$nts" ke 127.0.0.1 "$ke_port" "$seconds" "$work/ca.pem" | awk '{print $1}')
        port=$(taskset -c 1 "$nts" request 127.0.0.1 "$ke_port" "$work/ca.pem" "$work/request.bin")
        rate=$(taskset -c 1 "$load" 127.0.0.1 "$port" "$seconds" 64 "$work/request.bin" | awk '{print $1}')
        kill "$pid"; wait "$pid" 2>/dev/null || true
        rm -f "$work/chronyd.pid"
        printf '| %5s | %-8s | %12s | %15s |\n' "$round" "$name" "$ke" "$rate"
        echo "$ke" >> "$work/$name.ke"
        echo "$rate" >> "$work/$name.rate"
}

# median min max of the numbers in a file, one a line
summary() {
        sort -n "$1" | awk '{ v[NR] = $1 } END {
                m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
                printf "%d (%d-%d)", m, v[1], v[NR] }'
}

run_chronyd() { measure chronyd 14460 "$chronyd" -x -d -u root -f "$work/chrony.conf"; }
run_tempusd() { measure tempusd 14461 "$build/src/tempusd" --config "$work/tempus.conf"; }

echo "| round | server   | handshakes/s | NTS replies/s |"
echo "|------:|----------|-------------:|--------------:|"
for round in $(seq "$rounds"); do
        if [ $((round % 2)) -eq 1 ]; then
                run_chronyd; run_tempusd
        else
                run_tempusd; run_chronyd
        fi
done
echo
echo "| server   | handshakes/s: median (min-max) | NTS replies/s: median (min-max) |"
echo "|----------|-------------------------------:|--------------------------------:|"
for name in chronyd tempusd; do
        printf '| %-8s | %30s | %31s |\n' "$name" "$(summary "$work/$name.ke")" "$(summary "$work/$name.rate")"
done
