#!/usr/bin/env python3
"""Render a distribution's module templates with Jinja2, as an integrator's
Python script (or Ansible) would: the Python side of `scripts/bench/render.sh`.

    jinja_render.py DIST MODULES OUT            render every template, like `oent build`'s conf/
    jinja_render.py DIST MODULES --ansible-vars FILE [--limit N]
                                                write the variables of ansible/render.yml

DIST is a directory with distribution.yaml (+ its établissements CSV), MODULES
the tree of module directories (`MODULES/<namespace>/<name>/module.yaml`, the
sources that were published to the registry). Only what the benchmark's
distributions use is supported: no `extends`, no `--set`, no capability keys.

What it does, for each module the distribution names:

- values = the options' defaults < `modules.<name>.config` < the établissement's
  override (`etablissements.overrides`), as docs/render.md says; no type check
  (oent checks every value before writing: the Python side does less);
- the context has the same shape as oent's (docs/formats.md, "The render
  context"): module, config, settings (fuseau_horaire, langue and smtp.port
  filled in), distribution, collectivite, etablissements, modules, and etab
  in the `each: etablissement` templates;
- each template is compiled once (jinja2 Environment with StrictUndefined, so
  that an undefined value is an error as in Tera; keep_trailing_newline, no
  autoescape, trim_blocks and lstrip_blocks off: Tera's whitespace rules), its
  `target` too, then rendered once or once per établissement;
- the files are written like oent writes its bundle: into a staging directory
  beside OUT, which then replaces OUT (the previous OUT is removed). Only the
  module files (`conf/…`) are written: no compose files, no bundle.json (oent
  also hashes every file for bundle.json).

Prints one line: modules, établissements, files written, seconds.
"""

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
import time

import jinja2
import yaml

try:
    Loader = yaml.CSafeLoader
except AttributeError:  # PyYAML without libyaml
    Loader = yaml.SafeLoader


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=Loader)


def read_etablissements(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    return [{k: r[k] for k in ("uai", "nom", "type", "commune", "departement", "secteur")} for r in rows]


def service(m, short):
    s = m.get("service")
    if s is None:
        return None
    out = {"image": s["image"], "port": s["port"], "path": s.get("path", "/" + short)}
    if "health" in s:
        out["health"] = s["health"]
    return out


def module_value(m):
    """`module` as templates see it."""
    name = m["name"]
    ns, short = name.split("/", 1)
    v = {
        "name": name, "namespace": ns, "short_name": short, "slug": name.replace("/", "-"),
        "version": str(m["version"]), "licence": m["licence"], "summary": m["summary"],
        "category": m["category"], "audiences": list(m["audiences"]),
    }
    if "repository" in m:
        v["repository"] = m["repository"]
    s = service(m, short)
    if s is not None:
        v["service"] = s
    return v


def modules_entry(m):
    """An entry of the `modules` map."""
    name = m["name"]
    v = {"name": name, "slug": name.replace("/", "-"), "version": str(m["version"]),
         "category": m["category"], "audiences": list(m["audiences"]), "summary": m["summary"]}
    s = service(m, name.split("/", 1)[1])
    if s is not None:
        v["service"] = s
    return v


def load(dist_dir, modules_dir):
    """Everything the templates need: (shared context, [module record])."""
    dist = load_yaml(os.path.join(dist_dir, "distribution.yaml"))
    if "extends" in dist:
        sys.exit("jinja_render.py: `extends` is not supported")
    etabs_spec = dist.get("etablissements") or []
    if isinstance(etabs_spec, dict):
        etabs = read_etablissements(os.path.join(dist_dir, etabs_spec["file"]))
        overrides = etabs_spec.get("overrides") or {}
    else:  # inline list
        etabs, overrides = [], {}
        for e in etabs_spec:
            etabs.append({k: str(e[k]) for k in ("uai", "nom", "type", "commune", "departement", "secteur")})
            if e.get("config"):
                overrides[e["uai"]] = e["config"]
    settings = {"fuseau_horaire": "Europe/Paris", "langue": "fr"}
    settings.update(dist.get("settings") or {})
    if isinstance(settings.get("smtp"), dict):
        settings["smtp"] = dict(settings["smtp"])
        settings["smtp"].setdefault("port", 587)
    c = dist.get("collectivite") or {}
    collectivite = {"nom": c.get("nom"), "type": c.get("type")}
    if "siren" in c:
        collectivite["siren"] = str(c["siren"])
    distribution = {"name": dist["name"], "version": str(dist["version"]), "target": dist.get("target", "compose")}

    records = []
    for name, request in sorted((dist.get("modules") or {}).items()):
        manifest = load_yaml(os.path.join(modules_dir, name, "module.yaml"))
        config = {k: o["default"] for k, o in (manifest.get("config") or {}).items() if "default" in o}
        if isinstance(request, dict):
            config.update(request.get("config") or {})
        per_etab = {}
        for uai, by_module in overrides.items():
            if name in (by_module or {}):
                per_etab[str(uai)] = {**config, **by_module[name]}
        records.append({
            "name": name, "dir": os.path.join(modules_dir, name), "manifest": manifest,
            "module": module_value(manifest), "config": config, "overrides": per_etab,
        })
    shared = {
        "settings": settings, "distribution": distribution, "collectivite": collectivite,
        "etablissements": etabs,
        "modules": {r["name"]: modules_entry(r["manifest"]) for r in records},
    }
    return shared, records


def environment(directory):
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        trim_blocks=False,
        lstrip_blocks=False,
        auto_reload=False,
    )


def render_all(shared, records):
    """Yields (relative path, text) for every rendered template."""
    etabs = shared["etablissements"]
    for r in records:
        env = environment(r["dir"])
        base = dict(shared, module=r["module"], config=r["config"])
        for spec in r["manifest"].get("templates") or []:
            template = env.get_template(spec["source"])
            target = env.from_string(spec["target"])
            if spec.get("each") == "etablissement":
                for e in etabs:
                    context = dict(base, etab=e, config=r["overrides"].get(e["uai"], r["config"]))
                    yield target.render(context).strip(), template.render(context)
            else:
                yield target.render(base).strip(), template.render(base)


def write_tree(out, files):
    """Writes {relative: text} into a staging directory beside OUT, then swaps it in."""
    out = os.path.abspath(out)
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix="." + os.path.basename(out) + ".jinja-", dir=parent)
    made = set()
    for relative, text in files:
        path = os.path.join(staging, relative)
        d = os.path.dirname(path)
        if d not in made:
            os.makedirs(d, exist_ok=True)
            made.add(d)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
    os.chmod(staging, 0o755)
    if os.path.exists(out):
        old = tempfile.mkdtemp(prefix="." + os.path.basename(out) + ".old-", dir=parent)
        os.rmdir(old)
        os.rename(out, old)
        os.rename(staging, out)
        shutil.rmtree(old)
    else:
        os.rename(staging, out)


def ansible_vars(shared, records, limit):
    """The variables of ansible/render.yml: the shared context, and per module
    its `module`, `config`, per-UAI configs, template source and targets."""
    etabs = shared["etablissements"][:limit]
    mods = []
    for r in records:
        env = environment(r["dir"])
        for spec in r["manifest"].get("templates") or []:
            if spec.get("each") != "etablissement":
                continue
            target = env.from_string(spec["target"])
            base = dict(shared, module=r["module"], config=r["config"])
            mods.append({
                "module": r["module"],
                "config": r["config"],
                "configs": {e["uai"]: r["overrides"][e["uai"]] for e in etabs if e["uai"] in r["overrides"]},
                "source": os.path.abspath(os.path.join(r["dir"], spec["source"])),
                "targets": {e["uai"]: target.render(dict(base, etab=e)).strip() for e in etabs},
            })
    return dict(shared, bench_etabs=etabs, bench_templates=mods,
                bench_dirs=sorted({os.path.dirname(t) for m in mods for t in m["targets"].values()}))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dist")
    p.add_argument("modules")
    p.add_argument("out", nargs="?")
    p.add_argument("--ansible-vars", metavar="FILE")
    p.add_argument("--limit", type=int, default=10, help="établissements for --ansible-vars")
    args = p.parse_args()
    start = time.perf_counter()
    shared, records = load(args.dist, args.modules)
    if args.ansible_vars:
        with open(args.ansible_vars, "w", encoding="utf-8") as f:
            json.dump(ansible_vars(shared, records, args.limit), f, ensure_ascii=False, indent=1)
        return
    if not args.out:
        p.error("OUT is required (or --ansible-vars)")
    files = list(render_all(shared, records))
    write_tree(args.out, files)
    print(f"jinja_render.py: {len(records)} modules, {len(shared['etablissements'])} établissements, "
          f"{len(files)} files in {time.perf_counter() - start:.3f} s (Jinja2 {jinja2.__version__})")


if __name__ == "__main__":
    main()
