#!/usr/bin/env python3
"""Attacks on tempusd's server that must fail (suite 'security'):

- amplification: every mode 0-7 and every request size from 0 to 1100
  bytes, with and without rate limiting and Kiss-o'-Death: no reply is
  larger than its request, and modes 6 and 7 get none;
- rate-limit eviction: a flooder and four addresses that shared its slot
  in the old, unkeyed client table (FNV-1a of the address, 1024 sets of 4)
  take turns, over IPv4 and IPv6; the flooder must stay at the leak share
  (about 25 %) instead of being answered every time;
- Kiss-o'-Death: with RateLimit=... kod=2, a flooding client gets KoD RATE
  packets for a share of its dropped requests, and never for more than
  one in four of them; without kod= it gets none; kod= out of range is a
  config error;
- reload: a SIGHUP that leaves RateLimit= alone does not hand the flooder
  a full bucket again.
"""
import signal

from tempus_test import *

PORT = 11124
PROBE = "127.0.0.1"             # readiness checks only: its bucket is spent on them
IPV6_PREFIX = "2001:db8::"      # documentation prefix, on lo inside this test's namespace
SERVER6 = IPV6_PREFIX + "1"


def start(args, wd, name, server_keys):
    d = os.path.join(wd, name)
    os.makedirs(d)
    t = Tempusd(args, d, {"Clock": [("Control", "no")],
                          "Server": [("Port", str(PORT)), ("Allow", "127.0.0.0/8"),
                                     ("Allow", IPV6_PREFIX + "/32"), ("LocalStratum", "10")] + server_keys})
    wait_for("tempusd to answer", lambda: ntp_request(PORT, source=PROBE, timeout=0.3) is not None, 10)
    return t


def request(mode, size, ident):
    """A datagram of size bytes, version 4 and the given mode, carrying
    ident as transmit timestamp when there is room for one."""
    data = bytearray(size)
    if size > 0:
        data[0] = (4 << 3) | mode
    if size >= 48:
        data[40:48] = struct.pack("!Q", ident)
    return bytes(data)


def parse(data):
    li_vn_mode, stratum = data[0], data[1]
    return {"length": len(data), "leap": li_vn_mode >> 6, "mode": li_vn_mode & 7, "stratum": stratum,
            "refid": data[12:16], "origin": struct.unpack("!Q", data[24:32])[0]}


class Client:
    """One UDP socket bound to a source address, sending without waiting
    and collecting whatever comes back later."""

    def __init__(self, source, server):
        self.server = server
        self.sock = socket.socket(socket.AF_INET6 if ":" in source else socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.sock.bind((source, 0))
        self.sent = {}          # ident -> request length
        self.next = int.from_bytes(os.urandom(4), "big") << 32

    def send(self, mode=3, size=48):
        self.next += 1
        self.sent[self.next] = size
        self.sock.sendto(request(mode, size, self.next), (self.server, PORT))
        return self.next

    def collect(self, quiet=0.3):
        """Replies until none has come for quiet seconds: (raw, parsed)."""
        replies = []
        self.sock.settimeout(quiet)
        while True:
            try:
                data, _ = self.sock.recvfrom(4096)
            except socket.timeout:
                return replies
            replies.append((data, parse(data) if len(data) >= 48 else None))

    def close(self):
        self.sock.close()


def is_kod(p):
    return p is not None and p["stratum"] == 0 and p["refid"] == b"RATE"


# ---- (a) amplification sweep ---------------------------------------------

def sweep(args, wd, name, server_keys):
    """Returns the replies that were KoDs."""
    t = start(args, wd, name, server_keys)
    answered = kods = 0
    for mode in range(8):
        c = Client("127.0.0.2", "127.0.0.1")
        for size in range(0, 1101):
            c.send(mode, size)
            if size % 64 == 63:
                time.sleep(0.005)       # stay well inside the socket buffers
        for data, p in c.collect():
            if p is None or p["origin"] not in c.sent:
                fail("%s: a %d-byte reply to mode %d answers no request that could hold it"
                     % (name, len(data), mode))
            size = c.sent[p["origin"]]
            if len(data) > size:
                fail("%s: a %d-byte request in mode %d got a %d-byte reply" % (name, size, mode, len(data)))
            if mode in (6, 7):
                fail("%s: a mode %d request was answered" % (name, mode))
            answered += 1
            kods += is_kod(p)
        c.close()
    log("%s: %d replies (%d KoD) to %d requests, none larger than its request" % (name, answered, kods, 8 * 1101))
    if answered == 0:
        fail("%s: nothing was answered at all: the sweep proves nothing" % name)
    if not t.alive():
        fail("%s: tempusd died during the sweep" % name)
    t.stop()
    return kods


# ---- (b) rate-limit eviction attack --------------------------------------

def old_set(family, packed, n_sets=1024):
    """The set the unkeyed table put an address in: FNV-1a over the family
    and 16 address bytes, modulo the number of sets."""
    h = 14695981039346656037 ^ family
    for b in packed.ljust(16, b"\0"):
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h % n_sets


def old_colliders(family, flooder, candidates, n=4):
    target = old_set(family, socket.inet_pton(socket.AF_INET if family == 2 else socket.AF_INET6, flooder))
    out = []
    for a in candidates:
        packed = socket.inet_pton(socket.AF_INET if family == 2 else socket.AF_INET6, a)
        if a != flooder and old_set(family, packed) == target:
            out.append(a)
            if len(out) == n:
                return out
    fail("no %d colliders found for %s" % (n, flooder))


def eviction_attack(flooder, colliders, server, rounds=400):
    """The pattern that beat the old table: the flooder sends, then each
    collider sends once, so the flooder is the oldest record of its set and
    is replaced; it used to come back with a fresh burst every round.
    Returns the share of the flooder's requests answered with time."""
    f = Client(flooder, server)
    cs = [Client(a, server) for a in colliders]
    for _ in range(rounds):
        f.send()
        for c in cs:
            c.send()
        time.sleep(0.001)
    answered = sum(1 for _, p in f.collect() if p is not None and p["origin"] in f.sent and not is_kod(p))
    for c in [f] + cs:
        c.close()
    return answered / rounds


def add_ipv6(addresses):
    for a in addresses:
        subprocess.run(["ip", "-6", "addr", "add", a + "/128", "dev", "lo", "nodad"], check=True)


def eviction(args, wd):
    t = start(args, wd, "eviction", [("RateLimit", "interval=3 burst=8")])
    # With burst 8 and one token per 8 s, 400 requests in a few seconds get
    # 8 answers from the bucket and one in four of the rest from the leak.
    limit = (8 + 2 + 392 / 4) / 400 + 0.03
    flooder4 = "127.0.0.2"
    colliders4 = old_colliders(2, flooder4, ("127.0.%d.%d" % (i >> 8, i & 255) for i in range(3, 65536)))
    flooder6 = IPV6_PREFIX + "f"
    colliders6 = old_colliders(10, flooder6, (IPV6_PREFIX + "%x:%x" % (i >> 16, i & 0xffff)
                                              for i in range(0x10000, 0x1000000)))
    add_ipv6([SERVER6, flooder6] + colliders6)
    wait_for("tempusd to answer on IPv6", lambda: ntp_request(PORT, address=SERVER6, source=SERVER6,
                                                              timeout=0.3) is not None, 10)
    for family, flooder, colliders, server in (("IPv4", flooder4, colliders4, "127.0.0.1"),
                                                ("IPv6", flooder6, colliders6, SERVER6)):
        log("%s: flooder %s, colliders in the old table: %s" % (family, flooder, " ".join(colliders)))
        share = eviction_attack(flooder, colliders, server)
        log("%s: the flooder got %.1f %% of its requests answered (limit %.1f %%)"
            % (family, 100 * share, 100 * limit))
        if share > limit:
            fail("%s: evicting the flooder from its slot reset its rate limit: %.1f %% answered"
                 % (family, 100 * share))
        if share < 0.15:
            fail("%s: the flooder got %.1f %%, less than the leak should give" % (family, 100 * share))
    t.stop()


# ---- (c) Kiss-o'-Death RATE ----------------------------------------------

def flood(source, n=400):
    """n requests paced over about a second: (served, KoDs, other)."""
    c = Client(source, "127.0.0.1")
    for i in range(n):
        c.send()
        if i % 8 == 7:
            time.sleep(0.002)
    served, kods = [], []
    for data, p in c.collect():
        if p is None or p["origin"] not in c.sent or len(data) > c.sent[p["origin"]]:
            fail("a reply that matches no request or is larger than it: %r" % data)
        (kods if is_kod(p) else served).append(p)
    c.close()
    return served, kods


def chronyd_sees_kod(args, wd):
    """A real client takes our KoD for one: chronyd polling every 0.25 s
    from the flooder's address, which is over its limit, logs that it was
    told to slow down."""
    r = subprocess.run([os.path.join(args.peers, "usr/sbin/chronyd"), "-Q", "-t", "6", "-u", "root",
                        "-f", "/dev/null", "server 127.0.0.1 port %d minpoll -2 maxpoll -2 maxsamples 16" % PORT,
                        "bindacqaddress 127.0.0.3",
                        "pidfile %s/chronyq.pid" % wd],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    if "Received KoD RATE from 127.0.0.1" not in r.stdout:
        fail("chronyd did not recognise a KoD RATE from tempusd:\n" + r.stdout)


def reload_keeps_what_it_knows(t):
    """A reload that leaves RateLimit= as it was does not give the flooder
    (127.0.0.3, whose bucket is empty) a full bucket again."""
    before = len(t.output().splitlines())
    t.proc.send_signal(signal.SIGHUP)
    wait_for("the reload", lambda: "Configuration reloaded." in "\n".join(t.output().splitlines()[before:]), 10)
    served, _ = flood("127.0.0.3", 16)
    log("after a reload, the flooder got %d of 16 requests answered" % len(served))
    # A fresh bucket would serve its 4 requests of burst and a share of
    # the rest; an empty one only that share.
    if len(served) >= 4 + 12 // 4:
        fail("a reload gave the flooder a fresh bucket: %d of 16 served" % len(served))


def kiss_o_death(args, wd):
    n = 400
    t = start(args, wd, "kod", [("RateLimit", "interval=3 burst=4 kod=2")])
    served, kods = flood("127.0.0.3", n)
    dropped = n - len(served)
    log("kod=2: %d served, %d not served, %d of them answered with KoD RATE" % (len(served), dropped, len(kods)))
    for p in kods:
        if p["leap"] != 3 or p["mode"] != 4 or p["length"] != 48:
            fail("a KoD RATE with leap %d, mode %d, %d bytes" % (p["leap"], p["mode"], p["length"]))
    if not kods:
        fail("no KoD RATE for any of %d dropped requests with kod=2" % dropped)
    if len(kods) > dropped // 4 + 1:
        fail("%d KoDs for %d dropped requests: more than one in four" % (len(kods), dropped))
    if len(kods) < dropped // 8:
        fail("only %d KoDs for %d dropped requests with kod=2" % (len(kods), dropped))
    if 8 * (len(served) + len(kods)) > 5 * n + 8 * 4:
        fail("%d of %d requests got some reply: more than the documented 5/8" % (len(served) + len(kods), n))
    chronyd_sees_kod(args, wd)
    t.stop()

    t = start(args, wd, "no-kod", [("RateLimit", "interval=3 burst=4")])
    served, kods = flood("127.0.0.3", n)
    if kods:
        fail("%d KoDs sent although RateLimit= has no kod=" % len(kods))
    if len(served) > n // 2:
        fail("the rate limit did not limit: %d of %d served" % (len(served), n))
    reload_keeps_what_it_knows(t)
    t.stop()

    conf = os.path.join(wd, "bad-kod.conf")
    with open(conf, "w") as f:
        f.write("[Server]\nRateLimit=interval=3 kod=5\n")
    r = subprocess.run([args.tempusd, "--check-config", "--config", conf], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=30)
    if r.returncode == 0 or "bad-kod.conf:2" not in r.stdout or "RateLimit" not in r.stdout:
        fail("kod=5 was not rejected with file:line and the key: %s" % r.stdout.strip())


def test(args, wd):
    sweep(args, wd, "sweep-plain", [])
    if sweep(args, wd, "sweep-kod", [("RateLimit", "interval=3 burst=1 kod=1")]) == 0:
        fail("sweep-kod: no KoD was sent, so their size went untested")
    eviction(args, wd)
    kiss_o_death(args, wd)


run(test)
