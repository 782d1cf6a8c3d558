#!/usr/bin/env python3
"""NTS interoperability with ntpsec, both ways, certificates from a CA
made here:

- tempusd synchronises from ntpsec's ntpd as an NTS server (NTS-KE on
  4460, NTP on 123), and the source shows Authentication "nts" with
  cookies on D-Bus: every sample it takes passed the Authenticator;
- ntpd, as an NTS client, selects tempusd as its system peer (its
  peerstats say so) after NTS-KE
  with it; tempusd serves NTP on 11123, which its NTS-KE names in a Port
  record (ntpd keeps 123 for itself), and counts the NTS requests it
  answered (ServerNTSAuthenticated)."""
from tempus_test import *

SOURCE = "org.tempus.Tempus1.Source"


def ntpd_client(args, wd, ca):
    """tempusd as an NTS server, ntpd as its client."""
    cert, key = make_server_cert(ca, "tempus")
    sdir = os.path.join(wd, "server")
    os.makedirs(sdir)
    t = Tempusd(args, sdir, {
        "Clock": [("Control", "no")],
        "Server": [("Port", "11123"), ("Allow", "127.0.0.0/8"), ("LocalStratum", "10"),
                   ("NTSServerCertFile", cert), ("NTSServerKeyFile", key)],
        "Auth": [("NTSDumpDir", sdir + "/nts")],
    })
    bus_get("NTSKEHandshakes")
    conf = os.path.join(wd, "ntp-client.conf")
    with open(conf, "w") as f:
        f.write("driftfile %s/ntp-client.drift\ndisable ntp\ndisable kernel\nlogfile %s/ntpd-client.log\n"
                "statsdir %s/\nstatistics peerstats\nfilegen peerstats file peerstats type none enable\n"
                "server 127.0.0.1 nts ca %s iburst minpoll 3 maxpoll 3\n" % (wd, wd, wd, ca))
    ntpd = Process("ntpd-client", [os.path.join(args.peers, "usr/sbin/ntpd"), "-n", "-c", conf,
                                   "-p", os.path.join(wd, "ntpd-client.pid")], wd)
    peerstats = os.path.join(wd, "peerstats")

    def selected():
        # peerstats: MJD seconds address status offset ...; in the status
        # word, 0x2000 says the peer authenticated and the selection field
        # (bits 8-10) is 6 for the system peer.
        if not os.path.exists(peerstats):
            return None
        with open(peerstats) as f:
            rows = [l.split() for l in f if "127.0.0.1" in l]
        return [r for r in rows if (int(r[3], 16) >> 8) & 7 == 6 and int(r[3], 16) & 0x2000]
    rows = wait_for("ntpd to select tempusd as its system peer over NTS", selected, 90,
                    on_timeout=lambda m: (log(open(os.path.join(wd, "ntpd-client.log")).read()), t.dump(), fail(m)))
    log("ntpd peerstats: %s" % " ".join(rows[-1]))
    with open(os.path.join(wd, "ntpd-client.log")) as f:
        nts_lines = [l.strip() for l in f if "NTSc" in l]
    log("\n".join(nts_lines[-3:]))
    n = int(bus_get("ServerNTSAuthenticated"))
    log("tempusd: NTSKEHandshakes %s, ServerNTSAuthenticated %d" % (bus_get("NTSKEHandshakes"), n))
    if int(bus_get("NTSKEHandshakes")) < 1 or n < 3:
        fail("ntpd's requests were not NTS-authenticated by tempusd")
    ntpd.stop()
    if t.stop() != 0 or sanitizer_reports(t.output()):
        fail("tempusd did not exit cleanly")


def test(args, wd):
    ca = make_test_ca(wd)
    cert, key = make_server_cert(ca, "server")
    conf = os.path.join(wd, "ntp.conf")
    with open(conf, "w") as f:
        f.write("driftfile %s/ntp.drift\ntos orphan 10\ntos orphanwait 0\ndisable ntp\ndisable kernel\n"
                "restrict default\nnts enable\nnts cert %s\nnts key %s\n" % (wd, cert, key))
    ntpd = Process("ntpd", [os.path.join(args.peers, "usr/sbin/ntpd"), "-n", "-c", conf,
                            "-p", os.path.join(wd, "ntpd.pid")], wd)
    wait_for("ntpd's NTS-KE port", lambda: subprocess.run(["ss", "-ltnH", "sport = :4460"],
                                                           stdout=subprocess.PIPE, text=True).stdout.strip(), 20)
    BusDaemon(args, wd)
    t = Tempusd(args, wd, {
        "Sources": [("Server", "127.0.0.1 nts iburst minpoll=-2 maxpoll=-2")],
        "Clock": [("Control", "no")],
        "Server": [("Port", "0")],
        "Auth": [("NTSTrustedCerts", ca), ("NTSDumpDir", wd + "/nts")],
        "Log": [("Dir", wd + "/log"), ("Log", "measurements")],
    })
    rows = lambda: [float(r[11]) for r in t.measurements() if r[2] == "127.0.0.1"]
    offsets = wait_for("4 NTS samples from ntpd", lambda: len(rows()) >= 4 and rows(), 60,
                       on_timeout=lambda m: (ntpd.dump(), t.dump(60), fail(m)))
    log("offsets from ntpd: %s" % offsets)
    if any(abs(o) >= 1e-3 for o in offsets):
        fail("an offset is 1 ms or more: %s" % offsets)
    path = [l for l in run_as(["busctl", "--system", "tree", "--list", "org.tempus.Tempus1"]).stdout.split()
            if re.match(r"^/org/tempus/Tempus1/source/\d+$", l)][0]
    auth, cookies = bus_get("Authentication", path, SOURCE), int(bus_get("NTSCookies", path, SOURCE))
    log("Authentication %s, NTSCookies %d" % (auth, cookies))
    if auth != '"nts"' or cookies < 1:
        fail("the source does not show NTS with cookies")
    if t.stop() != 0 or sanitizer_reports(t.output()):
        fail("tempusd did not exit cleanly")
    ntpd.stop()
    ntpd_client(args, wd, ca)


run(test)
