#!/usr/bin/env python3
"""The soak benchmark (not a test): tempusd, preferably the ASan/UBSan
build, runs for a long time (10 minutes by default) under mixed load, in a
network namespace of its own made by the integration tests' harness
(test/integration/tempus_test.py: Debian's chronyd as its server, a private
dbus-daemon, no CAP_SYS_TIME, Control=no):

- soak-load sends good requests and malformed datagrams of every kind from
  16,384 IPv4 and 1,024 IPv6 source addresses, four times more clients
  than the rate-limit table holds (RateLimit= with kod= on), plus one
  flooder per family;
- a thread reads tempusd's state over D-Bus (tempusctl and busctl, as root
  and as nobody) and, as root, adds and removes a source and denies and
  re-allows a subnet of the load's clients;
- tempusd gets a SIGHUP every minute, with a changed RateLimit= each time.

It records tempusd's resident memory and open file descriptors after the
warm-up, every minute, and at the end, and prints the figures as Markdown
tables. It never judges a figure: it exits 1 only on a finding, which is
tempusd dying (or no longer answering NTP or D-Bus at all at the end), a
sanitizer report on its stderr (at the end, or at its exit after SIGTERM,
where LeakSanitizer runs), or a reply larger than its request.

    test/bench/soak/soak.py TEMPUSD BUILD_ROOT SOURCE_ROOT [--duration S]
        [--warmup S] [--rate N] [--interval S] [--packets-only] [--logs DIR]

(test/bench/soak/run.sh BUILD [SECONDS] fills in the first three.)
"""
import argparse
import collections
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "integration"))
from tempus_test import *  # noqa: E402

CHRONY_PORT = 11123
PORT = 11124
POOL4 = 16384                   # 127.1.0.1 onwards (127.0.0.0/8 is local already)
POOL6 = 1024
BASE6 = "2001:db8:1::"          # documentation prefix, put on lo inside the namespace
EXTRA_SOURCE = "127.0.0.3"      # AddSource'd and removed again: the same chronyd
TOGGLED = "127.1.56.0/21"       # denied and allowed again: an eighth of the IPv4 pool (127.1.0.0/18)
RATELIMITS = ["interval=1 burst=4 kod=2", "interval=2 burst=8 kod=1"]


def options():
    p = argparse.ArgumentParser(prog="soak.py")
    p.add_argument("tempusd", help="the tempusd binary")
    p.add_argument("build_root", help="its build directory (soak-load, tempusctl, the peers)")
    p.add_argument("source_root", help="the source tree")
    p.add_argument("--duration", type=float, default=600, help="seconds of soak after the warm-up")
    p.add_argument("--warmup", type=float, default=30, help="seconds of load before the first figures")
    p.add_argument("--rate", type=float, default=5000, help="datagrams a second")
    p.add_argument("--interval", type=float, default=60, help="seconds between figures and between reloads")
    p.add_argument("--packets-only", action="store_true",
                   help="no D-Bus traffic and no reloads: the packet load alone")
    p.add_argument("--logs", help="where to keep tempusd's and the load's logs (default BUILD_ROOT/soak-logs)")
    opts = p.parse_args([a for a in sys.argv if a != INSIDE][1:])
    if min(opts.duration, opts.interval, opts.rate) <= 0 or opts.warmup < 0:
        p.error("durations, the interval and the rate must be positive")
    return opts


def config(wd, ratelimit):
    return {
        "Sources": [("Server", "127.0.0.1 iburst minpoll=4 maxpoll=6 port=%d" % CHRONY_PORT)],
        "Clock": [("Control", "no"), ("DriftFile", os.path.join(wd, "drift"))],
        "Server": [("Port", str(PORT)), ("Allow", "127.0.0.0/8"), ("Allow", "::1"),
                   ("Allow", "2001:db8::/32"), ("RateLimit", ratelimit)],
        "Log": [("Dir", os.path.join(wd, "log")), ("Log", "measurements statistics tracking")],
    }


def add_pool6():
    """BASE6 + 0 (the flooder) to BASE6 + POOL6 on lo, in one ip call."""
    lines = "".join("address add %s%x/128 dev lo nodad\n" % (BASE6, i) for i in range(POOL6 + 1))
    subprocess.run(["ip", "-batch", "-"], input=lines, text=True, check=True)


# ---- figures from /proc ----------------------------------------------------

def proc_figures(pid):
    """{rss, hwm} in KiB, fds, and the fds by kind, or None once pid is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            status = dict(l.split(":", 1) for l in f if ":" in l)
        kinds = collections.Counter()
        for fd in os.listdir("/proc/%d/fd" % pid):
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            kinds[re.sub(r"[:\[].*", "", target) if not target.startswith("/") else target] += 1
    except (FileNotFoundError, ProcessLookupError):
        return None
    return {"rss": int(status["VmRSS"].split()[0]), "hwm": int(status["VmHWM"].split()[0]),
            "fds": sum(kinds.values()), "fd_kinds": kinds}


def udp_buffer_drops():
    """Datagrams the namespace's kernel dropped for a full receive buffer
    (IPv4 and IPv6 together): requests tempusd was too slow to read, or
    replies the load was."""
    total = 0
    with open("/proc/net/snmp") as f:
        rows = [l.split() for l in f if l.startswith("Udp:")]
    total += int(rows[1][rows[0].index("RcvbufErrors")])
    with open("/proc/net/snmp6") as f:
        total += sum(int(l.split()[1]) for l in f if l.startswith("Udp6RcvbufErrors"))
    return total


# ---- the load ----------------------------------------------------------------

class Load(Process):
    def __init__(self, args, wd, seconds, rate):
        binary = os.path.join(args.build_root, "test", "bench", "soak", "soak-load")
        if not os.access(binary, os.X_OK):
            fail("%s is missing: build it with ninja -C %s" % (binary, args.build_root))
        super().__init__("soak-load", [binary, str(PORT), str(seconds), str(rate), str(POOL4), BASE6,
                                       str(POOL6), str(int.from_bytes(os.urandom(8), "big"))], wd)

    def running_totals(self):
        """(sent, replies, KoDs) so far, asked for with SIGUSR1."""
        pattern = re.compile(r"^at \S+ s: sent (\d+) replies (\d+) kod (\d+)$", re.M)
        before = len(pattern.findall(self.output()))
        self.proc.send_signal(signal.SIGUSR1)
        wait_for("the load's totals", lambda: len(pattern.findall(self.output())) > before or not self.alive(), 5,
                 interval=0.05)
        lines = pattern.findall(self.output())
        return tuple(int(x) for x in lines[-1]) if lines else (0, 0, 0)

    def final(self):
        """{kind: (sent, replies, kods)}, and the other counters."""
        text = self.output()
        kinds = {m[0]: tuple(int(x) for x in m[1:]) for m in re.findall(r"^kind (\S+) (\d+) (\d+) (\d+)$", text, re.M)}
        other = {m[0]: int(m[1]) for m in re.findall(r"^(send-errors|unmatched|larger-than-request) (\d+)$",
                                                      text, re.M)}
        return kinds, other


# ---- D-Bus traffic -------------------------------------------------------------

READS = [
    ("tempusctl tracking", ["tracking"], None),
    ("tempusctl sources", ["sources"], None),
    ("tempusctl sourcestats -v", ["sourcestats", "-v"], None),
    ("tempusctl -j sources (nobody)", ["-j", "sources"], "nobody"),
    ("tempusctl status (nobody)", ["status"], "nobody"),
    ("tempusctl activity", ["activity"], None),
]


class BusTraffic:
    """Reads every half second, a change every few seconds; counts results
    by operation. Errors are figures here: a reload drops what D-Bus added,
    so a RemoveSource after one may find nothing to remove."""

    def __init__(self, args):
        self.tempusctl = os.path.join(args.build_root, "src", "ctl", "tempusctl")
        self.results = collections.defaultdict(collections.Counter)
        self.errors = collections.Counter()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def call(self, name, cmd, user=None, expect_ok=True):
        try:
            r = run_as(cmd, user, check=False)
            ok = (r.returncode == 0) == expect_ok
            if not ok:
                said = (r.stderr or r.stdout).strip().splitlines()
                self.errors[(name, said[-1] if said else "exit status %d" % r.returncode)] += 1
        except subprocess.TimeoutExpired:
            ok = False
            self.errors[(name, "no answer in 30 s")] += 1
        self.results[name]["ok" if ok else "failed"] += 1

    def busctl(self, method, signature, argument):
        return ["busctl", "--system", "call", "--", "org.tempus.Tempus1", "/org/tempus/Tempus1",
                "org.tempus.Tempus1.Manager", method, signature, argument]

    def change(self, step):
        which = step % 4
        if which == 0:
            self.call("AddSource", self.busctl("AddSource", "s", "server %s iburst port=%d" % (EXTRA_SOURCE,
                                                                                            CHRONY_PORT)))
            self.call("AddSource (nobody, denied)", self.busctl("AddSource", "s", "server 127.0.0.4"), "nobody",
                      expect_ok=False)
        elif which == 1:
            self.call("Deny", self.busctl("Deny", "s", TOGGLED))
        elif which == 2:
            self.call("RemoveSource", self.busctl("RemoveSource", "s", EXTRA_SOURCE))
        else:
            self.call("Allow", self.busctl("Allow", "s", TOGGLED))

    def loop(self):
        step = 0
        while not self.stop.wait(0.5):
            step += 1
            name, argv, user = READS[step % len(READS)]
            self.call(name, [self.tempusctl] + argv, user)
            if step % 2 == 0:
                self.call("busctl GetManagedObjects",
                          ["busctl", "--system", "call", "org.tempus.Tempus1", "/org/tempus/Tempus1",
                           "org.freedesktop.DBus.ObjectManager", "GetManagedObjects"])
            if step % 10 == 0:
                self.change(step // 10)

    def calls(self):
        return sum(sum(c.values()) for c in list(self.results.values()))


# ---- the run -------------------------------------------------------------------

def start_daemon(args, wd):
    BusDaemon(args, wd)
    chronyd_server(args, wd, CHRONY_PORT)
    os.environ.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    os.environ.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    t = Tempusd(args, wd, config(wd, RATELIMITS[0]))
    drain_notifications(t)
    wait_for("the bus name", lambda: run_as(["busctl", "--system", "status", "org.tempus.Tempus1"],
                                            check=False).returncode == 0, 30)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and t.alive():
        r = run_as(["busctl", "--system", "get-property", "org.tempus.Tempus1", "/org/tempus/Tempus1",
                    "org.tempus.Tempus1.Manager", "Synchronized"], check=False)
        if r.stdout.strip() == "b true":
            log("tempusd is synchronised to chronyd")
            break
        time.sleep(0.5)
    else:
        log("tempusd did not synchronise to chronyd within 60 s; soaking all the same")
    return t


def answers_ntp(address, source):
    return any(ntp_request(PORT, address=address, source=source, timeout=2) for _ in range(5))


def answers_bus():
    for _ in range(5):
        try:
            r = run_as(["busctl", "--system", "get-property", "org.tempus.Tempus1", "/org/tempus/Tempus1",
                        "org.tempus.Tempus1.Manager", "Stratum"], check=False)
            if r.returncode == 0:
                return r.stdout.strip()
        except subprocess.TimeoutExpired:
            pass
        time.sleep(1)
    return None


def soak(opts, t, load, bus):
    """Samples every interval and reloads between samples; returns the rows."""
    rows = []
    start = time.monotonic()
    reloads = 0
    n_samples = int(opts.duration // opts.interval)
    marks = [i * opts.interval for i in range(n_samples + 1)]
    if marks[-1] < opts.duration:
        marks.append(opts.duration)
    for i, mark in enumerate(marks):
        reload_at = mark - opts.interval / 2
        if i > 0 and reload_at > marks[i - 1] and not opts.packets_only:
            time.sleep(max(0.0, start + reload_at - time.monotonic()))
            if t.alive():
                reloads += 1
                t.reload(config(t.workdir, RATELIMITS[reloads % 2]))
        time.sleep(max(0.0, start + mark - time.monotonic()))
        figures = proc_figures(t.proc.pid) if t.alive() else None
        sent, replies, kods = load.running_totals()
        rows.append({"t": mark, "figures": figures, "sent": sent, "replies": replies, "kods": kods,
                     "bus": bus.calls(), "reloads": reloads, "overflow": udp_buffer_drops()})
        log("t=%4.0f s: %s, load sent %d, replies %d (KoD %d), buffer drops %d, D-Bus calls %d, reloads %d" % (
            mark, "RSS %d KiB, %d fds" % (figures["rss"], figures["fds"]) if figures else "tempusd is gone",
            sent, replies, kods, rows[-1]["overflow"], bus.calls(), reloads))
        if not figures:
            break
    return rows


def print_tables(opts, rows, kinds, other, bus, checks):
    first, last = rows[0]["figures"], rows[-1]["figures"]
    log("\n### Every %.0f s\n" % opts.interval)
    log("| time (s) | RSS (KiB) | peak RSS (KiB) | open fds | datagrams sent | replies | KoD RATE | D-Bus calls | reloads |")
    log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        f = r["figures"] or {"rss": "-", "hwm": "-", "fds": "-"}
        log("| %.0f | %s | %s | %s | %d | %d | %d | %d | %d |" % (r["t"], f["rss"], f["hwm"], f["fds"], r["sent"],
                                                                  r["replies"], r["kods"], r["bus"], r["reloads"]))
    if first and last:
        log("\nRSS %d KiB after the warm-up, %d KiB at the end (%+d KiB); open fds %d and %d." % (
            first["rss"], last["rss"], last["rss"] - first["rss"], first["fds"], last["fds"]))
        log("fds at the start: %s" % ", ".join("%s %d" % kv for kv in sorted(first["fd_kinds"].items())))
        log("fds at the end:   %s" % ", ".join("%s %d" % kv for kv in sorted(last["fd_kinds"].items())))
    log("\n### Datagrams by kind\n")
    log("| kind | sent | replies | KoD RATE |")
    log("|---|---:|---:|---:|")
    for name, (sent, replies, kods) in kinds.items():
        log("| %s | %d | %d | %d |" % (name, sent, replies, kods))
    total = [sum(v[i] for v in kinds.values()) for i in range(3)]
    log("| **all** | %d | %d | %d |" % tuple(total))
    log("\nsend errors %d, replies matching no request %d, replies larger than their request %d" % (
        other.get("send-errors", 0), other.get("unmatched", 0), other.get("larger-than-request", 0)))
    log("\n### D-Bus calls\n")
    log("| call | ok | failed |")
    log("|---|---:|---:|")
    for name, c in sorted(bus.results.items()):
        log("| %s | %d | %d |" % (name, c["ok"], c["failed"]))
    for (name, message), n in sorted(bus.errors.items()):
        log("  %s failed %d times: %s" % (name, n, message))
    log("\n### At the end\n")
    for what, value in checks:
        log("- %s: %s" % (what, value))


def keep_logs(opts, args, wd):
    dest = opts.logs or os.path.join(args.build_root, "soak-logs")
    os.makedirs(dest, exist_ok=True)
    for name in ("tempusd.log", "soak-load.log", "chronyd.log"):
        if os.path.exists(os.path.join(wd, name)):
            shutil.copy(os.path.join(wd, name), os.path.join(dest, name))
    return dest


def test(args, wd):
    opts = OPTIONS
    add_pool6()
    t = start_daemon(args, wd)
    # A little longer than the soak, so that the last figures are taken under load.
    load = Load(args, wd, opts.warmup + opts.duration + 2, opts.rate)
    bus = BusTraffic(args)
    if not opts.packets_only:
        bus.thread.start()
    log("warm-up: %.0f s of load at %.0f datagrams/s" % (opts.warmup, opts.rate))
    time.sleep(opts.warmup)
    rows = soak(opts, t, load, bus)
    bus.stop.set()
    if bus.thread.is_alive():
        bus.thread.join(60)
    if not t.alive():
        load.proc.send_signal(signal.SIGTERM)      # it still prints its totals
    load.proc.wait(30)
    kinds, other = load.final()

    findings, checks = [], []
    alive = t.alive()
    checks.append(("tempusd alive", "yes" if alive else "NO (exit status %s)" % t.proc.returncode))
    if not alive:
        findings.append("tempusd died")
    else:
        ntp4, ntp6 = answers_ntp("127.0.0.1", "127.0.0.1"), answers_ntp("::1", "::1")
        stratum = answers_bus()
        checks += [("answers NTP on 127.0.0.1 and ::1", "%s, %s" % ("yes" if ntp4 else "NO", "yes" if ntp6 else "NO")),
                   ("answers D-Bus", "yes (Stratum %s)" % stratum.split()[-1] if stratum else "NO")]
        if not (ntp4 and ntp6 and stratum):
            findings.append("tempusd no longer answers NTP or D-Bus")
    reports = sanitizer_reports(t.output())
    checks.append(("sanitizer reports while running", len(reports)))
    code = t.stop()
    exit_reports = sanitizer_reports(t.output())[len(reports):]
    checks.append(("exit status (SIGTERM at the end)", code))
    checks.append(("sanitizer reports at exit (LeakSanitizer)", len(exit_reports)))
    if reports or exit_reports:
        findings.append("sanitizer report:\n  " + "\n  ".join(reports + exit_reports))
    if other.get("larger-than-request", 0):
        findings.append("%d replies larger than their request" % other["larger-than-request"])

    print_tables(opts, rows, kinds, other, bus, checks)
    dest = keep_logs(opts, args, wd)
    log("\nlogs kept in %s" % dest)
    if findings:
        fail("findings:\n- " + "\n- ".join(findings))


OPTIONS = options()             # before the namespace: --help and mistakes need none
run(test)
