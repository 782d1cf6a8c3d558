#!/usr/bin/env python3
"""Prints the names of the simulator's scenarios, one a line, as they stand
in the scenarios[] table of scenarios.c (what tempus-sim --list prints), so
that meson registers one test per scenario without a second list."""
import re
import sys

with open(sys.argv[1], encoding="utf-8") as f:
    text = f.read()
table = text[text.index("const Scenario scenarios[] = {"):]
for name in re.findall(r'^\s*\{ "([A-Za-z0-9._-]+)", "', table, re.M):
    print(name)
