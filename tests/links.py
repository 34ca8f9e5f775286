#!/usr/bin/env python3
"""Checks every relative link of the project's Markdown files: the file it names exists and, for
a `#fragment`, a heading of that file makes it (GitHub's slug rules). External links are not
fetched (the machines reach no web). Usage: python3 tests/links.py   (exit 1 listing dead links)
"""
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
SKIP = {"node_modules", "target", ".git", ".venv", "fuzz"}
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def markdown_files():
    for dirpath, dirnames, names in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if d not in SKIP]
        for name in names:
            if name.endswith(".md"):
                yield os.path.join(dirpath, name)


def slugs(path):
    out, in_code = set(), False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            in_code = not in_code
        if not in_code and line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            out.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return out


def main():
    dead, count = [], 0
    for path in markdown_files():
        text = open(path, encoding="utf-8").read()
        text = re.sub(r"```.*?```", "", text, flags=re.S)
        for target in LINK.findall(text):
            if re.match(r"^[a-z]+:", target):
                continue
            count += 1
            file, _, fragment = target.partition("#")
            resolved = os.path.normpath(os.path.join(os.path.dirname(path), file)) if file else path
            where = os.path.relpath(path, ROOT)
            if not os.path.exists(resolved):
                dead.append(f"{where}: {target} (no such file)")
            elif fragment and resolved.endswith(".md") and fragment not in slugs(resolved):
                dead.append(f"{where}: {target} (no such heading)")
    if dead:
        print("\n".join(dead))
        return 1
    print(f"links: {count} relative links, all alive")
    return 0


if __name__ == "__main__":
    sys.exit(main())
