#!/usr/bin/env python3
"""tempusd as a server to real clients: chronyd -Q and ntpdig (ntpdate)
get time from it that agrees with this machine's clock; an unsynchronised
tempusd without LocalStratum= is refused by them."""
from tempus_test import *


def test(args, wd):
    t = Tempusd(args, wd, {
        "Clock": [("Control", "no")],
        "Server": [("Port", "123"), ("Allow", "127.0.0.1"), ("LocalStratum", "10")],
    })
    wait_for("tempusd to answer", lambda: ntp_request(123) is not None, 10)

    offset = chronyd_query(args, wd, 123)
    if offset is None or abs(offset) >= 1e-3:
        fail("chronyd -Q did not get time within 1 ms from tempusd: %s" % offset)

    r = ntpdig_query(args, "127.0.0.1")
    m = re.search(r"([-+]?[0-9]+\.[0-9]+) \+/- [0-9.]+ 127\.0\.0\.1 s10", r.stdout)
    if r.returncode != 0 or not m or abs(float(m.group(1))) >= 1e-3:
        fail("ntpdig did not get stratum 10 time within 1 ms from tempusd")
    t.stop()

    # Unsynchronised and no LocalStratum: replies say leap 3, stratum 16.
    wd2 = os.path.join(wd, "unsynced")
    os.makedirs(wd2)
    t = Tempusd(args, wd2, {"Clock": [("Control", "no")], "Server": [("Port", "123"), ("Allow", "127.0.0.1")]})
    reply = wait_for("tempusd to answer", lambda: ntp_request(123), 10)
    if reply["leap"] != 3 or reply["stratum"] != 16:
        fail("unsynchronised reply has leap %d stratum %d, expected 3 and 16" % (reply["leap"], reply["stratum"]))
    r = ntpdig_query(args, "127.0.0.1")
    if re.search(r"127\.0\.0\.1 s1?[0-9] ", r.stdout):
        fail("ntpdig accepted time from an unsynchronised server")


run(test)
