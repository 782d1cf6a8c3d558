#!/usr/bin/env python3
"""Configuration traps: what the admin wrote is what runs, or a clear
error. Each case runs the real tempusd --check-config or --dump-config: an
indented line stays a line of its own; a long line is read whole (a 253
character host name works, the tail of a long value injects no key, a long
comment is a comment); more than 256 drop-ins all apply in name order; a
FIFO, /dev/zero or /dev/urandom is refused at once instead of hanging, and
so are a directory, an oversized file, a drop-in directory that loops, a
NUL byte and host names that are not host names. Last, a SIGHUP with a
FIFO among the drop-ins is refused while the daemon keeps answering NTP
and D-Bus."""
from tempus_test import *

PORT = 11126
TIMEOUT = 10


def tempusd(args, path, action):
    try:
        return subprocess.run([args.tempusd, "--config", path, action], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, errors="replace", timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        fail("tempusd --config %s %s hung for %d s" % (path, action, TIMEOUT))


def expect_error(args, path, *needles):
    r = tempusd(args, path, "--check-config")
    log("%s:\n%s" % (os.path.basename(path), r.stdout.strip()))
    if r.returncode != 1:
        fail("--check-config exited %d for %s, expected 1" % (r.returncode, path))
    for needle in needles:
        if needle not in r.stdout:
            fail("--check-config for %s does not say %r" % (path, needle))


def dump(args, path):
    r = tempusd(args, path, "--dump-config")
    if r.returncode != 0:
        fail("--dump-config failed for %s:\n%s" % (path, r.stdout))
    return r.stdout


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    return path


def indented_line(args, wd):
    path = write(os.path.join(wd, "indent.conf"), "[Clock]\nDriftFile=/var/lib/tempus/drift\n    Control=no\n")
    out = dump(args, path)
    if "DriftFile=/var/lib/tempus/drift  # %s:2" % path not in out or "Control=no  # %s:3" % path not in out:
        fail("the indented Control=no was not read as a line of its own:\n" + out)


def long_lines(args, wd):
    host = ".".join(["a" * 63] * 3 + ["b" * 61])
    path = write(os.path.join(wd, "host.conf"), "[Sources]\n#%s\nServer=%s iburst\n" % ("c" * 249, host))
    if "Server=%s iburst  # %s:3" % (host, path) not in dump(args, path):
        fail("the 253-character host name was not configured whole")

    path = write(os.path.join(wd, "inject.conf"), "[Clock]\nHWTimestamp=%sControl=yes\n" % ("x" * 187))
    expect_error(args, path, "%s:2: Clock.HWTimestamp: must be * or an interface name" % path)

    path = write(os.path.join(wd, "drift.conf"), "[Clock]\nDriftFile=/%sControl=no\n" % ("d" * 200))
    out = dump(args, path)
    if "Control=yes  # default" not in out or "d" * 200 + "Control=no  # %s:2" % path not in out:
        fail("the tail of a 212-character line became an assignment of its own:\n" + out)


def many_dropins(args, wd):
    path = write(os.path.join(wd, "many.conf"), "[Server]\nLocalStratum=3\n")
    write(path + ".d/zzzz-last.conf", "[Server]\nLocalStratum=7\n")
    for i in reversed(range(300)):
        write(path + ".d/%03d.conf" % i, "[Sources]\nServer=h%03d\n" % i)
    out = dump(args, path)
    servers = re.findall(r"^Server=(h\d+)  #", out, re.M)
    if servers != ["h%03d" % i for i in range(300)]:
        fail("not all 300 drop-ins applied in name order: %d servers" % len(servers))
    if "LocalStratum=7  # %s.d/zzzz-last.conf:2" % path not in out:
        fail("zzzz-last.conf was not applied last")


def not_regular_files(args, wd):
    path = write(os.path.join(wd, "dev.conf"), "[Server]\nPort=%d\n" % PORT)
    os.makedirs(path + ".d")
    os.mkfifo(path + ".d/10-fifo.conf")
    os.symlink("/dev/zero", path + ".d/20-zero.conf")
    os.symlink("/dev/urandom", path + ".d/30-urandom.conf")
    write(path + ".d/40-real.conf", "[Server]\nLocalStratum=4\n")
    os.symlink(path + ".d/40-real.conf", path + ".d/50-link.conf")
    os.symlink("/dev/null", path + ".d/60-masked.conf")
    expect_error(args, path, "%s.d/10-fifo.conf: is a FIFO, not a regular file" % path,
                 "%s.d/20-zero.conf: is a character device, not a regular file" % path,
                 "%s.d/30-urandom.conf: is a character device, not a regular file" % path)
    for name in ("10-fifo.conf", "20-zero.conf", "30-urandom.conf"):
        os.remove(path + ".d/" + name)
    if "LocalStratum=4  # %s.d/50-link.conf:2" % path not in dump(args, path):
        fail("a symbolic link to a regular drop-in was not read")

    expect_error(args, "/dev/zero", "/dev/zero: is a character device, not a regular file")
    directory = os.path.join(wd, "dir.conf")
    os.makedirs(directory)
    expect_error(args, directory, "%s: is a directory, not a regular file" % directory)
    big = write(os.path.join(wd, "big.conf"), "#" * (1024 * 1024) + "\n")
    expect_error(args, big, "%s: larger than the limit of 1048576 bytes" % big)


def silent_cases(args, wd):
    path = write(os.path.join(wd, "loop.conf"), "")
    os.symlink("loop.conf.d", path + ".d")
    expect_error(args, path, "%s.d: cannot read the drop-in directory: Too many levels of symbolic links" % path)

    path = write(os.path.join(wd, "nul.conf"), b"[Server]\nLocalStratum=1\0 5\n")
    expect_error(args, path, "%s:2: Server.LocalStratum: line contains a NUL byte" % path)

    path = write(os.path.join(wd, "hosts.conf"), "[Sources]\nServer=::%%%%\nServer=a:%$(id)\nServer=$(id)\n")
    expect_error(args, path, "%s:2: Sources.Server: not an IPv6 address" % path,
                 "%s:3: Sources.Server: not an IPv6 address" % path,
                 "%s:4: Sources.Server: invalid host name" % path)


def fifo_reload(args, wd):
    """SIGHUP with a FIFO among the drop-ins: refused, still serving."""
    run_dir = os.path.join(wd, "run")
    os.makedirs(run_dir)
    BusDaemon(args, run_dir)
    t = Tempusd(args, run_dir, {"Clock": [("Control", "no")],
                                "Server": [("Port", str(PORT)), ("Allow", "127.0.0.1"), ("LocalStratum", "10")]})
    wait_for("tempusd to answer", lambda: ntp_request(PORT) is not None, 10)
    wait_for("the bus name", lambda: run_as(["busctl", "--system", "status", "org.tempus.Tempus1"],
                                            check=False).returncode == 0, 10)
    os.makedirs(t.config + ".d", exist_ok=True)
    os.mkfifo(t.config + ".d/50-fifo.conf")
    t.proc.send_signal(signal.SIGHUP)
    wait_for("the reload to be refused", lambda: "keeping the current one" in t.output(), TIMEOUT)
    if "50-fifo.conf: is a FIFO, not a regular file" not in t.output():
        fail("the refused reload does not name the FIFO")
    for _ in range(5):
        reply = ntp_request(PORT)
        if not reply or reply.get("mode") != 4:
            fail("tempusd stopped answering NTP after the SIGHUP: %r" % reply)
    if bus_get("ClockControl") != "false":
        fail("tempusd stopped answering D-Bus after the SIGHUP")


def test(args, wd):
    indented_line(args, wd)
    long_lines(args, wd)
    many_dropins(args, wd)
    not_regular_files(args, wd)
    silent_cases(args, wd)
    fifo_reload(args, wd)


run(test)
