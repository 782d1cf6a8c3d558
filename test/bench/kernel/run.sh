#!/bin/bash
# Real-kernel accuracy benchmark: tempusd (Control=no) and chronyd -x, both
# clients of one chronyd -x server across a delayed, jittery path between
# two network namespaces (tun-relay; this kernel has no sch_netem). All
# share this machine's clock, so each client's estimate of the system
# clock's offset is its error. Prints mean, RMS and max per client and path;
# never pass/fail. chronyd is Debian's package, unpacked into BUILD/peers as
# the integration tests do. Nothing touches the clock: everything runs
# without CAP_SYS_TIME, and both clients are told not to control it.
#
#   test/bench/kernel/run.sh [BUILD] [WARMUP_S] [MEASURE_S] [PATH...]
#
# TEMPUS_BENCH_KEEP=1 keeps every run's logs (both measurement logs, the
# relay's packet log, the wire's exchanges) and prints where they are.
#
# Defaults: 120 s warm-up, 780 s measured, every path (1ms-16s 200us-16s
# 1ms-default 1ms-loss10).
set -euo pipefail
cd "$(dirname "$0")/../../.."
build=${1:-build}
warmup=${2:-120}
measure=${3:-780}
shift $(( $# < 3 ? $# : 3 ))
for f in "$build/src/tempusd" "$build/src/ctl/tempusctl" "$build/test/bench/kernel/tun-relay"; do
        [ -x "$f" ] || { echo "build first: ninja -C $build ($f is missing)" >&2; exit 1; }
done
python3 -c "import sys; sys.path.insert(0, 'test/integration'); import tempus_test; tempus_test.fetch_peers('$build')"
exec unshare --net -- setpriv --bounding-set=-sys_time -- \
        python3 test/bench/kernel/kernel_bench.py "$build" "$warmup" "$measure" "$@"
