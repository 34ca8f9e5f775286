#!/usr/bin/env python3
"""Checks that the node library's imports run one way, as docs/architecture.md draws them.

1. Layers: every `crate::<module>` reference in node/src (tests excepted) goes to a module of
   the same or a lower layer below; same-layer references must not form a cycle.
2. Files: no cycle of references between files (`use super::x`, `crate::a::b`), a module's
   mod.rs owning its children (its declarations and re-exports are not references).
Cargo already refuses cycles between the workspace's crates (radio and contracts below node).
Usage: python3 tests/layers.py   (exit 1 with the offending references)
"""
import collections
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "node", "src")
# Lowest first. The binary's own modules (main.rs, cli, config, …) sit above all of these.
LAYERS = [
    ["primitives"],
    ["genesis", "accounts", "txpool"],
    ["state"],
    ["execution", "consensus"],
    ["chain", "community"],
    ["sealer"],
    ["node"],
    ["meter", "daybook"],
    ["net", "rpc", "dashboard"],
    ["service", "metrics", "disk_watch"],
    ["bench"],
]
RANK = {m: i for i, layer in enumerate(LAYERS) for m in layer}
BINARY = {"main", "cli", "cli_tools", "config", "launch", "meter_config", "meter_sources", "meter_sources_tests", "attach", "limit_args", "commands"}
REF = re.compile(r"\b(crate|super)((?:::[a-z_][a-z0-9_]*)+)")


def rust_files():
    for dirpath, _, names in os.walk(ROOT):
        for name in names:
            if name.endswith(".rs"):
                path = os.path.relpath(os.path.join(dirpath, name), ROOT)
                if "test" not in name and path.split("/")[0].removesuffix(".rs") not in BINARY:
                    yield path


def code_of(path):
    text = open(os.path.join(ROOT, path), encoding="utf-8").read()
    text = re.sub(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{.*", "", text, flags=re.S)
    text = re.sub(r"#\[cfg\(test\)\]\s*mod\s+\w+;", "", text)
    return "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("//"))


def module_dir(path):
    """The folder whose files `super::` names from `path`."""
    d = os.path.dirname(path)
    return os.path.dirname(d) if os.path.basename(path) == "mod.rs" else d


def resolve(base_dir, parts):
    """The file a path of module names under base_dir leads to, as deep as files go."""
    found, d = None, base_dir
    for part in parts:
        for candidate in (os.path.join(d, part + ".rs"), os.path.join(d, part, "mod.rs")):
            if os.path.exists(os.path.join(ROOT, candidate)):
                found, d = candidate, os.path.join(d, part)
                break
        else:
            break
    return found


def main():
    problems, files = [], collections.defaultdict(set)
    top_edges = collections.defaultdict(set)
    for path in rust_files():
        top = path.split("/")[0].removesuffix(".rs")
        for m in REF.finditer(code_of(path)):
            kind, parts = m.group(1), m.group(2).strip(":").split("::")
            base = "" if kind == "crate" else module_dir(path)
            target = resolve(base, parts)
            if kind == "crate" and parts[0] != top and parts[0] in RANK:
                if top in RANK and RANK[parts[0]] > RANK[top]:
                    problems.append(f"{path}: `crate::{parts[0]}` is a layer above `{top}`")
                top_edges[top].add(parts[0])
            if target and target != path:
                owner = os.path.dirname(path) if path.endswith("mod.rs") else None
                if owner and target.startswith(owner + "/"):
                    continue  # a module's mod.rs owns its children
                files[path].add(target)
    problems += [f"module cycle: {' -> '.join(c)}" for c in cycles(top_edges)]
    problems += [f"file cycle: {' -> '.join(c)}" for c in cycles(files)]
    if problems:
        print("\n".join(problems))
        return 1
    n = sum(len(v) for v in files.values())
    print(f"layers: {len(list(rust_files()))} files, {n} file references, one way")
    return 0


def cycles(graph):
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return out


if __name__ == "__main__":
    sys.exit(main())
