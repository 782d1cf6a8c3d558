#!/usr/bin/env python3
"""Pool=H nts: pool.tempus.test resolves to 127.0.0.1 and 127.0.0.2, both
served by one chronyd with NTS (NTS-KE on its own port, NTP on another,
which its NTS-KE names). The server's certificate, from a CA made here,
names the pool and no address, so NTS-KE with a member succeeds only if
the member's certificate is checked against the pool's name. Both members
become sources with Authentication "nts" and cookies on D-Bus, give
samples within 1 ms, and tempusctl authdata shows them in mode NTS."""
import json

from tempus_test import *

CHRONY_PORT = 11123
KE_PORT = 24460
POOL = "pool.tempus.test"
MEMBERS = ["127.0.0.1", "127.0.0.2"]
SOURCE = "org.tempus.Tempus1.Source"


def sources():
    """{address: properties} of the Source objects ObjectManager lists."""
    return {ifaces[SOURCE]["Address"]: ifaces[SOURCE] for ifaces in managed_objects().values() if SOURCE in ifaces}


def samples(t, address):
    return [float(r[11]) for r in t.measurements() if r[2] == address]


def test(args, wd):
    use_private_hosts(wd, {POOL: MEMBERS})
    ca = make_test_ca(wd)
    cert, key = make_server_cert(ca, "server", sans="DNS:" + POOL)
    chronyd_server(args, wd, CHRONY_PORT,
                   extra="ntsserverkey %s\nntsservercert %s\nntsport %d\nntsdumpdir %s/chrony-nts\n"
                         % (key, cert, KE_PORT, wd))
    BusDaemon(args, wd)
    t = Tempusd(args, wd, {
        "Sources": [("Pool", "%s nts ntsport=%d iburst maxsources=2 minpoll=-2 maxpoll=-2" % (POOL, KE_PORT))],
        "Clock": [("Control", "no")],
        "Server": [("Port", "0")],
        "Auth": [("NTSTrustedCerts", ca), ("NTSDumpDir", wd + "/nts")],
        "Log": [("Dir", wd + "/log"), ("Log", "measurements")],
    })
    for address in MEMBERS:
        offsets = wait_for("3 NTS samples from pool member %s" % address,
                           lambda: len(samples(t, address)) >= 3 and samples(t, address), 40,
                           on_timeout=lambda m: (t.dump(60), fail(m)))
        log("%s: offsets %s" % (address, offsets))
        if any(abs(o) >= 1e-3 for o in offsets):
            fail("an offset from %s is 1 ms or more: %s" % (address, offsets))

    members = sources()
    log("pool members: %s" % {a: (p["Authentication"], p["NTSCookies"]) for a, p in members.items()})
    if sorted(members) != MEMBERS:
        fail("the pool's sources are %s, expected %s" % (sorted(members), MEMBERS))
    for address, props in members.items():
        if props["Authentication"] != "nts" or not 1 <= props["NTSCookies"] <= 8:
            fail("pool member %s: Authentication %s, NTSCookies %s; expected nts with cookies"
                 % (address, props["Authentication"], props["NTSCookies"]))
        if props["NTSKEFailures"] != 0 or props["AuthFailures"] != 0:
            fail("pool member %s counts failures: NTSKEFailures %s, AuthFailures %s"
                 % (address, props["NTSKEFailures"], props["AuthFailures"]))

    data = {e["Address"]: e for e in json.loads(tempusctl(args, "--json", "authdata").stdout)}
    log("authdata: %s" % data)
    if any(data.get(a, {}).get("Authentication") != "nts" for a in MEMBERS):
        fail("tempusctl authdata does not show both pool members with NTS: %s" % data)
    if t.stop() != 0 or sanitizer_reports(t.output()):
        fail("tempusd did not exit cleanly")


run(test)
