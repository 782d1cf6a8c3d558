#!/usr/bin/env python3
"""Timestamping across a veth pair between the test's namespace and a
second one it makes, with a chronyd and a tempusd serving in the far one
(the near tempusd polls the first in basic mode, the second with
xleave).

HWTimestamp=*: this machine's kernel has no device with a PTP hardware
clock (no netdevsim, no PTP mock clock, no /dev/ptp*), so every interface
the near tempusd sees (lo and the veth) must be named once as having no
hardware timestamping, and tempusd must still synchronise to the far
server with the kernel's software timestamps, which ntpdata shows.

TXTimestamps=daemon: a second near tempusd must show Daemon transmit
timestamps (the clock read before sending) for a basic and an
interleaved source alike, while receive timestamps stay the kernel's;
the first one, with the default, shows Kernel for both. The measurements
log's MTxRx column says the same in chrony's letters (K, D)."""
import json

from tempus_test import *

PORT = 11200
CHRONY_PORT = 11123
# The far tempusd's address. A server keeps one client log record per
# client address, so the near tempusd polls it alone.
FAR_XLEAVE = "10.13.0.3"


def far_tempusd(args, wd, ns):
    d = os.path.join(wd, "far")
    os.makedirs(d)
    return Tempusd(args, d, {
        "Clock": [("Control", "no")],
        "Server": [("Port", str(PORT)), ("LocalStratum", "9"), ("Allow", ns.near + "/24")],
    }, netns=ns, env={"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent"})


def near_tempusd(args, wd, name, ns, clock):
    d = os.path.join(wd, name)
    os.makedirs(d)
    t = Tempusd(args, d, {
        "Sources": [("Server", "%s port=%d minpoll=-1 maxpoll=-1 iburst" % (ns.far, CHRONY_PORT)),
                    ("Server", "%s port=%d xleave minpoll=-1 maxpoll=-1 iburst" % (FAR_XLEAVE, PORT))],
        "Clock": [("Control", "no")] + clock,
        "Server": [("Port", "0")],
        "Log": [("Dir", os.path.join(d, "log")), ("Log", "measurements")],
    })
    t.logdir = os.path.join(d, "log")
    wait_for("READY=1 from the %s tempusd" % name, t.ready, 10)
    return t


def ntpdata_with_samples(args):
    blocks = ntpdata_blocks(tempusctl(args, "ntpdata").stdout)
    good = len(blocks) == 2 and all(int(b["Total valid RX"]) >= 6 and b["TX timestamping"] != "-" for b in blocks)
    xleave = [b for b in blocks if b["Remote address"].startswith(FAR_XLEAVE + " ")]
    return good and xleave and xleave[0]["Interleaved"] == "Yes" and blocks


def check_timestamping(args, tx, rx):
    blocks = wait_for("ntpdata with samples from both sources, one interleaved", lambda: ntpdata_with_samples(args), 40,
                      on_timeout=lambda m: fail(m + "\n" + tempusctl(args, "ntpdata").stdout))
    for b in blocks:
        log("%s: TX %s, RX %s, interleaved %s" % (b["Remote address"], b["TX timestamping"],
                                                  b["RX timestamping"], b["Interleaved"]))
        if b["TX timestamping"] != tx or b["RX timestamping"] != rx:
            fail("source %s: TX %s, RX %s; expected TX %s, RX %s"
                 % (b["Remote address"], b["TX timestamping"], b["RX timestamping"], tx, rx))
        if offset_beyond_delay(b):
            fail("source %s: offset %s with a round trip of %s on one machine's clock"
                 % (b["Remote address"], b["Offset"], b["Peer delay"]))
    data = json.loads(tempusctl(args, "ntpdata", "--json").stdout)
    counter = {"Kernel": "KernelTXSamples", "Daemon": "DaemonTXSamples"}[tx]
    others = {"KernelTXSamples", "DaemonTXSamples", "HardwareTXSamples"} - {counter}
    for d in data:
        if d[counter] == 0 or any(d[o] != 0 for o in others):
            fail("--json counts other kinds of transmit timestamps than %s: %s" % (tx, d))


def check_measurement_log(t, tx, rx):
    """chrony's MTxRx: 4 (server), B or I, then the kinds as D/K/H."""
    letters = {"Kernel": "K", "Daemon": "D"}
    rows = t.measurements()
    kinds = {(r[2], r[-3], r[-2], r[-1]) for r in rows[-6:]}
    log("measurements.log MTxRx: %s" % sorted(kinds))
    want = {(ns_far, mode, letters[tx], letters[rx]) for ns_far, mode in (("10.13.0.2", "4B"), (FAR_XLEAVE, "4I"))}
    if kinds != want:
        fail("measurements.log MTxRx %s, expected %s" % (sorted(kinds), sorted(want)))


def check_hw_lines(t):
    out = t.output()
    said = [l for l in out.splitlines() if "HWTimestamp" in l]
    log("\n".join(said))
    for dev in ("lo", "vt-near"):
        mine = [l for l in said if "HWTimestamp: %s " % dev in l]
        if len(mine) != 1 or "%s has no hardware timestamping (software only): using the kernel's software " \
                             "timestamps" % dev not in mine[0]:
            fail("HWTimestamp=* did not name %s once as without hardware timestamping: %s" % (dev, mine))
    if "hardware timestamping on" in out:
        fail("hardware timestamping claimed on a machine without a PHC")


def stop(t):
    if t.stop() != 0:
        fail("%s did not exit cleanly" % t.name)
    if sanitizer_reports(t.output()):
        fail("sanitizer report from %s" % t.name)


def test(args, wd):
    BusDaemon(args, wd)
    ns = FarNamespace(wd, more_far=[FAR_XLEAVE])
    chronyd_server(args, wd, CHRONY_PORT, netns=ns)
    server = far_tempusd(args, wd, ns)
    wait_for("the far tempusd to answer",
             lambda: ntp_request(PORT, address=FAR_XLEAVE, source=ns.near, timeout=0.2), 10)

    t = near_tempusd(args, wd, "kernel", ns, [("HWTimestamp", "*")])
    check_hw_lines(t)
    wait_for("a synchronized status line",
             lambda: (t.status() or "").startswith("Synchronized to ") and t.status(), 20)
    check_timestamping(args, "Kernel", "Kernel")
    check_measurement_log(t, "Kernel", "Kernel")
    check_hw_lines(t)           # still once, after a while of polling
    stop(t)

    t = near_tempusd(args, wd, "daemon", ns, [("TXTimestamps", "daemon")])
    if "TXTimestamps=daemon" not in t.output():
        fail("TXTimestamps=daemon not said at start")
    check_timestamping(args, "Daemon", "Kernel")
    check_measurement_log(t, "Daemon", "Kernel")
    stop(t)
    stop(server)


run(test)
