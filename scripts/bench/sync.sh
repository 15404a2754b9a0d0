#!/usr/bin/env bash
# Benchmark (issue 19, item 3): `oent forge sync` mirroring a peer forge's
# MODULES x VERSIONS archives into an empty forge (snapshot signature, every
# index file and every archive's size and sha256 checked, atomic writes,
# syncfs barriers), side by side with curl on the same peer and the same
# archives, checking nothing: one sequential `curl -K` process (kept-alive
# connection) and one `curl --parallel` process. Runs alternate (sync, curl,
# sync, ...) so that the machine's load falls on every side alike. With
# BEFORE_BIN, that binary's `oent forge sync` runs too (the before/after).
# A benchmark, not a test: it fails only if a step breaks.
#
# Usage: scripts/bench/sync.sh
# Environment (all optional):
#   MODULES=500 VERSIONS=10   the peer's registry (5,000 archives)
#   RUNS=5                    timed runs of each side
#   JOBS=8                    curl --parallel-max
#   BEFORE_BIN=path/to/oent   an older oent to time beside this one
#   KEEP=1                    keep the temporary directory
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/pf_common.sh"

MODULES=${MODULES:-500}
VERSIONS=${VERSIONS:-10}
SEED=${SEED:-20261126}
RUNS=${RUNS:-5}
JOBS=${JOBS:-8}
BEFORE_BIN=${BEFORE_BIN:-}

need curl
build_oent
make_work sync
# BEFORE_BIN is copied too: see pin_oent.
pin_oent
[[ -z "$BEFORE_BIN" ]] || cp "$BEFORE_BIN" "$WORK/oent-before"
source "$BENCH/forge_common.sh"

step "setup: peer registry of $MODULES modules x $VERSIONS versions, signed, served by oent forge serve"
start_peer
echo "$n_archives archives, $n_bytes bytes, served at $PEER_URL"

step "checking that every side gets every byte"
sync_once "$OENT" > /dev/null
got=$(find "$WORK/mirror/registry/archives" -name '*.tar.gz' -printf '%s\n' | awk '{ n++; s += $1 } END { printf "%d %d", n, s }')
[[ "$got" == "$n_archives $n_bytes" ]] || die "the mirror holds $got (archives bytes), not $n_archives $n_bytes"
curl_once > /dev/null
got=$(find "$WORK/curl-mirror" -name '*.tar.gz' -printf '%s\n' | awk '{ n++; s += $1 } END { printf "%d %d", n, s }')
[[ "$got" == "$n_archives $n_bytes" ]] || die "curl got $got (archives bytes), not $n_archives $n_bytes"
echo "both: $n_archives archives, $n_bytes bytes"

load_before=$(load_avg)
step "timing: $RUNS rounds, each side once a round"
declare -a NEW OLD SEQ PAR
for ((r = 0; r < RUNS; r++)); do
    NEW+=("$(sync_once "$OENT")")
    [[ -z "$BEFORE_BIN" ]] || OLD+=("$(sync_once "$WORK/oent-before")")
    SEQ+=("$(curl_once)")
    PAR+=("$(curl_once --parallel --parallel-max "$JOBS")")
    echo "round $((r + 1)): sync ${NEW[-1]} s${BEFORE_BIN:+, sync before ${OLD[-1]} s}, curl -K ${SEQ[-1]} s, curl --parallel ${PAR[-1]} s"
done
load_after=$(load_avg)

step "summary ($(date -u +%Y-%m-%d), $(nproc) cores, $(cpu_model), load $load_before before, $load_after after)"
new=$(median "${NEW[@]}")
seq=$(median "${SEQ[@]}")
par=$(median "${PAR[@]}")
mbps() { awk -v b="$n_bytes" -v s="$1" 'BEGIN { printf "%.1f", b / 1e6 / s }'; }
row() { printf '%-30s %7.3f s %7s MB/s   (runs: %s)\n' "$1" "$2" "$(mbps "$2")" "$3"; }
row "oent forge sync" "$new" "${NEW[*]}"
[[ -z "$BEFORE_BIN" ]] || row "oent forge sync (before)" "$(median "${OLD[@]}")" "${OLD[*]}"
row "curl -K (1 process)" "$seq" "${SEQ[*]}"
row "curl --parallel $JOBS" "$par" "${PAR[*]}"
printf 'RATIOS  speed of sync / curl -K = %s, sync / curl --parallel %s = %s' \
    "$(ratio "$seq" "$new")" "$JOBS" "$(ratio "$par" "$new")"
[[ -z "$BEFORE_BIN" ]] || printf ', before: sync / curl -K = %s' "$(ratio "$seq" "$(median "${OLD[@]}")")"
printf '  (above 1: sync is faster)\n'
