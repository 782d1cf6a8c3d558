#!/usr/bin/env python3
"""tempusctl against the live tempusd on a private system-like bus, while
tempusd syncs from a real chronyd: sources -v shows chronyc's legend and a
^* row for the server, sourcestats -v and tracking show every chronyc field
with the values the daemon exports, --json matches them, allow as non-root
is refused and changes nothing while as root a client in that subnet is
then served, errors are one line, and LANG=zh_CN.UTF-8 gives the Chinese
legend."""
import json

from tempus_test import *

CHRONY_PORT = 11123
SERVE_PORT = 11200
CLIENT = "10.1.2.3"
TRACKING_FIELDS = ["Reference ID", "Stratum", "Ref time (UTC)", "System time", "Last offset", "RMS offset",
                   "Frequency", "Residual freq", "Skew", "Root delay", "Root dispersion", "Update interval",
                   "Leap status"]


def ctl(args, *argv, user=None, env=None, check=True):
    cmd = [os.path.join(args.build_root, "src", "ctl", "tempusctl")] + list(argv)
    if user:
        cmd = ["setpriv", "--reuid=" + user, "--regid=nogroup", "--clear-groups", "--"] + cmd
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30,
                       env=dict(os.environ, **(env or {})))
    if check and r.returncode != 0:
        fail("tempusctl %s failed (%d): %s" % (" ".join(argv), r.returncode, r.stderr.strip()))
    return r


def check_sources(args):
    out = ctl(args, "sources", "-v").stdout
    log(out)
    if "MS Name/IP address" not in out or "Last sample" not in out:
        fail("sources -v lacks chronyc's column header")
    if "Source mode" not in out and "^ = server" not in out and "^" not in out.split("MS Name")[0]:
        fail("sources -v lacks the legend")
    rows = [l for l in out.splitlines() if l.startswith("^*")]
    if len(rows) != 1 or "127.0.0.1" not in rows[0]:
        fail("no ^* row for 127.0.0.1 in sources -v")
    fields = rows[0].split()
    if fields[2] != "9" and fields[2] != "8":
        fail("stratum column %s, chronyd serves stratum 8" % fields[2])
    if fields[4] != bus_get("Reach", source_path(), "org.tempus.Tempus1.Source"):
        # Reach is printed in octal, as chronyc does.
        reach = int(bus_get("Reach", source_path(), "org.tempus.Tempus1.Source"))
        if fields[4] != "%o" % reach:
            fail("reach column %s, bus says %d (octal %o)" % (fields[4], reach, reach))


def source_path():
    r = run_as(["busctl", "--system", "tree", "--list", "org.tempus.Tempus1"])
    paths = [l for l in r.stdout.split() if re.match(r"^/org/tempus/Tempus1/source/\d+$", l)]
    return paths[0]


def check_sourcestats(args):
    out = ctl(args, "sourcestats", "-v").stdout
    log(out)
    header = [l for l in out.splitlines() if l.startswith("Name/IP Address")]
    if not header or header[0].split() != ["Name/IP", "Address", "NP", "NR", "Span", "Frequency", "Freq", "Skew",
                                            "Offset", "Std", "Dev"]:
        fail("sourcestats header differs from chronyc's: %s" % header)
    rows = [l for l in out.splitlines() if l.startswith("127.0.0.1")]
    if len(rows) != 1:
        fail("no sourcestats row for 127.0.0.1")
    samples = bus_get("Samples", source_path(), "org.tempus.Tempus1.Source")
    if rows[0].split()[1] != samples:
        fail("NP column %s, bus says %s" % (rows[0].split()[1], samples))


def check_tracking(args):
    out = ctl(args, "tracking").stdout
    log(out)
    values = {}
    for line in out.splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            values[key.strip()] = value.strip()
    missing = [f for f in TRACKING_FIELDS if f not in values]
    if missing:
        fail("tracking lacks chronyc fields %s" % missing)
    if values["Reference ID"] != "7F000001 (127.0.0.1)":
        fail("Reference ID: %s" % values["Reference ID"])
    if values["Stratum"] != bus_get("Stratum"):
        fail("Stratum %s, bus says %s" % (values["Stratum"], bus_get("Stratum")))
    if values["Leap status"] != "Normal":
        fail("Leap status: %s" % values["Leap status"])
    if not re.match(r"^[0-9.]+ seconds (slow|fast) of NTP time$", values["System time"]):
        fail("System time: %s" % values["System time"])
    data = json.loads(ctl(args, "--json", "tracking").stdout)
    if data.get("ReferenceName") != "127.0.0.1" or data.get("Synchronized") is not True:
        fail("tracking --json: %s" % data)
    sources = json.loads(ctl(args, "--json", "sources").stdout)
    if not any(s.get("Address") == "127.0.0.1" and s.get("State") == "selected" for s in sources):
        fail("sources --json lacks the selected source: %s" % sources)


def check_allow(args):
    before = bus_get("AccessRules")
    r = ctl(args, "allow", "10.0.0.0/8", user="nobody", check=False)
    log("non-root allow: exit %d: %s" % (r.returncode, r.stderr.strip()))
    if r.returncode == 0 or "denied" not in r.stderr.lower() or len(r.stderr.strip().splitlines()) != 1:
        fail("non-root allow was not refused with one access-denied line")
    if bus_get("AccessRules") != before or ntp_request(SERVE_PORT, address=CLIENT, source=CLIENT):
        fail("a refused allow changed the rules")
    ctl(args, "allow", "10.0.0.0/8")
    reply = wait_for("a reply to %s" % CLIENT, lambda: ntp_request(SERVE_PORT, address=CLIENT, source=CLIENT), 5)
    log("after tempusctl allow 10.0.0.0/8, %s is served (stratum %d)" % (CLIENT, reply["stratum"]))
    r = ctl(args, "allow", "10.0.0.0/40", check=False)
    log("bad subnet: exit %d: %s" % (r.returncode, r.stderr.strip()))
    if r.returncode == 0 or "10.0.0.0/40" not in r.stderr:
        fail("a malformed subnet was not reported")


def check_commands(args):
    ctl(args, "makestep", "0.5", "3")
    if (bus_get("MakeStepThreshold"), bus_get("MakeStepLimit")) != ("0.5", "3"):
        fail("makestep 0.5 3 not applied")
    ctl(args, "burst")
    ctl(args, "add", "server", "127.0.0.2", "iburst", "port=%d" % CHRONY_PORT)
    wait_for("the added source in tempusctl sources",
             lambda: "127.0.0.2" in ctl(args, "sources").stdout, 5)
    ctl(args, "delete", "127.0.0.2")
    wait_for("the deleted source to go", lambda: "127.0.0.2" not in ctl(args, "sources").stdout, 5)
    ctl(args, "reload")
    out = ctl(args, "activity").stdout
    log(out)
    if "sources online" not in out:
        fail("activity lacks the online count")
    out = ctl(args, "status").stdout
    log(out)
    if "127.0.0.1" not in out:
        fail("status does not name the reference")


def check_chinese(args, wd):
    if not os.path.exists("/usr/share/i18n/locales/zh_CN"):
        fail("zh_CN locale sources missing (Debian package locales)")
    locales = os.path.join(wd, "locale")
    # localedef exits 1..4 for warnings about the locale sources; what
    # matters is that the compiled locale is there.
    target = os.path.join(locales, "zh_CN.UTF-8")
    os.makedirs(target)
    subprocess.run(["localedef", "-i", "zh_CN", "-f", "UTF-8", target],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not os.path.exists(os.path.join(target, "LC_MESSAGES")):
        fail("localedef did not build the zh_CN.UTF-8 locale")
    env = {"LANG": "zh_CN.UTF-8", "LC_ALL": "", "LANGUAGE": "", "LOCPATH": locales,
           "TEMPUS_LOCALEDIR": os.path.join(args.build_root, "po")}
    out = ctl(args, "sources", "-v", env=env).stdout
    log(out)
    if not re.search(r"[\u4e00-\u9fff]", out):
        fail("LANG=zh_CN.UTF-8 tempusctl sources -v shows no Chinese")
    if not any(l.startswith("^*") and "127.0.0.1" in l for l in out.splitlines()):
        fail("the Chinese view lost the ^* row")


def test(args, wd):
    subprocess.run(["ip", "addr", "add", CLIENT + "/8", "dev", "lo"], check=True)
    BusDaemon(args, wd)
    r = ctl(args, "tracking", check=False)
    log("without the daemon: exit %d: %s" % (r.returncode, r.stderr.strip()))
    if r.returncode == 0 or "not running" not in r.stderr or len(r.stderr.strip().splitlines()) != 1:
        fail("tempusctl did not say in one line that tempusd is not running")

    chronyd_server(args, wd, CHRONY_PORT)
    t = Tempusd(args, wd, {
        "Sources": [("Server", "127.0.0.1 iburst port=%d" % CHRONY_PORT)],
        "Clock": [("Control", "no")],
        "Server": [("Port", str(SERVE_PORT))],
    })
    wait_for("synchronisation", lambda: run_as(["busctl", "--system", "get-property", "org.tempus.Tempus1",
                                                "/org/tempus/Tempus1", "org.tempus.Tempus1.Manager",
                                                "Synchronized"], check=False).stdout.strip() == "b true", 20)
    wait_for("two samples", lambda: int(bus_get("Samples", source_path(), "org.tempus.Tempus1.Source")) >= 2, 10)
    check_sources(args)
    check_sourcestats(args)
    check_tracking(args)
    check_allow(args)
    check_commands(args)
    check_chinese(args, wd)
    if not t.alive():
        fail("tempusd died")


run(test)
