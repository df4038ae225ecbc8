/**
 * End to end: the real daemon process (node dist/cli.js) against the RouterOS emulator (REST +
 * SSH), RTT measured by the UDP probe against a local echo responder whose delay the test sets.
 * Build first (`npx tsc -b`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Emulator } from '@wanctl/routeros-emulator';
import { startUdpEchoResponder, type UdpEchoResponder } from '@wanctl/rtt-probe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLI,
  type DaemonProc,
  freePort,
  getHealth,
  maxLimit,
  startDaemon,
  startRouter,
  tempDir,
  userKeyPair,
  waitFor,
  writeConfig,
} from './harness.js';

const WAN = { name: 'e2e', downloadQueue: 'WAN-Download-E2E', uploadQueue: 'WAN-Upload-E2E' };
const IDLE_MS = 20;
const HIGH_MS = IDLE_MS + 400;

it('the CLI is built (a missing dist/cli.js fails here instead of skipping the end-to-end tests)', () => {
  expect(existsSync(CLI), `${CLI} is missing: build with (cd apps/autorate && npx tsc -b)`).toBe(true);
});

describe('wanctl-autorate end to end (real process, emulator, UDP probe)', () => {
  let tmp: { dir: string; cleanup(): Promise<void> };
  let emu: Emulator;
  let echo: UdpEchoResponder;
  let cfgFile: string;
  let healthPort: number;
  let metricsPort: number;
  let recordFile: string;
  let stateFile: string;
  let daemon: DaemonProc | null = null;

  beforeAll(async () => {
    tmp = await tempDir();
    const key = userKeyPair();
    const keyFile = path.join(tmp.dir, 'router.key');
    await writeFile(keyFile, key.private, { mode: 0o600 });
    emu = await startRouter([WAN], key.public);
    echo = await startUdpEchoResponder({ port: 0, delayMs: IDLE_MS });
    healthPort = await freePort();
    metricsPort = await freePort();
    // continuous_monitoring.probe: UDP echo to ping_hosts (127.0.0.1) on the responder's port
    cfgFile = await writeConfig({
      dir: tmp.dir,
      wan: WAN,
      emu,
      keyFile,
      healthPort,
      metricsPort,
      udpPort: echo.port,
    });
    recordFile = path.join(tmp.dir, 'record.jsonl');
    stateFile = path.join(tmp.dir, 'e2e_state.json');
    // start low so that "idle -> climb to the ceiling" is visible
    await writeFile(
      stateFile,
      JSON.stringify({
        download: { green_streak: 0, soft_red_streak: 0, red_streak: 0, current_rate: 20_000_000 },
        upload: { green_streak: 0, soft_red_streak: 0, red_streak: 0, current_rate: 5_000_000 },
        ewma: { baseline_rtt: IDLE_MS, load_rtt: IDLE_MS },
        last_applied: { dl_rate: null, ul_rate: null },
      }),
    );
  });

  afterAll(async () => {
    if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
    await echo?.close();
    await emu?.stop();
    await tmp?.cleanup();
  });

  it('climbs, cuts on RED within one cycle, fails over to SSH, survives both faces down, stops cleanly and restores', async () => {
    const args = ['run', '--config', cfgFile, '--record', recordFile];
    daemon = startDaemon(args);
    const d = daemon;

    // 1. idle: rates climb to the ceilings, and the emulator has them
    await waitFor(
      'rates at the ceiling on the router',
      () => maxLimit(emu, WAN.downloadQueue) === 100_000_000 && maxLimit(emu, WAN.uploadQueue) === 20_000_000,
      30_000,
    );
    // healthy (polled: on a busy machine a few cycles may go without a fresh reply)
    const h1 = await waitFor('health 200 at the ceiling', async () => {
      const h = await getHealth(healthPort);
      return h.status === 200 ? h : null;
    });
    expect(h1.body.wans[0]?.measurement).toMatchObject({
      probe: 'udp',
      probe_method: 'udp',
      probe_source: 'config',
      udp_port: echo.port,
    });
    expect(h1.body.wans[0]?.measurement.reflectors.map((r) => r.reflector)).toEqual([
      `127.0.0.1:${echo.port}`,
    ]);
    expect(h1.body.wans[0]?.router.transport).toBe('rest');
    // a start with a healthy router and probe logs no failure (every start used to log
    // "cycle failed: fallback_disabled": the first cycle ran before the probe's first reply)
    const startLines = d.logs().filter((l) => l['level'] === 'WARN' || l['level'] === 'ERROR');
    expect(startLines.map((l) => l['message'])).toEqual([]);
    // before any failure: the labelled counters already exist at 0 (increase() sees the first
    // event); base-unit twins of v1.3's gauges; process metrics under their standard names
    const early = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    for (const series of [
      'wanctl_router_failovers_total{wan="e2e",to="ssh"} 0',
      'wanctl_router_failovers_total{wan="e2e",to="rest"} 0',
      'wanctl_router_write_failures_total{wan="e2e"} 0',
      'wanctl_cycle_overruns_total{wan="e2e"}',
      'wanctl_ping_failures_total{wan="e2e"}',
      'wanctl_bandwidth_bits_per_second{direction="download",wan="e2e"} 100000000',
      'wanctl_rtt_baseline_seconds{wan="e2e"}',
      '\nprocess_cpu_seconds_total ',
      '\nnodejs_eventloop_lag_p99_seconds ',
    ])
      expect(early, series).toContain(series);
    expect(early).not.toContain('wanctl_process_');
    // the climb went through intermediate rates: the router saw several writes over REST
    const patches = emu.requests.rest().filter((e) => e.method === 'PATCH');
    expect(patches.length).toBeGreaterThan(3);

    // 2. delay injected: RED cuts the rate, and the cut is issued by the first cycle that saw it
    const recordedBefore = readRecord(recordFile).length;
    echo.setDelay(HIGH_MS);
    // (a busy machine's jitter may have cost a YELLOW step before; RED halves whatever it was)
    await waitFor('a RED cut on the router', () => maxLimit(emu, WAN.downloadQueue) <= 50_000_000, 10_000);
    // the first cycle of the sustained high delay (a busy machine can stall one reply past 300 ms
    // before the delay is injected: a lone outlier, followed by normal replies, is not it)
    const high = (l: RecordLine | undefined) => (l?.rtt_ms ?? 0) > 300;
    const firstOfHigh = (r: RecordLine[]) =>
      r.find((l, i) => i >= recordedBefore && high(l) && high(r.slice(i + 1).find((n) => n.rtt_ms != null)));
    await waitFor('the record to be flushed', () => firstOfHigh(readRecord(recordFile)), 10_000);
    const rec = readRecord(recordFile);
    const firstHigh = firstOfHigh(rec);
    expect(firstHigh, 'a cycle saw the high RTT').toBeDefined();
    const idx = rec.indexOf(firstHigh as (typeof rec)[number]);
    // a write was issued by that cycle: its outcome is recorded, or it was still on its way when
    // the next cycle started (late_write)
    const issued = firstHigh?.router_ok === true || firstHigh?.late_write === true;
    expect(issued, `that same cycle issued the write: ${JSON.stringify(rec.slice(idx - 3, idx + 3))}`).toBe(
      true,
    );

    // 3. REST face down: SSH carries the writes
    await emu.faults.set('rest', { down: true });
    const sshBefore = emu.requests.ssh().length;
    echo.setDelay(IDLE_MS);
    await waitFor(
      'writes over SSH',
      () =>
        emu.requests
          .ssh()
          .slice(sshBefore)
          .some((e) => e.command.includes('max-limit')),
      20_000,
    );
    await waitFor(
      'health shows ssh',
      async () => (await getHealth(healthPort)).body.wans[0]?.router.transport === 'ssh',
    );

    // 4. both faces down: 503 while measuring goes on; then the latest rate goes out
    await emu.faults.set('ssh', { down: true });
    echo.setDelay(IDLE_MS + 110); // SOFT_RED: a cut the router cannot receive yet
    const degraded = await waitFor(
      'health 503 with the router unreachable while replies still arrive',
      async () => {
        const h = await getHealth(healthPort);
        const x = h.body.wans[0];
        return h.status === 503 && x && !x.router.reachable && x.measurement.replies > 0 ? h : null;
      },
      20_000,
    );
    expect(degraded.body.status).toBe('degraded');
    const w = degraded.body.wans[0];
    const cyclesThen = w?.cycles ?? 0;
    await waitFor(
      'cycles keep running',
      async () => ((await getHealth(healthPort)).body.wans[0]?.cycles ?? 0) > cyclesThen + 10,
    );
    // the link goes idle while the router is away: the controller climbs, the router cannot follow
    echo.setDelay(IDLE_MS);
    await waitFor('the controller ahead of the router', async () => {
      const x = (await getHealth(healthPort)).body.wans[0];
      return x && !x.router.reachable && x.controller.download_bps > (x.router.download_bps ?? 0);
    });
    const requestsBefore = emu.requests.all().length;
    await emu.faults.clear();
    const recovered = await waitFor(
      'router at the controller rate after recovery',
      async () => {
        const h = await getHealth(healthPort);
        const x = h.body.wans[0];
        if (!x || h.status !== 200) return null;
        return maxLimit(emu, WAN.downloadQueue) === x.controller.download_bps ? h : null;
      },
      30_000,
    );
    expect(emu.requests.all().length).toBeGreaterThan(requestsBefore); // writes resumed
    expect(recovered.body.wans[0]?.router.reachable).toBe(true);

    // metrics (enabled in this config): v1.3's series and ours
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    for (const name of [
      'wanctl_bandwidth_mbps{direction="download",wan="e2e"}',
      'wanctl_rtt_baseline_ms{wan="e2e"}',
      'wanctl_state{direction="download",wan="e2e"}',
      'wanctl_cycles_total{wan="e2e"}',
      'wanctl_router_updates_total{wan="e2e"}',
      'wanctl_cycle_seconds_bucket',
      'wanctl_router_write_seconds_bucket',
      'wanctl_router_failovers_total{wan="e2e",to="ssh"}',
      'wanctl_router_write_failures_total{wan="e2e"}',
    ])
      expect(metrics, name).toContain(name);

    // SIGHUP reopens the log files and keeps running
    d.child.kill('SIGHUP');
    await waitFor('SIGHUP handled', () =>
      d.logs().some((l) => String(l['message']).includes('log files reopened')),
    );
    expect(d.child.exitCode).toBeNull();

    // 5. SIGTERM: exit 0 with state saved
    d.child.kill('SIGTERM');
    const exit = await d.exited;
    expect(exit.code).toBe(0);
    const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as {
      download: { current_rate: number };
      upload: { current_rate: number };
      ewma: { baseline_rtt: number };
      last_applied: { dl_rate: number };
      timestamp: string;
    };
    expect(saved.last_applied.dl_rate).toBe(maxLimit(emu, WAN.downloadQueue));
    expect(typeof saved.timestamp).toBe('string');
    expect(saved.ewma.baseline_rtt).toBeGreaterThan(10);
    expect(existsSync(path.join(tmp.dir, 'e2e.lock'))).toBe(false);
    expect(d.stderr()).not.toContain(PASSWORD_TEXT);

    // 6. restart restores the rates
    // (v1.3 form, and --udp-reflector overriding the config's probe)
    daemon = startDaemon(['--config', cfgFile, '--udp-reflector', echo.address]);
    const d2 = daemon;
    const restoredLine = await waitFor('state restored log line', () =>
      d2.logs().find((l) => String(l['message']).startsWith('state restored')),
    );
    expect(restoredLine['dl_bps']).toBe(saved.download.current_rate);
    expect(restoredLine['ul_bps']).toBe(saved.upload.current_rate);
    const h2 = await waitFor('health after restart', async () => {
      const h = await getHealth(healthPort);
      return h.status === 200 ? h : null;
    });
    expect(h2.body.wans[0]?.measurement).toMatchObject({
      probe: 'udp',
      probe_source: '--udp-reflector',
      udp_port: null,
    });
    expect(h2.body.wans[0]?.measurement.reflectors.map((r) => r.reflector)).toEqual([echo.address]);
    d2.child.kill('SIGINT');
    expect((await d2.exited).code).toBe(0);
  }, 150_000);
});

const PASSWORD_TEXT = 'e2e-secret-pw-7731';

describe('wanctl-autorate --once with two WANs in one process (v1.3 --oneshot form)', () => {
  it("writes both WANs' rates, saves both state files, exits 0", async () => {
    const tmp2 = await tempDir();
    const key = userKeyPair();
    const keyFile = path.join(tmp2.dir, 'router.key');
    await writeFile(keyFile, key.private, { mode: 0o600 });
    const wans = [
      { name: 'wana', downloadQueue: 'WAN-Download-A', uploadQueue: 'WAN-Upload-A' },
      { name: 'wanb', downloadQueue: 'WAN-Download-B', uploadQueue: 'WAN-Upload-B' },
    ];
    const emu2 = await startRouter(wans, key.public);
    const echo2 = await startUdpEchoResponder({ port: 0, delayMs: IDLE_MS });
    try {
      const port = await freePort();
      const files = [];
      for (const w of wans)
        files.push(await writeConfig({ dir: tmp2.dir, wan: w, emu: emu2, keyFile, healthPort: port }));
      const p = startDaemon(['--config', ...files, '--oneshot', '--udp-reflector', echo2.address]);
      const exit = await p.exited;
      expect(exit.code, p.stderr()).toBe(0);
      for (const w of wans) {
        expect(maxLimit(emu2, w.downloadQueue)).toBe(100_000_000);
        expect(maxLimit(emu2, w.uploadQueue)).toBe(20_000_000);
        const st = JSON.parse(readFileSync(path.join(tmp2.dir, `${w.name}_state.json`), 'utf8')) as {
          last_applied: { dl_rate: number };
        };
        expect(st.last_applied.dl_rate).toBe(100_000_000);
        expect(existsSync(path.join(tmp2.dir, `${w.name}.lock`))).toBe(false);
      }
    } finally {
      await echo2.close();
      await emu2.stop();
      await tmp2.cleanup();
    }
  }, 60_000);
});

/** Three echo responders on 127.0.0.1, .2 and .3, all on one port (the config has one udp_port). */
async function threeLoopbackReflectors(delayMs: number): Promise<UdpEchoResponder[]> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const first = await startUdpEchoResponder({ port: 0, host: '127.0.0.1', delayMs });
    const all = [first];
    try {
      for (const host of ['127.0.0.2', '127.0.0.3'])
        all.push(await startUdpEchoResponder({ port: first.port, host, delayMs }));
      return all;
    } catch {
      await Promise.all(all.map((r) => r.close())); // port taken on .2/.3: try another
    }
  }
  throw new Error('no UDP port free on 127.0.0.1-3');
}

describe('wanctl-autorate with continuous_monitoring.probe udp and median of three loopback reflectors', () => {
  it('probes each ping host on udp_port, shows the probe in health, and ignores one slow reflector', async () => {
    const tmp4 = await tempDir();
    const key = userKeyPair();
    const keyFile = path.join(tmp4.dir, 'router.key');
    await writeFile(keyFile, key.private, { mode: 0o600 });
    const wan = { name: 'mo3', downloadQueue: 'WAN-Download-M', uploadQueue: 'WAN-Upload-M' };
    const emu4 = await startRouter([wan], key.public);
    const echos = await threeLoopbackReflectors(IDLE_MS);
    let p: DaemonProc | null = null;
    try {
      const port = await freePort();
      const udpPort = (echos[0] as UdpEchoResponder).port;
      const file = await writeConfig({
        dir: tmp4.dir,
        wan,
        emu: emu4,
        keyFile,
        healthPort: port,
        pingHosts: ['127.0.0.1', '127.0.0.2', '127.0.0.3'],
        medianOfThree: true,
        udpPort,
      });
      const proc = startDaemon(['run', '--config', file]);
      p = proc;
      const h = await waitFor(
        'replies from all three reflectors in health',
        async () => {
          const x = (await getHealth(port)).body.wans[0];
          return x &&
            x.measurement.reflectors.length === 3 &&
            x.measurement.reflectors.every((r) => r.replies > 0)
            ? x
            : null;
        },
        30_000,
      );
      expect(h.measurement).toMatchObject({
        probe: 'udp',
        probe_method: 'udp',
        probe_source: 'config',
        udp_port: udpPort,
      });
      expect(h.measurement.reflectors.map((r) => r.reflector)).toEqual([
        `127.0.0.1:${udpPort}`,
        `127.0.0.2:${udpPort}`,
        `127.0.0.3:${udpPort}`,
      ]);
      await waitFor('rates at the ceiling', () => maxLimit(emu4, wan.downloadQueue) === 100_000_000, 20_000);
      // the first reflector far behind: the median of three stays idle, no cut (the first
      // reflector alone would be RED)
      (echos[0] as UdpEchoResponder).setDelay(IDLE_MS + 400);
      const before = ((await getHealth(port)).body.wans[0]?.cycles ?? 0) as number;
      await waitFor(
        'cycles with the slow reflector',
        async () => ((await getHealth(port)).body.wans[0]?.cycles ?? 0) > before + 40,
        20_000,
      );
      expect(maxLimit(emu4, wan.downloadQueue)).toBe(100_000_000);
      proc.child.kill('SIGTERM');
      expect((await proc.exited).code).toBe(0);
      p = null;
    } finally {
      if (p) {
        p.child.kill('SIGKILL');
        await p.exited;
      }
      await Promise.all(echos.map((e) => e.close()));
      await emu4.stop();
      await tmp4.cleanup();
    }
  }, 90_000);
});

describe('two WAN processes on the same health and metrics ports (systemd template, default ports)', () => {
  it('the second warns naming health_check.port and metrics.port and runs on (v1.3); both stop with 0', async () => {
    const tmp5 = await tempDir();
    const key = userKeyPair();
    const keyFile = path.join(tmp5.dir, 'router.key');
    await writeFile(keyFile, key.private, { mode: 0o600 });
    const wans = [
      { name: 'wanx', downloadQueue: 'WAN-Download-X', uploadQueue: 'WAN-Upload-X' },
      { name: 'wany', downloadQueue: 'WAN-Download-Y', uploadQueue: 'WAN-Upload-Y' },
    ];
    const emu5 = await startRouter(wans, key.public);
    const echo5 = await startUdpEchoResponder({ port: 0, delayMs: IDLE_MS });
    const procs: DaemonProc[] = [];
    try {
      const healthPort = await freePort();
      const metricsPort = await freePort();
      const files: string[] = [];
      for (const w of wans)
        files.push(
          await writeConfig({
            dir: tmp5.dir,
            wan: w,
            emu: emu5,
            keyFile,
            healthPort,
            metricsPort,
            udpPort: echo5.port,
          }),
        );
      const a = startDaemon(['run', '--config', files[0] as string]);
      procs.push(a);
      await waitFor('the first WAN serving health', async () => {
        const h = await getHealth(healthPort);
        return h.body.wans[0]?.name === 'wanx';
      });
      const b = startDaemon(['run', '--config', files[1] as string]);
      procs.push(b);
      // the second WAN runs without the endpoints: its rates reach the router all the same
      await waitFor(
        'the second WAN writing its rates',
        () =>
          maxLimit(emu5, 'WAN-Download-Y') === 100_000_000 && maxLimit(emu5, 'WAN-Upload-Y') === 20_000_000,
        30_000,
      );
      const warnings = b.logs().filter((l) => l['level'] === 'WARN');
      const text = warnings.map((l) => String(l['message'])).join('\n');
      expect(text).toContain(`set health_check.port in ${files[1]} to a free port`);
      expect(text).toContain(`set metrics.port in ${files[1]} to a free port`);
      expect(text).toContain(`127.0.0.1:${healthPort}`);
      expect(b.child.exitCode).toBeNull();
      // the first one's endpoints are untouched
      const h = await getHealth(healthPort);
      expect(h.body.wans.map((w) => w.name)).toEqual(['wanx']);
      expect(h.body.endpoint_problems).toEqual([]);
      for (const p of [b, a]) {
        p.child.kill('SIGTERM');
        expect((await p.exited).code).toBe(0);
      }
    } finally {
      for (const p of procs)
        if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await Promise.all(procs.map((p) => p.exited));
      await echo5.close();
      await emu5.stop();
      await tmp5.cleanup();
    }
  }, 90_000);
});

type RecordLine = { rtt_ms?: number | null; router_ok?: boolean; late_write?: boolean; t: number };

function readRecord(file: string): RecordLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as RecordLine);
}

const hasFping = ['/usr/bin/fping', '/usr/sbin/fping', '/bin/fping'].some((f) => existsSync(f));

describe.skipIf(!hasFping)('wanctl-autorate with the fping probe (ICMP to 127.0.0.1)', () => {
  it('measures through the long-lived fping child, reports it in health, and stops cleanly', async () => {
    const tmp3 = await tempDir();
    const key = userKeyPair();
    const keyFile = path.join(tmp3.dir, 'router.key');
    await writeFile(keyFile, key.private, { mode: 0o600 });
    const wan = { name: 'icmp', downloadQueue: 'WAN-Download-I', uploadQueue: 'WAN-Upload-I' };
    const emu3 = await startRouter([wan], key.public);
    try {
      const port = await freePort();
      // loopback RTT is far below the 10 ms baseline floor: that only freezes the baseline
      const file = await writeConfig({ dir: tmp3.dir, wan, emu: emu3, keyFile, healthPort: port });
      const p = startDaemon(['run', '--config', file, '--debug'], { WANCTL_LOG_FORMAT: 'text' });
      const h = await waitFor(
        'fping replies in health',
        async () => {
          const x = (await getHealth(port)).body.wans[0];
          return x && x.measurement.probe === 'fping' && x.measurement.replies > 0 ? x : null;
        },
        30_000,
      );
      expect(h.measurement).toMatchObject({ probe_method: 'icmp', probe_source: 'config', udp_port: null });
      expect(h.measurement.reflectors[0]?.replies).toBeGreaterThan(0);
      await waitFor('rates written', () => maxLimit(emu3, wan.downloadQueue) === 100_000_000, 20_000);
      p.child.kill('SIGTERM');
      expect((await p.exited).code).toBe(0);
      // --debug: the per-cycle decision line goes to the debug log only; the main log stays short
      const debugLog = readFileSync(path.join(tmp3.dir, 'icmp_debug.log'), 'utf8');
      const mainLog = readFileSync(path.join(tmp3.dir, 'icmp.log'), 'utf8');
      expect(debugLog).toMatch(/\[icmp\] \[DEBUG\] \[GREEN\/GREEN\] RTT=/);
      expect(mainLog).not.toContain('[DEBUG]');
      expect(mainLog.split('\n').length).toBeLessThan(20);
      expect(mainLog + debugLog).not.toContain(PASSWORD_TEXT);
    } finally {
      await emu3.stop();
      await tmp3.cleanup();
    }
  }, 60_000);
});
