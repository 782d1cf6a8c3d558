#!/usr/bin/env python3
"""Servers learned from network links where NetworkManager runs
(LinkServers=): on a private bus, fake-nm stands in for NetworkManager
with one device, nm0, whose DHCP4Config lists a chronyd on loopback in its
ntp_servers option. networkd's state folder is empty. No Server= line:
the server becomes a source with Link nm0 and tempusd synchronises to it;
tempusd follows a change of the option (and of the DHCPv6 one), the
device leaving the activated state and coming back, the device leaving
NetworkManager's list, and NetworkManager itself leaving the bus and
coming back: all through signals; and while NetworkManager is slow to
answer, tempusd answers at once. Once networkd's folder lists a link,
networkd's servers are the ones tempusd follows."""
import time

from tempus_test import *

CHRONY_PORT = 11324
LINK = "nm0"
SOURCE = "org.tempus.Tempus1.Source"

POLICY = """<policy user="root">
  <allow own="org.freedesktop.NetworkManager"/>
</policy>
<policy context="default">
  <allow send_destination="org.freedesktop.NetworkManager"/>
</policy>"""


class FakeNM(Process):
    """fake-nm, driven through its stdin."""
    started = 0

    def __init__(self, args, wd, ntp):
        FakeNM.started += 1
        RUNNING.append(self)
        self.name = "fake-nm-%d" % FakeNM.started
        self.log_path = os.path.join(wd, self.name + ".log")
        self.log_file = open(self.log_path, "w")
        exe = os.path.join(args.build_root, "test", "integration", "fake-nm")
        log("starting %s: %s %s %s" % (self.name, exe, LINK, ntp))
        self.proc = subprocess.Popen([exe, LINK, ntp], stdin=subprocess.PIPE, stdout=self.log_file,
                                     stderr=subprocess.STDOUT, text=True)
        wait_for("fake-nm on the bus", lambda: "ready" in self.output(), 10)

    def answers(self):
        return [l for l in self.output().splitlines() if l.startswith(("done ", "failed "))]

    def send(self, line):
        n = len(self.answers())
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        wait_for("fake-nm to do '%s'" % line, lambda: len(self.answers()) > n, 10)
        if self.answers()[n] != "done " + line:
            fail("fake-nm: %s" % self.answers()[n])


def sources():
    """{name: link} of every source; None when a source went while they
    were read (the test asks again)."""
    r = run_as(["busctl", "--system", "tree", "--list", "org.tempus.Tempus1"], check=False)
    paths = [l for l in r.stdout.split() if re.match(r"^/org/tempus/Tempus1/source/\d+$", l)]
    props = [run_as(["busctl", "--system", "get-property", "org.tempus.Tempus1", p, SOURCE, "Name", "Link"],
                    check=False) for p in paths]
    if r.returncode != 0 or any(p.returncode != 0 for p in props):
        return None
    return dict(re.findall(r'^s "(.*)"\ns "(.*)"$', "".join(p.stdout for p in props), re.M))


def expect_sources(want, what):
    wait_for(what, lambda: sources() == want, 10)
    log("ok: %s: %s" % (what, want))


def write_networkd_state(links_dir, text):
    tmp = os.path.join(links_dir, ".#1.tmp")
    with open(tmp, "w") as f:
        f.write("ADMIN_STATE=configured\n" + text)
    os.rename(tmp, os.path.join(links_dir, "1"))


def test(args, wd):
    links_dir = os.path.join(wd, "netif-links")
    os.makedirs(links_dir)
    os.environ["TEMPUS_NETIF_LINKS"] = links_dir
    BusDaemon(args, wd, POLICY)
    chronyd_server(args, wd, CHRONY_PORT)
    nm = FakeNM(args, wd, "127.0.0.1")
    sections = {
        "Sources": [("LinkServerOptions", "iburst minpoll=-1 maxpoll=0 port=%d" % CHRONY_PORT)],
        "Clock": [("Control", "no")],
        "Server": [("Port", "0")],
    }
    t = Tempusd(args, wd, sections)
    wait_for("the bus name", lambda: run_as(["busctl", "--system", "status", "org.tempus.Tempus1"],
                                            check=False).returncode == 0, 10)
    expect_sources({"127.0.0.1": LINK}, "the DHCP server of %s became a source of that link" % LINK)
    wait_for("synchronisation to the link's server", lambda: bus_get("Synchronized") == "true", 30)
    if bus_get("ReferenceName") != '"127.0.0.1"':
        fail("not synchronised to the link's server: %s" % bus_get("ReferenceName"))
    out = tempusctl(args, "sources").stdout
    if not re.search(r"^\^\*\s+127\.0\.0\.1%%%s\s" % LINK, out, re.M):
        fail("tempusctl sources does not show the link:\n" + out)
    log("ok: synchronised to it; tempusctl sources shows 127.0.0.1%%%s" % LINK)
    servers = run_as(["busctl", "--system", "get-property", "org.freedesktop.timesync1", "/org/freedesktop/timesync1",
                      "org.freedesktop.timesync1.Manager", "LinkNTPServers"]).stdout.strip()
    if servers != 'as 1 "127.0.0.1"':
        fail("timesync1's LinkNTPServers is %s" % servers)
    log("ok: timesync1's LinkNTPServers lists it")

    nm.send("ntp4 127.0.0.2")
    expect_sources({"127.0.0.2": LINK}, "ntp_servers changed: tempusd followed")
    nm.send("ntp6 ::1")
    expect_sources({"127.0.0.2": LINK, "::1": LINK}, "dhcp6_ntp_servers added a server")
    nm.send("ntp6")
    expect_sources({"127.0.0.2": LINK}, "dhcp6_ntp_servers went: so did its server")

    # NetworkManager slow to answer: tempusd waits for nothing meanwhile.
    nm.send("slow 3000")
    nm.send("ntp4 127.0.0.1")
    time.sleep(0.5)
    start = time.monotonic()
    bus_get("Synchronized")
    took = time.monotonic() - start
    if took > 0.5 or sources() != {"127.0.0.2": LINK}:
        fail("while NetworkManager was slow: a read took %.2f s, sources %s" % (took, sources()))
    log("ok: while NetworkManager takes 3 s to answer, tempusd answers in %.3f s" % took)
    expect_sources({"127.0.0.1": LINK}, "the slow answer came, and tempusd followed it")
    nm.send("ntp4 127.0.0.2")
    expect_sources({"127.0.0.2": LINK}, "back to 127.0.0.2")
    nm.send("state 30")
    expect_sources({}, "the device was deactivated: its servers went")
    nm.send("state 100")
    expect_sources({"127.0.0.2": LINK}, "activated again: back")
    nm.send("remove")
    expect_sources({}, "the device left NetworkManager's list, and its servers went")
    nm.send("add")
    expect_sources({"127.0.0.2": LINK}, "the device came back")

    nm.stop()
    expect_sources({}, "NetworkManager left the bus: its servers went")
    nm = FakeNM(args, wd, "127.0.0.1")
    expect_sources({"127.0.0.1": LINK}, "NetworkManager came back, with its servers")
    wait_for("synchronisation again", lambda: bus_get("ReferenceName") == '"127.0.0.1"', 30)

    # Where networkd runs, its links are the ones that count.
    write_networkd_state(links_dir, "OPER_STATE=routable\nNTP=127.0.0.3\n")
    expect_sources({"127.0.0.3": "lo"}, "networkd's state lists a link: its servers replace NetworkManager's")
    os.unlink(os.path.join(links_dir, "1"))
    expect_sources({"127.0.0.1": LINK}, "networkd's state went: NetworkManager's servers again")

    if not t.alive():
        fail("tempusd died")
    if t.stop() != 0:
        fail("tempusd did not stop cleanly")
    if sanitizer_reports(t.output()):
        fail("sanitizer reports:\n" + "\n".join(sanitizer_reports(t.output())))
    log("ok: tempusd stopped cleanly")


run(test)
