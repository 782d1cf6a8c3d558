#!/usr/bin/env python3
"""tempus-sim --replay: the engine sees exactly the recorded exchanges.

Each recorded exchange must give one sample whose round trip is OUT + BACK
and whose error against true time is (OUT - BACK) / 2; a "lost" line and
the requests after the last line give none; a malformed line is refused
with its file and line. With --estimate the run is judged on the engine's
estimate (the clock plus the correction still being slewed), not on the
clock.

    test-replay.py TEMPUS_SIM"""
import os
import re
import subprocess
import sys
import tempfile

# A slew of r during a round trip d moves a sample by r d / 2, and the
# engine slews fast after the first samples of a burst. So the burst sees a
# quiet path (no offset to correct), and the samples after it, 16 s apart,
# have path offsets of at most 30 us and legs of 0.5 to 2 ms: the slews
# they cause move the next ones by a few nanoseconds.
EXCHANGES = [(0.001, 0.001)] * 4 + [(0.001020, 0.000980), (0.002000, 0.002030), None, (0.000516, 0.000500),
                                    (0.001470, 0.001530), (0.000830, 0.000806)]
TOLERANCE = 0.5e-6
# A path quiet for fifteen exchanges (the last at 198 s), then 400 us off.
STEP_EXCHANGES = [(0.001, 0.001)] * 15 + [(0.0014, 0.0006)] * 5
UPDATE = re.compile(r"^\s*(\S+) err\s+(\S+)us rem\s+(\S+)us", re.M)
RESULT = re.compile(r"max ([0-9.]+) us")
SAMPLE = re.compile(r"^\s*sample\s+(\S+) off\s+\S+us \(error\s+(\S+)us\) delay\s+(\S+)us", re.M)


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def write(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def run(sim, replay, duration="300", *extra):
    env = dict(os.environ, SIM_TRACE_SAMPLES="1")
    return subprocess.run([sim, "jittery-path", "--seed", "1", "--trace", "--duration", duration, "--replay", replay,
                           *extra], env=env, capture_output=True, text=True, timeout=120)


def check_samples(sim, directory):
    text = "# a recorded path\n" + "".join("lost\n" if x is None else "%.6f %.6f  # leg times\n" % x
                                             for x in EXCHANGES)
    result = run(sim, write(directory, "path.txt", text))
    if result.returncode != 0:
        fail("tempus-sim exited %d:\n%s" % (result.returncode, result.stderr))
    samples = SAMPLE.findall(result.stderr)
    expected = [x for x in EXCHANGES if x is not None]
    print("samples: %s" % samples)
    if len(samples) != len(expected):
        fail("%d samples from %d recorded exchanges (a lost line or the end of the file gave one?)"
             % (len(samples), len(expected)))
    for (at, error, delay), (out, back) in zip(samples, expected):
        if abs(float(delay) * 1e-6 - (out + back)) > TOLERANCE:
            fail("sample at %s s: round trip %s us, recorded %.1f us" % (at, delay, (out + back) * 1e6))
        if abs(float(error) * 1e-6 - (out - back) / 2) > TOLERANCE:
            fail("sample at %s s: error %s us, the recorded path offset is %.1f us"
                 % (at, error, (out - back) / 2 * 1e6))


def check_estimate(sim, directory):
    """The run ends 2 s after the update that sees the path move by 400 us:
    the estimate has moved at once, the clock is still being slewed (over a
    second at least). Judged with --estimate, the largest error from 120 s
    on is that of the estimate right after an update (the clock's error
    plus the correction still to be slewed), which between updates changes
    only with the frequency error."""
    text = "".join("%.6f %.6f\n" % x for x in STEP_EXCHANGES)
    result = run(sim, write(directory, "step.txt", text), "200", "--estimate")
    if result.returncode != 0:
        fail("tempus-sim --estimate exited %d:\n%s" % (result.returncode, result.stderr))
    updates = [(float(at), float(err) + float(rem)) for at, err, rem in UPDATE.findall(result.stderr)]
    expected = max(abs(e) for at, e in updates if at >= 120) * 1e-6
    reported = float(RESULT.findall(result.stdout)[-1]) * 1e-6
    print("estimate: largest error %.1f us, the estimate's after the updates %.1f us" % (reported * 1e6, expected * 1e6))
    if expected < 300e-6:
        fail("the step in the path did not reach the estimate (%.1f us)" % (expected * 1e6))
    if abs(reported - expected) > 5e-6:
        fail("--estimate judged %.1f us, not the estimate's %.1f us" % (reported * 1e6, expected * 1e6))


def check_refused(sim, directory):
    path = write(directory, "bad.txt", "0.001 0.001\nlots\n")
    result = run(sim, path)
    print(result.stderr.strip())
    if result.returncode == 0 or "%s:2:" % path not in result.stderr:
        fail("a malformed line was not refused with its file and line (exit %d)" % result.returncode)


def main():
    sim = sys.argv[1]
    with tempfile.TemporaryDirectory() as directory:
        check_samples(sim, directory)
        check_estimate(sim, directory)
        check_refused(sim, directory)
    print("PASS replay")


main()
