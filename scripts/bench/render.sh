#!/usr/bin/env bash
# Benchmark (issue 6): `oent build` of a distribution of 732 établissements x
# 20 modules (~15,000 files), against the same templates rendered to the same
# files by Jinja2 from a Python script (jinja_render.py), and against
# `ansible-playbook` template tasks for 10 établissements (ansible/). Targets:
# oent under 2 s and under 200 MB peak RSS, at least 3x faster than Jinja2;
# the Ansible ratio per file is reported. A benchmark, not a test: it fails
# only if a step breaks or the tools' outputs differ, never on a time.
#
# Usage: scripts/bench/render.sh
# Environment (all optional):
#   ETABS=732 MODULES=20 SEED=1     the generated distribution (gen_render.py)
#   RUNS_OENT=10 WARMUP_OENT=2      timed runs of `oent build` (after warm-up runs)
#   RUNS_PY=5 WARMUP_PY=1           timed runs of jinja_render.py
#   ANSIBLE_ETABS=10                établissements rendered by ansible-playbook
#   NO_ANSIBLE=1                    skip the Ansible part (it takes minutes)
#   OUT_DIR=DIR                     where the timed bundles are written (default: a
#                                   directory in /dev/shm when it is a writable tmpfs,
#                                   else in the work directory; see README.md for why)
#   NO_DISK=1                       skip the single runs that write to disk
#   OENT_BENCH_VENV                 venv (default ${TMPDIR:-/tmp}/oent-bench-venv)
#   OENT_BIN=PATH                   time this oent instead of building target/release/oent
#   KEEP=1                          keep the generated files (the path is printed)
#   SCALE_ETABS="1000 10000 50000"  also (or, with SCALE_ONLY=1, only) measure the
#                                   per-établissement cost: one `oent build` of each
#                                   size under /usr/bin/time -v (wall, peak RSS)
#   SCALE_ONLY=1                    only the scale runs (no Python venv, no Jinja2)
#   NO_HYPERFINE=1                  time with a `date +%s.%N` loop even if hyperfine exists
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/pf_common.sh"

ETABS=${ETABS:-732}
MODULES=${MODULES:-20}
SEED=${SEED:-1}
RUNS_OENT=${RUNS_OENT:-10}
WARMUP_OENT=${WARMUP_OENT:-2}
RUNS_PY=${RUNS_PY:-5}
WARMUP_PY=${WARMUP_PY:-1}
ANSIBLE_ETABS=${ANSIBLE_ETABS:-10}
TARGET_S=2
TARGET_MB=200
TARGET_RATIO=3

fstype() { findmnt -n -o FSTYPE -T "$1" 2>/dev/null | awk 'NR == 1' | grep . || stat -f -c %T "$1"; }

# --- 1. Python side: a venv with PyYAML, Jinja2 and ansible-core ------------
if [[ "${SCALE_ONLY:-0}" != 1 ]]; then
if [[ "${NO_ANSIBLE:-0}" == 1 ]]; then
    venv_python "yaml, jinja2" pyyaml jinja2
else
    venv_python "yaml, jinja2, ansible" pyyaml jinja2 ansible-core
fi
"$PY" -c 'import sys, jinja2, yaml; print("Python", sys.version.split()[0], "| Jinja2", jinja2.__version__, "| PyYAML", yaml.__version__, "(libyaml)" if hasattr(yaml, "CSafeLoader") else "")'
fi

# --- 2. oent, release build, copied aside ------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/oent-bench-render.XXXXXX")
# The timed bundles go to a tmpfs when there is one: on this machine's ext4
# (mounted with `discard`), deleting ~15,000 files that are already on disk
# takes 20-40 s, and creating files right after deleting many costs seconds
# of kernel time (ext4 `recently_deleted`), for oent and Python alike. The
# benchmark then measures the file system, not the renderers.
TOUT=$(bundle_dir "")
if [[ -n "$TOUT" ]]; then TOUT=$(mktemp -d "$TOUT/oent-bench-render-out.XXXXXX"); else TOUT=$WORK; fi
if [[ "${KEEP:-0}" == 1 ]]; then
    echo "keeping $WORK and $TOUT"
else
    trap 'echo "cleaning up (removing bundles from an ext4 with discard can take a minute)"; rm -rf "$WORK" "$TOUT"' EXIT
fi
build_oent
pin_oent

# --- 2b. the per-établissement cost (SCALE_ETABS) ------------------------------
# One build of each size into a new folder, after a first build that fills
# the cache and writes oent.lock; gen_render.py needs only the standard library.
if [[ -n "${SCALE_ETABS:-}" ]]; then
    step "scale: $MODULES modules x {$SCALE_ETABS} établissements"
    printf '%-8s %8s %9s %10s %12s %14s\n' etabs files 'wall s' 'RSS MiB' 'ms / etab' 'KiB RSS / etab' > "$WORK/scale.out"
    for n in $SCALE_ETABS; do
        s="$WORK/scale-$n"
        OENT_CACHE_DIR="$s/cache" python3 "$BENCH/gen_render.py" "$s" --etabs "$n" --modules "$MODULES" --seed "$SEED" --oent "$OENT" > /dev/null
        OENT_CACHE_DIR="$s/cache" "$OENT" build "$s/dist" -o "$TOUT/scale-warm-$n" > "$s/build.out" 2>&1 \
            || { cat "$s/build.out" >&2; die "oent build of $n établissements failed"; }
        rm -rf "$TOUT/scale-warm-$n"
        OENT_CACHE_DIR="$s/cache" /usr/bin/time -v "$OENT" build "$s/dist" -o "$TOUT/scale-$n" --offline > /dev/null 2> "$s/time-v" \
            || { cat "$s/time-v" >&2; die "timed oent build of $n établissements failed"; }
        files=$(find "$TOUT/scale-$n" -type f | wc -l)
        rm -rf "$TOUT/scale-$n"
        wall=$(sed -n 's/.*Elapsed (wall clock) time.*: //p' "$s/time-v" | awk -F: '{ t = 0; for (i = 1; i <= NF; i++) t = t * 60 + $i; print t }')
        rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$s/time-v")
        awk -v n="$n" -v f="$files" -v w="$wall" -v r="$rss" \
            'BEGIN { printf "%-8d %8d %9.2f %10.1f %12.3f %14.2f\n", n, f, w, r / 1024, w * 1000 / n, r / n }' >> "$WORK/scale.out"
    done
    cat "$WORK/scale.out"
    [[ "${SCALE_ONLY:-0}" != 1 ]] || exit 0
fi

# --- 3. the distribution ------------------------------------------------------
# Isolated cache: nothing read from or written to the user's.
export OENT_CACHE_DIR="$WORK/cache"
step "generating $MODULES modules, $ETABS établissements (seed $SEED), publishing them"
"$PY" "$BENCH/gen_render.py" "$WORK" --etabs "$ETABS" --modules "$MODULES" --seed "$SEED" --oent "$OENT"
DIST="$WORK/dist"
echo "templates: $(find "$WORK/modules" -name '*.tera' | wc -l) files, $(cat "$WORK"/modules/*/*/templates/*.tera | wc -l) lines"
"$OENT" lint "$WORK/modules" "$DIST" --deny warnings > "$WORK/lint.out" \
    || { cat "$WORK/lint.out" >&2; die "oent lint found problems in the generated files"; }
cat "$WORK/lint.out"

step "first build (resolves, writes oent.lock, fills the cache)"
"$OENT" build "$DIST" -o "$TOUT/out-oent" > "$WORK/build.out" 2>&1 \
    || { cat "$WORK/build.out" >&2; die "oent build failed"; }
cat "$WORK/build.out"
"$OENT" build "$DIST" -o "$TOUT/out-oent" --offline --locked > /dev/null 2>&1 || die "oent build --offline --locked failed"
bundle_files=$(find "$TOUT/out-oent" -type f | wc -l)
conf_files=$(find "$TOUT/out-oent/conf" -type f | wc -l)
echo "bundle: $bundle_files files ($conf_files rendered module templates under conf/), $(du -sk "$TOUT/out-oent/conf" | cut -f1) KiB (timed bundles in $TOUT, $(fstype "$TOUT"))"

# --- 4. same files from Jinja2? ----------------------------------------------
step "Jinja2 render and comparison with oent's conf/"
"$PY" "$BENCH/jinja_render.py" "$DIST" "$WORK/modules" "$TOUT/out-py"
(cd "$TOUT/out-oent" && find conf -type f | sort) > "$WORK/files-oent"
(cd "$TOUT/out-py" && find conf -type f | sort) > "$WORK/files-py"
if ! diff -q "$WORK/files-oent" "$WORK/files-py" > /dev/null; then
    diff "$WORK/files-oent" "$WORK/files-py" | head -20 >&2
    die "oent and Jinja2 did not write the same set of files"
fi
# Every file, not a sample: the comparison is cheap.
if ! diff -r "$TOUT/out-oent/conf" "$TOUT/out-py/conf" > "$WORK/diff.out"; then
    echo "files that differ: $(grep -c '^diff ' "$WORK/diff.out")" >&2
    head -40 "$WORK/diff.out" >&2
    die "oent and Jinja2 rendered different contents"
fi
echo "same $(wc -l < "$WORK/files-oent") files, byte for byte"

# --- 5. timing ----------------------------------------------------------------
# Each run writes a fresh bundle: the previous one is removed before the run,
# outside the timed region, on both sides (see "Replacing a bundle" in README.md).
median_of() {
    sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
time_runs() { # NAME WARMUP RUNS OUTDIR CMD...
    local name=$1 warmup=$2 runs=$3 outdir=$4 i t0 t1
    shift 4
    : > "$WORK/$name.times"
    for ((i = 0; i < warmup; i++)); do rm -rf "$outdir"; "$@" > /dev/null 2>&1; done
    for ((i = 0; i < runs; i++)); do
        rm -rf "$outdir"
        t0=$(date +%s.%N)
        "$@" > /dev/null 2>&1
        t1=$(date +%s.%N)
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }' >> "$WORK/$name.times"
    done
}
oent_cmd=("$OENT" build "$DIST" -o "$TOUT/t-oent" --offline)
py_cmd=("$PY" "$BENCH/jinja_render.py" "$DIST" "$WORK/modules" "$TOUT/t-py")
load_before=$(load_avg)
if [[ "${NO_HYPERFINE:-0}" != 1 ]] && command -v hyperfine > /dev/null; then
    step "timing with $(hyperfine --version)"
    hyperfine -N --style basic --warmup "$WARMUP_OENT" --runs "$RUNS_OENT" \
        --prepare "rm -rf $TOUT/t-oent" --export-json "$WORK/hf-oent.json" \
        -n "oent build" "$(printf '%q ' "${oent_cmd[@]}")"
    hyperfine -N --style basic --warmup "$WARMUP_PY" --runs "$RUNS_PY" \
        --prepare "rm -rf $TOUT/t-py" --export-json "$WORK/hf-py.json" \
        -n "jinja_render.py" "$(printf '%q ' "${py_cmd[@]}")"
    for side in oent py; do
        "$PY" -c 'import json,sys; print("\n".join(str(t) for t in json.load(open(sys.argv[1]))["results"][0]["times"]))' \
            "$WORK/hf-$side.json" > "$WORK/$side.times"
    done
else
    step "timing with a date +%s.%N loop"
    time_runs oent "$WARMUP_OENT" "$RUNS_OENT" "$TOUT/t-oent" "${oent_cmd[@]}"
    time_runs py "$WARMUP_PY" "$RUNS_PY" "$TOUT/t-py" "${py_cmd[@]}"
fi
load_after=$(load_avg)
oent_med=$(median_of "$WORK/oent.times")
py_med=$(median_of "$WORK/py.times")

# --- 6. peak RSS, and single runs on disk -------------------------------------
step "peak RSS of oent build (/usr/bin/time -v, 3 runs)"
rss_max=0
for i in 1 2 3; do
    rm -rf "$TOUT/t-oent"
    /usr/bin/time -v "${oent_cmd[@]}" > /dev/null 2> "$WORK/time-v.$i"
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time-v.$i")
    echo "run $i: $rss KiB, $(sed -n 's/.*Elapsed (wall clock) time.*): //p' "$WORK/time-v.$i") wall"
    if ((rss > rss_max)); then rss_max=$rss; fi
done
if [[ "${NO_DISK:-0}" != 1 ]] && [[ "$TOUT" != "$WORK" ]]; then
    step "single runs writing to disk ($(fstype "$WORK") in $WORK)"
    # 1. into a new directory; 2. the same for Python; 3. oent over the
    # bundle of 1 once it is flushed (sync): the old bundle's files are deleted.
    disk_run() { # LABEL CMD...: prints "LABEL: wall user sys"
        local label=$1
        shift
        /usr/bin/time -f '%e %U %S' -o "$WORK/disk.time" "$@" > /dev/null 2>&1 || die "$label failed"
        read -r w u s < "$WORK/disk.time"
        printf '%-44s %7.2f s wall  %5.2f s user  %5.2f s sys  (load %s)\n' "$label:" "$w" "$u" "$s" "$(load_avg)"
    }
    disk_run "oent build, new directory" "$OENT" build "$DIST" -o "$WORK/d-oent" --offline | tee "$WORK/disk.out"
    disk_run "jinja_render.py, new directory" "${py_cmd[@]:0:4}" "$WORK/d-py" | tee -a "$WORK/disk.out"
    sync
    disk_run "oent build over its flushed bundle" "$OENT" build "$DIST" -o "$WORK/d-oent" --offline | tee -a "$WORK/disk.out"
fi

# --- 7. Ansible ---------------------------------------------------------------
if [[ "${NO_ANSIBLE:-0}" != 1 ]]; then
    step "ansible-playbook: per-établissement templates for $ANSIBLE_ETABS établissements"
    "$PY" "$BENCH/jinja_render.py" "$DIST" "$WORK/modules" --ansible-vars "$WORK/ansible-vars.json" --limit "$ANSIBLE_ETABS"
    "$VENV/bin/ansible-playbook" --version > "$WORK/ansible.version"
    head -1 "$WORK/ansible.version"
    mkdir -p "$WORK/ansible-home" "$TOUT/out-ansible"
    ans_load_before=$(load_avg)
    /usr/bin/time -f '%e %U %S' -o "$WORK/ansible.time" \
        env PATH="$VENV/bin:$PATH" ANSIBLE_HOME="$WORK/ansible-home" ANSIBLE_LOCAL_TEMP="$WORK/ansible-home/tmp" ANSIBLE_REMOTE_TEMP="$WORK/ansible-home/remote-tmp" \
        ANSIBLE_LOG_PATH="$WORK/ansible.log" ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 \
        "$VENV/bin/ansible-playbook" -i localhost, -c local \
        -e "ansible_python_interpreter=$PY" -e "bench_vars=$WORK/ansible-vars.json" -e "bench_out=$TOUT/out-ansible" \
        "$BENCH/ansible/render.yml" > "$WORK/ansible.out" 2>&1 \
        || { tail -30 "$WORK/ansible.out" >&2; die "ansible-playbook failed"; }
    ans_load_after=$(load_avg)
    tail -3 "$WORK/ansible.out"
    read -r ans_wall ans_user ans_sys < "$WORK/ansible.time"
    ans_files=$(find "$TOUT/out-ansible" -type f | wc -l)
    ans_bad=0
    while read -r f; do
        cmp -s "$TOUT/out-ansible/$f" "$TOUT/out-oent/$f" || { ans_bad=$((ans_bad + 1)); echo "differs: $f" >&2; }
    done < <(cd "$TOUT/out-ansible" && find conf -type f)
    ((ans_bad == 0)) || die "$ans_bad of the $ans_files files Ansible wrote differ from oent's"
    echo "the $ans_files files Ansible wrote are byte for byte oent's"
    # The template tasks alone: from the first template task to the recap, by the log's timestamps.
    ans_tpl=$("$PY" - "$WORK/ansible.log" <<'EOF'
import re, sys, datetime
first = last = None
for line in open(sys.argv[1], encoding="utf-8"):
    m = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+) ", line)
    if not m:
        continue
    t = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f")
    if first is None and "one file per établissement" in line:
        first = t
    if "PLAY RECAP" in line:
        last = t
print(f"{(last - first).total_seconds():.3f}" if first and last else "nan")
EOF
)
fi

# --- 8. results ---------------------------------------------------------------
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)
step "results"
printf 'machine:   %s cores (nproc), %s, %s\n' "$(nproc)" "${cpu:-unknown CPU}" "$(uname -sr)"
printf 'workload:  %s modules x %s établissements: %s files in the bundle, %s rendered templates\n' \
    "$MODULES" "$ETABS" "$bundle_files" "$conf_files"
printf 'output:    timed bundles written to %s (%s)\n' "$TOUT" "$(fstype "$TOUT")"
printf 'load avg:  %s before timing, %s after (1/5/15 min, on %s cores)\n' "$load_before" "$load_after" "$(nproc)"
printf 'oent build       median %8.3f s  (%s runs, min %.3f, max %.3f)\n' \
    "$oent_med" "$RUNS_OENT" "$(sort -g "$WORK/oent.times" | head -1)" "$(sort -g "$WORK/oent.times" | tail -1)"
printf 'jinja_render.py  median %8.3f s  (%s runs, min %.3f, max %.3f)\n' \
    "$py_med" "$RUNS_PY" "$(sort -g "$WORK/py.times" | head -1)" "$(sort -g "$WORK/py.times" | tail -1)"
if [[ -f "$WORK/hf-oent.json" ]]; then
    "$PY" - "$WORK/hf-oent.json" "$WORK/hf-py.json" <<'EOF'
import json, sys
r = [json.load(open(f))["results"][0] for f in sys.argv[1:]]
for name, x in zip(("oent build", "jinja_render.py"), r):
    print(f"CPU time   {name:16s} user {x['user']:.3f} s + system {x['system']:.3f} s = {x['user'] + x['system']:.3f} s (mean)")
cpu = [x["user"] + x["system"] for x in r]
print(f"ratio      python / oent = {cpu[1] / cpu[0]:.1f}x (CPU time)")
EOF
fi
awk -v p="$py_med" -v o="$oent_med" 'BEGIN { printf "ratio      python / oent = %.1fx (median wall time)\n", p / o }'
printf 'peak RSS   oent build %s KiB = %.1f MB (max of 3 runs)\n' "$rss_max" "$(awk -v k="$rss_max" 'BEGIN { print k * 1024 / 1e6 }')"
if [[ -f "$WORK/disk.out" ]]; then
    sed 's/^/on disk    /' "$WORK/disk.out"
fi
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == "<") ? v < t : v >= t; print ok ? "met" : "MISSED" }'; }
printf 'target     oent build < %s s:       %.3f s   %s\n' "$TARGET_S" "$oent_med" "$(verdict "$oent_med" "$TARGET_S" "<")"
printf 'target     peak RSS < %s MB:       %.1f MB   %s\n' "$TARGET_MB" "$(awk -v k="$rss_max" 'BEGIN { print k * 1024 / 1e6 }')" \
    "$(verdict "$(awk -v k="$rss_max" 'BEGIN { print k * 1024 / 1e6 }')" "$TARGET_MB" "<")"
ratio=$(awk -v p="$py_med" -v o="$oent_med" 'BEGIN { print p / o }')
printf 'target     >= %sx faster than Jinja2: %.1fx    %s\n' "$TARGET_RATIO" "$ratio" "$(verdict "$ratio" "$TARGET_RATIO" ">=")"
if [[ "${NO_ANSIBLE:-0}" != 1 ]]; then
    awk -v w="$ans_wall" -v u="$ans_user" -v s="$ans_sys" -v n="$ans_files" -v tpl="$ans_tpl" \
        -v o="$oent_med" -v of="$conf_files" -v lb="$ans_load_before" -v la="$ans_load_after" 'BEGIN {
        printf "ansible    %d files in %.1f s wall (CPU %.1f s; load %s -> %s): %.3f s per file, template tasks alone %.3f s per file\n", n, w, u + s, lb, la, w / n, tpl / n
        printf "oent       %.6f s per file (median build / %d rendered templates)\n", o / of, of
        printf "ratio      ansible / oent per file = %.0fx (whole playbook), %.0fx (template tasks alone)\n", (w / n) / (o / of), (tpl / n) / (o / of)
    }'
fi
