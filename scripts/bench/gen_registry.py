#!/usr/bin/env python3
"""Synthetic resolution problem for `scripts/bench/resolve.sh`, written twice:
as an oent registry + distribution, and as a cargo local registry + project.

    gen_registry.py OUT [--modules 2000] [--versions 30] [--roots 200] [--seed 1]

writes

    OUT/big/registry/         oent registry: registry.yaml, index/bench/m-XXXX.jsonl
    OUT/big/dist/             distribution.yaml (name bench/dist, the roots)
    OUT/big/cargo-registry/   cargo local registry: index/be/nc/bench-m-XXXX
    OUT/big/cargo/            Cargo.toml (same roots), src/lib.rs, .cargo/config.toml
    OUT/big/expect.json       the graph summary (roots, witness solution, stats)
    OUT/backtrack/...         the same four directories for a 6-module instance
                              that needs backtracking, and its known answer

Standard library only; the same arguments give the same bytes.

The graph. Module `bench/m-0001` … `m-NNNN` (crate `bench-m-0001` …) has
`--versions` versions, 0.x/1.x/2.x/… mixes (patch, minor and breaking bumps).
Each version depends on 3-8 lower-numbered modules (acyclic; a third of the
edges go to a "core" of popular low-numbered modules), with cargo
requirements `^a.b`, `~a.b.c`, `>=a.b, <c`, `^a`, `*`, `=a.b.c`, and some
`>=a.b, <a.b.c` upper bounds. About 1 % of versions are yanked.

Solvable by construction, but not greedily: every module has a *witness*
version, and each witness version's requirements contain the witnesses of
its dependencies, so "every module at its witness" is a solution (the root
requirements contain the witnesses too). For ~12 % of the modules the
witness is in an older compatibility class than the newest version
("legacy"), for ~8 % a few releases behind; versions newer than the witness
require the *newest* versions of their dependencies, older ones older
versions. A solver that takes the newest version everywhere therefore hits
conflicts and must backtrack.

Same problem for both tools: crate versions carry `links = "<crate name>"`
in the cargo index, so that cargo, like oent, may select only one version
of each crate (without it cargo would happily build 1.x and 2.x of the same
crate side by side, which is a different, easier problem). The cargo
`--no-links` variant is written too (OUT/big/cargo-nolinks*), for reference.
"""

import argparse
import hashlib
import json
import os
import random
import shutil

NS = "bench"
PUBLISHED_AT = "2026-11-26T10:00:00Z"


# --- versions ---------------------------------------------------------------


def vstr(v):
    return "%d.%d.%d" % v


def compat(v):
    """cargo's semver-compatibility class: the major, or 0.minor below 1.0."""
    return (v[0],) if v[0] > 0 else (0, v[1])


def gen_versions(rng, n):
    v = (0, 1, 0) if rng.random() < 0.35 else (1, 0, 0)
    out = [v]
    for _ in range(n - 1):
        r = rng.random()
        if r < 0.07:  # breaking
            if v[0] == 0 and rng.random() < 0.6:
                v = (0, v[1] + 1, 0)
            else:
                v = (v[0] + 1, 0, 0)
        elif r < 0.35:
            v = (v[0], v[1] + 1, 0)
        else:
            v = (v[0], v[1], v[2] + 1)
        out.append(v)
    return out


# --- requirements -----------------------------------------------------------


def requirement(rng, target, newest):
    """A cargo requirement that `target` satisfies."""
    M, m, p = target
    r = rng.random()
    if r < 0.05 and newest != target and compat(newest) == compat(target):
        # An upper bound below the newest release ("1.4.5 broke us").
        return ">=%d.%d, <%s" % (M, m, vstr(newest))
    if r < 0.55:
        if M > 0:
            return "^%d.%d" % (M, rng.randint(max(0, m - 2), m))
        return "^0.%d" % m
    if r < 0.70:
        return "~%d.%d.%d" % (M, m, rng.randint(0, p))
    if r < 0.85:
        if M > 0:
            return ">=%d.%d, <%d" % (M, m, M + rng.choice((1, 2)))
        return ">=0.%d, <%s" % (m, rng.choice(("1", "0.%d" % (m + 2))))
    if r < 0.95:
        return "^%d" % M if M > 0 else "^0.%d" % m
    if r < 0.99:
        return "*"
    return "=%s" % vstr(target)


def matches(req, v):
    """cargo semver matching for release versions (no pre-releases here)."""
    if req.strip() == "*":
        return True
    for comp in req.split(","):
        comp = comp.strip()
        op = ""
        for cand in (">=", "<=", "^", "~", "=", ">", "<"):
            if comp.startswith(cand):
                op, comp = cand, comp[len(cand):].strip()
                break
        parts = comp.split(".")
        nums = [int(x) for x in parts if x not in ("*", "x", "X")]
        n = len(nums)
        full = tuple(nums + [0] * (3 - n))
        if op in ("", "^"):
            if n == 1:
                hi = (full[0] + 1, 0, 0)
            elif full[0] > 0:
                hi = (full[0] + 1, 0, 0)
            elif n == 2 or full[1] > 0:
                hi = (0, full[1] + 1, 0)
            else:
                hi = (0, 0, full[2] + 1)
            ok = full <= v < hi
        elif op == "~":
            hi = (full[0] + 1, 0, 0) if n == 1 else (full[0], full[1] + 1, 0)
            ok = full <= v < hi
        elif op == "=":
            if n == 3:
                ok = v == full
            elif n == 2:
                ok = v[:2] == full[:2]
            else:
                ok = v[0] == full[0]
        elif op == ">=":
            ok = v >= full
        elif op == ">":
            if n == 3:
                ok = v > full
            elif n == 2:
                ok = v >= (full[0], full[1] + 1, 0)
            else:
                ok = v >= (full[0] + 1, 0, 0)
        elif op == "<":
            ok = v < full
        elif op == "<=":
            if n == 3:
                ok = v <= full
            elif n == 2:
                ok = v < (full[0], full[1] + 1, 0)
            else:
                ok = v < (full[0] + 1, 0, 0)
        else:
            raise ValueError(req)
        if not ok:
            return False
    return True


# --- the big graph ----------------------------------------------------------


def gen_big(args):
    rng = random.Random(args.seed)
    n_mod, n_ver = args.modules, args.versions
    names = ["m-%04d" % i for i in range(1, n_mod + 1)]
    versions, yanked, witness = {}, {}, {}
    for name in names:
        vs = gen_versions(rng, n_ver)
        ys = [rng.random() < 0.01 for _ in vs]
        ok = [j for j in range(len(vs)) if not ys[j]]
        if not ok:
            ys[-1] = False
            ok = [len(vs) - 1]
        newest = ok[-1]
        w = newest
        r = rng.random()
        older_class = [j for j in ok if compat(vs[j]) != compat(vs[newest])]
        if r < 0.12 and older_class:
            w = older_class[-1]  # legacy: an older major (or 0.minor) is the one that works
        elif r < 0.20 and len(ok) > 1:
            w = ok[max(0, len(ok) - 1 - rng.randint(1, 4))]
        versions[name], yanked[name], witness[name] = vs, ys, w

    def newest_ok(name):
        return max(j for j in range(n_ver) if not yanked[name][j])

    core = max(1, n_mod // 40)  # 50 popular modules for 2000
    deps = {}  # name -> list of per-version lists [(dep, req)]
    for i, name in enumerate(names):
        if i == 0:
            deps[name] = [[] for _ in range(n_ver)]
            continue
        k = min(rng.randint(3, 8), i)
        chosen = []
        while len(chosen) < k:
            if rng.random() < 0.35:
                d = rng.randint(0, min(core, i) - 1)
            else:
                d = rng.randint(0, i - 1)
            if d not in chosen:
                chosen.append(d)
        spans = []
        for d in chosen:
            intro = 0 if rng.random() < 0.75 else rng.randint(1, n_ver - 1)
            drop = None if rng.random() < 0.9 else rng.randint(intro + 1, n_ver)
            spans.append((names[d], intro, drop))
        w = witness[name]
        per_version = []
        for j in range(n_ver):
            line = []
            for dep, intro, drop in spans:
                present = intro <= j and (drop is None or j < drop)
                if j == w:
                    present = True  # the witness keeps every edge (no accidental escape)
                if not present:
                    continue
                dv, dw, dn = versions[dep], witness[dep], newest_ok(dep)
                if j == w:
                    t = dw
                elif j > w:
                    t = dn
                else:
                    t = min(dw, round(j * dw / max(w, 1)))
                    while yanked[dep][t] and t < dw:
                        t += 1
                line.append((dep, requirement(rng, dv[t], dv[dn])))
            per_version.append(line)
        deps[name] = per_version

    # Roots: mostly "applications" from the upper half.
    pool_hi = names[n_mod // 2:]
    roots = []
    seen = set()
    while len(roots) < min(args.roots, n_mod):
        name = rng.choice(pool_hi) if rng.random() < 0.8 else rng.choice(names)
        if name in seen:
            continue
        seen.add(name)
        wv = versions[name][witness[name]]
        if rng.random() < 0.5:
            req = "*"
        else:
            req = "^%d" % wv[0] if wv[0] > 0 else "^0.%d" % wv[1]
        roots.append((name, req))
    roots.sort()

    # Check the construction: the witness assignment satisfies everything.
    for name, req in roots:
        assert matches(req, versions[name][witness[name]]), (name, req)
    for name in names:
        w = witness[name]
        assert not yanked[name][w]
        for dep, req in deps[name][w]:
            assert matches(req, versions[dep][witness[dep]]), (name, dep, req)
    closure, stack = set(), [r for r, _ in roots]
    while stack:
        x = stack.pop()
        if x in closure:
            continue
        closure.add(x)
        stack.extend(d for d, _ in deps[x][witness[x]])

    modules = {
        name: [
            {"version": vstr(versions[name][j]), "yanked": yanked[name][j], "deps": deps[name][j]}
            for j in range(n_ver)
        ]
        for name in names
    }
    legacy = sum(1 for n in names if compat(versions[n][witness[n]]) != compat(versions[n][newest_ok(n)]))
    behind = sum(1 for n in names if witness[n] != newest_ok(n))
    edges = [len(d) for n in names for d in deps[n]]
    stats = {
        "modules": n_mod,
        "versions_per_module": n_ver,
        "index_lines": n_mod * n_ver,
        "roots": len(roots),
        "mean_fan_out": round(sum(edges) / len(edges), 2),
        "witness_closure": len(closure),
        "witness_not_newest": behind,
        "witness_in_older_class": legacy,
        "yanked_versions": sum(sum(y) for y in yanked.values()),
        "majors": sorted({versions[n][-1][0] for n in names}),
    }
    expect = {
        "stats": stats,
        "roots": dict(roots),
        "witness": {n: vstr(versions[n][witness[n]]) for n in sorted(closure)},
    }
    return modules, roots, expect


# --- the small backtracking instance ----------------------------------------


def gen_backtrack():
    """Roots bt-app-a "*", bt-app-b "^1", bt-app-c "*".

    app-a 2.0.0 (newest) needs mid ^3, and mid 3.0.0 needs lib ^2; but every
    app-b needs lib < 2. So app-a must go back to 1.1.0 (mid 2.0.0, lib ^1.5).
    app-c 1.2.0 pins util =1.0.0, below mid 3's util ^1.1 (moot once mid 3
    is out, but a solver that settles util early has to undo it)."""
    m = {
        "bt-lib": [("1.0.0", []), ("1.5.0", []), ("2.0.0", []), ("2.1.0", [])],
        "bt-util": [("1.0.0", []), ("1.1.0", [])],
        "bt-mid": [
            ("1.0.0", [("bt-lib", "^1")]),
            ("2.0.0", [("bt-lib", "^1.5")]),
            ("3.0.0", [("bt-lib", "^2"), ("bt-util", "^1.1")]),
        ],
        "bt-app-a": [
            ("1.0.0", [("bt-mid", "^1")]),
            ("1.1.0", [("bt-mid", "^2")]),
            ("2.0.0", [("bt-mid", "^3")]),
        ],
        "bt-app-b": [
            ("1.0.0", [("bt-lib", "^1")]),
            ("1.1.0", [("bt-lib", ">=1.2, <2")]),
        ],
        "bt-app-c": [
            ("1.0.0", [("bt-util", "^1")]),
            ("1.2.0", [("bt-util", "=1.0.0"), ("bt-lib", "^1")]),
        ],
    }
    modules = {
        name: [{"version": v, "yanked": False, "deps": d} for v, d in vs] for name, vs in m.items()
    }
    roots = [("bt-app-a", "*"), ("bt-app-b", "^1"), ("bt-app-c", "*")]
    answer = {
        "bt-app-a": "1.1.0",
        "bt-app-b": "1.1.0",
        "bt-app-c": "1.2.0",
        "bt-mid": "2.0.0",
        "bt-lib": "1.5.0",
        "bt-util": "1.0.0",
    }
    expect = {"roots": dict(roots), "answer": answer, "stats": {"modules": len(m), "roots": len(roots)}}
    return modules, roots, expect


# --- writers ----------------------------------------------------------------


def fake_sha(*parts):
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def write_oent(out, modules, roots):
    reg = os.path.join(out, "registry")
    write(
        os.path.join(reg, "registry.yaml"),
        "# oent registry: see docs/registry.md\nschema: oent/registry/v1\nname: %s\nnamespaces: [%s]\n" % (NS, NS),
    )
    os.makedirs(os.path.join(reg, "archives", NS), exist_ok=True)
    for name, vs in modules.items():
        lines = []
        for v in vs:
            line = {"v": 1, "name": "%s/%s" % (NS, name), "version": v["version"]}
            if v["deps"]:
                line["requires"] = {"%s/%s" % (NS, d): r for d, r in sorted(v["deps"])}
            line.update(
                {
                    "provides": [name],
                    "licence": "CECILL-2.1",
                    "sha256": fake_sha(NS, name, v["version"]),
                    "size": 1000 + len(name) * 7 + len(v["deps"]) * 31,
                    "archive": "archives/%s/%s-%s.tar.gz" % (NS, name, v["version"]),
                    "yanked": v["yanked"],
                    "origin": NS,
                    "published_at": PUBLISHED_AT,
                }
            )
            lines.append(json.dumps(line, separators=(",", ":")) + "\n")
        write(os.path.join(reg, "index", NS, name + ".jsonl"), "".join(lines))
    mods = "".join('  %s/%s: "%s"\n' % (NS, n, r) for n, r in roots)
    write(
        os.path.join(out, "dist", "distribution.yaml"),
        "schema: oent/distribution/v1\n"
        "name: %s/dist\n"
        "version: 1.0.0\n"
        "collectivite: { nom: Bench, type: region }\n"
        "registries:\n"
        "  - { name: %s, path: ../registry }\n"
        "modules:\n%s"
        "settings: { domaine: bench.example.org }\n" % (NS, NS, mods),
    )


def crate(name):
    return "%s-%s" % (NS, name)


def cargo_index_path(crate_name):
    n = crate_name.lower()
    if len(n) <= 2:
        return os.path.join(str(len(n)), n)
    if len(n) == 3:
        return os.path.join("3", n[0], n)
    return os.path.join(n[0:2], n[2:4], n)


def write_cargo(out, modules, roots, links=True, suffix=""):
    reg = os.path.join(out, "cargo-registry" + suffix)
    for name, vs in modules.items():
        lines = []
        for v in vs:
            deps = [
                {
                    "name": crate(d),
                    "req": r,
                    "features": [],
                    "optional": False,
                    "default_features": True,
                    "target": None,
                    "kind": "normal",
                }
                for d, r in sorted(v["deps"])
            ]
            entry = {
                "name": crate(name),
                "vers": v["version"],
                "deps": deps,
                "cksum": fake_sha(NS, name, v["version"]),
                "features": {},
                "yanked": v["yanked"],
            }
            if links:
                entry["links"] = crate(name)
            lines.append(json.dumps(entry, separators=(",", ":")) + "\n")
        write(os.path.join(reg, "index", cargo_index_path(crate(name))), "".join(lines))
    proj = os.path.join(out, "cargo" + suffix)
    deps = "".join('%s = "%s"\n' % (crate(n), r) for n, r in roots)
    write(
        os.path.join(proj, "Cargo.toml"),
        '[package]\nname = "%s-dist"\nversion = "1.0.0"\nedition = "2021"\npublish = false\n\n'
        "[dependencies]\n%s" % (NS, deps),
    )
    write(os.path.join(proj, "src", "lib.rs"), "")
    write(
        os.path.join(proj, ".cargo", "config.toml"),
        '[source.crates-io]\nreplace-with = "bench-local"\n\n'
        '[source.bench-local]\nlocal-registry = "../cargo-registry%s"\n' % suffix,
    )


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("--modules", type=int, default=2000)
    p.add_argument("--versions", type=int, default=30)
    p.add_argument("--roots", type=int, default=200)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-nolinks", action="store_true", help="skip the cargo variant without `links`")
    args = p.parse_args()
    if args.modules < 2 or args.versions < 1:
        p.error("need at least 2 modules and 1 version")
    for which, (modules, roots, expect) in (("big", gen_big(args)), ("backtrack", gen_backtrack())):
        out = os.path.join(args.out, which)
        if os.path.exists(out):
            shutil.rmtree(out)
        write_oent(out, modules, roots)
        write_cargo(out, modules, roots)
        if which == "big" and not args.no_nolinks:
            write_cargo(out, modules, roots, links=False, suffix="-nolinks")
        write(os.path.join(out, "expect.json"), json.dumps(expect, indent=1, sort_keys=True) + "\n")
        print("%s: %s" % (which, json.dumps(expect["stats"])))


if __name__ == "__main__":
    main()
