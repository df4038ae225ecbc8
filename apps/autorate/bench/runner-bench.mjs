#!/usr/bin/env node
// Micro-benchmark of the daemon's per-WAN cycle (WanRunner.runCycle: measurement sample, control
// law, write bookkeeping, state-store check, logs) with an in-memory probe and router, hot loop.
// Build first:   (cd apps/autorate && npx tsc -b)
// Run:           node apps/autorate/bench/runner-bench.mjs [cycles=200000]
// The live daemon's figure (bench/daemon-bench.mjs) is higher: there each cycle runs after 50 ms
// of sleep, with cold caches. With --expose-gc it also prints the heap growth over the timed cycles.
// The third run adds the history recorder (@wanctl/history, worker thread, a file in a temp dir):
// its flush (every 100 cycles = 5 s of simulated time) runs outside the timed section.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAutorateConfig } from '@wanctl/config';
import { HistoryRecorder } from '@wanctl/history';
import { createLogger, createMetricsRegistry, StateStore } from '@wanctl/runtime';

const here = path.dirname(fileURLToPath(import.meta.url));
const { AutorateMetrics, WanRunner, WanMeasurement, controlParamsFromConfig } = await import(
  path.join(here, '..', 'dist', 'index.js')
);
const text = readFileSync(path.join(here, '..', '..', '..', 'examples', 'cable.yaml'), 'utf8');
const cfg = parseAutorateConfig(text, { env: { WANCTL_ROUTER_PASSWORD: 'bench' } });
let t = 0;
const now = () => t;
const refl = ['a', 'b', 'c'];
const probe = {
  reflectors: refl,
  start: async () => {},
  stop: async () => {},
  latest: () => ({
    at: t,
    samples: refl.map((r, i) => ({ reflector: r, rttMs: 24 + (t % 7) * 0.3 + i, seq: 0, at: t })),
  }),
  fresh: () => ({ at: t, samples: [] }),
  measureOnce: async () => null,
  health: () => [],
};
const noChecks = { gateway: async () => null, tcp: async () => ({ ok: false, rttMs: null, results: [] }) };
const fallback = { enabled: false, checkGateway: false, checkTcp: false, gatewayIp: null, tcpTargets: [] };
const m = new WanMeasurement({
  probe,
  probeKind: 'udp',
  medianOfThree: true,
  holdMs: 250,
  fallback,
  pingTimeoutMs: 1000,
  checks: noChecks,
  now,
});
const router = { activeTransport: 'rest', setQueueLimits: () => Promise.resolve() };
const logger = createLogger({ name: 'bench', console: false, sink: () => {} });
const params = controlParamsFromConfig(cfg);
const N = Number(process.argv[2] ?? 200_000);

/** Runs N timed cycles of a runner (after a warm-up) and prints median/p99/max. */
function bench(label, extra, between = null) {
  const r = new WanRunner({
    name: 'cable',
    params,
    queues: cfg.queues,
    measurement: m,
    probeKind: 'udp',
    router,
    writeDeadlineMs: 1000,
    logger,
    now,
    ...extra,
  });
  for (let i = 0; i < 20_000; i++) {
    t += 50;
    r.runCycle();
  }
  const samples = new Float64Array(N);
  globalThis.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  for (let i = 0; i < N; i++) {
    t += 50;
    const s = performance.now();
    r.runCycle();
    samples[i] = performance.now() - s;
    if (between !== null && i % 100 === 99) between();
  }
  globalThis.gc?.();
  const heapKb = (process.memoryUsage().heapUsed - heap0) / 1024;
  samples.sort();
  const q = (p) => samples[Math.min(N - 1, Math.floor(p * N))] * 1000;
  console.log(
    `WanRunner.runCycle ${label}, hot loop, ${N} cycles: median ${q(0.5).toFixed(2)} us, p99 ${q(0.99).toFixed(2)} us, max ${(samples[N - 1] * 1000).toFixed(1)} us (budget: median < 200 us, p99 < 2000 us)${
      globalThis.gc ? `; heap after gc ${heapKb >= 0 ? '+' : ''}${heapKb.toFixed(0)} KiB` : ''
    }`,
  );
}

bench('(no store, no metrics)', {});
// as in the daemon: a state store (its change key is checked every cycle) and Prometheus children
const dir = await mkdtemp(path.join(tmpdir(), 'autorate-bench-'));
try {
  const store = new StateStore({
    path: path.join(dir, 'state.json'),
    serialize: (x) => x.stateBody(),
    changeKey: (x) => x.stateChangeKey(),
    now,
    setTimer: () => null,
    clearTimer: () => {},
  });
  const metrics = new AutorateMetrics(createMetricsRegistry()).forWan('cable');
  bench('(state store + metrics)', { store, metrics });
  const history = HistoryRecorder.open({
    file: path.join(dir, 'cable_history.db'),
    wan: 'cable',
    kind: 'autorate',
    timers: false,
    now: () => 1.8e12 + t,
  });
  const wallNow = () => 1.8e12 + t;
  bench('(state store + metrics + history)', { store, metrics, history, wallNow }, () => history.flush());
  await history.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
