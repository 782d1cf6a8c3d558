#!/usr/bin/env python3
"""Malformed datagrams are dropped and the daemon keeps answering good ones;
a symmetric active request gets a symmetric passive reply."""
from tempus_test import *

PORT = 11124


def test(args, wd):
    t = Tempusd(args, wd, {"Clock": [("Control", "no")],
                           "Server": [("Port", str(PORT)), ("Allow", "127.0.0.1"), ("LocalStratum", "10")]})
    wait_for("tempusd to answer", lambda: ntp_request(PORT) is not None, 10)
    bad = {
        "too short": bytes([0x23]) + bytes(19),
        "mode 7": bytes([0x27]) + bytes(47),
        "mode 6": bytes([0x26]) + bytes(47),
        "version 0": bytes([0x03]) + bytes(47),
        "too long": bytes([0x23]) + bytes(1099),
        "not a multiple of 4": bytes([0x23]) + bytes(49),
        "broken extension field": bytes([0x23]) + bytes(47) + bytes([0, 1, 0, 8]) + bytes(28),
    }
    for what, payload in bad.items():
        if ntp_request(PORT, payload=payload, timeout=0.5) is not None:
            fail("a %s datagram was answered" % what)
    reply = ntp_request(PORT)
    if reply is None or reply["mode"] != 4 or not reply["origin_matches"] or reply["length"] != 48:
        fail("a good request was not answered properly after bad ones: %s" % reply)
    sym = ntp_request(PORT, payload=bytes([0x21, 0, 6, 0xec]) + bytes(44))
    if sym is None or sym["mode"] != 2:
        fail("symmetric active request not answered in mode 2: %s" % sym)
    if not t.alive():
        fail("tempusd died")


run(test)
