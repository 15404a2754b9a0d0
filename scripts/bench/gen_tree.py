#!/usr/bin/env python3
"""Deterministic input data for the package and fetch benchmarks.

Usage:
  gen_tree.py tree DIR [--files 20000] [--bytes 200000000] [--seed S]
      Fills the module directory DIR (made by `oent new module`) with files
      under DIR/assets/..., so that DIR holds --files files and about --bytes
      bytes in all (the files already in DIR count). For package.sh.
  gen_tree.py modules DIR TEMPLATE_DIR [--modules 200] [--versions 10] [--seed S]
      Writes DIR/m-XXX/1.V.0/ for every (module, version): a copy of
      TEMPLATE_DIR (made by `oent new module bench/m-000`) renamed to
      bench/m-XXX at version 1.V.0, plus a few asset files. For fetch.sh.

The same arguments give the same files, byte for byte, on every run and
machine (one random.Random(seed), no clock, sorted iteration).

Content is a realistic mix for a module's assets:
  - text (js, css, html, json, svg, md, po): code-like lines drawn from a
    generated vocabulary; gzip -6 shrinks it about 3 to 4 times;
  - compressed media (png, jpg, woff2): random bytes, incompressible;
  - other binaries (wasm, pdf, bin): bytes of a skewed distribution,
    gzip shrinks them about 1.2 to 1.4 times.
Sizes follow a log-normal law (median ~3 KB), clipped to [100 B, 1 MiB]
and rescaled so that the total is met: many small files, a few large ones;
large files are more often media or binaries.

Only the standard library is used.
"""

import argparse
import math
import os
import random
import sys

MIN_SIZE = 100
MAX_SIZE = 1 << 20
TEXT_EXT = ["js", "css", "html", "json", "svg", "md", "po", "txt"]
MEDIA_EXT = ["png", "jpg", "woff2"]
BIN_EXT = ["wasm", "pdf", "bin"]
AREAS = ["img", "fonts", "js", "css", "i18n", "docs", "vendor", "data", "icons", "themes"]


def syllable_words(rng, n):
    cons = "bcdfghjklmnprstvz"
    vows = "aeiou"
    words = set()
    while len(words) < n:
        k = rng.randint(1, 4)
        words.add("".join(rng.choice(cons) + rng.choice(vows) for _ in range(k)))
    return sorted(words)


def text_pool(rng, words, size):
    """Code- and prose-like text, `size` bytes."""
    out = []
    total = 0
    # Zipf-like word frequencies, as in real code and prose.
    cum = []
    acc = 0.0
    for rank in range(len(words)):
        acc += 1.0 / (rank + 1) ** 1.1
        cum.append(acc)

    def word():
        return rng.choices(words, cum_weights=cum)[0]

    palette = [rng.getrandbits(24) for _ in range(48)]

    def colour():
        return rng.choice(palette)

    def num(top):
        return int(rng.paretovariate(1.2)) % top

    kinds = [
        lambda: "  const %s = %s(%s, %d);" % (word(), word(), word(), num(10000)),
        lambda: ".%s-%s { margin: %dpx %dpx; color: #%06x; }" % (word(), word(), num(64), num(64), colour()),
        lambda: '  "%s": "%s %s",' % (word(), word(), word()),
        lambda: " ".join(word() for _ in range(rng.randint(4, 14))).capitalize() + ".",
        lambda: '<path d="M%d %dL%d %dZ" fill="#%06x"/>' % (num(512), num(512), num(512), num(512), colour()),
    ]
    while total < size:
        line = rng.choice(kinds)() + "\n"
        out.append(line)
        total += len(line)
    return "".join(out).encode()[:size]


def binary_pool(rng, size):
    """Bytes of a skewed distribution: partly compressible."""
    table = bytes(min(255, int(256 * (i / 256.0) ** 4.0)) for i in range(256))
    return rng.randbytes(size).translate(table)


def pick_slice(rng, pool, n):
    if n <= len(pool):
        start = rng.randrange(0, len(pool) - n + 1)
        return pool[start:start + n]
    reps = n // len(pool) + 1
    return (pool * reps)[:n]


def lognormal_sizes(rng, count, total, median, sigma):
    """`count` sizes in [MIN_SIZE, MAX_SIZE] summing to exactly `total`."""
    if not count * MIN_SIZE <= total <= count * MAX_SIZE:
        sys.exit(f"gen_tree.py: cannot fit {total} bytes in {count} files of {MIN_SIZE}..{MAX_SIZE} bytes")
    raw = [rng.lognormvariate(math.log(median), sigma) for _ in range(count)]
    scale = 1.0
    for _ in range(60):
        sizes = [min(MAX_SIZE, max(MIN_SIZE, int(r * scale))) for r in raw]
        got = sum(sizes)
        if abs(got - total) <= count:
            break
        scale *= total / got
    # Spread the rounding remainder over the largest files, staying in range.
    diff = total - sum(sizes)
    order = sorted(range(count), key=lambda i: (-sizes[i], i))
    for i in order:
        if diff == 0:
            break
        step = min(diff, MAX_SIZE - sizes[i]) if diff > 0 else max(diff, MIN_SIZE - sizes[i])
        sizes[i] += step
        diff -= step
    return sizes


def existing_files(root):
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            path = os.path.join(dirpath, name)
            found.append(path)
    return found


def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def cmd_tree(args):
    rng = random.Random(args.seed)
    root = args.dir
    if not os.path.isfile(os.path.join(root, "module.yaml")):
        sys.exit(f"gen_tree.py: {root} has no module.yaml; run `oent new module NS/NAME --dir {root}` first")
    present = existing_files(root)
    already = sum(os.path.getsize(p) for p in present)
    count = args.files - len(present)
    budget = args.bytes - already
    if count <= 0:
        sys.exit(f"gen_tree.py: {root} already holds {len(present)} files")

    words = syllable_words(rng, 3000)
    tpool = text_pool(rng, words, 8 << 20)
    bpool = binary_pool(rng, 16 << 20)

    # ~25 files a directory, 1 to 3 levels under assets/<area>/.
    dirs = set()
    while len(dirs) < max(1, count // 25):
        depth = rng.randint(1, 3)
        parts = ["assets", rng.choice(AREAS)] + [rng.choice(words) for _ in range(depth)]
        dirs.add("/".join(parts))
    dirs = sorted(dirs)

    sizes = lognormal_sizes(rng, count, budget, args.median, args.sigma)
    stats = {"text": [0, 0], "media": [0, 0], "binary": [0, 0]}
    for i, size in enumerate(sizes):
        # Large files are more often media or binaries.
        big = size > 64 * 1024
        kind = rng.choices(["text", "media", "binary"], weights=[3, 4, 3] if big else [6, 2, 2])[0]
        if kind == "text":
            ext = rng.choice(TEXT_EXT)
            head = f"/* {i:05d} generated by gen_tree.py seed {args.seed} */\n".encode()
            data = (head + pick_slice(rng, tpool, size))[:size]
        elif kind == "media":
            ext = rng.choice(MEDIA_EXT)
            data = rng.randbytes(size)
        else:
            ext = rng.choice(BIN_EXT)
            data = pick_slice(rng, bpool, size)
        stats[kind][0] += 1
        stats[kind][1] += size
        name = f"{rng.choice(words)}-{i:05d}.{ext}"
        path = os.path.join(root, rng.choice(dirs), name)
        # About 1 in 200 files is a script with the executable bit.
        mode = 0o755 if rng.random() < 0.005 else 0o644
        write(path, data, mode)

    total_files = len(present) + count
    total_bytes = already + sum(sizes)
    print(f"tree: {total_files} files, {total_bytes} bytes, {len(dirs)} directories under assets/, "
          f"sizes {min(sizes)}..{max(sizes)} B, median {sorted(sizes)[len(sizes) // 2]} B")
    for kind, (n, b) in stats.items():
        print(f"  {kind:6} {n:6} files {b / 1e6:8.1f} MB")


def cmd_modules(args):
    rng = random.Random(args.seed)
    with open(os.path.join(args.template, "module.yaml"), encoding="utf-8") as f:
        manifest = f.read()
    tname = args.template_name
    tshort = tname.split("/", 1)[1]
    extra = {}
    for dirpath, dirnames, filenames in os.walk(args.template):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, args.template)
            if rel != "module.yaml":
                with open(path, "rb") as f:
                    extra[rel] = f.read()
    words = syllable_words(rng, 2000)
    tpool = text_pool(rng, words, 4 << 20)
    total = 0
    for m in range(args.modules):
        short = f"m-{m:03d}"
        name = f"bench/{short}"
        for v in range(args.versions):
            version = f"1.{v}.0"
            out = os.path.join(args.dir, short, version)
            text = manifest.replace(tname, name).replace(tshort, short)
            text = text.replace("version: 0.1.0", f"version: {version}").replace(":0.1.0", f":{version}")
            write(os.path.join(out, "module.yaml"), text.encode())
            for rel, data in extra.items():
                write(os.path.join(out, rel), data)
            # Payload: log-normal, median ~12 KB, half text, half media.
            payload = int(min(512 * 1024, max(200, rng.lognormvariate(math.log(12000), 1.1))))
            text_part = payload // 2
            write(os.path.join(out, "assets", "app.js"),
                  f"// {name} {version}\n".encode() + pick_slice(rng, tpool, text_part))
            write(os.path.join(out, "assets", "logo.png"), rng.randbytes(payload - text_part))
            total += payload
    print(f"modules: {args.modules} x {args.versions} module directories, {total / 1e6:.1f} MB of assets")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tree")
    t.add_argument("dir")
    t.add_argument("--files", type=int, default=20000)
    t.add_argument("--bytes", type=int, default=200_000_000)
    t.add_argument("--seed", type=int, default=20260101)
    t.add_argument("--median", type=float, default=3000.0, help="median file size before rescaling")
    t.add_argument("--sigma", type=float, default=1.6, help="log-normal sigma of file sizes")
    m = sub.add_parser("modules")
    m.add_argument("dir")
    m.add_argument("template")
    m.add_argument("--template-name", default="bench/m-000")
    m.add_argument("--modules", type=int, default=200)
    m.add_argument("--versions", type=int, default=10)
    m.add_argument("--seed", type=int, default=20260101)
    args = parser.parse_args()
    {"tree": cmd_tree, "modules": cmd_modules}[args.cmd](args)


if __name__ == "__main__":
    main()
