#!/usr/bin/env python3
"""The D-Bus API on a private system-like bus: tempusd syncing from a real
chronyd exports exactly the interface of dbus/org.tempus.Tempus1.xml, every
property reads, every method works for root, fails with AccessDenied for
others and with InvalidArgs for bad arguments (changing nothing), runtime
changes take effect (Allow serves a client in that subnet, AddSource
polls), sources come and go through the ObjectManager, and changes are
signalled with PropertiesChanged."""
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


def check_documented(xml_text):
    """Every method and property in the file is preceded by a comment."""
    lines = [l.strip() for l in xml_text.splitlines() if l.strip()]
    for i, line in enumerate(lines):
        if line.startswith("<method") or line.startswith("<property"):
            if not lines[i - 1].endswith("-->"):
                fail("undocumented member in org.tempus.Tempus1.xml: " + line)


def introspect(path):
    r = run_as(["busctl", "--system", "introspect", "--xml-interface", "org.tempus.Tempus1", path])
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


def test(args, wd):
    subprocess.run(["ip", "addr", "add", CLIENT + "/8", "dev", "lo"], check=True)
    BusDaemon(args, wd)
    chronyd_server(args, wd, CHRONY_PORT)
    t = Tempusd(args, wd, {
        "Sources": [("Server", "127.0.0.1 iburst port=%d" % CHRONY_PORT)],
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
    before = state()
    test_unprivileged(before)
    test_invalid_args(before)
    test_allow_serves(t)
    test_methods(args, wd, monitor)
    if not t.alive():
        fail("tempusd died")


run(test)
