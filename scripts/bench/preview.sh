#!/usr/bin/env bash
# Benchmark (issue 20): what the upgrade previews cost on the largest example
# (examples/ile-de-france: 471 établissements, 13 modules, ~3,800 files),
# against the `oent build` they preview. `oent update --dry-run` renders two
# bundles (the current lock's and the new one's) into a temporary folder and
# compares them; when the lock would not move it renders nothing. `oent build
# --diff` renders one bundle and compares it with the bundle on disk. A
# benchmark, not a test: it fails only if a step breaks, never on a time.
#
# Usage: scripts/bench/preview.sh
# Environment (all optional):
#   OENT_BIN=PATH   the oent to time (default: target/release/oent, built from this tree)
#   RUNS=5          timed runs of each command
#   TMPDIR=DIR      where the previews render (default: /dev/shm when it is a
#                   writable tmpfs: on a busy ext4, creating thousands of files
#                   just after deleting thousands is dominated by the kernel's
#                   inode allocation, not by oent; see README.md)
set -euo pipefail

RUNS=${RUNS:-5}
if [[ -z "${TMPDIR:-}" && -w /dev/shm ]]; then
    export TMPDIR=/dev/shm
fi
source "$(dirname "${BASH_SOURCE[0]}")/pf_common.sh"
build_oent
make_work preview
copy_example ile-de-france
cd "$WORK"

# The lock one version behind on openent/portail (1.4.0, as the catalogue
# still publishes it): `oent update` would move it to the newest.
python3 - "$ROOT/registry/index/openent/portail.jsonl" examples/ile-de-france/oent.lock <<'PY'
import json, sys
index, lock = sys.argv[1], sys.argv[2]
lines = [json.loads(l) for l in open(index)]
text = open(lock).read()
newest = max(lines, key=lambda l: [int(p) for p in l["version"].split(".")])
older = [l for l in lines if l["version"] != newest["version"]][-1]
locked = f'name: openent/portail\n    version: "{newest["version"]}"'
assert locked in text, "the example's lock is not on the newest portail"
text = text.replace(locked, f'name: openent/portail\n    version: "{older["version"]}"')
text = text.replace(newest["sha256"], older["sha256"])
open(lock, "w").write(text)
PY

# Median wall time of RUNS runs, and the peak RSS of the last one.
measure() {
    local label=$1
    shift
    local times=()
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -f "%e %M" -o "$WORK/time" "$OENT" "$@" >/dev/null 2>"$WORK/err" \
            || { cat "$WORK/err" >&2; exit 1; }
        times+=("$(cut -d' ' -f1 "$WORK/time")")
    done
    printf '%-44s median %6.2f s   peak RSS %6d KB\n' "$label" "$(median "${times[@]}")" "$(cut -d' ' -f2 "$WORK/time")"
}

dist=examples/ile-de-france
"$OENT" build "$dist" --offline -o "$WORK/bundle" >/dev/null 2>&1
measure "oent build (471 établissements)" build "$dist" --offline -o "$WORK/bundle"
measure "oent update --dry-run (portail moves)" update --dry-run --dist "$dist" --offline
measure "oent build --diff (bundle up to date)" build "$dist" --offline -o "$WORK/bundle" --diff
"$OENT" update --dist "$dist" --offline >/dev/null 2>&1
measure "oent update --dry-run (nothing moves)" update --dry-run --dist "$dist" --offline
measure "oent build --diff (portail moved)" build "$dist" --offline -o "$WORK/bundle" --diff
rm -rf "$WORK/bundle"
