#!/usr/bin/env bash
# Benchmark: `oent import aaf` against the Python script a collectivité
# would otherwise write (xml.etree iterparse, see py_aaf.py), over a
# generated complete AAF export of N people (see gen_aaf.py) for the
# Essonne example's 100 collèges. A benchmark, not a test: it fails only if
# a step breaks or the two tools write different LDIF.
#
# Usage: scripts/bench/aaf.sh
# Environment (all optional):
#   N=100000          people in the export
#   RUNS=5            timed runs of each tool (after one warm-up run each)
#   OENT_BIN=PATH     time this oent binary instead of building target/release/oent
#   KEEP=1            keep the generated export (the path is printed)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/pf_common.sh"

N=${N:-100000}
RUNS=${RUNS:-5}

build_oent
make_work aaf
copy_example essonne-colleges

step "export of $N people ($WORK/aaf)"
python3 "$BENCH/gen_aaf.py" "$DIST/etablissements.csv" "$WORK/aaf" "$N"
FILES=()
for kind in EtabEducNat Eleve PersRelEleve PersEducNat; do
    FILES+=("$WORK/aaf/ENT_BENCH_Complet_20260901_${kind}_0000.xml")
done
du -ch "${FILES[@]}" | tail -1

oent_run() { "$OENT" import aaf "${FILES[@]}" --to "$DIST" --locked -o "$WORK/oent.ldif" 2>/dev/null; }
py_run() { python3 "$BENCH/py_aaf.py" dc=colleges,dc=essonne,dc=fr "$DIST/etablissements.csv" "$WORK/py.ldif" "${FILES[@]}"; }

step "both write the same LDIF"
oent_run || die "oent import aaf failed"
py_run || die "py_aaf.py failed"
cmp "$WORK/oent.ldif" "$WORK/py.ldif" || die "the two LDIF files differ"
grep -c '^dn: ' "$WORK/oent.ldif" | sed 's/$/ entries/'

# Median of RUNS wall-clock times (seconds), after one warm-up run.
time_of() {
    "$1" > /dev/null
    local times=() t0
    for _ in $(seq "$RUNS"); do
        t0=$(date +%s.%N)
        "$1" > /dev/null
        times+=("$(elapsed "$t0" "$(date +%s.%N)")")
    done
    median "${times[@]}"
}

step "timing ($RUNS runs each, median)"
T_OENT=$(time_of oent_run)
T_PY=$(time_of py_run)
printf 'oent import aaf : %6.2f s\n' "$T_OENT"
printf 'py_aaf.py       : %6.2f s\n' "$T_PY"
printf 'ratio           : %6.1f x (Python time / oent time)\n' "$(ratio "$T_PY" "$T_OENT" 3)"
