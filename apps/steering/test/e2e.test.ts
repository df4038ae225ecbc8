/**
 * End to end: the REAL daemon process (node dist/cli.js) against the RouterOS emulator, once with
 * REST and once with SSH as the configured transport (the other one is the fallback), probing a
 * UDP echo responder and reading a fake autorate state file for its baseline.
 */
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  type Emulator,
  type QueueCounters,
  startEmulator,
  type TrafficModel,
} from '@wanctl/routeros-emulator';
import { startUdpEchoResponder, type UdpEchoResponder } from '@wanctl/rtt-probe';
import ssh2 from 'ssh2';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  type DaemonProcess,
  freePort,
  getJson,
  startDaemon,
  steeringYaml,
  tempDir,
  waitFor,
  writeAutorateState,
} from './helpers/e2e.js';

const COMMENT = 'ADAPTIVE: Steer latency-sensitive to WAN2';
const MANGLE = '/ip/firewall/mangle';
const QUEUE = 'WAN-Download-1';

/** Queue counters of a congestion episode: drops grow on every read and packets stand in the queue. */
class EpisodeModel implements TrafficModel {
  congested = false;
  private dropped = 0;
  private packets = 0;
  counters(q: { name: string }): QueueCounters {
    if (q.name !== QUEUE)
      return { bytes: 0, packets: 0, dropped: 0, queuedBytes: 0, queuedPackets: 0, rate: 0, packetRate: 0 };
    this.packets += 100;
    if (this.congested) this.dropped += 5;
    const queued = this.congested ? 80 : 0;
    return {
      bytes: this.packets * 1000,
      packets: this.packets,
      dropped: this.dropped,
      queuedBytes: queued * 1000,
      queuedPackets: queued,
      rate: 0,
      packetRate: 0,
    };
  }
}

type Transport = 'rest' | 'ssh';

describe.each<Transport>(['rest', 'ssh'])('wanctl-steering end to end, %s primary', (transport) => {
  const other: Transport = transport === 'rest' ? 'ssh' : 'rest';
  let emu: Emulator;
  let echo: UdpEchoResponder;
  let model: EpisodeModel;
  let tmp: { dir: string; cleanup(): Promise<void> };
  let daemon: DaemonProcess | null = null;
  let healthUrl: string;
  let metricsUrl: string;
  let configPath: string;

  beforeAll(() => {
    assertBuilt();
  });

  beforeEach(async () => {
    tmp = await tempDir();
    const keys = ssh2.utils.generateKeyPairSync('ed25519');
    const keyPath = join(tmp.dir, 'router.key');
    await writeFile(keyPath, keys.private, { mode: 0o600 });
    emu = await startEmulator({
      users: [{ name: 'admin', password: 'admin', group: 'full', authorizedKeys: [keys.public] }],
    });
    model = new EpisodeModel();
    emu.setTrafficModel(model);
    echo = await startUdpEchoResponder({ port: 0 });
    await writeAutorateState(join(tmp.dir, 'wan1_state.json'), 20);
    const healthPort = await freePort();
    const metricsPort = await freePort();
    healthUrl = `http://127.0.0.1:${healthPort}/health`;
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    configPath = join(tmp.dir, 'steering.yaml');
    await writeFile(
      configPath,
      steeringYaml({
        dir: tmp.dir,
        transport,
        restPort: emu.rest!.port,
        sshPort: emu.ssh!.port,
        sshKey: keyPath,
        sshHostKeySha256: emu.ssh!.hostKeyFingerprint,
        healthPort,
        metricsPort,
        redSamples: 2,
        greenSamples: 4,
        udpPort: echo.port, // measurement.probe: UDP echo to ping_host 127.0.0.1
      }),
    );
  });

  afterEach(async () => {
    if (daemon) await daemon.stop('SIGKILL');
    daemon = null;
    await echo?.close();
    await emu?.stop();
    await tmp?.cleanup();
  });

  const ruleDisabled = () => emu.state.find(MANGLE, { comment: COMMENT })[0]?.['disabled'];
  const health = () => getJson(healthUrl);
  const start = () => {
    daemon = startDaemon(['run', '--config', configPath], { WANCTL_TEST_ROUTER_PASSWORD: 'admin' });
    return daemon;
  };
  const detail = () => `daemon output:\n${daemon?.output().split('\n').slice(-40).join('\n')}`;
  const cyclesRun = async (min: number) => {
    const h = await health();
    return ((h.body['cycles'] as { count: number }).count >= min ? h : null) as Awaited<
      ReturnType<typeof health>
    > | null;
  };
  const congest = (on: boolean) => {
    echo.setDelay(on ? 80 : 0);
    model.congested = on;
  };

  it("D14: autorate's report of RED at its floor enables the rule while CAKE sees nothing; /health and the log give the reason", async () => {
    await writeFile(
      configPath,
      `${await readFile(configPath, 'utf8')}\nwan_state:\n  hold_down_sec: 1\n  recovery_sec: 1\n`,
    );
    const d = start();
    await waitFor('the first cycles', async () => (await cyclesRun(2)) !== null, { detail });
    // the line collapses below the floors: the queue is in the ISP's buffer, CAKE stays quiet
    const state = join(tmp.dir, 'wan1_state.json');
    const red = { zone: 'RED', at_floor: true, rtt_delta_ms: 450, red_for_sec: 2 };
    // (the test's probe replies fast: what steers here is autorate's report alone)
    await writeAutorateState(state, 20, { download: red, upload: red });
    await waitFor('the rule enabled on the emulator', () => ruleDisabled() === 'false', { detail });
    const h = await waitFor('DEGRADED in /health', async () => {
      const r = await health();
      return r.body['state'] === 'WAN1_DEGRADED' ? r : null;
    });
    expect((h.body['last_transition'] as { reason: string }).reason).toMatch(
      /^WAN1 DEGRADED \(D14\): download RED at its floor with autorate rtt delta 450\.0ms >= 80ms/,
    );
    expect(h.body['state_reason']).toMatch(/^steered because: WAN1 DEGRADED \(D14\)/);
    expect(h.body['wan_state']).toMatchObject({
      input: 'fresh',
      zone: 'RED',
      congested: true,
      thresholds: { rtt_delta_ms: 80, hold_down_sec: 1, recovery_sec: 1, stale_sec: 5 },
    });
    expect((h.body['signals'] as { cake_drops_delta: number }).cake_drops_delta).toBe(0);
    // the line recovers
    const calm = { zone: 'GREEN', at_floor: false, rtt_delta_ms: 1, red_for_sec: 0 };
    await writeAutorateState(state, 20, { download: calm, upload: calm });
    await waitFor('the rule disabled again', () => ruleDisabled() === 'true', { detail });
    const h2 = await waitFor('GOOD in /health', async () => {
      const r = await health();
      return r.body['state'] === 'WAN1_GOOD' ? r : null;
    });
    expect(h2.body['state_reason']).toMatch(/^not steered: CAKE RED needs rtt_ewma > 15ms/);
    expect(d.output()).toMatch(/State transition: WAN1_GOOD -> WAN1_DEGRADED \(WAN1 DEGRADED \(D14\)/);
    expect(d.output()).toMatch(/Steering ENABLED: WAN1_GOOD -> WAN1_DEGRADED by wan; now: steered because/);
    // (v1.3's GREEN count or D14's recovery, whichever is first once the hold-down is over)
    expect(d.output()).toMatch(/State transition: WAN1_DEGRADED -> WAN1_GOOD \(WAN1 RECOVERED/);
    expect(d.output()).toMatch(/Steering DISABLED: WAN1_DEGRADED -> WAN1_GOOD by \w+; now: not steered/);
  });

  it('congestion enables the rule after red_samples_required cycles; recovery disables it after green_samples_required', async () => {
    const d = start();
    // healthy once cycles run (polled: on a busy machine one cycle may miss its RTT reply, which
    // is degraded for that cycle)
    const first = await waitFor(
      'the first cycles, healthy',
      async () => {
        const h = await cyclesRun(2);
        return h?.status === 200 ? h : null;
      },
      { detail },
    );
    expect(first.body).toMatchObject({
      state: 'WAN1_GOOD',
      steering_enabled: false,
      version: expect.any(String),
    });
    expect(first.body['rule']).toMatchObject({ comment: COMMENT, on_router: 'disabled', in_sync: true });
    expect(first.body['router']).toMatchObject({ transport, configured_transport: transport });
    // the probe comes from measurement.probe in the config
    expect(first.body['probe']).toMatchObject({
      method: 'udp',
      kind: 'udp',
      source: 'config',
      udp_port: echo.port,
      reflectors: [`127.0.0.1:${echo.port}`],
    });
    await waitFor(
      'an RTT measured through the configured probe',
      async () =>
        ((await health()).body['signals'] as { rtt_source: string | null }).rtt_source === 'measured',
      { detail },
    );
    expect(ruleDisabled()).toBe('true');

    congest(true);
    await waitFor('the rule enabled on the emulator', () => ruleDisabled() === 'false', { detail });
    // the toggle lands on the router just before the daemon completes its cycle
    const h = await waitFor('DEGRADED in /health', async () => {
      const r = await health();
      return r.body['state'] === 'WAN1_DEGRADED' ? r : null;
    });
    expect(h.body).toMatchObject({ state: 'WAN1_DEGRADED', steering_enabled: true });
    const tr = h.body['last_transition'] as { from: string; to: string; reason: string };
    expect(tr).toMatchObject({ from: 'WAN1_GOOD', to: 'WAN1_DEGRADED' });
    expect(tr.reason).toContain('sustained 2 samples');
    expect(h.body['rule']).toMatchObject({ on_router: 'enabled', in_sync: true });

    congest(false);
    await waitFor('the rule disabled again', () => ruleDisabled() === 'true', { detail });
    const h2 = await waitFor('GOOD in /health', async () => {
      const r = await health();
      return r.body['state'] === 'WAN1_GOOD' ? r : null;
    });
    expect(h2.body).toMatchObject({ state: 'WAN1_GOOD', steering_enabled: false });
    expect((h2.body['last_transition'] as { reason: string }).reason).toContain('sustained 4 samples');

    // a log line for every transition, with its reason
    expect(d.output()).toMatch(/State transition: WAN1_GOOD -> WAN1_DEGRADED \(WAN1 DEGRADED detected/);
    expect(d.output()).toMatch(/State transition: WAN1_DEGRADED -> WAN1_GOOD \(WAN1 RECOVERED/);

    // metrics: v1.3's series
    const m = await (await fetch(metricsUrl)).text();
    expect(m).toMatch(
      /wanctl_steering_transitions_total\{wan="wan1",from="WAN1_GOOD",to="WAN1_DEGRADED"\} 1/,
    );
    expect(m).toMatch(/wanctl_steering_enabled\{wan="wan1"\} 0/);

    // clean SIGTERM: exit 0, state saved
    const exit = await d.stop('SIGTERM');
    daemon = null;
    expect(exit.code).toBe(0);
    const state = JSON.parse(await readFile(join(tmp.dir, 'steering_state.json'), 'utf8'));
    expect(state.current_state).toBe('WAN1_GOOD');
    expect(state.transitions.map((t: { to: string }) => t.to)).toEqual(['WAN1_DEGRADED', 'WAN1_GOOD']);
  });

  it('a rule toggled behind the daemon\u2019s back is noticed and corrected', async () => {
    start();
    await waitFor('the first cycles', () => cyclesRun(2), { detail });
    const id = emu.state.find(MANGLE, { comment: COMMENT })[0]!['.id']!;
    emu.state.set(MANGLE, id, { disabled: 'false' });
    expect(ruleDisabled()).toBe('false');
    await waitFor('the rule disabled again by the daemon', () => ruleDisabled() === 'true', { detail });
    const h = await waitFor('a correction in /health', async () => {
      const r = await health();
      return (r.body['rule'] as { corrections: number }).corrections >= 1 ? r : null;
    });
    expect(h.body).toMatchObject({ state: 'WAN1_GOOD' });
  });

  it(`with ${transport} down in the middle of an episode, ${other} carries the toggle`, async () => {
    start();
    await waitFor('the first cycles', () => cyclesRun(2), { detail });
    congest(true);
    await waitFor(
      'the episode under way (a RED sample)',
      async () => {
        const r = await health();
        return ((r.body['counters'] as { red_count: number } | null)?.red_count ?? 0) >= 1;
      },
      { detail },
    );
    await emu.faults.set(transport, { down: true });
    await waitFor(`the rule enabled over ${other}`, () => ruleDisabled() === 'false', { detail });
    const h = await waitFor('DEGRADED in /health', async () => {
      const r = await health();
      return r.body['state'] === 'WAN1_DEGRADED' ? r : null;
    });
    expect(h.body['router']).toMatchObject({ transport: other, configured_transport: transport });
    expect(h.body).toMatchObject({ state: 'WAN1_DEGRADED' });
    const toggles =
      other === 'ssh'
        ? emu.requests.ssh().filter((e) => e.command.includes('enable'))
        : emu.requests.rest().filter((e) => e.method === 'PATCH' || e.method === 'POST');
    expect(toggles.length).toBeGreaterThan(0);
  });

  it('--dry-run decides but never changes the rule on the router; --once --debug runs one cycle', async () => {
    daemon = startDaemon(['run', '--config', configPath, '--udp-reflector', echo.address, '--dry-run'], {
      WANCTL_TEST_ROUTER_PASSWORD: 'admin',
    });
    const first = await waitFor('the first cycles', () => cyclesRun(2), { detail });
    // --udp-reflector overrides measurement.probe
    expect(first.body['probe']).toMatchObject({
      method: 'udp',
      source: '--udp-reflector',
      udp_port: null,
      reflectors: [echo.address],
    });
    congest(true);
    const h = await waitFor(
      'DEGRADED decided (dry run)',
      async () => {
        const r = await health();
        return r.body['state'] === 'WAN1_DEGRADED' ? r : null;
      },
      { detail },
    );
    expect(h.body).toMatchObject({ dry_run: true, rule: { on_router: 'disabled', in_sync: false } });
    expect(ruleDisabled()).toBe('true');
    expect(daemon.output()).toContain('DRY RUN: would enable the steering rule');
    expect((await daemon.stop('SIGTERM')).code).toBe(0);
    daemon = null;

    const once = startDaemon(
      ['run', '--config', configPath, '--udp-reflector', echo.address, '--once', '--debug'],
      {
        WANCTL_TEST_ROUTER_PASSWORD: 'admin',
      },
    );
    const ex = await once.exited;
    expect(ex.code, once.output()).toBe(0);
    expect(once.output()).toContain('was written by a --dry-run');
    expect(ruleDisabled()).toBe('true'); // the dry run's DEGRADED is not acted on
    const debugLog = await readFile(join(tmp.dir, 'steering_debug.log'), 'utf8');
    expect(debugLog).toMatch(/\[WAN1_/); // the per-cycle summary line, debug only
  });

  it('starts by reconciling a pre-enabled rule with a fresh state, then --reset disables it', async () => {
    const id = emu.state.find(MANGLE, { comment: COMMENT })[0]!['.id']!;
    emu.state.set(MANGLE, id, { disabled: 'false' });
    const d = start();
    await waitFor('the rule disabled at start-up', () => ruleDisabled() === 'true', { detail });
    expect(d.output()).toContain('Start-up: rule');
    const exit = await d.stop('SIGTERM');
    daemon = null;
    expect(exit.code).toBe(0);

    emu.state.set(MANGLE, id, { disabled: 'false' });
    const r = startDaemon(['--config', configPath, '--reset'], { WANCTL_TEST_ROUTER_PASSWORD: 'admin' });
    const ex = await r.exited;
    expect(ex.code, r.output()).toBe(0);
    expect(ruleDisabled()).toBe('true');
  });
});

const HAVE_FPING = (() => {
  try {
    return spawnSync('fping', ['-v']).status === 0;
  } catch {
    return false;
  }
})();

describe.skipIf(!HAVE_FPING)(
  'wanctl-steering end to end with the real fping probe (production probe kind)',
  () => {
    it('measures RTT to measurement.ping_host with fping and decides', async () => {
      const tmp = await tempDir();
      const emu = await startEmulator({ sshPort: false });
      let d: DaemonProcess | null = null;
      try {
        await writeAutorateState(join(tmp.dir, 'wan1_state.json'), 20);
        const hp = await freePort();
        const cfg = join(tmp.dir, 'steering.yaml');
        await writeFile(
          cfg,
          steeringYaml({
            dir: tmp.dir,
            transport: 'rest',
            restPort: emu.rest!.port,
            sshPort: 22,
            sshKey: join(tmp.dir, 'no-key'),
            healthPort: hp,
          }),
        );
        d = startDaemon(['run', '--config', cfg], { WANCTL_TEST_ROUTER_PASSWORD: 'admin' });
        const h = await waitFor(
          'cycles with an fping RTT',
          async () => {
            const r = await getJson(`http://127.0.0.1:${hp}/health`);
            const s = r.body['signals'] as { rtt_ms: number | null; rtt_source: string | null };
            return (r.body['cycles'] as { count: number }).count >= 3 && s.rtt_source === 'measured'
              ? r
              : null;
          },
          { detail: () => d?.output() ?? '' },
        );
        expect(h.body['probe']).toMatchObject({
          method: 'icmp',
          kind: 'fping',
          source: 'config',
          reflectors: ['127.0.0.1'],
        });
        expect((h.body['signals'] as { rtt_ms: number }).rtt_ms).toBeLessThan(20);
        expect(h.body).toMatchObject({ state: 'WAN1_GOOD' });
        expect((await d.stop('SIGTERM')).code).toBe(0);
        d = null;
      } finally {
        if (d) await d.stop('SIGKILL');
        await emu.stop();
        await tmp.cleanup();
      }
    });
  },
);

/** Holds a TCP port on 127.0.0.1 (another program on the health or metrics port). */
async function holdPort(): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const a = server.address();
  return {
    port: typeof a === 'object' && a ? a.port : 0,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('wanctl-steering with its health or metrics port already in use (v1.3: warn and run on)', () => {
  it('warns naming health_check.port / metrics.port and the file, keeps deciding, stops cleanly', async () => {
    const tmp = await tempDir();
    const emu = await startEmulator({ sshPort: false });
    const echo = await startUdpEchoResponder({ port: 0 });
    const held = await holdPort();
    let d: DaemonProcess | null = null;
    try {
      await writeAutorateState(join(tmp.dir, 'wan1_state.json'), 20);
      const metricsPort = await freePort();
      const cfg = join(tmp.dir, 'steering.yaml');
      const write = (healthPort: number, mPort: number) =>
        writeFile(
          cfg,
          steeringYaml({
            dir: tmp.dir,
            transport: 'rest',
            restPort: emu.rest!.port,
            sshPort: 22,
            sshKey: join(tmp.dir, 'no-key'),
            healthPort,
            metricsPort: mPort,
            udpPort: echo.port,
          }),
        );
      // 1. health port taken: no health, but cycles run (seen on the metrics port)
      await write(held.port, metricsPort);
      const proc = startDaemon(['run', '--config', cfg], { WANCTL_TEST_ROUTER_PASSWORD: 'admin' });
      d = proc;
      const detail = () => proc.output();
      await waitFor(
        'cycles counted on the metrics port',
        async () => {
          const m = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
          const n = /wanctl_steering_cycles_total\{wan="wan1",outcome="ok"\} (\d+)/.exec(m);
          return n !== null && Number(n[1]) >= 3;
        },
        { detail },
      );
      expect(proc.output()).toContain(`set health_check.port in ${cfg} to a free port`);
      expect(proc.output()).toContain(`127.0.0.1:${held.port}`);
      expect(proc.child.exitCode).toBeNull();
      expect((await proc.stop('SIGTERM')).code).toBe(0);
      d = null;

      // 2. metrics port taken: health served, and it says what is not served
      const healthPort = await freePort();
      await write(healthPort, held.port);
      const proc2 = startDaemon(['run', '--config', cfg], { WANCTL_TEST_ROUTER_PASSWORD: 'admin' });
      d = proc2;
      // healthy at some point (a busy machine may miss an RTT reply now and then: that is
      // degraded for a cycle, the unserved metrics port never is)
      const h = await waitFor(
        'healthy with cycles',
        async () => {
          const r = await getJson(`http://127.0.0.1:${healthPort}/health`);
          return (r.body['cycles'] as { count: number }).count >= 2 && r.status === 200 ? r : null;
        },
        { detail: () => proc2.output() },
      );
      expect(h.body['problems']).toEqual([]);
      expect(h.body['endpoint_problems']).toEqual([
        `metrics not served (127.0.0.1:${held.port} unavailable)`,
      ]);
      expect(proc2.output()).toContain(`set metrics.port in ${cfg} to a free port`);
      expect((await proc2.stop('SIGTERM')).code).toBe(0);
      d = null;
    } finally {
      if (d) await d.stop('SIGKILL');
      await held.close();
      await echo.close();
      await emu.stop();
      await tmp.cleanup();
    }
  }, 60_000);
});
