#!/usr/bin/env python3
"""tempusctl metrics against the live tempusd on a private system-like bus,
while tempusd syncs from a real chronyd and serves a few clients:

- the default output is OpenMetrics that the Prometheus project's own
  strict OpenMetrics parser (Debian's python3-prometheus-client) accepts,
  with tempus_synchronized 1, the selected source's state, and values equal
  to what the bus says;
- --format=prometheus passes `promtool check metrics` (Debian's prometheus
  package), which reads only that older text format;
- the server counters count the requests, replies and malformed datagrams
  this test sent;
- `tempusctl metrics --http`, run as tempus-metrics.socket runs it (one
  process per accepted connection, the connection on standard input and
  output, here with systemd-socket-activate --accept --inetd), answers
  GET /metrics in the format the Accept header asks for, 404 for other
  paths, 405 for other methods, 400 for garbage, and 503 once tempusd is
  gone.
"""
import http.client
import json
import socket

from tempus_test import *

CHRONY_PORT = 11123
SERVE_PORT = 11201
HTTP_PORT = 9975
SYSTEM_PYTHON = "/usr/bin/python3"      # where Debian's python3-prometheus-client is
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
                     "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")

# Parses OpenMetrics strictly and prints {name: [[labels, value], ...]} as JSON.
OPENMETRICS_PARSE = """
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = {}
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        out.setdefault(s.name, []).append([s.labels, s.value, family.type])
print(json.dumps(out))
"""


def parse_openmetrics(text):
    if not os.path.exists(SYSTEM_PYTHON):
        fail("%s missing" % SYSTEM_PYTHON)
    r = subprocess.run([SYSTEM_PYTHON, "-c", OPENMETRICS_PARSE], input=text, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=30)
    if r.returncode != 0:
        fail("the OpenMetrics parser rejected the output:\n%s\n%s" % (r.stderr.strip()[-2000:], text))
    return json.loads(r.stdout)


def promtool_check(text, what):
    r = subprocess.run(["promtool", "check", "metrics"], input=text, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=30)
    if r.returncode != 0:
        fail("promtool check metrics failed on %s (%d):\n%s\n%s" % (what, r.returncode, r.stdout, text))
    log("promtool check metrics: %s passes" % what)


def check_promtool_is_strict():
    """promtool must catch a mistake, or its passing proves nothing."""
    r = subprocess.run(["promtool", "check", "metrics"], input="# TYPE tempus_x counter\ntempus_x 1\n",
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
    if r.returncode == 0:
        fail("promtool accepted a counter without _total and HELP")


def one(metrics, name, labels=None):
    found = [v for l, v, _ in metrics.get(name, []) if labels is None or all(l.get(k) == x for k, x in labels.items())]
    if len(found) != 1:
        fail("expected one sample of %s %s, found %s" % (name, labels or "", metrics.get(name)))
    return found[0]


def close(a, b, what):
    if abs(a - b) > 1e-9 * max(abs(a), abs(b), 1e-300) and not (a == b):
        fail("%s: metrics say %r, the bus says %r" % (what, a, b))


def check_openmetrics(args, sent):
    text = tempusctl(args, "metrics").stdout
    log(text)
    if not text.endswith("# EOF\n"):
        fail("OpenMetrics output does not end with # EOF")
    m = parse_openmetrics(text)
    if one(m, "tempus_synchronized") != 1:
        fail("tempus_synchronized is not 1 while the bus says synchronised")
    if one(m, "tempus_source_state", {"address": "127.0.0.1", "state": "selected"}) != 1:
        fail("the chronyd source is not selected in tempus_source_state")
    if one(m, "tempus_source_authentication", {"address": "127.0.0.1", "authentication": "none"}) != 1:
        fail("authentication of the source is not none")
    # The same values as the bus, in base units (ppm as a ratio). The bus
    # moves between the two reads only at a clock update; read it after.
    close(one(m, "tempus_stratum"), int(bus_get("Stratum")), "stratum")
    source = [v["org.tempus.Tempus1.Source"] for v in managed_objects().values()][0]
    close(one(m, "tempus_source_reach", {"address": "127.0.0.1"}), source["Reach"], "reach")
    close(one(m, "tempus_source_poll_interval_seconds", {"address": "127.0.0.1"}), 2.0 ** source["Poll"], "poll")
    if not 0 < one(m, "tempus_source_delay_seconds", {"address": "127.0.0.1"}) < 0.1:
        fail("source delay out of range for loopback")
    # Counters: this test sent `sent` requests, one of them malformed.
    requests = one(m, "tempus_server_requests_total")
    replies = one(m, "tempus_server_replies_total")
    malformed = one(m, "tempus_malformed_packets_total")
    log("counters: requests %d, replies %d, malformed %d (sent %d, one malformed)" % (requests, replies, malformed,
                                                                                      sent))
    if requests != sent or replies != sent - 1 or malformed != 1:
        fail("server counters do not match what was sent")
    if not m.get("tempus_build_info") or m["tempus_build_info"][0][2] != "info":
        fail("build info missing or not of type info: %s" % m.get("tempus_build_info"))


def check_prometheus_format(args):
    text = tempusctl(args, "metrics", "--format=prometheus").stdout
    if "tempus_synchronized 1\n" not in text:
        fail("the 0.0.4 text lacks tempus_synchronized 1")
    promtool_check(text, "tempusctl metrics --format=prometheus")
    r = tempusctl(args, "metrics", "--format=json", check=False)
    if r.returncode != 2 or "json" not in r.stderr:
        fail("an unknown format was not a usage error: %d %s" % (r.returncode, r.stderr))


class Handler(Process):
    """tempusctl metrics --http behind systemd-socket-activate, one process
    per accepted connection, as tempus-metrics.socket (Accept=yes) runs it."""

    def __init__(self, args, workdir):
        program = os.path.join(args.build_root, "src", "ctl", "tempusctl")
        super().__init__("socket-activate", ["systemd-socket-activate", "--accept", "--inetd",
                                             "-l", "127.0.0.1:%d" % HTTP_PORT,
                                             "-E", "DBUS_SYSTEM_BUS_ADDRESS",
                                             program, "metrics", "--http"], workdir)
        wait_for("the metrics socket", lambda: port_open(HTTP_PORT), 10)


def port_open(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def request(method, path, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=20)
    c.request(method, path, headers=headers or {})
    r = c.getresponse()
    body = r.read().decode()
    c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), body


def raw_exchange(data):
    with socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=20) as s:
        s.sendall(data)
        chunks = []
        while True:
            b = s.recv(4096)
            if not b:
                return b"".join(chunks).decode(errors="replace")
            chunks.append(b)


def check_http(args):
    status, headers, body = request("GET", "/metrics", {"Accept": PROMETHEUS_ACCEPT})
    log("GET /metrics as Prometheus asks: %d %s" % (status, headers.get("content-type")))
    if status != 200 or not headers.get("content-type", "").startswith("application/openmetrics-text; version=1.0.0"):
        fail("Prometheus's Accept did not get OpenMetrics")
    if int(headers.get("content-length", -1)) != len(body.encode()):
        fail("Content-Length does not match the body")
    m = parse_openmetrics(body)
    if one(m, "tempus_synchronized") != 1:
        fail("tempus_synchronized over HTTP is not 1")

    status, headers, body = request("GET", "/metrics?x=1")
    if status != 200 or not headers.get("content-type", "").startswith("text/plain; version=0.0.4"):
        fail("a plain GET did not get the 0.0.4 text: %d %s" % (status, headers))
    promtool_check(body, "GET /metrics without Accept")

    status, headers, body = request("HEAD", "/metrics")
    if status != 200 or body or int(headers.get("content-length", 0)) == 0:
        fail("HEAD /metrics: %d, body %r, length %s" % (status, body, headers.get("content-length")))
    status, _, body = request("GET", "/")
    if status != 404:
        fail("GET / answered %d, not 404" % status)
    status, headers, _ = request("POST", "/metrics")
    if status != 405 or "GET" not in headers.get("allow", ""):
        fail("POST /metrics answered %d (Allow: %s), not 405 with Allow" % (status, headers.get("allow")))
    reply = raw_exchange(b"\x16\x03\x01 not http at all\r\n\r\n")
    if not reply.startswith("HTTP/1.1 400 "):
        fail("garbage got %r, not 400" % reply[:60])
    log("HTTP: 200 in both formats, HEAD, 404, 405 and 400 as they should be")


def check_dashboard(args, wd, text):
    """contrib/grafana-tempus.json: every query is valid PromQL (promtool
    check rules) and names only metrics that tempusctl metrics writes."""
    with open(os.path.join(args.source_root, "contrib", "grafana-tempus.json")) as f:
        dashboard = json.load(f)
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    if len(exprs) < 10:
        fail("the dashboard has only %d queries" % len(exprs))
    written = set(re.findall(r"^(tempus_[a-z_]+)", text, re.M))
    for e in exprs:
        missing = set(re.findall(r"\btempus_[a-z_]+", e)) - written
        if missing:
            fail("the dashboard queries %s, which tempusctl metrics does not write" % sorted(missing))
    rules = os.path.join(wd, "dashboard-rules.yml")
    with open(rules, "w") as f:
        f.write("groups:\n- name: dashboard\n  rules:\n")
        for i, e in enumerate(exprs):
            f.write("  - record: tempus:dashboard_%d\n    expr: %s\n" % (i, json.dumps(e.replace("$instance", ".*"))))
    r = subprocess.run(["promtool", "check", "rules", rules], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=30)
    if r.returncode != 0:
        fail("promtool check rules on the dashboard's queries:\n%s" % r.stdout)
    log("the Grafana dashboard's %d queries are valid PromQL over metrics tempusctl writes" % len(exprs))


def send_requests(count):
    """count - 1 good client requests and one malformed datagram."""
    for i in range(count - 1):
        if not ntp_request(SERVE_PORT):
            fail("tempusd did not answer client request %d" % i)
    ntp_request(SERVE_PORT, payload=bytes(20), timeout=0.3)


def test(args, wd):
    check_promtool_is_strict()
    BusDaemon(args, wd)
    chronyd_server(args, wd, CHRONY_PORT)
    t = Tempusd(args, wd, {
        "Sources": [("Server", "127.0.0.1 iburst port=%d" % CHRONY_PORT)],
        "Clock": [("Control", "no")],
        "Server": [("Port", str(SERVE_PORT)), ("Allow", "127.0.0.0/8")],
    })
    wait_for("synchronisation", lambda: bus_get("Synchronized") == "true", 20)
    sent = 6
    send_requests(sent)
    check_openmetrics(args, sent)
    check_prometheus_format(args)
    check_dashboard(args, wd, tempusctl(args, "metrics", "--format=prometheus").stdout)
    handler = Handler(args, wd)
    check_http(args)
    t.stop()
    status, _, body = request("GET", "/metrics")
    log("with tempusd stopped: %d %s" % (status, body.strip()))
    if status != 503 or "not running" not in body:
        fail("without tempusd, GET /metrics answered %d %r, not 503" % (status, body))
    handler.stop()

run(test)
