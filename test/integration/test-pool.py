#!/usr/bin/env python3
"""Pool members that stop answering, on the real tempusd (run it from the
ASan/UBSan build to catch memory errors): pool.tempus.test resolves to
127.0.0.11, .12 and .13, each a relay in front of one real chronyd, and
tempusd uses two of them (maxsources=2) with one-second polls.

Starting synchronised, with both members fully reachable (Reach 255), .11
and .12 fall silent. Each is replaced at its 15th unanswered request (8
polls to empty the reachability register, then 8 polls with it empty),
without a crash or a sanitizer report; the new address .13 is used at once,
while .11 and .12 are not used again before their back-off (8 polls of
1 s) ends, although the name still gives them; then one is. Throughout,
tempusd keeps serving its own clients, and its ObjectManager drops each
replaced source, leaving no object behind."""
import selectors
import threading

from tempus_test import *

CHRONY_PORT = 11123
MEMBER_PORT = 11124
SERVE_PORT = 11200
POOL = "pool.tempus.test"
MEMBERS = ["127.0.0.11", "127.0.0.12", "127.0.0.13"]
SOURCE = "org.tempus.Tempus1.Source"
# SOURCE_GROUP_REPLACE_POLLS (src/daemon/manager-sources.h): after the last
# reply, 8 polls empty the register and 8 more find it empty.
POLLS_TO_REPLACE = 15
BACKOFF = 8.0   # SOURCE_GROUP_REPLACE_POLLS poll intervals of 1 s


class Relay(threading.Thread):
    """One UDP socket per pool member, forwarding to chronyd, or silent on
    request; counts the requests each member receives while silent."""

    def __init__(self, upstream_port):
        super().__init__(daemon=True)
        self.lock = threading.Lock()
        self.silent = set()
        self.unanswered = {a: 0 for a in MEMBERS}
        self.requests = {a: [] for a in MEMBERS}        # monotonic times
        self.selector = selectors.DefaultSelector()
        self.upstream = ("127.0.0.1", upstream_port)
        for address in MEMBERS:
            front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            front.bind((address, MEMBER_PORT))
            back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            back.bind(("127.0.0.1", 0))
            back.connect(self.upstream)
            state = {"address": address, "front": front, "back": back, "clients": {}}
            self.selector.register(front, selectors.EVENT_READ, ("request", state))
            self.selector.register(back, selectors.EVENT_READ, ("reply", state))

    def run(self):
        while True:
            for key, _ in self.selector.select():
                kind, state = key.data
                data, peer = key.fileobj.recvfrom(2048)
                if kind == "request":
                    self.request(state, data, peer)
                elif len(data) >= 48 and data[24:32] in state["clients"]:
                    state["front"].sendto(data, state["clients"].pop(data[24:32]))

    def request(self, state, data, peer):
        address = state["address"]
        with self.lock:
            self.requests[address].append(time.monotonic())
            if address in self.silent:
                self.unanswered[address] += 1
                return
        if len(data) >= 48:
            state["clients"][data[40:48]] = peer
            state["back"].send(data)

    def set_silent(self, addresses, silent):
        with self.lock:
            for a in addresses:
                (self.silent.add if silent else self.silent.discard)(a)

    def count(self, address):
        with self.lock:
            return self.unanswered[address]

    def requests_since(self, address, t):
        with self.lock:
            return [x for x in self.requests[address] if x >= t]

    def requests_until(self, address, t):
        with self.lock:
            return [x for x in self.requests[address] if x < t]


def sources():
    """{address: object path} of the Source objects ObjectManager lists."""
    return {ifaces[SOURCE]["Address"]: path for path, ifaces in managed_objects().items() if SOURCE in ifaces}


def interfaces_removed(monitor_text):
    """{object path: [interface, ...]} of the InterfacesRemoved signals in
    dbus-monitor's output."""
    out = {}
    for block in re.split(r"\n(?=\S)", monitor_text):
        if "member=InterfacesRemoved" in block:
            m = re.search(r'object path "([^"]+)"', block)
            if m:
                out[m.group(1)] = re.findall(r'string "([^"]+)"', block)
    return out


def wait_log(t, pattern):
    """Waits for a line of tempusd's log matching pattern; returns the match.
    Fails at once if tempusd dies or reports a memory error meanwhile."""
    def found():
        text = t.output()
        if not t.alive() or sanitizer_reports(text):
            fail("tempusd died or reported a memory error:\n%s" % "\n".join(sanitizer_reports(text)))
        return re.search(pattern, text)
    return wait_for("tempusd to log /%s/" % pattern, found, 30)


def check_healthy(t, where):
    if not t.alive():
        fail("tempusd died %s (exit %s)" % (where, t.proc.returncode))
    reports = sanitizer_reports(t.output())
    if reports:
        fail("sanitizer report %s:\n%s" % (where, "\n".join(reports)))
    reply = ntp_request(SERVE_PORT)
    if not reply or reply.get("stratum") != 9:
        fail("tempusd does not serve at stratum 9 %s: %s" % (where, reply))


def wait_reachable(addresses):
    def ready():
        paths = sources()
        return all(a in paths and bus_get("Reach", paths[a], SOURCE) == "255" for a in addresses)
    wait_for("Reach 255 from %s" % ", ".join(addresses), ready, 40)


def replace_silent_members(t, relay, monitor, dead):
    before = sources()
    relay.set_silent(dead, True)
    log("%s fall silent" % ", ".join(dead))
    for a in dead:
        wait_log(t, r"Replacing unreachable pool member %s of %s" % (re.escape(a), POOL))
    dropped_at = time.monotonic()
    time.sleep(2)
    counts = {a: relay.count(a) for a in dead}
    log("unanswered requests before replacement: %s" % counts)
    if any(c != POLLS_TO_REPLACE for c in counts.values()):
        fail("members were replaced after %s unanswered polls, not %d" % (counts, POLLS_TO_REPLACE))

    # The new address at once; the dropped ones not at all for now.
    now = sources()
    log("sources after the replacement: %s" % sorted(now))
    if MEMBERS[2] not in now:
        fail("the new address %s was not added at once: %s" % (MEMBERS[2], sorted(now)))
    for a in dead:
        if a in now:
            fail("%s is still (or again) a source right after its replacement" % a)
        path = before[a]
        removed = wait_for("InterfacesRemoved for %s" % path,
                           lambda: interfaces_removed(monitor.output()).get(path), 5)
        if SOURCE not in removed:
            fail("InterfacesRemoved for %s names %s, not %s" % (path, removed, SOURCE))
        r = run_as(["busctl", "--system", "get-property", "org.tempus.Tempus1", path, SOURCE, "Address"],
                   check=False)
        if r.returncode == 0:
            fail("the removed source %s still answers: %s" % (path, r.stdout.strip()))
        log("%s left ObjectManager; reading it fails: %s" % (path, r.stderr.strip()))
    return dropped_at


def check_back_off(t, relay, dead, dropped_at):
    m = re.search(r"Replacing unreachable pool member %s of %s; not using it again for ([0-9.]+) s" %
                  (re.escape(dead[0]), POOL), t.output())
    if not m or abs(float(m.group(1)) - BACKOFF) > 1e-6:
        fail("back-off of %s: expected %g s, log says %s" % (dead[0], BACKOFF, m and m.group(1)))
    relay.set_silent(dead, False)
    # The name was looked up again (it still gives the dead members) ...
    wait_log(t, r"Not adding %s of %s yet" % (re.escape(dead[0]), POOL))
    # ... and one of them comes back once its back-off is over.
    wait_for("a dropped member to be used again", lambda: any(a in sources() for a in dead), BACKOFF + 10)
    back = [a for a in dead if a in sources()][0]
    # The member was dropped right after its last unanswered request.
    last = relay.requests_until(back, dropped_at)[-1]
    again = wait_for("a request to %s" % back, lambda: relay.requests_since(back, dropped_at), 5)[0]
    log("%s polled again %.2f s after its replacement (back-off %g s)" % (back, again - last, BACKOFF))
    if again - last < BACKOFF - 0.05:
        fail("%s was polled again %.2f s after its replacement, within its back-off" % (back, again - last))


def test(args, wd):
    use_private_hosts(wd, {POOL: MEMBERS})
    os.environ.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    BusDaemon(args, wd)
    chronyd_server(args, wd, CHRONY_PORT)
    relay = Relay(CHRONY_PORT)
    relay.start()
    t = Tempusd(args, wd, {
        "Sources": [("Pool", "%s iburst maxsources=2 minpoll=0 maxpoll=0 port=%d" % (POOL, MEMBER_PORT))],
        "Clock": [("Control", "no")],
        "Server": [("Port", str(SERVE_PORT)), ("Allow", "127.0.0.0/8")],
    })
    wait_for("the bus name", lambda: run_as(["busctl", "--system", "status", "org.tempus.Tempus1"],
                                            check=False).returncode == 0, 10)
    monitor = Process("dbus-monitor", ["dbus-monitor", "--system", "type='signal',sender='org.tempus.Tempus1'"], wd)
    wait_for("synchronisation", lambda: bus_get("Synchronized") == "true", 30)
    dead = MEMBERS[:2]
    wait_reachable(dead)
    check_healthy(t, "when synchronised")

    dropped_at = replace_silent_members(t, relay, monitor, dead)
    check_healthy(t, "after the replacement")
    check_back_off(t, relay, dead, dropped_at)
    check_healthy(t, "after the back-off")
    if bus_get("Synchronized") != "true":
        fail("tempusd lost synchronisation")

    code = t.stop()
    if code != 0 or sanitizer_reports(t.output()):
        fail("tempusd exited with %s: %s" % (code, "\n".join(sanitizer_reports(t.output()))))
    log("tempusd exited cleanly")


run(test)
