#!/usr/bin/env bash
# validate-deployment.sh: check that a wanctl host is ready to run (or is running) its
# units, and say for each problem what to do about it. See --help.
set -euo pipefail

readonly PROG=validate-deployment.sh
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR
readonly ALL_CHECKS="config secrets fping router tc dirs units health"

usage() {
  cat <<'EOF'
Usage: validate-deployment.sh [--config FILE ...] [--steering FILE] [options]

Checks a wanctl host and prints one line per finding; every warning and
error says what to do about it:
  config   each config loads and validates (the daemons' own loader), and no
           two configs share a health or metrics port
  secrets  /etc/wanctl/secrets exists, is not world-readable, and defines every
           ${VAR} the configs use
  fping    fping is installed and can send ICMP as the wanctl user with the
           units' capability; the configured ping hosts answer
  router   the router answers over each configured transport, with latency,
           and has the configured queues, queue types and (steering) the
           mangle rule (through "wanctl-router probe")
  tc       configs with router.transport linux-cake: tc is installed,
           /proc/net/psched is readable, and the autorate unit grants
           CAP_NET_ADMIN (the linux-cake drop-in); RouterOS configs: the
           unit does not grant it
  dirs     state, lock and log directories exist, are writable by wanctl and
           lie where the units may write
  units    the units are enabled and active
  health   the health endpoints answer (200 healthy, 503 degraded)

Options:
  --config FILE     a config to check (autorate or steering; repeatable).
                    Default: every /etc/wanctl/*.yaml
  --steering FILE   a steering config to check
  --only LIST       run only these checks (comma-separated, names above)
  --skip LIST       skip these checks
  --wait SEC        units and health: keep retrying up to SEC seconds for the
                    units to come up (after a restart)
  --timeout SEC     deadline for one router probe (default 30)
  --root DIR        the installation lives under DIR (as install.sh --root)
  --json            print one JSON document instead of text
  -h, --help        show this help

Run it as root: the secrets file and the wanctl user's view are checked.
Exit status: 0 all good, 1 at least one error, 2 bad arguments (nothing was
checked), 3 warnings only.
Environment: WANCTL_SYSTEMCTL overrides the systemctl command used by the
units check.
EOF
}

# ---------------------------------------------------------------- arguments
CONFIGS=()
STEERING=()
ONLY=""
SKIP=""
WAIT=0
TIMEOUT=30
ROOT=/
JSON=0

bad_usage() { printf '%s: %s (see --help)\n' "$PROG" "$*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --config) [ $# -ge 2 ] || bad_usage "--config needs a file"; CONFIGS+=("$2"); shift 2 ;;
    --steering) [ $# -ge 2 ] || bad_usage "--steering needs a file"; STEERING+=("$2"); shift 2 ;;
    --only) [ $# -ge 2 ] || bad_usage "--only needs a list"; ONLY="$2"; shift 2 ;;
    --skip) [ $# -ge 2 ] || bad_usage "--skip needs a list"; SKIP="$2"; shift 2 ;;
    --wait) [ $# -ge 2 ] || bad_usage "--wait needs seconds"; WAIT="$2"; shift 2 ;;
    --timeout) [ $# -ge 2 ] || bad_usage "--timeout needs seconds"; TIMEOUT="$2"; shift 2 ;;
    --root) [ $# -ge 2 ] || bad_usage "--root needs a directory"; ROOT="$2"; shift 2 ;;
    --json) JSON=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) bad_usage "unknown option: $1" ;;
    *) CONFIGS+=("$1"); shift ;; # v1.3 took the config as a positional argument
  esac
done
[[ "$WAIT" =~ ^[0-9]+$ ]] || bad_usage "--wait: not a number of seconds: $WAIT"
if ! [[ "$TIMEOUT" =~ ^[1-9][0-9]*$ ]]; then bad_usage "--timeout: not a number of seconds: $TIMEOUT"; fi
for c in ${ONLY//,/ } ${SKIP//,/ }; do
  case " $ALL_CHECKS " in *" $c "*) ;; *) bad_usage "unknown check: $c (one of: $ALL_CHECKS)" ;; esac
done
if [ "$ROOT" != / ]; then
  [ -d "$ROOT" ] || bad_usage "--root $ROOT: no such directory"
  ROOT="$(cd "$ROOT" && pwd)"
fi
if [ "$ROOT" = / ]; then R=""; else R="$ROOT"; fi
readonly R

enabled() {
  if [ -n "$ONLY" ]; then case ",$ONLY," in *",$1,"*) ;; *) return 1 ;; esac; fi
  case ",$SKIP," in *",$1,"*) return 1 ;; esac
  return 0
}

# ---------------------------------------------------------------- findings
N_OK=0
N_WARN=0
N_ERR=0
FINDINGS=() # level<TAB>check<TAB>message

# finding LEVEL CHECK MESSAGE (LEVEL: ok, warning, error); printed at once in text mode.
finding() {
  local level="$1" check="$2" msg="$3" tag
  msg="${msg//$'\n'/ }"
  msg="${msg//$'\t'/ }"
  case "$level" in
    ok) N_OK=$((N_OK + 1)); tag="OK  " ;;
    warning) N_WARN=$((N_WARN + 1)); tag="WARN" ;;
    error) N_ERR=$((N_ERR + 1)); tag="FAIL" ;;
    *) level=error; N_ERR=$((N_ERR + 1)); tag="FAIL" ;;
  esac
  FINDINGS+=("$level"$'\t'"$check"$'\t'"$msg")
  if [ "$JSON" = 0 ]; then printf '%s %-8s %s\n' "$tag" "$check" "$msg"; fi
}

# ---------------------------------------------------------------- environment
NODE_BIN="$(command -v node || true)"
TREE="$(dirname "$SCRIPT_DIR")" # /opt/wanctl, or a checkout
SECRETS="$R/etc/wanctl/secrets"
SVC_USER=wanctl
SVC_UID=""
SVC_GID=""
if [ -z "$R" ]; then
  if getent passwd "$SVC_USER" >/dev/null 2>&1; then SVC_UID="$(id -u "$SVC_USER")"; SVC_GID="$(id -g "$SVC_USER")"; fi
elif [ -f "$R/etc/passwd" ]; then
  SVC_UID="$(awk -F: -v u="$SVC_USER" '$1 == u { print $3 }' "$R/etc/passwd")"
  SVC_GID="$(awk -F: -v u="$SVC_USER" '$1 == u { print $4 }' "$R/etc/passwd")"
fi
IS_ROOT=0
[ "$(id -u)" != 0 ] || IS_ROOT=1

# Who as_service runs commands as, for messages.
if [ -z "$R" ] && [ "$IS_ROOT" = 1 ] && [ -n "$SVC_UID" ] && command -v setpriv >/dev/null 2>&1; then
  AS_WHO="$SVC_USER"
else
  AS_WHO="$(id -un) (not as $SVC_USER: only as root on the installed host)"
fi

# Run a command as the wanctl user with what the units grant (CAP_NET_RAW, no new
# privileges), when this is the real root and we are root; otherwise as ourselves.
as_service() {
  if [ -z "$R" ] && [ "$IS_ROOT" = 1 ] && [ -n "$SVC_UID" ] && command -v setpriv >/dev/null 2>&1; then
    HOME=/var/lib/wanctl setpriv --reuid "$SVC_UID" --regid "$SVC_GID" --init-groups \
      --inh-caps +net_raw --ambient-caps +net_raw --no-new-privs -- "$@"
  else
    "$@"
  fi
}

# Default configs: every /etc/wanctl/*.yaml.
if [ "${#CONFIGS[@]}" -eq 0 ] && [ "${#STEERING[@]}" -eq 0 ]; then
  for f in "$R"/etc/wanctl/*.yaml; do
    if [ -f "$f" ]; then CONFIGS+=("$f"); fi
  done
fi

# ---------------------------------------------------------------- config (node helper)
# Loads every config with @wanctl/config and prints TAB-separated lines:
#   F level check message      a finding
#   K file kind unit           a config that loaded (kind autorate|steering)
#   D file path purpose        a directory the unit writes
#   P host                     a ping host
#   H unit url                 a health endpoint
#   S file path                steering: the primary WAN's autorate state file
#   X file path                the SSH private key the config uses
#   T file unit transport      router.transport as written in the YAML ("-" when absent),
#                              read even when the config does not load
read -r -d '' CONFIG_HELPER <<'EOF' || true
const [configLib, secretsFile, ...args] = process.argv.slice(1);
import('node:fs').then(async (fs) => {
  const path = await import('node:path');
  const { createRequire } = await import('node:module');
  let yaml = null;
  try {
    yaml = createRequire(configLib)('js-yaml');
  } catch {}
  const out = (...cols) => console.log(cols.map((c) => String(c).replace(/[\t\n]/g, ' ')).join('\t'));
  let lib;
  try {
    lib = await import(configLib);
  } catch (e) {
    out('F', 'error', 'config', `cannot load the config library ${configLib} (${e.message}); fix: reinstall wanctl (scripts/install.sh)`);
    return;
  }
  const env = {};
  let secretsText = null;
  try {
    secretsText = fs.readFileSync(secretsFile, 'utf8');
  } catch {}
  if (secretsText !== null) {
    for (const line of secretsText.split('\n')) {
      const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
      if (!m || line.trim().startsWith('#')) continue;
      let v = m[2];
      if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v[v.length - 1] === v[0]) v = v.slice(1, -1);
      env[m[1]] = v;
    }
  }
  const ports = new Map();
  const seenUnits = new Map();
  for (let i = 0; i < args.length; i += 2) {
    const forced = args[i] === 'steering' ? 'steering' : undefined;
    const file = args[i + 1];
    let text;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      out('F', 'error', 'config', `${file}: cannot read it (${e.code ?? e.message}); fix: check the path, and run as root`);
      continue;
    }
    if (forced !== 'steering' && path.basename(file) !== 'steering.yaml') {
      let transport = '-';
      try {
        const t = yaml?.load(text)?.router?.transport;
        if (typeof t === 'string' && t) transport = t;
      } catch {}
      out('T', file, `wanctl-autorate@${path.basename(file).replace(/\.ya?ml$/, '')}.service`, transport);
    }
    const vars = [...new Set([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]))];
    const missing = vars.filter((v) => env[v] === undefined || env[v] === '');
    if (missing.length > 0) {
      const where = secretsText === null ? `${secretsFile} (missing or unreadable)` : secretsFile;
      out('F', 'error', 'secrets', `${file} uses ${missing.map((v) => '${' + v + '}').join(', ')}, not set in ${where}; fix: add ${missing.map((v) => v + '=...').join(', ')} to ${secretsFile}`);
    } else if (vars.length > 0) {
      out('F', 'ok', 'secrets', `${file}: ${vars.map((v) => '${' + v + '}').join(', ')} set in ${secretsFile}`);
    }
    let loaded;
    try {
      const full = Object.fromEntries(vars.map((v) => [v, env[v] ?? 'unset-placeholder']));
      loaded = lib.loadConfigFile(file, { env: { ...env, ...full }, kind: forced });
    } catch (e) {
      const problems = Array.isArray(e.problems) ? e.problems : null;
      if (problems && typeof lib.formatProblem === 'function') {
        for (const p of problems) out('F', 'error', 'config', `${lib.formatProblem(p)}; fix: edit ${file} (wanctl-check-config ${file} lists every problem)`);
      } else {
        out('F', 'error', 'config', `${file}: ${e.message}; fix: edit ${file} (wanctl-check-config ${file})`);
      }
      continue;
    }
    const c = loaded.config;
    const base = path.basename(file).replace(/\.ya?ml$/, '');
    const unit = loaded.kind === 'steering' ? 'wanctl-steering.service' : `wanctl-autorate@${base}.service`;
    if (seenUnits.has(unit)) {
      out('F', 'error', 'config', `${file} and ${seenUnits.get(unit)} both map to ${unit}; fix: keep one steering config`);
    }
    seenUnits.set(unit, file);
    const r = c.router;
    const summary = loaded.kind === 'steering'
      ? `steering, primary ${c.topology.primaryWan}, rule "${c.mangleRule.comment}"`
      : `WAN ${c.wanName}, queues ${c.queues.download}/${c.queues.upload}`;
    out('F', 'ok', 'config', `${file}: valid (${summary}; router ${r.host} over ${r.transport}${r.fallbackTransport ? ', fallback ' + r.fallbackTransport : ''})`);
    for (const w of c.warnings ?? []) {
      out('F', 'warning', 'config', `${lib.formatProblem ? lib.formatProblem(w) : file + ': ' + w.message}; fix: edit ${file}`);
    }
    out('K', file, loaded.kind, unit);
    for (const [what, ep] of [['health_check', c.healthCheck], ['metrics', c.metrics]]) {
      if (!ep.enabled) continue;
      const key = `${ep.host}:${ep.port}`;
      if (ports.has(key)) {
        out('F', 'error', 'config', `${file} ${what} and ${ports.get(key)} both listen on ${key}; fix: give each config its own ${what}.port`);
      } else ports.set(key, `${file} ${what}`);
    }
    if (r.ssh && r.ssh.keyFile && (r.transport === 'ssh' || r.fallbackTransport === 'ssh')) out('X', file, r.ssh.keyFile);
    if (c.healthCheck.enabled) out('H', unit, `http://${c.healthCheck.host.includes(':') ? '[' + c.healthCheck.host + ']' : c.healthCheck.host}:${c.healthCheck.port}/health`);
    const dirs = [[path.dirname(c.lockFile), 'lock_file']];
    for (const [k, v] of [['logging.main_log', c.logging.mainLog], ['logging.debug_log', c.logging.debugLog]]) if (v) dirs.push([path.dirname(v), k]);
    if (loaded.kind === 'autorate') {
      dirs.push([path.dirname(c.stateFile), 'state file']);
      for (const h of c.pingHosts) out('P', h);
    } else {
      dirs.push([path.dirname(c.state.file), 'state.file']);
      out('P', c.measurement.pingHost);
      out('S', file, c.primaryStateFile);
    }
    const seen = new Set();
    for (const [d, why] of dirs) {
      if (seen.has(d)) continue;
      seen.add(d);
      out('D', file, d, why);
    }
  }
});
EOF

KINDS=()        # file<TAB>kind<TAB>unit, for configs that loaded
DIRS=()         # file<TAB>dir<TAB>purpose
PING_HOSTS=()
HEALTH=()       # unit<TAB>url
STEER_DEPS=()   # file<TAB>primary state file
SSH_KEYS=()     # file<TAB>key file
TRANSPORTS=()   # file<TAB>autorate unit<TAB>router.transport as written

run_config_helper() {
  local args=() f line kind
  for f in "${CONFIGS[@]}"; do args+=(auto "$f"); done
  for f in "${STEERING[@]}"; do args+=(steering "$f"); done
  [ "${#args[@]}" -gt 0 ] || return 0
  if [ -z "$NODE_BIN" ]; then
    finding error config "node is not installed, so the configs cannot be checked; fix: install Node.js 20 or newer"
    return 0
  fi
  local lib="$TREE/packages/config/dist/index.js"
  if [ ! -f "$lib" ]; then
    finding error config "$lib is missing; fix: install wanctl (scripts/install.sh) or build the checkout (npm run build)"
    return 0
  fi
  while IFS= read -r line; do
    IFS=$'\t' read -r kind _ <<<"$line"
    case "$kind" in
      F)
        local level check msg
        IFS=$'\t' read -r _ level check msg <<<"$line"
        if [ "$check" = secrets ] && ! enabled secrets; then continue; fi
        if [ "$check" = config ] && ! enabled config; then [ "$level" != ok ] || continue; fi
        finding "$level" "$check" "$msg"
        ;;
      K) KINDS+=("${line#K$'\t'}") ;;
      D) DIRS+=("${line#D$'\t'}") ;;
      P) PING_HOSTS+=("${line#P$'\t'}") ;;
      H) HEALTH+=("${line#H$'\t'}") ;;
      S) STEER_DEPS+=("${line#S$'\t'}") ;;
      X) SSH_KEYS+=("${line#X$'\t'}") ;;
      T) TRANSPORTS+=("${line#T$'\t'}") ;;
    esac
  done < <("$NODE_BIN" --input-type=module -e "$CONFIG_HELPER" "file://$lib" "$SECRETS" "${args[@]}" 2>&1 || true)
}

# ---------------------------------------------------------------- secrets
check_secrets() {
  if [ ! -e "$SECRETS" ]; then
    finding warning secrets "${SECRETS#"$R"} does not exist; fix: create it (install.sh does) as root:wanctl 0640 with KEY=value lines"
    return 0
  fi
  local mode uid gid
  read -r mode uid gid < <(stat -c '%a %u %g' "$SECRETS")
  if (((8#$mode) & 8#007)); then
    finding error secrets "${SECRETS#"$R"} is readable by every user (mode $mode); fix: chmod 0640 ${SECRETS#"$R"}"
  else
    finding ok secrets "${SECRETS#"$R"} is not world-readable (mode $mode)"
  fi
  if [ -n "$SVC_GID" ] && [ "$gid" != "$SVC_GID" ] && [ "$uid" != "$SVC_UID" ]; then
    finding warning secrets "${SECRETS#"$R"} is not in group $SVC_USER, so systemd reads it but 'wanctl-router probe' as $SVC_USER cannot; fix: chown root:$SVC_USER ${SECRETS#"$R"}"
  fi
  local entry file key kmode kuid kgid
  for entry in "${SSH_KEYS[@]}"; do
    IFS=$'\t' read -r file key <<<"$entry"
    local kpath="$R$key"
    # Under --root, a config may also name a real path (the probe reads it as given).
    if [ ! -f "$kpath" ] && [ -f "$key" ]; then kpath="$key"; fi
    if [ ! -f "$kpath" ]; then
      finding error secrets "$file: the SSH key $key does not exist; fix: ssh-keygen -t ed25519 -N '' -f $key, then import $key.pub for the router user (/user ssh-keys import)"
      continue
    fi
    read -r kmode kuid kgid < <(stat -c '%a %u %g' "$kpath")
    if (((8#$kmode) & 8#007)); then
      finding error secrets "$key is readable by every user (mode $kmode); fix: chmod 0640 $key"
    elif [ -n "$SVC_UID" ] && ! { [ "$kuid" = "$SVC_UID" ] && (((8#$kmode) & 8#400)); } &&
      ! { [ "$kgid" = "$SVC_GID" ] && (((8#$kmode) & 8#040)); }; then
      finding error secrets "$key is not readable by $SVC_USER (mode $kmode, owner $kuid:$kgid); fix: chown root:$SVC_USER $key && chmod 0640 $key"
    else
      finding ok secrets "$key is readable by $SVC_USER only"
    fi
  done
  if [ "$IS_ROOT" = 0 ] && [ ! -r "$SECRETS" ]; then
    finding warning secrets "cannot read ${SECRETS#"$R"} as $(id -un), so \${VAR} values are not checked; fix: run this script as root"
  fi
}

# ---------------------------------------------------------------- fping
check_fping() {
  local fping
  fping="$(command -v fping || true)"
  if [ -z "$fping" ]; then
    finding error fping "fping is not installed; fix: apt-get install fping"
    return 0
  fi
  local out
  if out="$(as_service "$fping" -c1 -t500 127.0.0.1 2>&1)"; then
    finding ok fping "fping sends ICMP as $AS_WHO (loopback answered)"
  else
    finding error fping "fping cannot send ICMP as $AS_WHO with CAP_NET_RAW: $(printf '%s' "$out" | tail -n1); fix: reinstall fping (apt-get install --reinstall fping) and keep AmbientCapabilities=CAP_NET_RAW in the units"
    return 0
  fi
  [ "${#PING_HOSTS[@]}" -gt 0 ] || return 0
  local hosts h alive=() dead=()
  mapfile -t hosts < <(printf '%s\n' "${PING_HOSTS[@]}" | awk 'NF && !seen[$0]++')
  for h in "${hosts[@]}"; do
    if as_service "$fping" -c1 -t1000 -r1 "$h" >/dev/null 2>&1; then alive+=("$h"); else dead+=("$h"); fi
  done
  if [ "${#dead[@]}" -eq 0 ]; then
    finding ok fping "every ping host answers (${alive[*]})"
  elif [ "${#alive[@]}" -eq 0 ]; then
    finding error fping "no ping host answers (${dead[*]}); fix: check the WAN link, the firewall, and ping_hosts / measurement.ping_host in the configs"
  else
    finding warning fping "ping hosts not answering: ${dead[*]} (answering: ${alive[*]}); fix: replace them in ping_hosts, or check the path to them"
  fi
}

# ---------------------------------------------------------------- router
# Turns the JSON of "wanctl-router probe --json" into finding lines (level TAB message).
read -r -d '' PROBE_HELPER <<'EOF' || true
const [file, rc] = process.argv.slice(1);
let text = '';
process.stdin.on('data', (d) => (text += d));
process.stdin.on('end', () => {
  const out = (level, msg) => console.log(`${level}\t${msg.replace(/[\t\n]/g, ' ')}`);
  let report = null;
  const start = text.indexOf('{"ok"');
  if (start >= 0) {
    try {
      report = JSON.parse(text.slice(start).split('\n')[0]);
    } catch {}
  }
  if (!report) {
    // Not the JSON report: pass its lines on as they are.
    const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
    for (const l of lines) {
      const level = /warn/i.test(l) ? 'warning' : rc === '0' || /^ok\b/i.test(l) || /: ok\b/i.test(l) ? 'ok' : 'error';
      out(level, `${file}: ${l}`);
    }
    if (lines.length === 0 && rc !== '0') out('error', `${file}: wanctl-router probe failed (exit ${rc}) without a message; fix: run wanctl-router probe --config ${file}`);
    return;
  }
  const seen = new Map();
  for (const t of report.transports ?? []) {
    const name = `${t.transport} (${t.role})`;
    if (!t.reachable) {
      const fix = t.role === 'primary'
        ? `fix: check router.host, port, user and the secrets, and that the router's ${t.transport === 'rest' ? 'www/www-ssl' : 'ssh'} service is enabled and reachable from here`
        : `fix: the daemons fall back to ${t.transport} when the primary fails, so make it work (or remove its credentials to disable the fallback)`;
      out(t.role === 'primary' ? 'error' : 'warning', `${file}: router ${report.host} over ${name} is unreachable: ${t.error}; ${fix}`);
      continue;
    }
    const l = t.latencyMs ?? {};
    out('ok', `${file}: router ${report.host} over ${name} answers as "${t.identity}", latency p50 ${Number(l.p50).toFixed(1)} ms, p99 ${Number(l.p99).toFixed(1)} ms`);
    for (const c of t.checks ?? []) {
      const key = `${c.ok}|${c.what}|${c.detail}`;
      if (seen.has(key)) seen.get(key).via.push(t.transport);
      else seen.set(key, { c, via: [t.transport] });
    }
    if (t.error) out('error', `${file}: over ${name}: ${t.error}; fix: read the router's log, then rerun wanctl-router probe --config ${file}`);
  }
  for (const { c, via } of seen.values()) {
    const where = `(${via.join(', ')})`;
    if (c.ok) {
      out('ok', `${file}: ${c.what} exists ${where}: ${c.detail}`);
      continue;
    }
    let fix = `fix: create it on the router, or correct the name in ${file}`;
    if (/^queue type/.test(c.what)) fix = `fix: on the router, /queue type add name=${c.what.replace(/^queue type "(.*)"$/, '$1')} kind=cake, or correct the name`;
    else if (/^queue tree/.test(c.what)) fix = `fix: create the CAKE queue tree entry on the router, or correct queues.* / cake_queues.* in ${file}`;
    else if (/^mangle rule/.test(c.what)) fix = `fix: add the mangle rule (disabled) with exactly this comment on the router, or correct mangle_rule.comment in ${file}`;
    out('error', `${file}: ${c.what} ${where}: ${c.detail}; ${fix}`);
  }
});
EOF

check_router() {
  local cli="$TREE/packages/router-client/dist/cli.js" entry file kind unit out rc level msg
  [ "${#KINDS[@]}" -gt 0 ] || return 0
  if [ ! -f "$cli" ] || [ -z "$NODE_BIN" ]; then
    finding error router "wanctl-router is not installed ($cli missing), so the router is not checked; fix: install wanctl (scripts/install.sh)"
    return 0
  fi
  for entry in "${KINDS[@]}"; do
    IFS=$'\t' read -r file kind unit <<<"$entry"
    rc=0
    out="$(run_with_secrets timeout --kill-after=5 "$TIMEOUT" "$NODE_BIN" "$cli" probe --config "$file" --count 5 --json 2>&1)" || rc=$?
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
      finding error router "$file: the router probe did not finish within ${TIMEOUT}s; fix: check that the router is reachable from this host (address, port, firewall)"
      continue
    fi
    if [ "$rc" = 2 ]; then
      finding error router "$file: wanctl-router cannot use this config: $(printf '%s' "$out" | tail -n1); fix: see the config findings above"
      continue
    fi
    while IFS=$'\t' read -r level msg; do
      [ -n "$level" ] || continue
      finding "$level" router "$msg"
    done < <(printf '%s' "$out" | "$NODE_BIN" -e "$PROBE_HELPER" "$file" "$rc")
    : "$kind" "$unit"
  done
}

# Run a command with the secrets file's variables and as the service user.
run_with_secrets() {
  local envs=() line k v
  if [ -r "$SECRETS" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      [[ "$line" =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*=[[:space:]]*(.*)$ ]] || continue
      k="${BASH_REMATCH[2]}"
      v="${BASH_REMATCH[3]}"
      v="${v%"${v##*[![:space:]]}"}"
      if [[ "$v" =~ ^\"(.*)\"$ ]] || [[ "$v" =~ ^\'(.*)\'$ ]]; then v="${BASH_REMATCH[1]}"; fi
      envs+=("$k=$v")
    done <"$SECRETS"
  fi
  as_service env "${envs[@]}" "$@"
}

# ---------------------------------------------------------------- tc (linux-cake)
# Where systemd looks for unit files and drop-ins, most important first.
readonly UNIT_DIRS="/etc/systemd/system /run/systemd/system /usr/local/lib/systemd/system /usr/lib/systemd/system /lib/systemd/system"

# unit_files UNIT: the unit file and its drop-ins, in the order systemd applies them (the
# first unit file found; drop-ins from service.d, the dash prefixes, the template and the
# instance, sorted by name, a name in a more important directory hiding the same name).
unit_files() {
  local unit="$1" d f name base template="" dirs=() prefix
  base="${unit%.service}"
  case "$base" in *@*) template="${base%%@*}@" ;; esac
  for d in $UNIT_DIRS; do
    if [ -n "$template" ] && [ -f "$R$d/$base.service" ]; then echo "$R$d/$base.service"; break; fi
    if [ -n "$template" ] && [ -f "$R$d/$template.service" ]; then echo "$R$d/$template.service"; break; fi
    if [ -z "$template" ] && [ -f "$R$d/$unit" ]; then echo "$R$d/$unit"; break; fi
  done
  dirs=(service.d)
  prefix="${base%%@*}"
  while [[ "$prefix" == *-* ]]; do
    prefix="${prefix%-*}"
    dirs+=("$prefix-.service.d")
  done
  [ -z "$template" ] || dirs+=("$template.service.d")
  dirs+=("$unit.d")
  local seen=" " lines=()
  for d in $UNIT_DIRS; do
    for sub in "${dirs[@]}"; do
      for f in "$R$d/$sub"/*.conf; do
        [ -f "$f" ] || continue
        name="$(basename "$f")"
        case "$seen" in *" $name "*) continue ;; esac
        seen="$seen$name "
        lines+=("$name"$'\t'"$f")
      done
    done
  done
  [ "${#lines[@]}" -eq 0 ] || printf '%s\n' "${lines[@]}" | LC_ALL=C sort -t$'\t' -k1,1 -s | cut -f2-
}

# unit_has_cap UNIT CAP: "yes" when the unit's files give CAP to its processes (in
# AmbientCapabilities= and in CapabilityBoundingSet=, merged as systemd's
# config_parse_capability_set does: an empty or "~"-only value, or the first value, replaces;
# later values add, "~" ones remove), else "no"; "missing" when there is no unit file.
unit_has_cap() {
  local unit="$1" cap="$2" files=()
  mapfile -t files < <(unit_files "$unit")
  if [ "${#files[@]}" -eq 0 ] || [[ "${files[0]}" != *.service ]]; then
    echo missing
    return 0
  fi
  awk -v cap="$cap" '
    BEGIN { unset["CapabilityBoundingSet"] = 1; has["CapabilityBoundingSet"] = 1; empty["AmbientCapabilities"] = 1 }
    FNR == 1 { section = "" }
    /^[ \t]*\[/ { section = $0; gsub(/[][ \t]/, "", section); next }
    section != "Service" { next }
    /^[ \t]*(AmbientCapabilities|CapabilityBoundingSet)[ \t]*=/ {
      key = $0; sub(/[ \t]*=.*/, "", key); gsub(/[ \t]/, "", key)
      val = $0; sub(/^[^=]*=[ \t]*/, "", val); sub(/[ \t]+$/, "", val)
      inv = 0
      if (substr(val, 1, 1) == "~") { inv = 1; val = substr(val, 2) }
      listed = 0
      n = split(toupper(val), w, /[ \t]+/)
      for (i = 1; i <= n; i++) if (w[i] == toupper(cap)) listed = 1
      fresh = (key == "CapabilityBoundingSet") ? unset[key] : empty[key]
      if (val == "") { has[key] = inv; empty[key] = !inv }
      else if (fresh) { has[key] = inv ? !listed : listed; empty[key] = 0 }
      else if (inv) has[key] = has[key] && !listed
      else has[key] = has[key] || listed
      unset[key] = 0
    }
    END { print (has["CapabilityBoundingSet"] && has["AmbientCapabilities"]) ? "yes" : "no" }' "${files[@]}"
}

check_tc() {
  [ "${#TRANSPORTS[@]}" -gt 0 ] || return 0
  local entry file unit transport has tc="" lc=0 dropin
  dropin="$TREE/deploy/systemd/wanctl-autorate@.service.d/linux-cake.conf"
  for entry in "${TRANSPORTS[@]}"; do
    IFS=$'\t' read -r _ _ transport <<<"$entry"
    [ "$transport" != linux-cake ] || lc=1
  done
  if [ "$lc" = 1 ]; then
    tc="$(PATH="$PATH:/usr/sbin:/sbin" command -v tc || true)"
    if [ -z "$tc" ]; then
      finding error tc "tc is not installed, and linux-cake configs shape with it; fix: apt-get install iproute2"
    else
      finding ok tc "tc is installed ($tc)"
    fi
    if [ -r /proc/net/psched ]; then
      finding ok tc "/proc/net/psched is readable (tc reads the scheduler clock there)"
    else
      finding error tc "/proc/net/psched is not readable here, and tc needs it; fix: mount /proc without subset=pid (and keep ProcSubset=all in the unit)"
    fi
  fi
  for entry in "${TRANSPORTS[@]}"; do
    IFS=$'\t' read -r file unit transport <<<"$entry"
    has="$(unit_has_cap "$unit" CAP_NET_ADMIN)"
    if [ "$transport" = linux-cake ]; then
      case "$has" in
        yes) finding ok tc "$file: $unit grants CAP_NET_ADMIN for tc (router.transport linux-cake)" ;;
        missing) finding error tc "$file: router.transport is linux-cake, and $unit is not installed; fix: run scripts/install.sh (it installs the unit and its linux-cake drop-in)" ;;
        *) finding error tc "$file: router.transport is linux-cake, but $unit does not grant CAP_NET_ADMIN, so tc cannot change the qdiscs; fix: run scripts/install.sh again (it installs the drop-in), or install -D -m 0644 $dropin /etc/systemd/system/$unit.d/linux-cake.conf && systemctl daemon-reload" ;;
      esac
    elif [ "$has" = yes ]; then
      finding warning tc "$file: router.transport is ${transport/#-/ssh (the default)}, yet $unit grants CAP_NET_ADMIN, which only linux-cake needs; fix: rm /etc/systemd/system/$unit.d/linux-cake.conf && systemctl daemon-reload (install.sh does this)"
    fi
  done
}

# ---------------------------------------------------------------- dirs
check_dirs() {
  local entry file dir why target uid gid mode
  local checked=" "
  for entry in "${DIRS[@]}"; do
    IFS=$'\t' read -r file dir why <<<"$entry"
    case "$dir/" in
      /var/lib/wanctl/* | /var/log/wanctl/* | /run/wanctl/*) ;;
      *)
        finding error dirs "$file: $why is in $dir, where the units cannot write (ProtectSystem=strict); fix: use /var/lib/wanctl, /var/log/wanctl or /run/wanctl, or add ReadWritePaths=$dir in a drop-in (systemctl edit)"
        continue
        ;;
    esac
    case "$checked" in *" $dir "*) continue ;; esac
    checked="$checked$dir "
    target="$R$dir"
    if [ ! -d "$target" ]; then
      case "$dir" in
        /run/wanctl)
          finding warning dirs "$dir does not exist yet; fix: systemd-tmpfiles --create /etc/tmpfiles.d/wanctl.conf (the units also create it)" ;;
        *)
          finding error dirs "$dir ($why in $file) does not exist; fix: mkdir -p $dir && chown $SVC_USER:$SVC_USER $dir" ;;
      esac
      continue
    fi
    read -r mode uid gid < <(stat -c '%a %u %g' "$target")
    if [ -z "$SVC_UID" ]; then
      finding error dirs "there is no $SVC_USER user to own $dir; fix: run scripts/install.sh"
    elif { [ "$uid" = "$SVC_UID" ] && (((8#$mode) & 8#200)); } ||
      { [ "$gid" = "$SVC_GID" ] && (((8#$mode) & 8#020)); } || (((8#$mode) & 8#002)); then
      finding ok dirs "$dir is writable by $SVC_USER"
    else
      finding error dirs "$dir is not writable by $SVC_USER (mode $mode, owner $uid:$gid); fix: chown $SVC_USER:$SVC_USER $dir && chmod 0750 $dir"
    fi
  done
}

# ---------------------------------------------------------------- units
SYSTEMCTL_CMD=()
if [ -n "${WANCTL_SYSTEMCTL:-}" ]; then
  read -r -a SYSTEMCTL_CMD <<<"$WANCTL_SYSTEMCTL"
elif [ -z "$R" ] && [ -d /run/systemd/system ]; then
  SYSTEMCTL_CMD=(systemctl)
fi

unit_state() { "${SYSTEMCTL_CMD[@]}" "$1" "$2" 2>/dev/null | head -n1 || true; }

check_units() {
  [ "${#KINDS[@]}" -gt 0 ] || return 0
  if [ "${#SYSTEMCTL_CMD[@]}" -eq 0 ]; then
    finding warning units "systemd is not running here, so the units are not checked; fix: run this on the wanctl host itself"
    return 0
  fi
  local entry file kind unit en act deadline
  deadline=$((SECONDS + WAIT))
  for entry in "${KINDS[@]}"; do
    IFS=$'\t' read -r file kind unit <<<"$entry"
    if [ ! -f "$R/etc/systemd/system/${unit/@*./@.}" ] && [ ! -f "$R/etc/systemd/system/$unit" ]; then
      finding error units "$unit is not installed; fix: run scripts/install.sh"
      continue
    fi
    en="$(unit_state is-enabled "$unit")"
    act="$(unit_state is-active "$unit")"
    while [ "$act" != active ] && [ "$act" != failed ] && [ "$SECONDS" -lt "$deadline" ]; do
      sleep 1
      act="$(unit_state is-active "$unit")"
    done
    if [ "$en" = enabled ]; then
      finding ok units "$unit is enabled"
    else
      finding warning units "$unit is ${en:-not enabled}, so it will not start at boot; fix: systemctl enable $unit"
    fi
    case "$act" in
      active) finding ok units "$unit is active" ;;
      failed) finding error units "$unit has failed; fix: read journalctl -u $unit -n 50, fix the cause, then systemctl restart $unit" ;;
      *) finding error units "$unit is ${act:-inactive}; fix: systemctl start $unit (then journalctl -u $unit -n 50 if it does not stay up)" ;;
    esac
  done
  local sd
  for sd in "${STEER_DEPS[@]}"; do
    IFS=$'\t' read -r file kind <<<"$sd"
    if [ -f "$R$kind" ]; then
      finding ok units "$file: the primary WAN's state file $kind exists"
    else
      finding warning units "$file: the primary WAN's state file $kind does not exist yet, so steering cannot assess congestion; fix: start the primary WAN's wanctl-autorate unit, or set cake_state_sources.primary to its state file"
    fi
  done
}

# ---------------------------------------------------------------- health
check_health() {
  [ "${#HEALTH[@]}" -gt 0 ] || return 0
  if [ -z "$NODE_BIN" ]; then
    finding error health "node is not installed, so health endpoints are not checked; fix: install Node.js 20 or newer"
    return 0
  fi
  local entry unit url res code body deadline
  deadline=$((SECONDS + WAIT))
  for entry in "${HEALTH[@]}"; do
    IFS=$'\t' read -r unit url <<<"$entry"
    while :; do
      res="$("$NODE_BIN" -e '
        const url = process.argv[1];
        fetch(url, { signal: AbortSignal.timeout(3000) })
          .then(async (r) => { const t = await r.text(); let s = "";
            try { const j = JSON.parse(t); s = j.status ?? ""; } catch { s = "not JSON"; }
            console.log(r.status + " " + s); })
          .catch((e) => console.log("000 " + (e.cause?.code ?? e.name ?? e.message)));' "$url" 2>&1 || true)"
      code="${res%% *}"
      body="${res#* }"
      if [ "$code" = 200 ] || [ "$SECONDS" -ge "$deadline" ]; then break; fi
      sleep 1
    done
    case "$code" in
      200) finding ok health "$unit answers at $url ($body)" ;;
      503) finding warning health "$unit reports degraded at $url ($body); fix: read journalctl -u $unit -n 50 (router or ping failures)" ;;
      000) finding error health "$unit does not answer at $url ($body); fix: check that $unit is running and that health_check.host/port match" ;;
      *) finding error health "$unit answered HTTP $code at $url ($body); fix: check that health_check.port is not used by another program" ;;
    esac
  done
}

# ---------------------------------------------------------------- main
if [ "${#CONFIGS[@]}" -eq 0 ] && [ "${#STEERING[@]}" -eq 0 ]; then
  finding error config "no config found in ${R}/etc/wanctl; fix: install one as /etc/wanctl/<wan>.yaml (deploy.sh does), or pass --config FILE"
fi
run_config_helper
if enabled secrets; then check_secrets; fi
if enabled fping; then check_fping; fi
if enabled router; then check_router; fi
if enabled tc; then check_tc; fi
if enabled dirs; then check_dirs; fi
if enabled units; then check_units; fi
if enabled health; then check_health; fi

status=0
if [ "$N_ERR" -gt 0 ]; then status=1; elif [ "$N_WARN" -gt 0 ]; then status=3; fi

if [ "$JSON" = 1 ]; then
  printf '%s\n' "${FINDINGS[@]}" | "${NODE_BIN:-node}" -e '
    const lines = require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean);
    const findings = lines.map((l) => { const [level, check, ...m] = l.split("\t"); return { level, check, message: m.join(" ") }; });
    const count = (lv) => findings.filter((f) => f.level === lv).length;
    console.log(JSON.stringify({ status: Number(process.argv[1]), ok: count("ok"), warnings: count("warning"), errors: count("error"), findings }, null, 2));' "$status"
else
  printf 'validate: %d ok, %d warning(s), %d error(s)\n' "$N_OK" "$N_WARN" "$N_ERR"
fi
exit "$status"
