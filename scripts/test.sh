#!/usr/bin/env bash
# The whole test suite, as `npm test` and CI run it: install missing system
# dependencies, typecheck, lint, unit and integration tests (vitest), the
# cluster suite (real nodes on PostgreSQL, Redis and HAProxy, one file at a
# time), then the end-to-end suite in a real Chromium (Playwright) and the
# browser matrix against a cluster, then the benchmark harness in quick mode
# as a smoke test (BENCH_SMOKE=0 skips it). Ends with one summary line.
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
echo "== cluster (vitest: PostgreSQL, Redis, HAProxy and node processes)"
npx vitest run -c vitest.cluster.config.ts --reporter=default --reporter=json --outputFile.json=test-results/vitest-cluster.json
echo "== end to end (playwright, chromium)"
npx playwright test
echo "== end to end against a cluster (playwright, chromium)"
npx playwright test -c playwright.cluster.config.ts
# The benchmark harness in quick mode, as a smoke test: it fails on a broken
# harness or a lost message, never on a speed or memory figure.
if [ "${BENCH_SMOKE:-1}" != "0" ]; then
  echo "== bench smoke (npm run bench -- --quick)"
  npm run --silent bench -- --quick
fi

node scripts/summarize-tests.mjs test-results/vitest.json test-results/vitest-cluster.json test-results/e2e.json test-results/e2e-cluster.json
