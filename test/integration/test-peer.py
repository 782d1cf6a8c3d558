#!/usr/bin/env python3
"""Symmetric mode (Peer=) between tempusd and chronyd, across a veth pair
between the test's namespace and a second one it makes (no added delay:
this kernel has no sch_netem). In the far namespace, chronyd A serves its
own clock at stratum 5 and peers with tempusd with a SHA256 key; chronyd B
has no time of its own and peers with tempusd without a key (tempusd
allows it by an explicit Allow=). Both associations must work in both
directions: tempusd synchronises to A (its sources view shows =* for it,
ntpdata an authenticated symmetric association), and B synchronises to
tempusd (chronyc sources through B's command socket shows =* for it),
while A measures tempusd as a reachable peer and tempusd does not use B,
which would be a loop. A Peer= without key= and
without any Allow= is refused by --check-config."""
from tempus_test import *

PORT_A, PORT_B, TEMPUS_PORT = 11123, 11124, 12123
FAR_B = "10.13.0.3"


def check_config_refuses_unauthenticated_peer(args, wd):
    d = os.path.join(wd, "check")
    os.makedirs(d)
    conf = os.path.join(d, "tempus.conf")
    write_ini(conf, {"Sources": [("Peer", "10.13.0.2")], "Server": [("Port", str(TEMPUS_PORT))]})
    r = subprocess.run([args.tempusd, "--check-config", "--config", conf], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    log(r.stdout.strip())
    if r.returncode == 0 or "explicit [Server] Allow=" not in r.stdout or "tempus.conf:2" not in r.stdout:
        fail("a Peer= without key= and without Allow= was not refused with its line")


def test(args, wd):
    check_config_refuses_unauthenticated_peer(args, wd)
    BusDaemon(args, wd)
    ns = FarNamespace(wd, more_far=[FAR_B])
    keys = os.path.join(wd, "peer.keys")
    write_peer_keys(keys)
    sock_a = chronyd_peer(args, wd, ns, "chronyd-a", ns.far, PORT_A,
                          "local stratum 5\nkeyfile %s\npeer %s port %d key 1 minpoll 0 maxpoll 0\n"
                          % (keys, ns.near, TEMPUS_PORT))
    sock_b = chronyd_peer(args, wd, ns, "chronyd-b", FAR_B, PORT_B,
                          "peer %s port %d minpoll 0 maxpoll 0\n" % (ns.near, TEMPUS_PORT))
    t = Tempusd(args, wd, {
        "Sources": [("Peer", "%s port=%d key=1 minpoll=0 maxpoll=0" % (ns.far, PORT_A)),
                    ("Peer", "%s port=%d minpoll=0 maxpoll=0" % (FAR_B, PORT_B))],
        "Clock": [("Control", "no")],
        "Server": [("Port", str(TEMPUS_PORT)), ("Allow", "10.13.0.0/24")],
        "Auth": [("KeyFile", keys)],
    })
    wait_for("READY=1", t.ready, 10)

    def selected_with_samples():
        out = tempusctl(args, "sources", "-n").stdout
        blocks = {b["Remote port"]: b for b in ntpdata_blocks(tempusctl(args, "ntpdata").stdout)}
        a = blocks.get(str(PORT_A))
        return ((sources_row(out, ns.far) or "").startswith("=*") and a and int(a["Total valid RX"]) >= 4
                and (out, a))
    out, a = wait_for("tempusd to select chronyd A (=*) with 4 samples", selected_with_samples, 40,
                      on_timeout=lambda m: fail(m + "\n" + tempusctl(args, "sources", "-n").stdout))
    log(out)
    log(a)
    if a["Mode"] not in ("Symmetric active", "Symmetric passive") or a["Authenticated"] != "Yes" or int(a["Total valid RX"]) < 3:
        fail("ntpdata for chronyd A: %s" % a)
    if a["Stratum"] != "5":
        fail("chronyd A's stratum %s, expected 5" % a["Stratum"])

    text = wait_for("chronyd B to select tempusd (=*)",
                    lambda: (sources_row(chronyc(args, sock_b, "sources"), ns.near) or "").startswith("=*")
                    and chronyc(args, sock_b, "sources"), 40,
                    on_timeout=lambda m: fail(m + "\n" + chronyc(args, sock_b, "sources")))
    log(text)
    row = sources_row(text, ns.near)
    if row.split()[2] != "6":
        fail("chronyd B sees tempusd at stratum %s, expected 6 (synchronised to A)" % row.split()[2])

    # B now takes its time from tempusd: tempusd must see the loop (B's
    # reference ID is tempusd's own address) and not use B.
    time.sleep(4)
    row_b = sources_row(tempusctl(args, "sources", "-n").stdout, FAR_B)
    log("tempusd's row for B: %s" % row_b)
    if not row_b or row_b[1] in "*+":
        fail("tempusd uses chronyd B, which is synchronised to tempusd: %s" % row_b)

    text = chronyc(args, sock_a, "ntpdata")
    log(text)
    block = ntpdata_blocks(text)[0]
    # A counts tempusd's packets valid but not good: tempusd's reference ID
    # is A's address, which chronyd takes for a synchronisation loop.
    if int(block["Total valid RX"]) < 3 or block["Authenticated"] != "Yes" or block["Mode"] not in ("Symmetric active", "Symmetric passive"):
        fail("chronyd A does not measure tempusd as an authenticated peer: %s" % block)
    if t.stop() != 0:
        fail("tempusd did not exit cleanly")
    if sanitizer_reports(t.output()):
        fail("sanitizer report from tempusd")


run(test)
