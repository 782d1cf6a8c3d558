"""The real-kernel set-up of the accuracy benchmark (run.sh) and of the
integration test test-control-none.py: a chronyd -x server in a network
namespace of its own, and tempusd (Control=no) and chronyd -x as its
clients in the caller's namespace, joined by tun-relay, which delays each
packet by a normally distributed time, independently each way. The two
clients send from addresses of their own (tempusd from CLIENT, chronyd
from CHRONY_CLIENT), so the relay gives both the same draws: each
client's n-th request and n-th reply are held as long as the other's.
Anything else (the probe that proves the path) goes from PROBE.

Every process shares this machine's clock, so the true offset of the
system clock is 0 (or what the relay's --server-offset/--server-drift make
it), and what a client estimates is its error. Nothing here may touch the
clock: the caller runs without CAP_SYS_TIME (tempus_test.isolate(), or
run.sh's setpriv), and both clients are told not to control the clock.

Figures are in the sign of tempusd's SystemTimeOffset: the system clock
minus true time, positive when the system clock is fast (ahead)."""

import calendar
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "integration"))
from tempus_test import BusDaemon, Process, Tempusd, fail, log, ntp_request, wait_for  # noqa: E402

SERVER = "10.77.0.1"
CLIENT = "10.77.0.2"
CHRONY_CLIENT = "10.77.0.3"
PROBE = "10.77.0.4"
# How often the benchmark reads both clients' estimates (seconds).
SAMPLE_INTERVAL = 5.0


class Path:
    """The server's namespace and the relay between it and ours. out and
    back are (mean, sd) in microseconds; back defaults to out."""

    def __init__(self, build_root, workdir, out, back=None, loss=0.0, seed=None, server_offset=0.0,
                 server_drift_ppm=0.0):
        self.workdir = workdir
        self.holder = Process("netns-server", ["unshare", "--net", "--", "sleep", "infinity"], workdir)
        self.netns = "/proc/%d/ns/net" % self.holder.proc.pid
        own = os.readlink("/proc/self/ns/net")
        wait_for("the server's namespace", lambda: os.readlink(self.netns) != own, 10, 0.05)
        back = back or out
        self.log_path = os.path.join(workdir, "relay-packets.log")
        argv = [os.path.join(build_root, "test", "bench", "kernel", "tun-relay"), "--netns", self.netns,
                "--out", "%g,%g" % out, "--back", "%g,%g" % back, "--loss", "%g" % loss, "--log", self.log_path,
                "--server-offset", "%g" % server_offset, "--server-drift", "%g" % server_drift_ppm]
        if seed is not None:
            argv += ["--seed", str(seed)]
        self.relay = Process("tun-relay", argv, workdir)
        wait_for("the relay's devices", lambda: "ready" in self.relay.output() or self.relay_died(), 10, 0.05)
        self.started = time.time()
        ip = lambda *a: subprocess.run(["ip"] + list(a), check=True)
        ip("link", "set", "lo", "up")
        ip("addr", "add", CLIENT, "peer", SERVER, "dev", "tnear0")
        for address in (CHRONY_CLIENT, PROBE):
            ip("addr", "add", address + "/32", "dev", "tnear0")
        ip("link", "set", "tnear0", "up")
        far = lambda *a: subprocess.run(self.in_server(["ip"] + list(a)), check=True)
        far("link", "set", "lo", "up")
        far("addr", "add", SERVER, "peer", CLIENT, "dev", "tfar0")
        far("link", "set", "tfar0", "up")
        for address in (CHRONY_CLIENT, PROBE):
            far("route", "add", address, "dev", "tfar0")

    def relay_died(self):
        if not self.relay.alive():
            fail("tun-relay exited: %s" % self.relay.output().strip())
        return False

    def in_server(self, argv):
        return ["nsenter", "--net=" + self.netns, "--"] + argv

    def summary(self):
        """The relay's per-direction summary (printed when it stops)."""
        self.relay.stop()
        return [l for l in self.relay.output().splitlines() if l.startswith(("out:", "back:"))]

    def packets(self):
        """(time, direction, intended_us, achieved_us or None, near-side
        address or None) per packet."""
        rows = []
        with open(self.log_path) as f:
            for line in f:
                if line.startswith("#"):
                    continue
                t, d, _, intended, achieved, near = line.split()
                rows.append((float(t), d, float(intended), None if achieved == "drop" else float(achieved),
                             None if near == "-" else near))
        return rows

    def same_draws(self):
        """How alike the relay held the two clients' packets: (packets
        compared, packets held alike), the n-th of one client's against the
        n-th of the other's in each direction, the intended hold or its
        drop."""
        compared = alike = 0
        rows = self.packets()
        for d in ("out", "back"):
            mine = [(r[2], r[3] is None) for r in rows if r[1] == d and r[4] == CLIENT]
            theirs = [(r[2], r[3] is None) for r in rows if r[1] == d and r[4] == CHRONY_CLIENT]
            for a, b in zip(mine, theirs):
                compared += 1
                alike += a == b
        return compared, alike


def chronyd(peers):
    return os.path.join(peers, "usr", "sbin", "chronyd")


def start_server(path, peers):
    """chronyd -x serving its own clock at stratum 8 on the far side."""
    d = os.path.join(path.workdir, "chrony-server")
    os.makedirs(d, mode=0o700)
    conf = os.path.join(d, "chrony.conf")
    with open(conf, "w") as f:
        f.write("local stratum 8\nallow all\ncmdport 0\nbindcmdaddress %s/chronyd.sock\npidfile %s/chronyd.pid\n"
                % (d, d))
    p = Process("chronyd-server", path.in_server([chronyd(peers), "-x", "-d", "-u", "root", "-f", conf]),
                path.workdir)
    # Also proves the path: the request and its reply cross the relay.
    wait_for("chronyd to answer across the relay", lambda: ntp_request(123, SERVER, PROBE, timeout=0.3), 15)
    return p


class ChronyClient:
    """chronyd -x as a client of the far server, sending from CHRONY_CLIENT,
    with its command socket in its own directory (chronyc reaches it with
    -h PATH)."""

    def __init__(self, path, peers, source_options):
        self.dir = os.path.join(path.workdir, "chrony-client")
        os.makedirs(self.dir, mode=0o700)
        self.socket = os.path.join(self.dir, "chronyd.sock")
        self.chronyc = os.path.join(peers, "usr", "bin", "chronyc")
        conf = os.path.join(self.dir, "chrony.conf")
        with open(conf, "w") as f:
            f.write("server %s %s\nbindacqaddress %s\nport 0\ncmdport 0\nbindcmdaddress %s\n"
                    "pidfile %s/chronyd.pid\nlogdir %s\nlog measurements statistics tracking\n"
                    % (SERVER, source_options, CHRONY_CLIENT, self.socket, self.dir, self.dir))
        self.process = Process("chronyd-client", [chronyd(peers), "-x", "-d", "-u", "root", "-f", conf],
                               path.workdir)
        wait_for("chronyd's command socket", lambda: os.path.exists(self.socket), 10, 0.05)

    def tracking(self):
        return run_text([self.chronyc, "-h", self.socket, "tracking"])

    def ntpdata(self):
        return run_text([self.chronyc, "-h", self.socket, "ntpdata"])

    def measurements(self):
        return log_rows(os.path.join(self.dir, "measurements.log"))

    def tracking_log(self):
        return log_rows(os.path.join(self.dir, "tracking.log"))


class TempusClient:
    """tempusd with Control=no as a client of the far server, on a private
    system bus so that tempusctl can ask it."""

    def __init__(self, path, args, source_options, clock=()):
        self.args = args
        self.bus = BusDaemon(args, path.workdir)
        d = os.path.join(path.workdir, "tempus")
        os.makedirs(d)
        self.logdir = os.path.join(d, "log")
        self.tempusd = Tempusd(args, d, {
            "Sources": [("Server", "%s %s" % (SERVER, source_options))],
            "Clock": [("Control", "no")] + list(clock),
            "Server": [("Port", "0")],
            "Log": [("Dir", self.logdir), ("Log", "measurements statistics tracking")],
        })
        wait_for("tempusd to be ready", self.tempusd.ready, 10)
        wait_for("tempusd on the bus", lambda: "System time" in self.tracking(), 10)

    def tracking(self):
        # tempusd's sd_notify() blocks once its datagrams are left unread.
        self.tempusd.read_notify()
        return run_text([os.path.join(self.args.build_root, "src", "ctl", "tempusctl"), "tracking"])

    def ntpdata(self):
        self.tempusd.read_notify()
        return run_text([os.path.join(self.args.build_root, "src", "ctl", "tempusctl"), "ntpdata"])

    def measurements(self):
        return log_rows(os.path.join(self.logdir, "measurements.log"))

    def tracking_log(self):
        return log_rows(os.path.join(self.logdir, "tracking.log"))


def run_text(argv):
    """A command's output; what went wrong instead if it failed or hung."""
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=10)
        return r.stdout
    except subprocess.TimeoutExpired:
        return "%s: no answer within 10 s\n" % " ".join(argv)


def log_rows(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [l.split() for l in f if re.match(r"^\d{4}-\d\d-\d\d ", l)]


def log_time(row):
    """The UTC time of a chrony-style log row, as a Unix time."""
    return calendar.timegm(time.strptime(row[0] + " " + row[1], "%Y-%m-%d %H:%M:%S"))


def tempus_options(chrony_options):
    """chrony's "iburst minpoll 4 maxpoll 4" as tempus's "iburst minpoll=4 maxpoll=4"."""
    words, out = chrony_options.split(), []
    while words:
        w = words.pop(0)
        out.append(w + "=" + words.pop(0) if w in ("minpoll", "maxpoll") else w)
    return " ".join(out)


def parse_tracking(text):
    """(System time, Frequency) from chronyc's or tempusctl's tracking text:
    seconds, positive when the system clock is fast; ppm, positive when it
    runs fast. None when a line is missing."""
    t = re.search(r"^System time\s*:\s*([0-9.]+) seconds (slow|fast) of NTP time", text, re.M)
    f = re.search(r"^Frequency\s*:\s*([0-9.]+) ppm (slow|fast)", text, re.M)
    if not t or not f:
        return None
    sign = lambda word: 1.0 if word == "fast" else -1.0
    return sign(t.group(2)) * float(t.group(1)), sign(f.group(2)) * float(f.group(1))


def side_by_side(left, right, left_title, right_title, width=62):
    lines = ["%-*s | %s" % (width, left_title, right_title), "-" * width + "-+-" + "-" * width]
    a, b = left.rstrip().splitlines(), right.rstrip().splitlines()
    for i in range(max(len(a), len(b))):
        lines.append("%-*s | %s" % (width, a[i] if i < len(a) else "", b[i] if i < len(b) else ""))
    return "\n".join(lines)
