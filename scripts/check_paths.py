#!/usr/bin/env python3
"""Fails when a tracked file points outside the repository: a relative path (`../x`) that climbs
above the repository root from the file's folder, or one of the team folder's documents (the
design, toolchain and GPU-plan pages) named where `docs/` holds no copy of it.
Run by scripts/test.sh; prints each offending line as FILE:LINE: TEXT."""
import os
import re
import subprocess
import sys

root = subprocess.check_output(["git", "rev-parse", "--show-toplevel"], text=True).strip()
files = subprocess.check_output(["git", "ls-files", "-z"], cwd=root, text=True).split("\0")
relative = re.compile(r"(?:\.\./)+[\w.\-/]*")
documents = re.compile(r"(?<![\w/.-])(DESIGN|TOOLCHAIN|GPU-PLAN)\.md")
bad = []
for name in files:
    path = os.path.join(root, name)
    if not name or not os.path.isfile(path):
        continue
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (UnicodeDecodeError, OSError):
        continue  # binary files
    here = os.path.dirname(path)
    for number, line in enumerate(lines, 1):
        for m in relative.finditer(line):
            target = os.path.normpath(os.path.join(here, m.group(0)))
            if os.path.relpath(target, root).startswith(".."):
                bad.append(f"{name}:{number}: {line.strip()}")
        for m in documents.finditer(line):
            if not os.path.exists(os.path.join(root, "docs", m.group(0))):
                bad.append(f"{name}:{number}: {line.strip()}")
if bad:
    print("files that point outside the repository:", *bad, sep="\n  ")
    sys.exit(1)
print(f"{len(files) - 1} tracked files checked: none points outside the repository")
