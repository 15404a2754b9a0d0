#!/usr/bin/env bash
# Benchmark (issue 19, item 3, second half): a federation of FORGES forges on
# loopback, one `oent forge serve` process each, syncing every INTERVAL
# seconds: requests and bytes of an idle round at each catalogue size (only
# conditional requests: flat), beside a `curl -z` mirror loop over the same
# files served by nginx; propagation of a publish, catch-up of a forge that
# was down, refusal of a rolled-back and of a forked snapshot. Every figure
# is counted from the servers' logs (the forges' `oent::access` log), not
# estimated. The work lives on /dev/shm when it exists (the fsyncs of 100
# forges are not what is measured). A benchmark, not a test: it fails only
# if a step breaks; the whole run is bounded by TIMEOUT.
#
# Usage: scripts/bench/federation.sh
# Environment (all optional):
#   FORGES=100 INTERVAL=2       forges, sync-interval-seconds
#   SIZES=100,1000,10000        catalogue sizes (modules, spread over the forges)
#   WINDOW=10                   seconds of idle rounds counted at each size
#   CATCHUP=20                  publishes made while a forge is down
#   OENT_BIN=target/debug/oent  use this binary instead of a release build
#   TIMEOUT=3000                seconds for the whole run
#   KEEP=1                      keep the temporary directory
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/pf_common.sh"

FORGES=${FORGES:-100}
INTERVAL=${INTERVAL:-2}
SIZES=${SIZES:-100,1000,10000}
WINDOW=${WINDOW:-10}
CATCHUP=${CATCHUP:-20}
TIMEOUT=${TIMEOUT:-3000}

need curl nginx python3
build_oent
[[ -d /dev/shm && -w /dev/shm ]] && export TMPDIR=/dev/shm
make_work federation
# nginx's workers run as another user: let them through to the registries.
chmod 755 "$WORK"
pin_oent
ulimit -n 65536 2> /dev/null || true

load_before=$(load_avg)
step "$FORGES forges, sync every $INTERVAL s, catalogue $SIZES modules ($(date -u '+%Y-%m-%d %H:%M'), $(nproc) cores, $(cpu_model), load $load_before)"
timeout --signal=TERM --kill-after=30 "$TIMEOUT" python3 "$BENCH/federation.py" \
    --oent "$OENT" --work "$WORK/fed" --forges "$FORGES" --interval "$INTERVAL" \
    --sizes "$SIZES" --window "$WINDOW" --catchup "$CATCHUP"
echo "load $load_before before, $(load_avg) after"
