#!/usr/bin/env python3
"""tempusd as a client of a real ntpd (ntpsec) on loopback: it selects the
server and measures offsets under 1 ms."""
from tempus_test import *


def test(args, wd):
    ntpd = ntpd_server(args, wd)
    wait_for("ntpd to answer", lambda: ntp_request(123) is not None, 15)
    t = Tempusd(args, wd, {
        "Sources": [("Server", "127.0.0.1 iburst")],
        "Clock": [("Control", "no")],
        "Server": [("Port", "0")],
        "Log": [("Dir", wd + "/log"), ("Log", "measurements tracking")],
    })
    rows = wait_for("the tracking log to name 127.0.0.1 as reference",
                    lambda: [r for r in t.tracking() if r[2] == "127.0.0.1"], 20)
    log("tracking: " + " ".join(rows[0]))
    samples = wait_for("4 measurements", lambda: len(t.measurements()) >= 4 and t.measurements(), 20)
    offsets = [float(r[11]) for r in samples]
    log("measured offsets: %s" % offsets)
    if any(abs(o) >= 1e-3 for o in offsets):
        fail("an offset is 1 ms or more: %s" % offsets)
    if samples[-1][4] != "10":
        fail("ntpd's stratum is %s in the measurements log, expected 10" % samples[-1][4])
    if not ntpd.alive():
        fail("ntpd died")


run(test)
