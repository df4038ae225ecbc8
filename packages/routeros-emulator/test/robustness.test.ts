import { describe, expect, it } from 'vitest';
import {
  applyFixture,
  defaultFixture,
  newConsoleSession,
  RouterOsError,
  RouterState,
  runConsoleLine,
  startEmulator,
} from '../src/index.js';
import { rest } from './helpers.js';

/** Deterministic PRNG (mulberry32) so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = [
  '/',
  'queue',
  'tree',
  'ip',
  'firewall',
  'mangle',
  'system',
  'identity',
  'print',
  'set',
  'add',
  'remove',
  'enable',
  'disable',
  'reset-counters',
  'find',
  'where',
  '[',
  ']',
  '(',
  ')',
  ';',
  '"',
  '=',
  '~',
  '!',
  'and',
  'or',
  'name="WAN-Download-1"',
  'comment~"ADAPT"',
  'max-limit=',
  'max-limit=90M',
  'queue=cake-down-wan1',
  'disabled',
  'stats',
  'detail',
  'terse',
  'as-value',
  '0',
  '1',
  '*1000000',
  '..',
  'x',
  '\\',
  ',',
  '\t',
];

describe('robustness', () => {
  it('the console never throws on random input: every problem is RouterOS text', () => {
    const state = new RouterState();
    applyFixture(state, defaultFixture);
    const next = rng(42);
    let errors = 0;
    let quiet = 0;
    for (let i = 0; i < 5000; i++) {
      const n = 1 + Math.floor(next() * 10);
      const parts: string[] = [];
      for (let j = 0; j < n; j++) parts.push(TOKENS[Math.floor(next() * TOKENS.length)] as string);
      const line = parts.join(next() < 0.7 ? ' ' : '');
      const session = newConsoleSession({ name: 'admin', group: 'full' }, next() < 0.5 ? 'exec' : 'shell');
      let result: ReturnType<typeof runConsoleLine> | undefined;
      expect(() => {
        result = runConsoleLine(state, session, line);
      }, line).not.toThrow();
      for (const l of result?.lines ?? []) expect(typeof l).toBe('string');
      if (result?.lines.some((l) => / \(line 1 column \d+\)$/.test(l))) errors++;
      if (result?.lines.length === 0) quiet++;
    }
    // the generator exercises both the error paths and commands that ran
    expect(errors).toBeGreaterThan(1000);
    expect(quiet).toBeGreaterThan(50);
    // the state stays consistent: every queue still has a valid max-limit
    for (const q of state.list('/queue/tree')) expect(q['max-limit']).toMatch(/^\d+$/);
  });

  it('state writes with random values either apply or raise RouterOsError, never leave bad data', () => {
    const state = new RouterState();
    applyFixture(state, defaultFixture);
    const next = rng(7);
    const values = [
      '',
      '0',
      '-1',
      '90M',
      '1.5G',
      'yes',
      'no',
      'abc',
      '1/2',
      '99999999999999999999',
      ' ',
      '10s',
      'x=y',
    ];
    const props = [
      'max-limit',
      'limit-at',
      'queue',
      'priority',
      'disabled',
      'burst-time',
      'parent',
      'comment',
      'bytes',
    ];
    for (let i = 0; i < 2000; i++) {
      const p = props[Math.floor(next() * props.length)] as string;
      const v = values[Math.floor(next() * values.length)] as string;
      try {
        state.set('/queue/tree', 'WAN-Download-1', { [p]: v });
      } catch (e) {
        expect(e).toBeInstanceOf(RouterOsError);
      }
    }
    const q = state.get('/queue/tree', 'WAN-Download-1') ?? {};
    expect(q['max-limit']).toMatch(/^\d+$/);
    expect(['true', 'false']).toContain(q['disabled']);
    expect(state.get('/queue/type', q['queue'] as string)).toBeDefined();
  });

  it('the REST face answers odd requests with an envelope and keeps serving', async () => {
    const emu = await startEmulator({ sshPort: false });
    try {
      const odd: [string, string, unknown][] = [
        ['GET', '/', undefined],
        ['GET', '/rest', undefined],
        ['GET', '/rest/%E0%A4%A', undefined],
        ['POST', '/rest/queue/tree/set', '[1,2,3]'],
        ['POST', '/rest/queue/tree/set', { '.id': ['*1'], 'max-limit': { a: 1 } }],
        ['PATCH', '/rest/queue/tree/*1000000', { 'max-limit': null }],
        ['PUT', '/rest/system/identity', { name: 'x' }],
        ['DELETE', '/rest/queue/tree', undefined],
        ['OPTIONS', '/rest/queue/tree', undefined],
        ['GET', '/rest/queue/tree/a/b/c', undefined],
        ['POST', '/rest/queue/tree/print', { '.query': ['#?'] }],
      ];
      for (const [m, p, b] of odd) {
        const r = await rest(emu, m, p.replace(/^\/rest/, ''), b);
        expect(r.status, `${m} ${p}`).toBeGreaterThanOrEqual(200);
        if (r.status >= 400 && r.text)
          expect(r.json, `${m} ${p}: ${r.text}`).toHaveProperty('error', r.status);
      }
      // A 2 MiB upload is refused with a 413 envelope the client gets to read (a throw, e.g. a
      // reset before the answer, fails the test), and nothing is added.
      const before = emu.state.list('/queue/tree').length;
      const big = await fetch(`${emu.rest?.url}/queue/tree`, {
        method: 'PUT',
        headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` },
        body: 'x'.repeat(2 << 20),
      });
      expect(big.status).toBe(413);
      expect(await big.json()).toEqual({
        detail: 'request body too large',
        error: 413,
        message: 'Payload Too Large',
      });
      expect(emu.state.list('/queue/tree')).toHaveLength(before);
      expect((await rest(emu, 'GET', '/system/identity')).status).toBe(200);
    } finally {
      await emu.stop();
    }
  });
});
