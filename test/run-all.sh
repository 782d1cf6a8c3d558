#!/bin/bash
# Sets up a fresh Debian machine for the tempus test suites and runs them:
# installs the build and test dependencies, builds tempus twice (warnings as
# errors; AddressSanitizer + UndefinedBehaviorSanitizer) and runs every
# suite in both builds, then runs the libFuzzer targets (clang build). Run as root (the integration tests create network
# namespaces). Exits non-zero if any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
        meson ninja-build gcc pkg-config gettext
        libsystemd-dev libcap-dev libinih-dev libcmocka-dev libgnutls28-dev
        python3 iproute2 util-linux libcap2-bin procps
        systemd dbus libxml2-utils locales mandoc man-db groff-base
        clang libclang-rt-14-dev
        prometheus python3-prometheus-client bash-completion
        polkitd
)

install_packages() {
        local missing=()
        for p in "${packages[@]}"; do
                dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
        done
        [ ${#missing[@]} -eq 0 ] && return 0
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q --no-install-recommends "${missing[@]}" ||
                { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; }
}

setup() {
        local dir=$1; shift
        if [ -d "$dir" ]; then
                meson setup --reconfigure "$dir" "$@" >/dev/null
        else
                meson setup "$dir" "$@" >/dev/null
        fi
}

summary() {
        # meson test's closing block: "Ok: N", "Fail: N", "Skipped: N", "Timeout: N".
        awk '/^Ok:/{ok+=$2} /^Fail:/{f+=$2} /^Timeout:/{f+=$2} /^Unexpected Pass:/{f+=$3} /^Skipped:/{s+=$2}
             END {printf "%d %d %d\n", ok, f, s}' "$@"
}

install_packages

status=0
logs=()
run_suites() {
        local dir=$1; shift
        local log="$dir/run-all.log"
        logs+=("$log")
        meson test -C "$dir" --print-errorlogs "$@" 2>&1 | tee "$log" || status=1
}

setup build --werror
ninja -C build
run_suites build

setup build-asan --werror -Db_sanitize=address,undefined -Db_lundef=false
ninja -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        run_suites build-asan --no-suite system

# libFuzzer targets (clang), each for a bounded time.
CC=clang setup build-fuzz -Dfuzz=true -Dfuzz_seconds=30
ninja -C build-fuzz test/fuzz/fuzz-ntp-packet test/fuzz/fuzz-config
run_suites build-fuzz --suite fuzz --no-rebuild

read -r ok failed skipped < <(summary "${logs[@]}")
echo
echo "tests: $ok passed, $failed failed, $skipped skipped"
# A skipped test proves nothing: the run fails unless every test ran and passed.
[ "$failed" -eq 0 ] && [ "$skipped" -eq 0 ] || status=1
exit $status
