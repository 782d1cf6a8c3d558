#!/usr/bin/env python3
"""Interleaved symmetric mode (Peer= ... xleave) across a veth pair between
the test's namespace and a second one it makes.

With chronyd: in the far namespace chronyd A serves its own clock at
stratum 5 and peers with tempusd with a SHA256 key and xleave; chronyd B
has no time of its own and peers with tempusd with xleave and without a
key (tempusd allows it by an explicit Allow=). tempusd synchronises to A
(=* in its sources) and its ntpdata shows the association with A
interleaved; B synchronises to tempusd (=* in chronyc sources through B's
command socket) and B's chronyc ntpdata shows tempusd interleaved, as A's
does. chronyd C peers with tempusd without xleave while tempusd has it:
tempusd falls back to basic mode and C synchronises to tempusd.

With tempusd: tempusd T1 (LocalStratum=5, in the test's namespace) and T2
(in the far namespace, no time of its own), each on its own private bus,
peer with a key and xleave: T2 synchronises to T1, the ntpdata of each
shows the other interleaved, with interleaved answers counted, and once
settled each measures the other within 100 us of zero (one clock) over a
delay from 0.5 us to 1 ms."""
import json

from tempus_test import *

PORT_A, PORT_B, PORT_C, TEMPUS_PORT, T2_PORT = 11123, 11124, 11125, 12123, 12124
FAR_B, FAR_C = "10.13.0.3", "10.13.0.4"
SOURCE = "org.tempus.Tempus1.Source"


def ntpdata_for(text, port):
    return {b["Remote port"]: b for b in ntpdata_blocks(text)}.get(str(port))


def on_bus(address, call):
    """Runs call with DBUS_SYSTEM_BUS_ADDRESS at one tempusd's private bus."""
    saved = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
    os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = address
    try:
        return call()
    finally:
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = saved


def interleaved_replies(address):
    """InterleavedReplies of the Source object whose Address is address."""
    r = run_as(["busctl", "--system", "tree", "--list", "org.tempus.Tempus1"])
    for path in re.findall(r"/org/tempus/Tempus1/source/\d+", r.stdout):
        if json.loads(bus_get("Address", path, SOURCE)) == address:
            return int(bus_get("InterleavedReplies", path, SOURCE))
    fail("no Source object with Address %s" % address)


def stop_cleanly(t, name):
    if t.stop() != 0:
        fail("%s did not exit cleanly" % name)
    if sanitizer_reports(t.output()):
        fail("sanitizer report from %s" % name)


def with_chronyd(args, wd, ns, keys):
    sock_a = chronyd_peer(args, wd, ns, "chronyd-a", ns.far, PORT_A,
                          "local stratum 5\nkeyfile %s\npeer %s port %d key 1 xleave minpoll 0 maxpoll 0\n"
                          % (keys, ns.near, TEMPUS_PORT))
    sock_b = chronyd_peer(args, wd, ns, "chronyd-b", FAR_B, PORT_B,
                          "peer %s port %d xleave minpoll 0 maxpoll 0\n" % (ns.near, TEMPUS_PORT))
    sock_c = chronyd_peer(args, wd, ns, "chronyd-c", FAR_C, PORT_C,
                          "peer %s port %d minpoll 0 maxpoll 0\n" % (ns.near, TEMPUS_PORT))
    d = os.path.join(wd, "tempusd")
    os.makedirs(d)
    t = Tempusd(args, d, {
        "Sources": [("Peer", "%s port=%d key=1 xleave minpoll=0 maxpoll=0" % (ns.far, PORT_A)),
                    ("Peer", "%s port=%d xleave minpoll=0 maxpoll=0" % (FAR_B, PORT_B)),
                    ("Peer", "%s port=%d xleave minpoll=0 maxpoll=0" % (FAR_C, PORT_C))],
        "Clock": [("Control", "no")],
        "Server": [("Port", str(TEMPUS_PORT)), ("Allow", "10.13.0.0/24")],
        "Auth": [("KeyFile", keys)],
    })
    wait_for("READY=1", t.ready, 10)

    def selected_interleaved():
        out = tempusctl(args, "sources", "-n").stdout
        a = ntpdata_for(tempusctl(args, "ntpdata").stdout, PORT_A)
        return ((sources_row(out, ns.far) or "").startswith("=*") and a and a["Interleaved"] == "Yes"
                and int(a["Total valid RX"]) >= 4 and (out, a))
    out, a = wait_for("tempusd to select chronyd A (=*) in interleaved mode", selected_interleaved, 60,
                      on_timeout=lambda m: fail(m + "\n" + tempusctl(args, "sources", "-n").stdout + "\n"
                                                + tempusctl(args, "ntpdata").stdout))
    log(out)
    log(a)
    if a["Mode"] not in ("Symmetric active", "Symmetric passive") or a["Authenticated"] != "Yes":
        fail("ntpdata for chronyd A: %s" % a)
    if a["TX timestamping"] != "Kernel":
        fail("tempusd's interleaved samples of A do not use the kernel's transmit time: %s" % a)
    replies = interleaved_replies(ns.far)
    log("InterleavedReplies of A on D-Bus: %s" % replies)
    if replies < 2:
        fail("D-Bus counts %s interleaved answers from chronyd A" % replies)

    def b_selects_tempusd_interleaved():
        text = chronyc(args, sock_b, "sources")
        block = (ntpdata_blocks(chronyc(args, sock_b, "ntpdata")) or [{}])[0]
        return ((sources_row(text, ns.near) or "").startswith("=*") and block.get("Interleaved") == "Yes"
                and (text, block))
    text, block = wait_for("chronyd B to select tempusd (=*) in interleaved mode", b_selects_tempusd_interleaved, 60,
                           on_timeout=lambda m: fail(m + "\n" + chronyc(args, sock_b, "sources") + "\n"
                                                     + chronyc(args, sock_b, "ntpdata")))
    log(text)
    log(block)
    if sources_row(text, ns.near).split()[2] != "6":
        fail("chronyd B sees tempusd at stratum %s, expected 6 (synchronised to A)"
             % sources_row(text, ns.near).split()[2])

    # C does not do interleaved mode: tempusd falls back to basic mode
    # with it, and C synchronises to tempusd all the same.
    def c_selects_tempusd_basic():
        text = chronyc(args, sock_c, "sources")
        block = (ntpdata_blocks(chronyc(args, sock_c, "ntpdata")) or [{}])[0]
        return ((sources_row(text, ns.near) or "").startswith("=*") and block.get("Interleaved") == "No"
                and (text, block))
    text, block = wait_for("chronyd C (no xleave) to select tempusd (=*) in basic mode", c_selects_tempusd_basic,
                           60, on_timeout=lambda m: fail(m + "\n" + chronyc(args, sock_c, "sources") + "\n"
                                                         + chronyc(args, sock_c, "ntpdata")))
    log(text)
    # C's packets are valid for tempusd once C is synchronised (to tempusd).
    def tempusd_measures_c():
        c = ntpdata_for(tempusctl(args, "ntpdata").stdout, PORT_C)
        return c and int(c["Total valid RX"]) >= 4 and c
    c = wait_for("tempusd to measure chronyd C", tempusd_measures_c, 30,
                 on_timeout=lambda m: fail(m + "\n" + tempusctl(args, "ntpdata").stdout))
    log(c)
    if c["Interleaved"] != "No":
        fail("tempusd's ntpdata for chronyd C (basic mode): %s" % c)

    block = wait_for("chronyd A to see tempusd's packets interleaved",
                     lambda: next((b for b in ntpdata_blocks(chronyc(args, sock_a, "ntpdata"))
                                   if b.get("Interleaved") == "Yes"), None), 20,
                     on_timeout=lambda m: fail(m + "\n" + chronyc(args, sock_a, "ntpdata")))
    log(block)
    if block["Authenticated"] != "Yes" or int(block["Total valid RX"]) < 3:
        fail("chronyd A does not measure tempusd as an authenticated interleaved peer: %s" % block)
    stop_cleanly(t, "tempusd")


def with_tempusd(args, wd, ns, keys):
    d1, d2 = os.path.join(wd, "t1"), os.path.join(wd, "t2")
    os.makedirs(d1)
    os.makedirs(d2)
    bus1 = BusDaemon(args, d1).address
    bus2 = BusDaemon(args, d2).address
    t1 = Tempusd(args, d1, {
        "Sources": [("Peer", "%s port=%d key=1 xleave minpoll=0 maxpoll=0" % (ns.far, T2_PORT))],
        "Clock": [("Control", "no")],
        "Server": [("Port", str(TEMPUS_PORT)), ("LocalStratum", "5")],
        "Auth": [("KeyFile", keys)],
    }, env={"DBUS_SYSTEM_BUS_ADDRESS": bus1})
    t2 = Tempusd(args, d2, {
        "Sources": [("Peer", "%s port=%d key=1 xleave minpoll=0 maxpoll=0" % (ns.near, TEMPUS_PORT))],
        "Clock": [("Control", "no")],
        "Server": [("Port", str(T2_PORT))],
        "Auth": [("KeyFile", keys)],
    }, netns=ns, env={"DBUS_SYSTEM_BUS_ADDRESS": bus2})
    wait_for("T1 READY=1", t1.ready, 10)
    wait_for("T2 READY=1", t2.ready, 10)

    def t2_selects_t1():
        out = on_bus(bus2, lambda: tempusctl(args, "sources", "-n").stdout)
        data = ntpdata_for(on_bus(bus2, lambda: tempusctl(args, "ntpdata").stdout), TEMPUS_PORT)
        return ((sources_row(out, ns.near) or "").startswith("=*") and data and data["Interleaved"] == "Yes"
                and (out, data))
    out, data = wait_for("T2 to select T1 (=*) in interleaved mode", t2_selects_t1, 60,
                         on_timeout=lambda m: fail(m + "\n" + on_bus(bus2, lambda: tempusctl(args, "ntpdata").stdout)))
    log(out)
    log(data)
    if data["Authenticated"] != "Yes" or data["TX timestamping"] != "Kernel":
        fail("T2's ntpdata for T1: %s" % data)

    def t1_sees_t2_interleaved():
        data = ntpdata_for(on_bus(bus1, lambda: tempusctl(args, "ntpdata").stdout), T2_PORT)
        return data and data["Interleaved"] == "Yes" and int(data["Total valid RX"]) >= 4 and data
    data = wait_for("T1 to see T2's packets interleaved", t1_sees_t2_interleaved, 30,
                    on_timeout=lambda m: fail(m + "\n" + on_bus(bus1, lambda: tempusctl(args, "ntpdata").stdout)))
    log(data)
    replies = on_bus(bus1, lambda: interleaved_replies(ns.far))
    log("InterleavedReplies of T2 on T1's bus: %d" % replies)
    if replies < 2:
        fail("T1 counts %s interleaved answers from T2 on D-Bus" % replies)
    # On one machine both clocks are the same: once T2 has taken its
    # first correction, each measures the other near zero over a delay of
    # the veth pair's microseconds (a sample paired across two exchanges
    # would be off by a poll interval).
    def both_measure_near_zero():
        got = []
        for bus, port in ((bus1, T2_PORT), (bus2, TEMPUS_PORT)):
            d = ntpdata_for(on_bus(bus, lambda: tempusctl(args, "ntpdata").stdout), port)
            offset, delay = float(d["Offset"].split()[0]), float(d["Peer delay"].split()[0])
            # tempusd rounds a delay below 0.1 us up to it: 0.5 us is a measured one.
            if abs(offset) > 100e-6 or not 0.5e-6 < delay < 1e-3 or d["Interleaved"] != "Yes":
                return None
            got.append((port, offset, delay))
        return got
    log(wait_for("T1 and T2 to measure each other within 100 us", both_measure_near_zero, 30,
                 on_timeout=lambda m: fail(m + "\n" + on_bus(bus1, lambda: tempusctl(args, "ntpdata").stdout)
                                           + "\n" + on_bus(bus2, lambda: tempusctl(args, "ntpdata").stdout))))
    stop_cleanly(t2, "T2")
    stop_cleanly(t1, "T1")


def test(args, wd):
    ns = FarNamespace(wd, more_far=[FAR_B, FAR_C])
    keys = os.path.join(wd, "peer.keys")
    write_peer_keys(keys)
    os.chmod(wd, 0o755)
    BusDaemon(args, wd)
    with_chronyd(args, wd, ns, keys)
    with_tempusd(args, wd, ns, keys)


run(test)
