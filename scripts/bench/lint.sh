#!/usr/bin/env bash
# Benchmark: `oent lint` against the Python check a user would otherwise
# script (PyYAML + jsonschema + Jinja2, see py_lint.py), over N generated
# modules (see gen_modules.py). A benchmark, not a test: it fails only if a
# step breaks or the two tools disagree that the modules are clean.
#
# Usage: scripts/bench/lint.sh
# Environment (all optional):
#   N=1000            modules to generate
#   SEED=20260101     generator seed
#   RUNS_OENT=10      timed runs of oent     (after WARMUP_OENT=3 warm-up runs)
#   RUNS_PY=5         timed runs of py_lint  (after WARMUP_PY=1 warm-up run)
#   OENT_BENCH_VENV   venv for the Python side (default ${TMPDIR:-/tmp}/oent-bench-venv)
#   OENT_BIN=PATH     time this oent binary instead of building target/release/oent
#   KEEP=1            keep the generated modules (the path is printed)
#   NO_HYPERFINE=1    time with the date +%s.%N loop even if hyperfine is installed
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/pf_common.sh"

N=${N:-1000}
SEED=${SEED:-20260101}
RUNS_OENT=${RUNS_OENT:-10}
RUNS_PY=${RUNS_PY:-5}
WARMUP_OENT=${WARMUP_OENT:-3}
WARMUP_PY=${WARMUP_PY:-1}

# --- 1. Python side: a venv with PyYAML, jsonschema and Jinja2 ---------------
venv_python "yaml, jsonschema, jinja2" pyyaml jsonschema jinja2
"$PY" --version

# --- 2. oent, release build ---------------------------------------------------
build_oent

# --- 3. N modules in a temporary directory -----------------------------------
step "generating $N modules (seed $SEED)"
make_work lint
"$PY" "$BENCH/gen_modules.py" "$WORK" "$N" --seed "$SEED"
MODULES="$WORK/modules"

# --- 4. both tools must agree that everything is clean -----------------------
step "checking that both tools find the modules clean"
if ! "$OENT" lint "$MODULES" --deny warnings --format json > "$WORK/oent.json"; then
    "$OENT" lint "$MODULES" | tail -40 >&2 || true
    die "oent lint found problems in the generated modules"
fi
oent_files=$("$PY" -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print(s["files"])' "$WORK/oent.json")
echo "oent lint: $oent_files files checked, 0 errors, 0 warnings"
if ! "$PY" "$BENCH/py_lint.py" "$MODULES" --phases > "$WORK/py.out"; then
    tail -40 "$WORK/py.out" >&2
    die "py_lint.py found problems in the generated modules"
fi
cat "$WORK/py.out"
py_files=$(sed -n 's/.*: \([0-9]*\) module.yaml checked.*/\1/p' "$WORK/py.out")
loader=$(sed -n 's/^py_lint \[\([^,]*\),.*/\1/p' "$WORK/py.out")
[[ "$oent_files" == "$N" && "$py_files" == "$N" ]] \
    || die "file counts differ: oent $oent_files, python $py_files, generated $N"

# --- 5. timing ---------------------------------------------------------------
# Other processes on the machine distort the numbers: record the load.
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
oent_cmd=("$OENT" lint "$MODULES")
py_cmd=("$PY" "$BENCH/py_lint.py" --quiet "$MODULES")

# median_of FILE: median of the numbers in FILE, one per line.
median_of() {
    sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# time_runs NAME WARMUP RUNS CMD...: writes each run's wall time to $WORK/NAME.times
time_runs() {
    local name=$1 warmup=$2 runs=$3; shift 3
    local i t0 t1
    : > "$WORK/$name.times"
    for ((i = 0; i < warmup; i++)); do "$@" > /dev/null; done
    for ((i = 0; i < runs; i++)); do
        t0=$(date +%s.%N)
        "$@" > /dev/null
        t1=$(date +%s.%N)
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }' >> "$WORK/$name.times"
    done
}

if [[ "${NO_HYPERFINE:-0}" != 1 ]] && command -v hyperfine > /dev/null; then
    step "timing with $(hyperfine --version)"
    # -N: no intermediate shell, so nothing but the tool itself is timed.
    hyperfine -N --style basic --warmup "$WARMUP_OENT" --runs "$RUNS_OENT" \
        --export-json "$WORK/hf-oent.json" -n "oent lint" "$(printf '%q ' "${oent_cmd[@]}")"
    hyperfine -N --style basic --warmup "$WARMUP_PY" --runs "$RUNS_PY" \
        --export-json "$WORK/hf-py.json" -n "py_lint.py" "$(printf '%q ' "${py_cmd[@]}")"
    for side in oent py; do
        "$PY" -c 'import json,sys; print("\n".join(str(t) for t in json.load(open(sys.argv[1]))["results"][0]["times"]))' \
            "$WORK/hf-$side.json" > "$WORK/$side.times"
    done
else
    step "timing with a date +%s.%N loop (hyperfine not installed or NO_HYPERFINE=1)"
    time_runs oent "$WARMUP_OENT" "$RUNS_OENT" "${oent_cmd[@]}"
    time_runs py "$WARMUP_PY" "$RUNS_PY" "${py_cmd[@]}"
fi

oent_med=$(median_of "$WORK/oent.times")
py_med=$(median_of "$WORK/py.times")

# --- 6. results --------------------------------------------------------------
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)
step "results"
printf 'machine:   %s cores (nproc), %s, %s\n' "$(nproc)" "${cpu:-unknown CPU}" "$(uname -sr)"
printf 'workload:  %s modules, %s files (module.yaml + 2 templates each), %s KiB\n' \
    "$N" "$(find "$MODULES" -type f | wc -l)" \
    "$(find "$MODULES" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s / 1024 }')"
printf 'load avg:  %s before timing, %s after (1/5/15 min; above 0 means other processes shared the cores)\n' \
    "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'oent lint  median %8.3f s   (%s runs, min %.3f s, max %.3f s)\n' \
    "$oent_med" "$RUNS_OENT" "$(sort -g "$WORK/oent.times" | head -1)" "$(sort -g "$WORK/oent.times" | tail -1)"
printf 'py_lint.py median %8.3f s   (%s runs, min %.3f s, max %.3f s; %s)\n' \
    "$py_med" "$RUNS_PY" "$(sort -g "$WORK/py.times" | head -1)" "$(sort -g "$WORK/py.times" | tail -1)" "$loader"
if [[ -f "$WORK/hf-oent.json" ]]; then
    # CPU time (user + system, mean) is less sensitive than wall time to other load.
    "$PY" - "$WORK/hf-oent.json" "$WORK/hf-py.json" <<'EOF'
import json, sys
cpu = [(lambda r: r["user"] + r["system"])(json.load(open(f))["results"][0]) for f in sys.argv[1:]]
print(f"CPU time   oent {cpu[0]:.3f} s, python {cpu[1]:.3f} s (user + system, mean): ratio {cpu[1] / cpu[0]:.1f}x")
EOF
fi
awk -v p="$py_med" -v o="$oent_med" 'BEGIN { printf "ratio      python / oent = %.1fx (median wall time)\n", p / o }'
verdict=$(awk -v o="$oent_med" 'BEGIN { print (o < 1.0) ? "met" : "MISSED" }')
printf 'oent lint over %s modules: %.3f s (target < 1 s): %s\n' "$N" "$oent_med" "$verdict"
