# Shared by the benchmarks that source it (not run): messages, the release
# build (or OENT_BIN), the tools a script needs, temporary directories and
# timing with hyperfine (or a date +%s.%N loop when hyperfine is missing). Every timing lands in a
# hyperfine-style JSON file that pf_stats.py reads.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH="$ROOT/scripts/bench"
OENT="$ROOT/target/release/oent"

step() { printf '\n== %s\n' "$*"; }
die() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# build_oent: the release binary, built from this tree, or OENT_BIN when
# it is set (an earlier or a debug build: no build then).
build_oent() {
    if [[ -n "${OENT_BIN:-}" ]]; then
        OENT=$(realpath "$OENT_BIN")
    else
        step "cargo build --release"
        (cd "$ROOT" && cargo build --release --quiet)
    fi
    "$OENT" --version
}

# need TOOL...: dies naming the first TOOL missing and how to install it.
need() {
    local tool
    for tool; do
        command -v "$tool" > /dev/null || die "$tool is not installed (apt-get install -y $tool)"
    done
}

# pin_oent: points OENT at a copy of it in $WORK (make_work first): a
# concurrent cargo build must not swap the binary mid-run.
pin_oent() {
    cp "$OENT" "$WORK/oent"
    OENT="$WORK/oent"
}

# make_work NAME: a fresh temporary directory in $WORK, removed on exit
# unless KEEP=1. Extra cleanup goes into the function on_exit_extra.
on_exit_extra() { :; }
make_work() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/oent-bench-$1.XXXXXX")
    if [[ "${KEEP:-0}" == 1 ]]; then
        echo "keeping $WORK"
        trap 'on_exit_extra' EXIT
    else
        trap 'on_exit_extra; rm -rf "$WORK"' EXIT
    fi
    trap 'exit 130' INT TERM
}

# ensure_hyperfine: sets HYPERFINE=1 when hyperfine can be used.
ensure_hyperfine() {
    HYPERFINE=0
    [[ "${NO_HYPERFINE:-0}" == 1 ]] && return 0
    if ! command -v hyperfine > /dev/null && [[ $(id -u) == 0 ]] && command -v apt-get > /dev/null; then
        echo "installing hyperfine (apt-get)"
        apt-get install -y -qq hyperfine > /dev/null 2>&1 \
            || { apt-get update -qq > /dev/null 2>&1 && apt-get install -y -qq hyperfine > /dev/null 2>&1; } \
            || true
    fi
    if command -v hyperfine > /dev/null; then HYPERFINE=1; fi
}

# copy_example NAME: examples/NAME and the registry beside it in $WORK (make_work
# first), as in the repository, so that oent writes nothing into the tree;
# sets DIST and OENT_CACHE_DIR.
copy_example() {
    mkdir -p "$WORK/examples"
    cp -r "$ROOT/examples/$1" "$WORK/examples/"
    ln -s "$ROOT/registry" "$WORK/registry"
    DIST="$WORK/examples/$1"
    export OENT_CACHE_DIR="$WORK/cache"
}

# venv_python IMPORTS PACKAGE...: sets VENV (OENT_BENCH_VENV, default
# ${TMPDIR:-/tmp}/oent-bench-venv), the benchmarks' Python side, and PY its
# python; creates it and pip-installs the PACKAGEs when `import IMPORTS` fails.
venv_python() {
    local imports=$1
    shift
    VENV=${OENT_BENCH_VENV:-${TMPDIR:-/tmp}/oent-bench-venv}
    PY="$VENV/bin/python"
    step "Python venv ($VENV)"
    if ! "$PY" -c "import $imports" 2> /dev/null; then
        [[ -x "$PY" ]] || python3 -m venv "$VENV"
        "$VENV/bin/pip" install --quiet "$@"
    fi
}

# bundle_dir FALLBACK: where a benchmark writes many small files: OUT_DIR
# (created), else /dev/shm when it is a writable tmpfs (an ext4 is slow to
# create files just after deleting many: see README.md), else FALLBACK.
bundle_dir() {
    if [[ -n "${OUT_DIR:-}" ]]; then
        mkdir -p "$OUT_DIR"
        echo "$OUT_DIR"
    elif [[ -w /dev/shm ]] && [[ "$(stat -f -c %T /dev/shm 2> /dev/null)" == tmpfs ]]; then
        echo /dev/shm
    else
        echo "$1"
    fi
}

# bench JSON WARMUP RUNS PREPARE NAME CMD [NAME CMD]...: times each shell
# command CMD (run by bash) after PREPARE (a shell command, may be ":"),
# and writes hyperfine's JSON to JSON. With NO_SHELL=1, hyperfine runs each
# CMD without a shell (-N: better for commands of a few milliseconds; CMD
# must then be a plain command line, no pipes or variable assignments).
bench() {
    local json=$1 warmup=$2 runs=$3 prepare=$4; shift 4
    if [[ "$HYPERFINE" == 1 ]]; then
        local args=() name cmd
        while (($#)); do
            name=$1 cmd=$2; shift 2
            args+=(-n "$name" "$cmd")
        done
        local shell=(--shell bash)
        [[ "${NO_SHELL:-0}" == 1 ]] && shell=(-N)
        hyperfine "${shell[@]}" --style basic --warmup "$warmup" --runs "$runs" \
            --prepare "$prepare" --export-json "$json" "${args[@]}"
    else
        local tsv="$json.tsv" i t0 t1 u0 u1 name cmd
        : > "$tsv"
        while (($#)); do
            name=$1 cmd=$2; shift 2
            echo "Benchmark: $name"
            for ((i = 0; i < warmup; i++)); do bash -c "$prepare"; bash -c "$cmd" > /dev/null; done
            for ((i = 0; i < runs; i++)); do
                bash -c "$prepare"
                t0=$(date +%s.%N)
                bash -c "$cmd" > /dev/null
                t1=$(date +%s.%N)
                printf '%s\t%s\n' "$name" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')" >> "$tsv"
            done
        done
        python3 "$BENCH/pf_stats.py" tsv2json "$tsv" "$json"
    fi
}

# jstat FIELD JSON NAME: a number from a timing (median, mean, min, max, user, system).
jstat() { python3 "$BENCH/pf_stats.py" get "$2" "$3" "$1"; }

# ratio A B [DIGITS]: A / B.
ratio() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { printf "%.*f", d, a / b }'; }
# Seconds between two `date +%s.%N` readings; the median of a list of figures.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

load_avg() { cut -d' ' -f1-3 /proc/loadavg; }
cpu_model() { sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2> /dev/null | head -1; }

# secs VALUE: VALUE seconds as "%8.3fs", or "-" when not measured (nan).
secs() { awk -v v="$1" 'BEGIN { if (v == "nan" || v == "") printf "%9s", "-"; else printf "%8.3fs", v }'; }
