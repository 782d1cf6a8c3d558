"""Helpers for the integration tests: real tempusd, chronyd and ntpd on
loopback.

Each test script calls isolate() first. It fetches the peers (Debian's
chrony and ntpsec packages, unpacked into the build tree with apt-get
download and dpkg -x, never installed) and re-runs the script inside a new
network namespace of its own, without CAP_SYS_TIME in the bounding set: no
program a test starts can change this machine's clock, and no port clashes
with a parallel test or anything else on the machine.
"""

import fcntl
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

INSIDE = "--inside-namespace"
PEER_PACKAGES = ["chrony", "ntpsec", "ntpsec-ntpdate", "ntpsec-ntpdig", "python3-ntp"]
NTP_EPOCH_OFFSET = 2208988800


class Args:
    def __init__(self, argv):
        if len(argv) < 4:
            sys.exit("usage: TEST TEMPUSD BUILD_ROOT SOURCE_ROOT")
        self.tempusd, self.build_root, self.source_root = argv[1:4]
        self.peers = os.path.join(self.build_root, "peers", "root")


def fail(message):
    print("FAIL: " + message, flush=True)
    sys.exit(1)


def log(message):
    print(message, flush=True)


def fetch_peers(build_root):
    """Downloads and unpacks the peer packages once (under a lock)."""
    top = os.path.join(build_root, "peers")
    root = os.path.join(top, "root")
    stamp = os.path.join(top, ".done")
    os.makedirs(top, exist_ok=True)
    with open(os.path.join(top, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(stamp):
            return root
        download = lambda: subprocess.run(["apt-get", "download", "-q"] + PEER_PACKAGES, cwd=top,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        r = download()
        if r.returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL, check=False)
            r = download()
        if r.returncode != 0:
            fail("apt-get download %s failed: %s" % (" ".join(PEER_PACKAGES), r.stderr.strip()))
        for deb in sorted(f for f in os.listdir(top) if f.endswith(".deb")):
            subprocess.run(["dpkg", "-x", os.path.join(top, deb), root], check=True)
        # ntpdig's Python module looks for its C helper next to itself.
        pkg = os.path.join(root, "usr/lib/python3/dist-packages/ntp")
        lib = os.path.join(root, "usr/lib/x86_64-linux-gnu/ntp/libntpc.so.1")
        link = os.path.join(pkg, "libntpc.so")
        if os.path.exists(lib) and not os.path.lexists(link):
            os.symlink(lib, link)
        open(stamp, "w").close()
    return root


def isolate():
    """Returns Args inside the namespace; re-executes the script into it."""
    if INSIDE in sys.argv:
        argv = [a for a in sys.argv if a != INSIDE]
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        return Args(argv)
    args = Args(sys.argv)
    fetch_peers(args.build_root)
    cmd = ["unshare", "--net", "--", "setpriv", "--bounding-set=-sys_time", "--",
           sys.executable, sys.argv[0], INSIDE] + sys.argv[1:]
    os.execvp(cmd[0], cmd)


def wait_for(what, predicate, timeout, interval=0.2, on_timeout=None):
    """Polls predicate() until it returns something true. After timeout,
    calls on_timeout(message), which must not return (default: fail())."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            (on_timeout or fail)("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


RUNNING = []


class Process:
    def __init__(self, name, argv, workdir, env=None):
        RUNNING.append(self)
        self.name = name
        self.log_path = os.path.join(workdir, name + ".log")
        self.log_file = open(self.log_path, "w")
        log("starting %s: %s" % (name, " ".join(argv)))
        self.proc = subprocess.Popen(argv, stdout=self.log_file, stderr=subprocess.STDOUT, env=env)

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM):
        if self in RUNNING:
            RUNNING.remove(self)
        if self.alive():
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()
        return self.proc.returncode

    def dump(self, lines=40):
        text = self.output().splitlines()[-lines:]
        log("---- last lines of %s ----\n%s" % (self.name, "\n".join(text)))


class Tempusd(Process):
    """tempusd with a config written from sections, and its sd_notify socket."""

    def __init__(self, args, workdir, sections, dropins=None, extra_argv=None, start=True, netns=None, env=None):
        self.args = args
        self.workdir = workdir
        self.config = os.path.join(workdir, "tempus.conf")
        self.logdir = os.path.join(workdir, "log")
        write_ini(self.config, sections)
        for name, text in (dropins or {}).items():
            os.makedirs(self.config + ".d", exist_ok=True)
            with open(os.path.join(self.config + ".d", name), "w") as f:
                f.write(text)
        self.notify_path = os.path.join(workdir, "notify")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        self.notify.setblocking(False)
        self.messages = []
        if start:
            env = dict(os.environ, NOTIFY_SOCKET=self.notify_path, **(env or {}))
            if "TEMPUS_NETIF_LINKS" not in env:
                # The NTP servers networkd knows on this machine are none of
                # the test's business: an empty folder stands for its links.
                links = os.path.join(workdir, "no-netif-links")
                os.makedirs(links, exist_ok=True)
                env["TEMPUS_NETIF_LINKS"] = links
            argv = [args.tempusd, "--config", self.config, "--debug"] + (extra_argv or [])
            super().__init__("tempusd", netns.wrap(argv) if netns else argv, workdir, env)
            drain_notifications(self)

    def read_notify(self):
        while True:
            try:
                self.messages += self.notify.recv(4096).decode().splitlines()
            except BlockingIOError:
                return self.messages

    def status(self):
        lines = [m[len("STATUS="):] for m in self.read_notify() if m.startswith("STATUS=")]
        return lines[-1] if lines else None

    def ready(self):
        return "READY=1" in self.read_notify()

    def tracking(self):
        return read_log_rows(os.path.join(self.logdir, "tracking.log"))

    def measurements(self):
        return read_log_rows(os.path.join(self.logdir, "measurements.log"))

    def reload(self, sections, dropins=None):
        write_ini(self.config, sections)
        self.proc.send_signal(signal.SIGHUP)


def write_ini(path, sections):
    with open(path, "w") as f:
        for section, keys in sections.items():
            f.write("[%s]\n" % section)
            for key, value in keys:
                f.write("%s=%s\n" % (key, value))
            f.write("\n")


def read_log_rows(path):
    """Data rows of a chrony-style log: lists of columns, header lines skipped."""
    if not os.path.exists(path):
        return []
    rows = []
    with open(path) as f:
        for line in f:
            if line.startswith("=") or "Date (UTC)" in line or not line.strip():
                continue
            rows.append(line.split())
    return rows


def chronyd_server(args, workdir, port, stratum=8, extra="", netns=None):
    """chronyd serving its own clock on port; extra: more chrony.conf lines.
    With netns (a FarNamespace), it runs there and is reached at its far
    address."""
    conf = os.path.join(workdir, "chrony-server.conf")
    with open(conf, "w") as f:
        f.write("port %d\ncmdport 0\nlocal stratum %d\nallow 127.0.0.0/8\nallow ::1\n%s" % (port, stratum, extra))
        if netns:
            f.write("\nallow %s/24\n" % netns.near)
        f.write("pidfile %s/chronyd.pid\ndriftfile %s/chronyd.drift\n" % (workdir, workdir))
    argv = [os.path.join(args.peers, "usr/sbin/chronyd"), "-x", "-d", "-u", "root", "-f", conf]
    p = Process("chronyd", netns.wrap(argv) if netns else argv, workdir)
    # A request sent before chronyd listens is lost, and with it one of the
    # iburst samples a test counts on.
    address, source = (netns.far, netns.near) if netns else ("127.0.0.1", "127.0.0.1")
    wait_for("chronyd to answer on port %d" % port,
             lambda: ntp_request(port, address=address, source=source, timeout=0.2), 10)
    return p


class FarNamespace:
    """A second network namespace, made by the test and joined to the
    test's own by a veth pair: near (here) and far (there) addresses in one
    /24. The path has no added delay: this kernel has no sch_netem. The
    namespace lives as long as a process that holds it (stopped with the
    others at the end of the test)."""

    def __init__(self, workdir, near="10.13.0.1", far="10.13.0.2", name="vt", more_far=(), more_near=()):
        self.near, self.far = near, far
        self.holder = Process("netns-" + name, ["unshare", "--net", "--", "sleep", "infinity"], workdir)
        self.pid = self.holder.proc.pid
        mine = os.readlink("/proc/self/ns/net")
        wait_for("the far namespace", lambda: os.readlink("/proc/%d/ns/net" % self.pid) != mine, 5, 0.05)
        near_dev, far_dev = name + "-near", name + "-far"
        subprocess.run(["ip", "link", "add", near_dev, "type", "veth", "peer", "name", far_dev,
                        "netns", str(self.pid)], check=True)
        subprocess.run(["ip", "addr", "add", near + "/24", "dev", near_dev], check=True)
        subprocess.run(["ip", "link", "set", near_dev, "up"], check=True)
        for cmd in (["ip", "link", "set", "lo", "up"], ["ip", "addr", "add", far + "/24", "dev", far_dev],
                    ["ip", "link", "set", far_dev, "up"]):
            subprocess.run(self.wrap(cmd), check=True)
        for address in more_near:
            subprocess.run(["ip", "addr", "add", address + "/24", "dev", near_dev], check=True)
        for address in more_far:
            subprocess.run(self.wrap(["ip", "addr", "add", address + "/24", "dev", far_dev]), check=True)

    def wrap(self, argv):
        return ["nsenter", "-t", str(self.pid), "-n", "--"] + list(argv)


def chronyc_socket(workdir):
    """A path for a chronyd command socket: chronyd wants its directory
    closed to others."""
    d = os.path.join(workdir, "chronyc")
    os.makedirs(d, mode=0o700, exist_ok=True)
    return os.path.join(d, "chronyd.sock")


# A SHA256 key shared by the symmetric-mode tests (key 1 of their key files).
PEER_SHA256_KEY = "6a1a0b3c5b0f3e9d2c7a8b1e4f6d0c9a3b5e7f1d2c4a6b8e0f1a3c5e7b9d1f20"


def write_peer_keys(path):
    """A chrony-format key file with PEER_SHA256_KEY as key 1."""
    with open(path, "w") as f:
        f.write("1 SHA256 HEX:%s\n" % PEER_SHA256_KEY)
    os.chmod(path, 0o600)


def chronyd_peer(args, wd, ns, name, address, port, extra):
    """chronyd -x in the far namespace on address:port, with a command
    socket; extra is the rest of its configuration. Returns the socket."""
    d = os.path.join(wd, name)
    os.makedirs(d)
    sock = chronyc_socket(d)
    conf = os.path.join(d, "chrony.conf")
    with open(conf, "w") as f:
        f.write("port %d\nbindaddress %s\nbindcmdaddress %s\ncmdallow all\npidfile %s/chronyd.pid\n%s"
                % (port, address, sock, d, extra))
    Process(name, ns.wrap([os.path.join(args.peers, "usr/sbin/chronyd"), "-x", "-d", "-u", "root", "-f", conf]), d)
    return sock


def sources_row(text, address):
    """The row of a sources listing (chronyc or tempusctl) for address."""
    rows = [l for l in text.splitlines() if len(l.split()) > 1 and l.split()[1] == address]
    return rows[0] if rows else None

def chronyc(args, socket_path, *command):
    """chronyc against a chronyd's command socket; returns its output."""
    r = subprocess.run([os.path.join(args.peers, "usr/bin/chronyc"), "-h", socket_path, "-n"] + list(command),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
    return r.stdout


def ntpdata_blocks(text):
    """chronyc's (and tempusctl's) ntpdata output as one dict per source."""
    blocks = []
    for chunk in text.strip().split("\n\n"):
        fields = {}
        for line in chunk.splitlines():
            if ":" in line:
                key, value = line.split(":", 1)
                fields[key.strip()] = value.strip()
        if "Remote address" in fields:
            blocks.append(fields)
    return blocks


def offset_beyond_delay(block, slack=1e-3):
    """Whether an ntpdata block's last offset, measured with every
    timestamp on this one machine's clock, exceeds what its round trip
    allows: such an offset is at most half the round trip off, so a reply
    the machine held for 3 ms (once, under a full test run: offset +1.5 ms,
    delay 3.05 ms) is no fault, while a wrong timestamp is."""
    offset = abs(float(block["Offset"].split()[0]))
    delay = float(block["Peer delay"].split()[0])
    return offset > delay / 2 + slack


def ntpd_server(args, workdir):
    """ntpsec's ntpd serving its own clock (orphan mode) on port 123; it
    cannot discipline the clock (no CAP_SYS_TIME, and told not to)."""
    conf = os.path.join(workdir, "ntp.conf")
    with open(conf, "w") as f:
        f.write("driftfile %s/ntp.drift\ntos orphan 10\ntos orphanwait 0\ndisable ntp\ndisable kernel\n"
                "restrict default\n" % workdir)
    return Process("ntpd", [os.path.join(args.peers, "usr/sbin/ntpd"), "-n", "-c", conf,
                            "-p", os.path.join(workdir, "ntpd.pid")], workdir)


def chronyd_query(args, workdir, port, address="127.0.0.1"):
    """chronyd -Q against address:port; returns the offset it measured."""
    r = subprocess.run([os.path.join(args.peers, "usr/sbin/chronyd"), "-Q", "-u", "root", "-f", "/dev/null",
                        "server %s port %d iburst maxsamples 4" % (address, port),
                        "pidfile %s/chronyq.pid" % workdir],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    log(r.stdout)
    m = re.search(r"System clock wrong by (-?[0-9.]+) seconds", r.stdout)
    return float(m.group(1)) if m else None


def ntpdig_query(args, address, port=123):
    env = dict(os.environ, PYTHONPATH=os.path.join(args.peers, "usr/lib/python3/dist-packages"))
    r = subprocess.run([sys.executable, os.path.join(args.peers, "usr/bin/ntpdig"), "-t", "2", "-p", "1", address]
                       + (["-r", str(port)] if port != 123 else []),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, timeout=30)
    log("ntpdig: " + r.stdout.strip())
    return r


def ntp_request(port, address="127.0.0.1", source="127.0.0.1", payload=None, timeout=1.0):
    """Sends one datagram (a client request by default) and returns the parsed
    reply as a dict, or None when nothing comes back in time."""
    s = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((source, 0))
    s.settimeout(timeout)
    transmit = os.urandom(8)
    if payload is None:
        payload = bytes([0x23, 0, 6, 0xec]) + bytes(36) + transmit
    s.sendto(payload, (address, port))
    try:
        data, _ = s.recvfrom(2048)
    except socket.timeout:
        return None
    finally:
        s.close()
    if len(data) < 48:
        return {"length": len(data)}
    li_vn_mode, stratum, poll, precision = struct.unpack("!BBbb", data[:4])
    return {
        "length": len(data),
        "leap": li_vn_mode >> 6,
        "version": (li_vn_mode >> 3) & 7,
        "mode": li_vn_mode & 7,
        "stratum": stratum,
        "origin_matches": data[24:32] == transmit,
        "transmit": struct.unpack("!Q", data[40:48])[0] / 2**32 - NTP_EPOCH_OFFSET,
    }


def workdir():
    return tempfile.mkdtemp(prefix="tempus-test-")


def run(test):
    """Runs test(args, workdir) with the namespace set up and cleanup done."""
    args = isolate()
    wd = workdir()
    try:
        test(args, wd)
    except SystemExit:
        for p in RUNNING:
            p.dump()
        raise
    finally:
        for p in list(RUNNING):
            p.stop()
        if os.environ.get("TEMPUS_TEST_KEEP"):
            log("kept %s" % wd)
        else:
            shutil.rmtree(wd, ignore_errors=True)
    log("PASS")


class BusDaemon(Process):
    """A private dbus-daemon configured like the system bus, with tempus's
    own policy file; DBUS_SYSTEM_BUS_ADDRESS points every program started
    afterwards (tempusd, busctl, tempusctl) at it."""

    def __init__(self, args, workdir, policy_text=None):
        """policy_text: more <policy> elements, for the test's own services."""
        # Unprivileged callers (setpriv --reuid=nobody) must reach the socket.
        busdir = os.path.join(workdir, "bus")
        os.makedirs(busdir)
        os.chmod(workdir, 0o755)
        os.chmod(busdir, 0o755)
        self.socket_path = os.path.join(busdir, "system_bus_socket")
        self.address = "unix:path=" + self.socket_path
        conf = os.path.join(busdir, "system.conf")
        policy = os.path.join(args.source_root, "dbus", "org.tempus.Tempus1.conf")
        includes = "  <include>%s</include>\n" % policy
        if policy_text:
            extra = os.path.join(busdir, "test-policy.conf")
            with open(extra, "w") as f:
                f.write('<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"\n'
                        ' "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">\n'
                        "<busconfig>\n%s\n</busconfig>\n" % policy_text)
            includes += "  <include>%s</include>\n" % extra
        with open(conf, "w") as f:
            f.write(SYSTEM_BUS_CONFIG % (self.address, includes))
        super().__init__("dbus-daemon", ["dbus-daemon", "--nofork", "--nopidfile", "--config-file=" + conf],
                         workdir)
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = self.address
        wait_for("the bus socket", lambda: os.path.exists(self.socket_path), 10)


# The essentials of Debian's /usr/share/dbus-1/system.conf: nobody may own a
# name or call a method unless a policy file allows it.
SYSTEM_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
%s</busconfig>
"""


def bus_call(method, signature=None, *arguments, user=None, check=True):
    """busctl call on the Manager; returns the CompletedProcess."""
    # "--": arguments such as -1 are not options.
    cmd = ["busctl", "--system", "call", "--", "org.tempus.Tempus1", "/org/tempus/Tempus1",
           "org.tempus.Tempus1.Manager", method]
    if signature:
        cmd += [signature] + [str(a) for a in arguments]
    return run_as(cmd, user, check)


def bus_get(prop, path="/org/tempus/Tempus1", interface="org.tempus.Tempus1.Manager", user=None):
    """busctl get-property; returns the value text after the signature. A
    tempusd that has not taken its bus name yet (it does so after opening
    its sockets, later under the sanitizers) is given 10 s to do so."""
    cmd = ["busctl", "--system", "get-property", "org.tempus.Tempus1", path, interface, prop]

    def attempt():
        r = run_as(cmd, user, False)
        return None if "was not provided by any .service files" in r.stderr else r
    r = wait_for("tempusd to take its bus name", attempt, 10, interval=0.1)
    if r.returncode != 0:
        fail("%s failed: %s" % (" ".join(cmd), r.stderr.strip()))
    return r.stdout.strip().split(" ", 1)[1]


def tempusctl(args, *argv, check=True, timeout=60):
    """Runs the built tempusctl; fails the test on a non-zero exit when check."""
    cmd = [os.path.join(args.build_root, "src", "ctl", "tempusctl")] + list(argv)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if check and r.returncode != 0:
        fail("tempusctl %s failed (%d): %s" % (" ".join(argv), r.returncode, r.stderr.strip()))
    return r


def run_as(cmd, user=None, check=True):
    if user:
        cmd = ["setpriv", "--reuid=" + user, "--regid=nogroup", "--clear-groups", "--"] + cmd
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    if check and r.returncode != 0:
        fail("%s failed: %s" % (" ".join(cmd), r.stderr.strip()))
    return r


def dbus_send(method, *arguments, user=None):
    """dbus-send to the Manager; returns (ok, error name, output): busctl
    shows only the errno text of an error, dbus-send its D-Bus name."""
    cmd = ["dbus-send", "--system", "--print-reply", "--dest=org.tempus.Tempus1", "/org/tempus/Tempus1",
           "org.tempus.Tempus1.Manager." + method] + list(arguments)
    r = run_as(cmd, user, False)
    m = re.search(r"^Error (\S+): ?(.*)$", r.stderr, re.M)
    return r.returncode == 0, m.group(1) if m else None, (r.stdout + r.stderr).strip()


CLONE_NEWNS = 0x00020000


def use_private_hosts(workdir, names):
    """Makes host names resolve as the test says, and nothing else resolve:
    moves this process (and so every program it starts afterwards) into a
    mount namespace of its own, where /etc/hosts lists `names` ({name:
    [address, ...]}, in that order) and /etc/nsswitch.conf consults only
    that file, so no lookup ever leaves the machine. Call it before starting
    any thread."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        fail("unshare(CLONE_NEWNS) failed: %s" % os.strerror(ctypes.get_errno()))
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    files = {"/etc/hosts": "127.0.0.1 localhost\n::1 localhost\n" +
             "".join("%s %s\n" % (a, n) for n, addresses in names.items() for a in addresses),
             "/etc/nsswitch.conf": "hosts: files\n"}
    for target, text in files.items():
        path = os.path.join(workdir, os.path.basename(target))
        with open(path, "w") as f:
            f.write(text)
        subprocess.run(["mount", "--bind", path, target], check=True)


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "SUMMARY: UndefinedBehavior")


def sanitizer_reports(text):
    """Lines of an ASan/UBSan report in a program's output."""
    return [l for l in text.splitlines() if any(m in l for m in SANITIZER_MARKS)]


def managed_objects():
    """org.tempus.Tempus1's ObjectManager view: {path: {interface: {property: value}}}."""
    import json
    r = run_as(["busctl", "--system", "--json=short", "call", "org.tempus.Tempus1", "/org/tempus/Tempus1",
                "org.freedesktop.DBus.ObjectManager", "GetManagedObjects"])
    objects = json.loads(r.stdout)["data"][0]
    return {path: {iface: {k: v["data"] for k, v in props.items()} for iface, props in ifaces.items()}
            for path, ifaces in objects.items()}


def drain_notifications(t):
    """Reads tempusd's sd_notify messages in the background, as systemd
    would: once the socket's queue is full, sd_notify() blocks the daemon.
    Every Tempusd started here has one such reader."""
    import threading

    def loop():
        while t.alive():
            t.read_notify()
            time.sleep(0.2)
    threading.Thread(target=loop, daemon=True).start()


def openssl(*argv, cwd):
    r = subprocess.run(["openssl"] + list(argv), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        fail("openssl %s failed: %s" % (" ".join(argv), r.stdout.strip()))


def make_test_ca(workdir, name="ca"):
    """A certificate authority of the test's own, made with openssl:
    returns the path of its certificate (PEM)."""
    d = os.path.join(workdir, name)
    os.makedirs(d, exist_ok=True)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj", "/CN=tempus test CA " + name, cwd=d)
    return os.path.join(d, "ca.pem")


def make_server_cert(ca_pem, name, sans="DNS:localhost,IP:127.0.0.1,IP:127.0.0.2", dates=None):
    """A server certificate signed by the CA of make_test_ca(), for the
    subject alternative names sans. dates: (start, end) as openssl's
    YYYYMMDDHHMMSSZ, to make one that is expired or not yet valid.
    Returns (certificate path, key path)."""
    d = os.path.dirname(ca_pem)
    with open(os.path.join(d, name + ".ext"), "w") as f:
        f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n" % sans)
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", name + ".key",
            "-out", name + ".csr", "-subj", "/CN=localhost", cwd=d)
    if dates:
        # openssl x509 takes no start date: openssl ca does, with a database.
        for f, text in (("index.txt", ""), ("serial", "1000\n")):
            if not os.path.exists(os.path.join(d, f)):
                with open(os.path.join(d, f), "w") as fh:
                    fh.write(text)
        with open(os.path.join(d, "ca.cnf"), "w") as f:
            f.write("[ca]\ndefault_ca=test\n[test]\ndir=%s\ndatabase=$dir/index.txt\nserial=$dir/serial\n"
                    "new_certs_dir=$dir\ncertificate=$dir/ca.pem\nprivate_key=$dir/ca.key\ndefault_md=sha256\n"
                    "policy=any\nunique_subject=no\n[any]\ncommonName=supplied\n" % d)
        openssl("ca", "-batch", "-config", "ca.cnf", "-in", name + ".csr", "-out", name + ".pem", "-notext",
                "-startdate", dates[0], "-enddate", dates[1], "-extfile", name + ".ext", cwd=d)
    else:
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", name + ".pem", "-days", "30", "-extfile", name + ".ext", cwd=d)
    return os.path.join(d, name + ".pem"), os.path.join(d, name + ".key")


class TcpProxy:
    """Forwards TCP connections from listen to target, counting them, in
    threads of this process. stall=True accepts and then sends nothing on
    (a KE server that hangs mid-handshake)."""

    def __init__(self, listen, target, stall=False):
        import threading
        self.target, self.stall, self.connections = target, stall, 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(listen)
        self.sock.listen(64)
        self.held = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        import threading
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            if self.stall or not self.target:
                self.held.append(c)
                continue
            try:
                u = socket.create_connection(self.target, timeout=5)
            except OSError:
                c.close()
                continue
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
