#!/usr/bin/env python3
"""Interleaved mode across a veth pair between the test's namespace and a
second one it makes (no added delay: this kernel has no sch_netem). In the
far namespace a chronyd and a tempusd serve; in the near one a tempusd
polls both with xleave and a chronyd polls the far tempusd with xleave.
tempusctl ntpdata must show both of tempus's sources interleaved, with
kernel transmit and receive timestamps, and chronyc ntpdata (through the
near chronyd's command socket) must show the far tempusd's replies
interleaved; --json must say the same. A tempusd source without xleave
stays in basic mode."""
import json

from tempus_test import *

CHRONY_PORT = 11123
TEMPUS_PORT = 11200
# The far namespace's second address, where its tempusd is polled (one
# Server= line per host).
FAR_TEMPUS = "10.13.0.3"
# The near chronyd's own address: a server keeps one client log record per
# address, and two clients behind one address that poll in turn would
# overwrite each other's.
NEAR_CHRONYD = "10.13.0.4"
# A far tempusd without a client log (ClientLogLimit=0) answers in basic
# mode only: the near tempusd must fall back to basic mode with it.
FAR_BASIC, BASIC_PORT = "10.13.0.5", 11300


def far_tempusd(args, wd, ns, name="far", port=TEMPUS_PORT, extra=()):
    d = os.path.join(wd, name)
    os.makedirs(d)
    return Tempusd(args, d, {
        "Clock": [("Control", "no")],
        "Server": [("Port", str(port)), ("LocalStratum", "9"), ("Allow", ns.near + "/24")] + list(extra),
    }, netns=ns, env={"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent"})


def near_chronyd(args, wd, ns):
    conf = os.path.join(wd, "chrony-client.conf")
    sock = chronyc_socket(wd)
    with open(conf, "w") as f:
        f.write("server %s port %d xleave minpoll -1 maxpoll -1 iburst\n" % (FAR_TEMPUS, TEMPUS_PORT))
        f.write("bindacqaddress %s\n" % NEAR_CHRONYD)
        f.write("port 0\nbindcmdaddress %s\ncmdallow all\npidfile %s/chronyc-client.pid\n" % (sock, wd))
    Process("chronyd-client", [os.path.join(args.peers, "usr/sbin/chronyd"), "-x", "-d", "-u", "root", "-f", conf],
            wd)
    return sock


def tempus_ntpdata(args):
    out = tempusctl(args, "ntpdata").stdout
    return {b["Remote port"]: b for b in ntpdata_blocks(out)}, out


def tempus_both_interleaved(args):
    blocks, out = tempus_ntpdata(args)
    ok = all(blocks.get(str(p), {}).get("Interleaved") == "Yes" and int(blocks[str(p)]["Total valid RX"]) >= 8
             for p in (CHRONY_PORT, TEMPUS_PORT))
    ok = ok and int(blocks.get(str(BASIC_PORT), {}).get("Total valid RX", 0)) >= 8
    return ok and (blocks, out)


def check_tempus_side(args):
    blocks, out = wait_for("tempusctl ntpdata to show both sources interleaved",
                           lambda: tempus_both_interleaved(args), 40,
                           on_timeout=lambda m: fail(m + "\n" + tempus_ntpdata(args)[1]))
    log(out)
    basic = blocks.pop(str(BASIC_PORT))
    if basic["Interleaved"] != "No" or offset_beyond_delay(basic):
        fail("the server without interleaved mode: %s" % basic)
    for port, b in blocks.items():
        if b["TX timestamping"] != "Kernel" or b["RX timestamping"] != "Kernel":
            fail("source on port %s: TX %s, RX %s, expected kernel timestamps"
                 % (port, b["TX timestamping"], b["RX timestamping"]))
        if b["Mode"] != "Server" or b["Version"] != "4" or int(b["Total valid RX"]) < 8:
            fail("source on port %s: unexpected ntpdata %s" % (port, b))
        if int(b["Total TX"]) < int(b["Total valid RX"]):
            fail("source on port %s: more valid replies than requests" % port)
        if offset_beyond_delay(b):
            fail("source on port %s: offset %s, round trip %s, on one machine's clock"
                 % (port, b["Offset"], b["Peer delay"]))
    data = json.loads(tempusctl(args, "ntpdata", "--json").stdout)
    inter = [d for d in data if d["Interleaved"]]
    if len(inter) != 2 or any(d["InterleavedReplies"] == 0 or not d["XLeave"] for d in inter):
        fail("--json disagrees: %s" % data)
    plain = [d for d in data if d["RemotePort"] == BASIC_PORT][0]
    if not plain["XLeave"] or plain["InterleavedReplies"] != 0 or plain["TotalValidRX"] < 8:
        fail("--json for the server without interleaved mode: %s" % plain)


def check_chronyd_side(args, sock):
    def interleaved():
        out = chronyc(args, sock, "ntpdata")
        blocks = ntpdata_blocks(out)
        return blocks and blocks[0].get("Interleaved") == "Yes" and out
    out = wait_for("chronyc ntpdata to show the far tempusd interleaved", interleaved, 40,
                   on_timeout=lambda m: fail(m + "\n" + chronyc(args, sock, "ntpdata")))
    log(out)


def test(args, wd):
    BusDaemon(args, wd)
    ns = FarNamespace(wd, more_far=[FAR_TEMPUS, FAR_BASIC], more_near=[NEAR_CHRONYD])
    chronyd_server(args, wd, CHRONY_PORT, netns=ns)
    server = far_tempusd(args, wd, ns)
    plain = far_tempusd(args, wd, ns, "far-basic", BASIC_PORT, [("ClientLogLimit", "0")])
    wait_for("the far tempusd to answer",
             lambda: ntp_request(TEMPUS_PORT, address=FAR_TEMPUS, source=ns.near, timeout=0.2), 10)
    t = Tempusd(args, wd, {
        "Sources": [("Server", "%s port=%d xleave minpoll=-1 maxpoll=-1 iburst" % (ns.far, CHRONY_PORT)),
                    ("Server", "%s port=%d xleave minpoll=-1 maxpoll=-1 iburst" % (FAR_TEMPUS, TEMPUS_PORT)),
                    ("Server", "%s port=%d xleave minpoll=-1 maxpoll=-1 iburst" % (FAR_BASIC, BASIC_PORT))],
        "Clock": [("Control", "no"), ("HWTimestamp", "*")],
        "Server": [("Port", "0")],
    })
    wait_for("READY=1", t.ready, 10)
    # The veth has no hardware timestamping: said once, and software ones used.
    said = [l for l in t.output().splitlines() if "HWTimestamp: vt-near" in l]
    if len(said) != 1 or "no hardware timestamping (software only)" not in said[0]:
        fail("HWTimestamp=* did not report the veth once: %s" % said)
    sock = near_chronyd(args, wd, ns)
    check_tempus_side(args)
    check_chronyd_side(args, sock)
    for p in (t, server, plain):
        if p.stop() != 0:
            fail("%s did not exit cleanly" % p.name)
        if sanitizer_reports(p.output()):
            fail("sanitizer report from %s" % p.name)


run(test)
