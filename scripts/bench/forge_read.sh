#!/usr/bin/env bash
# Benchmark (issue 19, item 2): the forge's read path against nginx, side by
# side on 127.0.0.1. wrk (same threads, connections and duration for each)
# asks `oent forge serve` and nginx (2 workers, sendfile, etag) for the same
# files of the same registry directory: one index file and one archive. The
# target is >= 0.80 of nginx's requests per second. A benchmark, not a test:
# it fails only if a step breaks or the two servers answer different bytes.
#
# Usage: scripts/bench/forge_read.sh
# Environment (all optional):
#   MODULES=50 VERSIONS=4              the registry served
#   DURATION=10 CONNECTIONS=64 THREADS=2   wrk
#   ROUNDS=3                           forge and nginx measured alternately, ROUNDS times;
#                                      the best of each is kept (on a shared machine, the
#                                      slower rounds measure the neighbours)
#   OENT_BEFORE=path/to/oent           also measure that binary (an earlier build), same files
#   KEEP=1                             keep the temporary directory
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/pf_common.sh"

MODULES=${MODULES:-50}
VERSIONS=${VERSIONS:-4}
SEED=${SEED:-20261206}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
OENT_BEFORE=${OENT_BEFORE:-}

for tool in nginx wrk curl; do
    command -v "$tool" > /dev/null || die "$tool is not installed (apt-get install -y $tool)"
done
build_oent
make_work forge-read
chmod 755 "$WORK"
source "$BENCH/forge_common.sh"

step "setup: registry of $MODULES modules x $VERSIONS versions, signed"
"$OENT" new module bench/m-000 --dir "$WORK/template" > /dev/null
python3 "$BENCH/gen_tree.py" modules "$WORK/modules" "$WORK/template" \
    --modules "$MODULES" --versions "$VERSIONS" --seed "$SEED"
"$OENT" key new "$WORK/key" > /dev/null
mkdir -p "$WORK/forge"
"$OENT" registry init "$WORK/forge/registry" --name bench --namespace bench > /dev/null
"$OENT" registry build "$WORK/modules" --to "$WORK/forge/registry" --sign "$WORK/key" > /dev/null
chmod -R a+rX "$WORK/forge"
cat > "$WORK/forge/forge.yaml" << EOF
schema: oent/forge/v1
registry: registry
listen: "127.0.0.1:0"
signing-key: ../key
sync-interval-seconds: 0
EOF

start_nginx "$WORK/forge/registry"

INDEX=index/bench/m-000.jsonl
ARCHIVE=$(sed -n 's/.*"archive":"\([^"]*\)".*/\1/p' "$WORK/forge/registry/$INDEX" | head -1)
FILES=("$INDEX" "$ARCHIVE")
best() { printf '%s\n' "$@" | sort -g | tail -1; }

# measure NAME BINARY: ROUNDS alternations of wrk against the forge run by
# BINARY and against nginx, file by file; RPS[NAME,file] and RPS[nginx-NAME,file]
# hold the best rounds (nginx is measured beside each binary: the machine drifts).
declare -A RPS
measure() {
    local name=$1 binary=$2 file r forge=() nginx=()
    start_forge "$WORK/forge" "$binary"
    local url=$FORGE_URL pid=$FORGE_PID
    for file in "${FILES[@]}"; do
        cmp <(curl -sS "$url/$file") <(curl -sS "$NGINX_URL/$file") || die "$file differs between the forge and nginx"
        forge=() nginx=()
        for ((r = 0; r < ROUNDS; r++)); do
            forge+=("$(wrk_rps "$url/$file")")
            nginx+=("$(wrk_rps "$NGINX_URL/$file")")
        done
        RPS[$name,$file]=$(best "${forge[@]}")
        RPS[nginx-$name,$file]=$(best "${nginx[@]}")
        printf '%-8s %-44s forge %8.0f req/s (%s)   nginx %8.0f req/s (%s)   ratio %s\n' "$name" \
            "${file##*/} ($(stat -c %s "$WORK/forge/registry/$file") B)" \
            "${RPS[$name,$file]}" "${forge[*]}" "${RPS[nginx-$name,$file]}" "${nginx[*]}" \
            "$(ratio "${RPS[$name,$file]}" "${RPS[nginx-$name,$file]}")"
    done
    kill -TERM "$pid"
    wait "$pid" 2> /dev/null || true
}

step "static GETs: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, $ROUNDS alternated rounds, best of each"
NAMES=()
if [[ -n "$OENT_BEFORE" ]]; then
    measure before "$OENT_BEFORE"
    NAMES+=(before)
fi
measure oent "$OENT"
NAMES+=(oent)

step "summary ($(date -u +%Y-%m-%d), $(nproc) cores, $(cpu_model), load $(load_avg))"
for name in "${NAMES[@]}"; do
    for file in "${FILES[@]}"; do
        printf '%-7s GET %-48s forge/nginx %s (target >= 0.80)\n' "$name" "${file##*/}" \
            "$(ratio "${RPS[$name,$file]}" "${RPS[nginx-$name,$file]}")"
    done
done
