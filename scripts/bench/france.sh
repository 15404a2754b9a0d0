#!/usr/bin/env bash
# Benchmark (issue 19): the country. Every collège and lycée of France
# (gen_france.py: ~11,000 établissements, départements 01-95, 2A, 2B, 971-976)
# rendered by `oent build`:
#
#   A. against Jinja2 on the same files: the 27 modules of gen_render.py (the
#      render benchmark's synthetic catalogue, whose templates Tera 2 and Jinja2
#      render alike) x the country, `oent build` vs jinja_render.py, outputs
#      compared byte for byte first, then timed in alternation, peak RSS of each
#      (/usr/bin/time -v). Targets: >= 5x Jinja2, < 300 MB peak;
#   B. the whole real catalogue (registry/, 27 modules that go together) x
#      100 ... the country, compose and Kubernetes: wall, CPU, peak RSS, files,
#      the cost per établissement; and the bundle built with -j1 and -j4
#      compared (byte-identical, whatever the thread count).
#
# A benchmark, not a test: it fails only if a step breaks or outputs differ.
# The machine it was written on has 2 cores shared with other jobs: wall
# times are noisy, so both sides run alternately in the same script and the
# ratio is what to read (CPU time too).
#
# Usage: scripts/bench/france.sh
# Environment (all optional):
#   SIZES="100 300 1000 3000 11178"  part B's établissement counts (11178: the whole country)
#   RUNS=3                            timed runs of each side in part A (alternating)
#   JOBS=                             oent build --jobs (default: the cores)
#   SEED=1                            gen_france.py / gen_render.py seed
#   ONLY=A|B                          one part only
#   OENT_BIN=PATH                     time this oent instead of building target/release/oent
#   OENT_BENCH_VENV                   venv with Jinja2 and PyYAML (default ${TMPDIR:-/tmp}/oent-bench-venv)
#   OUT_DIR=DIR                       where bundles go (default: /dev/shm when it is a tmpfs:
#                                     the ext4 /tmp is slow with many small files, see README.md)
#   KEEP=1                            keep the work directories
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/pf_common.sh"

SIZES=${SIZES:-100 300 1000 3000 11178}
RUNS=${RUNS:-3}
SEED=${SEED:-1}
JOBS_ARGS=()
[[ -z "${JOBS:-}" ]] || JOBS_ARGS=(--jobs "$JOBS")

build_oent
TMPDIR=$(bundle_dir "${TMPDIR:-/tmp}") make_work france
pin_oent
export OENT_CACHE_DIR="$WORK/cache"
echo "$("$OENT" --version), $(nproc) cores, load $(load_avg), bundles on $(stat -f -c %T "$WORK")"

# timed NAME CMD...: runs CMD under /usr/bin/time -v, appends
# "wall user+sys maxrss_kib" to $WORK/NAME.times.
timed() {
    local name=$1
    shift
    /usr/bin/time -v "$@" > "$WORK/$name.out" 2> "$WORK/$name.time" \
        || { tail -30 "$WORK/$name.out" "$WORK/$name.time" >&2; die "$name failed"; }
    awk -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i] }
        /User time/ { u = $2 } /System time/ { s = $2 } /Maximum resident/ { r = $2 }
        END { printf "%.3f %.3f %d\n", w, u + s, r }' "$WORK/$name.time" >> "$WORK/$name.times"
}
# median_lines: the median of the numbers on stdin (the mean of the middle two when even).
median_lines() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
column_of() { awk -v c="$2" '{ print $c }' "$WORK/$1.times"; }
max_of() { column_of "$1" "$2" | sort -g | tail -1; }

step "the country (gen_france.py)"
python3 "$BENCH/gen_france.py" "$WORK/country" --seed "$SEED"
COUNTRY_ETABS=$(($(wc -l < "$WORK/country/etablissements.csv") - 1))

# --- A. oent vs Jinja2, same files ------------------------------------------
if [[ "${ONLY:-A}" == A || -z "${ONLY:-}" ]]; then
    venv_python "yaml, jinja2" pyyaml jinja2
    "$PY" -c 'import sys, jinja2; print("Python", sys.version.split()[0], "| Jinja2", jinja2.__version__)'
    A="$WORK/synthetic"
    "$PY" "$BENCH/gen_render.py" "$A" --modules 27 --seed "$SEED" --oent "$OENT" \
        --etablissements "$WORK/country/etablissements.csv"
    "$OENT" build "$A/dist" -o "$WORK/a-oent" "${JOBS_ARGS[@]}" > /dev/null 2>&1 || die "first oent build failed"
    "$PY" "$BENCH/jinja_render.py" "$A/dist" "$A/modules" "$WORK/a-py" > /dev/null
    if ! diff -r -q "$WORK/a-oent/conf" "$WORK/a-py/conf" > "$WORK/a.diff"; then
        head -20 "$WORK/a.diff" >&2
        die "oent and Jinja2 rendered different files"
    fi
    files=$(find "$WORK/a-oent/conf" -type f | wc -l)
    echo "same $files files under conf/, byte for byte ($COUNTRY_ETABS établissements x 27 modules + 27)"
    for ((i = 0; i < RUNS; i++)); do
        rm -rf "$WORK/a-oent" "$WORK/a-oent1" "$WORK/a-py"
        timed a-oent "$OENT" build "$A/dist" -o "$WORK/a-oent" --offline "${JOBS_ARGS[@]}"
        timed a-oent1 "$OENT" build "$A/dist" -o "$WORK/a-oent1" --offline --jobs 1
        timed a-py "$PY" "$BENCH/jinja_render.py" "$A/dist" "$A/modules" "$WORK/a-py"
    done
    step "A. results ($RUNS runs each, alternating; medians; RSS: the largest)"
    printf '%-26s %9s %11s %12s\n' side 'wall s' 'CPU s' 'peak MiB'
    for side in a-oent a-oent1 a-py; do
        printf '%-26s %9.2f %11.2f %12.1f\n' "$side" "$(column_of $side 1 | median_lines)" \
            "$(column_of $side 2 | median_lines)" "$(max_of $side 3 | awk '{ print $1 / 1024 }')"
    done
    awk -v o="$(column_of a-oent 1 | median_lines)" -v o1="$(column_of a-oent1 1 | median_lines)" \
        -v p="$(column_of a-py 1 | median_lines)" -v oc="$(column_of a-oent1 2 | median_lines)" \
        -v pc="$(column_of a-py 2 | median_lines)" \
        'BEGIN { printf "Jinja2 / oent: %.1fx wall (default jobs), %.1fx wall (-j1), %.1fx CPU (-j1) (target >= 5x)\n", p / o, p / o1, pc / oc }'
fi

# --- B. the real catalogue, 100 -> the country ------------------------------
if [[ "${ONLY:-B}" == B || -z "${ONLY:-}" ]]; then
    step "B. the real catalogue (registry/) x établissements, compose and kubernetes"
    printf '%-11s %7s %8s %8s %8s %9s %10s %12s\n' target etabs files 'wall s' 'CPU s' 'RSS MiB' 'ms / etab' 'KiB / etab' > "$WORK/b.table"
    for target in compose kubernetes; do
        for n in $SIZES; do
            d="$WORK/b-$n"
            [[ -d "$d" ]] || python3 "$BENCH/gen_france.py" "$d" --etabs "$n" --seed "$SEED" > /dev/null
            # The first build resolves and fills the cache; the second is timed.
            "$OENT" build "$d" -o "$WORK/b-warm" --target "$target" > /dev/null 2>&1 || die "build of $n failed"
            rm -rf "$WORK/b-warm" "$WORK/b-out"
            : > "$WORK/b-$target-$n.times"
            timed "b-$target-$n" "$OENT" build "$d" -o "$WORK/b-out" --target "$target" --offline "${JOBS_ARGS[@]}"
            files=$(find "$WORK/b-out" -type f | wc -l)
            read -r wall cpu rss < "$WORK/b-$target-$n.times"
            awk -v t="$target" -v n="$n" -v f="$files" -v w="$wall" -v c="$cpu" -v r="$rss" \
                'BEGIN { printf "%-11s %7d %8d %8.2f %8.2f %9.1f %10.3f %12.1f\n", t, n, f, w, c, r / 1024, w * 1000 / n, r / n }' >> "$WORK/b.table"
        done
    done
    cat "$WORK/b.table"
    step "B. byte-identical whatever the threads ($COUNTRY_ETABS établissements, kubernetes)"
    d="$WORK/b-$COUNTRY_ETABS"
    [[ -d "$d" ]] || python3 "$BENCH/gen_france.py" "$d" --seed "$SEED" > /dev/null
    for j in 1 4; do
        rm -rf "$WORK/b-j$j"
        "$OENT" build "$d" -o "$WORK/b-j$j" --target kubernetes --jobs "$j" > /dev/null 2>&1 || die "build -j$j failed"
    done
    diff -r -q "$WORK/b-j1" "$WORK/b-j4" > /dev/null || die "-j1 and -j4 bundles differ"
    echo "-j1 and -j4: the same $(find "$WORK/b-j1" -type f | wc -l) files, byte for byte"
fi
