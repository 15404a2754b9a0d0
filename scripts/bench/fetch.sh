#!/usr/bin/env bash
# Benchmark (issue 4): `oent fetch` against curl, downloading every archive
# of a registry of MODULES x VERSIONS small modules served by a real nginx on
# 127.0.0.1 (a free port; stopped on exit). A benchmark, not a test: it fails
# only if a step breaks.
#
# Setup (timed apart, not part of the benchmark): gen_tree.py writes one
# module directory per (module, version), `oent registry build` publishes
# them all into a registry directory, nginx serves it.
#
# Timed, each run from an empty OENT_CACHE_DIR:
#   - oent fetch: one `oent fetch NS/NAME --all --jobs JOBS` per module, in one
#     shell loop (oent fetch takes one module a call). Each call also reads
#     registry.yaml and the module's index file (2 more requests a module),
#     checks each archive's size and sha256, and fsyncs it into the cache;
#   - oent fetch, cache on tmpfs: the same with the cache in /dev/shm, where
#     fsync costs nothing: the difference is the disk's share;
#   - curl loop: one `curl -sSf -o /dev/null URL` process per archive;
#   - curl -K: one curl process, the archives one after another on one
#     kept-alive connection;
#   - curl --parallel: one curl process, --parallel-max JOBS.
# And, to see what each oent process costs before any download: `oent fetch`
# of a module already in the cache (still 2 conditional requests, answered
# 304), the same --offline, and `oent --version`.
#
# Usage: scripts/bench/fetch.sh
# Environment (all optional):
#   MODULES=200 VERSIONS=10 SEED=20260101   the generated registry
#   JOBS=8             downloads in flight (oent --jobs, curl --parallel-max)
#   RUNS=5 WARMUP=1    timed runs after warm-up runs, per command
#   KEEP=1             keep the temporary directory (path printed)
#   NO_HYPERFINE=1     time with a date +%s.%N loop even if hyperfine is installed
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/pf_common.sh"

MODULES=${MODULES:-200}
VERSIONS=${VERSIONS:-10}
SEED=${SEED:-20260101}
JOBS=${JOBS:-8}
RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}

need nginx curl

build_oent
ensure_hyperfine
make_work fetch
# nginx's workers drop to an unprivileged user when started as root: they
# must be able to walk into the registry.
chmod 755 "$WORK"
source "$BENCH/forge_common.sh"
SHM=""
on_exit_extra() {
    stop_servers
    [[ -z "$SHM" ]] || rm -rf "$SHM"
}

# --- setup: modules, registry ----------------------------------------------------
step "setup: $MODULES modules x $VERSIONS versions (seed $SEED), oent registry build"
t0=$(date +%s.%N)
"$OENT" new module bench/m-000 --dir "$WORK/template" > /dev/null
python3 "$BENCH/gen_tree.py" modules "$WORK/modules" "$WORK/template" \
    --modules "$MODULES" --versions "$VERSIONS" --seed "$SEED"
t1=$(date +%s.%N)
REG="$WORK/registry"
"$OENT" registry init "$REG" --name bench --namespace bench > /dev/null
"$OENT" registry build "$WORK/modules" --to "$REG" > "$WORK/build.out"
t2=$(date +%s.%N)
chmod -R a+rX "$REG"
gen_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
build_s=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.1f", b - a }')
echo "generated in $gen_s s, registry build in $build_s s ($(grep -c '^published' "$WORK/build.out") published)"

# --- nginx -------------------------------------------------------------------------
step "nginx"
start_nginx "$REG"
URL=$NGINX_URL
echo "$(nginx -v 2>&1) serving $REG at $URL"

read -r n_archives n_bytes < <(python3 "$BENCH/pf_stats.py" lists "$REG" "$URL" "$WORK")
n_modules=$(wc -l < "$WORK/modules.txt")
echo "$n_modules modules, $n_archives archives, $n_bytes bytes ($(awk -v b="$n_bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB, mean $((n_bytes / n_archives)) B)"

# --- the commands --------------------------------------------------------------------
q() { printf '%q' "$1"; }
CACHE="$WORK/cache"
SHM=$(mktemp -d /dev/shm/oent-bench-fetch.XXXXXX 2> /dev/null || true)
cat > "$WORK/oent-loop.sh" << EOF
# oent fetch of every module: CACHE_DIR as \$1.
while read -r m; do
    OENT_CACHE_DIR="\$1" $(q "$OENT") fetch "\$m" --registry $(q "$URL") --all --jobs $JOBS > /dev/null
done < $(q "$WORK/modules.txt")
EOF
cat > "$WORK/curl-loop.sh" << EOF
while read -r u; do curl -sSf -o /dev/null "\$u"; done < $(q "$WORK/urls.txt")
EOF
rows=("oent fetch" "oent fetch, cache on tmpfs" "curl loop" "curl -K (1 process)" "curl --parallel $JOBS")
cmds=(
    "bash $(q "$WORK/oent-loop.sh") $(q "$CACHE")"
    "bash $(q "$WORK/oent-loop.sh") $(q "$SHM/cache")"
    "bash $(q "$WORK/curl-loop.sh")"
    "curl -sSf -K $(q "$WORK/curl.cfg")"
    "curl -sSf --no-progress-meter --parallel --parallel-max $JOBS -K $(q "$WORK/curl.cfg")"
)
PREPARE="rm -rf $(q "$CACHE") $(q "$SHM/cache")"
if [[ -z "$SHM" ]]; then
    echo "no writable /dev/shm: the tmpfs row is left out"
    rows=("${rows[0]}" "${rows[@]:2}")
    cmds=("${cmds[0]}" "${cmds[@]:2}")
    PREPARE="rm -rf $(q "$CACHE")"
fi

step "checking that every side gets every archive"
bash "$WORK/oent-loop.sh" "$CACHE"
got=$(find "$CACHE/archives" -name '*.tar.gz' | wc -l)
[[ "$got" == "$n_archives" ]] || die "oent fetched $got archives, not $n_archives"
got_bytes=$(find "$CACHE/archives" -name '*.tar.gz' -printf '%s\n' | awk '{ s += $1 } END { printf "%d", s }')
[[ "$got_bytes" == "$n_bytes" ]] || die "oent's cache holds $got_bytes bytes, not $n_bytes"
curl -sS -K "$WORK/curl.cfg" -w '%{http_code} %{size_download}\n' > "$WORK/curl.check"
[[ $(grep -c '^200 ' "$WORK/curl.check") == "$n_archives" ]] || die "curl did not get $n_archives answers 200"
[[ $(awk '{ s += $2 } END { printf "%d", s }' "$WORK/curl.check") == "$n_bytes" ]] || die "curl got another byte count"
echo "oent: $got archives, $got_bytes bytes in its cache; curl: $n_archives answers 200, $n_bytes bytes"

args=()
for i in "${!rows[@]}"; do args+=("${rows[$i]}" "${cmds[$i]}"); done
load_before=$(load_avg)
step "timing: $WARMUP warm-up + $RUNS runs each, every run from an empty cache ($([[ $HYPERFINE == 1 ]] && hyperfine --version || echo 'date loop'))"
bench "$WORK/fetch.json" "$WARMUP" "$RUNS" "$PREPARE" "${args[@]}"

# What one oent process costs when there is nothing to download (the cache
# of the last run holds everything).
first=$(head -1 "$WORK/modules.txt")
bash "$WORK/oent-loop.sh" "$CACHE"
one_rows=("oent fetch, cached" "oent fetch --offline, cached" "oent --version")
one_cmds=(
    "env OENT_CACHE_DIR=$(q "$CACHE") $(q "$OENT") fetch $first --registry $(q "$URL") --all --jobs $JOBS"
    "env OENT_CACHE_DIR=$(q "$CACHE") $(q "$OENT") fetch $first --registry $(q "$URL") --all --jobs $JOBS --offline"
    "$(q "$OENT") --version"
)
one_args=()
for i in "${!one_rows[@]}"; do one_args+=("${one_rows[$i]}" "${one_cmds[$i]}"); done
step "one oent process with nothing to download ($first, $VERSIONS archives in the cache)"
NO_SHELL=1 bench "$WORK/one.json" 5 30 true "${one_args[@]}"
load_after=$(load_avg)

# --- summary --------------------------------------------------------------------------
step "summary: fetching $n_archives archives ($(awk -v b="$n_bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB) from nginx on 127.0.0.1"
printf 'machine    %s cores, %s, %s\n' "$(nproc)" "$(cpu_model)" "$(uname -sr)"
printf 'tools      %s, %s, %s\n' "$("$OENT" --version)" "$(curl --version | head -1 | cut -d' ' -f1-2)" "$(nginx -v 2>&1 | sed 's/.*: //')"
printf 'setup      %s modules x %s versions: generated in %s s, oent registry build in %s s (not timed below)\n' "$MODULES" "$VERSIONS" "$gen_s" "$build_s"
printf 'load avg   %s before timing, %s after (1/5/15 min; > 0 means other processes shared the cores)\n' "$load_before" "$load_after"
oent_med=$(jstat median "$WORK/fetch.json" "oent fetch")
printf '%-28s %9s %9s %9s %9s %9s %10s %8s %8s\n' command median min max user sys archives/s MB/s "vs oent"
for name in "${rows[@]}"; do
    med=$(jstat median "$WORK/fetch.json" "$name")
    printf '%-28s %s %s %s %s %s %10.0f %8.1f %7.2fx\n' "$name" "$(secs "$med")" \
        "$(secs "$(jstat min "$WORK/fetch.json" "$name")")" "$(secs "$(jstat max "$WORK/fetch.json" "$name")")" \
        "$(secs "$(jstat user "$WORK/fetch.json" "$name")")" "$(secs "$(jstat system "$WORK/fetch.json" "$name")")" \
        "$(awk -v n="$n_archives" -v t="$med" 'BEGIN { print n / t }')" \
        "$(awk -v b="$n_bytes" -v t="$med" 'BEGIN { print b / t / 1e6 }')" \
        "$(ratio "$med" "$oent_med")"
done
printf '("vs oent" = that command'"'"'s median / oent fetch'"'"'s: below 1 is faster than oent)\n'
for name in "${one_rows[@]}"; do
    printf '%-28s %7.1f ms median (30 runs)\n' "$name" "$(awk -v t="$(jstat median "$WORK/one.json" "$name")" 'BEGIN { print t * 1000 }')"
done
cached=$(jstat median "$WORK/one.json" "oent fetch, cached")
printf 'per process  %s oent processes x %.1f ms (a cached fetch: an upper bound, it also re-hashes the cached archives) = %.2f s, %.0f%% of oent'"'"'s %.2f s\n' \
    "$n_modules" "$(awk -v t="$cached" 'BEGIN { print t * 1000 }')" \
    "$(awk -v n="$n_modules" -v t="$cached" 'BEGIN { print n * t }')" \
    "$(awk -v n="$n_modules" -v t="$cached" -v o="$oent_med" 'BEGIN { print 100 * n * t / o }')" "$oent_med"
[[ -z "$SHM" ]] || { shm_med=$(jstat median "$WORK/fetch.json" "oent fetch, cache on tmpfs")
printf 'disk         cache on disk - cache on tmpfs = %.2f s, %.0f%% of oent'"'"'s time (fsync of each archive and index file)\n' \
    "$(awk -v a="$oent_med" -v b="$shm_med" 'BEGIN { print a - b }')" \
    "$(awk -v a="$oent_med" -v b="$shm_med" 'BEGIN { print 100 * (a - b) / a }')"; }
if [[ "$HYPERFINE" == 1 ]]; then
    cpu() { awk -v u="$(jstat user "$WORK/fetch.json" "$1")" -v s="$(jstat system "$WORK/fetch.json" "$1")" 'BEGIN { print u + s }'; }
    printf 'CPU time     (user + sys of the client processes, mean; nginx not counted) oent %.2f s, curl loop %.2f s, curl -K %.2f s, curl --parallel %.2f s\n' \
        "$(cpu "oent fetch")" "$(cpu "curl loop")" "$(cpu "curl -K (1 process)")" "$(cpu "curl --parallel $JOBS")"
fi
printf 'RATIOS       oent / curl loop = %s, oent / curl -K = %s, oent / curl --parallel = %s\n' \
    "$(ratio "$oent_med" "$(jstat median "$WORK/fetch.json" "curl loop")")" \
    "$(ratio "$oent_med" "$(jstat median "$WORK/fetch.json" "curl -K (1 process)")")" \
    "$(ratio "$oent_med" "$(jstat median "$WORK/fetch.json" "curl --parallel $JOBS")")"
