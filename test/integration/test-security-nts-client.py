#!/usr/bin/env python3
"""Attacks on tempusd as an NTS client, each rejected, counted, and
leaving time keeping unharmed:

- a relay on the path of an NTS source (chronyd's NTS server behind it)
  flips one bit in each reply, then replays old replies for new
  requests: no sample is taken from them, AuthFailures counts them, and
  once the relay is honest again the source gives samples again (after a
  new NTS-KE, as the cookies spent on unanswered requests are gone);
- a KE server that accepts the connection and then says nothing: the
  exchange gives up after 10 s (NTSKEFailures), while D-Bus answers
  promptly and the other source keeps giving samples;
- a KE server whose certificate comes from a CA tempusd does not trust;
- a KE server whose certificate has expired: accepted before the clock's
  first update (NoCertTimeCheck=1, the default), refused once tempusd is
  synchronised (the source added then with AddSource).

And the NTPv4 Server and Port records of NTS-KE are honoured: a KE server
that names 127.0.0.8 port 11200 gets the NTS request, with its cookie,
there."""
import ssl
import threading

from tempus_test import *

CHRONY_PORT = 11123
CHRONY_KE_PORT = 24460
SOURCE = "org.tempus.Tempus1.Source"


class UdpRelay:
    """127.0.0.2:port <-> 127.0.0.1:port. mode: pass, flip (one bit of
    each reply, after the header), replay (the reply before, instead of
    this one)."""

    def __init__(self, port):
        self.mode, self.old = "pass", None
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.2", port))
        self.port = port
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        import random
        while True:
            data, client = self.front.recvfrom(4096)
            back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            back.settimeout(1)
            back.sendto(data, ("127.0.0.1", self.port))
            try:
                reply = back.recv(4096)
            except socket.timeout:
                continue
            finally:
                back.close()
            out = reply
            if self.mode == "flip":
                b = bytearray(reply)
                i = random.randrange(len(b) * 8)
                b[i // 8] ^= 1 << (i % 8)
                out = bytes(b)
            elif self.mode == "replay":
                out = self.old
            self.old = reply
            if out:
                self.front.sendto(out, client)


class FakeKeServer:
    """A TLS server with ALPN ntske/1 and the given certificate that
    answers any request with NTPv4, AES-SIV-CMAC-256 and one cookie of
    junk: enough for a client to count the exchange as done, so that
    whether the certificate was accepted shows."""

    def __init__(self, address, cert, key, extra=b""):
        self.extra = extra
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        self.ctx.set_alpn_protocols(["ntske/1"])
        self.ctx.load_cert_chain(cert, key)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((address, 4460))
        self.sock.listen(8)
        self.handshakes = 0
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while True:
            c, _ = self.sock.accept()
            try:
                with self.ctx.wrap_socket(c, server_side=True) as s:
                    s.settimeout(5)
                    s.recv(1024)
                    self.handshakes += 1
                    s.sendall(bytes.fromhex("80010002000080040002000f") + struct.pack("!HH", 5, 100)
                              + b"\xc0" * 100 + self.extra + bytes.fromhex("80000000"))
            except (OSError, ssl.SSLError):
                pass


def check_negotiation(wd, ca_pem):
    """NTS-KE names another NTP server and port: the request goes there."""
    cert = make_server_cert(ca_pem, "negotiate", "IP:127.0.0.7")
    FakeKeServer("127.0.0.7", *cert, extra=struct.pack("!HH", 0x8006, 9) + b"127.0.0.8"
                 + struct.pack("!HHH", 0x8007, 2, 11200))
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.8", 11200))
    u.settimeout(20)
    bus_call("AddSource", "s", "server 127.0.0.7 nts iburst")
    try:
        data, _ = u.recvfrom(4096)
    except socket.timeout:
        fail("no NTP request at the server and port NTS-KE named")
    if b"\xc0" * 100 not in data or struct.unpack("!H", data[48:50])[0] != 0x0104:
        fail("the request at 127.0.0.8:11200 does not carry the NTS fields and the cookie")
    log("NTS-KE's Server and Port records honoured: an NTS request of %d bytes at 127.0.0.8:11200" % len(data))


def paths_by_address():
    r = run_as(["busctl", "--system", "tree", "--list", "org.tempus.Tempus1"])
    out = {}
    for p in r.stdout.split():
        if re.match(r"^/org/tempus/Tempus1/source/\d+$", p):
            out[bus_get("Address", p, SOURCE).strip('"')] = p
    return out


def prop(path, name):
    return int(bus_get(name, path, SOURCE))


def count(t, address):
    return len([r for r in t.measurements() if r[2] == address])


def offsets_and_delays(t, address):
    return [(float(r[11]), float(r[12])) for r in t.measurements() if r[2] == address]


def check_relay(t, relay, ke_proxy, path):
    wait_for("4 samples through the honest relay", lambda: count(t, "127.0.0.2") >= 4, 40,
             on_timeout=lambda m: (t.dump(60), fail(m)))
    for mode in ("flip", "replay"):
        before, failures = count(t, "127.0.0.2"), prop(path, "AuthFailures")
        relay.mode = mode
        time.sleep(4)
        after = count(t, "127.0.0.2")
        relay.mode = "pass"
        # A reply in flight when the mode changed may still count.
        if after > before + 1:
            fail("%d samples from replies the relay %s" % (after - before, "flipped" if mode == "flip" else "replayed"))
        added = prop(path, "AuthFailures") - failures
        log("%s: %d replies rejected and counted, %d samples" % (mode, added, after - before))
        if added < 3:
            fail("AuthFailures rose by %d while the relay did %s" % (added, mode))
        wait_for("samples again after the %s attack" % mode,
                 lambda: count(t, "127.0.0.2") >= after + 3, 40, on_timeout=lambda m: (t.dump(60), fail(m)))
    # Server and client share this machine's clock, so an honest exchange
    # is off by at most half its round trip, whatever the relay (Python, on
    # a shared machine: a busy moment holds a packet for tens of ms) adds
    # to one leg; a forged reply could add any amount.
    bad = [(o, d) for o, d in offsets_and_delays(t, "127.0.0.2") if abs(o) >= max(10e-3, d / 2 + 1e-3)]
    if bad:
        fail("offsets beyond 10 ms and half their round trip got through (offset, round trip): %s" % bad)
    log("NTS-KE connections through the proxy: %d (new ones after the cookies ran out)" % ke_proxy.connections)


def check_stall(t, path, stall):
    start = time.monotonic()
    wait_for("a connection to the stalling KE server", lambda: stall.connections >= 1, 10)
    # D-Bus answers while the handshake hangs.
    for _ in range(5):
        t0 = time.monotonic()
        bus_get("Synchronized")
        if time.monotonic() - t0 > 1.0:
            fail("D-Bus took %.1f s to answer during a stalled NTS-KE" % (time.monotonic() - t0))
        time.sleep(0.5)
    before = count(t, "127.0.0.2")
    wait_for("the stalled NTS-KE to time out", lambda: prop(path, "NTSKEFailures") >= 1, 20)
    took = time.monotonic() - start
    log("stalled NTS-KE gave up after about %.1f s" % took)
    if count(t, "127.0.0.2") <= before:
        fail("no sample from the other source while the KE server stalled")


def test(args, wd):
    ca = make_test_ca(wd)
    cert, key = make_server_cert(ca, "server", "DNS:localhost,IP:127.0.0.1,IP:127.0.0.2")
    other_ca = make_test_ca(wd, "other")
    untrusted = make_server_cert(other_ca, "untrusted", "IP:127.0.0.4")
    expired = make_server_cert(ca, "expired", "IP:127.0.0.5,IP:127.0.0.6",
                               dates=("20200101000000Z", "20200201000000Z"))
    chronyd_server(args, wd, CHRONY_PORT,
                   extra="bindaddress 127.0.0.1\nntsserverkey %s\nntsservercert %s\nntsport %d\n"
                         "ntsdumpdir %s/chrony-nts\n" % (key, cert, CHRONY_KE_PORT, wd))
    ke_proxy = TcpProxy(("127.0.0.2", 4460), ("127.0.0.1", CHRONY_KE_PORT))
    relay = UdpRelay(CHRONY_PORT)
    stall = TcpProxy(("127.0.0.3", 4460), None, stall=True)
    FakeKeServer("127.0.0.4", *untrusted)
    early = FakeKeServer("127.0.0.5", *expired)
    late = FakeKeServer("127.0.0.6", *expired)
    BusDaemon(args, wd)
    t = Tempusd(args, wd, {
        "Sources": [("Server", "127.0.0.2 nts iburst minpoll=-2 maxpoll=-2"),
                    ("Server", "127.0.0.4 nts iburst"),
                    ("Server", "127.0.0.5 nts iburst")],
        "Clock": [("Control", "no")],
        "Server": [("Port", "0")],
        "Auth": [("NTSTrustedCerts", ca), ("NTSDumpDir", wd + "/nts")],
        "Log": [("Dir", wd + "/log"), ("Log", "measurements")],
    })
    bus_get("Synchronized")     # waits for tempusd to take its bus name
    wait_for("three sources on D-Bus", lambda: len(paths_by_address()) == 3, 10)
    paths = paths_by_address()

    # Untrusted CA: refused, counted.
    wait_for("the untrusted certificate to be refused", lambda: prop(paths["127.0.0.4"], "NTSKEFailures") >= 1, 15)
    if prop(paths["127.0.0.4"], "NTSLastKEUSec") != 0:
        fail("NTS-KE with an untrusted certificate completed")
    log("untrusted certificate refused")
    # Expired, before the first update: accepted, as NoCertTimeCheck=1 says.
    wait_for("NTS-KE with the expired certificate before synchronisation",
             lambda: prop(paths["127.0.0.5"], "NTSLastKEUSec") > 0, 15)
    log("expired certificate accepted before the first clock update (NoCertTimeCheck=1)")

    check_relay(t, relay, ke_proxy, paths["127.0.0.2"])
    wait_for("tempusd to be synchronised", lambda: bus_get("Synchronized") == "true", 30,
             on_timeout=lambda m: (log(t.status()), log(tempusctl(args, "sources", "-n").stdout), fail(m)))
    # Expired, once synchronised: refused.
    bus_call("AddSource", "s", "server 127.0.0.6 nts iburst")
    wait_for("the new source", lambda: "127.0.0.6" in paths_by_address(), 10)
    path6 = paths_by_address()["127.0.0.6"]
    wait_for("the expired certificate to be refused once synchronised",
             lambda: prop(path6, "NTSKEFailures") >= 1, 15)
    if late.handshakes or prop(path6, "NTSLastKEUSec") != 0:
        fail("NTS-KE with an expired certificate completed while synchronised")
    log("expired certificate refused once synchronised")

    check_negotiation(wd, ca)
    bus_call("AddSource", "s", "server 127.0.0.3 nts iburst")
    wait_for("the stalling source", lambda: "127.0.0.3" in paths_by_address(), 10)
    check_stall(t, paths_by_address()["127.0.0.3"], stall)
    if t.stop() != 0 or sanitizer_reports(t.output()):
        fail("tempusd did not exit cleanly")


run(test)
