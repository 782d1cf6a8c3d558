#!/usr/bin/env python3
"""bash completion for tempusctl: sourced in a real bash with
bash-completion's helpers, it completes commands (the same set that
`tempusctl --help` lists), options, metrics formats, plot options, and for
`delete` the names and addresses of the sources that tempusctl reports,
asking on the bus the command line names.

Usage: test-bash-completion.py COMPLETION_FILE TEMPUSCTL
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile

BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"

# What a fake tempusctl prints for --json sources; it also records its
# arguments, to show which bus the completion asked.
STUB = """#!/bin/sh
echo "$@" >> "%s"
case "$*" in
*"--json sources"*) echo '[{"Name":"ntp.example.org","Address":"192.0.2.1","State":"selected"},
{"Name":"pool.example.net","Address":"198.51.100.7","State":"combined"}]' ;;
*) exit 1 ;;
esac
"""


def fail(message):
    print("FAIL: " + message, flush=True)
    sys.exit(1)


def complete(completion, line, program="tempusctl"):
    """COMPREPLY for the command line `line` (completing its last word)."""
    words = shlex.split(line) + ([""] if line.endswith(" ") else [])
    words[0] = program
    script = "\n".join([
        "source %s" % shlex.quote(BASH_COMPLETION),
        "source %s" % shlex.quote(completion),
        "COMP_WORDS=(%s)" % " ".join(shlex.quote(w) for w in words),
        "COMP_CWORD=%d" % (len(words) - 1),
        "COMP_LINE=%s" % shlex.quote(line),
        "COMP_POINT=${#COMP_LINE}",
        "_tempusctl tempusctl %s %s" % (shlex.quote(words[-1]), shlex.quote(words[-2])),
        "printf '%s\\n' \"${COMPREPLY[@]}\"",
    ])
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=30)
    if r.returncode != 0:
        fail("bash failed on %r: %s" % (line, r.stderr))
    return sorted(w for w in r.stdout.splitlines() if w)


def expect(completion, line, want, program="tempusctl"):
    got = complete(completion, line, program)
    if got != sorted(want):
        fail("completing %r gave %s, expected %s" % (line, got, sorted(want)))
    print("ok: %r -> %s" % (line, " ".join(got)))


def help_commands(tempusctl):
    """The commands `tempusctl --help` lists: the first word of each
    two-space-indented line in its command sections."""
    text = subprocess.run([tempusctl, "--help"], stdout=subprocess.PIPE, text=True, check=True,
                          env=dict(os.environ, LC_ALL="C", LANGUAGE="")).stdout
    commands = set()
    section = None
    for line in text.splitlines():
        if line and not line.startswith(" "):
            section = line
        elif section and not section.startswith("Options") and re.match(r"^  [a-z]", line):
            commands.add(line.split()[0])
    return commands


def main():
    completion, tempusctl = sys.argv[1:3]
    if not os.path.exists(BASH_COMPLETION):
        fail("%s missing (Debian package bash-completion)" % BASH_COMPLETION)

    listed = help_commands(tempusctl)
    if len(listed) < 10:
        fail("could not read the commands from tempusctl --help: %s" % listed)
    expect(completion, "tempusctl ", listed)
    expect(completion, "tempusctl so", ["sources", "sourcestats"])
    expect(completion, "tempusctl --js", ["--json"])
    expect(completion, "tempusctl --user m", ["makestep", "metrics"])
    expect(completion, "tempusctl sources -", ["-v", "-n", "-j", "--json"])
    expect(completion, "tempusctl metrics --format=", ["openmetrics", "prometheus"])
    expect(completion, "tempusctl metrics --h", ["--http"])
    expect(completion, "tempusctl plot --", ["--since", "--output", "--log-dir", "--config"])
    expect(completion, "tempusctl add ", ["server", "pool"])
    expect(completion, "tempusctl add server ntp.example.org ib", ["iburst"])

    with tempfile.TemporaryDirectory(prefix="tempus-completion-") as d:
        calls = os.path.join(d, "calls")
        stub = os.path.join(d, "tempusctl")
        with open(stub, "w") as f:
            f.write(STUB % calls)
        os.chmod(stub, 0o755)
        expect(completion, "tempusctl delete ", ["ntp.example.org", "192.0.2.1", "pool.example.net",
                                                 "198.51.100.7"], stub)
        expect(completion, "tempusctl --user delete p", ["pool.example.net"], stub)
        with open(calls) as f:
            asked = f.read().splitlines()
        if asked != ["--json sources", "--user --json sources"]:
            fail("the completion asked tempusctl %s" % asked)
        print("ok: source names come from tempusctl --json sources, on the bus named on the line")
    print("PASS")


main()
