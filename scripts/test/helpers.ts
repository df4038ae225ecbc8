import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's root and its scripts/ folder. */
export const SCRIPTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = path.dirname(SCRIPTS);

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
}

/** Runs a command to completion (killed after timeoutMs), never throwing on a non-zero exit. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    // A child that exits before reading its input (a fast usage error) closes the pipe:
    // that EPIPE is not a test failure, and unhandled it would crash the test run.
    child.stdin.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') reject(err);
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** A fresh temporary directory (removed by {@link cleanup}). */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `wanctl-${prefix}-`));
}

export function cleanup(...dirs: string[]): void {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
}

/** A free TCP port on 127.0.0.1 (bound and released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function write(file: string, text: string, mode = 0o644): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, { mode });
}

/**
 * A small stand-in for a built wanctl bundle (what install.sh --stage-only makes): the real
 * scripts, units and config library, and tiny CLIs for the daemons and wanctl-router. Returns
 * the directory.
 *
 * `missingQueue`: the fake `wanctl-router probe --json` reports this queue missing (and exits 1),
 * in the JSON layout of the real one.
 */
export function makeFakeBundle(dir: string, missingQueue?: string): string {
  write(path.join(dir, '.wanctl-bundle'), 'wanctl bundle: test stand-in\nversion: 0.0.0\ncommit: test\n');
  write(path.join(dir, 'package.json'), '{"name":"wanctl","version":"0.0.0","private":true}\n');
  for (const app of ['autorate', 'steering']) {
    write(
      path.join(dir, 'apps', app, 'package.json'),
      JSON.stringify({ name: `@wanctl/${app}`, bin: { [`wanctl-${app}`]: './dist/cli.js' } }),
    );
    write(
      path.join(dir, 'apps', app, 'dist', 'cli.js'),
      `#!/usr/bin/env node\nconsole.log('fake wanctl-${app}', process.argv.slice(2).join(' '));\n`,
    );
  }
  write(
    path.join(dir, 'packages', 'router-client', 'package.json'),
    JSON.stringify({ name: '@wanctl/router-client', bin: { 'wanctl-router': './dist/cli.js' } }),
  );
  write(
    path.join(dir, 'packages', 'router-client', 'dist', 'cli.js'),
    `#!/usr/bin/env node\n${fakeProbe(missingQueue)}`,
  );
  // The real config library (validate-deployment.sh loads configs with it) and its dependencies.
  const configPkg = path.join(REPO, 'packages', 'config');
  fs.cpSync(path.join(configPkg, 'package.json'), path.join(dir, 'packages', 'config', 'package.json'));
  fs.cpSync(path.join(configPkg, 'dist'), path.join(dir, 'packages', 'config', 'dist'), { recursive: true });
  for (const dep of configDependencies()) {
    fs.cpSync(path.join(REPO, 'node_modules', dep), path.join(dir, 'node_modules', dep), { recursive: true });
  }
  for (const f of ['install.sh', 'validate-deployment.sh', 'deploy.sh']) {
    write(path.join(dir, 'scripts', f), fs.readFileSync(path.join(SCRIPTS, f), 'utf8'), 0o755);
  }
  for (const f of [
    'systemd/wanctl-autorate@.service',
    'systemd/wanctl-steering.service',
    'systemd/wanctl-autorate@.service.d/linux-cake.conf',
    'tmpfiles.d/wanctl.conf',
    'logrotate/wanctl',
  ]) {
    write(path.join(dir, 'deploy', f), fs.readFileSync(path.join(REPO, 'deploy', f), 'utf8'));
  }
  return dir;
}

function fakeProbe(missingQueue?: string): string {
  const check = missingQueue
    ? { what: `queue tree "${missingQueue}"`, ok: false, detail: 'no such item' }
    : {
        what: 'queue tree "WAN-Download-cable"',
        ok: true,
        detail: 'max-limit 940000000 bit/s, type cake-down-cable',
      };
  const report = {
    ok: !missingQueue,
    host: '127.0.0.1',
    transports: [
      {
        transport: 'rest',
        role: 'primary',
        reachable: true,
        identity: 'FakeRouter',
        latencyMs: { p50: 1.2, p99: 2.5, n: 5 },
        checks: [check],
      },
    ],
  };
  return `console.log(${JSON.stringify(JSON.stringify(report))});\nprocess.exitCode = ${missingQueue ? 1 : 0};\n`;
}

/** Production dependencies of @wanctl/config, transitively, as node_modules names. */
export function configDependencies(): string[] {
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    const pj = path.join(REPO, 'node_modules', name, 'package.json');
    if (!fs.existsSync(pj)) return;
    seen.add(name);
    const deps = JSON.parse(fs.readFileSync(pj, 'utf8')).dependencies ?? {};
    for (const d of Object.keys(deps)) visit(d);
  };
  const own = JSON.parse(fs.readFileSync(path.join(REPO, 'packages', 'config', 'package.json'), 'utf8'));
  for (const d of Object.keys(own.dependencies ?? {})) {
    if (!d.startsWith('@wanctl/')) visit(d);
  }
  return [...seen].sort();
}

export const CONFIG_LIB_BUILT = fs.existsSync(path.join(REPO, 'packages', 'config', 'dist', 'index.js'));

/** A valid autorate config (v1.3 layout) whose router and ping hosts are on loopback. */
export function autorateConfig(opts: {
  wan: string;
  routerPort?: number;
  transport?: 'rest' | 'ssh';
  healthPort?: number;
  healthEnabled?: boolean;
  queues?: { download: string; upload: string };
  extra?: string;
}): string {
  const q = opts.queues ?? { download: `WAN-Download-${opts.wan}`, upload: `WAN-Upload-${opts.wan}` };
  return `wan_name: "${opts.wan}"
router:
  transport: "${opts.transport ?? 'rest'}"
  host: "127.0.0.1"
  user: "admin"
  password: "\${WANCTL_ROUTER_PASSWORD}"
  port: ${opts.routerPort ?? 8728}
queues: {download: "${q.download}", upload: "${q.upload}"}
continuous_monitoring:
  enabled: true
  baseline_rtt_initial: 24
  download: {floor_green_mbps: 550, floor_yellow_mbps: 350, floor_soft_red_mbps: 275,
             floor_red_mbps: 200, ceiling_mbps: 940, step_up_mbps: 10, factor_down: 0.85,
             factor_down_yellow: 0.96, green_required: 5}
  upload: {floor_mbps: 8, ceiling_mbps: 38, step_up_mbps: 1, factor_down: 0.90,
           factor_down_yellow: 0.94, green_required: 5}
  thresholds:
    target_bloat_ms: 12
    warn_bloat_ms: 45
    hard_red_bloat_ms: 80
    baseline_time_constant_sec: 50
    load_time_constant_sec: 0.10
  ping_hosts: ["127.0.0.1"]
logging: {main_log: "/var/log/wanctl/${opts.wan}.log", debug_log: "/var/log/wanctl/${opts.wan}_debug.log"}
lock_file: "/run/wanctl/${opts.wan}.lock"
lock_timeout: 300
health_check: {enabled: ${opts.healthEnabled ?? false}, host: "127.0.0.1", port: ${opts.healthPort ?? 9101}}
${opts.extra ?? ''}`;
}

/**
 * A stand-in for systemctl that keeps unit state in files under `dir` and logs every call to
 * `dir/calls.log`: is-enabled, is-active, enable, restart, start, stop, list-units, daemon-reload.
 */
export function makeFakeSystemctl(dir: string): string {
  const script = path.join(dir, 'systemctl');
  write(
    script,
    `#!/usr/bin/env bash
set -euo pipefail
d=${JSON.stringify(dir)}
mkdir -p "$d/enabled" "$d/active"
echo "$*" >>"$d/calls.log"
cmd="$1"; shift
case "$cmd" in
  is-enabled) if [ -e "$d/enabled/$1" ]; then echo enabled; else echo disabled; exit 1; fi ;;
  is-active) if [ -e "$d/active/$1" ]; then echo active; else echo inactive; exit 3; fi ;;
  enable) for u in "$@"; do touch "$d/enabled/$u"; done ;;
  disable) for u in "$@"; do rm -f "$d/enabled/$u"; done ;;
  start|restart) for u in "$@"; do touch "$d/active/$u"; done ;;
  stop) for u in "$@"; do rm -f "$d/active/$u"; done ;;
  list-units) for f in "$d"/active/*; do [ -e "$f" ] && echo "$(basename "$f") loaded active running fake"; done; true ;;
  daemon-reload) ;;
  *) echo "fake systemctl: unsupported $cmd" >&2; exit 1 ;;
esac
`,
    0o755,
  );
  return script;
}

export function systemctlCalls(dir: string): string[] {
  const f = path.join(dir, 'calls.log');
  return fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter(Boolean) : [];
}

/**
 * Everything about a directory tree that a change would show: type, mode, owner, size, mtime,
 * link target and content hash of every entry.
 */
export function snapshot(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (p: string): void => {
    const st = fs.lstatSync(p);
    const rel = path.relative(root, p) || '.';
    let extra = '';
    if (st.isSymbolicLink()) extra = `-> ${fs.readlinkSync(p)}`;
    else if (st.isFile()) extra = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    out.set(rel, `${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.size} ${st.mtimeMs} ${extra}`);
    if (st.isDirectory()) for (const e of fs.readdirSync(p).sort()) walk(path.join(p, e));
  };
  walk(root);
  return out;
}

export function diffSnapshots(a: Map<string, string>, b: Map<string, string>): string[] {
  const diffs: string[] = [];
  for (const [k, v] of a) if (b.get(k) !== v) diffs.push(`${k}: ${v} => ${b.get(k) ?? '(gone)'}`);
  for (const k of b.keys()) if (!a.has(k)) diffs.push(`${k}: (new)`);
  return diffs;
}

/**
 * Why the real-kernel tests (the testbed, the demo's linux backend) cannot run here, or null:
 * they need root, network namespaces (a probe namespace `${tag}` is made and removed) and
 * iperf3, fping and ping.
 */
export function realKernelSkipReason(tag: string): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  try {
    execFileSync('ip', ['netns', 'add', tag], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'del', tag], { stdio: 'pipe' });
  } catch (err) {
    return `ip netns not allowed here (${String((err as { stderr?: Buffer }).stderr ?? err).trim()})`;
  }
  for (const bin of ['iperf3', 'fping', 'ping']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'pipe' });
    } catch {
      return `${bin} is not installed`;
    }
  }
  return null;
}
