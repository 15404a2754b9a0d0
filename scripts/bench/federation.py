#!/usr/bin/env python3
"""A federation of N forges on loopback, one `oent forge serve` each (run by
federation.sh, which builds the binary and bounds the whole run in time).

    federation.py --oent BIN --work DIR [--forges 100] [--interval 2]
                  [--sizes 100,1000,10000] [--window 10] [--catchup 20]

The graph (a ring with a chord): forge i owns namespace f<i> and has two
peers, forge i-1, trusted with f<i-1> (its own) and f<i-2> (which i-1
mirrors from its owner: relayed), and forge i-5, trusted with f<i-5>. So
each namespace is mirrored by three forges: i+1 and i+5 from its owner
(one round), i+2 through the relay i+1 (two rounds).

Measured, every figure counted from the forges' own access logs
(`OENT_LOG=oent::access=debug`: one line per request with its status and
body bytes) and sync logs (one outcome per peer per round):
  - idle rounds with a catalogue of each --sizes modules (spread evenly over
    the forges): requests and body bytes per round, all forges and per forge;
    and the same files kept by a `curl -z` mirror loop (If-Modified-Since,
    one curl process per forge, every file of every trusted namespace),
    served by nginx over the same registry directories, counted from
    nginx's access log;
  - propagation: one publish at forge 0, time until every forge that mirrors
    f0 has it (max), in rounds of --interval;
  - catch-up: forge 1 stopped, --catchup publishes at forge 0, forge 1
    restarted: time until it and the forge it relays to are in step;
  - forge 0 restored from a backup (its snapshot rolled back), then made to
    sign the number its peers accepted with other contents (forked): how many
    of the forges that mirror it refuse it.

Standard library only. Every wait has a deadline; every process started is
stopped on exit (SIGTERM, then SIGKILL).
"""

import argparse
import atexit
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

CHILDREN = []


def stop_all():
    for p in CHILDREN:
        if p.poll() is None:
            p.terminate()
    deadline = time.time() + 10
    for p in CHILDREN:
        try:
            p.wait(max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


atexit.register(stop_all)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
signal.signal(signal.SIGINT, lambda *_: sys.exit(130))


def say(*a):
    print(*a, flush=True)


def run(*cmd, cwd=None):
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def wait_for(what, check, timeout, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = check()
        if got:
            return got
        time.sleep(step)
    sys.exit(f"timed out after {timeout} s waiting for {what}")


def free_ports(n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


ACCESS = re.compile(
    r"oent::access: request method=(\S+) path=\"([^\"]*)\" conditional=(\w+) status=(\d+)(?: bytes=(\d+))?"
)


class Forge:
    def __init__(self, fed, i):
        self.fed, self.i = fed, i
        self.name = f"f{i:03d}"
        self.dir = os.path.join(fed.work, self.name)
        self.registry = os.path.join(self.dir, "registry")
        self.port = fed.ports[i]
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = f"oent_bench_{self.name}"
        self.proc = None

    @property
    def log(self):
        return os.path.join(self.dir, "forge.log")

    def peers(self):
        n, i = self.fed.n, self.i
        return [((i - 1) % n, [(i - 1) % n, (i - 2) % n]), ((i - 5) % n, [(i - 5) % n])]

    def setup(self):
        os.makedirs(self.dir)
        run(self.fed.oent, "key", "new", os.path.join(self.dir, "key"))
        run(self.fed.oent, "registry", "init", self.registry, "--name", self.name, "--namespace", self.name)

    def write_config(self):
        fed = self.fed
        lines = [
            "schema: oent/forge/v1",
            "registry: registry",
            f'listen: "127.0.0.1:{self.port}"',
            "signing-key: key",
            f"sync-interval-seconds: {fed.interval}",
            "tokens:",
            f'  - {{ name: bench, sha256: "{hashlib.sha256(self.token.encode()).hexdigest()}", namespaces: [{self.name}] }}',
            "peers:",
        ]
        for p, namespaces in self.peers():
            peer = fed.forges[p]
            key = open(os.path.join(peer.dir, "key.pub")).read().strip()
            ns = ", ".join(fed.forges[x].name for x in namespaces)
            lines.append(f'  - {{ name: {peer.name}, url: "{peer.url}", keys: ["{key}"], namespaces: [{ns}] }}')
        with open(os.path.join(self.dir, "forge.yaml"), "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        env = dict(os.environ, OENT_LOG="info,oent::access=debug,oent::forge::sync=debug")
        env.pop("OENT_TOKEN", None)
        log = open(self.log, "a")
        self.proc = subprocess.Popen(
            [self.fed.oent, "forge", "serve", "--config", "forge.yaml"],
            cwd=self.dir, env=env, stdout=subprocess.PIPE, stderr=log, text=True,
        )
        CHILDREN.append(self.proc)

    def wait_started(self):
        line = self.proc.stdout.readline()
        if not line.startswith("oent forge: serving"):
            sys.exit(f"{self.name} did not start: {line!r}\n{open(self.log).read()[-2000:]}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def rss_kib(self):
        try:
            for line in open(f"/proc/{self.proc.pid}/status"):
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def log_size(self):
        return os.path.getsize(self.log) if os.path.exists(self.log) else 0

    def log_since(self, offset):
        with open(self.log, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")

    def snapshot_version(self, path="snapshot.json"):
        with open(os.path.join(self.registry, path)) as f:
            return json.load(f)["signed"]["version"]

    def index(self, ns):
        d = os.path.join(self.registry, "index", ns)
        if not os.path.isdir(d):
            return {}
        out = {}
        for name in os.listdir(d):
            if name.endswith(".jsonl"):
                with open(os.path.join(d, name), "rb") as f:
                    out[name] = f.read()
        return out


def write_module(root, ns, name, version):
    d = os.path.join(root, f"{name}-{version}")
    os.makedirs(os.path.join(d, "templates"))
    with open(os.path.join(d, "module.yaml"), "w") as f:
        f.write(
            f"schema: oent/module/v1\nname: {ns}/{name}\nversion: {version}\nlicence: CECILL-2.1\n"
            f'summary: "{name}"\ncategory: pedagogie\naudiences: [eleve]\n'
            f"repository: https://forge.example.org/{ns}/{name}.git\nrequires: {{}}\n"
            "templates:\n  - source: templates/app.conf\n    target: \"conf/{{ module.slug }}/app.conf\"\n"
        )
    with open(os.path.join(d, "templates", "app.conf"), "w") as f:
        f.write(f"# {ns}/{name} {version}\nname = {{{{ module.name }}}}\n")


class Federation:
    def __init__(self, args):
        self.oent, self.work, self.n, self.interval = args.oent, args.work, args.forges, args.interval
        if self.n < 6:
            sys.exit("--forges must be at least 6 (peers i-1 and i-5)")
        self.ports = free_ports(self.n)
        self.forges = [Forge(self, i) for i in range(self.n)]
        self.modules = 0
        self.pool = ThreadPoolExecutor(max(2, os.cpu_count() or 2))

    def mirrors_of(self, owner):
        """(forge, rounds) for every forge that mirrors namespace f<owner>."""
        out = []
        for f in self.forges:
            for p, namespaces in f.peers():
                if owner in namespaces:
                    out.append((f.i, 1 if p == owner else 2))
        return out

    def start_all(self):
        for f in self.forges:
            f.start()
        for f in self.forges:
            f.wait_started()

    def stop_all(self):
        list(self.pool.map(Forge.stop, self.forges))

    def in_step(self):
        """Whether every mirror holds exactly its owners' index files."""
        own = {f.i: f.index(f.name) for f in self.forges}
        for f in self.forges:
            for _, namespaces in f.peers():
                for ns in namespaces:
                    if f.index(self.forges[ns].name) != own[ns]:
                        return False
        return True

    def wait_in_step(self, timeout):
        """Seconds until every mirror holds its owners' index files, and
        then until a span of two intervals passes where no forge served a
        200 or mirrored anything (the signings after the last syncs done)."""
        t0 = time.time()
        wait_for("every forge in step", self.in_step, timeout, step=0.5)
        in_step = time.time() - t0

        def quiet():
            offsets = [f.log_size() for f in self.forges]
            time.sleep(2 * self.interval)
            for f, off in zip(self.forges, offsets):
                text = f.log_since(off)
                if "peer synced" in text or any(m.group(4) != "304" for m in ACCESS.finditer(text)):
                    return False
            return True

        wait_for("two quiet intervals", quiet, timeout, step=0)
        return in_step, time.time() - t0

    def grow(self, size):
        per = size // self.n
        if per <= self.modules:
            return
        say(f"catalogue: {self.modules * self.n} -> {per * self.n} modules ({per} per forge), forges stopped meanwhile")
        self.stop_all()

        def build(f):
            src = os.path.join(self.work, "src", f.name, str(per))
            for m in range(self.modules, per):
                write_module(src, f.name, f"m-{m:03d}", "1.0.0")
            run(self.oent, "registry", "build", src, "--to", f.registry, "--sign", os.path.join(f.dir, "key"))

        list(self.pool.map(build, self.forges))
        self.modules = per
        self.start_all()

    def idle_round(self, window):
        """Requests and bytes the forges serve per idle round, over `window` seconds."""
        offsets = [f.log_size() for f in self.forges]
        time.sleep(window)
        requests = conditional = not_modified = body = outcomes = unchanged = 0
        for f, off in zip(self.forges, offsets):
            text = f.log_since(off)
            for m in ACCESS.finditer(text):
                requests += 1
                conditional += m.group(3) == "true"
                not_modified += m.group(4) == "304"
                body += int(m.group(5) or 0)
            unchanged += text.count("peer unchanged (304)")
            outcomes += text.count("peer unchanged (304)") + text.count("peer synced") + text.count("peer refused")
        peers = sum(len(f.peers()) for f in self.forges)
        rounds = outcomes / peers
        return {
            "rounds": rounds,
            "requests": requests / rounds,
            "bytes": body / rounds,
            "conditional": conditional,
            "not_modified": not_modified,
            "all_requests": requests,
            "unchanged": unchanged,
            "outcomes": outcomes,
        }

    def before_bytes(self):
        """What the idle round of the previous oent moved: each peer's whole
        snapshot.json and registry.yaml (file sizes, for comparison)."""
        total = 0
        for f in self.forges:
            for p, _ in f.peers():
                r = self.forges[p].registry
                total += os.path.getsize(os.path.join(r, "snapshot.json"))
                total += os.path.getsize(os.path.join(r, "registry.yaml"))
        return total

    def publish(self, forge, versions, name="m-000"):
        src = os.path.join(self.work, "pub", f"{forge.name}-{name}-{versions[0]}")
        for v in versions:
            write_module(src, forge.name, name, v)
        env = dict(os.environ, OENT_TOKEN=forge.token)
        out = subprocess.run([self.oent, "publish", src, "--to", forge.url], env=env, capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"publish at {forge.name} failed:\n{out.stdout}\n{out.stderr}")


def curl_loop(fed, nginx_port, out_dir):
    """One curl -K config per forge: every file a mirror of its trusted
    namespaces would keep (each peer's snapshot.json, registry.yaml, relayed
    snapshots and every index file of those namespaces), conditional on the
    local copy's time (-z, with -R keeping the server's)."""
    configs = []
    for f in fed.forges:
        lines = []
        for p, namespaces in f.peers():
            peer = fed.forges[p]
            files = ["snapshot.json", "registry.yaml"]
            for ns in namespaces:
                nsname = fed.forges[ns].name
                if ns != p:
                    files.append(f"mirrors/{nsname}/snapshot.json")
                files += [f"index/{nsname}/{x}" for x in sorted(peer.index(nsname))]
            for rel in files:
                local = os.path.join(out_dir, f.name, peer.name, rel)
                lines += [
                    f'url = "http://127.0.0.1:{nginx_port}/{peer.name}/registry/{rel}"',
                    f'output = "{local}"',
                    f'time-cond = "{local}"',
                    "remote-time", "create-dirs", "silent", "next",
                ]
        path = os.path.join(out_dir, f"{f.name}.cfg")
        os.makedirs(out_dir, exist_ok=True)
        with open(path, "w") as c:
            c.write("\n".join(lines) + "\n")
        configs.append(path)
    return configs


def nginx_round(fed, configs, ng_dir):
    """Runs every forge's curl config once; (requests, body bytes, all bytes) from nginx's log."""
    log = os.path.join(ng_dir, "access.log")
    open(log, "w").close()
    list(fed.pool.map(lambda c: subprocess.run(["curl", "-K", c], capture_output=True), configs))
    time.sleep(0.5)
    n = body = total = 0
    statuses = {}
    for line in open(log):
        status, b, t = line.split()
        n += 1
        body += int(b)
        total += int(t)
        statuses[status] = statuses.get(status, 0) + 1
    return n, body, total, statuses


def start_nginx(fed):
    ng = os.path.join(fed.work, "nginx")
    os.makedirs(ng, exist_ok=True)
    port = free_ports(1)[0]
    with open(os.path.join(ng, "nginx.conf"), "w") as c:
        c.write(f"""worker_processes 1;
pid {ng}/nginx.pid;
error_log {ng}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format counts '$status $body_bytes_sent $bytes_sent';
    access_log {ng}/access.log counts;
    etag on;
    client_body_temp_path {ng}/body;
    proxy_temp_path {ng}/proxy;
    fastcgi_temp_path {ng}/fastcgi;
    uwsgi_temp_path {ng}/uwsgi;
    scgi_temp_path {ng}/scgi;
    server {{ listen 127.0.0.1:{port}; root {fed.work}; }}
}}
""")
    p = subprocess.Popen(["nginx", "-p", ng, "-c", os.path.join(ng, "nginx.conf"), "-e", os.path.join(ng, "error.log"),
                          "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    CHILDREN.append(p)

    def up():
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/f000/registry/registry.yaml", timeout=1).read()
            return True
        except OSError:
            return False

    wait_for("nginx", up, 10, step=0.1)
    return port, ng


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--oent", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--forges", type=int, default=100)
    ap.add_argument("--interval", type=int, default=2)
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--window", type=float, default=10)
    ap.add_argument("--catchup", type=int, default=20)
    ap.add_argument("--converge-timeout", type=float, default=600)
    args = ap.parse_args()
    fed = Federation(args)
    say(f"{fed.n} forges, sync every {fed.interval} s; peers of forge i: i-1 (f<i-1>, f<i-2> relayed), i-5 (f<i-5>)")
    list(fed.pool.map(Forge.setup, fed.forges))
    for f in fed.forges:
        f.write_config()
    fed.start_all()
    ng_port, ng_dir = start_nginx(fed)
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        fed.grow(size)
        took = fed.wait_in_step(args.converge_timeout)
        rss = sum(f.rss_kib() for f in fed.forges)
        idle = fed.idle_round(args.window)
        configs = curl_loop(fed, ng_port, os.path.join(fed.work, "curl", str(size)))
        nginx_round(fed, configs, ng_dir)  # first copy
        c_req, c_body, c_all, c_status = nginx_round(fed, configs, ng_dir)
        snap = os.path.getsize(os.path.join(fed.forges[0].registry, "snapshot.json"))
        row = dict(size=fed.modules * fed.n, converge=took[0], quiet=took[1], rss_mib=rss / 1024, idle=idle, before=fed.before_bytes(),
                   curl=(c_req, c_body, c_all, c_status), snapshot=snap)
        rows.append(row)
        say(f"  {row['size']} modules: in step after {took[0]:.1f} s, quiet after {took[1]:.1f} s; RSS of all forges {rss / 1024:.0f} MiB; "
            f"idle: {idle['rounds']:.1f} rounds in {args.window} s, {idle['requests']:.1f} requests and "
            f"{idle['bytes']:.0f} body bytes per round ({idle['conditional']}/{idle['all_requests']} conditional, "
            f"{idle['not_modified']} answered 304); curl -z loop: {c_req} requests, {c_body} body bytes "
            f"({c_all} with headers), statuses {c_status}; snapshot.json of a forge {snap} bytes")

    # Propagation: one publish at forge 0.
    backup = os.path.join(fed.work, "f000-backup")
    shutil.copytree(fed.forges[0].registry, backup, symlinks=True)
    f0 = fed.forges[0]
    targets = fed.mirrors_of(0)
    fed.publish(f0, ["1.1.0"])
    t0 = time.time()
    reached = {}

    def has(version, forge):
        return f'"version":"{version}"'.encode() in fed.forges[forge].index(f0.name).get("m-000.jsonl", b"")

    def all_reached():
        for i, _ in targets:
            if i not in reached and has("1.1.0", i):
                reached[i] = time.time() - t0
        return len(reached) == len(targets)

    wait_for("the publish to reach every mirror", all_reached, 60 * fed.interval, step=0.02)
    prop = max(reached.values())
    say(f"propagation: {len(targets)} mirrors of f000 {sorted(targets)} (forge, configured rounds); "
        f"times {', '.join(f'{fed.forges[i].name} {t:.2f} s' for i, t in sorted(reached.items()))}")

    # Catch-up: forge 1 down while forge 0 publishes.
    f1 = fed.forges[1]
    f1.stop()
    versions = [f"1.2.{k}" for k in range(args.catchup)]
    fed.publish(f0, versions)
    f1.start()
    f1.wait_started()
    t0 = time.time()
    behind = [1] + [i for i, _ in fed.mirrors_of(0) if i != 1 and fed.forges[i].peers()[0][0] == 1]
    wait_for("forge 1 to catch up", lambda: all(
        fed.forges[i].index(f0.name) == f0.index(f0.name) for i in behind), 60 * fed.interval, step=0.02)
    catchup = time.time() - t0
    say(f"catch-up: {f1.name} restarted after {args.catchup} publishes at f000: it and {len(behind) - 1} forge(s) "
        f"relayed through it in step after {catchup:.2f} s")
    wait_for("every forge in step", fed.in_step, 60 * fed.interval, step=0.5)

    # Rollback, then fork, at forge 0.
    accepted = fed.forges[1].snapshot_version(f"mirrors/{f0.name}/snapshot.json")
    direct = [i for i, rounds in fed.mirrors_of(0) if rounds == 1]
    f0.stop()
    shutil.rmtree(f0.registry)
    shutil.copytree(backup, f0.registry, symlinks=True)
    offsets = {i: fed.forges[i].log_size() for i in direct}
    f0.start()
    f0.wait_started()
    restored = f0.snapshot_version()

    def refusals(i, word, offset):
        return sum(1 for line in fed.forges[i].log_since(offset).splitlines()
                   if "peer refused" in line and f0.name in line and word in line)

    def refused(word):
        return lambda: all(refusals(i, word, offsets[i]) for i in direct)

    wait_for("the rolled-back snapshot to be refused", refused("rollback"), 10 * fed.interval, step=0.1)
    rolled = sum(1 for i in direct if refusals(i, "rollback", offsets[i]))
    say(f"rollback: f000 restored to snapshot v{restored} (its mirrors accepted v{accepted}): refused by {rolled}/{len(direct)} direct mirrors")
    k = 0
    while f0.snapshot_version() < accepted:
        fed.publish(f0, [f"9.{k}.0"], name="m-fork")
        k += 1
    forked_at = f0.snapshot_version()
    forked = 0
    if forked_at == accepted:
        offsets = {i: fed.forges[i].log_size() for i in direct}
        wait_for("the forked snapshot to be refused", refused("forked"), 10 * fed.interval, step=0.1)
        forked = sum(1 for i in direct if refusals(i, "forked", offsets[i]))
        say(f"fork: f000 signed v{forked_at} again with other contents ({k} publishes): refused by {forked}/{len(direct)} direct mirrors")
    else:
        say(f"fork: f000 reached v{forked_at}, past v{accepted}: fork not staged")
    untouched = all("m-fork.jsonl" not in fed.forges[i].index(f0.name) for i, _ in fed.mirrors_of(0))
    say(f"no mirror took the forked module: {untouched}")

    result = {"forges": fed.n, "interval": fed.interval, "rows": rows, "propagation": prop,
              "propagation_each": {fed.forges[i].name: round(t, 3) for i, t in reached.items()},
              "mirrors": targets, "catchup": catchup, "catchup_publishes": args.catchup,
              "rollback_refused": [rolled, len(direct)], "fork_refused": [forked, len(direct)],
              "untouched": untouched}
    with open(os.path.join(fed.work, "result.json"), "w") as f:
        json.dump(result, f)
    table(result)


def table(r):
    n = r["forges"]
    say("")
    say("| modules | idle round, all forges: requests / body bytes | per forge | 304s | before (2 GETs per peer, bytes) | `curl -z` loop: requests / body bytes / with headers | forges in step after |")
    say("|---|---|---|---|---|---|---|")
    for row in r["rows"]:
        i, (cr, cb, ca, _) = row["idle"], row["curl"]
        say(f"| {row['size']:,} | {i['requests']:.0f} / {i['bytes']:.0f} | {i['requests'] / n:.2f} / {i['bytes'] / n:.0f} | "
            f"{i['not_modified']}/{i['all_requests']} | {row['before']:,} | {cr:,} / {cb:,} / {ca:,} | {row['converge']:.0f} s |")
    say("")
    worst = max(r["propagation_each"].values())
    say(f"propagation: one publish at f000 reached its {len(r['mirrors'])} mirrors in {worst:.2f} s at most "
        f"({worst / r['interval']:.1f} intervals of {r['interval']} s; configured: 1 round direct, 2 through a relay)")
    say(f"catch-up: {r['catchup_publishes']} publishes while f001 was down, in step {r['catchup']:.2f} s after its restart")
    say(f"rolled-back snapshot refused by {r['rollback_refused'][0]}/{r['rollback_refused'][1]} of its direct mirrors; "
        f"forked snapshot refused by {r['fork_refused'][0]}/{r['fork_refused'][1]}; no mirror took the forked module: {r['untouched']}")


if __name__ == "__main__":
    main()
