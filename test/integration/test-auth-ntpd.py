#!/usr/bin/env python3
"""ntpsec's ntpd (the daemon) as a client of tempusd with symmetric keys.
ntpsec's server lines take no port and ntpd binds port 123 on every
address it has, so it runs in a network namespace of its own (made here,
inside the test's), joined to tempusd's by a veth pair: tempusd serves
port 123 of 10.12.0.1, .3 and .4, and ntpd, at 10.12.0.2, has one server
line for each, with key 1 (SHA256), key 2 (AES128) and key 3, a SHA1 key
that differs from tempusd's. ntpd's peerstats show the
first two authentic and surviving its selection, one of them as its
system peer; the third is never authentic nor selected, tempusd answers
its requests with crypto-NAKs (ServerCryptoNAKs).

ntpd never touches this machine's clock: like every program the
integration tests start, it runs in a network namespace without
CAP_SYS_TIME in its bounding set (tempus_test.isolate()), so even as root
it cannot step, slew or change the frequency of the clock; and its
configuration says `disable ntp` (no clock discipline: it still polls,
filters and selects, as the peerstats show) and `disable kernel` (no
kernel PLL), so it does not even try (its log shows ntp_adjtime()
failing with EPERM all the same)."""
from tempus_test import *

SHA256_KEY = "6a1a0b3c5b0f3e9d2c7a8b1e4f6d0c9a3b5e7f1d2c4a6b8e0f1a3c5e7b9d1f20"
AES128_KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
WRONG_A = "00112233445566778899aabbccddeeff00112233"
WRONG_B = "ffeeddccbbaa99887766554433221100ffeeddcc"
# address of tempusd: ntpd's key
PEERS = {"10.12.0.1": 1, "10.12.0.3": 2, "10.12.0.4": 3}
GOOD = ["10.12.0.1", "10.12.0.3"]
WRONG = "10.12.0.4"
NTPD_ADDRESS = "10.12.0.2"
# The peer status word of ntpd's peerstats: "authentic" is 0x2000, and the
# selection field (bits 8-10) is 4 for a candidate, 5 for a backup and 6
# for the system peer.
AUTHENTIC = 0x2000
CANDIDATE, SYSTEM_PEER = 4, 6


def write_keys(path, lines, prefix):
    with open(path, "w") as f:
        for key_id, key_type, hex_key in lines:
            f.write("%d %s %s%s\n" % (key_id, key_type, prefix, hex_key))
    os.chmod(path, 0o600)


def peerstats(wd):
    """{address: [status word, ...]} from ntpd's peerstats file."""
    path = os.path.join(wd, "peerstats")
    out = {}
    if os.path.exists(path):
        with open(path) as f:
            for row in (l.split() for l in f):
                if len(row) > 3:
                    out.setdefault(row[2], []).append(int(row[3], 16))
    return out


def selection(status):
    return (status >> 8) & 7


def synchronised(wd):
    """True once both right keys gave authentic surviving samples and one
    of them is ntpd's system peer."""
    stats = peerstats(wd)
    good = {a: [s for s in stats.get(a, []) if s & AUTHENTIC and selection(s) >= CANDIDATE] for a in GOOD}
    return all(good.values()) and any(selection(s) == SYSTEM_PEER for a in GOOD for s in good[a])


def start_ntpd(args, wd):
    keys = os.path.join(wd, "ntp.keys")
    write_keys(keys, [(1, "SHA256", SHA256_KEY), (2, "AES", AES128_KEY), (3, "SHA1", WRONG_B)], "")
    conf = os.path.join(wd, "ntp.conf")
    with open(conf, "w") as f:
        f.write("driftfile %s/ntp.drift\ndisable ntp\ndisable kernel\nlogfile %s/ntpd-file.log\n"
                "statsdir %s/\nstatistics peerstats\nfilegen peerstats file peerstats type none enable\n"
                "keys %s\ntrustedkey 1 2 3\n" % (wd, wd, wd, keys))
        for address, key_id in PEERS.items():
            f.write("server %s key %d iburst minpoll 3 maxpoll 3\n" % (address, key_id))
    # unshare execs sh, which waits for its end of the veth pair and execs
    # ntpd: the process's PID is ntpd's, and names its namespace.
    setup = ("while ! ip link show veth-ntpd >/dev/null 2>&1; do sleep 0.1; done; ip link set lo up; "
             "ip addr add %s/24 dev veth-ntpd; ip link set veth-ntpd up; exec \"$@\"" % NTPD_ADDRESS)
    ntpd = Process("ntpd", ["unshare", "--net", "--", "sh", "-c", setup, "sh",
                            os.path.join(args.peers, "usr/sbin/ntpd"), "-n", "-c", conf,
                            "-p", os.path.join(wd, "ntpd.pid")], wd)
    netns = "/proc/%d/ns/net" % ntpd.proc.pid
    wait_for("ntpd's network namespace", lambda: os.readlink(netns) != os.readlink("/proc/self/ns/net"), 10)
    subprocess.run(["ip", "link", "add", "veth-tempus", "type", "veth", "peer", "name", "veth-ntpd",
                    "netns", str(ntpd.proc.pid)], check=True)
    for address in PEERS:
        subprocess.run(["ip", "addr", "add", address + "/24", "dev", "veth-tempus"], check=True)
    subprocess.run(["ip", "link", "set", "veth-tempus", "up"], check=True)
    return ntpd


def test(args, wd):
    keys = os.path.join(wd, "tempus.keys")
    write_keys(keys, [(1, "SHA256", SHA256_KEY), (2, "AES128", AES128_KEY), (3, "SHA1", WRONG_A)], "HEX:")
    BusDaemon(args, wd)
    ntpd = start_ntpd(args, wd)
    t = Tempusd(args, wd, {
        "Clock": [("Control", "no")],
        "Server": [("Port", "123"), ("Allow", "10.12.0.0/24"), ("LocalStratum", "10")]
                  + [("BindAddress", a) for a in PEERS],
        "Auth": [("KeyFile", keys)],
    })
    wait_for("ntpd to select tempusd as an authenticated peer with SHA256 and AES128 keys",
             lambda: synchronised(wd), 90,
             on_timeout=lambda m: (log(open(os.path.join(wd, "ntpd-file.log")).read()), t.dump(), fail(m)))
    stats = peerstats(wd)
    log("peerstats status words: %s" % {a: ["%04x" % s for s in v[-3:]] for a, v in stats.items()})

    wrong = stats.get(WRONG, [])
    if any(s & AUTHENTIC or selection(s) >= CANDIDATE for s in wrong):
        fail("ntpd found %s authentic or selected it, with a key that differs: %s"
             % (WRONG, ["%04x" % s for s in wrong]))
    naks = int(bus_get("ServerCryptoNAKs"))
    authenticated = int(bus_get("ServerAuthenticated"))
    log("tempusd: ServerAuthenticated %d, ServerCryptoNAKs %d" % (authenticated, naks))
    if naks < 1 or authenticated < 4:
        fail("tempusd did not see ntpd's authenticated requests and the wrong key's")
    ntpd.stop()
    if t.stop() != 0 or sanitizer_reports(t.output()):
        fail("tempusd did not exit cleanly")


run(test)
