#!/usr/bin/env bash
# The main job on a fresh clone: install, build, then check the shipped example configs.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib-bootstrap.sh
. scripts/lib-bootstrap.sh
wanctl_bootstrap >&2

# The examples read their router password from the environment (${VAR} expansion):
# give the check a placeholder so it validates structure, not your secrets.
export WANCTL_ROUTER_PASSWORD="${WANCTL_ROUTER_PASSWORD:-example-only}"
exec node packages/config/dist/cli.js examples/*.yaml "$@"
