/**
 * Every HTTP request wanctl v1.3's REST client sent (golden/rest_translation.json) is served by
 * the emulator with the answer shape v1.3 relied on: list GETs give arrays whose items[0]['.id']
 * is the id v1.3 cached; PATCH and POST reset-counters succeed and change the state.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture, type Emulator, startEmulator } from '../src/index.js';
import { rest } from './helpers.js';

const GOLDEN = process.env['WANCTL_GOLDEN_DIR'] ?? join(__dirname, '../../../fixtures/golden');
const FILE = join(GOLDEN, 'rest_translation.json');

interface Http {
  method: string;
  url: string;
  params?: Record<string, string>;
  json?: Record<string, string>;
}
interface Session {
  name: string;
  steps: { cmd: string; http: Http[] }[];
}

describe('v1.3 REST request shapes (golden/rest_translation.json)', () => {
  let emu: Emulator;
  // A missing file throws here: the suite fails instead of skipping.
  const golden = JSON.parse(readFileSync(FILE, 'utf8')) as { sessions: Session[] };
  const queues: Record<string, string> = {
    'WAN-Download-1': '*1A',
    'WAN-Upload-1': '*1B',
    'WAN-Download-Cable': '*2A',
    'WAN-Upload-Cable': '*2B',
  };
  const rules: Record<string, string> = {
    'ADAPTIVE: Steer latency-sensitive to WAN2': '*7',
    'enable-me': '*9',
  };

  beforeAll(async () => {
    const base = buildFixture();
    emu = await startEmulator({
      sshPort: false,
      restCommentQuery: 'exact',
      seed: {
        menus: {
          '/queue/type': base.menus?.['/queue/type'] ?? [],
          '/queue/tree': Object.entries(queues).map(([name, id]) => ({ '.id': id, name, parent: 'global' })),
          '/ip/firewall/mangle': Object.entries(rules).map(([comment, id]) => ({
            '.id': id,
            chain: 'prerouting',
            action: 'mark-routing',
            'new-routing-mark': 'to_WAN2',
            comment,
            disabled: 'yes',
          })),
        },
      },
    });
  });
  afterAll(async () => {
    await emu.stop();
  });

  it('replays every recorded request', async () => {
    let replayed = 0;
    for (const s of golden.sessions) {
      for (const step of s.steps) {
        for (const h of step.http) {
          const path = h.url.slice(h.url.indexOf('/rest') + 5);
          const qs = h.params && Object.keys(h.params).length ? `?${new URLSearchParams(h.params)}` : '';
          const r = await rest(emu, h.method, path + qs, h.json);
          const what = `${s.name}: ${h.method} ${path}${qs}`;
          expect(r.status, what).toBe(200);
          if (h.method === 'GET') {
            expect(Array.isArray(r.json), what).toBe(true);
            const items = r.json as Record<string, string>[];
            const want = h.params?.['name']
              ? queues[h.params['name']]
              : h.params?.['comment']
                ? rules[h.params['comment']]
                : undefined;
            if (h.params?.['name'] || h.params?.['comment']) {
              if (want) expect(items[0]?.['.id'], what).toBe(want);
              else expect(items, what).toEqual([]);
            }
            // the stats fields v1.3 converted with int() are present and numeric strings
            for (const it of items.filter(() => path.startsWith('/queue'))) {
              for (const k of ['bytes', 'packets', 'dropped', 'queued-packets', 'queued-bytes']) {
                expect(it[k], `${what} ${k}`).toMatch(/^\d+$/);
              }
            }
          }
          if (h.method === 'PATCH' && h.json) {
            expect(r.json, what).toMatchObject(
              Object.fromEntries(Object.entries(h.json).map(([k, v]) => [k, v])),
            );
          }
          replayed++;
        }
      }
    }
    expect(replayed).toBeGreaterThan(15);
  });
});
