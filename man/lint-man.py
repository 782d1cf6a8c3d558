#!/usr/bin/env python3
"""man-lint: the manual pages format without a single warning.

Usage: lint-man.py [--mandoc PATH] [--man PATH] PAGE...

Each page is checked by every linter given: `mandoc -T lint -W warning`
and `man --warnings -l` (groff's warnings, at a fixed width of 80
columns). Any message or a non-zero exit fails the test.
"""
import argparse
import os
import subprocess
import sys


def run(cmd, env=None):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    return r.returncode, r.stdout, r.stderr


def lint_mandoc(mandoc, page):
    code, out, err = run([mandoc, "-T", "lint", "-W", "warning", page])
    return code, [line for line in (out + err).splitlines() if line.strip()]


def lint_man(man, page):
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MANPAGER="cat", PAGER="cat")
    code, _, err = run([man, "--warnings", "-l", page], env=env)
    return code, [line for line in err.splitlines() if line.strip()]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mandoc")
    p.add_argument("--man")
    p.add_argument("pages", nargs="+")
    a = p.parse_args()
    linters = [(name, fn, prog) for name, fn, prog in
               (("mandoc", lint_mandoc, a.mandoc), ("man", lint_man, a.man)) if prog]
    if not linters:
        print("FAIL: no linter given (install mandoc or man-db)")
        return 1
    failed = 0
    for page in a.pages:
        for name, fn, prog in linters:
            code, findings = fn(prog, page)
            for line in findings:
                print("%s: %s: %s" % (name, os.path.basename(page), line))
            if code != 0 or findings:
                print("FAIL: %s on %s (exit %d, %d findings)" % (name, os.path.basename(page), code, len(findings)))
                failed += 1
            else:
                print("ok: %s on %s" % (name, os.path.basename(page)))
    return 1 if failed else 0


sys.exit(main())
