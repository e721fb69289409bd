#!/usr/bin/env bash
# The whole test suite: unit tests (incl. golden, gradient checks, training on real data), then
# the browser tests on the built playground in Debian's headless Chromium.
# Prints a closing line "N passed, N failed" and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the browser tests…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi
if ! command -v chromium >/dev/null 2>&1; then
  echo "The browser tests need Chromium: run 'apt-get install -y chromium' (as root) and try again." >&2
  exit 1
fi

mkdir -p .nnc/test-results
rm -f .nnc/test-results/*.json
status=0
npm run --silent typecheck || status=1
npm run --silent build || status=1
npx vitest run --project unit --reporter=default --reporter=json --outputFile.json=.nnc/test-results/unit.json || status=1
npm run --silent build:playground || status=1
npx vitest run --project browser --reporter=default --reporter=json --outputFile.json=.nnc/test-results/browser.json || status=1

node -e '
const fs = require("fs");
let passed = 0, failed = 0, skipped = 0;
for (const f of ["unit", "browser"]) {
  const p = `.nnc/test-results/${f}.json`;
  if (!fs.existsSync(p)) { failed++; console.error(`no results from the ${f} tests`); continue; }
  const r = JSON.parse(fs.readFileSync(p, "utf8"));
  passed += r.numPassedTests; failed += r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0); skipped += r.numPendingTests + r.numTodoTests;
}
console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
if (failed > 0) process.exitCode = 1;
' || status=1
exit $status
