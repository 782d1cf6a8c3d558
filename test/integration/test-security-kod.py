#!/usr/bin/env python3
"""Kiss-o'-Death from a server, as RFC 5905 section 7.4 and RFC 9109 say:

- DENY (and RSTR) mean stop: after one that answers our request, tempusd
  sends that server nothing more; the source shows as "denied" on D-Bus and
  with '?' in tempusctl sources; its other sources go on;
- RATE means slow down: the poll interval grows (to at least the one the
  server asks for), but polling never stops because of it;
- a DENY that does not answer our request (wrong origin timestamp) changes
  nothing.

Each fake server answers every request with a KoD whose origin is the
request's transmit timestamp (or not, for the forged one) and counts the
requests it got."""
import threading

from tempus_test import *

DENY_PORT, RATE_PORT, FORGED_PORT = 11301, 11302, 11303
SERVE_PORT = 11300


class KodServer:
    def __init__(self, address, port, code, poll=0, forged=False):
        self.code, self.poll, self.forged = code, poll, forged
        self.times = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, port))
        self.sock.settimeout(0.2)
        self.running = True
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while self.running:
            try:
                data, peer = self.sock.recvfrom(2048)
            except socket.timeout:
                continue
            if len(data) < 48 or data[0] & 7 != 3:
                continue
            self.times.append(time.monotonic())
            origin = data[40:48] if not self.forged else bytes(8)
            # leap 3, version 4, mode 4; stratum 0; the refid is the code.
            reply = bytes([0xe4, 0, self.poll, 0xec]) + bytes(8) + self.code.encode() + bytes(8) \
                + origin + bytes(16)
            self.sock.sendto(reply, peer)

    def requests_since(self, t):
        return sum(1 for x in self.times if x >= t)

    def stop(self):
        self.running = False
        self.thread.join()
        self.sock.close()


def source_state(name):
    for ifaces in managed_objects().values():
        src = ifaces.get("org.tempus.Tempus1.Source")
        if src and src["Name"] == name:
            return src["State"]
    return None


def tempusctl_sources(args):
    r = subprocess.run([os.path.join(args.build_root, "src", "ctl", "tempusctl"), "sources"],
                       capture_output=True, text=True)
    return r.stdout


def test(args, wd):
    deny = KodServer("127.0.0.1", DENY_PORT, "DENY")
    rate = KodServer("127.0.0.2", RATE_PORT, "RATE", poll=3)
    forged = KodServer("127.0.0.3", FORGED_PORT, "DENY", forged=True)
    BusDaemon(args, wd)
    t = Tempusd(args, wd, {
        "Sources": [("Server", "127.0.0.1 port=%d minpoll=0 maxpoll=0" % DENY_PORT),
                    ("Server", "127.0.0.2 port=%d minpoll=0 maxpoll=5" % RATE_PORT),
                    ("Server", "127.0.0.3 port=%d minpoll=0 maxpoll=0" % FORGED_PORT)],
        "Clock": [("Control", "no")],
        "Server": [("Port", str(SERVE_PORT))],
    })
    wait_for("the first DENY to be answered", lambda: deny.times, 15)
    wait_for("the D-Bus state 'denied'", lambda: source_state("127.0.0.1") == "denied", 10)
    start = time.monotonic()
    time.sleep(10)
    after_deny = deny.requests_since(start)
    rate_count = rate.requests_since(start)
    forged_count = forged.requests_since(start)
    log("in 10 s: %d requests to the denying server, %d to the rate-limiting one (%d in all), "
        "%d to the forged one" % (after_deny, rate_count, len(rate.times), forged_count))
    if after_deny != 0:
        fail("%d requests were sent to a server after its DENY" % after_deny)
    # 1 s polls would make 10; backing off to 2^3 s and beyond leaves a few.
    if rate_count > 4:
        fail("RATE did not slow the polling down: %d requests in 10 s" % rate_count)
    if len(rate.times) < 2 or rate.times[-1] < start - 1 and rate_count == 0:
        fail("RATE stopped the polling")
    if forged_count < 8:
        fail("a forged DENY (wrong origin) slowed or stopped polling: %d requests in 10 s" % forged_count)
    rows = [line for line in tempusctl_sources(args).splitlines() if " 127.0.0.1 " in line or
            line.startswith("^? 127.0.0.1")]
    if not rows or not rows[0].startswith("^?"):
        fail("tempusctl sources does not show the denied source as '?': %s" % rows)
    if not t.alive():
        fail("tempusd died")
    for s in (deny, rate, forged):
        s.stop()


run(test)
