#!/bin/bash
# The soak benchmark (see soak.py): tempusd from BUILD, best the ASan/UBSan
# build, under mixed NTP and D-Bus load with a reload every minute, for
# SECONDS after a 30 s warm-up. Prints figures; exits 1 only on a finding
# (tempusd died or hung, a sanitizer report, a reply larger than its request).
#
#   meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false
#   ninja -C build-asan
#   test/bench/soak/run.sh [BUILD] [SECONDS] [RATE]
set -euo pipefail
cd "$(dirname "$0")/../../.."
build=${1:-build-asan}
seconds=${2:-600}
rate=${3:-5000}
[ -x "$build/test/bench/soak/soak-load" ] || { echo "build first: ninja -C $build" >&2; exit 1; }
exec python3 test/bench/soak/soak.py "$build/src/tempusd" "$build" "$PWD" --duration "$seconds" --rate "$rate"
