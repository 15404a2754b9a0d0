#!/usr/bin/env bash
# How long the first hour's commands take: `oent import etablissements` over
# a file the size of the whole Annuaire de l'éducation (66,460 rows, made by
# repeating tests/fixtures/import/annuaire-education.csv with other UAIs),
# and `oent search` / `oent info` over the catalogue built into oent, with a
# cold cache (every archive written out and read) and a warm one.
#
#   scripts/bench/first_hour.sh              # release build, 5 runs each
#   OENT_BIN=target/debug/oent RUNS=3 scripts/bench/first_hour.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-5}
ROWS=${ROWS:-66460}
if [ -z "${OENT_BIN:-}" ]; then
    cargo build --release --quiet
    OENT_BIN=target/release/oent
fi
OENT_BIN=$(realpath "$OENT_BIN")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$ROWS" "$work/annuaire.csv" <<'PY'
import sys
rows, out = int(sys.argv[1]), sys.argv[2]
letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
lines = open("tests/fixtures/import/annuaire-education.csv", encoding="utf-8").read().splitlines()
header, body = lines[0], lines[1:]
with open(out, "w", encoding="utf-8") as f:
    f.write(header + "\n")
    seen = {}
    for i in range(rows):
        fields = body[i % len(body)].split(";")
        # Same département prefix, the next number of that prefix: unique
        # UAIs up to 10,000 per département (the one selected stays below).
        prefix = fields[0][:3]
        seen[prefix] = seen.get(prefix, -1) + 1
        number = prefix + "%04d" % (seen[prefix] % 10000)
        fields[0] = number + letters[int(number) % 23]
        f.write(";".join(fields) + "\n")
PY

time_runs() {
    local label=$1; shift
    local best=
    for _ in $(seq "$RUNS"); do
        local start end
        start=$(date +%s.%N)
        "$@" >/dev/null 2>&1 || true
        end=$(date +%s.%N)
        best=$(python3 -c "t=$end-$start; b='$best'; print(min(t, float(b)) if b else t)")
    done
    printf '%-58s best of %s: %6.3f s\n' "$label" "$RUNS" "$best"
}

cd "$work"
# Every row is read and classified; the Gironde's 3,692 collèges and lycées are
# checked and written.
time_runs "import etablissements ($ROWS rows, --departement 33)" \
    "$OENT_BIN" import etablissements annuaire.csv --departement 33 -o out.csv
cold() { rm -rf "$work/cache"; OENT_CACHE_DIR="$work/cache" "$OENT_BIN" "$@"; }
warm() { OENT_CACHE_DIR="$work/cache" "$OENT_BIN" "$@"; }
time_runs "search cahier (embedded catalogue, cold cache)" cold search cahier
warm search cahier >/dev/null
time_runs "search cahier (embedded catalogue, warm cache)" warm search cahier
time_runs "info openent/portail (embedded catalogue, warm cache)" warm info openent/portail
