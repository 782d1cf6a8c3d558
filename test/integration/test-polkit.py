#!/usr/bin/env python3
"""polkit authorization of changing methods, on a private bus where
fake-polkit stands in for polkitd and answers by the caller's UID, a second
and a half late: root never waits for polkit; a caller polkit authorizes
changes the settings (and tempusd serves everyone else meanwhile); a
caller it refuses gets AccessDenied and changes nothing; a challenge is
InteractiveAuthorizationRequired unless the call allows interactive
authorization (tempusctl's and busctl's do); SetRuntimeNTPServers asks
about timesync1's own action; many questions at once all get their answer,
and beyond 64 open ones callers get LimitsExceeded;
without polkit, callers who are not root are refused; and tempusd stops
cleanly with a question open."""
import pwd
import time

from tempus_test import *

# Users with passwd entries (dbus-daemon refuses connections from UIDs
# without one): polkit authorizes the first and challenges the second.
ALLOWED = "daemon"
CHALLENGED = "bin"


def uid(user):
    return pwd.getpwnam(user).pw_uid
DELAY_MS = 1500
SERVE_PORT = 11300

POLICY = """<policy user="root">
  <allow own="org.freedesktop.PolicyKit1"/>
</policy>
<policy context="default">
  <allow send_destination="org.freedesktop.PolicyKit1"/>
</policy>"""


class FakePolkit(Process):
    def __init__(self, args, wd, delay_ms=DELAY_MS):
        exe = os.path.join(args.build_root, "test", "integration", "fake-polkit")
        super().__init__("fake-polkit", [exe, str(uid(ALLOWED)), str(uid(CHALLENGED)), str(delay_ms)], wd)
        wait_for("fake-polkit on the bus", lambda: "ready" in self.output(), 10)

    def checks(self):
        return [l for l in self.output().splitlines() if l.startswith("check ")]


def allow(subnet, user=None):
    return dbus_send("Allow", "string:" + subnet, user=user)


def rules():
    return bus_get("AccessRules")


def test_root_asks_nobody(fake):
    n = len(fake.checks())
    start = time.monotonic()
    ok, _, out = allow("10.39.0.0/16")
    if not ok or time.monotonic() - start > 1.0 or len(fake.checks()) != n:
        fail("root's call waited for polkit or was not allowed: %s" % out)
    log("root: allowed without asking polkit")


def test_authorized_without_blocking(fake):
    proc = subprocess.Popen(["setpriv", "--reuid=" + ALLOWED, "--regid=nogroup", "--clear-groups", "--",
                             "dbus-send", "--system", "--print-reply", "--dest=org.tempus.Tempus1",
                             "/org/tempus/Tempus1", "org.tempus.Tempus1.Manager.Allow", "string:10.40.0.0/16"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for("the question to polkit", lambda: any("uid=%d " % uid(ALLOWED) in l for l in fake.checks()), 5, 0.02,
             on_timeout=lambda m: fail("%s (the call: %s)" % (m, proc.communicate(timeout=10)[0])))
    start = time.monotonic()
    value = bus_get("Synchronized")
    took = time.monotonic() - start
    if proc.poll() is not None or took > 0.5:
        fail("tempusd did not answer while polkit was thinking (%.2f s, call done: %s: %s)"
             % (took, proc.poll(), proc.communicate()[0]))
    log("while polkit thinks, tempusd answers in %.3f s (Synchronized %s)" % (took, value))
    out, _ = proc.communicate(timeout=10)
    if proc.returncode != 0 or '"10.40.0.0/16" true' not in rules():
        fail("the authorized call failed: %s" % out)
    if "check org.tempus.tempus1.manage uid=%d flags=0 -> yes" % uid(ALLOWED) not in fake.checks():
        fail("polkit was not asked about org.tempus.tempus1.manage: %s" % fake.checks())
    log("%s, authorized by polkit: Allow worked" % ALLOWED)


def test_refused(fake):
    before = rules()
    ok, name, out = allow("10.41.0.0/16", user="nobody")
    if ok or name != "org.freedesktop.DBus.Error.AccessDenied" or rules() != before:
        fail("nobody: expected AccessDenied and no change, got %s" % out)
    log("nobody, refused by polkit: %s" % out.splitlines()[-1])


def test_challenge(args, fake):
    before = rules()
    ok, name, out = allow("10.42.0.0/16", user=CHALLENGED)
    if ok or name != "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired" or rules() != before:
        fail("a challenge without the interactive flag: expected InteractiveAuthorizationRequired, got %s" % out)
    log("%s without the interactive flag: %s" % (CHALLENGED, name))
    r = run_as([os.path.join(args.build_root, "src", "ctl", "tempusctl"), "allow", "10.43.0.0/16"],
               user=CHALLENGED, check=False)
    if r.returncode != 0 or '"10.43.0.0/16" true' not in rules():
        fail("tempusctl allow as %s failed: %s" % (CHALLENGED, r.stdout + r.stderr))
    if "check org.tempus.tempus1.manage uid=%d flags=1 -> yes" % uid(CHALLENGED) not in fake.checks():
        fail("tempusctl's call did not allow interactive authorization: %s" % fake.checks())
    log("%s with tempusctl, which allows interactive authorization: allowed" % CHALLENGED)


def test_runtime_servers(fake):
    cmd = ["dbus-send", "--system", "--print-reply", "--dest=org.freedesktop.timesync1",
           "/org/freedesktop/timesync1", "org.freedesktop.timesync1.Manager.SetRuntimeNTPServers",
           "array:string:127.0.0.7"]
    r = run_as(cmd, user="nobody", check=False)
    if r.returncode == 0 or "AccessDenied" not in r.stderr:
        fail("SetRuntimeNTPServers as nobody was not refused: %s" % r.stderr)
    run_as(cmd, user=ALLOWED)
    if "check org.freedesktop.timesync1.set-runtime-servers uid=%d flags=0 -> yes" % uid(ALLOWED) not in fake.checks():
        fail("SetRuntimeNTPServers did not ask about its own action: %s" % fake.checks())
    got = run_as(["busctl", "--system", "get-property", "org.freedesktop.timesync1", "/org/freedesktop/timesync1",
                  "org.freedesktop.timesync1.Manager", "RuntimeNTPServers"]).stdout.strip()
    if got != 'as 1 "127.0.0.7"':
        fail("RuntimeNTPServers after an authorized call: %s" % got)
    log("SetRuntimeNTPServers asks about org.freedesktop.timesync1.set-runtime-servers")


def test_many_at_once():
    procs = [subprocess.Popen(["setpriv", "--reuid=" + ALLOWED, "--regid=nogroup", "--clear-groups", "--",
                               "dbus-send", "--system", "--print-reply", "--dest=org.tempus.Tempus1",
                               "/org/tempus/Tempus1", "org.tempus.Tempus1.Manager.Allow",
                               "string:10.50.%d.0/24" % i], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
             for i in range(20)]
    failed = [p.communicate(timeout=20)[0] for p in procs if p.wait(timeout=20) != 0]
    if failed:
        fail("%d of 20 concurrent authorized calls failed: %s" % (len(failed), failed[0]))
    missing = [i for i in range(20) if '"10.50.%d.0/24" true' % i not in rules()]
    if missing:
        fail("concurrent calls lost their changes: %s" % missing)
    log("20 calls waiting for polkit at once: all answered and applied")


def test_flood(args, wd, fake):
    """More callers than tempusd keeps questions open for (64) while polkit
    is slow: the rest get LimitsExceeded at once, tempusd keeps answering,
    and nothing changes."""
    fake.stop()
    fake = FakePolkit(args, wd, delay_ms=8000)
    before = rules()
    procs = [subprocess.Popen(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--",
                               "dbus-send", "--system", "--print-reply", "--reply-timeout=20000",
                               "--dest=org.tempus.Tempus1", "/org/tempus/Tempus1",
                               "org.tempus.Tempus1.Manager.Allow", "string:10.60.%d.0/24" % i],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for i in range(80)]
    wait_for("64 open questions", lambda: len(fake.checks()) >= 64, 15, 0.1)
    start = time.monotonic()
    bus_get("Synchronized")
    took = time.monotonic() - start
    outs = [p.communicate(timeout=30)[0] for p in procs]
    limited = sum("LimitsExceeded" in o for o in outs)
    denied = sum("AccessDenied" in o for o in outs)
    if len(fake.checks()) != 64 or limited != 16 or denied != 64 or took > 1.0 or rules() != before:
        fail("flood: %d questions to polkit, %d LimitsExceeded, %d AccessDenied, a read took %.2f s, rules %s"
             % (len(fake.checks()), limited, denied, took, "unchanged" if rules() == before else "changed"))
    log("80 callers at once with polkit slow: 64 questions open, 16 LimitsExceeded, a read took %.3f s" % took)
    return fake


def test_without_polkit(t, fake):
    fake.stop()
    before = rules()
    ok, name, out = allow("10.44.0.0/16", user=ALLOWED)
    if ok or name != "org.freedesktop.DBus.Error.AccessDenied" or rules() != before:
        fail("without polkit: expected AccessDenied, got %s" % out)
    if not t.alive():
        fail("tempusd died")
    log("without polkit: %s" % out.splitlines()[-1])


def test_exit_while_asking(args, wd, t):
    """tempusd stops while a question to polkit is open: it cancels it and
    exits cleanly (under the sanitizers, a leak or a bad access in the
    queries makes the exit status non-zero)."""
    fake = FakePolkit(args, wd)
    proc = subprocess.Popen(["setpriv", "--reuid=" + ALLOWED, "--regid=nogroup", "--clear-groups", "--",
                             "dbus-send", "--system", "--print-reply", "--dest=org.tempus.Tempus1",
                             "/org/tempus/Tempus1", "org.tempus.Tempus1.Manager.Burst"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for("the question to polkit", lambda: fake.checks(), 5, 0.02)
    rc = t.stop()
    proc.communicate(timeout=30)
    if rc != 0:
        log(t.output()[-4000:])
        fail("tempusd did not exit cleanly with a question to polkit open (status %s)" % rc)
    log("tempusd stopped with a question to polkit open: exit status 0")


def test(args, wd):
    BusDaemon(args, wd, POLICY)
    fake = FakePolkit(args, wd)
    t = Tempusd(args, wd, {
        "Clock": [("Control", "no")],
        "Server": [("Port", str(SERVE_PORT))],
    })
    wait_for("the bus name", lambda: run_as(["busctl", "--system", "status", "org.tempus.Tempus1"],
                                            check=False).returncode == 0, 10)
    test_root_asks_nobody(fake)
    test_authorized_without_blocking(fake)
    test_refused(fake)
    test_challenge(args, fake)
    test_runtime_servers(fake)
    test_many_at_once()
    fake = test_flood(args, wd, fake)
    test_without_polkit(t, fake)
    test_exit_while_asking(args, wd, t)


run(test)
