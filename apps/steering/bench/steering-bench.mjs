#!/usr/bin/env node
// Figures for wanctl-steering (build first: npx tsc -b). Prints, never asserts.
//  1. the pure control law: one cycle (begin + complete), CAKE-aware;
//  2. a whole daemon cycle in-process with an in-memory router and probe (includes reading the
//     autorate state file from a temp dir and the state store's change check; no network);
//  3. healthBody() (per /health request).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSteeringConfig } from '@wanctl/config';
import { createLogger } from '@wanctl/runtime';
import { resolveSteeringParams, SteeringController, startSteeringDaemon } from '../dist/index.js';

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `p50 ${q(0.5).toFixed(4)} ms, p99 ${q(0.99).toFixed(4)} ms, max ${s[s.length - 1].toFixed(3)} ms (n=${s.length})`;
}

// 1. pure law
{
  const ctl = new SteeringController(
    resolveSteeringParams({ primaryWan: 'wan1', intervalSeconds: 2, historySize: 60 }),
  );
  let dropped = 0;
  const times = [];
  for (let i = 0; i < 50_000; i++) {
    const congested = i % 40 < 10;
    if (congested) dropped += 3;
    const input = {
      autorateBaselineRttMs: 25,
      rttMs: congested ? 70 : 26,
      cake: { dropped, queued_packets: congested ? 80 : 0, packets: i * 100, bytes: i * 90_000 },
    };
    const t0 = performance.now();
    ctl.cycle(input, i * 2);
    times.push(performance.now() - t0);
  }
  console.log(`control law cycle: ${stats(times.slice(5000))}`);
}

// 2./3. daemon cycle with in-memory fakes
{
  const dir = mkdtempSync(join(tmpdir(), 'steering-bench-'));
  writeFileSync(join(dir, 'wan1_state.json'), JSON.stringify({ ewma: { baseline_rtt: 20, load_rtt: 20 } }));
  const cfg = parseSteeringConfig(
    `wan_name: steering
topology: { primary_wan: wan1, primary_wan_config: x, alternate_wan: wan2 }
router: { transport: rest, host: 127.0.0.1, user: admin, password: x, port: 8080, ssh_key: ${dir}/key }
mangle_rule: { comment: "ADAPTIVE: steer" }
cake_state_sources: { primary: ${dir}/wan1_state.json }
measurement: { interval_seconds: 2, ping_host: 127.0.0.1, ping_count: 1 }
thresholds: {}
state: { file: ${dir}/steering_state.json, history_size: 60 }
logging: { main_log: ${dir}/s.log, debug_log: ${dir}/d.log }
lock_file: ${dir}/s.lock
lock_timeout: 300
`,
    { env: {} },
  );
  const c = { dropped: 0, packets: 0, queued: 0, disabled: true };
  const rule = () => ({
    id: '*1',
    comment: 'ADAPTIVE: steer',
    disabled: c.disabled,
    invalid: false,
    dynamic: false,
    chain: 'prerouting',
    action: 'mark-routing',
    newRoutingMark: 'x',
    props: {},
  });
  const router = {
    activeTransport: 'rest',
    async findMangleRule() {
      return rule();
    },
    async enableMangleRule() {
      c.disabled = false;
      return rule();
    },
    async disableMangleRule() {
      c.disabled = true;
      return rule();
    },
    async getQueueStats(names) {
      return names.map((name) => ({
        name,
        id: '*1',
        bytes: c.packets * 900,
        packets: c.packets,
        dropped: c.dropped,
        queuedPackets: c.queued,
        queuedBytes: 0,
        rateBps: 0,
        packetRate: 0,
        maxLimitBps: 1,
        queueType: 'x',
        disabled: false,
      }));
    },
    async close() {},
  };
  let rtt = 21;
  const probe = {
    reflectors: ['x:1'],
    async start() {},
    async stop() {},
    latest: () => ({ at: 0, samples: [{ reflector: 'x:1', rttMs: rtt, seq: 1, at: 1 }] }),
    fresh: () => ({ at: 0, samples: [] }),
    async measureOnce() {
      return rtt;
    },
    health: () => [],
  };
  const notify = {
    enabled: false,
    socketPath: null,
    watchdogUsec: null,
    watchdogIntervalMs: null,
    stats: {},
    async ready() {},
    async watchdog() {},
    async status() {},
    async stopping() {},
    async notify() {},
  };
  const logger = createLogger({ name: 'bench', level: 'info', console: false, sink: () => {} });
  const host = await startSteeringDaemon({
    config: cfg,
    signals: false,
    serveHttp: false,
    lock: false,
    deps: { logger, routerClient: router, probe, notify },
  });
  const d = host.daemon;
  await d.reconcile();
  const times = [];
  const htimes = [];
  const rss0 = process.memoryUsage().rss;
  for (let i = 0; i < 5000; i++) {
    const congested = i % 40 < 10;
    c.packets += 100;
    if (congested) c.dropped += 3;
    c.queued = congested ? 80 : 0;
    rtt = congested ? 70 : 21;
    const t0 = performance.now();
    await d.runCycle();
    times.push(performance.now() - t0);
    const t1 = performance.now();
    JSON.stringify(d.healthBody());
    htimes.push(performance.now() - t1);
  }
  console.log(`daemon cycle (in-memory router/probe, baseline file read): ${stats(times.slice(500))}`);
  console.log(`healthBody + JSON: ${stats(htimes.slice(500))}`);
  console.log(
    `RSS ${(process.memoryUsage().rss / 1e6).toFixed(1)} MB (start of loop ${(rss0 / 1e6).toFixed(1)} MB)`,
  );
  await host.stop();
  rmSync(dir, { recursive: true, force: true });
}
