#!/usr/bin/env python3
"""Interleaved mode across a delayed, jittery path: the kernel accuracy
benchmark's relay (this kernel has no sch_netem) holds each packet 1 ms
+/- 100 us each way between a chronyd -x server in a namespace of its own
and two clients in ours, tempusd (Control=no) and chronyd -x, both polling
it with xleave. Both must be answered in interleaved mode (tempusctl
ntpdata and chronyc ntpdata), over round trips the relay made about 2 ms
long, and tempusd's interleaved samples must say so in its measurements
log. The relay must have held both clients' packets alike,
the n-th of one as the n-th of the other (the benchmark's same draws)."""
import statistics
import sys

from tempus_test import *

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench", "kernel"))
import kernel_path  # noqa: E402
from kernel_path import ChronyClient, Path, TempusClient, tempus_options  # noqa: E402

HOLD = (1000, 100)                              # us each way: mean, sd
OPTIONS = "iburst minpoll 2 maxpoll 2 xleave"
# s: two relay holds, each from when the packet left its sender (1 ms
# +/- 100 us, a sum of sd 141 us, its median over the samples within a few
# tens of us of 2 ms); a path past the relay would take tens of us.
LEAST_DELAY = 0.0018


def interleaved(text):
    blocks = ntpdata_blocks(text)
    return bool(blocks) and blocks[0].get("Interleaved") == "Yes" and int(blocks[0]["Total valid RX"]) >= 4


def interleaved_rows(tempus):
    """The measurements log's rows of interleaved replies (mode 4I)."""
    return [r for r in tempus.measurements() if r[-3] == "4I"]


def test(args, wd):
    path = Path(args.build_root, wd, HOLD, seed=13)
    kernel_path.start_server(path, args.peers)
    chrony = ChronyClient(path, args.peers, OPTIONS)
    tempus = TempusClient(path, args, tempus_options(OPTIONS))
    wait_for("both clients answered in interleaved mode",
             lambda: (interleaved(tempus.ntpdata()) and interleaved(chrony.ntpdata())
                      and len(interleaved_rows(tempus)) >= 4), 60,
             on_timeout=lambda m: fail("%s\ntempusctl ntpdata:\n%s\nchronyc ntpdata:\n%s"
                                       % (m, tempus.ntpdata(), chrony.ntpdata())))
    text = tempus.ntpdata()
    log("tempusctl ntpdata:\n%s\nchronyc ntpdata:\n%s" % (text, chrony.ntpdata()))
    block = ntpdata_blocks(text)[0]
    if block["TX timestamping"] != "Kernel" or block["RX timestamping"] != "Kernel":
        fail("tempusd's interleaved samples are not from kernel timestamps: TX %s, RX %s"
             % (block["TX timestamping"], block["RX timestamping"]))
    xleaved = interleaved_rows(tempus)
    delays = [float(r[12]) for r in xleaved]
    log("tempusd's interleaved delays: %s" % " ".join("%.0f" % (d * 1e6) for d in delays))
    if statistics.median(delays) < LEAST_DELAY:
        fail("tempusd's interleaved samples crossed a %.0f us round trip, not the relay's 2 ms"
             % (statistics.median(delays) * 1e6))
    for line in path.summary():
        log("relay " + line)
    compared, alike = path.same_draws()
    log("the relay held %d of %d packets alike for the two clients" % (alike, compared))
    if compared < 8 or alike != compared:
        fail("the two clients did not get the same draws: %d of %d packets held alike" % (alike, compared))


run(test)
