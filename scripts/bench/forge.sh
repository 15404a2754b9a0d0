#!/usr/bin/env bash
# Benchmark (issue 8): the forge against what an administrator would
# otherwise run, side by side on 127.0.0.1. A benchmark, not a test: it
# fails only if a step breaks.
#
#   1. static GETs: wrk against `oent forge serve` and against nginx serving
#      the same registry directory (one index file, one archive); the target
#      is >= 80 % of nginx's requests per second (issue 19; forge_read.sh measures it alone);
#   2. publishing: `oent publish` of PUBLISHES single-version modules, one
#      after another (each: a GET of the index, a PUT, unpack + lint, fsync of
#      archive and index, a new signed snapshot); the target is 1,000 in
#      under 10 s;
#   3. federation: `oent forge sync` mirroring MODULES x VERSIONS archives
#      (signature, snapshot and every hash checked, archives fsynced) from a
#      peer forge into an empty forge, against one sequential `curl -K`
#      process downloading the same archives (no check at all): MB/s each.
#
# Usage: scripts/bench/forge.sh
# Environment (all optional):
#   MODULES=500 VERSIONS=10   the peer's registry (5,000 archives)
#   PUBLISHES=1000            modules published one by one
#   DURATION=10 CONNECTIONS=64 THREADS=2   wrk
#   RUNS=3                    timed runs of the sync and curl mirrors
#   KEEP=1                    keep the temporary directory
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/pf_common.sh"

MODULES=${MODULES:-500}
VERSIONS=${VERSIONS:-10}
PUBLISHES=${PUBLISHES:-1000}
SEED=${SEED:-20261126}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
RUNS=${RUNS:-3}

need nginx wrk curl
build_oent
make_work forge
chmod 755 "$WORK"
source "$BENCH/forge_common.sh"

# --- setup ----------------------------------------------------------------------
step "setup: peer registry of $MODULES modules x $VERSIONS versions, signed"
t0=$(date +%s.%N)
start_peer
t1=$(date +%s.%N)
echo "setup in $(elapsed "$t0" "$t1") s"

start_nginx "$WORK/peer/registry"

# --- 1. static GETs ------------------------------------------------------------------
step "1. static GETs: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s"
INDEX=index/bench/m-000.jsonl
ARCHIVE=$(sed -n 's/.*"archive":"\([^"]*\)".*/\1/p' "$WORK/peer/registry/$INDEX" | head -1)
declare -A RPS
for file in "$INDEX" "$ARCHIVE"; do
    cmp <(curl -sS "$PEER_URL/$file") <(curl -sS "$NGINX_URL/$file") || die "$file differs between the forge and nginx"
    RPS[forge,$file]=$(wrk_rps "$PEER_URL/$file")
    RPS[nginx,$file]=$(wrk_rps "$NGINX_URL/$file")
    printf '%-40s forge %10.0f req/s   nginx %10.0f req/s   forge/nginx %s\n' "$file ($(stat -c %s "$WORK/peer/registry/$file") B)" \
        "${RPS[forge,$file]}" "${RPS[nginx,$file]}" "$(ratio "${RPS[forge,$file]}" "${RPS[nginx,$file]}")"
done

# --- 2. publishing --------------------------------------------------------------------
step "2. $PUBLISHES sequential publishes (oent publish, one forge, signed snapshot after each)"
python3 "$BENCH/gen_tree.py" modules "$WORK/pubmodules" "$WORK/template" \
    --modules "$PUBLISHES" --versions 1 --seed "$SEED" > /dev/null
"$OENT" key new "$WORK/pub-key" > /dev/null
mkdir -p "$WORK/pub"
"$OENT" registry init "$WORK/pub/registry" --name bench --namespace bench > /dev/null
TOKEN=oent_bench_token
HASH=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
cat > "$WORK/pub/forge.yaml" << EOF
schema: oent/forge/v1
registry: registry
listen: "127.0.0.1:0"
signing-key: ../pub-key
tokens: [{ name: bench, sha256: "$HASH", namespaces: [bench] }]
EOF
start_forge "$WORK/pub"
PUB_URL=$FORGE_URL
t0=$(date +%s.%N)
OENT_TOKEN=$TOKEN "$OENT" publish "$WORK/pubmodules" --to "$PUB_URL" > "$WORK/publish.out"
t1=$(date +%s.%N)
publish_s=$(elapsed "$t0" "$t1")
published=$(grep -c '^ *published' "$WORK/publish.out" || true)
echo "$published published in $publish_s s ($(awk -v s="$publish_s" -v n="$published" 'BEGIN { printf "%.1f", 1000 * s / n }') ms each, packing included)"

# --- 3. federation ----------------------------------------------------------------------
step "3. mirroring $n_archives archives ($(awk -v b="$n_bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB): oent forge sync vs curl -K"
declare -a SYNC CURL
for ((r = 0; r < RUNS; r++)); do
    SYNC+=("$(sync_once "$OENT")")
    CURL+=("$(curl_once)")
done
sync_s=$(median "${SYNC[@]}")
curl_s=$(median "${CURL[@]}")
mbps() { awk -v b="$n_bytes" -v s="$1" 'BEGIN { printf "%.1f", b / 1e6 / s }'; }
printf 'oent forge sync  %7.2f s  %6s MB/s   (runs: %s)\n' "$sync_s" "$(mbps "$sync_s")" "${SYNC[*]}"
printf 'curl -K          %7.2f s  %6s MB/s   (runs: %s)\n' "$curl_s" "$(mbps "$curl_s")" "${CURL[*]}"

step "summary ($(date -u +%Y-%m-%d), $(nproc) cores, $(cpu_model), load $(load_avg))"
for file in "$INDEX" "$ARCHIVE"; do
    printf 'GET %-38s forge/nginx %s (target >= 0.80, issue 19)\n' "${file##*/}" "$(ratio "${RPS[forge,$file]}" "${RPS[nginx,$file]}")"
done
printf '%s publishes             %s s (target < 10 s)\n' "$published" "$publish_s"
printf 'sync %s archives        %s MB/s vs curl -K %s MB/s (sync/curl %s)\n' "$n_archives" "$(mbps "$sync_s")" "$(mbps "$curl_s")" "$(ratio "$curl_s" "$sync_s")"
