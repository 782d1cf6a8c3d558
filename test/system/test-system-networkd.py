#!/usr/bin/env python3
"""The system test of link servers: systemd-networkd in the booted
container tells tempusd which NTP server to use.

Usage: test-system-networkd.py BUILD_ROOT SOURCE_ROOT

The container (test-system.py's, with a network namespace of its own, as
DESIGN.md asks of a test that runs networkd) is joined by a veth pair to a
second namespace that the test creates, where a chronyd from Debian's
package serves its own clock at 10.77.0.1 and 10.77.0.3. In the container,
networkd configures its end of the pair from a .network file that says
NTP=10.77.0.1; tempus.conf names no server at all. tempusd adds the link's
server and synchronises to it; `timedatectl ntp-servers` then gives the
link another server and tempusd follows.

tempusd runs with Control=no here: it measures and never adjusts the
clock, and chronyd runs with -x and without CAP_SYS_TIME. The kernel's
clock state is still saved before and restored after, as in test-system.py.
"""

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("test_system", os.path.join(HERE, "test-system.py"))
ts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ts)
check, log, wait_for, Failure = ts.check, ts.log, ts.wait_for, ts.Failure

LINK, FAR = "tt-tempus", "tt-far"
# networkd runs here; its own namespace keeps it off this machine's links.
MASK = [u for u in ts.MASKED_UNITS if not u.startswith("systemd-networkd")]

NETWORK = "[Match]\nName=%s\n\n[Network]\nAddress=10.77.0.2/24\nNTP=10.77.0.1\n" % LINK
DROPIN = ("# The networkd system test: no server here, only the link's.\n[Sources]\nServer=\n"
          "LinkServerOptions=iburst minpoll=-2 maxpoll=0\n\n[Clock]\nControl=no\nMakeStep=\n")
EXTRA = ("mkdir -p \"$M/etc/systemd/network\" && cat > \"$M/etc/systemd/network/50-tempus-test.network\" <<'EOF'\n"
         "%sEOF\n" % NETWORK)

SOURCE = "org.tempus.Tempus1.Source"


def far_run(far_pid, *argv):
    subprocess.run(["nsenter", "-t", str(far_pid), "-n", "--"] + list(argv), check=True)


def start_far_side(workdir, chronyd, container_pid):
    """The second namespace: the far end of the veth pair, and chronyd."""
    holder = subprocess.Popen(["unshare", "--net", "--", "sleep", "3600"])
    pid = holder.pid
    wait_for("the far namespace", lambda: os.readlink("/proc/%d/ns/net" % pid) != os.readlink("/proc/self/ns/net"),
             10, 0.1)
    far_run(pid, "ip", "link", "add", FAR, "type", "veth", "peer", "name", LINK, "netns", str(container_pid))
    for argv in (["ip", "addr", "add", "10.77.0.1/24", "dev", FAR], ["ip", "addr", "add", "10.77.0.3/24", "dev", FAR],
                 ["ip", "link", "set", FAR, "up"], ["ip", "link", "set", "lo", "up"]):
        far_run(pid, *argv)
    conf = os.path.join(workdir, "far-chrony.conf")
    with open(conf, "w") as f:
        f.write("port 123\ncmdport 0\nlocal stratum 8\nallow 10.77.0.0/24\npidfile %s/far-chronyd.pid\n"
                "driftfile %s/far-chronyd.drift\n" % (workdir, workdir))
    server = subprocess.Popen(["nsenter", "-t", str(pid), "-n", "--", "setpriv", "--bounding-set=-sys_time", "--",
                               chronyd, "-x", "-d", "-u", "root", "-f", conf],
                              stdout=open(os.path.join(workdir, "far-chronyd.log"), "w"), stderr=subprocess.STDOUT)
    log("far side: %s with 10.77.0.1 and 10.77.0.3, chronyd serving its own clock" % FAR)
    return holder, server


def sources(c):
    """{name: link} of tempusd's sources."""
    tree = c.output("busctl", "tree", "--list", "org.tempus.Tempus1", quiet=True)
    out = {}
    for path in re.findall(r"^(/org/tempus/Tempus1/source/\d+)$", tree, re.M):
        props = c.output("busctl", "get-property", "org.tempus.Tempus1", path, SOURCE, "Name", "Link",
                         quiet=True, check_rc=False)
        values = re.findall(r'^s "(.*)"$', props, re.M)
        if len(values) == 2:
            out[values[0]] = values[1]
    return out


def reference(c):
    return c.output("busctl", "get-property", "org.tempus.Tempus1", "/org/tempus/Tempus1",
                    "org.tempus.Tempus1.Manager", "ReferenceName", quiet=True, check_rc=False).strip()


def step_networkd(c):
    wait_for("networkd to configure %s with its NTP server" % LINK,
             lambda: re.search(r"NTP: 10\.77\.0\.1", c.output("networkctl", "status", LINK, quiet=True,
                                                              check_rc=False)), 60)
    c.run("networkctl", "status", LINK, check_rc=False)
    c.run("ping", "-c", "1", "-W", "2", "10.77.0.1", check_rc=False)
    log("ok: networkd lists 10.77.0.1 as the NTP server of %s" % LINK)


def step_tempusd(c):
    dump = c.output("tempusd", "--dump-config")
    check(not re.search(r"^(Server|Pool)=", dump, re.M), "tempus.conf names no server")
    check(re.search(r"^Control=no", dump, re.M) is not None, "tempusd never adjusts the clock here (Control=no)")
    c.run("systemctl", "start", "tempusd.socket", "tempusd.service")
    wait_for("tempusd to add the link's server", lambda: sources(c) == {"10.77.0.1": LINK}, 30)
    log("ok: tempusd added 10.77.0.1, the NTP server of link %s" % LINK)
    wait_for("synchronisation to 10.77.0.1", lambda: reference(c) == 's "10.77.0.1"', 60)
    log("ok: tempusd synchronised to the link's server")
    out = c.output("tempusctl", "sources")
    check(re.search(r"^\^\*\s+10\.77\.0\.1%%%s\s" % LINK, out, re.M) is not None,
          "tempusctl sources shows 10.77.0.1%%%s, selected" % LINK)
    servers = c.output("busctl", "get-property", "org.freedesktop.timesync1", "/org/freedesktop/timesync1",
                       "org.freedesktop.timesync1.Manager", "LinkNTPServers").strip()
    check(servers == 'as 1 "10.77.0.1"', "timesync1's LinkNTPServers lists it (%s)" % servers)


def step_ntp_servers(c):
    c.run("timedatectl", "ntp-servers", LINK, "10.77.0.3")
    wait_for("tempusd to follow the link's new server", lambda: sources(c) == {"10.77.0.3": LINK}, 30)
    log("ok: timedatectl ntp-servers %s 10.77.0.3 replaced the source" % LINK)
    wait_for("synchronisation to 10.77.0.3", lambda: reference(c) == 's "10.77.0.3"', 60)
    log("ok: tempusd synchronised to the new server")
    status = c.output("timedatectl", "timesync-status")
    check(re.search(r"^\s*Server: 10\.77\.0\.3 \(10\.77\.0\.3\)$", status, re.M) is not None,
          "timedatectl timesync-status shows it")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: test-system-networkd.py BUILD_ROOT SOURCE_ROOT")
    build_root, source_root = (os.path.abspath(a) for a in sys.argv[1:3])
    if os.geteuid() != 0:
        log("SKIP: the system test needs root")
        return ts.SKIP
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))

    build = ts.usr_build(build_root, source_root)
    chronyd = ts.fetch_chronyd(build_root, source_root)
    workdir = tempfile.mkdtemp(prefix="tempus-system-networkd-", dir=build_root)
    dropin = os.path.join(workdir, "50-local.conf")
    with open(dropin, "w") as f:
        f.write(DROPIN)

    saved = ts.clock_read()
    failed = None
    far = []
    try:
        c = ts.Container(workdir, build, dropin, chronyd, net=True, mask=MASK, extra=EXTRA)
        try:
            ts.step_boot(c)
            far = start_far_side(workdir, chronyd, c.pid)
            c.run("ip", "-o", "link")
            c.run("systemctl", "start", "systemd-networkd.service")
            c.run("networkctl", "list", check_rc=False)
            step_networkd(c)
            step_tempusd(c)
            step_ntp_servers(c)
        except Failure as e:
            failed = str(e)
            if c.pid:
                c.run("journalctl", "-b", "--no-pager", "-n", "60", "-u", "tempusd", "-u", "systemd-networkd",
                      check_rc=False)
                far_log = os.path.join(workdir, "far-chronyd.log")
                if os.path.exists(far_log):
                    with open(far_log) as f:
                        log("---- far chronyd ----\n" + f.read()[-2000:])
        finally:
            c.kill()
            for p in far:
                p.kill()
                p.wait()
    finally:
        ts.clock_restore(saved)
    shutil.rmtree(workdir, ignore_errors=True)
    if failed:
        log("FAIL: " + failed)
        return 1
    log("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
