#!/usr/bin/env python3
"""tempusctl plot on the logs of a real run: tempusd (Control=no) syncs from
a real chronyd with fast polling and writes tracking.log and
statistics.log; the SVG that tempusctl plot makes from them is well formed
(xmllint), and its polylines, read back through the scales every panel
carries, give the log's offsets, maximum errors, frequencies and each
source's estimated offsets. --since leaves out older rows, the log
directory comes from [Log] Dir= of the configuration, and the example in
docs/ (drawn from the log shipped next to it) still matches that log."""
import math
import shutil
import xml.etree.ElementTree as ET

from tempus_test import *

CHRONY_PORT = 11124
SVG = "{http://www.w3.org/2000/svg}"
ROWS = 12


def log_rows(path):
    """(unix time, columns) of each data row."""
    import calendar
    out = []
    for cols in read_log_rows(path):
        t = calendar.timegm(time.strptime(cols[0] + " " + cols[1], "%Y-%m-%d %H:%M:%S"))
        out.append((t, cols))
    return out


def panel(root, pid):
    for g in root.iter(SVG + "g"):
        if g.get("id") == pid:
            return g
    fail("no panel %s in the SVG" % pid)


def polyline(g, pid):
    """(time, value) of each point of polyline pid in panel g."""
    x, y, w, h = (float(g.get("data-" + k)) for k in ("x", "y", "width", "height"))
    t0, t1, y0, y1, scale = (float(g.get("data-" + k)) for k in ("t-min", "t-max", "y-min", "y-max", "y-scale"))
    for p in g.iter(SVG + "polyline"):
        if p.get("id") == pid:
            points = [tuple(map(float, pt.split(","))) for pt in p.get("points").split()]
            return [(t0 + (px - x) / w * (t1 - t0), (y0 + (y + h - py) / h * (y1 - y0)) / scale) for px, py in points]
    fail("no polyline %s in panel %s" % (pid, g.get("id")))


def tolerance(g, axis):
    """What a hundredth of a pixel is worth (points have two decimals)."""
    if axis == "t":
        return (float(g.get("data-t-max")) - float(g.get("data-t-min"))) / float(g.get("data-width")) * 0.006
    return ((float(g.get("data-y-max")) - float(g.get("data-y-min"))) / float(g.get("data-y-scale")) /
            float(g.get("data-height")) * 0.006)


def compare(what, got, want, g):
    if len(got) != len(want):
        fail("%s: %d points, the log has %d rows" % (what, len(got), len(want)))
    for (gt, gv), (wt, wv) in zip(got, want):
        if abs(gt - wt) > tolerance(g, "t") or abs(gv - wv) > tolerance(g, "v"):
            fail("%s: point (%r, %r) is not the log's (%r, %r)" % (what, gt, gv, wt, wv))


def check_svg(path, logdir):
    r = subprocess.run(["xmllint", "--noout", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        fail("xmllint: %s" % r.stdout)
    root = ET.parse(path).getroot()
    tracking = log_rows(os.path.join(logdir, "tracking.log"))
    o, f = panel(root, "offset-panel"), panel(root, "frequency-panel")
    compare("offset", polyline(o, "offset"), [(t, float(c[6])) for t, c in tracking], o)
    compare("max-error-upper", polyline(o, "max-error-upper"), [(t, abs(float(c[13]))) for t, c in tracking], o)
    compare("max-error-lower", polyline(o, "max-error-lower"), [(t, -abs(float(c[13]))) for t, c in tracking], o)
    compare("frequency", polyline(f, "frequency"), [(t, float(c[4])) for t, c in tracking], f)
    stats = log_rows(os.path.join(logdir, "statistics.log"))
    addresses = list(dict.fromkeys(c[2] for _, c in stats))
    for i, a in enumerate(addresses[:8]):
        compare("source %s" % a, polyline(o, "source-%d" % (i + 1)), [(t, float(c[4])) for t, c in stats if c[2] == a],
                o)
    labels = [t.text for t in root.iter(SVG + "text")]
    for want in ("Time (UTC)", "Frequency (ppm)", "offset at clock updates", "± maximum error"):
        if want not in labels:
            fail("the SVG lacks the label %r" % want)
    if not any(l and l.startswith("Offset (") for l in labels):
        fail("the offset axis has no unit")
    return len(tracking)


def check_since(args, wd, logdir):
    """An old row before the real ones is drawn without --since, not with."""
    old = os.path.join(wd, "old-logs")
    os.makedirs(old)
    with open(os.path.join(logdir, "tracking.log")) as f:
        text = f.read()
    row = "2020-01-01 00:00:00 127.0.0.1        9     -1.000      0.100  1.000e-03 N  1  1.000e-06  0.000e+00  1.000e-04  1.000e-04  2.000e-03\n"
    with open(os.path.join(old, "tracking.log"), "w") as f:
        f.write(row + text)
    n = len(log_rows(os.path.join(logdir, "tracking.log")))
    for argv, want in ((["--log-dir", old], n + 1), (["--log-dir=" + old, "--since", "1d"], n)):
        out = os.path.join(wd, "since.svg")
        tempusctl(args, "plot", *argv, "--output", out)
        got = len(polyline(panel(ET.parse(out).getroot(), "offset-panel"), "offset"))
        if got != want:
            fail("plot %s drew %d clock updates, expected %d" % (" ".join(argv), got, want))
    r = tempusctl(args, "plot", "--since", "banana", "--log-dir", old, check=False)
    if r.returncode != 2 or "banana" not in r.stderr:
        fail("a bad --since was not a usage error: %d %s" % (r.returncode, r.stderr))
    r = tempusctl(args, "plot", "--log-dir", os.path.join(wd, "nowhere"), check=False)
    if r.returncode != 1 or "tracking.log" not in r.stderr:
        fail("a missing log was not reported: %d %s" % (r.returncode, r.stderr))
    log("--since and the errors behave")


def check_docs_example(args, wd):
    docs = os.path.join(args.source_root, "docs", "plot-example")
    out = os.path.join(wd, "docs.svg")
    tempusctl(args, "plot", "--log-dir", docs, "--output", out)
    check_svg(out, docs)
    check_svg(os.path.join(args.source_root, "docs", "plot-example.svg"), docs)
    log("docs/plot-example.svg matches the log it was drawn from")


def test(args, wd):
    chronyd_server(args, wd, CHRONY_PORT)
    t = Tempusd(args, wd, {
        "Sources": [("Server", "127.0.0.1 iburst minpoll=-2 maxpoll=-2 port=%d" % CHRONY_PORT)],
        "Clock": [("Control", "no")],
        "Log": [("Dir", os.path.join(wd, "log")), ("Log", "tracking statistics measurements")],
    })
    wait_for("%d clock updates in tracking.log" % ROWS, lambda: len(t.tracking()) >= ROWS, 60)
    t.stop()
    logdir = os.path.join(wd, "log")
    svg = os.path.join(wd, "plot.svg")
    # The log directory from [Log] Dir= of the configuration.
    tempusctl(args, "plot", "--config", t.config, "--output", svg)
    n = check_svg(svg, logdir)
    log("plot of %d clock updates from a real run: well formed, points match the log" % n)
    # Kept in the build tree for a look.
    shutil.copyfile(svg, os.path.join(args.build_root, "test-plot.svg"))
    check_since(args, wd, logdir)
    check_docs_example(args, wd)


run(test)
