#!/usr/bin/env bash
# How fast the forge's web catalogue answers over N modules: the cold build
# (every newest archive read once), then the list page, a search, a module
# page, with registry.yaml from the same forge as the static baseline.
#
#   scripts/bench/catalogue.sh              # 1000 modules, 30 requests each
#   N=200 RUNS=10 scripts/bench/catalogue.sh
#
# Environment: N, RUNS, OENT_BIN (a prebuilt binary instead of
# `cargo build --release`), KEEP=1 (keep the work directory).
set -euo pipefail
N=${N:-1000}
RUNS=${RUNS:-30}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH="$ROOT/scripts/bench"
if [[ -n "${OENT_BIN:-}" ]]; then
    OENT=$OENT_BIN
else
    (cd "$ROOT" && cargo build --release --quiet)
    OENT="$ROOT/target/release/oent"
fi

WORK=$(mktemp -d)
FORGE_PID=
cleanup() {
    if [[ -n "$FORGE_PID" ]] && kill -0 "$FORGE_PID" 2> /dev/null; then
        kill -TERM "$FORGE_PID" 2> /dev/null || true
        wait "$FORGE_PID" 2> /dev/null || true
    fi
    [[ -n "${KEEP:-}" ]] || rm -rf "$WORK"
}
trap cleanup EXIT

echo "== setup: $N modules, oent registry build"
python3 "$BENCH/gen_modules.py" "$WORK" "$N" > /dev/null
"$OENT" registry init "$WORK/registry" --name openent --namespace openent > /dev/null
"$OENT" registry build "$WORK/modules" --to "$WORK/registry" > /dev/null
printf 'schema: oent/forge/v1\nregistry: registry\nlisten: "127.0.0.1:0"\n' > "$WORK/forge.yaml"

echo "== forge"
t0=$(date +%s.%N)
"$OENT" forge serve --config "$WORK/forge.yaml" > "$WORK/out" 2> "$WORK/log" &
FORGE_PID=$!
for _ in $(seq 100); do
    grep -q '^oent forge: serving ' "$WORK/out" 2> /dev/null && break
    sleep 0.05
done
URL=$(sed -n 's/^oent forge: serving //p' "$WORK/out")
[[ -n "$URL" ]] || { cat "$WORK/log"; exit 1; }
curl -sf -o /dev/null "$URL/"
t1=$(date +%s.%N)
echo "start to first list page (cold: every archive read): $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
grep -o 'catalogue rebuilt.*' "$WORK/log" | head -1

# Median of RUNS request times (curl's time_total), in milliseconds.
median_ms() {
    for _ in $(seq "$RUNS"); do
        curl -sf -o /dev/null -w '%{time_total}\n' "$1"
    done | sort -n | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] * 1000 }'
}
static=$(median_ms "$URL/registry.yaml")
list=$(median_ms "$URL/")
search=$(median_ms "$URL/?q=mod-00&audience=eleve")
page=$(median_ms "$URL/modules/openent/mod-0001")
bytes=$(curl -sf "$URL/" | wc -c)
echo "== median of $RUNS requests, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
printf '%-40s %8s ms\n' "registry.yaml (static baseline)" "$static" \
    "list page, $N modules ($bytes bytes)" "$list" \
    "search + filter" "$search" \
    "module page" "$page"
awk -v l="$list" -v s="$static" 'BEGIN { printf "list page / static file: %.1fx\n", l / s }'
