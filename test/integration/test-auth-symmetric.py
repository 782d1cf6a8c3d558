#!/usr/bin/env python3
"""Symmetric-key authentication (RFC 5905 MACs, RFC 8573 AES-CMAC) with
real peers: tempusd synchronises from chronyd with a SHA256 and an AES128
key and from another tempusd with a SHA256 key; chronyd -Q (SHA256,
AES128, AES256, SHA512) and ntpsec's ntpdig (SHA256, AES128) get
authenticated time from tempusd. A wrong
key on either side means no samples: chronyd does not answer, tempusd
answers with a crypto-NAK, and the source shows reach 0 in tempusctl
sources and AuthFailures on D-Bus. A request with a MAC gets a reply with
a MAC of the same key, checked here independently with hashlib; a bad MAC
gets a 52-byte crypto-NAK, never a reply that looks authenticated."""
import hashlib
import json

from tempus_test import *

CHRONY_PORT = 11123
SOURCE = "org.tempus.Tempus1.Source"
SHA256_KEY = "6a1a0b3c5b0f3e9d2c7a8b1e4f6d0c9a3b5e7f1d2c4a6b8e0f1a3c5e7b9d1f20"
AES128_KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
AES256_KEY = "8796a5b4c3d2e1f00f1e2d3c4b5a69786a1a0b3c5b0f3e9d2c7a8b1e4f6d0c9a"
WRONG_A = "00112233445566778899aabbccddeeff00112233"
WRONG_B = "ffeeddccbbaa99887766554433221100ffeeddcc"
WRONG_C = "0123456789abcdef0123456789abcdef01234567"


def write_keys(path, lines, ntpsec=False):
    with open(path, "w") as f:
        for key_id, key_type, hex_key in lines:
            f.write("%d %s %s%s\n" % (key_id, key_type, "" if ntpsec else "HEX:", hex_key))
    os.chmod(path, 0o600)


def raw_request(payload, port=123, address="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    s.sendto(payload, (address, port))
    try:
        return s.recvfrom(2048)[0]
    except socket.timeout:
        return None
    finally:
        s.close()


def sha256_mac(key_id, key, data):
    return struct.pack("!I", key_id) + hashlib.sha256(key + data).digest()[:20]


def check_wire(wd):
    """Replies to MACed requests, checked with hashlib, not with tempus."""
    key = bytes.fromhex(SHA256_KEY)
    header = bytes([0x23, 0, 6, 0xec]) + bytes(36) + os.urandom(8)
    reply = wait_for("a reply to an authenticated request", lambda: raw_request(header + sha256_mac(1, key, header)),
                     10)
    if len(reply) != 72:
        fail("reply to a SHA256-authenticated request is %d bytes, expected 72" % len(reply))
    if reply[48:] != sha256_mac(1, key, reply[:48]):
        fail("the reply's MAC is not SHA256(key || reply) truncated to 20 bytes with key ID 1")
    if reply[24:32] != header[40:48]:
        fail("the authenticated reply does not echo the request's transmit timestamp")
    log("authenticated reply verifies with hashlib")

    bad = bytearray(header + sha256_mac(1, key, header))
    bad[60] ^= 1
    for what, payload in (("a bad MAC", bytes(bad)), ("an unknown key", header + sha256_mac(9, key, header))):
        reply = raw_request(payload)
        if reply is None or len(reply) != 52 or reply[48:] != bytes(4):
            fail("a request with %s got %s, expected a 52-byte crypto-NAK"
                 % (what, "nothing" if reply is None else "%d bytes" % len(reply)))
    log("bad MACs and unknown keys get crypto-NAKs")


def chronyd_client(args, wd, keyfile, key_id):
    r = subprocess.run([os.path.join(args.peers, "usr/sbin/chronyd"), "-Q", "-t", "12", "-u", "root", "-f",
                        "/dev/null", "server 127.0.0.1 port 123 iburst maxsamples 4 key %d" % key_id,
                        "keyfile %s" % keyfile, "pidfile %s/chronyq.pid" % wd],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    log("chronyd -Q with key %d: %s" % (key_id, r.stdout.strip()))
    m = re.search(r"System clock wrong by (-?[0-9.]+) seconds", r.stdout)
    return float(m.group(1)) if m else None


def ntpdig_client(args, keyfile, key_id):
    env = dict(os.environ, PYTHONPATH=os.path.join(args.peers, "usr/lib/python3/dist-packages"))
    r = subprocess.run([sys.executable, os.path.join(args.peers, "usr/bin/ntpdig"), "-t", "2", "-p", "1",
                        "-k", keyfile, "-a", str(key_id), "127.0.0.1"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, timeout=30)
    log("ntpdig with key %d: %s" % (key_id, r.stdout.strip()))
    m = re.search(r"([-+]?[0-9]+\.[0-9]+) \+/- [0-9.]+ 127\.0\.0\.1 s10", r.stdout)
    return float(m.group(1)) if r.returncode == 0 and m else None


def serve_clients(args, wd):
    """tempusd as the server of chronyd and ntpdig."""
    keys = os.path.join(wd, "tempus.keys")
    write_keys(keys, [(1, "SHA256", SHA256_KEY), (2, "AES128", AES128_KEY), (3, "SHA1", WRONG_A),
                      (4, "AES256", AES256_KEY), (5, "SHA512", SHA256_KEY + SHA256_KEY)])
    t = Tempusd(args, wd, {
        "Clock": [("Control", "no")],
        "Server": [("Port", "123"), ("Allow", "127.0.0.0/8"), ("LocalStratum", "10")],
        "Auth": [("KeyFile", keys)],
    })
    wait_for("tempusd to answer", lambda: ntp_request(123) is not None, 10)
    check_wire(wd)

    chrony_keys = os.path.join(wd, "chrony.keys")
    write_keys(chrony_keys, [(1, "SHA256", SHA256_KEY), (2, "AES128", AES128_KEY), (3, "SHA1", WRONG_B),
                             (4, "AES256", AES256_KEY), (5, "SHA512", SHA256_KEY + SHA256_KEY)])
    for key_id in (1, 2, 4, 5):
        offset = chronyd_client(args, wd, chrony_keys, key_id)
        if offset is None or abs(offset) >= 1e-3:
            fail("chronyd -Q with key %d did not get time within 1 ms from tempusd: %s" % (key_id, offset))
    if chronyd_client(args, wd, chrony_keys, 3) is not None:
        fail("chronyd -Q accepted time from tempusd with a key that differs")

    ntpsec_keys = os.path.join(wd, "ntpsec.keys")
    write_keys(ntpsec_keys, [(1, "SHA256", SHA256_KEY), (2, "AES", AES128_KEY), (3, "SHA1", WRONG_B)], ntpsec=True)
    for key_id in (1, 2):
        # ntpdig reads its own clock in Python, without kernel timestamps:
        # on a busy machine that alone can be a millisecond off.
        offset = ntpdig_client(args, ntpsec_keys, key_id)
        if offset is None or abs(offset) >= 10e-3:
            fail("ntpdig with key %d did not get time within 10 ms from tempusd: %s" % (key_id, offset))
    if ntpdig_client(args, ntpsec_keys, 3) is not None:
        fail("ntpdig accepted time from tempusd with a key that differs")
    return t


def source_paths():
    r = run_as(["busctl", "--system", "tree", "--list", "org.tempus.Tempus1"])
    return [l for l in r.stdout.split() if re.match(r"^/org/tempus/Tempus1/source/\d+$", l)]


def sources_by_address():
    out = {}
    for p in source_paths():
        out[bus_get("Address", p, SOURCE).strip('"')] = p
    return out


def measured(t, address):
    return [float(r[11]) for r in t.measurements() if r[2] == address]


def sync_from_servers(args, wd):
    """tempusd as the client of chronyd (SHA256, AES128, a wrong key) and of
    the tempusd of serve_clients() (SHA256, a wrong key)."""
    chrony_keys = os.path.join(wd, "chrony.keys")
    write_keys(chrony_keys, [(1, "SHA256", SHA256_KEY), (2, "AES128", AES128_KEY), (3, "SHA1", WRONG_B)])
    chronyd_server(args, wd, CHRONY_PORT, extra="keyfile %s\n" % chrony_keys)

    keys = os.path.join(wd, "client.keys")
    write_keys(keys, [(1, "SHA256", SHA256_KEY), (2, "AES128", AES128_KEY), (3, "SHA1", WRONG_C)])
    BusDaemon(args, wd)
    t = Tempusd(args, wd, {
        "Sources": [("Server", "127.0.0.1 iburst key=1 port=%d" % CHRONY_PORT),
                    ("Server", "127.0.0.2 iburst key=2 port=%d" % CHRONY_PORT),
                    ("Server", "127.0.0.3 iburst key=3 port=%d" % CHRONY_PORT),
                    ("Server", "127.0.0.4 iburst key=1"),
                    ("Server", "127.0.0.5 iburst key=3")],
        "Clock": [("Control", "no")],
        "Server": [("Port", "0")],
        "Auth": [("KeyFile", keys)],
        "Log": [("Dir", wd + "/log"), ("Log", "measurements")],
    })
    for address in ("127.0.0.1", "127.0.0.2", "127.0.0.4"):
        offsets = wait_for("3 authenticated samples from %s" % address,
                           lambda: len(measured(t, address)) >= 3 and measured(t, address), 30)
        log("%s: offsets %s" % (address, offsets))
        if any(abs(o) >= 1e-3 for o in offsets):
            fail("an offset from %s is 1 ms or more: %s" % (address, offsets))
    for address in ("127.0.0.3", "127.0.0.5"):
        if measured(t, address):
            fail("samples from %s, whose key differs" % address)

    paths = sources_by_address()
    expect = {"127.0.0.1": "SHA256", "127.0.0.2": "AES128", "127.0.0.3": "SHA1", "127.0.0.4": "SHA256"}
    for address, key_type in expect.items():
        have = (bus_get("Authentication", paths[address], SOURCE), bus_get("KeyType", paths[address], SOURCE))
        if have != ('"symmetric"', '"%s"' % key_type):
            fail("%s: Authentication, KeyType are %s, expected symmetric, %s" % (address, have, key_type))
    naks = wait_for("AuthFailures from the crypto-NAKs of 127.0.0.5",
                    lambda: int(bus_get("AuthFailures", paths["127.0.0.5"], SOURCE)), 10)
    log("127.0.0.5: AuthFailures %d" % naks)
    for address in ("127.0.0.1", "127.0.0.2", "127.0.0.4"):
        if int(bus_get("AuthFailures", paths[address], SOURCE)) != 0:
            fail("AuthFailures on %s, whose key is right" % address)
    if bus_get("AuthSelectMode") != '"mix"':
        fail("AuthSelectMode is %s, expected the default mix" % bus_get("AuthSelectMode"))

    out = tempusctl(args, "sources").stdout
    log(out)
    for address in ("127.0.0.3", "127.0.0.5"):
        row = [l for l in out.splitlines() if address in l]
        if len(row) != 1 or row[0].split()[4] != "0" or row[0].startswith(("^*", "^+")):
            fail("tempusctl sources does not show %s unreachable and unused: %s" % (address, row))

    check_authdata(args)
    r = bus_call("AddSource", "s", "server 127.0.0.9 key=42", check=False)
    if r.returncode == 0 or "key 42 is not in the key file" not in r.stderr:
        fail("AddSource with a key that is not in the key file: %s %s" % (r.returncode, r.stderr.strip()))
    check_reload(t, keys)
    return t


def check_authdata(args):
    """tempusctl authdata: chronyc's columns, and the same in JSON."""
    out = tempusctl(args, "authdata", "-n").stdout
    log(out)
    rows = {l.split()[0]: l.split() for l in out.splitlines()[2:] if l.strip()}
    want = {"127.0.0.1": ["SK", "1", "3", "256"], "127.0.0.2": ["SK", "2", "13", "128"],
            "127.0.0.5": ["SK", "3", "2", "160"]}
    for address, columns in want.items():
        if rows.get(address, [])[1:5] != columns:
            fail("authdata row for %s is %s, expected Mode KeyID Type KLen %s" % (address, rows.get(address), columns))
    if int(rows["127.0.0.5"][7]) == 0 or rows["127.0.0.1"][7] != "0":
        fail("authdata NAK column: %s for the wrong key, %s for a right one"
             % (rows["127.0.0.5"][7], rows["127.0.0.1"][7]))
    data = {e["Address"]: e for e in json.loads(tempusctl(args, "--json", "authdata").stdout)}
    if data["127.0.0.2"]["KeyType"] != "AES128" or data["127.0.0.5"]["AuthFailures"] == 0:
        fail("authdata --json disagrees: %s" % data)


def check_reload(t, keys):
    """Keys are read again on reload: a key file that is bad keeps the keys
    in use; a good one takes effect on the next request."""
    with open(keys, "w") as f:
        f.write("1 SHA256 HEX:00\n")
    t.proc.send_signal(signal.SIGHUP)
    wait_for("a reload refused for the bad key file", lambda: "keeping the current one" in t.output(), 10)
    if ":1: key is too short" not in t.output():
        fail("the refused reload did not name the key file's line")
    write_keys(keys, [(1, "SHA256", SHA256_KEY), (2, "AES128", AES128_KEY), (3, "SHA1", WRONG_B)])
    t.proc.send_signal(signal.SIGHUP)
    wait_for("the reload", lambda: "Configuration reloaded" in t.output(), 10)
    bus_call("Burst")
    wait_for("samples from 127.0.0.3 with the key now right", lambda: measured(t, "127.0.0.3"), 30)
    log("after the reload, key 3 matches chronyd's and 127.0.0.3 answers")


def check_config_refuses_missing_key(args, wd):
    """A key= that is not in the key file fails --check-config, naming the
    line, and tempusd does not start."""
    keys = os.path.join(wd, "check.keys")
    write_keys(keys, [(1, "SHA256", SHA256_KEY)])
    conf = os.path.join(wd, "check.conf")
    with open(conf, "w") as f:
        f.write("[Auth]\nKeyFile=check.keys\n[Sources]\nServer=127.0.0.1 key=1\nServer=127.0.0.2 key=9\n")
    for argv in (["--check-config"], []):
        r = subprocess.run([args.tempusd, "--config", conf] + argv, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=10)
        log(r.stdout.strip())
        if r.returncode == 0 or "%s:5: Sources.Server: key 9 is not in the key file" % conf not in r.stdout:
            fail("tempusd %s accepted a source whose key is not in the key file" % " ".join(argv))


def test(args, wd):
    check_config_refuses_missing_key(args, wd)
    server_wd = os.path.join(wd, "server")
    os.makedirs(server_wd)
    server = serve_clients(args, server_wd)
    client_wd = os.path.join(wd, "client")
    os.makedirs(client_wd)
    client = sync_from_servers(args, client_wd)
    check_clean_exit(client)
    check_clean_exit(server)


def check_clean_exit(t):
    code = t.stop()
    reports = sanitizer_reports(t.output())
    if code != 0 or reports:
        fail("tempusd exited with %s or reported a memory error:\n%s" % (code, "\n".join(reports)))


run(test)
