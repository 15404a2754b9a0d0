#!/usr/bin/env python3
"""Compares the solutions of `oent resolve` and `cargo generate-lockfile` on
an instance written by gen_registry.py, and checks each one on its own.

    resolve_compare.py INSTANCE_DIR [--cargo-dir cargo] [--json OUT]

INSTANCE_DIR holds registry/, dist/oent.lock, <cargo-dir>/Cargo.lock and
expect.json. It reports, for the roots and for every module:

- modules only one tool selected, and modules both selected at different
  versions (a difference means the two tools did not solve the same problem,
  or solved it to different, equally valid answers: see the checks below);
- whether each solution is *valid* against the generated index (every root
  and every requirement of every selected version satisfied by the selected
  version, nothing yanked, one version per module): if both are valid, a
  difference is a choice between solutions, not a semantic mismatch;
- how many selected modules are below the newest version that their
  dependents' requirements allow in that same solution (what the solver had
  to give up: evidence of backtracking); and, when expect.json holds a known
  answer (the small instance), whether both tools found it.

Exit status 0 when both solutions are valid (and match the known answer if
there is one), 1 otherwise. Standard library only (tomllib: Python 3.11+).
"""

import argparse
import json
import os
import sys
import tomllib

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_registry import matches  # noqa: E402  (same semver semantics as the generator)

NS = "bench"


def parse_version(s):
    return tuple(int(x) for x in s.split("."))


def read_oent_lock(path):
    """oent.lock is YAML written by hand in a fixed shape (see
    src/manifest/lockfile.rs): `  - name: X` then `    version: "Y"`."""
    out, name = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            s = line.strip()
            if s.startswith("- name:"):
                name = s.split(":", 1)[1].strip()
            elif s.startswith("version:") and name is not None:
                out[name] = s.split(":", 1)[1].strip().strip('"')
                name = None
    return out


def read_cargo_lock(path, root_package):
    with open(path, "rb") as f:
        lock = tomllib.load(f)
    out, dupes = {}, []
    for p in lock.get("package", []):
        if p["name"] == root_package:
            continue
        assert p["name"].startswith(NS + "-"), p["name"]
        name = NS + "/" + p["name"][len(NS) + 1:]
        if name in out:
            dupes.append(name)
        out[name] = p["version"]
    return out, dupes


def read_index(registry):
    graph = {}
    ns_dir = os.path.join(registry, "index", NS)
    for fn in os.listdir(ns_dir):
        with open(os.path.join(ns_dir, fn), encoding="utf-8") as f:
            for raw in f:
                if raw.strip():
                    line = json.loads(raw)
                    graph.setdefault(line["name"], {})[line["version"]] = (
                        line.get("requires", {}),
                        line.get("yanked", False),
                    )
    return graph


def check(solution, roots, graph):
    """Problems of a solution, and the modules held below what their dependents allow."""
    problems = []
    reqs_on = {}
    for name, req in roots.items():
        reqs_on.setdefault(name, []).append(req)
        if name not in solution:
            problems.append("root %s missing" % name)
        elif not matches(req, parse_version(solution[name])):
            problems.append("root %s %s does not match %s" % (name, solution[name], req))
    for name, version in solution.items():
        entry = graph.get(name, {}).get(version)
        if entry is None:
            problems.append("%s %s is not in the index" % (name, version))
            continue
        requires, yanked = entry
        if yanked:
            problems.append("%s %s is yanked" % (name, version))
        for dep, req in requires.items():
            reqs_on.setdefault(dep, []).append(req)
            if dep not in solution:
                problems.append("%s %s needs %s, absent" % (name, version, dep))
            elif not matches(req, parse_version(solution[dep])):
                problems.append("%s %s needs %s %s, got %s" % (name, version, dep, req, solution[dep]))
    held = []
    for name, version in solution.items():
        allowed = [
            v
            for v, (_, y) in graph.get(name, {}).items()
            if not y and all(matches(r, parse_version(v)) for r in reqs_on.get(name, []))
        ]
        best = max(allowed, key=parse_version, default=None)
        if best is not None and parse_version(best) > parse_version(version):
            held.append((name, version, best))
    # Modules nothing in the solution asks for (a solver may not add them).
    unreached = sorted(set(solution) - set(reqs_on))
    for name in unreached:
        problems.append("%s is selected but nothing requires it" % name)
    return problems, held


def write_cargo_lock(path, solution, roots, graph):
    """oent's solution as a Cargo.lock (format 4), for `cargo update --workspace
    --locked --offline` to vet: cargo keeps a locked version only if it
    satisfies every requirement under cargo's own rules, and --locked makes
    it fail instead of changing anything."""
    from gen_registry import fake_sha

    def crate(name):
        return name.replace("/", "-", 1)

    out = ["# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\nversion = 4\n"]

    def package(name, version, source, deps):
        text = '\n[[package]]\nname = "%s"\nversion = "%s"\n' % (name, version)
        if source:
            text += 'source = "registry+https://github.com/rust-lang/crates.io-index"\nchecksum = "%s"\n' % source
        if deps:
            text += "dependencies = [\n%s]\n" % "".join(' "%s",\n' % d for d in sorted(deps))
        return text

    entries = [(NS + "-dist", "1.0.0", None, [crate(r) for r in roots])]
    for name, version in solution.items():
        short = name.split("/", 1)[1]
        deps = [crate(d) for d in graph[name][version][0]]
        entries.append((crate(name), version, fake_sha(NS, short, version), deps))
    for e in sorted(entries):
        out.append(package(*e))
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(out))


def write_oent_lock(path, solution, graph, distribution=NS + "/dist"):
    """cargo's solution as an oent.lock, in the exact text oent writes
    (src/manifest/lockfile.rs), for `oent resolve --locked` to vet: oent keeps
    locked versions that satisfy, and --locked fails if the text would change."""
    from gen_registry import fake_sha

    out = [
        "# This file is @generated by oent: do not edit it by hand.\n"
        "# `oent resolve` writes it; `oent update` moves modules to newer versions.\n"
        "lock: 1\ndistribution: %s\nmodules:\n" % distribution
    ]
    for name in sorted(solution):
        version = solution[name]
        short = name.split("/", 1)[1]
        out.append(
            "  - name: %s\n    version: \"%s\"\n    source: %s\n    sha256: %s\n"
            % (name, version, NS, fake_sha(NS, short, version))
        )
        deps = sorted(d for d in graph[name][version][0] if d in solution)
        if deps:
            out.append("    requires: [%s]\n" % ", ".join(deps))
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(out))


def diff(a, b, names):
    only_a = sorted(n for n in names if n in a and n not in b)
    only_b = sorted(n for n in names if n in b and n not in a)
    differ = sorted(n for n in names if n in a and n in b and a[n] != b[n])
    return only_a, only_b, differ


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("instance")
    p.add_argument("--cargo-dir", default="cargo")
    p.add_argument("--json", help="write the summary here")
    p.add_argument("--write-cargo-lock", metavar="PATH", help="write oent's solution as a Cargo.lock there")
    p.add_argument("--write-oent-lock", metavar="PATH", help="write cargo's solution as an oent.lock there")
    args = p.parse_args()
    inst = args.instance
    with open(os.path.join(inst, "expect.json"), encoding="utf-8") as f:
        expect = json.load(f)
    roots = {NS + "/" + n: r for n, r in expect["roots"].items()}
    oent = read_oent_lock(os.path.join(inst, "dist", "oent.lock"))
    cargo, dupes = read_cargo_lock(os.path.join(inst, args.cargo_dir, "Cargo.lock"), NS + "-dist")
    graph = read_index(os.path.join(inst, "registry"))

    if args.write_cargo_lock:
        write_cargo_lock(args.write_cargo_lock, oent, roots, graph)
    if args.write_oent_lock and not dupes:
        write_oent_lock(args.write_oent_lock, cargo, graph)
    ok = True
    summary = {"oent_modules": len(oent), "cargo_packages": len(cargo), "cargo_duplicates": len(dupes)}
    print("modules selected: oent %d, cargo %d" % (len(oent), len(cargo)))
    if dupes:
        print("cargo selected several versions of %d crates (e.g. %s)" % (len(dupes), ", ".join(dupes[:5])))
    for label, names in (("roots", sorted(roots)), ("all modules", sorted(set(oent) | set(cargo)))):
        only_o, only_c, differ = diff(oent, cargo, names)
        same = len(names) - len(only_o) - len(only_c) - len(differ)
        print("%s: %d/%d same version" % (label, same, len(names)), end="")
        if only_o or only_c or differ:
            print("; only oent %d, only cargo %d, different version %d" % (len(only_o), len(only_c), len(differ)))
            for n in only_o[:10]:
                print("  only oent:  %s %s" % (n, oent[n]))
            for n in only_c[:10]:
                print("  only cargo: %s %s" % (n, cargo[n]))
            for n in differ[:10]:
                print("  %s: oent %s, cargo %s" % (n, oent[n], cargo[n]))
        else:
            print(" (identical)")
        summary[label.replace(" ", "_")] = {
            "same": same,
            "total": len(names),
            "only_oent": only_o,
            "only_cargo": only_c,
            "different": differ,
        }
    for tool, sol in (("oent", oent), ("cargo", cargo)):
        problems, held = check(sol, roots, graph)
        if tool == "cargo" and dupes:
            problems.append("%d crates selected twice" % len(dupes))
        status = "valid" if not problems else "INVALID (%d problems)" % len(problems)
        print("%s solution: %s; %d modules below the newest version their dependents allow" % (tool, status, len(held)))
        for pr in problems[:10]:
            print("  - " + pr)
        for n, v, best in held[:5]:
            print("  held: %s %s (the solution's requirements allow %s)" % (n, v, best))
        summary[tool + "_valid"] = not problems
        summary[tool + "_held_back"] = len(held)
        ok = ok and not problems
    if "answer" in expect:
        answer = {NS + "/" + n: v for n, v in expect["answer"].items()}
        for tool, sol in (("oent", oent), ("cargo", cargo)):
            found = sol == answer
            print("%s found the known answer: %s" % (tool, "yes" if found else "NO: %s" % sol))
            summary[tool + "_known_answer"] = found
            ok = ok and found
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
