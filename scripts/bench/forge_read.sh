#!/usr/bin/env bash
# Benchmark (issue 19, item 2): the forge's read path against nginx, side by
# side on 127.0.0.1. wrk (same threads, connections and duration for each)
# asks `oent forge serve` and nginx (sendfile, etag, as many workers as the
# forge has threads: one per core) for the same files of the same registry
# directory: one index file and one archive. The target is >= 0.80 of nginx's
# requests per second. A benchmark, not a test: it fails only if a step
# breaks or the servers answer different bytes.
#
# On a shared machine one long run of each side measures the neighbours as
# much as the servers, so the sides take short turns: ROUNDS rounds per file,
# each round one wrk run against every side (the order rotating from round to
# round), and the figure is the median of the per-round ratios. Nothing is
# pinned to a core (nginx is not either).
#
# Usage: scripts/bench/forge_read.sh
# Environment (all optional):
#   MODULES=50 VERSIONS=4              the registry served
#   DURATION=3 CONNECTIONS=64 THREADS=2   wrk, per turn
#   ROUNDS=9                           rounds per file (each: one turn per side)
#   WORKERS=$(nproc)                   nginx's worker processes (the forge runs
#                                      one runtime thread per core)
#   OENT_BEFORE=path/to/oent           also measure that binary (an earlier build)
#                                      in the same rounds, same files
#   OENT_COMPARE="name=path ..."     more binaries measured the same way (candidates)
#   KEEP=1                             keep the temporary directory
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/pf_common.sh"

MODULES=${MODULES:-50}
VERSIONS=${VERSIONS:-4}
SEED=${SEED:-20261206}
DURATION=${DURATION:-3}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-9}
NGINX_WORKERS=${WORKERS:-$(nproc)}
OENT_BEFORE=${OENT_BEFORE:-}
OENT_COMPARE=${OENT_COMPARE:-}

need nginx wrk curl
build_oent
make_work forge-read
chmod 755 "$WORK"
source "$BENCH/forge_common.sh"

step "setup: registry of $MODULES modules x $VERSIONS versions, signed"
signed_registry "$WORK/forge"

start_nginx "$WORK/forge/registry"

INDEX=index/bench/m-000.jsonl
ARCHIVE=$(sed -n 's/.*"archive":"\([^"]*\)".*/\1/p' "$WORK/forge/registry/$INDEX" | head -1)
FILES=("$INDEX" "$ARCHIVE")

# The sides: nginx, then each forge binary, each started once on the same
# registry (idle while the others are measured).
SIDES=(nginx)
declare -A URL
URL[nginx]=$NGINX_URL
add_forge() {
    local name=$1 binary=$2
    mkdir -p "$WORK/side-$name"
    sed 's|^registry: registry|registry: ../forge/registry|' "$WORK/forge/forge.yaml" > "$WORK/side-$name/forge.yaml"
    start_forge "$WORK/side-$name" "$binary"
    URL[$name]=$FORGE_URL
    SIDES+=("$name")
}
[[ -n "$OENT_BEFORE" ]] && add_forge before "$OENT_BEFORE"
for named in $OENT_COMPARE; do add_forge "${named%%=*}" "${named#*=}"; done
add_forge oent "$OENT"

step "static GETs: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s per turn, $ROUNDS rounds per file, sides ${SIDES[*]}, nginx with $NGINX_WORKERS workers, load $(load_avg)"
declare -A RPS RATIOS
for file in "${FILES[@]}"; do
    for side in "${SIDES[@]}"; do
        cmp <(curl -sS "${URL[$side]}/$file") "$WORK/forge/registry/$file" || die "$side answers other bytes for $file"
    done
    for ((r = 0; r < ROUNDS; r++)); do
        declare -A this=()
        # Rotate the order so that no side always runs first (or last).
        for ((i = 0; i < ${#SIDES[@]}; i++)); do
            side=${SIDES[(i + r) % ${#SIDES[@]}]}
            this[$side]=$(wrk_rps "${URL[$side]}/$file")
            RPS[$side,$file]+=" ${this[$side]}"
        done
        line="round $((r + 1)) $(printf '%-28s' "${file##*/}") nginx $(printf '%6.0f' "${this[nginx]}")"
        for side in "${SIDES[@]:1}"; do
            RATIOS[$side,$file]+=" $(ratio "${this[$side]}" "${this[nginx]}" 3)"
            line+="  $side $(printf '%6.0f' "${this[$side]}") ($(ratio "${this[$side]}" "${this[nginx]}"))"
        done
        echo "$line   load $(cut -d' ' -f1 /proc/loadavg)"
    done
done

step "summary ($(date -u '+%Y-%m-%d %H:%M'), $(nproc) cores, $(cpu_model), load $(load_avg), nginx $NGINX_WORKERS workers)"
printf '%-28s %-9s %12s %12s %22s %s\n' file side "median req/s" "nginx median" "median of round ratios" "ratios"
for file in "${FILES[@]}"; do
    for side in "${SIDES[@]:1}"; do
        # shellcheck disable=SC2086 # the lists are space-separated on purpose
        printf '%-28s %-9s %12.0f %12.0f %22s %s\n' "${file##*/} ($(stat -c %s "$WORK/forge/registry/$file") B)" "$side" \
            "$(median ${RPS[$side,$file]})" "$(median ${RPS[nginx,$file]})" \
            "$(median ${RATIOS[$side,$file]})" "${RATIOS[$side,$file]# }"
    done
done
echo "target: forge/nginx >= 0.80"
