#!/usr/bin/env python3
"""Allow=/Deny= decide who is served, the most specific subnet winning;
nobody is served by default; a reload changes the rules."""
from tempus_test import *

PORT = 11124


def config(rules):
    return {"Clock": [("Control", "no")], "Server": [("Port", str(PORT)), ("LocalStratum", "10")] + rules}


def answered(source):
    reply = ntp_request(PORT, source=source)
    return reply is not None and reply["mode"] == 4 and reply["origin_matches"]


def test(args, wd):
    t = Tempusd(args, wd, config([("Allow", "127.0.0.0/8"), ("Deny", "127.0.0.2")]))
    wait_for("tempusd to answer 127.0.0.1", lambda: answered("127.0.0.1"), 10)
    if answered("127.0.0.2"):
        fail("127.0.0.2 was answered although Deny=127.0.0.2")
    if not answered("127.0.0.3"):
        fail("127.0.0.3 was not answered although Allow=127.0.0.0/8")

    t.reload(config([("Allow", "127.0.0.2/32")]))
    wait_for("the reload to allow 127.0.0.2", lambda: answered("127.0.0.2"), 10)
    if answered("127.0.0.1"):
        fail("127.0.0.1 still answered after the reload removed its rule")
    t.stop()

    wd2 = os.path.join(wd, "default")
    os.makedirs(wd2)
    t = Tempusd(args, wd2, config([]))
    wait_for("READY=1", t.ready, 10)
    if answered("127.0.0.1"):
        fail("a client was answered with no Allow= at all")


run(test)
