#!/usr/bin/env bash
# install.sh: install wanctl on a Debian or Ubuntu host (run as root on the target).
# See --help. Idempotent: a second run with the same input changes nothing.
set -euo pipefail

readonly PROG=install.sh
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR
readonly SERVICE_USER=wanctl
readonly NODE_MIN_MAJOR=20
# The drop-in that gives one autorate instance what router.transport linux-cake needs.
readonly DROPIN_NAME=linux-cake.conf

usage() {
  cat <<'EOF'
Usage: install.sh [options]

Installs wanctl on this host (Debian or Ubuntu, as root):
  - checks for Node.js 20 or newer and fping (installs fping with apt-get),
  - creates the system user and group "wanctl",
  - creates /etc/wanctl (0750 root:wanctl) with a secrets template (0640),
    /var/lib/wanctl, /var/log/wanctl and /run/wanctl (owned by wanctl),
  - installs the built apps under /opt/wanctl with production dependencies
    only, wrappers in /opt/wanctl/bin (linked from /usr/local/bin); the
    release it replaces is kept as /opt/wanctl.prev (see --rollback),
  - installs the systemd units wanctl-autorate@.service and
    wanctl-steering.service, a tmpfiles.d entry and a logrotate entry,
  - for each /etc/wanctl/<wan>.yaml with router.transport linux-cake, the
    drop-in wanctl-autorate@<wan>.service.d/linux-cake.conf (CAP_NET_ADMIN
    for tc); RouterOS instances keep the tighter unit.
It never overwrites an existing config or secrets file, and it does not
start, stop or enable any service (deploy.sh or you do that).

Options:
  --from DIR          what to install: a wanctl checkout after "npm ci &&
                      npm run build", or a bundle made by --stage-only
                      (default: the directory above this script)
  --root DIR          install under DIR instead of / (DESTDIR-style, for tests
                      and image builds; created when missing): the host's
                      users, packages and services are not touched
  --config FILE       also install FILE as /etc/wanctl/<name of FILE>
                      (root:wanctl 0640). An existing config with other content
                      is kept as <name>.<timestamp>.bak first. Repeatable.
  --changes-file FILE write what changed, one item a line ("code",
                      "unit:<name>", "config:<name>", "tmpfiles", "logrotate")
  --skip-packages     do not install missing Debian packages (fping)
  --stage-only DIR    do not install: write the /opt/wanctl tree (a bundle,
                      production dependencies only) into DIR and stop
  --rollback          swap /opt/wanctl and /opt/wanctl.prev (the release the
                      last code change replaced) and reinstall the units,
                      tmpfiles and logrotate entries of the restored release.
                      Restart the running units afterwards (deploy.sh
                      --rollback does). A second --rollback rolls forward.
  --uninstall         stop and disable the units, remove the code, units,
                      tmpfiles and logrotate entries and /run/wanctl; keep
                      /etc/wanctl, /var/lib/wanctl, /var/log/wanctl and the user
  --purge             with --uninstall: also remove /etc/wanctl (configs and
                      secrets), /var/lib/wanctl, /var/log/wanctl and the user
  -q, --quiet         print only changes, warnings and errors
  -h, --help          show this help

Exit status: 0 done, 1 failed (the message says why), 2 bad arguments.

Examples:
  sudo scripts/install.sh                         # from a built checkout
  sudo scripts/install.sh --config ~/cable.yaml   # and install a config
  scripts/install.sh --root /tmp/img --skip-packages
  sudo /opt/wanctl/scripts/install.sh --rollback
  sudo /opt/wanctl/scripts/install.sh --uninstall
EOF
}

# ---------------------------------------------------------------- output
QUIET=0
note() { [ "$QUIET" = 1 ] || printf '%s\n' "$*"; }
changed() { printf '  changed: %s\n' "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
usage_error() { printf '%s: %s (see --help)\n' "$PROG" "$*" >&2; exit 2; }

# ---------------------------------------------------------------- arguments
FROM=""
ROOT=/
CONFIGS=()
CHANGES_FILE=""
SKIP_PACKAGES=0
STAGE_ONLY=""
UNINSTALL=0
ROLLBACK=0
PURGE=0

while [ $# -gt 0 ]; do
  case "$1" in
    --from) [ $# -ge 2 ] || usage_error "--from needs a directory"; FROM="$2"; shift 2 ;;
    --root) [ $# -ge 2 ] || usage_error "--root needs a directory"; ROOT="$2"; shift 2 ;;
    --config) [ $# -ge 2 ] || usage_error "--config needs a file"; CONFIGS+=("$2"); shift 2 ;;
    --changes-file) [ $# -ge 2 ] || usage_error "--changes-file needs a file"; CHANGES_FILE="$2"; shift 2 ;;
    --skip-packages) SKIP_PACKAGES=1; shift ;;
    --stage-only) [ $# -ge 2 ] || usage_error "--stage-only needs a directory"; STAGE_ONLY="$2"; shift 2 ;;
    --uninstall) UNINSTALL=1; shift ;;
    --rollback) ROLLBACK=1; shift ;;
    --purge) PURGE=1; shift ;;
    -q | --quiet) QUIET=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage_error "unknown argument: $1" ;;
  esac
done
[ "$PURGE" = 0 ] || [ "$UNINSTALL" = 1 ] || usage_error "--purge only goes with --uninstall"
[ "$((UNINSTALL + ROLLBACK + (${#STAGE_ONLY} > 0)))" -le 1 ] || usage_error "--rollback, --uninstall and --stage-only exclude each other"
if [ "$ROLLBACK" = 1 ] && [ "${#CONFIGS[@]}" -gt 0 ]; then usage_error "--rollback restores code and units only; it takes no --config"; fi

if [ "$ROOT" != / ]; then
  [ -z "$ROOT" ] && usage_error "--root needs a directory"
  if [ ! -d "$ROOT" ]; then
    [ ! -e "$ROOT" ] || die "--root $ROOT exists and is not a directory"
    mkdir -p "$ROOT" || die "--root $ROOT: cannot create it"
  fi
  ROOT="$(cd "$ROOT" && pwd)"
fi
# R is prepended to every absolute target path: empty for the real root.
if [ "$ROOT" = / ]; then R=""; else R="$ROOT"; fi
readonly ROOT R

IS_ROOT=0
[ "$(id -u)" = 0 ] && IS_ROOT=1
if [ -z "$STAGE_ONLY" ] && [ -z "$R" ] && [ "$IS_ROOT" = 0 ]; then
  die "run as root (sudo $0 ...), or use --root DIR to install into a directory"
fi

# systemd only acts on the real root, and only when it is the init system.
SYSTEMD_LIVE=0
[ -z "$R" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1 && SYSTEMD_LIVE=1

CHANGES=()
record() { CHANGES+=("$1"); }

# ---------------------------------------------------------------- helpers
# Octal mode, uid and gid of a path, e.g. "750 0 999".
stat_of() { stat -c '%a %u %g' "$1"; }

# set_owner_mode PATH UID GID MODE: fix ownership and mode when they differ.
set_owner_mode() {
  local path="$1" uid="$2" gid="$3" mode="$4" cur want
  cur="$(stat_of "$path")"
  if [ "$IS_ROOT" = 1 ]; then want="$((8#$mode)) $uid $gid"; else want="$((8#$mode)) ${cur#* }"; fi
  local cur_mode="${cur%% *}"
  if [ "$((8#$cur_mode)) ${cur#* }" != "$want" ]; then
    [ "$IS_ROOT" = 1 ] && chown "$uid:$gid" "$path"
    chmod "$mode" "$path"
    changed "owner/mode of ${path#"$R"} ($mode)"
  fi
}

# ensure_dir PATH UID GID MODE
ensure_dir() {
  local path="$1"
  if [ ! -d "$path" ]; then
    mkdir -p "$path"
    changed "created ${path#"$R"}"
  fi
  set_owner_mode "$@"
}

# install_file SRC DEST UID GID MODE LABEL: copy when the content differs.
# Returns 0 when the file changed, 1 when it was already up to date.
install_file() {
  local src="$1" dest="$2" uid="$3" gid="$4" mode="$5"
  if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
    set_owner_mode "$dest" "$uid" "$gid" "$mode"
    return 1
  fi
  mkdir -p "$(dirname "$dest")"
  local tmp
  tmp="$(mktemp "$dest.XXXXXX")"
  cat "$src" >"$tmp"
  [ "$IS_ROOT" = 1 ] && chown "$uid:$gid" "$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$dest"
  changed "installed ${dest#"$R"}"
  return 0
}

# ---------------------------------------------------------------- node
NODE_BIN=""
find_node() {
  NODE_BIN="$(command -v node || true)"
  [ -n "$NODE_BIN" ] || die "Node.js $NODE_MIN_MAJOR or newer is required and 'node' is not on PATH. Debian 13 ships it (apt-get install nodejs); Debian 12 and Ubuntu 24.04 ship Node 18, so install Node 20 from NodeSource's apt repository or the nodejs.org tarball (deploy/README.md, section 2), then rerun."
  NODE_BIN="$(readlink -f "$NODE_BIN")"
  local v major
  v="$("$NODE_BIN" --version)"
  major="${v#v}"
  major="${major%%.*}"
  if ! [ "$major" -ge "$NODE_MIN_MAJOR" ] 2>/dev/null; then
    die "Node.js $NODE_MIN_MAJOR or newer is required; $NODE_BIN is $v. Install Node 20 or newer (deploy/README.md, section 2: NodeSource's apt repository or the nodejs.org tarball), then rerun."
  fi
  note "node: $NODE_BIN ($v)"
}

# ---------------------------------------------------------------- staging
# Build the /opt/wanctl tree into $1 from $FROM (a checkout or a bundle).
stage_tree() {
  local out="$1"
  mkdir -p "$out"
  if [ -f "$FROM/.wanctl-bundle" ]; then
    # A bundle is already the tree; the wrappers are made per host.
    (cd "$FROM" && tar --exclude=./bin -cf - .) | (cd "$out" && tar -xf -)
  else
    stage_from_checkout "$out"
  fi
  [ -f "$out/apps/autorate/dist/cli.js" ] || die "$FROM has no apps/autorate/dist/cli.js: build first (npm ci && npm run build)"
  [ -f "$out/apps/steering/dist/cli.js" ] || die "$FROM has no apps/steering/dist/cli.js: build first (npm ci && npm run build)"
  for f in deploy/systemd/wanctl-autorate@.service deploy/systemd/wanctl-steering.service \
    "deploy/systemd/wanctl-autorate@.service.d/$DROPIN_NAME" deploy/tmpfiles.d/wanctl.conf deploy/logrotate/wanctl scripts/install.sh scripts/validate-deployment.sh; do
    [ -f "$out/$f" ] || die "$FROM is incomplete: $f is missing"
  done
}

stage_from_checkout() {
  local out="$1" ws name
  [ -f "$FROM/package.json" ] || die "$FROM is not a wanctl checkout or bundle (no package.json)"
  for f in apps/autorate/dist/cli.js apps/steering/dist/cli.js; do
    [ -f "$FROM/$f" ] || die "$FROM has no $f: build first (npm ci && npm run build)"
  done
  for f in scripts/install.sh scripts/validate-deployment.sh deploy/systemd; do
    [ -e "$FROM/$f" ] || die "$FROM is not a wanctl checkout: $f is missing"
  done
  cp "$FROM/package.json" "$out/"
  if [ -f "$FROM/package-lock.json" ]; then cp "$FROM/package-lock.json" "$out/"; fi
  # The production dependency tree of the two daemons (workspaces and npm packages);
  # without an installed tree, every built workspace and "npm ci --omit=dev" later.
  DEP_LIST=""
  if [ -d "$FROM/node_modules" ]; then
    command -v npm >/dev/null 2>&1 || die "npm is needed to select the production dependencies of $FROM"
    DEP_LIST="$(cd "$FROM" || exit 0; npm ls --omit=dev --all --parseable -w apps/autorate -w apps/steering 2>/dev/null || true)"
    [ -n "$DEP_LIST" ] || die "npm ls --omit=dev found nothing in $FROM: run npm ci there first"
  fi
  # Those workspaces: package.json, README, dist and the bin launchers (the emulator and the
  # simulator stay behind).
  for ws in "$FROM"/packages/* "$FROM"/apps/*; do
    if [ ! -f "$ws/package.json" ] || [ ! -d "$ws/dist" ]; then continue; fi
    if [ -n "$DEP_LIST" ] && ! grep -q "/node_modules/@wanctl/$(basename "$ws")\$" <<<"$DEP_LIST"; then continue; fi
    name="${ws#"$FROM"/}"
    mkdir -p "$out/$name"
    cp "$ws/package.json" "$out/$name/"
    if [ -f "$ws/README.md" ]; then cp "$ws/README.md" "$out/$name/"; fi
    (cd "$ws" && tar --exclude='*.tsbuildinfo' --exclude='.tsbuildinfo' -cf - dist) | (cd "$out/$name" && tar -xf -)
    if [ -d "$ws/bin" ]; then cp -a "$ws/bin" "$out/$name/"; fi
  done
  mkdir -p "$out/scripts" "$out/deploy" "$out/examples"
  cp "$FROM/scripts/install.sh" "$FROM/scripts/validate-deployment.sh" "$out/scripts/"
  if [ -f "$FROM/scripts/deploy.sh" ]; then cp "$FROM/scripts/deploy.sh" "$out/scripts/"; fi
  (cd "$FROM/deploy" && tar --exclude=test -cf - .) | (cd "$out/deploy" && tar -xf -)
  if compgen -G "$FROM/examples/*.yaml" >/dev/null; then cp "$FROM"/examples/*.yaml "$out/examples/"; fi
  stage_node_modules "$out"
  local commit=""
  if command -v git >/dev/null 2>&1 && git -C "$FROM" rev-parse --git-dir >/dev/null 2>&1; then
    commit="$(git -C "$FROM" rev-parse HEAD 2>/dev/null || true)"
    git -C "$FROM" diff --quiet HEAD -- 2>/dev/null || commit="$commit (with local changes)"
  fi
  {
    echo "wanctl bundle: built apps with production dependencies only"
    echo "version: $(sed -n 's/^  "version": "\(.*\)",*$/\1/p' "$FROM/package.json" | head -n1)"
    echo "commit: ${commit:-unknown}"
  } >"$out/.wanctl-bundle"
}

# Production dependencies only, taken from the checkout's installed tree
# (the versions that were built and tested there), so the target needs no
# registry access. Falls back to "npm ci --omit=dev" when nothing is installed.
stage_node_modules() {
  local out="$1" list p rel ws name
  if [ -n "$DEP_LIST" ]; then
    list="$DEP_LIST"
    local real
    real="$(realpath "$FROM")"
    mkdir -p "$out/node_modules"
    while IFS= read -r p; do
      [ -n "$p" ] || continue
      rel="${p#"$real"/}"
      [ "$rel" != "$p" ] || continue
      case "$rel" in
        node_modules/@wanctl/*) continue ;; # workspaces: linked below
        node_modules/* | packages/*/node_modules/* | apps/*/node_modules/*) ;;
        *) continue ;;
      esac
      # Skip what a copied parent package already brought along.
      if parent_copied "$out" "$rel"; then continue; fi
      case "$rel" in
        packages/* | apps/*) [ -d "$out/${rel%%/node_modules/*}" ] || continue ;;
      esac
      mkdir -p "$(dirname "$out/$rel")"
      cp -a "$real/$rel" "$out/$rel"
    done <<<"$list"
  else
    note "no node_modules in $FROM: running npm ci --omit=dev (needs the npm registry)"
    (cd "$out" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null) ||
      die "npm ci --omit=dev failed in the staging tree; run npm ci in $FROM and retry"
  fi
  # Link every shipped workspace as @wanctl/<name>, as npm does.
  mkdir -p "$out/node_modules/@wanctl"
  for ws in "$out"/packages/* "$out"/apps/*; do
    [ -f "$ws/package.json" ] || continue
    name="$(basename "$ws")"
    rm -rf "$out/node_modules/@wanctl/$name"
    ln -s "../../${ws#"$out"/}" "$out/node_modules/@wanctl/$name"
  done
}

# parent_copied OUT REL: true when a package above REL (.../node_modules/x/node_modules/y)
# has already been copied into OUT.
parent_copied() {
  local out="$1" rel="$2" head
  while [[ "$rel" == */node_modules/* ]]; do
    head="${rel%/node_modules/*}"
    case "$head" in packages/* | apps/*) [[ "$head" == */node_modules/* ]] || return 1 ;; esac
    if [ -e "$out/$head" ]; then return 0; fi
    rel="$head"
  done
  return 1
}

# Wrappers in bin/ for every "bin" entry of the shipped workspaces.
make_wrappers() {
  local out="$1" cmd target
  mkdir -p "$out/bin"
  while IFS=$'\t' read -r cmd target; do
    [ -n "$cmd" ] || continue
    cat >"$out/bin/$cmd" <<EOF
#!/bin/sh
# $cmd: generated by wanctl install.sh; runs $target with $NODE_BIN.
here=\$(dirname "\$(readlink -f "\$0")")
exec $NODE_BIN "\$here/../$target" "\$@"
EOF
    chmod 0755 "$out/bin/$cmd"
  done < <("$NODE_BIN" -e '
    const fs = require("fs"), path = require("path");
    const out = process.argv[1];
    for (const group of ["packages", "apps"]) {
      const dir = path.join(out, group);
      if (!fs.existsSync(dir)) continue;
      for (const ws of fs.readdirSync(dir).sort()) {
        const pj = path.join(dir, ws, "package.json");
        if (!fs.existsSync(pj)) continue;
        const bin = JSON.parse(fs.readFileSync(pj, "utf8")).bin || {};
        for (const [cmd, file] of Object.entries(bin)) {
          const rel = path.posix.join(group, ws, file);
          if (/^[A-Za-z0-9._-]+$/.test(cmd) && fs.existsSync(path.join(out, rel))) console.log(cmd + "\t" + rel);
        }
      }
    }' "$out")
}

# ---------------------------------------------------------------- user
SVC_UID=""
SVC_GID=""
ensure_user() {
  if [ -z "$R" ]; then
    if ! getent passwd "$SERVICE_USER" >/dev/null; then
      useradd --system --user-group --home-dir /var/lib/wanctl --no-create-home \
        --shell /usr/sbin/nologin --comment "wanctl daemons" "$SERVICE_USER"
      changed "created system user $SERVICE_USER"
    fi
    SVC_UID="$(id -u "$SERVICE_USER")"
    SVC_GID="$(id -g "$SERVICE_USER")"
  else
    mkdir -p "$R/etc"
    if ! grep -q "^$SERVICE_USER:" "$R/etc/passwd" 2>/dev/null; then
      if [ "$IS_ROOT" = 1 ] && command -v useradd >/dev/null 2>&1; then
        useradd --prefix "$R" --system --user-group --home-dir /var/lib/wanctl --no-create-home \
          --shell /usr/sbin/nologin --comment "wanctl daemons" "$SERVICE_USER"
        changed "created system user $SERVICE_USER in $R/etc/passwd"
      fi
    fi
    if grep -q "^$SERVICE_USER:" "$R/etc/passwd" 2>/dev/null; then
      SVC_UID="$(awk -F: -v u="$SERVICE_USER" '$1 == u { print $3 }' "$R/etc/passwd")"
      SVC_GID="$(awk -F: -v u="$SERVICE_USER" '$1 == u { print $4 }' "$R/etc/passwd")"
    else
      SVC_UID="$(id -u)"
      SVC_GID="$(id -g)"
      warn "no $SERVICE_USER user under $R (not root): files stay owned by $(id -un)"
    fi
  fi
}

# ---------------------------------------------------------------- packages
ensure_fping() {
  if command -v fping >/dev/null 2>&1 || [ -x /usr/bin/fping ] || [ -x /usr/sbin/fping ]; then
    return 0
  fi
  if [ -n "$R" ] || [ "$SKIP_PACKAGES" = 1 ]; then
    warn "fping is not installed; the daemons need it (apt-get install fping)"
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 || die "fping is required and apt-get is not available: install fping, then rerun"
  note "installing fping"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fping >/dev/null 2>&1; then
    # A fresh host may have no package lists yet.
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fping >/dev/null ||
      die "apt-get install fping failed (output above): fix apt, or install fping yourself, then rerun"
  fi
  changed "installed package fping"
}

# ---------------------------------------------------------------- install
# shellcheck disable=SC2016  # ${KEY} is meant literally
SECRETS_TEMPLATE='# wanctl secrets: KEY=value lines, read by the wanctl units
# (EnvironmentFile=). Referenced from configs as ${KEY}, e.g.
#   router:
#     password: "${WANCTL_ROUTER_PASSWORD}"
# Keep this file 0640 root:wanctl.
#WANCTL_ROUTER_PASSWORD=
'

install_code() {
  local stage old
  stage="$(mktemp -d "${TMPDIR:-/tmp}/wanctl-stage.XXXXXX")"
  # shellcheck disable=SC2064  # expand now: the path is fixed
  trap "rm -rf '$stage'" EXIT
  stage_tree "$stage/tree"
  make_wrappers "$stage/tree"
  if [ "$IS_ROOT" = 1 ]; then chown -R 0:0 "$stage/tree"; fi
  chmod -R u+rwX,go+rX,go-w "$stage/tree"
  chmod 0755 "$stage/tree"
  if [ -d "$R/opt/wanctl" ] && diff -rq --no-dereference "$R/opt/wanctl" "$stage/tree" >/dev/null 2>&1; then
    note "code: /opt/wanctl is up to date"
  else
    mkdir -p "$R/opt"
    rm -rf "$R/opt/wanctl.new"
    cp -a "$stage/tree" "$R/opt/wanctl.new"
    # The release being replaced becomes /opt/wanctl.prev (for --rollback); the one before goes.
    old=""
    if [ -e "$R/opt/wanctl" ]; then
      old="$R/opt/wanctl.old.$$"
      mv "$R/opt/wanctl" "$old"
    fi
    mv "$R/opt/wanctl.new" "$R/opt/wanctl"
    if [ -n "$old" ]; then
      rm -rf "$R/opt/wanctl.prev"
      mv "$old" "$R/opt/wanctl.prev"
      note "code: kept the previous release as /opt/wanctl.prev ($(release_of "$R/opt/wanctl.prev"))"
    fi
    changed "installed code in /opt/wanctl ($(release_of "$R/opt/wanctl"))"
    record code
  fi
  rm -rf "$stage"
  trap - EXIT
  link_commands
}

# "version X, commit Y" of an installed release, from its .wanctl-bundle.
release_of() {
  local v c
  v="$(sed -n 's/^version: //p' "$1/.wanctl-bundle" 2>/dev/null || true)"
  c="$(sed -n 's/^commit: //p' "$1/.wanctl-bundle" 2>/dev/null || true)"
  printf 'version %s, commit %s' "${v:-unknown}" "${c:-unknown}"
}

# Links in /usr/local/bin to the wrappers of /opt/wanctl/bin. Never replaces a file that
# is not ours; removes our links whose wrapper is gone (after a rollback).
link_commands() {
  local w link
  mkdir -p "$R/usr/local/bin"
  for w in "$R"/opt/wanctl/bin/*; do
    [ -f "$w" ] || continue
    link="$R/usr/local/bin/$(basename "$w")"
    if [ -L "$link" ] && [ "$(readlink "$link")" = "/opt/wanctl/bin/$(basename "$w")" ]; then continue; fi
    if [ -e "$link" ] || [ -L "$link" ]; then
      warn "${link#"$R"} exists and is not wanctl's link; left alone"
      continue
    fi
    ln -s "/opt/wanctl/bin/$(basename "$w")" "$link"
    changed "linked ${link#"$R"}"
  done
  for link in "$R"/usr/local/bin/*; do
    [ -L "$link" ] || continue
    case "$(readlink "$link")" in
      /opt/wanctl/bin/*) [ -e "$R$(readlink "$link")" ] || { rm -f "$link"; changed "removed ${link#"$R"}"; } ;;
    esac
  done
}

install_system_files() {
  local unit units_changed=0
  for unit in wanctl-autorate@.service wanctl-steering.service; do
    if install_file "$R/opt/wanctl/deploy/systemd/$unit" "$R/etc/systemd/system/$unit" 0 0 644; then
      record "unit:$unit"
      units_changed=1
    fi
  done
  if install_file "$R/opt/wanctl/deploy/tmpfiles.d/wanctl.conf" "$R/etc/tmpfiles.d/wanctl.conf" 0 0 644; then
    record tmpfiles
  fi
  if install_file "$R/opt/wanctl/deploy/logrotate/wanctl" "$R/etc/logrotate.d/wanctl" 0 0 644; then
    record logrotate
  fi
  if [ "$SYSTEMD_LIVE" = 1 ]; then
    [ "$units_changed" = 0 ] || { systemctl daemon-reload; note "systemd: reloaded unit files"; }
    if command -v systemd-tmpfiles >/dev/null 2>&1; then
      systemd-tmpfiles --create /etc/tmpfiles.d/wanctl.conf || warn "systemd-tmpfiles --create failed"
    fi
  fi
}

install_dirs() {
  ensure_dir "$R/etc/wanctl" 0 "$SVC_GID" 750
  ensure_dir "$R/etc/wanctl/ssh" 0 "$SVC_GID" 750
  ensure_dir "$R/var/lib/wanctl" "$SVC_UID" "$SVC_GID" 750
  ensure_dir "$R/var/lib/wanctl/.ssh" "$SVC_UID" "$SVC_GID" 700
  if [ ! -e "$R/var/lib/wanctl/.ssh/known_hosts" ]; then
    : >"$R/var/lib/wanctl/.ssh/known_hosts"
    changed "created /var/lib/wanctl/.ssh/known_hosts"
  fi
  set_owner_mode "$R/var/lib/wanctl/.ssh/known_hosts" "$SVC_UID" "$SVC_GID" 600
  ensure_dir "$R/var/log/wanctl" "$SVC_UID" "$SVC_GID" 750
  ensure_dir "$R/run/wanctl" "$SVC_UID" "$SVC_GID" 755

  local secrets="$R/etc/wanctl/secrets"
  if [ ! -e "$secrets" ]; then
    (umask 077 && printf '%s' "$SECRETS_TEMPLATE" >"$secrets")
    changed "created /etc/wanctl/secrets (template; add your router password)"
  fi
  # Never rewrite the content; only make sure it is not readable by others.
  set_owner_mode "$secrets" 0 "$SVC_GID" 640
}

install_configs() {
  local src name dest stamp
  for src in "${CONFIGS[@]}"; do
    [ -f "$src" ] || die "--config $src: no such file"
    name="$(basename "$src")"
    [[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*\.yaml$ ]] || die "--config $src: the name must look like <wan>.yaml (letters, digits, . _ -)"
    [ "$name" != secrets ] || die "--config: refusing to install over the secrets file"
    dest="$R/etc/wanctl/$name"
    if [ -f "$dest" ] && ! cmp -s "$src" "$dest"; then
      stamp="$(date -u +%Y%m%dT%H%M%SZ)"
      cp -p "$dest" "$dest.$stamp.bak"
      note "config: kept the previous /etc/wanctl/$name as $name.$stamp.bak"
    fi
    if install_file "$src" "$dest" 0 "$SVC_GID" 640; then
      record "config:$name"
    else
      note "config: /etc/wanctl/$name is up to date"
    fi
  done
}

# router.transport of each autorate config in /etc/wanctl, as "<wan><TAB><transport>" lines,
# read from the YAML itself (js-yaml of the installed tree), so that it works whatever the
# config schema of this release accepts.
config_transports() {
  local f lib="$R/opt/wanctl/packages/config/package.json"
  local files=()
  for f in "$R"/etc/wanctl/*.yaml; do
    [ -f "$f" ] || continue
    [ "$(basename "$f")" != steering.yaml ] || continue
    files+=("$f")
  done
  [ "${#files[@]}" -gt 0 ] || return 0
  [ -f "$lib" ] || { warn "no config library in /opt/wanctl: cannot tell which configs use linux-cake"; return 0; }
  [ -n "$NODE_BIN" ] || { warn "node is not on PATH: cannot tell which configs use linux-cake"; return 0; }
  # shellcheck disable=SC2016  # JavaScript, not shell
  "$NODE_BIN" -e '
    const { createRequire } = require("module");
    const fs = require("fs"), path = require("path");
    const [lib, ...files] = process.argv.slice(1);
    let yaml;
    try { yaml = createRequire(lib)("js-yaml"); } catch (e) { console.error(`cannot load js-yaml: ${e.message}`); process.exit(1); }
    for (const f of files) {
      let t = "";
      try {
        const doc = yaml.load(fs.readFileSync(f, "utf8"));
        const v = doc && doc.router && doc.router.transport;
        t = typeof v === "string" ? v : "";
      } catch (e) { console.error(`${f}: ${e.message.split("\n")[0]}`); }
      console.log(path.basename(f, ".yaml") + "\t" + (t || "-"));
    }' "$lib" "${files[@]}" || warn "could not read router.transport from the configs (above)"
}

# The linux-cake drop-in, per instance: installed for configs with router.transport linux-cake,
# removed from instances whose config uses RouterOS (or is gone).
install_dropins() {
  local src="$R/opt/wanctl/deploy/systemd/wanctl-autorate@.service.d/$DROPIN_NAME" wan transport d unit
  local want=" " any=0
  if [ -z "$NODE_BIN" ]; then NODE_BIN="$(command -v node || true)"; fi
  while IFS=$'\t' read -r wan transport; do
    [ -n "$wan" ] || continue
    unit="wanctl-autorate@$wan.service"
    d="$R/etc/systemd/system/$unit.d"
    if [ "$transport" = linux-cake ]; then
      want="$want$wan "
      [ -f "$src" ] || die "the installed release has no ${src#"$R"}; reinstall wanctl"
      mkdir -p "$d"
      if install_file "$src" "$d/$DROPIN_NAME" 0 0 644; then
        record "unit:$unit"
        any=1
      fi
    fi
  done < <(config_transports)
  for d in "$R"/etc/systemd/system/wanctl-autorate@?*.service.d; do
    [ -f "$d/$DROPIN_NAME" ] || continue
    unit="$(basename "$d" .d)"
    wan="${unit#wanctl-autorate@}"
    wan="${wan%.service}"
    case "$want" in *" $wan "*) continue ;; esac
    rm -f "$d/$DROPIN_NAME"
    rmdir "$d" 2>/dev/null || true
    changed "removed ${d#"$R"}/$DROPIN_NAME (its config does not use linux-cake)"
    record "unit:$unit"
    any=1
  done
  if [ "$any" = 1 ] && [ "$SYSTEMD_LIVE" = 1 ]; then systemctl daemon-reload; note "systemd: reloaded unit files"; fi
}

write_changes() {
  if [ -n "$CHANGES_FILE" ]; then
    if [ "${#CHANGES[@]}" -gt 0 ]; then printf '%s\n' "${CHANGES[@]}" >"$CHANGES_FILE"; else : >"$CHANGES_FILE"; fi
  fi
}

do_install() {
  note "wanctl install into ${ROOT}"
  find_node
  ensure_fping
  ensure_user
  install_dirs
  install_code
  install_system_files
  install_configs
  install_dropins
  write_changes
  if [ "${#CHANGES[@]}" -eq 0 ]; then
    note "install: nothing changed"
  else
    note "install: done (${CHANGES[*]})"
    if [ -z "$R" ] && printf '%s\n' "${CHANGES[@]}" | grep -qx code; then
      note "restart running wanctl units to use the new code: systemctl restart 'wanctl-*'"
    fi
  fi
}

# ---------------------------------------------------------------- rollback
do_rollback() {
  local cur="$R/opt/wanctl" prev="$R/opt/wanctl.prev" swap
  note "wanctl rollback in ${ROOT}"
  [ -d "$prev" ] || die "there is no previous release to roll back to (/opt/wanctl.prev does not exist; an install that changes the code keeps the release it replaces there)"
  [ -f "$prev/.wanctl-bundle" ] || die "/opt/wanctl.prev is not a wanctl release (no .wanctl-bundle); nothing was changed"
  [ -d "$cur" ] || die "/opt/wanctl does not exist: install wanctl first"
  swap="$R/opt/wanctl.rollback.$$"
  mv "$cur" "$swap"
  mv "$prev" "$cur"
  mv "$swap" "$prev"
  changed "rolled /opt/wanctl back to $(release_of "$cur"); the replaced release is now /opt/wanctl.prev ($(release_of "$prev"))"
  record code
  link_commands
  install_system_files
  install_dropins
  write_changes
  note "rollback: done (${CHANGES[*]})"
  if [ -z "$R" ]; then
    note "restart the running wanctl units to run the restored code: systemctl restart 'wanctl-*'"
  fi
}

# ---------------------------------------------------------------- uninstall
our_units() {
  # Enabled instances (wants/ links) plus the unit files themselves.
  local f
  for f in "$R"/etc/systemd/system/*.wants/wanctl-autorate@*.service "$R"/etc/systemd/system/*.wants/wanctl-steering.service; do
    if [ -L "$f" ]; then basename "$f"; fi
  done | sort -u
}

do_uninstall() {
  note "wanctl uninstall from ${ROOT}"
  local units u f
  mapfile -t units < <(our_units)
  if [ "$SYSTEMD_LIVE" = 1 ]; then
    systemctl stop 'wanctl-autorate@*.service' wanctl-steering.service 2>/dev/null || true
    [ "${#units[@]}" -eq 0 ] || systemctl disable "${units[@]}" 2>/dev/null || true
    note "systemd: stopped and disabled the wanctl units"
  fi
  for u in "${units[@]}"; do
    for f in "$R"/etc/systemd/system/*.wants/"$u"; do
      if [ -L "$f" ]; then rm -f "$f"; changed "removed ${f#"$R"}"; fi
    done
  done
  for f in "$R/etc/systemd/system/wanctl-autorate@.service" "$R/etc/systemd/system/wanctl-steering.service" \
    "$R/etc/tmpfiles.d/wanctl.conf" "$R/etc/logrotate.d/wanctl"; do
    if [ -e "$f" ]; then rm -f "$f"; changed "removed ${f#"$R"}"; fi
  done
  for f in "$R"/usr/local/bin/*; do
    [ -L "$f" ] || continue
    case "$(readlink "$f")" in /opt/wanctl/bin/*) rm -f "$f"; changed "removed ${f#"$R"}" ;; esac
  done
  [ "$SYSTEMD_LIVE" = 0 ] || systemctl daemon-reload
  for f in "$R"/etc/systemd/system/wanctl-autorate@*.service.d/"$DROPIN_NAME"; do
    if [ -f "$f" ]; then
      rm -f "$f"
      rmdir "$(dirname "$f")" 2>/dev/null || true
      changed "removed ${f#"$R"}"
    fi
  done
  for f in "$R/opt/wanctl" "$R/opt/wanctl.prev" "$R/run/wanctl"; do
    if [ -e "$f" ]; then rm -rf "$f"; changed "removed ${f#"$R"}"; fi
  done
  if [ "$PURGE" = 1 ]; then
    for f in "$R/etc/wanctl" "$R/var/lib/wanctl" "$R/var/log/wanctl"; do
      if [ -e "$f" ]; then rm -rf "$f"; changed "removed ${f#"$R"}"; fi
    done
    if [ -z "$R" ]; then
      if getent passwd "$SERVICE_USER" >/dev/null; then
        userdel "$SERVICE_USER"
        changed "removed user $SERVICE_USER"
      fi
      if getent group "$SERVICE_USER" >/dev/null; then groupdel "$SERVICE_USER" 2>/dev/null || true; fi
    elif grep -q "^$SERVICE_USER:" "$R/etc/passwd" 2>/dev/null; then
      userdel --prefix "$R" "$SERVICE_USER"
      changed "removed user $SERVICE_USER from $R/etc/passwd"
      if grep -q "^$SERVICE_USER:" "$R/etc/group" 2>/dev/null; then groupdel --prefix "$R" "$SERVICE_USER" 2>/dev/null || true; fi
    fi
    note "uninstall: done (configs, secrets, state and logs removed)"
  else
    note "uninstall: done; kept /etc/wanctl (configs, secrets), /var/lib/wanctl, /var/log/wanctl and the $SERVICE_USER user (--purge removes them)"
  fi
}

# ---------------------------------------------------------------- main
if [ -z "$FROM" ]; then FROM="$(dirname "$SCRIPT_DIR")"; fi
[ -d "$FROM" ] || die "--from $FROM: no such directory"
FROM="$(cd "$FROM" && pwd)"

if [ -n "$STAGE_ONLY" ]; then
  [ ! -e "$STAGE_ONLY" ] || [ -z "$(ls -A "$STAGE_ONLY")" ] || die "--stage-only $STAGE_ONLY: the directory must be empty or absent"
  stage_tree "$STAGE_ONLY"
  note "staged a wanctl bundle in $STAGE_ONLY"
elif [ "$UNINSTALL" = 1 ]; then
  do_uninstall
elif [ "$ROLLBACK" = 1 ]; then
  do_rollback
else
  do_install
fi
