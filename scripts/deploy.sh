#!/usr/bin/env bash
# deploy.sh: build wanctl here, ship it to a router host over ssh, install it there,
# deploy the configs, validate, and (re)start what changed. See --help.
set -euo pipefail

readonly PROG=deploy.sh
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR
REPO="$(dirname "$SCRIPT_DIR")"
readonly REPO

usage() {
  cat <<'EOF'
Usage: deploy.sh <host> [--wan NAME ...] [--with-steering] [--dry-run]
                 [--strict] [options]
       deploy.sh <host> --rollback [--wan NAME ...] [options]

Deploys wanctl to <host> ([user@]host; root, or a user with passwordless sudo):
  1. builds the checkout (npm run build) and stages a bundle: the built apps
     with production dependencies only;
  2. checks each config locally: <config-dir>/<NAME>.yaml for every --wan,
     <config-dir>/steering.yaml with --with-steering. A missing or invalid
     config stops the deploy before the host is touched (no fallback to an
     example config);
  3. ships the bundle and the configs over ssh (tar, no rsync needed) and runs
     install.sh there (idempotent; configs go to /etc/wanctl/, a replaced one
     is kept as .bak; secrets are never shipped or touched);
  4. runs validate-deployment.sh there and prints its report. Findings warn
     and do not block, unless --strict: then any warning or error stops the
     deploy before units are (re)started, and it exits 1;
  5. enables the selected units and restarts only those whose files changed
     (code, unit file or config) or that are not running, then checks that
     they came up and answer on their health endpoints.
It prints each thing it did. The host keeps the release a deploy replaced
as /opt/wanctl.prev.

With --rollback it builds and ships nothing: it swaps /opt/wanctl and
/opt/wanctl.prev on the host (install.sh --rollback: code, units, tmpfiles
and logrotate entries; configs and secrets stay), validates, and restarts
every running wanctl unit (and enables and starts those selected with --wan
and --with-steering). A second --rollback rolls forward again.

Options:
  --wan NAME         deploy wanctl-autorate@NAME with <config-dir>/NAME.yaml
                     (repeatable)
  --with-steering    deploy wanctl-steering with <config-dir>/steering.yaml
  --config-dir DIR   where the site configs are (default: $WANCTL_CONFIG_DIR,
                     else ./configs in the checkout). Keep them out of git.
  --rollback         restore the previous release on the host (see above)
  --dry-run          print what would be done; build nothing, touch no host
  --strict           validation warnings or errors block the (re)start
  --no-build         do not run npm run build (use what is built)
  --bundle DIR       ship DIR (made by install.sh --stage-only) instead of
                     building one
  -p, --port PORT    ssh port
  -i, --identity KEY ssh private key
  -F, --ssh-config FILE  ssh client config file (ssh -F)
  -o, --ssh-opt OPT  an ssh -o option, e.g. -o UserKnownHostsFile=FILE
                     (repeatable; BatchMode=yes is always set)
  --target-root DIR  install under DIR on the host (install.sh --root; for
                     tests and images)
  --remote-env K=V   set K=V for the commands run on the host (repeatable;
                     e.g. WANCTL_SYSTEMCTL for a stand-in systemctl in tests)
  -h, --help         show this help

Exit status: 0 deployed (possibly with validation warnings, unless --strict),
1 failed or blocked by --strict (the message says why), 2 bad arguments or an
invalid config.

Examples:
  scripts/deploy.sh root@shaper --wan cable --wan dsl --with-steering
  scripts/deploy.sh admin@10.0.0.2 --wan fiber --strict -i ~/.ssh/shaper
  scripts/deploy.sh root@shaper --rollback
EOF
}

say() { printf '%s\n' "$*"; }
step() { printf '==> %s\n' "$*"; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
usage_error() { printf '%s: %s (see --help)\n' "$PROG" "$*" >&2; exit 2; }

# ---------------------------------------------------------------- arguments
HOST=""
WANS=()
STEERING=0
DRY_RUN=0
STRICT=0
ROLLBACK=0
BUILD=1
BUNDLE=""
CONFIG_DIR="${WANCTL_CONFIG_DIR:-$REPO/configs}"
SSH_ARGS=(-o BatchMode=yes -o ConnectTimeout=10)
TARGET_ROOT=""
REMOTE_ENV=()

while [ $# -gt 0 ]; do
  case "$1" in
    --wan) [ $# -ge 2 ] || usage_error "--wan needs a name"; WANS+=("$2"); shift 2 ;;
    --with-steering) STEERING=1; shift ;;
    --config-dir) [ $# -ge 2 ] || usage_error "--config-dir needs a directory"; CONFIG_DIR="$2"; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    --rollback) ROLLBACK=1; shift ;;
    --strict) STRICT=1; shift ;;
    --no-build) BUILD=0; shift ;;
    --bundle) [ $# -ge 2 ] || usage_error "--bundle needs a directory"; BUNDLE="$2"; shift 2 ;;
    -p | --port) [ $# -ge 2 ] || usage_error "$1 needs a port"; SSH_ARGS+=(-p "$2"); shift 2 ;;
    -i | --identity) [ $# -ge 2 ] || usage_error "$1 needs a key file"; SSH_ARGS+=(-i "$2"); shift 2 ;;
    -F | --ssh-config) [ $# -ge 2 ] || usage_error "$1 needs a file"; SSH_ARGS+=(-F "$2"); shift 2 ;;
    -o | --ssh-opt) [ $# -ge 2 ] || usage_error "$1 needs an option"; SSH_ARGS+=(-o "$2"); shift 2 ;;
    --target-root) [ $# -ge 2 ] || usage_error "--target-root needs a directory"; TARGET_ROOT="$2"; shift 2 ;;
    --remote-env)
      [ $# -ge 2 ] || usage_error "--remote-env needs K=V"
      [[ "$2" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || usage_error "--remote-env: not K=V: $2"
      REMOTE_ENV+=("$2"); shift 2 ;;
    -h | --help) usage; exit 0 ;;
    -*) usage_error "unknown option: $1" ;;
    *) [ -z "$HOST" ] || usage_error "one host only (got $HOST and $1)"; HOST="$1"; shift ;;
  esac
done
[ -n "$HOST" ] || usage_error "which host? deploy.sh <host> --wan NAME ..."
for w in "${WANS[@]}"; do
  [[ "$w" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] || usage_error "--wan $w: use letters, digits, '.', '_' and '-'"
  [ "$w" != steering ] || usage_error "--wan steering: steering.yaml is deployed with --with-steering"
done
if [ -n "$TARGET_ROOT" ] && [[ "$TARGET_ROOT" != /* ]]; then usage_error "--target-root must be an absolute path"; fi
if [ "$ROLLBACK" = 1 ] && { [ -n "$BUNDLE" ] || [ "$BUILD" = 0 ]; }; then
  usage_error "--rollback ships nothing: it takes no --bundle or --no-build"
fi

# ---------------------------------------------------------------- helpers
# Quote one word for the remote POSIX shell.
q() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
# Quote a whole command line.
qcmd() {
  local out="" a
  for a in "$@"; do out+="$(q "$a") "; done
  printf '%s' "${out% }"
}

SUDO=()
# One ssh connection for the whole deploy (closed in cleanup).
ssh_mux() { SSH_ARGS+=(-o ControlMaster=auto -o "ControlPath=$TMP_LOCAL/ssh-%C" -o ControlPersist=120); }
# The command string is built (and quoted) here on purpose.
# shellcheck disable=SC2029
remote() { ssh "${SSH_ARGS[@]}" "$HOST" "$(qcmd "${SUDO[@]}" env "${REMOTE_ENV[@]}" "$@")"; }
# shellcheck disable=SC2029
remote_raw() { ssh "${SSH_ARGS[@]}" "$HOST" "$@"; }

# ---------------------------------------------------------------- plan
UNITS=()
CONFIG_FILES=()
for w in "${WANS[@]}"; do
  UNITS+=("wanctl-autorate@$w.service")
  CONFIG_FILES+=("$CONFIG_DIR/$w.yaml")
done
if [ "$STEERING" = 1 ]; then
  UNITS+=(wanctl-steering.service)
  CONFIG_FILES+=("$CONFIG_DIR/steering.yaml")
fi
# A rollback ships no config: the host's configs stay, and the validation checks them all.
if [ "$ROLLBACK" = 1 ]; then CONFIG_FILES=(); fi

if [ "$ROLLBACK" = 1 ]; then
  step "rollback on $HOST${TARGET_ROOT:+ (target root $TARGET_ROOT)}: the previous release${UNITS[*]:+, then ${UNITS[*]}}"
else
  step "deploy to $HOST${TARGET_ROOT:+ (target root $TARGET_ROOT)}: ${UNITS[*]:-code and units only}"
fi

# Fail closed on a missing site config: never fall back to an example.
for f in "${CONFIG_FILES[@]}"; do
  [ -f "$f" ] || die "config $f not found (nothing was deployed). Put the site's config there or pass --config-dir; examples are in examples/."
done

# Check the configs with the daemons' own loader before anything leaves this machine.
check_configs_locally() {
  local cli="$REPO/packages/config/dist/cli.js" f rc envs=() v
  [ "${#CONFIG_FILES[@]}" -gt 0 ] || return 0
  if [ ! -f "$cli" ] || ! command -v node >/dev/null 2>&1; then
    say "    configs: not checked here ($cli not built); the host's validation checks them"
    return 0
  fi
  # ${VAR} values live in the host's secrets file, so give each a placeholder here.
  # shellcheck disable=SC2016  # a literal ${NAME} pattern
  for v in $(cat "${CONFIG_FILES[@]}" | grep -o '\${[A-Za-z_][A-Za-z0-9_]*}' | sort -u | tr -d '${}'); do
    envs+=("$v=placeholder-for-local-check")
  done
  for f in "${CONFIG_FILES[@]}"; do
    rc=0
    local kind=autorate
    [ "$(basename "$f")" != steering.yaml ] || kind=steering
    env "${envs[@]}" node "$cli" --kind "$kind" "$f" >/dev/null 2>"${TMP_LOCAL}/check.err" || rc=$?
    if [ "$rc" = 0 ]; then
      say "    config $f: valid"
    else
      cat "${TMP_LOCAL}/check.err" >&2
      printf '%s: config %s is invalid (exit %s); nothing was deployed. Fix it (node packages/config/dist/cli.js %s).\n' "$PROG" "$f" "$rc" "$f" >&2
      exit 2
    fi
  done
}

TMP_LOCAL="$(mktemp -d "${TMPDIR:-/tmp}/wanctl-deploy.XXXXXX")"
REMOTE_TMP=""
MUX=""
cleanup() {
  if [ -n "$REMOTE_TMP" ]; then remote_raw "$(qcmd "${SUDO[@]}" rm -rf "$REMOTE_TMP")" >/dev/null 2>&1 || true; fi
  if [ -n "$MUX" ]; then ssh "${SSH_ARGS[@]}" -O exit "$HOST" >/dev/null 2>&1 || true; fi
  rm -rf "$TMP_LOCAL"
}
trap cleanup EXIT

if [ "$ROLLBACK" = 0 ]; then
  step "checking configs"
  check_configs_locally
fi

if [ "$DRY_RUN" = 1 ] && [ "$ROLLBACK" = 1 ]; then
  step "dry run: nothing sent"
  say "would connect: ssh ${SSH_ARGS[*]} $HOST"
  say "would run there: install.sh --rollback${TARGET_ROOT:+ --root $TARGET_ROOT} (swap /opt/wanctl and /opt/wanctl.prev, reinstall their units)"
  say "would run there: validate-deployment.sh on every /etc/wanctl/*.yaml (report printed; $([ "$STRICT" = 1 ] && echo "blocks on any finding" || echo "warns, does not block"))"
  say "would restart every running wanctl unit${UNITS[*]:+, and enable and start ${UNITS[*]}}"
  exit 0
fi
if [ "$DRY_RUN" = 1 ]; then
  step "dry run: nothing built, nothing sent"
  if [ -n "$BUNDLE" ]; then say "would ship the bundle $BUNDLE"; else
    [ "$BUILD" = 0 ] || say "would build: npm run build (in $REPO)"
    say "would stage a bundle: scripts/install.sh --stage-only DIR --from $REPO"
  fi
  say "would connect: ssh ${SSH_ARGS[*]} $HOST"
  say "would run there: install.sh --from <bundle>${TARGET_ROOT:+ --root $TARGET_ROOT}$(for f in "${CONFIG_FILES[@]}"; do printf ' --config %s' "$(basename "$f")"; done)"
  say "would run there: validate-deployment.sh (report printed; $([ "$STRICT" = 1 ] && echo "blocks on any finding" || echo "warns, does not block"))"
  [ "${#UNITS[@]}" -eq 0 ] || say "would enable ${UNITS[*]} and restart those whose code, unit file or config changed, or that are not running"
  exit 0
fi

# ---------------------------------------------------------------- build
if [ "$ROLLBACK" = 1 ]; then
  : # nothing to build or ship
elif [ -z "$BUNDLE" ]; then
  if [ "$BUILD" = 1 ]; then
    step "building (npm run build)"
    (cd "$REPO" && npm run build --silent) >"$TMP_LOCAL/build.log" 2>&1 || {
      tail -n 40 "$TMP_LOCAL/build.log" >&2
      die "npm run build failed (log above); nothing was deployed"
    }
  fi
  step "staging the bundle"
  bash "$SCRIPT_DIR/install.sh" --stage-only "$TMP_LOCAL/bundle" --from "$REPO" -q
  BUNDLE="$TMP_LOCAL/bundle"
else
  [ -f "$BUNDLE/.wanctl-bundle" ] || die "--bundle $BUNDLE is not a wanctl bundle (no .wanctl-bundle; make one with install.sh --stage-only)"
fi
if [ "$ROLLBACK" = 0 ]; then
  say "    bundle: $(sed -n 's/^commit: //p' "$BUNDLE/.wanctl-bundle" 2>/dev/null || true) ($(du -sh "$BUNDLE" | cut -f1))"
fi

# ---------------------------------------------------------------- connect
step "connecting to $HOST"
ssh_mux
MUX=1
out="$(remote_raw 'id -u' 2>&1)" || die "cannot run commands on $HOST over ssh: ${out##*$'\n'}"
if [ "${out##*$'\n'}" != 0 ]; then
  remote_raw 'sudo -n true' >/dev/null 2>&1 || die "$HOST: not root and no passwordless sudo; connect as root or allow sudo without a password"
  SUDO=(sudo -n)
  say "    using sudo on $HOST"
fi
REMOTE_TMP="$(remote_raw 'mktemp -d /tmp/wanctl-deploy.XXXXXX')" || die "$HOST: cannot create a temporary directory"

PENDING="$TARGET_ROOT/var/lib/wanctl/deploy-pending-changes"
if [ "$ROLLBACK" = 1 ]; then
  # ---------------------------------------------------------------- rollback
  step "rolling back on $HOST"
  rollback_args=("$TARGET_ROOT/opt/wanctl/scripts/install.sh" --rollback --changes-file "$REMOTE_TMP/changes")
  [ -z "$TARGET_ROOT" ] || rollback_args+=(--root "$TARGET_ROOT")
  rrc=0
  remote bash "${rollback_args[@]}" 2>&1 | sed 's/^/    /' || rrc=$?
  [ "$rrc" = 0 ] || die "install.sh --rollback failed on $HOST (exit $rrc, output above); nothing was restarted"
  mapfile -t CHANGES < <(remote cat "$REMOTE_TMP/changes")
else
  step "sending the bundle and configs"
  mkdir -p "$TMP_LOCAL/configs"
  for f in "${CONFIG_FILES[@]}"; do cp "$f" "$TMP_LOCAL/configs/"; done
  tar -C "$TMP_LOCAL" -czf - configs -C "$BUNDLE" . |
    remote_raw "mkdir -p $(q "$REMOTE_TMP/bundle") && tar -C $(q "$REMOTE_TMP/bundle") -xzf - && mv $(q "$REMOTE_TMP/bundle/configs") $(q "$REMOTE_TMP/configs")" ||
    die "sending to $HOST failed"

  # ---------------------------------------------------------------- install
  step "installing on $HOST"
  install_args=("$REMOTE_TMP/bundle/scripts/install.sh" --from "$REMOTE_TMP/bundle" --changes-file "$REMOTE_TMP/changes")
  [ -z "$TARGET_ROOT" ] || install_args+=(--root "$TARGET_ROOT")
  for f in "${CONFIG_FILES[@]}"; do install_args+=(--config "$REMOTE_TMP/configs/$(basename "$f")"); done
  irc=0
  remote bash "${install_args[@]}" 2>&1 | sed 's/^/    /' || irc=$?
  [ "$irc" = 0 ] || die "install.sh failed on $HOST (exit $irc, output above)"
  # Changes a --strict deploy installed but did not act on are still pending: merge them in.
  # shellcheck disable=SC2016  # expanded on the host
  mapfile -t CHANGES < <(remote sh -c 'if [ -f "$1" ]; then cat "$1" >>"$2" && sort -u -o "$2" "$2"; fi; cat "$2"' sh "$PENDING" "$REMOTE_TMP/changes")
fi
has_change() { printf '%s\n' "${CHANGES[@]}" | grep -qx -- "$1"; }

# ---------------------------------------------------------------- validate
VALIDATOR="${TARGET_ROOT}/opt/wanctl/scripts/validate-deployment.sh"
validate_args=()
[ -z "$TARGET_ROOT" ] || validate_args+=(--root "$TARGET_ROOT")
for f in "${CONFIG_FILES[@]}"; do
  if [ "$(basename "$f")" = steering.yaml ]; then
    validate_args+=(--steering "$TARGET_ROOT/etc/wanctl/steering.yaml")
  else
    validate_args+=(--config "$TARGET_ROOT/etc/wanctl/$(basename "$f")")
  fi
done
BLOCKED=0
VALIDATE=0
if [ "${#CONFIG_FILES[@]}" -gt 0 ] || [ "$ROLLBACK" = 1 ]; then VALIDATE=1; fi
if [ "$VALIDATE" = 1 ]; then
  step "validating on $HOST (before starting)"
  vrc=0
  remote bash "$VALIDATOR" "${validate_args[@]}" --skip units,health 2>&1 | sed 's/^/    /' || vrc=$?
  case "$vrc" in
    0) say "    validation passed" ;;
    3) say "    validation found warnings: review them above" ;;
    2) say "    the validator refused its arguments (exit 2): the host's validate-deployment.sh does not match this deploy.sh" ;;
    *) say "    validation found errors: review them above" ;;
  esac
  if [ "$vrc" != 0 ] && [ "$STRICT" = 1 ]; then BLOCKED=1; fi
fi

# ---------------------------------------------------------------- units
RESTARTED=()
if [ "$BLOCKED" = 1 ]; then
  # Remember what changed, so that the next deploy restarts what this one did not.
  if [ "${#CHANGES[@]}" -gt 0 ]; then
    # shellcheck disable=SC2016  # expanded on the host
    remote sh -c 'mkdir -p "$(dirname "$1")" && cp "$2" "$1"' sh "$PENDING" "$REMOTE_TMP/changes" ||
      say "    (could not record the pending changes in $PENDING)"
  fi
  step "--strict: validation did not pass, so no unit was started or restarted"
  say "    the new files are installed; running daemons keep running as they were."
  say "    fix the findings above and deploy again."
  exit 1
fi

# Runs on the host in one ssh round trip: enable the selected units, restart those whose
# code, unit file or config changed or that are not running, and also restart other running
# wanctl units when the code or their unit file changed. Arguments: changes file, systemctl
# command, target root ("" for /), then the selected units.
# shellcheck disable=SC2016  # expanded on the host
UNITS_SCRIPT='set -euo pipefail
changes="$1"; read -r -a sc <<<"$2"; troot="$3"; pending="$4"; shift 4
if [ "${sc[*]}" = systemctl ] && { [ -n "$troot" ] || [ ! -d /run/systemd/system ]; }; then
  echo "systemd is not running there (or a target root is set): start the units yourself: systemctl enable --now $*"
  exit 0
fi
has_change() { grep -qx -- "$1" "$changes"; }
mapfile -t running < <("${sc[@]}" list-units --plain --no-legend --state=active "wanctl-*" 2>/dev/null | awk "{print \$1}" | grep -E "^wanctl-" || true)
mapfile -t all < <(printf "%s\n" "$@" "${running[@]}" | awk "NF && !seen[\$0]++")
for u in "${all[@]}"; do
  reasons=()
  selected=0
  case " $* " in *" $u "*) selected=1 ;; esac
  if has_change code; then reasons+=("code changed"); fi
  case "$u" in
    wanctl-autorate@*.service)
      if has_change "unit:wanctl-autorate@.service"; then reasons+=("unit file changed"); fi
      if has_change "unit:$u"; then reasons+=("drop-in changed"); fi
      inst="${u#wanctl-autorate@}"
      if has_change "config:${inst%.service}.yaml"; then reasons+=("config changed"); fi ;;
    wanctl-steering.service)
      if has_change "unit:wanctl-steering.service"; then reasons+=("unit file changed"); fi
      if has_change "config:steering.yaml"; then reasons+=("config changed"); fi ;;
  esac
  if [ "$selected" = 1 ]; then
    en="$("${sc[@]}" is-enabled "$u" 2>/dev/null || true)"
    if [ "$en" != enabled ]; then
      "${sc[@]}" enable "$u" >/dev/null 2>&1 || { echo "systemctl enable $u failed"; exit 1; }
      echo "enabled $u"
    fi
    act="$("${sc[@]}" is-active "$u" 2>/dev/null || true)"
    if [ "$act" != active ]; then reasons+=("was ${act:-inactive}"); fi
  fi
  if [ "${#reasons[@]}" -eq 0 ]; then
    echo "$u: unchanged, left running"
    continue
  fi
  joined="$(printf "%s, " "${reasons[@]}")"
  if "${sc[@]}" restart "$u" >/dev/null 2>&1; then
    echo "restarted $u (${joined%, })"
  else
    echo "restart of $u failed (${joined%, }): see journalctl -u $u"
  fi
done
rm -f "$pending"'

SYSTEMCTL_REMOTE=systemctl
for e in "${REMOTE_ENV[@]}"; do
  case "$e" in WANCTL_SYSTEMCTL=*) SYSTEMCTL_REMOTE="${e#WANCTL_SYSTEMCTL=}" ;; esac
done

if [ "${#UNITS[@]}" -gt 0 ] || has_change code; then
  step "units on $HOST"
  urc=0
  unit_out="$(remote bash -c "$UNITS_SCRIPT" units "$REMOTE_TMP/changes" "$SYSTEMCTL_REMOTE" "$TARGET_ROOT" "$PENDING" "${UNITS[@]}" 2>&1)" || urc=$?
  [ -z "$unit_out" ] || printf '%s\n' "$unit_out" | sed 's/^/    /'
  [ "$urc" = 0 ] || die "managing the units on $HOST failed (exit $urc, output above)"
  mapfile -t RESTARTED < <(printf '%s\n' "$unit_out" | sed -n 's/^restarted \([^ ]*\) .*/\1/p')
  if [ "${#RESTARTED[@]}" -gt 0 ] && [ "$VALIDATE" = 1 ]; then
    step "checking the units came up on $HOST"
    prc=0
    remote bash "$VALIDATOR" "${validate_args[@]}" --only units,health --wait 20 2>&1 | sed 's/^/    /' || prc=$?
    if [ "$prc" != 0 ] && [ "$STRICT" = 1 ]; then
      die "--strict: the units did not all come up healthy (report above)"
    fi
  fi
fi

# ---------------------------------------------------------------- summary
step "done: $HOST"
if [ "${#CHANGES[@]}" -eq 0 ]; then say "    nothing changed on the host"; else say "    changed: ${CHANGES[*]}"; fi
say "    restarted: ${RESTARTED[*]:-none}"
if [ "$VALIDATE" = 1 ] && [ "${vrc:-0}" != 0 ]; then
  say "    validation reported findings (above); the deploy went ahead because --strict was not given"
fi
