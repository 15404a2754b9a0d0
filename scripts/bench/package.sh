#!/usr/bin/env bash
# Benchmark (issue 4): `oent package` against the shell pipeline a user would
# otherwise write for the same deterministic archive and its checksum:
#
#   tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
#       -C PARENT -c DIR | gzip -n -6 | sha256sum
#
# over a generated module of FILES files and BYTES bytes (gen_tree.py: mixed
# text, media and binaries, 100 B to 1 MiB, seeded). Same gzip level (6) on
# both sides. Target: oent median <= 1.2x the pipeline's. A benchmark, not a
# test: it fails only if a step breaks.
#
# Two more rows put the ratio in context (they are not the target):
#   - "tar|gzip|tee FILE|sha256sum": the pipeline also writes the archive,
#     as oent does (oent also fsyncs it);
#   - "same on 1 core": the pipeline under `taskset -c 0`. The pipeline is
#     3 processes (tar, gzip, sha256sum) that overlap on 2 cores; oent packs,
#     compresses and hashes in one thread.
#
# Usage: scripts/bench/package.sh
# Environment (all optional):
#   FILES=20000 BYTES=200000000 SEED=20260101   the generated tree
#   RUNS=5 WARMUP=2                             timed runs after warm-up runs, per command
#   PROFILE=auto|1|0   perf profile of one `oent package` (auto: when the ratio > 1.2)
#   KEEP=1             keep the temporary directory (path printed)
#   NO_HYPERFINE=1     time with a date +%s.%N loop even if hyperfine is installed
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/pf_common.sh"

FILES=${FILES:-20000}
BYTES=${BYTES:-200000000}
SEED=${SEED:-20260101}
RUNS=${RUNS:-5}
WARMUP=${WARMUP:-2}
PROFILE=${PROFILE:-auto}
TARGET=1.2

# The level must match oent's (src/package/archive.rs), or the comparison is moot.
LEVEL=$(sed -n 's/^pub const COMPRESSION_LEVEL: u32 = \([0-9]\);.*/\1/p' "$ROOT/src/package/archive.rs")
[[ -n "$LEVEL" ]] || die "cannot read COMPRESSION_LEVEL from src/package/archive.rs"

build_oent
ensure_hyperfine
make_work package

# --- the module tree ---------------------------------------------------------
step "generating the module: $FILES files, $BYTES bytes (seed $SEED)"
TREE="$WORK/big"
t0=$(date +%s.%N)
"$OENT" new module bench/big --dir "$TREE" > /dev/null
python3 "$BENCH/gen_tree.py" tree "$TREE" --files "$FILES" --bytes "$BYTES" --seed "$SEED"
gen_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo "generated in $gen_s s (not timed below)"
nfiles=$(find "$TREE" -type f | wc -l)
nbytes=$(find "$TREE" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d", s }')

# --- one run of each to check they pack the same files -----------------------
step "checking both sides"
TAR=(tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$WORK" -c big)
"$OENT" package "$TREE" -o "$WORK/out-oent" > "$WORK/oent.out"
cat "$WORK/oent.out"
ARCHIVE="$WORK/out-oent/bench/big-0.1.0.tar.gz"
[[ -f "$ARCHIVE" ]] || die "oent did not write $ARCHIVE"
(cd "$(dirname "$ARCHIVE")" && sha256sum --quiet -c "$(basename "$ARCHIVE").sha256") \
    || die "oent's .sha256 does not match its archive"
oent_entries=$(tar -tzf "$ARCHIVE" | grep -vc '/$' || true)
"${TAR[@]}" | gzip -n "-$LEVEL" > "$WORK/tar.tar.gz"
tar_entries=$(tar -tzf "$WORK/tar.tar.gz" | grep -vc '/$' || true)
echo "files in the archives: oent $oent_entries, tar $tar_entries (tar also stores $(tar -tzf "$WORK/tar.tar.gz" | grep -c '/$') directory entries)"
[[ "$oent_entries" == "$nfiles" && "$tar_entries" == "$nfiles" ]] \
    || die "file counts differ: tree $nfiles, oent $oent_entries, tar $tar_entries"
oent_size=$(stat -c %s "$ARCHIVE")
tar_size=$(stat -c %s "$WORK/tar.tar.gz")
rm -rf "$WORK/out-oent" "$WORK/tar.tar.gz"

# --- timing --------------------------------------------------------------------
q() { printf '%q' "$1"; }
tar_cmd="tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C $(q "$WORK") -c big"
OENT_CMD="$(q "$OENT") package $(q "$TREE") -o $(q "$WORK/out-oent")"
PIPE_CMD="$tar_cmd | gzip -n -$LEVEL | sha256sum"
TEE_CMD="$tar_cmd | gzip -n -$LEVEL | tee $(q "$WORK/tar.tar.gz") | sha256sum"
ONE_CMD="taskset -c 0 bash -c $(q "$PIPE_CMD")"
PREPARE="rm -rf $(q "$WORK/out-oent") $(q "$WORK/tar.tar.gz"); sync"
rows=("oent package" "tar|gzip|sha256sum" "tar|gzip|tee FILE|sha256sum")
cmds=("$OENT_CMD" "$PIPE_CMD" "$TEE_CMD")
if command -v taskset > /dev/null && (($(nproc) > 1)); then
    rows+=("same on 1 core")
    cmds+=("$ONE_CMD")
fi
args=()
for i in "${!rows[@]}"; do args+=("${rows[$i]}" "${cmds[$i]}"); done

load_before=$(load_avg)
step "timing: $WARMUP warm-up + $RUNS runs each ($([[ $HYPERFINE == 1 ]] && hyperfine --version || echo 'date loop'))"
bench "$WORK/package.json" "$WARMUP" "$RUNS" "$PREPARE" "${args[@]}"
load_after=$(load_avg)

oent_med=$(jstat median "$WORK/package.json" "oent package")
pipe_med=$(jstat median "$WORK/package.json" "tar|gzip|sha256sum")
r=$(ratio "$oent_med" "$pipe_med")

# Peak memory and CPU use of one more run of oent.
rss=""
if [[ -x /usr/bin/time ]]; then
    rm -rf "$WORK/out-oent"
    /usr/bin/time -f '%M %P' -o "$WORK/time.out" "$OENT" package "$TREE" -o "$WORK/out-oent" > /dev/null
    read -r rss_kb cpu_pct < "$WORK/time.out"
    rss="$((rss_kb / 1024)) MiB peak RSS, $cpu_pct CPU"
fi

# --- where oent's time goes --------------------------------------------------
profile=""
if [[ "$PROFILE" == 1 || ("$PROFILE" == auto && $(awk -v r="$r" -v t="$TARGET" 'BEGIN { print (r > t) }') == 1) ]]; then
    if command -v perf > /dev/null; then
        step "perf profile of one oent package"
        rm -rf "$WORK/out-oent"
        if perf record -F 499 -o "$WORK/perf.data" -- "$OENT" package "$TREE" -o "$WORK/out-oent" > /dev/null 2> "$WORK/perf.err"; then
            perf report -i "$WORK/perf.data" --stdio --no-children --sort dso,symbol 2> /dev/null \
                | grep -E '^ +[0-9]' | head -15 | tee "$WORK/profile.txt"
            profile="$WORK/profile.txt"
        else
            echo "perf record failed: $(tail -1 "$WORK/perf.err")"
        fi
    else
        echo "perf is not installed: no profile"
    fi
fi

# --- summary -------------------------------------------------------------------
lockver() { awk -v n="$1" '$0 == "name = \"" n "\"" { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"; }
shani=$(grep -o -m1 -w sha_ni /proc/cpuinfo | head -1 || true)
deflate_backend=$(grep -o 'features = \["zlib-rs"\]' "$ROOT/Cargo.toml" > /dev/null && echo "zlib-rs $(lockver zlib-rs)" || echo "see Cargo.toml")
step "summary: oent package vs tar | gzip -$LEVEL | sha256sum"
printf 'machine    %s cores, %s, %s\n' "$(nproc)" "$(cpu_model)" "$(uname -sr)"
printf 'CPU SHA-NI %s\n' "$([[ -n "$shani" ]] && echo "yes (sha2 uses its x86 SHA-NI path)" || echo "no (sha2 falls back to its portable 'soft' unrolled path)")"
printf 'oent       flate2 %s, deflate backend %s, level %s; sha2 %s (SHA-NI chosen at run time via cpufeatures %s)\n' \
    "$(lockver flate2)" "$deflate_backend" "$LEVEL" "$(lockver sha2)" "$(lockver cpufeatures)"
printf 'tools      %s, %s, %s\n' "$(tar --version | head -1)" "$(gzip --version | head -1)" "$(sha256sum --version | head -1)"
printf 'tree       %s files, %s bytes (%.1f MB), generated in %s s\n' "$nfiles" "$nbytes" "$(awk -v b="$nbytes" 'BEGIN { print b / 1e6 }')" "$gen_s"
printf 'load avg   %s before timing, %s after (1/5/15 min; > 0 means other processes shared the cores)\n' "$load_before" "$load_after"
printf '%-30s %9s %9s %9s %9s %9s %8s\n' command median min max user sys "vs tar"
for name in "${rows[@]}"; do
    med=$(jstat median "$WORK/package.json" "$name")
    printf '%-30s %s %s %s %s %s %7.2fx\n' "$name" "$(secs "$med")" \
        "$(secs "$(jstat min "$WORK/package.json" "$name")")" "$(secs "$(jstat max "$WORK/package.json" "$name")")" \
        "$(secs "$(jstat user "$WORK/package.json" "$name")")" "$(secs "$(jstat system "$WORK/package.json" "$name")")" \
        "$(ratio "$med" "$pipe_med")"
done
printf 'throughput oent %.1f MB/s, pipeline %.1f MB/s (input bytes / median)\n' \
    "$(awk -v b="$nbytes" -v t="$oent_med" 'BEGIN { print b / t / 1e6 }')" \
    "$(awk -v b="$nbytes" -v t="$pipe_med" 'BEGIN { print b / t / 1e6 }')"
printf 'archives   oent %s bytes (%.1f%% of the input), tar+gzip %s bytes (%.1f%%); oent/tar %s\n' \
    "$oent_size" "$(awk -v a="$oent_size" -v b="$nbytes" 'BEGIN { print 100 * a / b }')" \
    "$tar_size" "$(awk -v a="$tar_size" -v b="$nbytes" 'BEGIN { print 100 * a / b }')" \
    "$(ratio "$oent_size" "$tar_size" 3)"
[[ -n "$rss" ]] && printf 'oent run   %s\n' "$rss"
[[ -n "$profile" ]] && printf "profile    top symbols of oent package: see the perf section above\n"
if [[ "$HYPERFINE" == 1 ]]; then
    cpu_oent=$(awk -v u="$(jstat user "$WORK/package.json" "oent package")" -v s="$(jstat system "$WORK/package.json" "oent package")" 'BEGIN { print u + s }')
    cpu_pipe=$(awk -v u="$(jstat user "$WORK/package.json" "tar|gzip|sha256sum")" -v s="$(jstat system "$WORK/package.json" "tar|gzip|sha256sum")" 'BEGIN { print u + s }')
    printf 'CPU time   oent %.2f s, pipeline %.2f s (user + sys, mean of all processes): ratio %s (less sensitive to other load than wall time)\n' \
        "$cpu_oent" "$cpu_pipe" "$(ratio "$cpu_oent" "$cpu_pipe")"
fi
verdict=$(awk -v r="$r" -v t="$TARGET" 'BEGIN { print (r <= t) ? "met" : "NOT met" }')
printf 'RATIO      oent/pipeline = %s (median %.3f s / %.3f s): target <= %s %s\n' "$r" "$oent_med" "$pipe_med" "$TARGET" "$verdict"
