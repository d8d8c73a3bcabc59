#!/usr/bin/env bash
# The whole test suite, as `npm test` and CI run it: install missing system
# dependencies, typecheck, lint, unit and integration tests (vitest), then the
# end-to-end suite in a real Chromium (Playwright). Ends with one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-test-deps.sh
mkdir -p test-results

echo "== typecheck"
npx tsc --noEmit -p tsconfig.json
echo "== lint"
npx eslint --max-warnings 0 .
echo "== unit and integration (vitest)"
npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json
echo "== end to end (playwright, chromium)"
npx playwright test

node scripts/summarize-tests.mjs test-results/vitest.json test-results/e2e.json
