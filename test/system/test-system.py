#!/usr/bin/env python3
"""The system test: tempus installed into a real systemd, booted as PID 1
of a container over an overlay of this machine's root filesystem
(DESIGN.md, "Booting systemd for the system tests").

Usage: test-system.py BUILD_ROOT SOURCE_ROOT

tempus is built with --prefix=/usr (BUILD_ROOT itself when it already has
that prefix, else BUILD_ROOT/system-usr), installed with `meson install
--destdir` into the overlay, and driven the way an administrator would:
systemctl, timedatectl, busctl and tempusctl, run inside the container with
nsenter. A chronyd from Debian's package (unpacked into BUILD_ROOT/peers, as
the integration tests do) serves its own clock on 127.0.0.1 and is the only
source; chronyd runs with -x and without CAP_SYS_TIME.

Clock safety (DESIGN.md's one exception): inside this test tempusd may
control the real clock, because its only source is a server on this same
machine (offset near zero) and MakeStep is off; the test checks both with
`tempusd --dump-config` before anything can start tempusd. The kernel's
frequency and status are saved (adjtimex, modes 0) before the container
boots and restored after it is gone, whatever happens.

The container shares this machine's network namespace, so nothing in it may
talk to the network: the drop-in is in place before boot, and tempusd serves
nobody (no Allow=).
"""

import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import tempus_test  # noqa: E402  (wait_for)

SKIP = 77
ADJ_FREQUENCY = 0x0002
ADJ_STATUS = 0x0010
ADJ_MAXERROR = 0x0004
ADJ_ESTERROR = 0x0008
ADJ_TICK = 0x4000
CAP_SYS_TIME = 25

# Units that would touch this machine (its kernel settings, modules, device
# nodes, console, network or clock) or hang in the container.
MASKED_UNITS = [
        "systemd-timesyncd.service", "getty@.service", "console-getty.service",
        "postgresql.service", "systemd-networkd.service", "systemd-networkd.socket",
        "apt-daily.timer", "apt-daily-upgrade.timer",
        "systemd-sysctl.service", "systemd-binfmt.service", "proc-sys-fs-binfmt_misc.automount",
        "systemd-modules-load.service", "kmod-static-nodes.service", "systemd-tmpfiles-setup-dev.service",
        "systemd-journald-audit.socket", "e2scrub_reap.service", "e2scrub_all.timer", "fstrim.timer",
        "man-db.timer", "dpkg-db-backup.timer",
        # Debian's prometheus package enables its own server; the metrics step
        # starts one of its own, on a port of its own.
        "prometheus.service",
]

# Runs as PID 1 of the new PID namespace, in a new mount namespace; ends by
# becoming systemd.
BOOT_SCRIPT = r"""
set -eu
mount --make-rprivate /
mount -t tmpfs -o mode=0755 tempus-system "$TOP"
mkdir "$TOP/upper" "$TOP/work" "$TOP/merged"
M="$TOP/merged"
mount -t overlay overlay -o "lowerdir=/,upperdir=$TOP/upper,workdir=$TOP/work" "$M"
mount -t proc proc "$M/proc"
if [ -n "$OWN_NET" ]; then
        # A network namespace of its own: a sysfs of that namespace, read-only
        # (networkd then waits for no udev, and nothing in the container
        # writes this machine's sysfs), with the cgroups systemd needs.
        mount -t sysfs -o ro sysfs "$M/sys"
        mount --rbind /sys/fs/cgroup "$M/sys/fs/cgroup"
else
        mount --rbind /sys "$M/sys"
fi
mount --rbind /dev "$M/dev"
mount -t tmpfs -o mode=0755 tmpfs "$M/run"
mount -t tmpfs -o mode=1777 tmpfs "$M/tmp"
# systemd writes its console to a file of the test, not to this machine's.
mount --bind "$CONSOLE" "$M/dev/console"

mkdir -p "$M/etc/systemd/system"
for unit in $MASK; do
        rm -f "$M/etc/systemd/system/$unit"
        ln -s /dev/null "$M/etc/systemd/system/$unit"
done
ln -sf /lib/systemd/system/multi-user.target "$M/etc/systemd/system/default.target"
# Local time is UTC, so the kernel's time zone (set by set-local-rtc) never
# warps the clock.
ln -sf /usr/share/zoneinfo/Etc/UTC "$M/etc/localtime"

"$MESON" install -C "$BUILD" --destdir "$M" --no-rebuild --quiet >"$WORKDIR/install.log"
systemd-sysusers --root="$M"
mkdir -p "$M/etc/tempus/tempus.conf.d"
cp "$DROPIN" "$M/etc/tempus/tempus.conf.d/50-local.conf"
# The build tree may lie under /tmp, which the container hides: chronyd
# goes into the container's own root.
install -D -m 0755 "$CHRONYD" "$M/usr/local/libexec/tempus-test/chronyd"
# A test's own files in the overlay (test-system-networkd.py: a .network).
if [ -n "$EXTRA" ]; then
        M="$M" sh -c "$EXTRA"
fi

unset TOP CONSOLE MASK MESON BUILD DROPIN WORKDIR CHRONYD EXTRA OWN_NET
exec chroot "$M" env container=tempus-test /lib/systemd/systemd --system
"""


class Failure(Exception):
    pass


def log(message):
    print(message, flush=True)


def check(condition, message):
    if not condition:
        raise Failure(message)
    log("ok: " + message)


# ---- the kernel clock's frequency and status -------------------------------

class Timex(ctypes.Structure):
    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
                ("constant", ctypes.c_long), ("precision", ctypes.c_long), ("tolerance", ctypes.c_long),
                ("time_sec", ctypes.c_long), ("time_usec", ctypes.c_long), ("tick", ctypes.c_long),
                ("ppsfreq", ctypes.c_long), ("jitter", ctypes.c_long), ("shift", ctypes.c_int),
                ("stabil", ctypes.c_long), ("jitcnt", ctypes.c_long), ("calcnt", ctypes.c_long),
                ("errcnt", ctypes.c_long), ("stbcnt", ctypes.c_long), ("tai", ctypes.c_int),
                ("padding", ctypes.c_int * 11)]


LIBC = ctypes.CDLL(None, use_errno=True)


def adjtimex(tx):
    if LIBC.adjtimex(ctypes.byref(tx)) < 0:
        e = ctypes.get_errno()
        raise OSError(e, "adjtimex: " + os.strerror(e))
    return tx


def clock_read():
    """The kernel's clock state, read only (modes 0)."""
    return adjtimex(Timex(modes=0))


def clock_restore(saved):
    """Puts back the frequency (with its tick) and the status: the status
    bits and the error estimates that go with them. Never the time."""
    adjtimex(Timex(modes=ADJ_FREQUENCY | ADJ_TICK | ADJ_STATUS | ADJ_MAXERROR | ADJ_ESTERROR,
                   freq=saved.freq, tick=saved.tick, status=saved.status,
                   maxerror=saved.maxerror, esterror=saved.esterror))
    now = clock_read()
    log("clock restored: freq %d (was %d), tick %d (was %d), status 0x%x (was 0x%x), maxerror %d us" %
        (now.freq, saved.freq, now.tick, saved.tick, now.status, saved.status, now.maxerror))
    writable = 0xff      # STA_PLL .. STA_FREQHOLD; the others are the kernel's own
    if (now.freq, now.tick, now.status & writable) != (saved.freq, saved.tick, saved.status & writable):
        raise Failure("the kernel clock's frequency or status could not be restored")


# ---- building and the peers -------------------------------------------------

def usr_build(build_root, source_root):
    """A build tree configured with --prefix=/usr, built."""
    info = subprocess.run(["meson", "introspect", "--buildoptions", build_root],
                          stdout=subprocess.PIPE, text=True, check=True)
    prefix = next(o["value"] for o in json.loads(info.stdout) if o["name"] == "prefix")
    build = build_root
    if prefix != "/usr":
        build = os.path.join(build_root, "system-usr")
        if not os.path.exists(os.path.join(build, "build.ninja")):
            subprocess.run(["meson", "setup", "--prefix=/usr", "-Dtests=false", build, source_root],
                           stdout=subprocess.DEVNULL, check=True)
    log("building %s (prefix /usr)" % build)
    r = subprocess.run(["ninja", "-C", build, "-j2"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise Failure("build with --prefix=/usr failed:\n" + r.stdout[-3000:])
    return build


def fetch_chronyd(build_root, source_root):
    sys.path.insert(0, os.path.join(source_root, "test", "integration"))
    from tempus_test import fetch_peers
    chronyd = os.path.join(fetch_peers(build_root), "usr", "sbin", "chronyd")
    if not os.path.exists(chronyd):
        raise Failure("no chronyd in the unpacked peers: " + chronyd)
    return chronyd


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- cgroups: the container gets a group of its own -------------------------

def own_cgroups(name):
    """Creates one group, NAME below the deepest group this process is in, at
    the same path in every mounted hierarchy (cpuset aside: a new cpuset
    group has no CPUs), so that systemd in the container manages that group
    only and never the processes of this machine. Returns (group, created)
    paths: where to move, and the highest folder made, to remove later."""
    hierarchies, paths = [], []
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if "cpuset" in controllers.split(","):
                continue
            mount = "unified" if controllers == "" else controllers.replace("name=", "")
            base = os.path.join("/sys/fs/cgroup", mount)
            if not os.path.exists(os.path.join(base, "cgroup.procs")):
                if controllers == "" and os.path.exists("/sys/fs/cgroup/cgroup.procs"):
                    base = "/sys/fs/cgroup"
                else:
                    continue
            hierarchies.append(base)
            paths.append(path)
    relative = max(paths, key=len).strip("/").split("/") + [name]
    relative = [p for p in relative if p]
    groups = []
    for base in hierarchies:
        created = None
        d = base
        for part in relative:
            d = os.path.join(d, part)
            if not os.path.isdir(d):
                os.mkdir(d)
                created = created or d
        groups.append((d, created))
    return groups


def enter_cgroups(groups):
    for group, _ in groups:
        with open(os.path.join(group, "cgroup.procs"), "w") as f:
            f.write("0")


def remove_cgroups(groups):
    for _, top in groups:
        if not top:
            continue
        for _ in range(50):
            for d, _, _ in os.walk(top, topdown=False):
                try:
                    os.rmdir(d)
                except OSError:
                    pass
            if not os.path.exists(top):
                break
            time.sleep(0.1)
        if os.path.exists(top):
            log("warning: could not remove cgroup " + top)


# ---- the container ------------------------------------------------------------

class Container:
    def __init__(self, workdir, build, dropin, chronyd, net=False, mask=MASKED_UNITS, extra=""):
        """net: a network namespace of its own (DESIGN.md: for a test that
        runs systemd-networkd); extra: shell commands that put files into
        the overlay ($M) before boot."""
        self.workdir = workdir
        self.net = net
        self.top = os.path.join(workdir, "root")
        self.console = os.path.join(workdir, "console.log")
        os.makedirs(self.top)
        open(self.console, "w").close()
        self.cgroups = own_cgroups("tempus-system-test-%d" % os.getpid())
        env = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG": "C.UTF-8",
            "TOP": self.top, "CONSOLE": self.console, "MASK": " ".join(mask), "EXTRA": extra,
            "OWN_NET": "1" if net else "",
            "MESON": shutil.which("meson"), "BUILD": build, "DROPIN": dropin, "WORKDIR": workdir,
            "CHRONYD": chronyd,
        }
        log("booting systemd in the container")
        try:
            self.proc = subprocess.Popen(["unshare", "--pid", "--fork", "--mount"] + (["--net"] if net else []) +
                                         ["--", "/bin/sh", "-c", BOOT_SCRIPT],
                                         env=env, preexec_fn=lambda: enter_cgroups(self.cgroups),
                                         stdout=open(os.path.join(workdir, "boot.log"), "w"),
                                         stderr=subprocess.STDOUT)
        except BaseException:
            remove_cgroups(self.cgroups)
            raise
        self.pid = None

    def find_init(self, timeout=120):
        """The host PID of the container's PID 1, once it is systemd."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Failure("the container exited during boot (%d):\n%s" % (self.proc.returncode, self.boot_log()))
            children = children_of(self.proc.pid)
            if children:
                self.pid = children[0]
                try:
                    with open("/proc/%d/comm" % self.pid) as f:
                        if f.read().strip() == "systemd":
                            return self.pid
                except OSError:
                    pass
            time.sleep(0.2)
        raise Failure("systemd did not start in the container:\n" + self.boot_log())

    def boot_log(self):
        with open(os.path.join(self.workdir, "boot.log")) as f:
            return f.read()[-3000:]

    def run(self, *argv, timeout=60, check_rc=True, quiet=False):
        """Runs argv inside the container; returns (exit status, output)."""
        cmd = ["nsenter", "-t", str(self.pid), "-m", "-p", "-r", "-w"] + (["-n"] if self.net else []) + ["--"] + list(argv)
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "SYSTEMD_COLORS": "0",
               "SYSTEMD_PAGER": "", "PAGER": "cat"}
        try:
            r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failure("timed out after %d s: %s" % (timeout, " ".join(argv)))
        if not quiet:
            log("$ %s  [exit %d]\n%s" % (" ".join(argv), r.returncode, r.stdout.rstrip()))
        if check_rc and r.returncode != 0:
            raise Failure("`%s` failed with exit status %d" % (" ".join(argv), r.returncode))
        return r.returncode, r.stdout

    def output(self, *argv, **kw):
        return self.run(*argv, **kw)[1]

    def kill(self):
        """SIGKILL to PID 1 ends every process of the container."""
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc.poll() is None:
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        log("container stopped (PID 1 killed)")
        remove_cgroups(self.cgroups)


def children_of(pid):
    """The PIDs whose parent is pid (unshare's one child: PID 1 inside)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


def raise_failure(message):
    raise Failure(message)


def wait_for(what, predicate, timeout, interval=1.0):
    """tempus_test.wait_for, raising Failure so that main() can print the
    diagnostics and kill the container."""
    return tempus_test.wait_for(what, predicate, timeout, interval, on_timeout=raise_failure)


# ---- the steps -----------------------------------------------------------------

def is_active(c, unit):
    return c.output("systemctl", "is-active", unit, check_rc=False, quiet=True).strip()


def timedatectl_field(c, name):
    m = re.search(r"^\s*%s:\s*(.*)$" % re.escape(name), c.output("timedatectl", "status", quiet=True), re.M)
    return m.group(1).strip() if m else None


def step_boot(c):
    c.find_init()
    wait_for("systemd's private bus socket",
             lambda: c.run("test", "-S", "/run/systemd/private", check_rc=False, quiet=True)[0] == 0, 60, 0.5)
    # --wait returns once boot has finished: running, or degraded when a unit failed.
    _, state = c.run("systemctl", "is-system-running", "--wait", timeout=180, check_rc=False)
    state = state.strip().splitlines()[-1] if state.strip() else ""
    if state == "degraded":
        c.run("systemctl", "--failed", "--no-legend", check_rc=False)
    check(state in ("running", "degraded"), "systemd in the container reached running or degraded (%s)" % state)


def step_safe_config(c, port):
    """Nothing may start tempusd before this passes."""
    dump = c.output("tempusd", "--dump-config")
    sources = re.findall(r"^(Server|Pool)=(.*?)\s+#", dump, re.M)
    check(sources == [("Server", "127.0.0.1 iburst minpoll=-2 maxpoll=0 port=%d" % port)],
          "the only source is the chronyd on 127.0.0.1 (%s)" % sources)
    check(not re.search(r"^MakeStep=", dump, re.M), "MakeStep is off (never step)")
    check(not re.search(r"^Allow=", dump, re.M), "tempusd serves nobody")


# Where the boot script puts chronyd inside the container.
CONTAINER_CHRONYD = "/usr/local/libexec/tempus-test/chronyd"


def step_chronyd(c, port):
    conf = "/run/tempus-test-chrony.conf"
    text = ("port %d\nbindaddress 127.0.0.1\ncmdport 0\nlocal stratum 8\nallow 127.0.0.1\n"
            "pidfile /run/tempus-test-chronyd.pid\ndriftfile /run/tempus-test-chronyd.drift\n" % port)
    c.run("sh", "-c", "cat > %s <<'EOF'\n%sEOF" % (conf, text), quiet=True)
    # -x: never touch the clock; and without CAP_SYS_TIME it could not.
    c.run("systemd-run", "--unit=tempus-test-chronyd", "--property=CapabilityBoundingSet=~CAP_SYS_TIME",
          CONTAINER_CHRONYD, "-x", "-d", "-u", "root", "-f", conf)
    wait_for("chronyd to listen on 127.0.0.1:%d" % port,
             lambda: ":%d " % port in c.output("ss", "-uln", quiet=True), 20)
    log("ok: chronyd serves its own clock (local stratum 8) on 127.0.0.1:%d" % port)


def step_socket(c):
    c.run("systemctl", "enable", "--now", "tempusd.socket")
    check(c.output("systemctl", "is-active", "tempusd.socket", check_rc=False).strip() == "active",
          "tempusd.socket is active")
    listen = c.output("systemctl", "show", "-p", "Listen", "--value", "tempusd.socket")
    check("[::]:123 (Datagram)" in listen, "tempusd.socket listens on UDP port 123 for IPv4 and IPv6")


def step_set_ntp_yes(c):
    c.run("timedatectl", "set-ntp", "yes")
    wait_for("NTP service: active", lambda: timedatectl_field(c, "NTP service") == "active", 30)
    log("ok: timedatectl shows NTP service: active")
    wait_for("tempusd.service to become active (READY=1)", lambda: is_active(c, "tempusd.service") == "active", 30)
    log("ok: set-ntp yes started tempusd.service")
    check(c.output("systemctl", "is-enabled", "tempusd.service", check_rc=False).strip() == "enabled",
          "set-ntp yes enabled tempusd.service")


def step_synchronized(c):
    wait_for("System clock synchronized: yes",
             lambda: timedatectl_field(c, "System clock synchronized") == "yes", 180, interval=2)
    log("ok: timedatectl shows System clock synchronized: yes")
    c.run("timedatectl", "status")
    check(c.run("test", "-e", "/run/systemd/timesync/synchronized", check_rc=False)[0] == 0,
          "/run/systemd/timesync/synchronized exists")


# src/shared/log.h: TEMPUS_MESSAGE_SYNCHRONIZED.
MESSAGE_SYNCHRONIZED = "df6876f2da094b8e819dc4435351986b"


def step_journal(c):
    out = wait_for("the first synchronisation in the journal by its MESSAGE_ID",
                   lambda: c.output("journalctl", "-b", "--no-pager", "-o", "cat",
                                    "MESSAGE_ID=" + MESSAGE_SYNCHRONIZED, quiet=True).strip(), 20)
    check(out.splitlines() == ["Synchronized to 127.0.0.1, stratum 8."],
          "journalctl MESSAGE_ID=%s finds the first synchronisation, once (%r)" % (MESSAGE_SYNCHRONIZED, out))
    notices = c.output("journalctl", "-b", "--no-pager", "-o", "cat", "-u", "tempusd", "-p", "notice", quiet=True)
    check("Synchronized to 127.0.0.1" in notices and "Serving NTP" not in notices,
          "tempusd's messages carry priorities (notice for the synchronisation, info below it)")


def step_status(c):
    text = wait_for("a synchronised STATUS= line",
                    lambda: (lambda s: s if s.startswith("Synchronized to 127.0.0.1") else None)(
                        c.output("systemctl", "show", "-p", "StatusText", "--value", "tempusd", quiet=True).strip()),
                    30)
    status = c.output("systemctl", "status", "--no-pager", "--lines=20", "tempusd", check_rc=False)
    check(re.search(r'Status: "Synchronized to 127\.0\.0\.1 \(stratum \d+\), offset [-+]?\d', status) is not None,
          "systemctl status tempusd shows the status line (%s)" % text)
    journal = c.output("journalctl", "-b", "-u", "tempusd", "--no-pager", "-o", "cat", quiet=True)
    check("passed by systemd" in journal, "tempusd serves on the socket passed by systemd")


def step_privileges(c):
    pid = c.output("systemctl", "show", "-p", "MainPID", "--value", "tempusd").strip()
    check(pid not in ("", "0"), "tempusd has a main process (%s)" % pid)
    status = c.output("cat", "/proc/%s/status" % pid, quiet=True)
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    uid = c.output("id", "-u", "tempus").strip()
    uids = fields["Uid"].split()
    check(uids == [uid] * 4, "tempusd runs as user tempus (uid %s; Uid: %s)" % (uid, " ".join(uids)))
    only_sys_time = 1 << CAP_SYS_TIME
    for name in ("CapEff", "CapPrm", "CapBnd"):
        value = int(fields[name].strip(), 16)
        check(value == only_sys_time, "%s is CAP_SYS_TIME only (%s)" % (name, fields[name].strip()))


def step_timesync(c):
    """timedatectl reads tempusd through org.freedesktop.timesync1."""
    status = c.output("timedatectl", "timesync-status")
    check(re.search(r"^\s*Server: 127\.0\.0\.1 \(127\.0\.0\.1\)$", status, re.M) is not None,
          "timedatectl timesync-status shows tempusd's server name and address")
    check(re.search(r"^\s*Poll interval: (250ms|500ms|1s) \(min: 250ms; max 1s\)$", status, re.M) is not None,
          "timedatectl timesync-status shows the source's poll interval and limits (minpoll=-2, maxpoll=0)")
    m = re.search(r"^\s*Offset: ([-+]?[\d.]+)(us|ms|s|)$", status, re.M)
    usec = {"": 1, "us": 1, "ms": 1e3, "s": 1e6}
    check(m is not None and abs(float(m.group(1))) * usec[m.group(2)] < 10000,
          "timedatectl timesync-status shows an offset under 10 ms (%s)" % (m.group(0).strip() if m else None))
    check(re.search(r"^\s*Packet count: [1-9]\d*$", status, re.M) is not None, "and a packet count")
    everything = c.output("timedatectl", "show-timesync", "--all")
    for prop in ("SystemNTPServers=127.0.0.1", "ServerName=127.0.0.1", "ServerAddress=127.0.0.1",
                 "PollIntervalMinUSec=250ms", "PollIntervalMaxUSec=1s", "NTPMessage={", "Frequency="):
        check(re.search(r"^%s" % re.escape(prop), everything, re.M) is not None,
              "timedatectl show-timesync --all shows %s" % prop)
    name = c.output("timedatectl", "show-timesync", "-p", "ServerName", "--value").strip()
    check(name == "127.0.0.1", "timedatectl show-timesync -p ServerName --value prints 127.0.0.1 (%r)" % name)
    alias = c.output("systemctl", "show", "-p", "Id", "--value", "dbus-org.freedesktop.timesync1.service").strip()
    check(alias == "tempusd.service", "enabling tempusd.service made it dbus-org.freedesktop.timesync1.service")


POLKIT_RULES = """// The system test: one user may manage tempusd.
polkit.addRule(function(action, subject) {
        if (action.id == "org.tempus.tempus1.manage" && subject.user == "tempus-admin")
                return polkit.Result.YES;
});
"""


def access_rules(c):
    return c.output("busctl", "get-property", "org.tempus.Tempus1", "/org/tempus/Tempus1",
                    "org.tempus.Tempus1.Manager", "AccessRules", quiet=True).strip()


def step_polkit(c):
    """polkitd decides for callers who are not root: a rules file grants
    tempus-admin org.tempus.tempus1.manage; tempus-other is refused, and
    nothing changes."""
    for user in ("tempus-admin", "tempus-other"):
        c.run("useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", user)
    c.run("sh", "-c", "mkdir -p /etc/polkit-1/rules.d && cat > /etc/polkit-1/rules.d/50-tempus-test.rules <<'EOF'\n"
          "%sEOF" % POLKIT_RULES, quiet=True)
    c.run("systemctl", "restart", "polkit.service")
    check(is_active(c, "polkit.service") == "active", "polkitd runs in the container")
    actions = c.output("pkaction", "--action-id", "org.tempus.tempus1.manage", "--verbose", check_rc=False)
    check("implicit any:      auth_admin_keep" in actions and "unix-user:tempus" in actions,
          "polkit knows org.tempus.tempus1.manage (auth_admin_keep, owned by user tempus)")

    before = access_rules(c)
    rc, out = c.run("runuser", "-u", "tempus-other", "--", "tempusctl", "allow", "10.31.0.0/16", check_rc=False)
    # tempusctl allows interactive authorization, but no agent runs to ask.
    check(rc != 0 and "Access denied" in out, "tempusctl allow as tempus-other is refused (Access denied)")
    rc, out = c.run("runuser", "-u", "tempus-other", "--", "dbus-send", "--system", "--print-reply",
                    "--dest=org.tempus.Tempus1", "/org/tempus/Tempus1", "org.tempus.Tempus1.Manager.Allow",
                    "string:10.32.0.0/16", check_rc=False)
    # auth_admin_keep: polkit would ask for a password, which a call without
    # the interactive flag (dbus-send's) does not allow.
    check(rc != 0 and "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired" in out,
          "the same call without the interactive flag (dbus-send) gets InteractiveAuthorizationRequired")
    check(access_rules(c) == before, "the refused calls changed nothing (%s)" % before)

    c.run("runuser", "-u", "tempus-admin", "--", "tempusctl", "allow", "10.30.0.0/16")
    after = access_rules(c)
    check('"10.30.0.0/16" true' in after, "tempusctl allow as tempus-admin, granted by the rules file, works")
    rc, out = c.run("runuser", "-u", "tempus-admin", "--", "busctl", "call", "org.freedesktop.timesync1",
                    "/org/freedesktop/timesync1", "org.freedesktop.timesync1.Manager", "SetRuntimeNTPServers",
                    "as", "1", "127.0.0.9", check_rc=False)
    rt = c.output("busctl", "get-property", "org.freedesktop.timesync1", "/org/freedesktop/timesync1",
                  "org.freedesktop.timesync1.Manager", "RuntimeNTPServers").strip()
    check(rc != 0 and rt == "as 0", "tempus-admin may not set runtime servers: that action is not granted")
    c.run("tempusctl", "reload")
    check(access_rules(c) == before, "a reload puts the access rules of tempus.conf back")


def manager_introspection(c):
    return c.output("busctl", "introspect", "--no-pager", "org.tempus.Tempus1", "/org/tempus/Tempus1",
                    check_rc=False)


def step_busctl(c):
    text = manager_introspection(c)
    check("org.tempus.Tempus1.Manager" in text and re.search(r"\.Synchronized\s+property\s+b\s+true", text),
          "busctl introspect shows the Manager, synchronised")
    return text


def step_tempusctl(c):
    if c.run("test", "-x", "/usr/bin/tempusctl", check_rc=False, quiet=True)[0] != 0:
        log("SKIPPED: tempusctl sources (tempusctl is not installed by this build)")
        return
    out = c.output("tempusctl", "sources")
    check(re.search(r"^\^\*\s+127\.0\.0\.1\s", out, re.M) is not None,
          "tempusctl sources shows the drop-in's server, selected (^*)")


def free_tcp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=10):
    """(status, body) of a GET from this side of the shared network
    namespace; status 0 when nothing answers."""
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""


PROMETHEUS_CONFIG = """global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: tempus
    static_configs:
      - targets: ["127.0.0.1:%d"]
"""


def step_metrics(c):
    """tempus-metrics.socket enabled (on a free port, by a drop-in: the
    container shares this machine's network namespace), a real Prometheus
    scrapes it, and its HTTP API answers tempus_synchronized 1."""
    if not os.path.exists("/usr/bin/prometheus"):
        raise Failure("/usr/bin/prometheus missing (Debian package prometheus)")
    port, web = free_tcp_port(), free_tcp_port()
    c.run("sh", "-c", "mkdir -p /etc/systemd/system/tempus-metrics.socket.d && printf '[Socket]\\nListenStream=\\n"
          "ListenStream=127.0.0.1:%d\\n' > /etc/systemd/system/tempus-metrics.socket.d/50-test.conf" % port)
    c.run("systemctl", "daemon-reload")
    check(c.output("systemctl", "is-enabled", "tempus-metrics.socket", check_rc=False).strip() == "disabled",
          "tempus-metrics.socket is not enabled by default")
    c.run("systemctl", "enable", "--now", "tempus-metrics.socket")
    status, body = http_get("http://127.0.0.1:%d/metrics" % port)
    check(status == 200 and re.search(r"^tempus_synchronized 1$", body, re.M) is not None,
          "GET /metrics through tempus-metrics.socket answers tempus_synchronized 1 (%d)" % status)
    check(http_get("http://127.0.0.1:%d/nothing" % port)[0] == 404, "other paths get 404")

    config = "/run/tempus-test-prometheus.yml"
    c.run("sh", "-c", "cat > %s <<'EOF'\n%sEOF" % (config, PROMETHEUS_CONFIG % port), quiet=True)
    c.run("systemd-run", "--unit=tempus-test-prometheus", "/usr/bin/prometheus", "--config.file=" + config,
          "--storage.tsdb.path=/run/tempus-test-prometheus", "--web.listen-address=127.0.0.1:%d" % web)
    api = "http://127.0.0.1:%d/api/v1/" % web

    def synchronized():
        status, body = http_get(api + "query?query=tempus_synchronized")
        if status != 200:
            return None
        result = json.loads(body)["data"]["result"]
        return result if result and result[0]["value"][1] == "1" else None

    result = wait_for("Prometheus to return tempus_synchronized 1", synchronized, 60)
    log("ok: Prometheus scraped tempus-metrics.socket: %s" % json.dumps(result))
    targets = json.loads(http_get(api + "targets")[1])["data"]["activeTargets"]
    check([t["health"] for t in targets] == ["up"], "Prometheus's one target is up (%s)" %
          [(t["scrapeUrl"], t["health"], t["lastError"]) for t in targets])
    status, body = http_get(api + "query?query=tempus_source_state%7Bstate%3D%22selected%22%7D")
    check(status == 200 and '"address":"127.0.0.1"' in body, "Prometheus has the selected source's state")
    c.run("systemctl", "stop", "tempus-test-prometheus")
    failed = c.output("systemctl", "list-units", "--failed", "--no-legend", "tempus-metrics*", check_rc=False)
    check(failed.strip() == "", "no tempus-metrics@.service instance failed")
    c.run("systemctl", "disable", "--now", "tempus-metrics.socket")


def local_rtc(c):
    out = c.output("busctl", "get-property", "org.tempus.Tempus1", "/org/tempus/Tempus1",
                   "org.tempus.Tempus1.Manager", "LocalRTC")
    return out.strip()


def step_local_rtc(c, introspection):
    if not re.search(r"\.LocalRTC\s+property\s+b", introspection):
        log("SKIPPED: set-local-rtc (the Manager has no LocalRTC property)")
        return
    check(local_rtc(c) == "b false", "LocalRTC is false with the RTC in UTC")
    c.run("timedatectl", "set-local-rtc", "1")
    wait_for("LocalRTC true", lambda: local_rtc(c) == "b true", 20)
    log("ok: timedatectl set-local-rtc 1 is reflected in LocalRTC")
    c.run("timedatectl", "set-local-rtc", "0")
    wait_for("LocalRTC false", lambda: local_rtc(c) == "b false", 20)
    log("ok: timedatectl set-local-rtc 0 is reflected in LocalRTC")


def step_dbus_activation(c):
    c.run("systemctl", "stop", "tempusd.service")
    check(c.output("systemctl", "is-active", "tempusd.service", check_rc=False).strip() == "inactive",
          "tempusd.service is stopped")
    text = manager_introspection(c)
    check("org.tempus.Tempus1.Manager" in text, "busctl introspect works while tempusd was stopped")
    wait_for("tempusd.service to become active", lambda: is_active(c, "tempusd.service") == "active", 30)
    log("ok: the call started tempusd.service (D-Bus activation)")
    # timedatectl's name activates tempusd too, through the unit alias.
    c.run("systemctl", "stop", "tempusd.service")
    check(is_active(c, "tempusd.service") == "inactive", "tempusd.service is stopped again")
    c.run("busctl", "get-property", "org.freedesktop.timesync1", "/org/freedesktop/timesync1",
          "org.freedesktop.timesync1.Manager", "ServerName", check_rc=False)
    wait_for("tempusd.service to become active", lambda: is_active(c, "tempusd.service") == "active", 30)
    log("ok: a call to org.freedesktop.timesync1 started tempusd.service (dbus-org.freedesktop.timesync1.service)")


def step_set_ntp_no(c):
    c.run("timedatectl", "set-ntp", "no")
    wait_for("NTP service: inactive", lambda: timedatectl_field(c, "NTP service") == "inactive", 30)
    log("ok: timedatectl shows NTP service: inactive")
    check(c.output("systemctl", "is-active", "tempusd.service", check_rc=False).strip() == "inactive",
          "set-ntp no stopped tempusd.service")
    check(c.output("systemctl", "is-enabled", "tempusd.service", check_rc=False).strip() == "disabled",
          "set-ntp no disabled tempusd.service")
    check(c.output("systemctl", "is-active", "tempusd.socket", check_rc=False).strip() == "inactive",
          "tempusd.socket stopped with the service (PartOf=)")


def step_verify_installed(c):
    out = c.output("systemd-analyze", "verify", "/lib/systemd/system/tempusd.service",
                   "/lib/systemd/system/tempusd.socket", check_rc=False)
    check(out.strip() == "", "systemd-analyze verify finds nothing in the installed units")


def dump_diagnostics(c):
    for argv in (["systemctl", "status", "--no-pager", "tempusd.service", "tempusd.socket"],
                 ["journalctl", "-b", "--no-pager", "-n", "60", "-u", "tempusd", "-u", "tempus-test-chronyd",
                  "-u", "systemd-timedated", "-u", "dbus", "-u", "polkit", "-u", "tempus-metrics*", "-u", "tempus-test-prometheus"]):
        try:
            c.run(*argv, check_rc=False, timeout=30)
        except Failure as e:
            log(str(e))
    with open(c.console) as f:
        log("---- container console (last lines) ----\n" + "".join(f.readlines()[-40:]))


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: test-system.py BUILD_ROOT SOURCE_ROOT")
    build_root, source_root = (os.path.abspath(a) for a in sys.argv[1:3])
    if os.geteuid() != 0:
        log("SKIP: the system test needs root")
        return SKIP
    # meson's timeout sends SIGTERM: let the finally blocks run.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))

    build = usr_build(build_root, source_root)
    chronyd = fetch_chronyd(build_root, source_root)
    port = free_udp_port()
    workdir = tempfile.mkdtemp(prefix="tempus-system-", dir=build_root)
    dropin = os.path.join(workdir, "50-local.conf")
    with open(dropin, "w") as f:
        f.write("# The system test: the local chronyd is the only source, and the clock\n"
                "# is never stepped.\n[Sources]\nServer=\nServer=127.0.0.1 iburst minpoll=-2 maxpoll=0 port=%d\n\n"
                "[Clock]\nMakeStep=\n" % port)

    saved = clock_read()
    log("clock saved: freq %d, status 0x%x, tick %d" % (saved.freq, saved.status, saved.tick))
    failed = None
    try:
        c = Container(workdir, build, dropin, chronyd)
        try:
            step_boot(c)
            step_safe_config(c, port)
            step_chronyd(c, port)
            step_socket(c)
            step_set_ntp_yes(c)
            step_synchronized(c)
            step_journal(c)
            step_status(c)
            step_timesync(c)
            step_privileges(c)
            introspection = step_busctl(c)
            step_tempusctl(c)
            step_polkit(c)
            step_metrics(c)
            step_local_rtc(c, introspection)
            step_dbus_activation(c)
            step_set_ntp_no(c)
            step_verify_installed(c)
        except Failure as e:
            failed = str(e)
            if c.pid:
                dump_diagnostics(c)
        finally:
            c.kill()
    finally:
        clock_restore(saved)
    shutil.rmtree(workdir, ignore_errors=True)
    if failed:
        log("FAIL: " + failed)
        return 1
    log("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
