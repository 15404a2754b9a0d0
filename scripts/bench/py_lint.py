#!/usr/bin/env python3
"""The module check a user would script without oent: PyYAML + jsonschema + Jinja2.

Usage: py_lint.py DIR [--schema PATH]

For every module.yaml under DIR (sorted):
  1. yaml.load with CSafeLoader when PyYAML has libyaml, else SafeLoader;
  2. validation against manifests/module.schema.json with one
     Draft202012Validator built once (no format checker, like most scripts);
  3. for each `templates` entry: the source file exists, parses with
     jinja2.Environment().parse (the nearest Python equivalent of Tera), and
     the top-level names of jinja2.meta.find_undeclared_variables, in the
     source and in the `target` string, are in the render context (`etab`
     only for `each: etablissement` entries).

It prints the loader used, how many files were checked and how many problems
were found, and exits 1 if there is any problem (0 if clean), like oent lint.

It is deliberately narrower than `oent lint`: no SPDX identifier check, no
semver/requirement parsing beyond the schema's patterns, no default-within-
bounds or min <= max check, no `features` vs `optional` cross-check, no
duplicate-key detection, no per-attribute check (`config.typo` passes), no
source positions. Its timing is therefore a lower bound for an equivalent
Python check.
"""

import argparse
import json
import os
import sys
import time
from importlib.metadata import version

import jinja2
import jinja2.meta
import jsonschema
import yaml

try:
    from yaml import CSafeLoader as Loader
    LOADER = "CSafeLoader (libyaml)"
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeLoader as Loader
    LOADER = "SafeLoader (pure Python)"

# Top-level names of the render context (docs/formats.md §4).
CONTEXT = {"module", "config", "settings", "distribution", "collectivite",
           "etablissements", "modules"}
EACH_ONLY = {"etab"}

DEFAULT_SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "..", "..", "manifests", "module.schema.json")


def module_files(root):
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        if "module.yaml" in filenames:
            found.append(os.path.join(dirpath, "module.yaml"))
    return sorted(found)


# Seconds spent in each phase (printed with --phases).
PHASES = {"yaml": 0.0, "jsonschema": 0.0, "jinja2": 0.0}


def check_names(env, text, allowed, where, problems):
    t0 = time.perf_counter()
    try:
        ast = env.parse(text)
    except jinja2.TemplateSyntaxError as e:
        problems.append(f"{where}:{e.lineno}: template syntax: {e.message}")
        return
    finally:
        PHASES["jinja2"] += time.perf_counter() - t0
    t0 = time.perf_counter()
    undeclared = jinja2.meta.find_undeclared_variables(ast)
    PHASES["jinja2"] += time.perf_counter() - t0
    for name in sorted(undeclared - allowed):
        problems.append(f"{where}: `{name}` is not part of the render context")


def lint_module(path, validator, env, problems):
    t0 = time.perf_counter()
    try:
        with open(path, "rb") as f:
            doc = yaml.load(f, Loader=Loader)
    except (OSError, yaml.YAMLError) as e:
        problems.append(f"{path}: {e}")
        return
    finally:
        PHASES["yaml"] += time.perf_counter() - t0
    t0 = time.perf_counter()
    errors = list(validator.iter_errors(doc))
    PHASES["jsonschema"] += time.perf_counter() - t0
    for e in errors:
        where = "/".join(str(p) for p in e.absolute_path) or "(root)"
        problems.append(f"{path}: {where}: {e.message}")
    if errors or not isinstance(doc, dict):
        return
    base = os.path.dirname(path)
    for i, entry in enumerate(doc.get("templates") or []):
        allowed = CONTEXT | EACH_ONLY if entry.get("each") == "etablissement" else CONTEXT
        check_names(env, entry["target"], allowed, f"{path}: templates[{i}].target", problems)
        source = os.path.join(base, entry["source"])
        try:
            with open(source, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            problems.append(f"{path}: templates[{i}].source: {e}")
            continue
        check_names(env, text, allowed, source, problems)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--schema", default=DEFAULT_SCHEMA)
    ap.add_argument("--quiet", action="store_true", help="print only the summary")
    ap.add_argument("--phases", action="store_true",
                    help="also print the time spent in YAML, jsonschema and Jinja2")
    args = ap.parse_args(argv)

    with open(args.schema, encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    env = jinja2.Environment()

    files = module_files(args.dir)
    problems = []
    for path in files:
        lint_module(path, validator, env, problems)
    if not args.quiet:
        for p in problems:
            print(p)
    print(f"py_lint [{LOADER}, PyYAML {version('pyyaml')}, jsonschema {version('jsonschema')}, "
          f"Jinja2 {version('jinja2')}]: {len(files)} module.yaml checked, {len(problems)} problems")
    if args.phases:
        print("phases: " + ", ".join(f"{k} {v:.2f} s" for k, v in PHASES.items()))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
