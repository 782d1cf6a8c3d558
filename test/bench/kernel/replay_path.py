#!/usr/bin/env python3
"""Writes the exchanges one client of a kept benchmark run drew from the
real path, for tempus-sim --replay: the simulator then puts the engine
behind exactly those round trips and path offsets, so that tempus can be
run on the draws chronyd had, or on its own again after a change.

    replay_path.py RUN_DIR tempus|chrony > FILE

RUN_DIR is a directory kept with TEMPUS_BENCH_KEEP=1. Each row of the
client's measurement log is matched to its exchanges on the wire as
kernel_wire.py does (within 1.5 s, the nearest round trip), and written as
"OUT BACK", the legs' times in seconds:

    out  = round trip / 2 + path offset
    back = round trip / 2 - path offset

(the path offset is (out - back) / 2). A request the path lost left no
exchange: a gap of more than one and a half poll intervals (the median
spacing of the exchanges) between two exchanges is written as "lost"
lines, one per missing poll.

    replay_path.py RUN_DIR tempus|chrony --line [WARMUP_S MEASURE_S]

prints instead how hard the client's draws were, whatever the engine: the
RMS error of an equal-weight least-squares line through the path offsets
of the client's exchanges so far (which no client sees), read every 5 s
over the benchmark's window (WARMUP_S, default 120, to WARMUP_S +
MEASURE_S, default 480, after tempusd's first exchange on the wire, within
a second or two of the benchmark's own start)."""

import math
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kernel_path import CHRONY_CLIENT, CLIENT, SAMPLE_INTERVAL, log_time  # noqa: E402
from kernel_wire import nearest_exchange  # noqa: E402

LOGS = {"tempus": ("tempus", "log", "measurements.log"), "chrony": ("chrony-client", "measurements.log")}
ADDRESSES = {"tempus": CLIENT, "chrony": CHRONY_CLIENT}


def wire_exchanges(run_dir, client):
    """(t1, round trip, path offset) of every exchange on the wire, s: the
    client's own where the log names each exchange's client address."""
    out = []
    with open(os.path.join(run_dir, "wire-exchanges.log")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            t1, round_trip, offset, *address = line.split()
            if address and address[0] != ADDRESSES[client]:
                continue
            out.append((float(t1), float(round_trip) * 1e-6, float(offset) * 1e-6))
    return out


def measurement_rows(path):
    """(time, delay) of each row of a chrony-style measurement log."""
    rows = []
    with open(path) as f:
        for line in f:
            fields = line.split()
            if len(fields) < 13 or not fields[0][:1].isdigit():
                continue
            rows.append((log_time(fields), float(fields[12])))
    return rows


def client_exchanges(run_dir, client):
    wire = wire_exchanges(run_dir, client)
    matched = []
    for at, delay in measurement_rows(os.path.join(run_dir, *LOGS[client])):
        e = nearest_exchange(wire, at, delay)
        if e:
            matched.append(e)
        else:
            print("no exchange on the wire for the row at %.0f" % at, file=sys.stderr)
    return matched


def replay_lines(exchanges):
    if len(exchanges) < 2:
        raise SystemExit("fewer than two exchanges matched")
    gaps = [b[0] - a[0] for a, b in zip(exchanges, exchanges[1:])]
    interval = statistics.median(gaps[len(gaps) // 2:])
    lines = []
    for i, (t1, round_trip, offset) in enumerate(exchanges):
        if i > 0 and gaps[i - 1] > 1.5 * interval:
            lines += ["lost"] * (round(gaps[i - 1] / interval) - 1)
        lines.append("%.9f %.9f" % (round_trip / 2 + offset, round_trip / 2 - offset))
    return lines


def line_at(points, t):
    """An equal-weight least-squares line through (time, offset) points,
    read at t."""
    n = len(points)
    mt = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mt) ** 2 for p in points)
    slope = sum((p[0] - mt) * (p[1] - my) for p in points) / sxx if sxx > 0 else 0.0
    return my + slope * (t - mt)


def line_rms(run_dir, client, warmup, measure):
    """RMS (s) of line_at() through the client's exchanges so far, every
    SAMPLE_INTERVAL over the window after tempusd's first exchange."""
    points = [(t1, offset) for t1, _, offset in client_exchanges(run_dir, client)]
    start = wire_exchanges(run_dir, "tempus")[0][0]
    errors, t = [], start + warmup
    while t <= start + warmup + measure:
        seen = [p for p in points if p[0] <= t]
        if seen:
            errors.append(line_at(seen, t))
        t += SAMPLE_INTERVAL
    return math.sqrt(sum(e * e for e in errors) / len(errors))


def main():
    args = sys.argv[1:]
    if len(args) in (3, 5) and args[2] == "--line" and args[1] in LOGS:
        warmup, measure = (float(args[3]), float(args[4])) if len(args) == 5 else (120.0, 480.0)
        print("%.1f" % (line_rms(args[0], args[1], warmup, measure) * 1e6))
        return
    if len(args) != 2 or args[1] not in LOGS:
        raise SystemExit("usage: replay_path.py RUN_DIR tempus|chrony [--line [WARMUP_S MEASURE_S]]")
    run_dir, client = args
    print("# %s's exchanges in %s: out back (s), or lost" % (client, os.path.abspath(run_dir)))
    for line in replay_lines(client_exchanges(run_dir, client)):
        print(line)


if __name__ == "__main__":
    main()
