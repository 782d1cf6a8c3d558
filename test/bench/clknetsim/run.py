#!/usr/bin/env python3
"""tempusd against chronyd in clknetsim, the simulator chrony's own tests run in.

Each condition is one of chrony's simulation tests (its test/simulation
scripts and test.common defaults): one or more chronyd servers, and a client
that is either chronyd or tempusd, each on its own seed range. clknetsim
simulates the clocks and the network and measures each client's true time
and frequency error every second; the RMS and maximum are taken from the
end of the test's allowed sync time, as chrony's tests take them. Prints the
medians over the seeds; never pass/fail.

    test/bench/clknetsim/run.py --clknetsim DIR [--build build] [--seeds 10]
                                [--jobs 2] [--only NAME,PREFIX*,...]

DIR is a clknetsim checkout built with make (github.com/mlichvar/clknetsim).
chronyd is Debian's package, unpacked into BUILD/peers as the integration
tests do. tempusd runs under sd-event-shim.c (built as
BUILD/test/bench/clknetsim/libtempus-clknetsim-shim.so) in front of
clknetsim.so. Every client runs as an unprivileged user in a network
namespace of its own: nothing can reach a real clock or network."""
import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from multiprocessing import Pool

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
NOBODY = 65534

# test.common's defaults.
DEFAULTS = dict(limit=10000, time_offset=0.1, freq_offset=1e-4, base_delay="1e-4", jitter=1e-4,
                wander=1e-9, servers=1, falsetickers=0, client_step="", client_conf="", delay=None,
                client_server_options="", drift=None, time_max_limit=1e-3, freq_max_limit=5e-4,
                max_sync_time=210)


def conditions():
    """Name, description and settings of each condition, in chrony's order."""
    c = [("defaults", "chrony's defaults (001)", {})]
    for f in (-5e-2, -5e-3, 5e-3, 5e-2):
        c.append(("freq%+gpc" % (f * 100), "clock %+g %% off, offset near 0 at the first update (003)" % (f * 100),
                  dict(freq_offset=f, time_offset=-f * 130, max_sync_time=1000)))
    for o in (-100, 100):
        c.append(("offset%+d" % o, "%+d s off, slewed (004)" % o, dict(time_offset=o, max_sync_time=1400)))
    for o in (-100, 100):
        c.append(("step%+d" % o, "someone steps the clock %+d s at 150 s (005)" % o,
                  dict(client_step="(* %d (equal 0.1 (sum 1.0) 150))" % o, max_sync_time=1500)))
    c.append(("jitter-100ms", "100 ms of jitter, 1 s off (006)",
              dict(time_offset=1.0, jitter=0.1, time_max_limit=0.5, freq_max_limit=0.2)))
    c.append(("wander-1e-7", "wander 1e-7 (007)", dict(wander=1e-7, time_max_limit=5e-3, freq_max_limit=5e-3)))
    for f in (1, 2, 3, 4):
        c.append(("falsetickers-%d" % f, "%d of 5 servers lying (009)" % f,
                  dict(base_delay="1e-3", servers=5, falsetickers=f)))
    c.append(("asymmetric-path", "3 servers, 2 with 0.1 s more on one leg (009)",
              dict(servers=3, base_delay="(+ 1e-3 (equal 0.1 to 2) (equal 0.1 to 3))")))
    c.append(("intermittent", "replies in 1200 s of every 10000 s (014)",
              dict(base_delay="(+ 1e-4 (* -1 (equal 0.1 (min (% time 10000) 1200) 1200)))",
                   time_max_limit=0.1, freq_max_limit=1e-2, limit=100000)))
    c.append(("every-20th", "every 20th request answered (014)",
              dict(base_delay="(+ 1e-4 (* -1 (equal 0.1 from 2) (equal 0.1 (min (% (sum 1) 20) 1) 1)))",
                   time_max_limit=1e-2, freq_max_limit=1e-4, limit=100000, max_sync_time=22000)))
    for n in range(2, 15):
        c.append(("poll%d" % n, "minpoll=maxpoll=%d, 1 us of jitter (101)" % n,
                  dict(wander=0.0, jitter=1e-6, time_max_limit=1e-5, freq_max_limit=1e-5,
                       client_conf="makestep 1e-2 1", client_server_options="minpoll %d maxpoll %d" % (n, n),
                       limit=2 ** n * 10, max_sync_time=2 ** n * 21 // 10 + 1)))
    k = 0
    for f in (-5e-2, -5e-4, 5e-4, 5e-2):
        for d in (-1e4, -1e2, 1e2, 1e4):
            k += 1
            c.append(("drift-wrong-%d" % k, "drift file %+g ppm, clock %+g %% off, 100 s off (201)" % (d, f * 100),
                      dict(time_offset=100.0, jitter=1e-6, base_delay="1e-6", wander=0.0, limit=180,
                           time_max_limit=1e-5, freq_max_limit=1e-7, max_sync_time=140,
                           client_server_options="minpoll 6 maxpoll 6", client_conf="driftfile DRIFT\nmakestep 1 1",
                           freq_offset=f, drift="%g 100000\n" % d)))
    return c + extra_conditions()


def extra_conditions():
    """The hard conditions of tempus's own simulator that chrony's tests do
    not have (clknetsim's "to" is the node a packet goes to; the server is
    node 1)."""
    one_leg = "(+ (* 1.94 (equal 0.1 to 1)) (* 0.06 (equal 0.1 to 2)))"
    # The real-kernel benchmark's 1 ms path, and its estimate's world:
    # every process there shares one clock, on time and on frequency.
    normal_1ms = "(+ 1e-3 (* 3e-4 (normal)))"
    polled_16s = dict(delay=normal_1ms, client_server_options="iburst minpoll 4 maxpoll 4")
    default_polling = dict(delay=normal_1ms, client_server_options="iburst")
    on_time = dict(time_offset=0.0, freq_offset=0.0)
    return [
        ("asymmetric-jitter-47", "exponential jitter of mean 500 us, 47 % asymmetric (970 us out, 30 back)",
         dict(delay="(+ 1e-4 (* 5e-4 %s (exponential)))" % one_leg)),
        ("packet-loss", "30 % of packets lost each way",
         dict(delay="(+ 1e-4 (* 1e-4 (exponential)) (* -1 (equal 0.15 (uniform) 0.15)))")),
        ("jittery-path", "1 ms +/- 300 us each way (normal), iburst, polled every 16 s", polled_16s),
        ("jittery-path-default", "1 ms +/- 300 us each way (normal), iburst, default polling", default_polling),
        ("jittery-path-on-time", "the same, the clock on time and frequency, as the kernel benchmark's estimate",
         dict(default_polling, **on_time)),
        ("jittery-path-16s-on-time", "1 ms +/- 300 us each way (normal), iburst, polled every 16 s, on time",
         dict(polled_16s, **on_time)),
        ("jittery-path-loss10-on-time", "the same with 10 % of packets lost each way",
         dict(polled_16s, delay="(+ 1e-3 (* 3e-4 (normal)) (* -1 (equal 0.05 (uniform) 0.05)))", **on_time)),
        ("external-step-1e5", "someone steps the clock +1e5 s at 5000 s, MakeStep=1 -1",
         dict(client_step="(* 1e5 (equal 0.1 (sum 1.0) 5000))", client_conf="makestep 1 -1")),
        ("external-step-1e8", "someone steps the clock -1e8 s at 5000 s, MakeStep=1 -1",
         dict(client_step="(* -1e8 (equal 0.1 (sum 1.0) 5000))", client_conf="makestep 1 -1")),
        ("external-step-repeated", "+1e4 s at 500 s, back at 1000 s, and so on; MakeStep=1 -1",
         dict(client_step="(+ (* 1e4 (equal 0.1 (% (sum 1.0) 1000) 500)) (* -1e4 (equal 0.1 (% (sum 1.0) 1000) 0)))",
              client_conf="makestep 1 -1")),
    ]


def network_config(p, nodes, client):
    """clknetsim's configuration: every pair's delays, the clocks."""
    delay = p["delay"] or "(+ %s (* %g (exponential)))" % (p["base_delay"], p["jitter"])
    lines = []
    for i in range(1, nodes + 1):
        lines.append("node%d_shift_pll = 2" % i)
        for j in range(1, nodes + 1):
            if i != j:
                lines.append("node%d_delay%d = %s" % (i, j, delay))
    for i in range(1, nodes):
        lines.append("node%d_offset = %s" % (i, "%d.0" % i if i <= p["falsetickers"] else "0.0"))
    lines.append("node%d_freq = (+ %g (sum (* %g (normal))))" % (client, p["freq_offset"], p["wander"]))
    lines.append("node%d_offset = %g" % (client, p["time_offset"]))
    if p["client_step"]:
        lines.append("node%d_step = %s" % (client, p["client_step"]))
    return "\n".join(lines) + "\n"


def chronyd_command(args, wd, node, body):
    """Writes node's chronyd configuration (clknetsim's usual preamble, then
    body) and returns the command that runs it."""
    conf = "conf.%d" % node
    write(wd, conf, "\n".join(["pidfile %s/pidfile.%d" % (wd, node), "allow", "cmdallow", "bindcmdaddress 0.0.0.0",
                               "bindcmdaddress /clknetsim/unix/chronyd.sock"] + body) + "\n")
    return [args.chronyd, "-d", "-f", os.path.join(wd, conf)]


def tempus_options(chrony_options):
    """chrony's "minpoll 6 maxpoll 6" as tempus's "minpoll=6 maxpoll=6"."""
    words, out = chrony_options.split(), []
    while words:
        w = words.pop(0)
        out.append("%s=%s" % (w, words.pop(0)) if w in ("minpoll", "maxpoll") else w)
    return " ".join(out)


def tempus_config(p, servers, drift):
    clock = ["TXTimestamps=kernel"]
    for line in p["client_conf"].splitlines():
        w = line.split()
        if w[0] == "makestep":
            clock.append("MakeStep=%s %s" % (w[1], w[2]))
        elif w[0] == "driftfile":
            clock.append("DriftFile=%s" % drift)
        else:
            raise ValueError("no tempus.conf key for chrony's %r" % line)
    sources = ["Server=192.168.123.%d %s" % (i, tempus_options(p["client_server_options"]))
               for i in range(1, servers + 1)]
    return "\n".join(["[Sources]"] + sources + ["[Clock]"] + clock) + "\n"


def client_command(args, p, wd, node, servers, drift):
    if args.client == "chrony":
        body = ["server 192.168.123.%d %s" % (i, p["client_server_options"]) for i in range(1, servers + 1)]
        body += p["client_conf"].replace("DRIFT", drift).splitlines()
        return chronyd_command(args, wd, node, body), args.clknetsim_so
    write(wd, "tempus.conf", tempus_config(p, servers, drift))
    return [args.tempusd, "-c", wd + "/tempus.conf"], args.shim + ":" + args.clknetsim_so


def write(wd, name, text, mode=0o644):
    path = os.path.join(wd, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def as_nobody(cmd):
    if os.geteuid() != 0:
        return cmd
    return ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups",
            "--bounding-set=-sys_time", "--"] + cmd


def start(cmd, preload, env, wd, node):
    env = dict(env, CLKNETSIM_NODE=str(node))
    with open("%s/log.%d" % (wd, node), "w") as log:
        return subprocess.Popen(as_nobody(["env", "LD_PRELOAD=" + preload] + cmd), env=env, cwd=wd,
                                stdout=log, stderr=subprocess.STDOUT)


def sync_time(wd, node, p):
    """chrony's find_sync (smoothing 1.0): the second after the last one
    with the time or the frequency beyond its limit; -1: never synchronised."""
    offsets = [abs(float(l.split("\t")[node - 1])) for l in open(wd + "/log.offset")]
    freqs = [abs(float(l.split("\t")[node - 1])) for l in open(wd + "/log.freq")]
    last = -1
    for t, (o, f) in enumerate(zip(offsets, freqs)):
        if o > p["time_max_limit"] or f > p["freq_max_limit"]:
            last = t
    return last + 1 if last < len(offsets) - 1 else -1


def stats_of(wd, node):
    values = {}
    for line in open(wd + "/stats"):
        if ":" in line:
            key, value = line.split(":", 1)
            values.setdefault(key.strip(), []).append(float(value.split()[0]))
    return {name: values[key][node - 1] for name, key in (("rms", "RMS offset"), ("max", "Maximum absolute offset"),
                                                          ("rms_freq", "RMS frequency"))}


def condition_params(settings):
    """A condition's settings over test.common's defaults."""
    return dict(DEFAULTS, **settings)


def run_one(job):
    args, name, settings, seed = job
    p = condition_params(settings)
    servers = p["servers"]
    nodes = servers + 1
    wd = tempfile.mkdtemp(prefix="tempus-clknetsim-")
    os.chmod(wd, 0o777)
    try:
        drift = wd + "/drift"
        if p["drift"]:
            write(wd, "drift", p["drift"], 0o666)
        write(wd, "conf", network_config(p, nodes, nodes))
        env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "LISTEN_FDS", "LD_PRELOAD")}
        env.update(CLKNETSIM_SOCKET=wd + "/sock", CLKNETSIM_RANDOM_SEED=str(seed),
                   DBUS_SYSTEM_BUS_ADDRESS="unix:path=/nonexistent")
        procs = []
        for i in range(1, servers + 1):
            procs.append(start(chronyd_command(args, wd, i, ["local stratum 1"]), args.clknetsim_so, env, wd, i))
        cmd, preload = client_command(args, p, wd, nodes, servers, drift)
        procs.append(start(cmd, preload, env, wd, nodes))
        with open(wd + "/stats", "w") as out, open(wd + "/log", "w") as err:
            subprocess.run(as_nobody([args.clknetsim + "/clknetsim", "-o", wd + "/log.offset", "-f", wd + "/log.freq",
                                      "-R", "1", "-r", str(p["max_sync_time"]), "-l", str(p["limit"]),
                                      "-s", wd + "/sock", wd + "/conf", str(nodes)]),
                           env=env, stdout=out, stderr=err, check=True)
        for proc in procs:
            proc.kill()
            proc.wait()
        result = dict(stats_of(wd, nodes), sync=sync_time(wd, nodes, p), name=name, seed=seed)
    finally:
        if not args.keep:
            shutil.rmtree(wd, ignore_errors=True)
        else:
            print("kept %s" % wd, file=sys.stderr)
    return result


def median(results, key):
    return statistics.median(r[key] for r in results)


def report(name, description, results, max_sync_time):
    """One line per client and condition: medians, and how many seeds never
    synchronised or did later than the test allows (chrony's check_sync
    fails a run for either)."""
    never = sum(1 for r in results if r["sync"] < 0)
    late = sum(1 for r in results if r["sync"] > max_sync_time)
    synced = [r for r in results if r["sync"] >= 0]
    sync = "%8.0f" % median(synced, "sync") if synced else "   never"
    print("%-22s %s (%2d never, %2d late)  RMS %9.3g  max %9.3g   %s" % (
        name, sync, never, late, median(results, "rms"), median(results, "max"), description), flush=True)


def parse_args():
    a = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    a.add_argument("--clknetsim", default=os.environ.get("CLKNETSIM_PATH"), required="CLKNETSIM_PATH" not in os.environ)
    a.add_argument("--build", default="build")
    a.add_argument("--client", choices=("tempus", "chrony", "both"), default="both")
    a.add_argument("--seeds", type=int, default=10)
    a.add_argument("--first-seed", type=int, default=1)
    a.add_argument("--jobs", type=int, default=os.cpu_count())
    a.add_argument("--only", default="")
    a.add_argument("--tempusd")
    a.add_argument("--json", help="also write every run's figures here")
    a.add_argument("--keep", action="store_true", help="keep each run's directory")
    args = a.parse_args()
    build = os.path.join(SOURCE, args.build)
    args.tempusd = args.tempusd or os.path.join(build, "src/tempusd")
    args.shim = os.path.join(build, "test/bench/clknetsim/libtempus-clknetsim-shim.so")
    args.clknetsim = os.path.abspath(args.clknetsim)
    args.clknetsim_so = args.clknetsim + "/clknetsim.so"
    for f in (args.tempusd, args.shim, args.clknetsim_so, args.clknetsim + "/clknetsim"):
        if not os.path.exists(f):
            sys.exit("missing %s (build tempus with ninja -C %s, clknetsim with make)" % (f, args.build))
    sys.path.insert(0, os.path.join(SOURCE, "test/integration"))
    import tempus_test
    args.chronyd = os.path.join(tempus_test.fetch_peers(build), "usr/sbin/chronyd")
    return args


def selected(args):
    wanted = [w for w in args.only.split(",") if w]
    match = lambda n: not wanted or any(n == w or (w.endswith("*") and n.startswith(w[:-1])) for w in wanted)
    return [c for c in conditions() if match(c[0])]


def main():
    args = parse_args()
    clients = ("chrony", "tempus") if args.client == "both" else (args.client,)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    everything = []
    print("medians of %d seeds: sync time (s; never: not synchronised by the end; late: after the test's "
          "max_sync_time), RMS and max time error (s)"
          % args.seeds)
    with Pool(args.jobs) as pool:
        for name, description, settings in selected(args):
            for client in clients:
                job_args = argparse.Namespace(**dict(vars(args), client=client))
                results = pool.map(run_one, [(job_args, name, settings, s) for s in seeds], chunksize=1)
                report("%s %s" % (client, name), description, results, condition_params(settings)["max_sync_time"])
                everything += [dict(r, client=client) for r in results]
    if args.json:
        with open(args.json, "w") as f:
            json.dump(everything, f)


def isolate():
    """As root, re-executes the script in a network namespace of its own
    (after the peers are fetched, which needs the network)."""
    if "--inside" in sys.argv:
        sys.argv.remove("--inside")
        return
    if os.geteuid() == 0:
        parse_args()
        os.execvp("unshare", ["unshare", "--net", "--", sys.executable] + sys.argv + ["--inside"])


if __name__ == "__main__":
    isolate()
    main()
