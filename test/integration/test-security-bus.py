#!/usr/bin/env python3
"""Misuse of the D-Bus API and of sources that must fail, each the way
the documentation says:

- a caller without privilege learns nothing from its arguments: every
  changing method answers AccessDenied before it looks at them (a bad
  subnet, a duplicate source, a missing one);
- AddSource takes "server HOST ..." or "pool HOST ...", parsed as the
  Server= and Pool= lines are: a bare "pool", a bare "server" or a host
  without a kind is InvalidArgs, and nothing is looked up for it;
- sources are limited to MANAGER_MAX_SOURCES (256), configured and added
  together, a pool counting as its maxsources: one more is LimitsExceeded,
  and removing one makes room again; with every one of them polling a
  silent address, tempusd stays within the LimitNOFILE= of
  units/tempusd.service (the test runs it under that limit);
- a name that does not resolve is logged in the resolver's own words
  ("Name or service not known"), not as an errno text."""
import resource

from tempus_test import *

SERVE_PORT = 11200
MAX_SOURCES = 256                   # MANAGER_MAX_SOURCES, src/daemon/manager-sources.h
UNRESOLVABLE = "no-such-host.tempus.test"
DENIED = "org.freedesktop.DBus.Error.AccessDenied"
INVALID = "org.freedesktop.DBus.Error.InvalidArgs"
LIMITS = "org.freedesktop.DBus.Error.LimitsExceeded"


def unit_nofile_limit(args):
    with open(os.path.join(args.source_root, "units", "tempusd.service.in")) as f:
        m = re.search(r"^LimitNOFILE=(\d+)$", f.read(), re.M)
    if not m:
        fail("units/tempusd.service sets no LimitNOFILE=")
    return int(m.group(1))


def expect(method, args, error, user=None, text=None):
    ok, name, out = dbus_send(method, *args, user=user)
    if ok or name != error or (text and text not in out):
        fail("%s %s as %s: expected %s%s, got %s" % (method, args, user or "root", error,
                                                     " saying '%s'" % text if text else "", out))
    log("%s %s as %s -> %s" % (method, " ".join(args), user or "root", out.splitlines()[-1]))


def expect_ok(method, *args):
    ok, name, out = dbus_send(method, *args)
    if not ok:
        fail("%s %s failed: %s" % (method, args, out))


def source_names():
    return sorted(ifaces["org.tempus.Tempus1.Source"]["Name"] for ifaces in managed_objects().values()
                  if "org.tempus.Tempus1.Source" in ifaces)


def test_resolver_error_text(t):
    wanted = "Failed to resolve %s: Name or service not known" % UNRESOLVABLE
    wait_for("the lookup failure in the log", lambda: wanted in t.output(), 10)
    if "No such file or directory" in t.output():
        fail("a failed lookup is logged with an errno text")
    log("logged: " + wanted)


def test_privilege_before_arguments():
    for method, arguments in (("SetMakeStep", ["double:-1.0", "int32:3"]),
                              ("Allow", ["string:10.0.0.0/33"]),
                              ("Deny", ["string:not-a-subnet"]),
                              ("AddSource", ["string:server " + UNRESOLVABLE]),
                              ("AddSource", ["string:pool"]),
                              ("RemoveSource", ["string:no.such.source"])):
        expect(method, arguments, DENIED, user="nobody")


def test_add_source_needs_a_kind(t):
    for spec in ("pool", "server", "  pool  ", "127.0.0.5 iburst", "pool127.0.0.5", "Server=127.0.0.5"):
        expect("AddSource", ["string:" + spec], INVALID, text="server HOST")
    time.sleep(1)
    if "pool" in source_names() or "Failed to resolve pool" in t.output() or "127.0.0.5" in source_names():
        fail("a rejected AddSource left a source: %s" % source_names())
    expect_ok("AddSource", "string:server 127.0.0.5 minpoll=0 maxpoll=0")
    expect_ok("AddSource", "string:pool 127.0.0.6 maxsources=1 minpoll=0 maxpoll=0")
    wait_for("both sources", lambda: {"127.0.0.5", "127.0.0.6"} <= set(source_names()), 5)


def fill_to_the_limit(used):
    times = []
    for i in range(MAX_SOURCES - used):
        start = time.monotonic()
        expect_ok("AddSource", "string:server 127.0.4.%d minpoll=0 maxpoll=0" % (i + 1))
        times.append(time.monotonic() - start)
    n = min(50, len(times))
    log("AddSource: %.1f ms per call for the first %d, %.1f ms for the last %d (busctl round trips)" %
        (1000 * sum(times[:n]) / n, n, 1000 * sum(times[-n:]) / n, n))


def test_source_limit(t, nofile):
    # 1 configured, 2 added above.
    fill_to_the_limit(3)
    expect("AddSource", ["string:server 127.0.5.1"], LIMITS, text="at most %d sources" % MAX_SOURCES)
    expect("AddSource", ["string:pool 127.0.5.2 maxsources=1"], LIMITS)
    expect_ok("RemoveSource", "string:127.0.4.1")
    expect("AddSource", ["string:pool 127.0.5.2 maxsources=2"], LIMITS, text="maxsources")
    expect_ok("AddSource", "string:pool 127.0.5.2 maxsources=1 minpoll=0 maxpoll=0")
    wait_for("%d source objects" % (MAX_SOURCES - 1), lambda: len(source_names()) >= MAX_SOURCES - 1, 20)

    # Every source polls an address where nothing answers, so each keeps a
    # socket open; the configured name keeps failing to resolve.
    peak = 0
    for _ in range(25):
        peak = max(peak, len(os.listdir("/proc/%d/fd" % t.proc.pid)))
        time.sleep(0.3)
    log("%d sources: at most %d open files seen, LimitNOFILE=%d" % (len(source_names()), peak, nofile))
    if "Too many open files" in t.output():
        fail("tempusd ran out of file descriptors under LimitNOFILE=%d" % nofile)
    if peak < MAX_SOURCES * 3 // 4 or peak >= nofile:
        fail("%d open files with %d polling sources: not about one socket each, within %d" %
             (peak, MAX_SOURCES, nofile))
    reply = ntp_request(SERVE_PORT)
    if not reply or not t.alive():
        fail("tempusd stopped serving with %d sources" % MAX_SOURCES)


def test(args, wd):
    use_private_hosts(wd, {})
    nofile = unit_nofile_limit(args)
    BusDaemon(args, wd)
    # As systemd would start it: the unit's limit, soft and hard.
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    t = Tempusd(args, wd, {
        "Sources": [("Server", UNRESOLVABLE)],
        "Clock": [("Control", "no")],
        "Server": [("Port", str(SERVE_PORT)), ("Allow", "127.0.0.0/8"), ("LocalStratum", "10")],
    })
    wait_for("the bus name", lambda: run_as(["busctl", "--system", "status", "org.tempus.Tempus1"],
                                            check=False).returncode == 0, 10)
    # Each finding is checked on its own; all failures are listed.
    failed = []
    for check in (lambda: test_resolver_error_text(t), test_privilege_before_arguments,
                  lambda: test_add_source_needs_a_kind(t), lambda: test_source_limit(t, nofile)):
        try:
            check()
        except SystemExit:
            failed.append(check)
    if failed:
        fail("%d of 4 checks failed (see above)" % len(failed))
    code = t.stop()
    if code != 0 or sanitizer_reports(t.output()):
        fail("tempusd exited with %s: %s" % (code, "\n".join(sanitizer_reports(t.output()))))


run(test)
