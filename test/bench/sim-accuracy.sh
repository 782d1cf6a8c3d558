#!/bin/sh
# Prints the simulator's accuracy table (test/bench/README.md): every
# scenario of the 'sim' suite, each the median of N seeds (default 10).
#   test/bench/sim-accuracy.sh [BUILDDIR] [SEEDS]
set -eu
builddir=${1:-build}
seeds=${2:-10}
ninja -C "$builddir" test/sim/tempus-sim >/dev/null
exec "$builddir/test/sim/tempus-sim" --table --seeds "$seeds"
