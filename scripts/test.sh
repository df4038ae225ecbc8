#!/usr/bin/env bash
# Runs the whole test suite on a fresh clone: installs, builds, lints, type-checks,
# then runs every package's tests through turbo and prints one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 FORCE_COLOR=0

if [ ! -x node_modules/.bin/turbo ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

rm -rf packages/*/.test-results apps/*/.test-results scripts/.test-results
npx turbo run build lint typecheck --output-logs=errors-only

status=0
npx turbo run test --concurrency=1 --continue || status=$?
node scripts/test-summary.mjs || status=$?
exit "$status"
