#!/usr/bin/env python3
"""MSRV check: the `rust-version` kern declares must be at least the `rust-version` of every
crate it builds with (normal and build dependencies of the workspace crates, all features, as
locked). This machine has one toolchain, so the declared minimum cannot be compiled with; what
kern's own code uses is checked by clippy's `incompatible_msrv` lint (on under `-D warnings`),
which reads the same `rust-version`."""
import json
import subprocess
import sys

meta = json.loads(subprocess.check_output(
    ["cargo", "metadata", "--format-version", "1", "--all-features", "--locked"]))
packages = {p["id"]: p for p in meta["packages"]}
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
members = set(meta["workspace_members"])


def version(text):
    parts = [int(part) for part in (text or "0").split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


seen, todo = set(), list(members)
while todo:
    package = todo.pop()
    if package in seen:
        continue
    seen.add(package)
    for dep in nodes[package]["deps"]:
        if any(kind["kind"] in (None, "build") for kind in dep["dep_kinds"]):
            todo.append(dep["pkg"])

needed, name = max((version(packages[p].get("rust_version")), packages[p]["name"] + " " +
                    packages[p]["version"]) for p in seen - members)
failed = False
for member in sorted(members):
    declared = packages[member].get("rust_version")
    if version(declared) < needed:
        failed = True
        print(f"msrv: {packages[member]['name']} declares rust-version {declared}, "
              f"but {name} needs {'.'.join(map(str, needed))}")
print(f"msrv: {len(seen - members)} dependencies need at most Rust "
      f"{'.'.join(map(str, needed))} ({name}); "
      + ("FAILED" if failed else "every crate of the workspace declares at least that"))
sys.exit(1 if failed else 0)
