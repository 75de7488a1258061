#!/usr/bin/env bash
# The project's test command: type-check everything, run the vitest suites, then print one
# plain summary line ("N passed, N failed, N skipped") read from vitest's JSON report.
set -uo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json --noEmit || { echo "0 passed, 1 failed (type check)"; exit 1; }
# the CLI tests run bin/kloset.js, which runs the build: it must be the code under test
npm run build --silent || { echo "0 passed, 1 failed (build)"; exit 1; }
report=$(mktemp)
npx vitest run --reporter=default --reporter=json --outputFile="$report"
status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  for (const f of r.testResults ?? []) for (const a of f.assertionResults ?? []) if (a.status === "failed") console.log(`FAILED: ${f.name}: ${a.fullName}`);
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
' "$report" 2>/dev/null || echo "0 passed, 1 failed (no test report)"
rm -f "$report"
exit $status
