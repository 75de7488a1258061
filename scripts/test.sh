#!/usr/bin/env bash
# The project's test command: type-check everything, run the vitest suites (the S3 tests against
# fauxqs, in process), then the S3 conformance pass: the S3 test files again, against a real
# radosgw (Ceph 16) started for the occasion, because an emulator that checks no signatures and
# forgives protocol details cannot prove the connectors work with real servers. Prints each
# failed test as "FAILED: file: test", one labelled line per pass, and last one plain summary
# line ("N passed, N failed, N skipped") with the counts of both passes, read from vitest's JSON
# reports. Exits non-zero if either pass failed.
#
# KLOSET_SKIP_RADOSGW=1 skips the conformance pass (said so in the output); otherwise a radosgw
# that cannot start (3 tries) is a failure. KLOSET_RGW_PORT picks its port (default: a free one).
set -uo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json --noEmit || { echo "0 passed, 1 failed (type check)"; exit 1; }
# the CLI tests run bin/kloset.js, which runs the build: it must be the code under test
npm run build --silent || { echo "0 passed, 1 failed (build)"; exit 1; }

work=$(mktemp -d)
rgw_dir=""
cleanup() {
  [ -n "$rgw_dir" ] && D="$rgw_dir" bash scripts/s3/radosgw-down.sh >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Prints the report's failed tests (with an optional tag) and writes "passed failed skipped"
# to $1.counts; a missing or unreadable report counts as one failure.
summarize() {
  node -e '
    const fs = require("fs");
    const [report, tag] = process.argv.slice(1);
    const r = JSON.parse(fs.readFileSync(report, "utf8"));
    const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    for (const f of r.testResults ?? []) for (const a of f.assertionResults ?? []) if (a.status === "failed") console.log(`FAILED: ${f.name}: ${a.fullName}${tag}`);
    // a file that fails to load (syntax error, failing beforeAll) has no failed assertions
    let broken = 0;
    for (const f of r.testResults ?? []) if (f.status === "failed" && !(f.assertionResults ?? []).some((a) => a.status === "failed")) { broken++; console.log(`FAILED: ${f.name}: ${(f.message || "the file failed outside its tests (import, beforeAll or afterAll; see the output above)").split("\n")[0]}${tag}`); }
    fs.writeFileSync(report + ".counts", `${r.numPassedTests} ${r.numFailedTests + broken} ${skipped}\n`);
  ' "$1" "${2:-}" 2>/dev/null || echo "0 1 0" > "$1.counts"
}

# ---- main pass: every test file, S3 against fauxqs
t0=$SECONDS
npx vitest run --reporter=default --reporter=json --outputFile="$work/main.json"
main_status=$?
main_secs=$((SECONDS - t0))

# ---- conformance pass: the S3 test files against radosgw
rgw_line=""
rgw_status=0
rgw_counts="0 0 0"
if [ "${KLOSET_SKIP_RADOSGW:-}" = 1 ]; then
  rgw_line="radosgw conformance: SKIPPED (KLOSET_SKIP_RADOSGW=1)"
else
  files=()
  for f in test/s3/*.test.ts test/storage/s3.test.ts; do [ -f "$f" ] && files+=("$f"); done
  free_port() { node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'; }
  # free ports rather than the defaults: a developer's or a benchmark's radosgw may hold those
  rgw_port=${KLOSET_RGW_PORT:-$(free_port)}
  mon_port=$(free_port)
  while [ "$mon_port" = "$rgw_port" ]; do mon_port=$(free_port); done
  rgw_dir=$(mktemp -d "${TMPDIR:-/tmp}/kloset-radosgw.XXXXXX")
  echo "== radosgw conformance: starting radosgw (state in $rgw_dir)"
  t0=$SECONDS
  if endpoint=$(D="$rgw_dir" RGW_PORT="$rgw_port" MON_PORT="$mon_port" RGW_ACCESS_KEY=TESTAK RGW_SECRET_KEY=TESTSK bash scripts/s3/radosgw-up-retry.sh); then
    up_secs=$((SECONDS - t0))
    echo "== radosgw up on $endpoint in ${up_secs} s; running ${files[*]}"
    t0=$SECONDS
    KLOSET_TEST_S3_ENDPOINT="$endpoint" KLOSET_TEST_S3_ACCESS_KEY=TESTAK KLOSET_TEST_S3_SECRET_KEY=TESTSK KLOSET_TEST_S3_KIND=radosgw \
      npx vitest run "${files[@]}" --reporter=default --reporter=json --outputFile="$work/rgw.json"
    rgw_status=$?
    rgw_secs=$((SECONDS - t0))
    D="$rgw_dir" bash scripts/s3/radosgw-down.sh && rgw_dir=""
    rgw_tag=" [radosgw]"
  else
    rgw_status=1
    rgw_counts="0 1 0"
    rgw_line="radosgw conformance: FAILED, radosgw did not start (see the radosgw-up lines above; KLOSET_SKIP_RADOSGW=1 skips this pass)"
  fi
fi

# ---- summary
summarize "$work/main.json"
read -r mp mf ms < "$work/main.json.counts"
if [ -z "$rgw_line" ]; then
  summarize "$work/rgw.json" "$rgw_tag"
  rgw_counts=$(cat "$work/rgw.json.counts")
  read -r rp rf rs <<< "$rgw_counts"
  # a non-zero exit with no failed test (say, an unhandled error between tests) still fails
  if [ "$rgw_status" -ne 0 ] && [ "$rf" -eq 0 ]; then rf=1; echo "FAILED: vitest exited $rgw_status without a failed test (unhandled error?)$rgw_tag"; fi
  rgw_line="radosgw conformance: $rp passed, $rf failed, $rs skipped (radosgw start ${up_secs} s, tests ${rgw_secs} s)"
  rgw_counts="$rp $rf $rs"
fi
read -r rp rf rs <<< "$rgw_counts"
if [ "$main_status" -ne 0 ] && [ "$mf" -eq 0 ]; then mf=1; echo "FAILED: vitest exited $main_status without a failed test (unhandled error?)"; fi
echo "main (S3 on fauxqs): $mp passed, $mf failed, $ms skipped (${main_secs} s)"
echo "$rgw_line"
echo "$((mp + rp)) passed, $((mf + rf)) failed, $((ms + rs)) skipped"
[ "$main_status" -eq 0 ] && [ "$rgw_status" -eq 0 ]
