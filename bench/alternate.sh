#!/bin/bash
# Two commands run alternately N times; prints each one's median wall time and its runs.
# This VM's speed drifts by ±30 % between minutes, so a before/after comparison alternates
# the two builds instead of timing one after the other. Typical use, with the old build in a
# worktree (git worktree add /tmp/old <commit>; ln -s "$PWD/node_modules" /tmp/old/;
# (cd /tmp/old && npm run build)):
#
#   bash bench/alternate.sh 4 old "rm -rf out; node /tmp/old/bin/kloset.js at S restore -to out ID" \
#                             new "rm -rf out; node bin/kloset.js at S restore -to out ID"
set -euo pipefail
n=$1 la=$2 ca=$3 lb=$4 cb=$5
ta=() tb=()
run() { local s e; s=$(date +%s.%N); bash -c "$1" >/dev/null 2>&1; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN { print e - s }'; }
for _ in $(seq "$n"); do
  ta+=("$(run "$ca")")
  tb+=("$(run "$cb")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "$la median $(median "${ta[@]}") s  [$(printf '%.2f ' "${ta[@]}")]"
echo "$lb median $(median "${tb[@]}") s  [$(printf '%.2f ' "${tb[@]}")]"
