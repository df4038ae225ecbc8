/**
 * Helpers for tests that start the real daemon process (dist/cli.js) against the RouterOS
 * emulator, with RTT measured by the UDP probe against a local echo responder.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFixture, type Emulator, type Fixture, startEmulator } from '@wanctl/routeros-emulator';
import ssh2 from 'ssh2';

const here = path.dirname(fileURLToPath(import.meta.url));
export const CLI = path.resolve(here, '../../dist/cli.js');
export const PASSWORD = 'e2e-secret-pw-7731';

export { freePort, tempDir, waitFor } from '@wanctl/testkit';

export interface WanSpec {
  name: string;
  downloadQueue: string;
  uploadQueue: string;
}

/** One emulator holding the queues of every WAN given. */
export async function startRouter(wans: WanSpec[], userKey: string): Promise<Emulator> {
  const menus: Record<string, unknown[]> = {};
  for (const w of wans) {
    const f = buildFixture({ wan: w.name, downloadQueue: w.downloadQueue, uploadQueue: w.uploadQueue });
    for (const [k, v] of Object.entries(f.menus ?? {})) {
      if (k === '/ip/firewall/mangle' && menus[k]) continue;
      menus[k] = [...(menus[k] ?? []), ...(v as unknown[])];
    }
  }
  return startEmulator({
    users: [{ name: 'wanctl', password: PASSWORD, group: 'full', authorizedKeys: [userKey] }],
    seed: { identity: 'MikroTik', menus } as Fixture,
  });
}

export function userKeyPair(): { private: string; public: string } {
  const k = ssh2.utils.generateKeyPairSync('ed25519');
  return { private: k.private, public: k.public };
}

export interface ConfigSpec {
  dir: string;
  wan: WanSpec;
  emu: Emulator;
  keyFile: string;
  healthPort: number;
  metricsPort?: number;
  intervalMs?: number;
  /** `continuous_monitoring.probe: {method: udp, udp_port}` (default: none, i.e. ICMP through fping). */
  udpPort?: number;
  /** `continuous_monitoring.ping_hosts` (default ["127.0.0.1"]). */
  pingHosts?: string[];
  /** `continuous_monitoring.use_median_of_three`. */
  medianOfThree?: boolean;
  extra?: string;
}

/**
 * A small, fast config with thresholds wide enough for a busy 2-core machine's event-loop jitter:
 * 25 ms cycles, 20..100 Mbps down, 5..20 Mbps up, big write budget. */
export async function writeConfig(s: ConfigSpec): Promise<string> {
  const file = path.join(s.dir, `${s.wan.name}.yaml`);
  const yaml = `
wan_name: "${s.wan.name}"
router:
  transport: rest
  host: 127.0.0.1
  user: wanctl
  password: "\${E2E_ROUTER_PASSWORD}"
  port: ${s.emu.rest?.port}
  scheme: http
  ssh_key: "${s.keyFile}"
  ssh_port: ${s.emu.ssh?.port}
  ssh_host_key_sha256: "${s.emu.ssh?.hostKeyFingerprint}"
  call_deadline_ms: 2000
queues:
  download: "${s.wan.downloadQueue}"
  upload: "${s.wan.uploadQueue}"
continuous_monitoring:
  enabled: true
  baseline_rtt_initial: 20
  cycle_interval_ms: ${s.intervalMs ?? 25}
  download:
    floor_green_mbps: 40
    floor_yellow_mbps: 30
    floor_soft_red_mbps: 25
    floor_red_mbps: 20
    ceiling_mbps: 100
    step_up_mbps: 10
    factor_down: 0.5
  upload:
    floor_mbps: 5
    ceiling_mbps: 20
    step_up_mbps: 2
    factor_down: 0.5
  thresholds:
    target_bloat_ms: 40
    warn_bloat_ms: 80
    hard_red_bloat_ms: 150
    alpha_baseline: 0.02
    alpha_load: 0.5
  ping_hosts: ${JSON.stringify(s.pingHosts ?? ['127.0.0.1'])}
${s.medianOfThree ? '  use_median_of_three: true\n' : ''}${s.udpPort !== undefined ? `  probe:\n    method: udp\n    udp_port: ${s.udpPort}\n` : ''}  fallback_checks:
    enabled: false
  write_budget:
    max_writes: 1000
    window_sec: 60
logging:
  main_log: "${path.join(s.dir, `${s.wan.name}.log`)}"
  debug_log: "${path.join(s.dir, `${s.wan.name}_debug.log`)}"
lock_file: "${path.join(s.dir, `${s.wan.name}.lock`)}"
lock_timeout: 300
history:
  enabled: false
  file: "${path.join(s.dir, `${s.wan.name}_history.db`)}"
timeouts:
  ssh_command: 2
  ping: 1
health_check:
  enabled: true
  host: 127.0.0.1
  port: ${s.healthPort}
metrics:
  enabled: ${s.metricsPort !== undefined}
  host: 127.0.0.1
  port: ${s.metricsPort ?? 9100}
${s.extra ?? ''}`;
  await writeFile(file, yaml);
  return file;
}

export interface DaemonProc {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** JSON log lines seen so far (WANCTL_LOG_FORMAT=json). */
  logs: () => Array<Record<string, unknown>>;
}

export function startDaemon(args: string[], env: Record<string, string> = {}): DaemonProc {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, E2E_ROUTER_PASSWORD: PASSWORD, WANCTL_LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  child.stdout?.on('data', () => {});
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  return {
    child,
    stderr: () => err,
    exited,
    logs: () =>
      err
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => {
          try {
            return JSON.parse(l) as Record<string, unknown>;
          } catch {
            return {};
          }
        }),
  };
}

export async function getHealth(port: number): Promise<{ status: number; body: HealthDoc }> {
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  return { status: res.status, body: (await res.json()) as HealthDoc };
}

export interface WanHealth {
  name: string;
  baseline_rtt_ms: number;
  load_rtt_ms: number;
  download: { current_rate_mbps: number; state: string; router_rate_mbps: number | null };
  upload: { current_rate_mbps: number; state: string; router_rate_mbps: number | null };
  status: string;
  consecutive_failures: number;
  controller: { download_bps: number; upload_bps: number };
  router: {
    download_bps: number | null;
    upload_bps: number | null;
    transport: string;
    reachable: boolean;
    writes_ok: number;
    writes_failed: number;
  };
  measurement: {
    probe: string;
    probe_method: string;
    probe_source: string;
    udp_port: number | null;
    replies: number;
    stale_cycles: number;
    reflectors: Array<{ reflector: string; replies: number }>;
  };
  cycles: number;
}

export interface HealthDoc {
  status: string;
  version: string;
  consecutive_failures: number;
  wan_count: number;
  wans: WanHealth[];
  endpoint_problems: string[];
  cycle: { work_ms: { p50: number; p99: number }; duration_ms: { p99: number } };
  process: { rss_bytes: number };
}

/** The max-limit of a queue tree item on the emulator (bps). */
export function maxLimit(emu: Emulator, queue: string): number {
  const item = emu.state.find('/queue/tree', { name: queue })[0];
  return Number(item?.['max-limit']);
}
