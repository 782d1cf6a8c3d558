#!/usr/bin/env python3
"""units-verify: `systemd-analyze verify` finds nothing to say about
tempusd.service and tempusd.socket.

Usage: verify-units.py SYSTEMD_ANALYZE SERVICE SOCKET

SERVICE is tempusd.service with ExecStart= pointing at the built tempusd
(verify checks that the program exists). Both are copied under their real
names into a scratch folder, so the socket finds its service, and verified
together. Any line printed, or a non-zero exit, is a failure.
"""
import os
import shutil
import subprocess
import sys
import tempfile


def main():
    analyze, service, socket = sys.argv[1:4]
    with tempfile.TemporaryDirectory(prefix="tempus-units-") as d:
        units = [os.path.join(d, "tempusd.service"), os.path.join(d, "tempusd.socket")]
        shutil.copyfile(service, units[0])
        shutil.copyfile(socket, units[1])
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
