#!/usr/bin/env python3
"""tempusd as a client of a real chronyd on loopback: with iburst it selects
the server within 20 s, measures offsets under 1 ms (both share this
machine's clock), says so in its status line and writes its drift file."""
from tempus_test import *

PORT = 11123


def test(args, wd):
    chronyd_server(args, wd, PORT)
    t = Tempusd(args, wd, {
        "Sources": [("Server", "127.0.0.1 iburst port=%d" % PORT)],
        "Clock": [("Control", "no"), ("DriftFile", wd + "/drift")],
        "Server": [("Port", "0")],
        "Log": [("Dir", wd + "/log"), ("Log", "measurements statistics tracking")],
    })
    started = time.monotonic()
    wait_for("READY=1", t.ready, 10)
    rows = wait_for("the tracking log to name 127.0.0.1 as reference",
                    lambda: [r for r in t.tracking() if r[2] == "127.0.0.1"], 20)
    log("selected after %.1f s: %s" % (time.monotonic() - started, " ".join(rows[0])))
    if rows[0][3] != "9":
        fail("stratum %s in tracking log, expected 9 (chronyd serves stratum 8)" % rows[0][3])

    samples = wait_for("4 measurements", lambda: len(t.measurements()) >= 4 and t.measurements(), 20)
    offsets = [float(r[11]) for r in samples]
    log("measured offsets: %s" % offsets)
    if any(abs(o) >= 1e-3 for o in offsets):
        fail("an offset is 1 ms or more: %s" % offsets)

    stats = wait_for("statistics.log rows for 127.0.0.1",
                     lambda: [r for r in read_log_rows(wd + "/log/statistics.log") if r[2] == "127.0.0.1"], 10)
    log("statistics: " + " ".join(stats[-1]))

    status = wait_for("a synchronized status line",
                      lambda: (t.status() or "").startswith("Synchronized to 127.0.0.1") and t.status(), 10)
    log("status: " + status)
    if t.stop() != 0:
        fail("tempusd did not exit cleanly on SIGTERM")
    if not os.path.exists(wd + "/drift"):
        fail("no drift file written on exit")


run(test)
