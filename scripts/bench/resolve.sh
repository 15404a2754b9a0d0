#!/usr/bin/env bash
# Benchmark (issue 5): `oent resolve` against cargo's resolver
# (`cargo generate-lockfile --offline` over a local registry) on the same
# synthetic graph, written by gen_registry.py: 2,000 modules x 30 versions,
# 200 roots, conflicts that force backtracking; then a 6-module instance
# whose answer is known and needs backtracking. A benchmark, not a test: it
# fails only if a step breaks or a solution is invalid, never on a time.
#
# Usage: scripts/bench/resolve.sh
# Environment (all optional):
#   MODULES=2000 VERSIONS=30 ROOTS=200 SEED=1   the generated graph
#   RUNS=10 WARMUP=3               timed runs of each command (after warm-up runs)
#   RUNS_CARGO=$RUNS WARMUP_CARGO=1
#   NOLINKS=1                      also time cargo without `links` (a different,
#                                  easier problem: cargo may then pick 2 versions)
#   OENT_BIN=PATH                  time this oent instead of building target/release/oent
#   CARGO_BIN=PATH                 the cargo to time (default: `rustup which cargo`,
#                                  i.e. the real binary, not the rustup proxy)
#   KEEP=1                         keep the generated files (the path is printed)
#   BENCH_TMP=DIR                  where the instances are written (default /dev/shm when
#                                  writable: 10,000 x 50 is ~600 MB of small files, which
#                                  some disks write very slowly; else $TMPDIR or /tmp)
#   REUSE=DIR                      use the instances already generated in DIR (by KEEP=1 with
#                                  the same MODULES/VERSIONS/ROOTS/SEED) instead of writing them
#   NO_HYPERFINE=1                 time with a `date +%s.%N` loop even if hyperfine exists
#   PROFILE=1                      then profile oent on the big instance: `perf stat` (5 runs)
#                                  and `valgrind --tool=callgrind` (inclusive costs, top lines)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH="$ROOT/scripts/bench"
MODULES=${MODULES:-2000}
VERSIONS=${VERSIONS:-30}
ROOTS=${ROOTS:-200}
SEED=${SEED:-1}
RUNS=${RUNS:-10}
WARMUP=${WARMUP:-3}
RUNS_CARGO=${RUNS_CARGO:-$RUNS}
WARMUP_CARGO=${WARMUP_CARGO:-1}
NOLINKS=${NOLINKS:-1}
TARGET_MS=200

step() { printf '\n== %s\n' "$*"; }
die() { printf 'resolve.sh: %s\n' "$*" >&2; exit 1; }

command -v python3 >/dev/null || die "python3 is needed"
python3 -c 'import tomllib' 2>/dev/null || die "python3 >= 3.11 is needed (tomllib)"

# --- 1. binaries --------------------------------------------------------------
if [[ -n "${OENT_BIN:-}" ]]; then
    step "using OENT_BIN=$OENT_BIN (no build)"
    OENT=$OENT_BIN
else
    step "cargo build --release"
    (cd "$ROOT" && cargo build --release --quiet)
    OENT="$ROOT/target/release/oent"
fi
[[ -x "$OENT" ]] || die "no oent binary at $OENT"
OENT=$(realpath "$OENT") # the timed commands run in other directories
if [[ -z "${CARGO_BIN:-}" ]]; then
    CARGO_BIN=$(rustup which cargo 2>/dev/null || command -v cargo)
fi
[[ -x "$CARGO_BIN" ]] || die "no cargo binary at $CARGO_BIN"
"$OENT" --version 2>/dev/null || true
"$CARGO_BIN" --version

HYPERFINE=""
if [[ "${NO_HYPERFINE:-0}" != 1 ]] && command -v hyperfine >/dev/null; then
    HYPERFINE=$(command -v hyperfine)
    "$HYPERFINE" --version
else
    echo "timing with a date +%s.%N loop (install hyperfine for better numbers: apt-get install -y hyperfine)"
fi

# --- 2. the instances ---------------------------------------------------------
if [[ -z "${BENCH_TMP:-}" ]]; then
    BENCH_TMP=${TMPDIR:-/tmp}
    [[ -d /dev/shm && -w /dev/shm ]] && BENCH_TMP=/dev/shm
fi
if [[ -n "${REUSE:-}" ]]; then
    WORK=$(realpath "$REUSE")
    [[ -f "$WORK/big/expect.json" ]] || die "REUSE=$REUSE holds no generated instance (big/expect.json)"
    KEEP=1
    rm -rf "$WORK"/t-*.json "$WORK"/mem-*.json "$WORK/big/cargo-vet" "$WORK/backtrack/cargo-vet"
else
    WORK=$(mktemp -d "$BENCH_TMP/oent-bench-resolve.XXXXXX")
fi
if [[ "${KEEP:-0}" == 1 ]]; then
    echo "keeping $WORK"
else
    trap 'rm -rf "$WORK"' EXIT
fi
# Isolated homes: no user config read, nothing written to ~/.cargo or the oent cache.
export CARGO_HOME="$WORK/cargo-home" OENT_CACHE_DIR="$WORK/oent-cache"
mkdir -p "$CARGO_HOME" "$OENT_CACHE_DIR"
export CARGO_TERM_COLOR=never PYTHONDONTWRITEBYTECODE=1

if [[ -n "${REUSE:-}" ]]; then
    step "reusing the instances in $WORK"
    [[ "$NOLINKS" != 1 || -d "$WORK/big/cargo-nolinks" ]] || NOLINKS=0
else
    step "generating $MODULES modules x $VERSIONS versions, $ROOTS roots (seed $SEED) in $WORK"
    gen_args=("$WORK" --modules "$MODULES" --versions "$VERSIONS" --roots "$ROOTS" --seed "$SEED")
    [[ "$NOLINKS" == 1 ]] || gen_args+=(--no-nolinks)
    python3 "$BENCH/gen_registry.py" "${gen_args[@]}"
fi
du -sh "$WORK/big/registry" "$WORK/big/cargo-registry" | sed 's/^/  /'

# --- 3. timing helpers --------------------------------------------------------
# time_cmd LABEL CWD PREPARE_FILE WARMUP RUNS CMD... -> writes $WORK/t-LABEL.json
# ({median, mean, min, max, user, system} in seconds; user/system only with hyperfine).
time_cmd() {
    local label=$1 cwd=$2 lock=$3 warmup=$4 runs=$5
    shift 5
    local out="$WORK/t-$label.json"
    if [[ -n "$HYPERFINE" ]]; then
        (cd "$cwd" && "$HYPERFINE" -N --style basic --warmup "$warmup" --runs "$runs" \
            --prepare "rm -f $lock" --command-name "$label" --export-json "$out.raw" "$*" >&2)
        python3 - "$out.raw" "$out" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
json.dump({k: r[k] for k in ("median", "mean", "min", "max", "user", "system")} | {"runs": len(r["times"])},
          open(sys.argv[2], "w"))
EOF
    else
        local times=() i t0 t1
        for ((i = 0; i < warmup + runs; i++)); do
            rm -f "$lock"
            t0=$(date +%s.%N)
            (cd "$cwd" && "$@" >/dev/null 2>&1) || die "$label failed"
            t1=$(date +%s.%N)
            ((i >= warmup)) && times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')")
        done
        printf '%s\n' "${times[@]}" | python3 -c '
import json, statistics, sys
t = [float(x) for x in sys.stdin.read().split()]
json.dump({"median": statistics.median(t), "mean": statistics.mean(t), "min": min(t), "max": max(t),
           "user": None, "system": None, "runs": len(t)}, open(sys.argv[1], "w"))' "$out"
        echo "  $label: median $(python3 -c 'import json,sys; print("%.1f ms" % (1000*json.load(open(sys.argv[1]))["median"]))' "$out")" >&2
    fi
}

# peak OUT CWD LOG CMD...: runs CMD once in CWD (output to LOG) and writes its peak resident
# set size and wall time to OUT ({max_rss_kb, wall}); GNU time when installed (apt-get install
# -y time), else the wall time only.
peak() {
    local out=$1 cwd=$2 log=$3
    shift 3
    if [[ -x /usr/bin/time ]]; then
        (cd "$cwd" && /usr/bin/time -o "$out.raw" -f '%M %e' "$@") >"$log" 2>&1 || return 1
        read -r kb wall <"$out.raw"
    else
        local t0 t1
        t0=$(date +%s.%N)
        (cd "$cwd" && "$@") >"$log" 2>&1 || return 1
        t1=$(date +%s.%N)
        kb=null wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
    fi
    echo "{\"max_rss_kb\": $kb, \"wall\": $wall}" >"$out"
}

# --- 4. per instance: solve once, check, vet each solution with the other tool, time
run_instance() {
    local name=$1 dir="$WORK/$1"
    step "$name: solve once with each tool"
    rm -f "$dir/dist/oent.lock" "$dir/cargo/Cargo.lock"
    peak "$WORK/mem-oent-$name.json" "$dir" "$WORK/oent-$name.log" "$OENT" resolve "$dir/dist" \
        || { cat "$WORK/oent-$name.log"; die "oent resolve failed"; }
    tail -n 1 "$WORK/oent-$name.log" | sed 's/^/  oent: /'
    peak "$WORK/mem-cargo-$name.json" "$dir/cargo" "$WORK/cargo-$name.log" "$CARGO_BIN" generate-lockfile --offline \
        || { cat "$WORK/cargo-$name.log"; die "cargo generate-lockfile failed"; }
    grep -m1 Locking "$WORK/cargo-$name.log" | sed 's/^ */  cargo: /'
    python3 -c 'import json,sys; print("  peak RSS: oent %s, cargo %s" % tuple(
        "%.0f MB" % (json.load(open(p))["max_rss_kb"] / 1024) if json.load(open(p))["max_rss_kb"] else "-" for p in sys.argv[1:]))' \
        "$WORK/mem-oent-$name.json" "$WORK/mem-cargo-$name.json"

    step "$name: compare the two lock files"
    cp -r "$dir/cargo" "$dir/cargo-vet"
    rm -rf "$dir/dist-vet" && mkdir "$dir/dist-vet" && cp "$dir/dist/distribution.yaml" "$dir/dist-vet/"
    python3 "$BENCH/resolve_compare.py" "$dir" --json "$WORK/cmp-$name.json" \
        --write-cargo-lock "$dir/cargo-vet/Cargo.lock" --write-oent-lock "$dir/dist-vet/oent.lock" \
        || die "$name: a solution is invalid (see above)"
    # Each tool must accept the other's solution as it is (same problem, same semantics).
    local vet_c=no vet_o=no
    (cd "$dir/cargo-vet" && "$CARGO_BIN" update --workspace --locked --offline >/dev/null 2>&1) && vet_c=yes
    "$OENT" resolve --locked "$dir/dist-vet" >/dev/null 2>&1 && vet_o=yes
    echo "cargo accepts oent's solution unchanged (cargo update --workspace --locked): $vet_c"
    echo "oent accepts cargo's solution unchanged (oent resolve --locked): $vet_o"
    echo "{\"cargo_accepts_oent\": \"$vet_c\", \"oent_accepts_cargo\": \"$vet_o\"}" >"$WORK/vet-$name.json"

    step "$name: timing ($WARMUP+$RUNS runs of oent, $WARMUP_CARGO+$RUNS_CARGO of cargo; locks deleted before each run)"
    time_cmd "oent-$name" "$dir" "$dir/dist/oent.lock" "$WARMUP" "$RUNS" "$OENT" resolve "$dir/dist"
    time_cmd "cargo-$name" "$dir/cargo" "$dir/cargo/Cargo.lock" "$WARMUP_CARGO" "$RUNS_CARGO" \
        "$CARGO_BIN" generate-lockfile --offline
    if [[ "$name" == big && "$NOLINKS" == 1 ]]; then
        time_cmd "cargo-nolinks-$name" "$dir/cargo-nolinks" "$dir/cargo-nolinks/Cargo.lock" \
            "$WARMUP_CARGO" "$RUNS_CARGO" "$CARGO_BIN" generate-lockfile --offline
    fi
}

run_instance big
run_instance backtrack

# --- 5. optional profile of oent on the big instance ---------------------------------
if [[ "${PROFILE:-0}" == 1 ]]; then
    step "profile: perf stat (5 runs)"
    if command -v perf >/dev/null; then
        perf stat -r 5 --pre "rm -f $WORK/big/dist/oent.lock" -e task-clock,page-faults,context-switches \
            "$OENT" resolve "$WORK/big/dist" 2>&1 | grep -vE '^\s*$|wrote|^\s+\+ ' | tail -8 || true
    else
        echo "perf not installed"
    fi
    step "profile: valgrind --tool=callgrind (inclusive instruction counts)"
    if command -v valgrind >/dev/null; then
        rm -f "$WORK/big/dist/oent.lock"
        valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" \
            "$OENT" resolve "$WORK/big/dist" >/dev/null 2>"$WORK/callgrind.log" || die "callgrind failed"
        grep -o 'Collected : [0-9]*' "$WORK/callgrind.log" || true
        callgrind_annotate --inclusive=yes "$WORK/callgrind.out" 2>/dev/null \
            | grep -E 'oent::(resolve|registry)|pubgrub::solver::resolve|unit_propagation|serde_json::de::from_trait|VersionReq::parse|drop_in_place<oent' \
            | head -25 | sed -E 's/ \[[^]]*\]$//'
        [[ "${KEEP:-0}" == 1 ]] && echo "callgrind output: $WORK/callgrind.out"
    else
        echo "valgrind not installed"
    fi
fi

# --- 6. summary ---------------------------------------------------------------
step "summary"
python3 - "$WORK" "$TARGET_MS" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'EOF'
import json, os, sys
work, target, cores, load = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
def t(label):
    p = os.path.join(work, "t-%s.json" % label)
    return json.load(open(p)) if os.path.exists(p) else None
def ms(x):
    return "%.0f ms" % (1000 * x) if x >= 0.1 else "%.1f ms" % (1000 * x)
stats = json.load(open(os.path.join(work, "big", "expect.json")))["stats"]
print("graph: %(modules)d modules x %(versions_per_module)d versions (%(index_lines)d index lines), "
      "%(roots)d roots, mean fan-out %(mean_fan_out)s, yanked %(yanked_versions)d" % stats)
print("cores: %s, load average: %s" % (cores, load))
print()
def mem(label):
    p = os.path.join(work, "mem-%s.json" % label)
    kb = json.load(open(p))["max_rss_kb"] if os.path.exists(p) else None
    return "%.0f MB" % (kb / 1024) if kb else "-"
print("| instance | oent median | oent CPU | oent peak RSS | cargo median | cargo CPU | cargo peak RSS | cargo / oent (wall) | cargo / oent (CPU) | same root versions | same versions (all) | cross-accepted | oent < %d ms |" % target)
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for name in ("big", "backtrack"):
    o, c = t("oent-" + name), t("cargo-" + name)
    cmp = json.load(open(os.path.join(work, "cmp-%s.json" % name)))
    vet = json.load(open(os.path.join(work, "vet-%s.json" % name)))
    cpu = lambda r: (r["user"] + r["system"]) if r.get("user") is not None else None
    oc, cc = cpu(o), cpu(c)
    print("| %s | %s | %s | %s | %s | %s | %s | %.1f× | %s | %d/%d | %d/%d | %s | %s |" % (
        name, ms(o["median"]), ms(oc) if oc else "-", mem("oent-" + name),
        ms(c["median"]), ms(cc) if cc else "-", mem("cargo-" + name),
        c["median"] / o["median"], "%.1f×" % (cc / oc) if oc and cc else "-",
        cmp["roots"]["same"], cmp["roots"]["total"], cmp["all_modules"]["same"], cmp["all_modules"]["total"],
        "yes" if vet["cargo_accepts_oent"] == "yes" and vet["oent_accepts_cargo"] == "yes" else "NO",
        "n/a" if name == "big" and stats["modules"] > 2000 else "met" if o["median"] * 1000 < target else "missed"))
n = t("cargo-nolinks-big")
if n:
    print()
    print("for reference, cargo without `links` (may select several versions of a crate: not the same problem): "
          "median %s" % ms(n["median"]))
o = t("oent-big")
print()
# The 200 ms target is set for the default instance (2,000 x 30, 200 roots) only.
verdict = ("met" if o["median"] * 1000 < target else "missed") if stats["modules"] <= 2000 else "n/a at this size"
print("oent resolve, %d modules x %d versions, %d roots: %s, peak %s (target < %d ms: %s); cargo / oent = %.1f× (goal >= 2×: %s)" % (
    stats["modules"], stats["versions_per_module"], stats["roots"], ms(o["median"]), mem("oent-big"), target,
    verdict, t("cargo-big")["median"] / o["median"],
    "met" if t("cargo-big")["median"] / o["median"] >= 2 else "missed"))
EOF
