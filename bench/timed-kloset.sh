#!/bin/bash
# One timed kloset command: prints "LABEL wall-s user-s sys-s minor-faults engine-peak-MiB".
# For before/after comparisons of CPU (not only wall time, which bench/alternate.sh gives),
# run it alternately for the two variants, e.g. the V8 flag of bin/v8-tuning.js on and off:
#
#   for i in 1 2 3; do
#     rm -rf /tmp/s; KLOSET_PASSPHRASE=x node bin/kloset.js at /tmp/s create >/dev/null; sync
#     KLOSET_PASSPHRASE=x bash bench/timed-kloset.sh flag at /tmp/s backup "$PWD/.bench-data/dataset-1g/tree"
#     rm -rf /tmp/s; KLOSET_PASSPHRASE=x node bin/kloset.js at /tmp/s create >/dev/null; sync
#     KLOSET_PASSPHRASE=x KLOSET_V8_TUNING=0 bash bench/timed-kloset.sh no-flag at /tmp/s backup "$PWD/.bench-data/dataset-1g/tree"
#   done
#
# KLOSET_BIN picks another build (default bin/kloset.js of this checkout); node gets the flags of
# that bin's shebang (as the installed command runs; read outside the timing), then NODEFLAGS.
# The engine peak comes from bench/rss-probe.mjs, as in bench/local.ts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
label=$1; shift
bin=${KLOSET_BIN:-$here/../bin/kloset.js}
start=$(node --input-type=module -e "import { startFlagsOf } from '$here/../bin/v8-tuning.js'; console.log(startFlagsOf(process.argv[1]).join(' '))" "$bin")
rss=$(mktemp)
# shellcheck disable=SC2086 # start and NODEFLAGS are lists of flags
out=$( { KLOSET_RSS_FILE="$rss" /usr/bin/time -f "%e %U %S %R" node $start ${NODEFLAGS:-} --import "$here/rss-probe.mjs" "$bin" "$@" >/dev/null; } 2>&1 | tail -1)
peak=$(sort -n "$rss" 2>/dev/null | tail -1)
rm -f "$rss"
echo "$label $out $(( ${peak:-0} / 1024 ))"
