/** Helpers for end-to-end tests: temp dirs, configs, free ports, the daemon as a child process. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(APP_DIR, 'dist', 'cli.js');

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx tsc -b\` in apps/steering first`);
}

export { freePort, tempDir, waitFor } from '@wanctl/testkit';

/**
 * The state file layout wanctl-autorate writes, pinned by autorate's own test against its real
 * writer (apps/autorate/test/daemon/wan-runner.test.ts, "state file contract").
 */
export const AUTORATE_STATE_FIXTURE = join(
  APP_DIR,
  '..',
  'autorate',
  'test',
  'fixtures',
  'autorate-state.json',
);

/**
 * Writes an autorate state file (autorate's layout, from its fixture) with the given baseline.
 * Without `congestion` the D14 report is left out (an autorate before D14: v1.3 decisions); with
 * it, the report is written as of now.
 */
export async function writeAutorateState(
  path: string,
  baselineRtt: number,
  congestion?: {
    download: { zone: string | null; at_floor: boolean; rtt_delta_ms: number };
    upload: { zone: string | null; at_floor: boolean; rtt_delta_ms: number };
    at?: string;
  },
): Promise<void> {
  const doc = JSON.parse(readFileSync(AUTORATE_STATE_FIXTURE, 'utf8')) as {
    ewma: { baseline_rtt: number; load_rtt: number };
    timestamp: string;
    congestion?: unknown;
  };
  if (congestion) doc.congestion = { at: new Date().toISOString(), ...congestion };
  else delete doc.congestion;
  doc.ewma = { baseline_rtt: baselineRtt, load_rtt: baselineRtt };
  await writeFile(path, JSON.stringify(doc));
}

export interface SteeringYamlOptions {
  dir: string;
  transport: 'rest' | 'ssh';
  host?: string;
  restPort: number;
  sshPort: number;
  sshKey: string;
  sshHostKeySha256?: string;
  healthPort: number;
  metricsPort?: number;
  intervalSeconds?: number;
  redSamples?: number;
  greenSamples?: number;
  comment?: string;
  /** `measurement.probe: {method: udp, udp_port}` (default: no probe key, i.e. ICMP through fping). */
  udpPort?: number;
  extra?: string;
}

/** A steering config (v1.3 layout) pointing at an emulator and temp paths. */
export function steeringYaml(o: SteeringYamlOptions): string {
  return `schema_version: "1.0"
wan_name: "steering"
topology:
  primary_wan: "wan1"
  primary_wan_config: "${o.dir}/wan1.yaml"
  alternate_wan: "wan2"
router:
  transport: "${o.transport}"
  host: "${o.host ?? '127.0.0.1'}"
  user: "admin"
  password: "\${WANCTL_TEST_ROUTER_PASSWORD}"
  port: ${o.restPort}
  scheme: "http"
  ssh_key: "${o.sshKey}"
  ssh_port: ${o.sshPort}
${o.sshHostKeySha256 ? `  ssh_host_key_sha256: "${o.sshHostKeySha256}"\n` : ''}mangle_rule:
  comment: "${o.comment ?? 'ADAPTIVE: Steer latency-sensitive to WAN2'}"
cake_state_sources:
  primary: "${o.dir}/wan1_state.json"
cake_queues:
  primary_download: "WAN-Download-1"
  primary_upload: "WAN-Upload-1"
measurement:
  interval_seconds: ${o.intervalSeconds ?? 0.2}
  ping_host: "127.0.0.1"
  ping_count: 1
${o.udpPort !== undefined ? `  probe:\n    method: udp\n    udp_port: ${o.udpPort}\n` : ''}thresholds:
  red_samples_required: ${o.redSamples ?? 2}
  green_samples_required: ${o.greenSamples ?? 4}
mode:
  cake_aware: true
state:
  file: "${o.dir}/steering_state.json"
  history_size: 60
logging:
  main_log: "${o.dir}/steering.log"
  debug_log: "${o.dir}/steering_debug.log"
lock_file: "${o.dir}/steering.lock"
lock_timeout: 300
history: { enabled: false, file: "${o.dir}/steering_history.db" }
health_check:
  enabled: true
  port: ${o.healthPort}
metrics:
  enabled: ${o.metricsPort !== undefined}
  port: ${o.metricsPort ?? 9103}
${o.extra ?? ''}`;
}

export interface DaemonProcess {
  child: ChildProcess;
  /** Output so far (stdout + stderr). */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startDaemon(args: string[], env: Record<string, string> = {}): DaemonProcess {
  assertBuilt();
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env, NOTIFY_SOCKET: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return {
    child,
    output: () => out,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
}

/** GET a JSON document; resolves with status and body. */
export async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
}
