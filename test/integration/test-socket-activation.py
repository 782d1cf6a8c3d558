#!/usr/bin/env python3
"""Socket activation: given a socket by systemd-socket-activate, tempusd
serves on it (and does not bind its own Port=)."""
from tempus_test import *

PORT = 11125


def test(args, wd):
    t = Tempusd(args, wd, {"Clock": [("Control", "no")],
                           "Server": [("Port", "11126"), ("Allow", "127.0.0.1"), ("LocalStratum", "10")]},
                start=False)
    Process("activate", ["systemd-socket-activate", "--datagram", "-l", "127.0.0.1:%d" % PORT,
                         args.tempusd, "--config", t.config, "--debug"], wd)
    reply = wait_for("an answer on the passed socket", lambda: ntp_request(PORT), 10)
    if reply["stratum"] != 10:
        fail("reply on the passed socket has stratum %d, expected 10" % reply["stratum"])
    if ntp_request(11126, timeout=0.5) is not None:
        fail("tempusd bound Port= although systemd passed a socket")


run(test)
