#!/usr/bin/env python3
"""units-verify: `systemd-analyze verify` finds nothing to say about
tempus's units.

Usage: verify-units.py SYSTEMD_ANALYZE UNIT...

Services are given with ExecStart= pointing at the built programs (verify
checks that the program exists), in files named like the unit with
"-verify" added (tempusd-verify.service). Every unit is copied under its
real name into a scratch folder, so sockets find their services, and all
are verified together. Any line printed, or a non-zero exit, is a failure.
"""
import os
import shutil
import subprocess
import sys
import tempfile


def main():
    analyze, given = sys.argv[1], sys.argv[2:]
    with tempfile.TemporaryDirectory(prefix="tempus-units-") as d:
        units = [os.path.join(d, os.path.basename(u).replace("-verify", "")) for u in given]
        for source, unit in zip(given, units):
            shutil.copyfile(source, unit)
        # Manual pages are checked by man-lint; they are not installed here.
        r = subprocess.run([analyze, "verify", "--man=no"] + units,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           env=dict(os.environ, SYSTEMD_LOG_LEVEL="notice", SYSTEMD_LOG_COLOR="0"))
    print("systemd-analyze verify exited %d" % r.returncode)
    findings = [line for line in r.stdout.splitlines() if line.strip()]
    for line in findings:
        print("finding: " + line)
    if r.returncode != 0 or findings:
        print("FAIL: systemd-analyze verify found problems in the units")
        return 1
    print("PASS: no findings for %s" % ", ".join(os.path.basename(u) for u in units))
    return 0


sys.exit(main())
