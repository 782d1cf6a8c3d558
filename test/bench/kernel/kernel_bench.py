#!/usr/bin/env python3
"""The real-kernel accuracy benchmark (run.sh starts it in a network
namespace of its own, without CAP_SYS_TIME): for each path, a chronyd -x
server behind tun-relay, and tempusd (Control=no) and chronyd -x as its
clients with the same source options, tempusd half a poll interval after
chronyd (stagger()), each drawing from the relay what the other draws (its n-th
packet each way held as the other's n-th). Every 5 s both clients' full
estimates of the system clock's offset are read (tempusctl tracking,
chronyc tracking); after the warm-up
their mean, RMS and maximum are the error, since every process shares
this machine's clock. A referee on the wire (kernel_wire.py) times every
exchange where it enters and leaves the client's side of the path, and
shows how each client's round trips compare with the wire's and what error
the path put into its exchanges. Prints figures, never fails on them.

Every process of the benchmark runs on one CPU (pin_to_one_cpu()).

    kernel_bench.py BUILD WARMUP_S MEASURE_S [PATH...]
"""

import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kernel_path  # noqa: E402
import kernel_wire  # noqa: E402
from kernel_path import (ChronyClient, Path, SAMPLE_INTERVAL, TempusClient, log_time, parse_tracking,  # noqa: E402
                         side_by_side, tempus_options)
import tempus_test  # noqa: E402

DEFAULT_MINPOLL = 6


def stagger(options):
    """How long after chronyd tempusd starts: half the shortest poll
    interval, so that the two clients' exchanges do not cross the relay and
    the server together, and each finds them as long idle as the other's.
    With default polling and 8 s, chronyd's requests came after 56 s of
    quiet and tempusd's after 8: on one CPU the relay read chronyd's a
    median 58 us later, the server took 290 to 820 us to answer them
    against 110 to 340 us, and the path offsets outside the relay's holds
    were 29 us larger for chronyd and three times as spread. With 16 s
    polls and 8 s between them the two were alike (the relay's reads 134
    and 113 us after the wire's, medians; spreads 28 and 25 us)."""
    words = options.split()
    minpoll = int(words[words.index("minpoll") + 1]) if "minpoll" in words else DEFAULT_MINPOLL
    return 2.0 ** minpoll / 2

# name: (description, out (mean, sd) us, loss, source options for both clients)
PATHS = {
    "1ms-16s": ("1 ms +- 300 us, 16 s polling", (1000, 300), 0.0, "iburst minpoll 4 maxpoll 4"),
    "200us-16s": ("200 +- 100 us, 16 s polling", (200, 100), 0.0, "iburst minpoll 4 maxpoll 4"),
    "1ms-default": ("1 ms +- 300 us, default polling", (1000, 300), 0.0, "iburst"),
    "200us-steady": ("200 us each way, no jitter, 16 s polling", (200, 0), 0.0, "iburst minpoll 4 maxpoll 4"),
    "1ms-loss10": ("1 ms +- 300 us, 16 s polling, 10 % loss", (1000, 300), 0.1, "iburst minpoll 4 maxpoll 4"),
    # The same paths with both clients asking for interleaved mode (xleave):
    # the server's transmit timestamps are its kernel's.
    "200us-16s-xleave": ("200 +- 100 us, 16 s polling, xleave", (200, 100), 0.0, "iburst minpoll 4 maxpoll 4 xleave"),
    "1ms-16s-xleave": ("1 ms +- 300 us, 16 s polling, xleave", (1000, 300), 0.0, "iburst minpoll 4 maxpoll 4 xleave"),
}
# The same paths again with tempusd's kernel transmit timestamps off
# (TXTimestamps=daemon: the clock read before sending), with and without
# xleave. chronyd has no such switch: it keeps its kernel timestamps.
NO_KERNEL_TX = [("TXTimestamps", "daemon")]
for _name in ("200us-16s", "200us-16s-xleave", "1ms-16s", "1ms-16s-xleave"):
    _description, _out, _loss, _options = PATHS[_name]
    PATHS[_name + "-notx"] = (_description + ", tempusd TXTimestamps=daemon", _out, _loss, _options)
# tempusd's [Clock] settings per path beyond Control=no.
TEMPUS_CLOCK = {name: NO_KERNEL_TX for name in PATHS if name.endswith("-notx")}
# Run by default: 200us-steady, the interleaved and the -notx paths are asked
# for by name.
DEFAULT_PATHS = ["1ms-16s", "200us-16s", "1ms-default", "1ms-loss10"]


class Args:
    def __init__(self, build_root, source_root):
        self.build_root = build_root
        self.source_root = source_root
        self.tempusd = os.path.join(build_root, "src", "tempusd")
        self.peers = os.path.join(build_root, "peers", "root")


def stats(values):
    if not values:
        return float("nan"), float("nan"), float("nan")
    mean = sum(values) / len(values)
    rms = math.sqrt(sum(v * v for v in values) / len(values))
    return mean, rms, max(abs(v) for v in values)


def samples_between(rows, start, end):
    """Measurement log rows (chrony's columns) whose UTC time is in [start, end)."""
    return sum(start <= log_time(r) < end for r in rows)


def run_path(args, name, warmup, measure, seed):
    description, out, loss, options = PATHS[name]
    wd = tempfile.mkdtemp(prefix="tempus-bench-")
    keep = bool(os.environ.get("TEMPUS_BENCH_KEEP"))  # keep every log for a closer look
    try:
        path = Path(args.build_root, wd, out, loss=loss, seed=seed)
        wire = kernel_wire.Wire("tnear0", os.path.join(wd, "wire-exchanges.log"))
        kernel_path.start_server(path, args.peers)
        chrony = ChronyClient(path, args.peers, options)
        time.sleep(stagger(options))
        tempus = TempusClient(path, args, tempus_options(options), TEMPUS_CLOCK.get(name, ()))
        started = time.time()
        series = {"chronyd -x": [], "tempusd": []}
        texts = {}
        next_sample = started + SAMPLE_INTERVAL
        while next_sample <= started + warmup + measure:
            time.sleep(max(next_sample - time.time(), 0))
            texts = {"chronyd -x": chrony.tracking(), "tempusd": tempus.tracking()}
            for client, text in texts.items():
                parsed = parse_tracking(text)
                if not parsed:
                    print("%.0f s: no estimate from %s: %s" % (time.time() - started, client, text.strip()))
                    keep = True
                elif next_sample - started > warmup:
                    series[client].append(parsed)
            next_sample += SAMPLE_INTERVAL
            while next_sample < time.time():      # a slow answer skips slots
                next_sample += SAMPLE_INTERVAL
        window = (started + warmup, started + warmup + measure)
        ntp_samples = {"chronyd -x": samples_between(chrony.measurements(), *window),
                       "tempusd": samples_between(tempus.measurements(), *window)}
        relay = path.summary()
        print("\n## %s (%s): %d s warm-up, %d s measured, estimates every %g s" %
              (name, description, warmup, measure, SAMPLE_INTERVAL))
        for line in relay:
            print("relay " + line)
        print("relay: %d of %d packets held alike for the two clients (the n-th of each)" % path.same_draws()[::-1])
        print(side_by_side(texts["chronyd -x"], texts["tempusd"], "chronyc tracking (chronyd -x)",
                           "tempusctl tracking (tempusd, Control=no)"))
        rows = []
        for client, values in series.items():
            mean, rms, peak = stats([v[0] * 1e6 for v in values])
            fmean, frms, _ = stats([v[1] for v in values])
            rows.append((name, client, len(values), mean, rms, peak, fmean, frms, ntp_samples[client]))
        print_table(ESTIMATES_TABLE, rows)
        logs = {"chronyd -x": chrony.measurements(), "tempusd": tempus.measurements()}
        addresses = {"chronyd -x": kernel_path.CHRONY_CLIENT, "tempusd": kernel_path.CLIENT}
        wire_rows = [(name, client) + kernel_wire.summary(wire.match(logs[client], log_time, window[0],
                                                                     addresses[client]))
                     for client in series]
        print_table(WIRE_TABLE, wire_rows)
        return rows, wire_rows
    except BaseException:
        keep = True
        raise
    finally:
        for p in list(tempus_test.RUNNING):
            p.stop()
        if keep:
            print("logs kept in %s" % wd)
        else:
            shutil.rmtree(wd, ignore_errors=True)


# Each table: its header, then the format of one row.
ESTIMATES_TABLE = ("| path | client | estimates | mean (us) | RMS (us) | max \\|x\\| (us) | mean freq (ppm) "
                   "| RMS freq (ppm) | NTP samples |\n|---|---|---:|---:|---:|---:|---:|---:|---:|",
                   "| %s | %s | %d | %+.1f | %.1f | %.1f | %+.3f | %.3f | %d |")
WIRE_TABLE = ("| path | client | exchanges | round trip - wire's (median, us) "
              "| path offset of its exchanges: mean (us) | median (us) |\n|---|---|---:|---:|---:|---:|",
              "| %s | %s | %d | %+.1f | %+.1f | %+.1f |")


def print_table(table, rows):
    header, row = table
    print(header)
    for r in rows:
        print(row % r)
    sys.stdout.flush()


def pin_to_one_cpu():
    """Keeps this process and all it starts on one CPU. Spread over two, a
    request whose client ran on the other CPU than the relay waited for the
    relay to be woken there: in two runs the relay read chronyd's requests
    a median 103 and 83 us later than tempusd's after they left the client
    (up to 651 us), depending on where the scheduler had put each. That
    wait lies outside the relay's hold, on the request's leg, so the two
    clients' draws differed by it although the relay held both alike. On
    one CPU the relay, at a real-time priority, takes each packet as soon
    as the sender's system call returns (the largest wait 197 us)."""
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    build_root, warmup, measure = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    names = sys.argv[4:] or DEFAULT_PATHS
    for n in names:
        if n not in PATHS:
            sys.exit("unknown path %s; known: %s" % (n, " ".join(PATHS)))
    source_root = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
    args = Args(os.path.abspath(build_root), source_root)
    print("# every process on CPU %d" % pin_to_one_cpu())
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    rows, wire_rows = [], []
    for i, name in enumerate(names):
        estimates, wire = run_path(args, name, warmup, measure, seed=i + 1)
        rows += estimates
        wire_rows += wire
    print("\n# All runs (estimates of the system clock's offset, positive: fast; true offset 0)")
    print_table(ESTIMATES_TABLE, rows)
    print("\n# The same runs on the wire (round trips and path offsets of each client's exchanges)")
    print_table(WIRE_TABLE, wire_rows)


if __name__ == "__main__":
    main()
