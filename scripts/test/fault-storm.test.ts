/**
 * The fault storm (issue 16): the REAL wanctl-autorate and wanctl-steering processes against one
 * RouterOS emulator (REST primary, SSH fallback, all on loopback) while, for about a minute of
 * wall time, a seeded PRNG injects random faults on both faces, restarts and renumbers the
 * router, inserts objects before ours, changes our objects behind the daemons' backs, and varies
 * the RTT and the CAKE drops so that the daemons keep deciding.
 *
 * Then the faults stop and, within a bounded settle time, the router must hold exactly what the
 * daemons last decided (read from their /health: autorate's controller rates, steering's
 * steering_enabled), no other router object may have changed, both /health answer 200, and
 * neither daemon may have exited.
 *
 * WANCTL_STORM_SEED=<n> replays a seed's schedule (the timing of a busy machine still varies);
 * WANCTL_STORM_SECONDS=<n> changes the storm's length (default 60).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildFixture, type Emulator, type FaultSettings, startEmulator } from '@wanctl/routeros-emulator';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUTORATE_CLI,
  autorateYaml,
  clearing,
  type Daemon,
  DL_QUEUE,
  diffSnapshots,
  FAULT_KINDS,
  type FaultKind,
  freePort,
  getJson,
  MANGLE,
  objectKey,
  ownedField,
  type Reflector,
  Rng,
  RULE_COMMENT,
  type Snapshot,
  STEERING_CLI,
  StormTrafficModel,
  sleep,
  snapshot,
  startDaemon,
  startReflector,
  steeringYaml,
  Tally,
  TREE,
  TYPES,
  table,
  UL_QUEUE,
} from './storm.js';

const SEED = Number(process.env['WANCTL_STORM_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const STORM_MS = Number(process.env['WANCTL_STORM_SECONDS'] ?? 60) * 1000;
/** Bounded settle time after the last fault is cleared. */
const SETTLE_MS = 20_000;
/** After the storm: how long the decisions must hold still before the final restart (bounded). */
const QUIET_MS = 2_000;
const QUIET_MAX_MS = 15_000;
const PASSWORD = 'storm-secret-pw-4417';
const PASSWORD_ENV = 'WANCTL_STORM_ROUTER_PASSWORD';
const IDLE_RTT_MS = 20;

const missing = [AUTORATE_CLI, STEERING_CLI].filter((f) => !existsSync(f));

it('both daemons are built (a missing dist/cli.js fails here instead of skipping the storm)', () => {
  expect(missing, 'build first: npx turbo run build').toEqual([]);
});

/** Rates the autorate daemon decided (its controller) and what it says the router has. */
interface AutorateView {
  status: number;
  dl: number;
  ul: number;
  writesOk: number;
  writesFailed: number;
}

/** The parts of autorate's /health `wans[]` entry read here. */
interface WanDoc {
  controller?: { download_bps?: number; upload_bps?: number };
  router?: { writes_ok?: number; writes_failed?: number };
}

/** What the steering daemon decided. */
interface SteeringView {
  status: number;
  steeringEnabled: boolean;
  state: string;
  corrections: number;
}

describe.skipIf(missing.length > 0)('fault storm: both daemons, random faults and router resets', () => {
  const rng = new Rng(SEED);
  let dir: string;
  let emu: Emulator;
  let reflector: Reflector;
  const model = new StormTrafficModel();
  let autorate: Daemon;
  let steering: Daemon;
  let autorateHealth: string;
  let steeringHealth: string;
  /** Set while the test itself changes router state (its events are not the daemons'). */
  let testWriting = false;
  /** Changes the daemons made to objects, or fields, they do not own. */
  const foreignWrites: string[] = [];

  const asTest = <T>(fn: () => T): T => {
    testWriting = true;
    try {
      return fn();
    } finally {
      testWriting = false;
    }
  };

  const note = (msg: string) => console.log(`[storm seed=${SEED}] ${msg}`);

  beforeAll(async () => {
    note(`seed ${SEED} (replay with WANCTL_STORM_SEED=${SEED}), storm ${STORM_MS / 1000} s`);
    dir = await mkdtemp(path.join(os.tmpdir(), 'wanctl-storm-'));
    const keys = ssh2.utils.generateKeyPairSync('ed25519');
    const keyFile = path.join(dir, 'router.key');
    await writeFile(keyFile, keys.private, { mode: 0o600 });

    // the queues of the autorate config and the rule of the steering config, plus objects that
    // are none of the daemons' business
    const seed = buildFixture({ wan: 'wan1', downloadQueue: DL_QUEUE, uploadQueue: UL_QUEUE });
    emu = await startEmulator({
      users: [{ name: 'wanctl', password: PASSWORD, group: 'full', authorizedKeys: [keys.public] }],
      seed,
      restCommandTimeoutMs: 2500, // the sessionClosed fault answers after this
    });
    emu.setTrafficModel(model);
    emu.state.add(TYPES, { name: 'guest-fq', kind: 'fq-codel' });
    emu.state.add(TREE, {
      name: 'guest-download',
      parent: 'bridge1',
      queue: 'guest-fq',
      'max-limit': '7M',
      'limit-at': '1M',
      priority: '5',
    });
    emu.state.add(MANGLE, {
      chain: 'forward',
      action: 'mark-connection',
      'new-connection-mark': 'guest',
      passthrough: 'yes',
      comment: 'GUEST: mark guest connections',
      disabled: 'yes',
    });
    emu.state.onChange((e) => {
      if (testWriting || e.action === 'reset-counters') return;
      const item = (emu.state.list(e.path) as Array<Record<string, string>>).find((i) => i['.id'] === e.id);
      const owned = item ? ownedField(e.path, item) : null;
      const keys = Object.keys(e.props ?? {});
      // autorate names the queue type on every write (queue=...): allowed if unchanged (the
      // snapshot compares it)
      const allowed = owned === 'max-limit' ? ['max-limit', 'queue'] : owned ? [owned] : [];
      const bad = e.action !== 'set' || keys.some((k) => !allowed.includes(k));
      if (bad)
        foreignWrites.push(
          `${e.action} ${e.path} ${e.id} (${item ? objectKey(e.path, item) : 'gone'}): ${JSON.stringify(e.props ?? {})}`,
        );
    });

    reflector = await startReflector(IDLE_RTT_MS);
    autorateHealth = `http://127.0.0.1:${await freePort()}/health`;
    steeringHealth = `http://127.0.0.1:${await freePort()}/health`;
    const access = { emu, user: 'wanctl', passwordEnv: PASSWORD_ENV, keyFile, dir, udpPort: reflector.port };
    const aCfg = path.join(dir, 'wan1.yaml');
    const sCfg = path.join(dir, 'steering.yaml');
    await writeFile(aCfg, autorateYaml({ ...access, healthPort: Number(new URL(autorateHealth).port) }));
    await writeFile(sCfg, steeringYaml({ ...access, healthPort: Number(new URL(steeringHealth).port) }));
    const env = { [PASSWORD_ENV]: PASSWORD };
    autorate = startDaemon('wanctl-autorate', AUTORATE_CLI, ['--config', aCfg], env);
    steering = startDaemon('wanctl-steering', STEERING_CLI, ['run', '--config', sCfg], env);
  });

  afterAll(async () => {
    await Promise.all([autorate?.stop(), steering?.stop()]);
    await reflector?.close();
    await emu?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const readAutorate = async (): Promise<AutorateView | null> => {
    const h = await getJson(autorateHealth);
    const w = (h?.body['wans'] as WanDoc[] | undefined)?.[0];
    if (!h || !w) return null;
    return {
      status: h.status,
      dl: Number(w.controller?.download_bps),
      ul: Number(w.controller?.upload_bps),
      writesOk: Number(w.router?.writes_ok),
      writesFailed: Number(w.router?.writes_failed),
    };
  };
  const readSteering = async (): Promise<SteeringView | null> => {
    const h = await getJson(steeringHealth);
    if (!h || typeof h.body['steering_enabled'] !== 'boolean') return null;
    return {
      status: h.status,
      steeringEnabled: h.body['steering_enabled'] as boolean,
      state: String(h.body['state']),
      corrections: Number((h.body['rule'] as { corrections?: number } | undefined)?.corrections ?? 0),
    };
  };
  const maxLimit = (q: string) => Number(emu.state.find(TREE, { name: q })[0]?.['max-limit']);
  const ruleDisabled = () =>
    (emu.state.list(MANGLE) as Array<Record<string, string>>).find((r) => r['comment'] === RULE_COMMENT)?.[
      'disabled'
    ];

  /** Where the router differs from the decisions, one line each (empty: in step). */
  const mismatches = (a: AutorateView | null, s: SteeringView | null): string[] => {
    const out: string[] = [];
    if (!a) out.push('autorate /health not answering');
    else {
      if (maxLimit(DL_QUEUE) !== a.dl)
        out.push(`${DL_QUEUE} max-limit ${maxLimit(DL_QUEUE)}, decided ${a.dl}`);
      if (maxLimit(UL_QUEUE) !== a.ul)
        out.push(`${UL_QUEUE} max-limit ${maxLimit(UL_QUEUE)}, decided ${a.ul}`);
    }
    if (!s) out.push('steering /health not answering');
    else if (ruleDisabled() !== String(!s.steeringEnabled))
      out.push(`rule disabled=${ruleDisabled()}, decided steering_enabled=${s.steeringEnabled} (${s.state})`);
    return out;
  };

  const detail = () =>
    [autorate, steering]
      .map((d) => `--- ${d.name} (last lines) ---\n${d.output().split('\n').slice(-30).join('\n')}`)
      .join('\n');

  it('ends with the router holding exactly what the daemons last decided, nothing else changed, health 200', async () => {
    // 1. both daemons up, healthy and in step with the router before the storm
    const startBy = Date.now() + 60_000;
    let ready = false;
    while (!ready) {
      if (Date.now() > startBy) throw new Error(`daemons not healthy and in step at start\n${detail()}`);
      expect(autorate.alive() && steering.alive(), detail()).toBe(true);
      const [a, s] = await Promise.all([readAutorate(), readSteering()]);
      ready = a?.status === 200 && s?.status === 200 && mismatches(a, s).length === 0;
      if (!ready) await sleep(250);
    }
    const before: Snapshot = snapshot(emu);

    // 2. the storm
    const faults = new Tally();
    /** Faults at whose end both daemons were still running. */
    const survived = new Tally();
    const events = new Tally();
    const active = new Map<string, { kind: FaultKind; settings: FaultSettings; until: number }>();
    const faultKey = (k: FaultKind) => `${k.face}:${k.kind}`;
    let inserted = 0;
    const randomLimits = () => ({
      [DL_QUEUE]: rng.pick(['20M', '100M', '500M', '940M']),
      [UL_QUEUE]: rng.pick(['5M', '20M', '38M']),
    });
    /**
     * A router restart: both faces drop every connection (what they carried is not run), the
     * state reboots (every id renumbered in print order, our max-limits back at the saved
     * configuration's), and the faces answer again after `downMs` (a face whose `refused` fault
     * is still on stays down until that fault ends).
     */
    const restart = async (maxLimits: Record<string, string>, downMs: number) => {
      await emu.faults.set('rest', { down: true });
      await emu.faults.set('ssh', { down: true });
      asTest(() => emu.state.reboot({ maxLimits }));
      await sleep(downMs);
      for (const face of ['rest', 'ssh'] as const)
        if (!active.has(`${face}:refused`)) await emu.faults.set(face, { down: false });
    };
    let exits = 0;
    const stormEnd = Date.now() + STORM_MS;
    while (Date.now() < stormEnd) {
      const now = Date.now();
      // end the faults whose time is up
      for (const [key, f] of active) {
        if (f.until <= now) {
          active.delete(key);
          await emu.faults.set(f.kind.face, clearing(f.settings));
          if (autorate.alive() && steering.alive()) survived.add(`${f.kind.face} ${f.kind.kind}`);
        }
      }
      const roll = rng.next();
      if (roll < 0.5) {
        // a fault on one face (never two of the same kind at once: their settings share keys)
        const free = FAULT_KINDS.filter(
          (k) =>
            !active.has(faultKey(k)) &&
            ![...active.values()].some(
              (a) =>
                a.kind.face === k.face && Object.keys(a.settings).some((x) => x in k.settings(new Rng(0))),
            ),
        );
        if (free.length > 0) {
          const k = rng.pick(free);
          const settings = k.settings(rng);
          await emu.faults.set(k.face, settings);
          faults.add(`${k.face} ${k.kind}`);
          active.set(faultKey(k), { kind: k, settings, until: now + rng.int(200, 4000) });
        }
      } else if (roll < 0.72) {
        // a router state event
        const ev = rng.pick(['restart', 'insert-queue', 'insert-rule', 'rule-toggled', 'max-limit-changed']);
        events.add(ev);
        if (ev === 'restart') await restart(randomLimits(), rng.int(100, 3000));
        else if (ev === 'insert-queue' || ev === 'insert-rule') {
          // another admin adds an object before ours (print order); its id is the next free one
          // until the router restarts, which renumbers: then the new object has our old id
          asTest(() => {
            if (ev === 'insert-queue') {
              const name = `storm-queue-${++inserted}`;
              emu.state.insert(TREE, {
                name,
                parent: 'global',
                queue: 'default',
                'max-limit': `${rng.int(1, 50)}M`,
              });
              before.set(...snapshotOf(emu, TREE, (i) => i['name'] === name));
            } else {
              const comment = `storm rule ${++inserted}`;
              emu.state.insert(MANGLE, {
                chain: 'prerouting',
                action: 'passthrough',
                comment,
                disabled: rng.chance(0.5) ? 'yes' : 'no',
              });
              before.set(...snapshotOf(emu, MANGLE, (i) => i['comment'] === comment));
            }
          });
          if (rng.chance(0.5)) {
            events.add('restart');
            await restart(randomLimits(), rng.int(100, 3000));
          }
        } else {
          // another admin changes our objects behind the daemons' backs
          asTest(() => {
            if (ev === 'rule-toggled') {
              const r = emu.state.find(MANGLE, (i) => i['comment'] === RULE_COMMENT)[0];
              if (r) emu.state.set(MANGLE, r['.id'], { disabled: r['disabled'] === 'true' ? 'no' : 'yes' });
            } else {
              emu.state.set(TREE, rng.pick([DL_QUEUE, UL_QUEUE]), { 'max-limit': `${rng.int(1, 900)}M` });
            }
          });
        }
      } else {
        // the load: RTT to the reflector, and CAKE drops with it when high
        const rtt = rng.pick([IDLE_RTT_MS, IDLE_RTT_MS, IDLE_RTT_MS + 10, 60, 100, 140, 240]);
        reflector.setDelay(rtt);
        model.congested = rtt >= 100;
        events.add(rtt >= 100 ? 'load: congested' : 'load: light');
      }
      if (!autorate.alive() || !steering.alive()) {
        exits++;
        break;
      }
      await sleep(rng.int(100, 800));
    }
    // 3. the faults end and the link goes idle; once the decisions have stopped changing (so that
    //    no new decision would write anyway), the last event: a router restart that resets our
    //    max-limits to its saved configuration (above any ceiling: always a difference), flips our
    //    rule against the decision and renumbers every id. Only a daemon that re-reads the router
    //    puts these back.
    reflector.setDelay(IDLE_RTT_MS);
    model.congested = false;
    await emu.faults.clear();
    for (const f of active.values())
      if (autorate.alive() && steering.alive()) survived.add(`${f.kind.face} ${f.kind.kind}`);
    active.clear();
    const quietBy = Date.now() + QUIET_MAX_MS;
    let last = '';
    let stableSince = Date.now();
    while (Date.now() < quietBy && Date.now() - stableSince < QUIET_MS) {
      const [qa, qs] = await Promise.all([readAutorate(), readSteering()]);
      const now = JSON.stringify([qa?.dl, qa?.ul, qs?.steeringEnabled]);
      if (now !== last || !qa || !qs) stableSince = Date.now();
      last = now;
      await sleep(200);
    }
    const quietNote =
      Date.now() - stableSince >= QUIET_MS
        ? `decisions unchanged for ${QUIET_MS} ms: ${last}`
        : `decisions still changing after ${QUIET_MAX_MS} ms: ${last}`;
    note(quietNote);
    await restart({ [DL_QUEUE]: '940M', [UL_QUEUE]: '38M' }, 500);
    asTest(() => {
      const r = emu.state.find(MANGLE, (i) => i['comment'] === RULE_COMMENT)[0];
      if (r) emu.state.set(MANGLE, r['.id'], { disabled: r['disabled'] === 'true' ? 'no' : 'yes' });
    });
    events.add('restart');
    events.add('rule-toggled');
    const clearedAt = Date.now();

    // 4. settle (bounded): poll until the router is in step with the decisions and both are 200
    let a: AutorateView | null = null;
    let s: SteeringView | null = null;
    let diff: string[] = ['not polled'];
    while (Date.now() - clearedAt < SETTLE_MS) {
      [a, s] = await Promise.all([readAutorate(), readSteering()]);
      diff = mismatches(a, s);
      if (diff.length === 0 && a?.status === 200 && s?.status === 200) break;
      await sleep(250);
    }
    const settledMs = Date.now() - clearedAt;
    const after = snapshot(emu);
    const changed = diffSnapshots(before, after);

    const faultRows = faults.entries().map(([k, n]) => [k, n, survived.get(k)]);
    const report = [
      `seed ${SEED}, storm ${STORM_MS / 1000} s, settled in ${settledMs} ms (bound ${SETTLE_MS} ms)`,
      `before the last restart: ${quietNote} ([download bps, upload bps, steering_enabled])`,
      table(['fault (face kind)', 'injected', 'survived'], faultRows),
      table(['router/load event', 'count'], events.entries()),
      table(
        ['result', 'value'],
        [
          ['faults injected', faults.total()],
          ['router events', events.total() - events.total('load')],
          ['writes lost (router != decision at the end)', diff.length],
          ['autorate writes ok / failed (its /health)', a ? `${a.writesOk} / ${a.writesFailed}` : '?'],
          ['steering rule corrections (its /health)', s?.corrections ?? '?'],
          ['unrelated objects changed', changed.length],
          ['writes to objects/fields not owned', foreignWrites.length],
          ['autorate /health', a?.status ?? 'no answer'],
          ['steering /health', s?.status ?? 'no answer'],
          ['daemon exits', exits + (autorate.alive() ? 0 : 1) + (steering.alive() ? 0 : 1)],
        ],
      ),
    ].join('\n\n');
    note(`\n${report}`);
    const why = `${report}\n\n${diff.join('\n')}\n${changed.join('\n')}\n${foreignWrites.join('\n')}\n${detail()}`;

    expect(autorate.alive(), `wanctl-autorate exited\n${why}`).toBe(true);
    expect(steering.alive(), `wanctl-steering exited\n${why}`).toBe(true);
    expect(faults.total(), 'the storm injected faults').toBeGreaterThan(STORM_MS / 6000);
    expect(
      diff.filter((d) => d.includes('steering') || d.includes('rule')),
      `steering: the rule not in the decided state after ${SETTLE_MS} ms\n${why}`,
    ).toEqual([]);
    expect(
      diff.filter((d) => d.includes('autorate') || d.includes('max-limit')),
      `autorate: queues not at the decided rates after ${SETTLE_MS} ms\n${why}`,
    ).toEqual([]);
    expect(a?.status, `autorate /health\n${why}`).toBe(200);
    expect(s?.status, `steering /health\n${why}`).toBe(200);
    expect(changed, `objects the daemons do not own changed\n${why}`).toEqual([]);
    expect(foreignWrites, `writes to objects or fields the daemons do not own\n${why}`).toEqual([]);
  }, 240_000);
});

/** One object's snapshot entry (for objects the storm adds). */
function snapshotOf(
  emu: Emulator,
  menu: string,
  match: (i: Record<string, string>) => boolean,
): [string, Record<string, string>] {
  const all = snapshot(emu);
  const item = (emu.state.list(menu) as Array<Record<string, string>>).find(match);
  if (!item) throw new Error(`inserted object not found in ${menu}`);
  const key = objectKey(menu, item);
  return [key, all.get(key) as Record<string, string>];
}
