# shellcheck shell=bash
# Shared by the top-level commands: install dependencies when missing or stale,
# then build every workspace (turbo caches what did not change).
wanctl_bootstrap() {
  export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
  if [ ! -x node_modules/.bin/turbo ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
  fi
  npx turbo run build --output-logs=errors-only
}
