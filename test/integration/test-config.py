#!/usr/bin/env python3
"""Configuration errors: a bad drop-in makes --check-config exit 1 naming
its file, line and key; the shipped examples pass; a reload with a bad
file keeps the running configuration."""
from tempus_test import *

PORT = 11124


def check(args, path):
    return subprocess.run([args.tempusd, "--config", path, "--check-config"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)


def test(args, wd):
    for name in ("example.conf", "tempus.conf", "lan-server.conf", "lan-client.conf", "dev.conf"):
        r = check(args, os.path.join(args.source_root, "conf.d", name))
        if r.returncode != 0:
            fail("conf.d/%s does not pass --check-config:\n%s" % (name, r.stdout))

    good = {"Clock": [("Control", "no")], "Server": [("Port", str(PORT)), ("Allow", "127.0.0.1"),
                                                     ("LocalStratum", "10")]}
    bad = "[Clock]\n# a comment\nMakeStep=abc\n"
    t = Tempusd(args, wd, good, dropins={"50-bad.conf": bad}, start=False)
    r = check(args, t.config)
    dropin = t.config + ".d/50-bad.conf"
    log(r.stdout)
    if r.returncode != 1:
        fail("--check-config exited %d on a bad drop-in, expected 1" % r.returncode)
    if "%s:3: Clock.MakeStep:" % dropin not in r.stdout:
        fail("--check-config did not name %s:3 and Clock.MakeStep" % dropin)

    r = subprocess.run([args.tempusd, "--config", t.config], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=10)
    if r.returncode == 0:
        fail("tempusd started with a bad configuration")

    # Running with a good file, then reloading with a bad one: still serving.
    os.remove(dropin)
    wd2 = os.path.join(wd, "run")
    os.makedirs(wd2)
    t = Tempusd(args, wd2, good)
    wait_for("tempusd to answer", lambda: ntp_request(PORT) is not None, 10)
    os.makedirs(t.config + ".d", exist_ok=True)
    with open(t.config + ".d/50-bad.conf", "w") as f:
        f.write(bad)
    t.proc.send_signal(signal.SIGHUP)
    wait_for("the reload to be refused", lambda: "keeping the current one" in t.output(), 10)
    if not t.alive() or ntp_request(PORT) is None:
        fail("tempusd stopped serving after a reload with a bad file")


run(test)
