#!/usr/bin/env python3
"""Under Control=no, tempusd reports the full estimate of the system clock's
offset from true time, in chrony's sign, as chronyd -x does.

tempusd (Control=no) and chronyd -x are clients of a chronyd -x server in
another network namespace, across tun-relay (the kernel accuracy
benchmark's path, test/bench/kernel). The path makes the true answer known
and not zero: it is asymmetric (1.6 ms out, 0.6 ms back, so every client
measures the system clock 0.5 ms slow), and the relay makes the server's
clock gain 10 ppm on the system clock. A client should therefore say that
the system clock is 0.5 ms + 10 ppm * t slow of NTP time, and that it runs
10 ppm slow.

Checked for tempusd from 30 s to 80 s: tempusctl tracking says "slow" and
is near that figure (a flipped sign fails, and so does the old report,
which showed only the pending slew of a few microseconds); SystemTimeOffset
on D-Bus is the same figure with its own sign (positive: fast); the
tracking log's Rem. corr. is it with chrony's sign (positive: slow);
Frequency says "slow" by about 10 ppm. chronyd -x on the same path must
agree on the signs (tracking text and tracking log), which shows that the
expectation and chrony's conventions are what this test assumes; its
distance from the expectation is logged beside tempusd's.

Signs are judged on the median of the readings, not on each one: the
offset is only 0.5 ms, and a packet the machine held for milliseconds at
the start has turned single readings of either client to the other side
(chronyd -x read +45 us and +180 us at 30 and 35 s once, and its tracking
log said -264 us). A flipped sign moves every reading, and so the median.
Each reading must still agree with itself: the word in tempusctl's text
with the sign on the bus."""
import statistics
import sys

from tempus_test import *

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench", "kernel"))
import kernel_path  # noqa: E402
from kernel_path import ChronyClient, Path, TempusClient, log_time, parse_tracking, tempus_options  # noqa: E402

OUT, BACK = (1600, 50), (600, 50)               # us; asymmetry (1600 - 600) / 2 = 500 us
ASYMMETRY = 0.0005                              # the offset every client measures, s (slow)
DRIFT_PPM = 10.0                                # the server's clock gains this on ours
OPTIONS = "iburst minpoll 4 maxpoll 4"
FIRST, LAST, EVERY = 30, 80, 5                  # seconds after the clients start
FREQUENCY_FROM = 55                             # Frequency is judged from here on
# Median distance from the expectation, s. This guards the reporting, not
# the accuracy: the first frequency estimates on this path swing both
# clients by several ppm, and tempusd's medians have reached 355 us on a
# busy machine (chronyd's 304 us).
TOLERANCE = 0.0006
# Every report within 3 ms of 0. On a guest whose virtual CPU is taken away
# for milliseconds, the relay (although SCHED_FIFO) has held packets 0.9 to
# 4.5 ms beyond their hold in the first seconds, and an iburst sample held
# so moves a first estimate by 2 ms either way.
BOUND = 0.003
# chronyd's own log is only a check of the set-up: a line of its may carry
# a correction still on its way after a slow start on a busy machine.
CHRONY_LOG_BOUND = 0.005
# chronyd's distance from the expectation is logged, not judged: it checks
# only the set-up, and a slow start on such a guest has put its median
# 1240 us away (a first frequency of -49 ppm). Its signs are judged.
CHRONY_TOLERANCE = None


def expected_offset(path, at=None):
    """The system clock minus true time at Unix time `at` (default now;
    negative: slow)."""
    return -(ASYMMETRY + DRIFT_PPM * 1e-6 * ((at or time.time()) - path.started))


def tempus_reading(tempus):
    """tempusctl tracking and SystemTimeOffset, read until no clock update
    fell between the two (they then agree to well within 50 us)."""
    for _ in range(3):
        text = tempus.tracking()
        bus = float(bus_get("SystemTimeOffset"))
        figures = parse_tracking(text)
        if not figures:
            fail("unreadable tempusctl tracking:\n%s" % text)
        if abs(bus - figures[0]) <= 50e-6:
            break
    return text, figures, bus


def sample(path, tempus, chrony):
    t_text, tempus_fig, bus = tempus_reading(tempus)
    c_text = chrony.tracking()
    expected = expected_offset(path)
    chrony_fig = parse_tracking(c_text)
    if not chrony_fig:
        fail("unreadable chronyc tracking:\n%s" % c_text)
    log("expected %+.6f  tempusd %+.6f (bus %+.6f, %+.3f ppm)  chronyd -x %+.6f (%+.3f ppm)"
        % (expected, tempus_fig[0], bus, tempus_fig[1], chrony_fig[0], chrony_fig[1]))
    return {"expected": expected, "tempus": tempus_fig, "chrony": chrony_fig, "bus": bus, "text": t_text,
            "chrony_text": c_text}


def check_offsets(samples):
    for s in samples:
        if abs(s["tempus"][0]) > BOUND:
            fail("System time %+.6f s is more than %.0f ms from 0" % (s["tempus"][0], BOUND * 1e3))
        # The bus keeps its documented sign (positive: fast) and the figure.
        if (s["bus"] < 0) != ("slow of NTP time" in s["text"]) or abs(s["bus"] - s["tempus"][0]) > 50e-6:
            fail("SystemTimeOffset %+.6f disagrees with tracking's %+.6f:\n%s"
                 % (s["bus"], s["tempus"][0], s["text"]))
    for who, name, tolerance in (("tempus", "tempusd", TOLERANCE), ("chrony", "chronyd -x", CHRONY_TOLERANCE)):
        middle = statistics.median(s[who][0] for s in samples)
        if middle >= 0:
            fail("%s's System time says fast (median %+.6f s) while the system clock is slow"
                 % (name, middle))
        miss = statistics.median(abs(s[who][0] - s["expected"]) for s in samples)
        log("%s: median distance from the expected offset %.0f us" % (name, miss * 1e6))
        if tolerance is not None and miss > tolerance:
            fail("%s's System time is %.0f us from the system clock's offset (median), more than %.0f us"
                 % (name, miss * 1e6, tolerance * 1e6))


def check_frequency(samples):
    """The median of the readings from FREQUENCY_FROM on: slow, and of the
    right order. A sample held for milliseconds by the machine swings the
    first estimates by tens of ppm for a minute (+0.6 to -3.3 ppm once from
    40 to 80 s, chronyd -x -14 to -49 ppm another time); on a slow start of
    the sanitizer build both clients had made no estimate by 35 s, and
    tempusd's read +2.7, -0.3 and -6.2 ppm from 40 to 80 s (median over
    all readings -0.3), so the first readings are left out. A flipped sign
    reads +10, a report of the pending correction alone near 0, a wrong
    unit 1000 times off."""
    late = [s for s in samples if s["at"] >= FREQUENCY_FROM]
    for who, name in (("chrony", "chronyd -x"), ("tempus", "tempusd")):
        ppm = statistics.median(s[who][1] for s in late)
        if not -10 * DRIFT_PPM < ppm < -0.1 * DRIFT_PPM:
            fail("%s's Frequency is %+.3f ppm (median); the system clock runs %.0f ppm slow"
                 % (name, ppm, DRIFT_PPM))


def check_tracking_log(path, name, rows, since, least, bound, tolerance):
    """Rem. corr. (column 11) in chrony's sign: positive when the system
    clock is slow; each line against the offset at its own time."""
    rows = [r for r in rows if log_time(r) >= since]
    if len(rows) < least:
        fail("fewer than %d lines in %s's tracking log in the last %.0f s" % (least, name, time.time() - since))
    for r in rows:
        log("%s tracking log %s: Rem. corr. %s, expected %+.6f"
            % (name, r[1], r[10], -expected_offset(path, log_time(r))))
        if abs(float(r[10])) > bound:
            fail("%s's Rem. corr. is %s: it must be within %.0f ms" % (name, r[10], bound * 1e3))
    middle = statistics.median(float(r[10]) for r in rows)
    if middle <= 0:
        fail("%s's Rem. corr. is %+.3e (median) while the system clock is slow: it must be positive"
             % (name, middle))
    miss = statistics.median(abs(float(r[10]) + expected_offset(path, log_time(r))) for r in rows)
    log("%s tracking log: median distance from the expected offset %.0f us" % (name, miss * 1e6))
    if tolerance is not None and miss > tolerance:
        fail("%s's Rem. corr. is %.0f us from the system clock's offset (median), more than %.0f us"
             % (name, miss * 1e6, tolerance * 1e6))


def check_measurement_log(name, rows):
    """Column 12 is RFC 5905's theta, as chrony logs it: positive when the
    local clock is slow of the source. The first two rows come before any
    correction, while the clock is 0.5 ms slow (the path's asymmetry). A
    packet the machine held for milliseconds can turn one of them (-2.1 ms
    once); a flipped sign turns both."""
    offsets = [float(r[11]) for r in rows[:2]]
    if len(offsets) < 2:
        fail("fewer than 2 lines in %s's measurements log" % name)
    log("%s measurements log: first offsets %s" % (name, " ".join("%+.6f" % o for o in offsets)))
    if max(offsets) <= 0:
        fail("%s's measurements log says the clock is fast (%s) while it is slow"
             % (name, " ".join("%+.6f" % o for o in offsets)))


def test(args, wd):
    path = Path(args.build_root, wd, OUT, BACK, seed=16, server_drift_ppm=DRIFT_PPM)
    kernel_path.start_server(path, args.peers)
    chrony = ChronyClient(path, args.peers, OPTIONS)
    tempus = TempusClient(path, args, tempus_options(OPTIONS))
    started = time.time()
    samples = []
    for at in range(FIRST, LAST + 1, EVERY):
        time.sleep(max(started + at - time.time(), 0))
        samples.append(dict(sample(path, tempus, chrony), at=at))
    log("at %d s, tempusctl tracking:\n%s\nchronyc tracking:\n%s"
        % (samples[-1]["at"], samples[-1]["text"], samples[-1]["chrony_text"]))
    check_offsets(samples)
    check_frequency(samples)
    # chronyd skips updates for samples its delay test rejects.
    check_tracking_log(path, "chronyd -x", chrony.tracking_log(), started + FIRST, 1,
                       CHRONY_LOG_BOUND, CHRONY_TOLERANCE)
    # tempusd too leaves out samples held far longer than the path's usual
    # (the relay's own latency reaches 1.5 ms here), and updates without them.
    check_tracking_log(path, "tempusd", tempus.tracking_log(), started + FIRST, 1, BOUND, TOLERANCE)
    check_measurement_log("chronyd -x", chrony.measurements())
    check_measurement_log("tempusd", tempus.measurements())
    for line in path.summary():
        log("relay " + line)
    log("tempusctl ntpdata:\n%s\nchronyc ntpdata:\n%s" % (tempus.ntpdata(), chrony.ntpdata()))


run(test)
