#!/usr/bin/env python3
"""Fails when an #include crosses a forbidden edge between Ephemera's folders.

The layers (docs/architecture.md, "Code layout"):

    programs      controller/   debugpod/   cli/        never include one another
    contracts     api/                                  what the programs say to one another
    shared        audit/        envelope/   kube/   redact/   the floors the programs share
    floor         base/                                 includes no other folder

Inside kube/, each library depends only on those listed before it in ALLOWED. Pure folders include
no I/O library and no part of the Kubernetes client but its value types (kube/object). A
third-party I/O library is included only by the folder that adapts it. The controller's application
layer (controller/app) is included only by the controller's main.

Usage: hack/check-layers.py [repository root]. Prints `file:line: from -> to: why` for every
violation and exits 1 if there is one, 0 otherwise. Run by ctest as `layering` (label unit).
"""

import os
import re
import sys

SOURCE_ROOTS = ["base", "kube", "envelope", "audit", "redact", "api", "controller", "debugpod", "cli"]

# Folder (longest prefix wins) -> the folders it may include, besides itself.
ALLOWED = {
    "base": [],
    "kube/object": ["base"],
    "kube/client": ["base", "kube/object"],
    "kube/auth": ["base"],
    "kube/transport": ["base", "kube/object", "kube/client", "kube/auth"],
    "envelope": ["base"],
    "audit": ["base"],
    "redact": ["base"],
    "api": ["base", "kube/object", "redact"],
    "controller": ["base", "kube", "envelope", "audit", "redact", "api"],
    "debugpod": ["base", "envelope", "redact", "api"],
    "cli": ["base", "kube", "envelope", "audit", "api"],
}

# Pure folders: values in, values out. They may not include these folders or libraries.
PURE = ["base", "kube/object", "api", "envelope", "controller/session", "controller/workqueue",
        "debugpod/procfs", "redact"]
PURE_FORBIDDEN_FOLDERS = ["kube/client", "kube/auth", "kube/transport"]

# Third-party libraries that do I/O (or pull in a framework), and the only folders that adapt them.
ADAPTERS = {
    "cpprest/": ["kube/transport"],
    "pplx/": ["kube/transport"],
    "spdlog/": ["controller/logging"],
    # kubectl-ephemera's -o yaml writes with yaml-cpp's emitter in one file.
    "yaml-cpp/": ["kube/auth", "controller/config", "cli/commands/yaml_view.cc"],
    "boost/": ["controller/httpserver"],
}

# Folders only the listed files may include: the controller's application layer is wired by its
# main and by nothing else (it may include every other controller folder).
ONLY_INCLUDED_BY = {
    "controller/app": ["controller/main.cc"],
}

# Known edges that break a rule, each with the reason it stands. Keep this list short; an entry is
# (including folder, included folder).
EXCEPTIONS = {}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def folder_of(path, table):
    """The longest key of `table` that is `path` or a parent folder of it, or None."""
    best = None
    for key in table:
        if path == key or path.startswith(key + "/"):
            if best is None or len(key) > len(best):
                best = key
    return best


def check_file(root, rel, problems):
    source = folder_of(rel, ALLOWED)
    pure = folder_of(rel, {p: None for p in PURE})
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            kind, target = m.groups()
            where = f"{rel}:{number}"
            if kind == "<":
                for library, owners in ADAPTERS.items():
                    if target.startswith(library) and folder_of(rel, {o: None for o in owners}) is None:
                        problems.append(f"{where}: {source} -> <{target}>: only "
                                        f"{', '.join(owners)} may include {library.rstrip('/')}")
                continue
            top = target.split("/")[0]
            if top not in SOURCE_ROOTS:
                continue  # tests/, generated or relative headers
            if any(rel.startswith(a + "/") and target.startswith(b + "/") for a, b in EXCEPTIONS):
                continue
            to = folder_of(target, ALLOWED)
            if to is None:
                problems.append(f"{where}: {source} -> {target}: not in any known folder")
                continue
            owner = folder_of(target, ONLY_INCLUDED_BY)
            if owner is not None and folder_of(rel, {owner: None}) is None \
                    and rel not in ONLY_INCLUDED_BY[owner]:
                problems.append(f"{where}: {source} -> {owner}: only "
                                f"{', '.join(ONLY_INCLUDED_BY[owner])} may include {owner}")
                continue
            same = to == source or (source.split("/")[0] == top and top in ("controller", "debugpod", "cli"))
            if not same:
                allowed = ALLOWED[source]
                if not any(target.startswith(a + "/") for a in allowed):
                    problems.append(f"{where}: {source} -> {to}: {source} may include only "
                                    f"{', '.join(allowed) or 'itself'}")
                    continue
            if pure is not None:
                for folder in PURE_FORBIDDEN_FOLDERS:
                    if target.startswith(folder + "/"):
                        problems.append(f"{where}: {pure} -> {folder}: {pure} is pure and may use "
                                        f"only kube/object of the Kubernetes client")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    root = os.path.abspath(root)
    problems = []
    checked = 0
    for top in SOURCE_ROOTS:
        for directory, _, names in os.walk(os.path.join(root, top)):
            for name in sorted(names):
                if name.endswith((".cc", ".h")):
                    rel = os.path.relpath(os.path.join(directory, name), root)
                    check_file(root, rel, problems)
                    checked += 1
    for problem in sorted(problems):
        print(problem)
    if problems:
        print(f"check-layers: {len(problems)} forbidden include(s) in {checked} files; move the code "
              f"to a floor both sides may use, or see docs/architecture.md (Code layout)",
              file=sys.stderr)
        return 1
    print(f"check-layers: {checked} files, no forbidden include")
    return 0


if __name__ == "__main__":
    sys.exit(main())
