#!/usr/bin/env bash
# Runs the whole test suite on a fresh clone: installs, builds, lints, type-checks,
# then runs every package's tests through turbo and prints one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
export FORCE_COLOR=0

# shellcheck source=scripts/lib-bootstrap.sh
. scripts/lib-bootstrap.sh
wanctl_bootstrap

rm -rf packages/*/.test-results apps/*/.test-results scripts/.test-results
npx turbo run lint typecheck --output-logs=errors-only

status=0
npx turbo run test --concurrency=1 --continue || status=$?
node scripts/test-summary.mjs || status=$?
exit "$status"
