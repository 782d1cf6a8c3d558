#!/usr/bin/env python3
"""tempusd as a server to real clients: chronyd -Q and ntpdig (ntpdate)
get time from it that agrees with this machine's clock; an unsynchronised
tempusd without LocalStratum= is refused by them."""
from tempus_test import *


def check_ntpdig_within_1ms(args):
    """ntpdig's offset is only as good as its error bound (the "+/-"
    figure, half the round trip and more): a query the machine held for
    milliseconds (a round trip of 2.4 ms on loopback once, on a guest whose
    CPU was taken away) cannot tell 1 ms. Such a query is asked again, at
    most twice; the offset of one that can tell must be within 1 ms."""
    for attempt in range(3):
        r = ntpdig_query(args, "127.0.0.1")
        m = re.search(r"([-+]?[0-9]+\.[0-9]+) \+/- ([0-9.]+) 127\.0\.0\.1 s10", r.stdout)
        if r.returncode != 0 or not m:
            fail("ntpdig did not get stratum 10 time from tempusd: %s" % r.stdout.strip())
        offset, bound = float(m.group(1)), float(m.group(2))
        if bound < 1e-3:
            if abs(offset) >= 1e-3:
                fail("ntpdig did not get stratum 10 time within 1 ms from tempusd: %s" % r.stdout.strip())
            return
        log("ntpdig's query could not tell 1 ms (+/- %.6f s), asking again" % bound)
    fail("ntpdig's three queries were all held too long to tell 1 ms")


def test(args, wd):
    t = Tempusd(args, wd, {
        "Clock": [("Control", "no")],
        "Server": [("Port", "123"), ("Allow", "127.0.0.1"), ("LocalStratum", "10")],
    })
    wait_for("tempusd to answer", lambda: ntp_request(123) is not None, 10)

    offset = chronyd_query(args, wd, 123)
    if offset is None or abs(offset) >= 1e-3:
        fail("chronyd -Q did not get time within 1 ms from tempusd: %s" % offset)

    check_ntpdig_within_1ms(args)
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
