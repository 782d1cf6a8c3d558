#!/usr/bin/env python3
"""Checks the module map of HACKING.md against the code: every
#include "folder/..." in src/<folder>/ must name a folder that the map lets
that folder use, and the bus sees the daemon through one header. Prints each include that breaks the map and fails."""
import pathlib
import re
import sys

BELOW_DAEMON = {"auth", "clock", "config", "core", "net", "ntp", "server", "shared"}

# What each folder may include besides itself.
ALLOWED = {
    "shared": set(),
    "ntp": {"shared"},
    "auth": {"shared"},
    "clock": {"shared"},
    "core": {"clock", "ntp", "shared"},
    "server": {"ntp", "shared"},
    "config": {"auth", "core", "shared"},
    "net": {"ntp", "shared"},
    "daemon": BELOW_DAEMON,
    "bus": BELOW_DAEMON | {"daemon"},
    "ctl": {"config", "shared"},
}

# main.c wires the program together: it alone may reach above its folder.
EXCEPTIONS = {("daemon/main.c", "bus")}

# Of the daemon, the bus sees one header: the manager's narrow interface.
ONLY_HEADER = {("bus", "daemon"): "daemon/manager-api.h"}

INCLUDE = re.compile(r'^\s*#\s*include\s+"(([a-z]+)/[^"]*)"')


def violations(src):
    for path in sorted(src.glob("*/*.[ch]")):
        folder = path.parent.name
        if folder not in ALLOWED:
            yield f"{path}: folder {folder} is not in the module map"
            continue
        rel = f"{folder}/{path.name}"
        for n, line in enumerate(path.read_text().splitlines(), 1):
            m = INCLUDE.match(line)
            if not m or m.group(2) == folder:
                continue
            header, target = m.group(1), m.group(2)
            if target not in ALLOWED[folder] and (rel, target) not in EXCEPTIONS:
                yield f"{path}:{n}: {folder}/ may not include {target}/"
            only = ONLY_HEADER.get((folder, target))
            if only and header != only:
                yield f"{path}:{n}: {folder}/ may include only {only} of {target}/, not {header}"


def main():
    src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "src")
    found = list(violations(src))
    for v in found:
        print(v)
    checked = len(list(src.glob("*/*.[ch]")))
    if checked == 0:
        print(f"no sources under {src}")
        return 1
    print(f"{checked} files checked, {len(found)} includes outside the module map")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
