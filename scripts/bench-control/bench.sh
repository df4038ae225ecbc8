#!/usr/bin/env bash
# The control-quality benchmark on a fresh clone: install and build what is missing,
# then run scripts/bench-control/run.mjs with the given arguments (see --help).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib-bootstrap.sh
. scripts/lib-bootstrap.sh
wanctl_bootstrap >&2
exec node scripts/bench-control/run.mjs "$@"
