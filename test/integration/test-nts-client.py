#!/usr/bin/env python3
"""NTS client (RFC 8915): tempusd synchronises from chronyd's NTS server
with a certificate from a CA made here. NTS-KE goes through a counting TCP
proxy, which is the independent count of handshakes. The state shows on
D-Bus (Authentication "nts", NTSCookies, NTSKEFailures, NTSLastKEUSec) and
in tempusctl authdata (Mode NTS, Cook, CLen). chronyd's NTS-KE names its
NTP port (not 123), which tempusd must honour to get any sample. After a
restart, the cookies saved in NTSDumpDir (mode 0600) give samples without
a second handshake. With a CA that did not sign the server's certificate,
NTS-KE fails and is counted; a reload with the right CA recovers."""
import json
import stat

from tempus_test import *

CHRONY_PORT = 11123
CHRONY_KE_PORT = 24460
KE_PORT = 14460
SOURCE = "org.tempus.Tempus1.Source"


def source_path():
    """The one source's object, once tempusd has taken its bus name (later
    under the sanitizers) and added the source."""
    def find():
        r = run_as(["busctl", "--system", "tree", "--list", "org.tempus.Tempus1"], check=False)
        paths = [l for l in r.stdout.split() if re.match(r"^/org/tempus/Tempus1/source/\d+$", l)]
        return paths if len(paths) == 1 else None
    return wait_for("one source object on D-Bus", find, 10)[0]


def samples(t):
    return [float(r[11]) for r in t.measurements() if r[2] == "127.0.0.1"]


def start_tempusd(args, wd, ca, dump):
    return Tempusd(args, wd, {
        "Sources": [("Server", "127.0.0.1 nts ntsport=%d iburst minpoll=-2 maxpoll=-2" % KE_PORT)],
        "Clock": [("Control", "no")],
        "Server": [("Port", "0")],
        "Auth": [("NTSTrustedCerts", ca), ("NTSDumpDir", dump)],
        "Log": [("Dir", wd + "/log"), ("Log", "measurements")],
    })


def check_synchronised(t, what):
    offsets = wait_for("4 NTS samples (%s)" % what, lambda: len(samples(t)) >= 4 and samples(t), 40,
                       on_timeout=lambda m: (t.dump(60), fail(m)))
    log("%s: offsets %s" % (what, offsets))
    if any(abs(o) >= 1e-3 for o in offsets):
        fail("an offset is 1 ms or more: %s" % offsets)


def check_bus(path, ke_expected):
    props = {p: bus_get(p, path, SOURCE) for p in
             ("Authentication", "NTSCookies", "NTSCookieLength", "NTSKEFailures", "NTSLastKEUSec", "AuthFailures")}
    log("D-Bus: %s" % props)
    if props["Authentication"] != '"nts"':
        fail("Authentication is %s, expected nts" % props["Authentication"])
    if not 1 <= int(props["NTSCookies"]) <= 8 or int(props["NTSCookieLength"]) < 16:
        fail("NTSCookies %s, NTSCookieLength %s" % (props["NTSCookies"], props["NTSCookieLength"]))
    if int(props["NTSKEFailures"]) != 0 or int(props["AuthFailures"]) != 0:
        fail("failures where there should be none: %s" % props)
    last = int(props["NTSLastKEUSec"])
    if ke_expected and abs(last / 1e6 - time.time()) > 120:
        fail("NTSLastKEUSec %d is not about now" % last)
    if not ke_expected and last != 0:
        fail("NTSLastKEUSec %d after a restart that needed no NTS-KE" % last)


def check_authdata(args):
    out = tempusctl(args, "authdata", "-n").stdout
    log(out)
    row = [l.split() for l in out.splitlines()[2:] if l.startswith("127.0.0.1")]
    if len(row) != 1 or row[0][1] != "NTS" or int(row[0][8]) < 1 or int(row[0][9]) < 16:
        fail("authdata row is %s, expected Mode NTS with cookies and their length" % row)
    data = json.loads(tempusctl(args, "--json", "authdata").stdout)
    if data[0]["Authentication"] != "nts" or data[0]["NTSCookies"] < 1:
        fail("authdata --json: %s" % data)


def test(args, wd):
    ca = make_test_ca(wd)
    cert, key = make_server_cert(ca, "server")
    chronyd_server(args, wd, CHRONY_PORT,
                   extra="ntsserverkey %s\nntsservercert %s\nntsport %d\nntsdumpdir %s/chrony-nts\n"
                         % (key, cert, CHRONY_KE_PORT, wd))
    proxy = TcpProxy(("127.0.0.1", KE_PORT), ("127.0.0.1", CHRONY_KE_PORT))
    BusDaemon(args, wd)
    dump = os.path.join(wd, "nts")

    first = os.path.join(wd, "first")
    os.makedirs(first)
    t = start_tempusd(args, first, ca, dump)
    check_synchronised(t, "first start")
    path = source_path()
    check_bus(path, True)
    check_authdata(args)
    if proxy.connections != 1:
        fail("%d NTS-KE connections, expected 1" % proxy.connections)
    t.stop()

    files = os.listdir(dump)
    log("dump directory: %s" % files)
    if len(files) != 1 or stat.S_IMODE(os.stat(os.path.join(dump, files[0])).st_mode) != 0o600:
        fail("expected one cookie file of mode 0600 in %s: %s" % (dump, files))

    second = os.path.join(wd, "second")
    os.makedirs(second)
    t = start_tempusd(args, second, ca, dump)
    check_synchronised(t, "after a restart")
    check_bus(source_path(), False)
    if proxy.connections != 1:
        fail("%d NTS-KE connections after the restart, expected still 1" % proxy.connections)
    log("restart: synchronised with the saved cookies, no new NTS-KE")
    if t.stop() != 0 or sanitizer_reports(t.output()):
        fail("tempusd did not exit cleanly")
    check_trust_reload(args, wd, ca)


def check_trust_reload(args, wd, ca):
    """A CA that did not sign the server's certificate: NTS-KE fails and
    is counted; a reload with the right one succeeds at the next poll."""
    other = make_test_ca(wd, "other")
    third = os.path.join(wd, "third")
    os.makedirs(third)
    t = start_tempusd(args, third, other, os.path.join(wd, "nts-third"))
    wait_for("NTS-KE to fail with the wrong CA", lambda: int(bus_get("NTSKEFailures", source_path(), SOURCE)) >= 1,
             20)
    if samples(t):
        fail("samples although the server's certificate is not trusted")
    t.reload({
        "Sources": [("Server", "127.0.0.1 nts ntsport=%d iburst minpoll=-2 maxpoll=-2" % KE_PORT)],
        "Clock": [("Control", "no")],
        "Server": [("Port", "0")],
        "Auth": [("NTSTrustedCerts", ca), ("NTSDumpDir", os.path.join(wd, "nts-third"))],
        "Log": [("Dir", third + "/log"), ("Log", "measurements")],
    })
    check_synchronised(t, "after a reload with the right CA")
    if t.stop() != 0 or sanitizer_reports(t.output()):
        fail("tempusd did not exit cleanly")


run(test)
