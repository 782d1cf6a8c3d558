#!/usr/bin/env python3
"""Socket activation: given a socket by systemd-socket-activate, tempusd
serves on it (and does not bind its own Port=). Given a listening TCP
socket alone, as tempusd-ntske.socket passes it, tempusd serves NTS-KE on
it (and not on its own NTSPort=) and binds its NTP port itself."""
import ssl

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

    ntske(args, wd)


def ntske_handshake(port, ca):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.set_alpn_protocols(["ntske/1"])
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                return s.selected_alpn_protocol()
    except OSError:
        return None


def ntske(args, wd):
    d = os.path.join(wd, "ntske")
    os.makedirs(d)
    ca = make_test_ca(d)
    cert, key = make_server_cert(ca, "server")
    t = Tempusd(args, d, {"Clock": [("Control", "no")],
                          "Server": [("Port", "11127"), ("Allow", "127.0.0.1"), ("LocalStratum", "10"),
                                     ("NTSServerCertFile", cert), ("NTSServerKeyFile", key), ("NTSPort", "14471")],
                          "Auth": [("NTSDumpDir", d + "/nts")]},
                start=False)
    Process("activate-ntske", ["systemd-socket-activate", "-l", "127.0.0.1:14470",
                               args.tempusd, "--config", t.config, "--debug"], d)
    # systemd-socket-activate starts tempusd at the first connection.
    if wait_for("NTS-KE on the passed socket", lambda: ntske_handshake(14470, ca), 10) != "ntske/1":
        fail("no NTS-KE on the socket systemd passed")
    wait_for("tempusd to answer NTP on its own port", lambda: ntp_request(11127), 10)
    if ntske_handshake(14471, ca) is not None:
        fail("tempusd bound NTSPort= although systemd passed an NTS-KE socket")


run(test)
