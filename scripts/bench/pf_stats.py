#!/usr/bin/env python3
"""Small helpers for package.sh and fetch.sh over hyperfine-style JSON.

  pf_stats.py get JSON NAME FIELD    print FIELD (median, mean, min, max,
                                     user, system) of the command NAME
  pf_stats.py tsv2json TSV JSON      turn "name<TAB>seconds" lines (the
                                     fallback timer's) into hyperfine JSON
  pf_stats.py lists REG URL OUT      from the index files of the registry
                                     directory REG served at URL, write
                                     OUT/modules.txt (one ns/name a line),
                                     OUT/urls.txt (every archive's URL) and
                                     OUT/curl.cfg (curl -K: url + output
                                     /dev/null pairs); print "archives bytes"
"""

import json
import statistics
import sys


def get(path, name, field):
    for r in json.load(open(path))["results"]:
        if r["command"] == name:
            if field == "median" and "median" not in r:
                return statistics.median(r["times"])
            value = r.get(field)
            return float("nan") if value is None else value
    sys.exit(f"pf_stats.py: no command {name!r} in {path}")


def tsv2json(tsv, out):
    runs = {}
    for line in open(tsv):
        name, seconds = line.rstrip("\n").split("\t")
        runs.setdefault(name, []).append(float(seconds))
    results = []
    for name, times in runs.items():
        results.append({
            "command": name,
            "mean": statistics.mean(times),
            "median": statistics.median(times),
            "min": min(times),
            "max": max(times),
            # Not measured by the fallback timer.
            "user": None,
            "system": None,
            "times": times,
        })
    json.dump({"results": results}, open(out, "w"), indent=1)


def lists(reg, url, out):
    import glob
    import os
    modules, urls, total = [], [], 0
    for path in sorted(glob.glob(os.path.join(reg, "index", "*", "*.jsonl"))):
        for line in open(path, encoding="utf-8"):
            if not line.strip():
                continue
            entry = json.loads(line)
            if entry["name"] not in modules:
                modules.append(entry["name"])
            urls.append(f"{url.rstrip('/')}/{entry['archive']}")
            total += entry["size"]
    with open(os.path.join(out, "modules.txt"), "w") as f:
        f.writelines(m + "\n" for m in modules)
    with open(os.path.join(out, "urls.txt"), "w") as f:
        f.writelines(u + "\n" for u in urls)
    with open(os.path.join(out, "curl.cfg"), "w") as f:
        f.writelines(f'url = "{u}"\noutput = "/dev/null"\n' for u in urls)
    print(len(urls), total)


def main():
    cmd = sys.argv[1]
    if cmd == "get":
        value = get(*sys.argv[2:5])
        print(f"{value:.6f}")
    elif cmd == "lists":
        lists(*sys.argv[2:5])
    elif cmd == "tsv2json":
        tsv2json(*sys.argv[2:4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
