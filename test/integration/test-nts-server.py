#!/usr/bin/env python3
"""NTS server (RFC 8915): chronyd, as an NTS client with a CA made here,
gets authenticated time from tempusd (NTS-KE on NTSPort=, NTP on 123),
and again after tempusd restarts, with the cookies it already holds: the
server keys saved in NTSDumpDir= still open them. The D-Bus counters
show the handshakes and the NTS requests; a handshake made here with
Python's ssl module checks the records (TLS 1.3, ALPN ntske/1, 8 cookies,
NTPv4, AES-SIV-CMAC-256)."""
import ssl
import stat

from tempus_test import *

KE_PORT = 4460


def tempusd(args, wd, cert, key, dump):
    return Tempusd(args, wd, {
        "Clock": [("Control", "no")],
        "Server": [("Port", "123"), ("Allow", "127.0.0.0/8"), ("LocalStratum", "10"),
                   ("NTSServerCertFile", cert), ("NTSServerKeyFile", key)],
        "Auth": [("NTSDumpDir", dump)],
    })


def chronyd_nts_client(args, wd, ca, name):
    """chronyd -Q as an NTS client; returns (offset or None, output)."""
    dump = os.path.join(wd, "chrony-client-nts")
    os.makedirs(dump, exist_ok=True)
    r = subprocess.run([os.path.join(args.peers, "usr/sbin/chronyd"), "-Q", "-t", "20", "-u", "root", "-f",
                        "/dev/null", "server 127.0.0.1 iburst nts ntsport %d maxsamples 4" % KE_PORT,
                        "ntstrustedcerts %s" % ca, "ntsdumpdir %s" % dump,
                        "pidfile %s/chronyq.pid" % wd],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    log("chronyd -Q (%s): %s" % (name, r.stdout.strip()))
    m = re.search(r"System clock wrong by (-?[0-9.]+) seconds", r.stdout)
    return (float(m.group(1)) if m else None), r.stdout


def counters():
    return {p: int(bus_get(p)) for p in ("NTSKEConnections", "NTSKEHandshakes", "NTSKEFailures",
                                         "ServerNTSAuthenticated", "ServerNTSNAKs")}


def ke_exchange(ca, request):
    """One NTS-KE exchange by hand: the records of the response."""
    ctx = ssl.create_default_context(cafile=ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.set_alpn_protocols(["ntske/1"])
    with socket.create_connection(("127.0.0.1", KE_PORT), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            if s.selected_alpn_protocol() != "ntske/1" or s.version() != "TLSv1.3":
                fail("NTS-KE: ALPN %s, %s" % (s.selected_alpn_protocol(), s.version()))
            s.sendall(request)
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
    records, pos = [], 0
    while pos + 4 <= len(data):
        t, n = struct.unpack("!HH", data[pos:pos + 4])
        records.append((t, data[pos + 4:pos + 4 + n]))
        pos += 4 + n
    return records


def check_ke_records(ca):
    """ALPN ntske/1, TLS 1.3, 8 cookies of 100 bytes, NTPv4 and
    AES-SIV-CMAC-256 chosen, no port record (port 123). A request that
    offers only another algorithm gets an empty AEAD record and no cookie
    (RFC 8915 section 4.1.5), and counts as a failed exchange."""
    records = ke_exchange(ca, bytes.fromhex("80010002000080040002000f80000000"))
    types = [t & 0x7fff for t, _ in records]
    cookies = [b for t, b in records if t & 0x7fff == 5]
    log("NTS-KE records: %s" % types)
    if types[-1] != 0 or (1, b"\x00\x00") not in [(t & 0x7fff, b) for t, b in records] \
            or (4, b"\x00\x0f") not in [(t & 0x7fff, b) for t, b in records]:
        fail("NTS-KE response lacks NTPv4, AES-SIV-CMAC-256 or End: %s" % records)
    if len(cookies) != 8 or any(len(c) != 100 for c in cookies) or 7 in types:
        fail("expected 8 cookies of 100 bytes and no port record: %s" % [len(c) for c in cookies])
    failures = int(bus_get("NTSKEFailures"))
    records = ke_exchange(ca, bytes.fromhex("800100020000800400020001" + "80000000"))
    log("NTS-KE records for AEAD 1 only: %s" % records)
    if records != [(0x8001, b"\x00\x00"), (0x8004, b""), (0x8000, b"")]:
        fail("a request for another algorithm did not get an empty AEAD record and no cookie: %s" % records)
    if int(bus_get("NTSKEFailures")) != failures + 1:
        fail("the refused exchange was not counted in NTSKEFailures")


def test(args, wd):
    ca = make_test_ca(wd)
    cert, key = make_server_cert(ca, "server")
    dump = os.path.join(wd, "nts")
    BusDaemon(args, wd)
    first = os.path.join(wd, "first")
    os.makedirs(first)
    t = tempusd(args, first, cert, key, dump)
    wait_for("tempusd to answer", lambda: ntp_request(123) is not None, 10)
    wait_for("the NTS-KE port", lambda: subprocess.run(["ss", "-ltnH", "sport = :%d" % KE_PORT],
                                                        stdout=subprocess.PIPE, text=True).stdout.strip(), 10)
    check_ke_records(ca)

    offset, out = chronyd_nts_client(args, wd, ca, "first")
    if offset is None or abs(offset) >= 1e-3:
        fail("chronyd did not get NTS time within 1 ms from tempusd: %s" % offset)
    c = counters()
    log("counters: %s" % c)
    if c["NTSKEHandshakes"] < 2 or c["NTSKEFailures"] != 1 or c["ServerNTSAuthenticated"] < 3 or c["ServerNTSNAKs"] != 0:
        fail("counters do not show the handshakes and NTS requests: %s" % c)
    keys = os.path.join(dump, "server-keys")
    if stat.S_IMODE(os.stat(keys).st_mode) != 0o600:
        fail("%s is not mode 0600" % keys)
    if t.stop() != 0 or sanitizer_reports(t.output()):
        fail("tempusd did not exit cleanly")

    # chronyd saved its cookies in its ntsdumpdir: after tempusd restarts
    # with the same server keys they still open, and no NAK comes back.
    second = os.path.join(wd, "second")
    os.makedirs(second)
    t = tempusd(args, second, cert, key, dump)
    wait_for("tempusd to answer again", lambda: ntp_request(123) is not None, 10)
    offset, out = chronyd_nts_client(args, wd, ca, "after restart")
    if offset is None or abs(offset) >= 1e-3:
        fail("chronyd did not get NTS time after tempusd restarted: %s" % offset)
    c = counters()
    log("counters after restart: %s" % c)
    if c["ServerNTSAuthenticated"] < 3 or c["ServerNTSNAKs"] != 0:
        fail("after a restart, chronyd's saved cookies were not accepted: %s" % c)
    if c["NTSKEHandshakes"] != 0:
        fail("chronyd needed NTS-KE again after tempusd restarted: %s" % c)
    if t.stop() != 0 or sanitizer_reports(t.output()):
        fail("tempusd did not exit cleanly")


run(test)
