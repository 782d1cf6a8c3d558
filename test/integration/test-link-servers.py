#!/usr/bin/env python3
"""Servers learned from network links (LinkServers=): tempusd follows
systemd-networkd's link state files (here in a folder of the test, named by
$TEMPUS_NETIF_LINKS, as networkd writes them: a new file renamed into
place). No Server= line: a server listed by an up link becomes a source
with that Link, tempusd synchronises to it, and timesync1's LinkNTPServers
lists it; it follows a change of the list, goes when the link loses its
carrier or its file, and with LinkServers=no after a reload. The folder
may appear after tempusd started, as when networkd starts later."""
from tempus_test import *

CHRONY_PORT = 11323
LINK = "tl0"
SOURCE = "org.tempus.Tempus1.Source"


def write_state(links_dir, ifindex, text):
    tmp = os.path.join(links_dir, ".#%d.tmp" % ifindex)
    with open(tmp, "w") as f:
        f.write("# This is private data. Do not parse.\nADMIN_STATE=configured\n" + text)
    os.rename(tmp, os.path.join(links_dir, str(ifindex)))


def source_paths():
    r = run_as(["busctl", "--system", "tree", "--list", "org.tempus.Tempus1"])
    return [l for l in r.stdout.split() if re.match(r"^/org/tempus/Tempus1/source/\d+$", l)]


def sources():
    """{name: link} of every source."""
    return {bus_get("Name", p, SOURCE).strip('"'): bus_get("Link", p, SOURCE).strip('"') for p in source_paths()}


def link_servers():
    return run_as(["busctl", "--system", "get-property", "org.freedesktop.timesync1", "/org/freedesktop/timesync1",
                   "org.freedesktop.timesync1.Manager", "LinkNTPServers"]).stdout.strip()


def expect_sources(want, what):
    wait_for(what, lambda: sources() == want, 10)
    log("ok: %s: %s" % (what, want))


def test(args, wd):
    subprocess.run(["ip", "link", "add", LINK, "type", "veth", "peer", "name", LINK + "p"], check=True)
    subprocess.run(["ip", "link", "set", LINK, "up"], check=True)
    ifindex = socket.if_nametoindex(LINK)
    links_dir = os.path.join(wd, "netif", "links")
    os.makedirs(os.path.dirname(links_dir))
    os.environ["TEMPUS_NETIF_LINKS"] = links_dir
    BusDaemon(args, wd)
    chronyd_server(args, wd, CHRONY_PORT)
    sections = {
        "Sources": [("LinkServerOptions", "iburst minpoll=-1 maxpoll=0 port=%d" % CHRONY_PORT)],
        "Clock": [("Control", "no")],
        "Server": [("Port", "0")],
    }
    t = Tempusd(args, wd, sections)
    wait_for("the bus name", lambda: run_as(["busctl", "--system", "status", "org.tempus.Tempus1"],
                                            check=False).returncode == 0, 10)
    if sources():
        fail("sources without any link state: %s" % sources())

    # networkd starts after tempusd: the folder appears, then the state file.
    os.makedirs(links_dir)
    write_state(links_dir, ifindex, "OPER_STATE=routable\nNTP=127.0.0.1\n")
    expect_sources({"127.0.0.1": LINK}, "the link's server became a source of link %s" % LINK)
    wait_for("synchronisation to the link's server", lambda: bus_get("Synchronized") == "true", 30)
    if bus_get("ReferenceName") != '"127.0.0.1"':
        fail("not synchronised to the link's server: %s" % bus_get("ReferenceName"))
    if link_servers() != 'as 1 "127.0.0.1"':
        fail("LinkNTPServers is %s" % link_servers())
    log("ok: synchronised to it; LinkNTPServers lists it")
    out = tempusctl(args, "sources").stdout
    if not re.search(r"^\^\*\s+127\.0\.0\.1%%%s\s" % LINK, out, re.M):
        fail("tempusctl sources does not show the link:\n" + out)
    log("ok: tempusctl sources shows 127.0.0.1%%%s" % LINK)

    write_state(links_dir, ifindex, "OPER_STATE=routable\nNTP=127.0.0.2 127.0.0.1\n")
    expect_sources({"127.0.0.1": LINK, "127.0.0.2": LINK}, "a second server on the link was added")
    write_state(links_dir, ifindex, "OPER_STATE=routable\nNTP=127.0.0.2\n")
    expect_sources({"127.0.0.2": LINK}, "the server the link dropped went")
    write_state(links_dir, ifindex, "OPER_STATE=no-carrier\nNTP=127.0.0.2\n")
    expect_sources({}, "the link lost its carrier: its servers went")
    write_state(links_dir, ifindex, "OPER_STATE=routable\nNTP=127.0.0.1\n")
    expect_sources({"127.0.0.1": LINK}, "the carrier came back")

    write_ini(t.config, dict(sections, Sources=sections["Sources"] + [("LinkServers", "no")]))
    bus_call("Reload")
    expect_sources({}, "LinkServers=no and a reload removed the link's servers")
    write_ini(t.config, sections)
    bus_call("Reload")
    expect_sources({"127.0.0.1": LINK}, "LinkServers=yes again brought them back")

    os.unlink(os.path.join(links_dir, str(ifindex)))
    expect_sources({}, "the link's state file went, and with it its servers")
    if link_servers() != "as 0":
        fail("LinkNTPServers is %s" % link_servers())
    if not t.alive():
        fail("tempusd died")


run(test)
