#!/usr/bin/env python3
"""The D-Bus API on a private system-like bus: tempusd syncing from a real
chronyd exports exactly the interface of dbus/org.tempus.Tempus1.xml, every
property reads, every method works for root, fails with AccessDenied for
others and with InvalidArgs for bad arguments (changing nothing), runtime
changes take effect (Allow serves a client in that subnet, AddSource
polls), sources come and go through the ObjectManager, and changes are
signalled with PropertiesChanged. The same tempusd serves timedatectl's
org.freedesktop.timesync1 with timesyncd's members, and SetRuntimeNTPServers
works for root only."""
import xml.etree.ElementTree as ET

from tempus_test import *

CHRONY_PORT = 11123
SERVE_PORT = 11200
MANAGER = "org.tempus.Tempus1.Manager"
SOURCE = "org.tempus.Tempus1.Source"
CLIENT = "10.1.2.3"

DESIGN_MANAGER = ("Synchronized ReferenceID ReferenceName Stratum ReferenceTimeUSec SystemTimeOffset LastOffset "
                  "RMSOffset Frequency ResidualFrequency Skew RootDelay RootDispersion UpdateInterval LeapStatus "
                  "MakeStepThreshold MakeStepLimit MinSources AccessRules ClockControl LocalRTC MakeStep "
                  "SetMakeStep Allow Deny AddSource RemoveSource Burst Reload").split()
DESIGN_SOURCE = ("Name Address Mode State Stratum Poll Reach LastRxAgeUSec Offset MeasuredOffset Error Samples Runs "
                 "Span Frequency FrequencySkew StdDev Prefer IBurst").split()


def members(xml_text, interface):
    """{name: signature} of an interface's methods and properties."""
    root = ET.fromstring(xml_text)
    for iface in root.iter("interface"):
        if iface.get("name") == interface:
            out = {}
            for m in iface.findall("method"):
                out[m.get("name")] = "method(%s)->(%s)" % (
                    "".join(a.get("type") for a in m.findall("arg") if a.get("direction", "in") == "in"),
                    "".join(a.get("type") for a in m.findall("arg") if a.get("direction") == "out"))
            for p in iface.findall("property"):
                out[p.get("name")] = "property %s %s" % (p.get("type"), p.get("access"))
            return out
    fail("interface %s not found" % interface)


def check_documented(xml_text, name="org.tempus.Tempus1.xml"):
    """Every method and property in the file is preceded by a comment."""
    lines = [l.strip() for l in xml_text.splitlines() if l.strip()]
    for i, line in enumerate(lines):
        if line.startswith("<method") or line.startswith("<property"):
            if not lines[i - 1].endswith("-->"):
                fail("undocumented member in %s: %s" % (name, line))


def introspect(path, service="org.tempus.Tempus1"):
    r = run_as(["busctl", "--system", "introspect", "--xml-interface", service, path])
    return r.stdout


def check_introspection(args, source_path):
    with open(os.path.join(args.source_root, "dbus", "org.tempus.Tempus1.xml")) as f:
        text = f.read()
    check_documented(text)
    for iface, path, names in ((MANAGER, "/org/tempus/Tempus1", DESIGN_MANAGER),
                               (SOURCE, source_path, DESIGN_SOURCE)):
        want, have = members(text, iface), members(introspect(path), iface)
        if want != have:
            fail("%s differs from org.tempus.Tempus1.xml:\n file: %s\n live: %s" % (iface, want, have))
        missing = set(names) - set(have)
        if missing:
            fail("%s lacks members DESIGN.md lists: %s" % (iface, sorted(missing)))
    log("introspection matches org.tempus.Tempus1.xml")


def source_paths():
    r = run_as(["busctl", "--system", "tree", "--list", "org.tempus.Tempus1"])
    return [l for l in r.stdout.split() if re.match(r"^/org/tempus/Tempus1/source/\d+$", l)]


def source_by_name(name):
    for p in source_paths():
        if bus_get("Name", p, SOURCE) == '"%s"' % name:
            return p
    return None


def expect_error(method, args, error, user=None):
    ok, name, out = dbus_send(method, *args, user=user)
    if ok or name != error:
        fail("%s %s as %s: expected %s, got %s" % (method, args, user or "root", error, out))
    log("%s %s as %s -> %s" % (method, " ".join(args), user or "root", out.splitlines()[-1]))


def test_unprivileged(before):
    calls = [("MakeStep", []), ("SetMakeStep", ["double:0.5", "int32:2"]), ("Allow", ["string:10.0.0.0/8"]),
             ("Deny", ["string:127.0.0.0/8"]), ("AddSource", ["string:server 127.0.0.9"]),
             ("RemoveSource", ["string:127.0.0.1"]), ("Burst", []), ("Reload", [])]
    for method, arguments in calls:
        expect_error(method, arguments, "org.freedesktop.DBus.Error.AccessDenied", user="nobody")
    # Reading is open to everyone.
    if bus_get("Synchronized", user="nobody") != "true":
        fail("nobody cannot read Synchronized")
    if state() != before:
        fail("an unprivileged call changed state: %s -> %s" % (before, state()))


def test_invalid_args(before):
    for method, arguments in (("Allow", ["string:10.0.0.0/33"]), ("Deny", ["string:not-a-subnet"]),
                              ("SetMakeStep", ["double:1.0", "int32:-2"]),
                              ("SetMakeStep", ["double:-1.0", "int32:3"]),
                              ("AddSource", ["string:server bad..host"]),
                              ("AddSource", ["string:server 127.0.0.1 port=%d" % CHRONY_PORT]),
                              ("RemoveSource", ["string:no.such.source"])):
        expect_error(method, arguments, "org.freedesktop.DBus.Error.InvalidArgs")
    if state() != before:
        fail("a call with bad arguments changed state: %s -> %s" % (before, state()))


def state():
    return [bus_get(p) for p in ("AccessRules", "MakeStepThreshold", "MakeStepLimit")] + [sorted(source_paths())]


def test_allow_serves(t):
    if ntp_request(SERVE_PORT, address=CLIENT, source=CLIENT):
        fail("served %s before any Allow" % CLIENT)
    bus_call("Allow", "s", "10.0.0.0/8")
    if "10.0.0.0/8\" true" not in bus_get("AccessRules"):
        fail("AccessRules lacks the new rule: " + bus_get("AccessRules"))
    reply = wait_for("a reply to %s" % CLIENT, lambda: ntp_request(SERVE_PORT, address=CLIENT, source=CLIENT), 5)
    log("Allow 10.0.0.0/8: %s served at stratum %d" % (CLIENT, reply["stratum"]))
    bus_call("Deny", "s", "10.1.0.0/16")
    if ntp_request(SERVE_PORT, address=CLIENT, source=CLIENT):
        fail("served %s after Deny 10.1.0.0/16" % CLIENT)


def test_methods(args, wd, monitor):
    bus_call("SetMakeStep", "di", 0.0, -1)
    if (bus_get("MakeStepThreshold"), bus_get("MakeStepLimit")) != ("0", "-1"):
        fail("SetMakeStep(0, -1), as MakeStep=0 -1, not reflected: %s %s"
             % (bus_get("MakeStepThreshold"), bus_get("MakeStepLimit")))
    bus_call("SetMakeStep", "di", 0.5, 2)
    if (bus_get("MakeStepThreshold"), bus_get("MakeStepLimit")) != ("0.5", "2"):
        fail("SetMakeStep not reflected: %s %s" % (bus_get("MakeStepThreshold"), bus_get("MakeStepLimit")))
    bus_call("MakeStep")
    bus_call("Burst")

    bus_call("AddSource", "s", "server 127.0.0.2 iburst port=%d" % CHRONY_PORT)
    path = wait_for("the new source object", lambda: source_by_name("127.0.0.2"), 5)
    wait_for("a reply from the added source", lambda: bus_get("Reach", path, SOURCE) != "0", 15)
    bus_call("RemoveSource", "s", "127.0.0.2")
    wait_for("the source object to go", lambda: path not in source_paths(), 5)

    # The reload puts back MakeStep and the access rules of the config file
    # at once: one PropertiesChanged on the Manager carries both.
    bus_call("Allow", "s", "10.9.0.0/16")
    wait_for("the AccessRules change to be signalled", lambda: "10.9.0.0/16" in monitor.output(), 5)
    mark = len(monitor.output())
    bus_call("Reload")
    wait_for("InterfacesAdded, InterfacesRemoved and PropertiesChanged signals",
             lambda: all(s in monitor.output() for s in ("member=InterfacesAdded", "member=InterfacesRemoved",
                                                         "member=PropertiesChanged")), 5)
    wait_for("the reload's PropertiesChanged", lambda: manager_changes(monitor.output()[mark:], "AccessRules"), 5)
    first = manager_changes(monitor.output()[mark:], "AccessRules")[0]
    if 'string "MakeStepThreshold"' not in first or 'string "MakeStepLimit"' not in first:
        fail("the reload's changes were not coalesced into one signal:\n%s" % first)
    log("%d PropertiesChanged signals in all; the reload's changes came as one"
        % monitor.output().count("member=PropertiesChanged"))


def manager_changes(text, prop):
    """The Manager's PropertiesChanged signals in dbus-monitor output that
    name prop, in order."""
    signals = text.split("\nsignal ")
    return [s for s in signals if "path=/org/tempus/Tempus1;" in s and "member=PropertiesChanged" in s
            and 'string "%s"' % prop in s]


TIMESYNC = ("org.freedesktop.timesync1", "/org/freedesktop/timesync1", "org.freedesktop.timesync1.Manager")
# timesyncd's members and types (org.freedesktop.timesync1(5)).
TIMESYNCD_MEMBERS = {
    "SetRuntimeNTPServers": "method(as)->()",
    "LinkNTPServers": "property as read", "SystemNTPServers": "property as read",
    "RuntimeNTPServers": "property as read", "FallbackNTPServers": "property as read",
    "ServerName": "property s read", "ServerAddress": "property (iay) read",
    "RootDistanceMaxUSec": "property t read", "PollIntervalMinUSec": "property t read",
    "PollIntervalMaxUSec": "property t read", "PollIntervalUSec": "property t read",
    "NTPMessage": "property (uuuuittayttttbtt) read", "Frequency": "property x read",
}


def timesync_get(prop, user=None):
    r = run_as(["busctl", "--system", "get-property"] + list(TIMESYNC) + [prop], user)
    return r.stdout.strip().split(" ", 1)[1]


def timesync_set_servers(names, user=None):
    """SetRuntimeNTPServers with dbus-send: (ok, error name, output)."""
    cmd = ["dbus-send", "--system", "--print-reply", "--dest=" + TIMESYNC[0], TIMESYNC[1],
           TIMESYNC[2] + ".SetRuntimeNTPServers", "array:string:" + ",".join(names)]
    r = run_as(cmd, user, False)
    m = re.search(r"^Error (\S+): ?(.*)$", r.stderr, re.M)
    return r.returncode == 0, m.group(1) if m else None, (r.stdout + r.stderr).strip()


def test_timesync_introspection(args):
    with open(os.path.join(args.source_root, "dbus", "org.freedesktop.timesync1.xml")) as f:
        text = f.read()
    check_documented(text, "org.freedesktop.timesync1.xml")
    want, have = members(text, TIMESYNC[2]), members(introspect(TIMESYNC[1], TIMESYNC[0]), TIMESYNC[2])
    if want != have:
        fail("timesync1 differs from org.freedesktop.timesync1.xml:\n file: %s\n live: %s" % (want, have))
    if have != TIMESYNCD_MEMBERS:
        fail("timesync1 differs from timesyncd's interface:\n want: %s\n live: %s" % (TIMESYNCD_MEMBERS, have))
    log("timesync1 introspection matches org.freedesktop.timesync1.xml and timesyncd's members")


def test_timesync_properties(path):
    for p in TIMESYNCD_MEMBERS:
        if p != "SetRuntimeNTPServers":
            log("timesync1 %-20s %s" % (p, timesync_get(p)))
    expect = {"ServerName": '"127.0.0.1"', "ServerAddress": "2 4 127 0 0 1",
              "SystemNTPServers": '1 "127.0.0.1"', "RuntimeNTPServers": "0", "LinkNTPServers": "0",
              "FallbackNTPServers": "0", "RootDistanceMaxUSec": "3000000"}
    for p, value in expect.items():
        if timesync_get(p) != value:
            fail("timesync1 %s is %s, expected %s" % (p, timesync_get(p), value))
    # The drop-in's source polls every 2^-1..2^0 s (minpoll=-1 maxpoll=0).
    if (timesync_get("PollIntervalMinUSec"), timesync_get("PollIntervalMaxUSec")) != ("500000", "1000000"):
        fail("poll limits are not the source's minpoll and maxpoll")
    if timesync_get("PollIntervalUSec") not in ("500000", "1000000"):
        fail("PollIntervalUSec %s is not the source's poll interval" % timesync_get("PollIntervalUSec"))
    msg = timesync_get("NTPMessage").split()
    # leap version mode stratum precision rootdelay rootdisp 4 b0 b1 b2 b3 T1 T2 T3 T4 spike count jitter
    leap, version, mode, stratum = (int(x) for x in msg[:4])
    t1, t2, t3, t4 = (int(x) for x in msg[12:16])
    count = int(msg[17])
    if (leap, version, mode, stratum) != (0, 4, 4, 8) or msg[7] != "4":
        fail("NTPMessage header is not chronyd's reply: %s" % msg)
    offset = ((t2 - t1) + (t3 - t4)) / 2
    if not (t1 <= t4 and t2 <= t3 and abs(offset) < 1000 and count >= 1):
        fail("NTPMessage timestamps or count are not a sane reply: %s" % msg)
    log("NTPMessage: offset %+.0f us, delay %d us, %d packets" % (offset, (t4 - t1) - (t3 - t2), count))
    samples = int(bus_get("Samples", path, SOURCE))
    if samples < 1:
        fail("the source has no samples")


def timedatectl(*argv):
    """timedatectl, which works only where systemd is PID 1 (sd_booted(): it
    looks for /run/systemd/system), in a mount namespace of its own with a
    fresh /run that has that folder; the bus it talks to is the test's."""
    script = 'mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/system && exec timedatectl "$@"'
    return run_as(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "timedatectl"]
                  + list(argv))


def test_timedatectl():
    status = timedatectl("timesync-status")
    log(status.stdout)
    for pattern in (r"Server: 127\.0\.0\.1 \(127\.0\.0\.1\)", r"Poll interval: (500ms|1s) \(min: 500ms; max 1s\)",
                    r"Stratum: 8", r"Offset: [-+]\d", r"Packet count: [1-9]"):
        if not re.search(pattern, status.stdout):
            fail("timedatectl timesync-status lacks /%s/" % pattern)
    name = timedatectl("show-timesync", "-p", "ServerName", "--value").stdout.strip()
    if name != "127.0.0.1":
        fail("timedatectl show-timesync -p ServerName --value printed %r" % name)
    log("timedatectl timesync-status and show-timesync read tempusd")


def test_runtime_servers(monitor):
    before = sorted(source_paths())
    ok, name, out = timesync_set_servers(["127.0.0.5"], user="nobody")
    if ok or name != "org.freedesktop.DBus.Error.AccessDenied" or sorted(source_paths()) != before:
        fail("SetRuntimeNTPServers as nobody: expected AccessDenied and no change, got %s" % out)
    for bad in (["127.0.0.5 iburst"], ["bad..host"]):
        ok, name, out = timesync_set_servers(bad)
        if ok or name != "org.freedesktop.DBus.Error.InvalidArgs":
            fail("SetRuntimeNTPServers %s: expected InvalidArgs, got %s" % (bad, out))
    if sorted(source_paths()) != before or timesync_get("RuntimeNTPServers") != "0":
        fail("a refused SetRuntimeNTPServers changed the sources")
    ok, name, out = timesync_set_servers(["127.0.0.5", "127.0.0.6"])
    if not ok:
        fail("SetRuntimeNTPServers as root failed: " + out)
    if timesync_get("RuntimeNTPServers") != '2 "127.0.0.5" "127.0.0.6"':
        fail("RuntimeNTPServers is %s" % timesync_get("RuntimeNTPServers"))
    wait_for("the runtime sources", lambda: source_by_name("127.0.0.5") and source_by_name("127.0.0.6"), 5)
    bus_call("Reload")
    if not (source_by_name("127.0.0.5") and source_by_name("127.0.0.6")):
        fail("a reload removed the runtime servers")
    timesync_set_servers(["127.0.0.6"])
    wait_for("127.0.0.5 to go", lambda: not source_by_name("127.0.0.5"), 5)
    if not source_by_name("127.0.0.6"):
        fail("the runtime server kept by the second call went")
    timesync_set_servers([])
    wait_for("the runtime sources to go", lambda: sorted(source_paths()) == before, 5)
    wait_for("PropertiesChanged for RuntimeNTPServers",
             lambda: [sig for sig in monitor.output().split("\nsignal ") if "path=/org/freedesktop/timesync1;" in sig
                      and 'string "RuntimeNTPServers"' in sig], 5)
    log("SetRuntimeNTPServers: root sets and replaces the runtime sources, which survive a reload; "
        "nobody and bad names are refused")


def test(args, wd):
    subprocess.run(["ip", "addr", "add", CLIENT + "/8", "dev", "lo"], check=True)
    BusDaemon(args, wd)
    chronyd_server(args, wd, CHRONY_PORT)
    t = Tempusd(args, wd, {
        "Sources": [("Server", "127.0.0.1 iburst minpoll=-1 maxpoll=0 port=%d" % CHRONY_PORT)],
        "Clock": [("Control", "no")],
        "Server": [("Port", str(SERVE_PORT))],
    })
    wait_for("the bus name", lambda: run_as(["busctl", "--system", "status", "org.tempus.Tempus1"],
                                            check=False).returncode == 0, 10)
    monitor = Process("dbus-monitor", ["dbus-monitor", "--system", "type='signal',sender='org.tempus.Tempus1'"], wd)
    wait_for("synchronisation over D-Bus", lambda: bus_get("Synchronized") == "true", 20)
    for p in DESIGN_MANAGER[:21]:
        log("%-18s %s" % (p, bus_get(p)))
    if bus_get("ReferenceName") != '"127.0.0.1"' or bus_get("Stratum") != "9":
        fail("tracking does not name chronyd: %s stratum %s" % (bus_get("ReferenceName"), bus_get("Stratum")))
    path = source_by_name("127.0.0.1")
    if not path or bus_get("State", path, SOURCE) != '"selected"':
        fail("no selected source object for 127.0.0.1")
    for p in DESIGN_SOURCE:
        log("  %-15s %s" % (p, bus_get(p, path, SOURCE)))
    if abs(float(bus_get("Offset", path, SOURCE))) >= 1e-3:
        fail("source offset is 1 ms or more")

    check_introspection(args, path)
    test_timesync_introspection(args)
    test_timesync_properties(path)
    test_timedatectl()
    test_runtime_servers(monitor)
    before = state()
    test_unprivileged(before)
    test_invalid_args(before)
    test_allow_serves(t)
    test_methods(args, wd, monitor)
    if not t.alive():
        fail("tempusd died")


run(test)
