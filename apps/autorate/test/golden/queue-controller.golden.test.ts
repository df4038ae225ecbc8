/**
 * Golden replay: queue_controller_<profile>.json — the download 4-state and upload 3-state
 * machines and rate bounds, every cycle, every field, exact (===).
 * Generic over the header params: held-back profiles dropped beside these replay the same way.
 */
import { describe, expect, it } from 'vitest';
import { DownloadController, UploadController } from '../../src/control/index.js';
import { type GoldenFile, goldenFiles, loadGolden, paramsFromGoldenHeader } from './golden.js';

const files = goldenFiles('queue_controller_');

function uploadFloorsDiffer(g: GoldenFile): boolean {
  const u = g.header.params.upload;
  const red = u['floor_red_bps'];
  return (
    (u['floor_green_bps'] !== undefined && u['floor_green_bps'] !== red) ||
    (u['floor_yellow_bps'] !== undefined && u['floor_yellow_bps'] !== red)
  );
}

describe('golden queue_controller', () => {
  it('finds the public vectors', () => {
    expect(files).toContain('queue_controller_cable.json');
    expect(files).toContain('queue_controller_dsl.json');
  });

  for (const file of files) {
    const g = loadGolden(file);
    // docs/decisions.md#d5: v1.3 ignored upload floor_green/floor_yellow. When a profile sets them apart from
    // floor_red, parity is checked with v1.3's single floor and D5 is asserted separately below.
    const d5 = uploadFloorsDiffer(g);
    const params = paramsFromGoldenHeader(g.header, { uploadFloors: d5 ? 'v1.3' : 'given' });
    const t = params.thresholds;
    describe(file, () => {
      for (const sc of g.scenarios) {
        it(`${sc.name}: every cycle, every field`, () => {
          const dl = new DownloadController(params.download);
          const ul = new UploadController(params.upload);
          const init = sc.initial ?? {};
          if (typeof init['dl_rate_bps'] === 'number') dl.currentRateBps = init['dl_rate_bps'];
          if (typeof init['ul_rate_bps'] === 'number') ul.currentRateBps = init['ul_rate_bps'];
          expect(sc.cycles.length).toBeGreaterThan(0);
          for (const c of sc.cycles) {
            const b = c['baseline_rtt_ms'] as number;
            const l = c['load_rtt_ms'] as number;
            const dz = dl.adjust(b, l, t.targetBloatMs, t.warnBloatMs, t.hardRedBloatMs, false);
            const uz = ul.adjust(b, l, t.targetBloatMs, t.warnBloatMs);
            const got = {
              i: c['i'],
              baseline_rtt_ms: b,
              load_rtt_ms: l,
              dl_zone: dz,
              dl_rate_bps: dl.currentRateBps,
              dl_green_streak: dl.greenStreak,
              dl_soft_red_streak: dl.softRedStreak,
              dl_red_streak: dl.redStreak,
              ul_zone: uz,
              ul_rate_bps: ul.currentRateBps,
              ul_green_streak: ul.greenStreak,
              ul_soft_red_streak: ul.softRedStreak,
              ul_red_streak: ul.redStreak,
            };
            expect(got, `${file} ${sc.name} i=${String(c['i'])}`).toStrictEqual(c);
          }
        });
      }
      if (d5) {
        it('docs/decisions.md#d5: upload per-state floors are honoured (v1.3 ignored them)', () => {
          const p5 = paramsFromGoldenHeader(g.header, { uploadFloors: 'given' });
          for (const sc of g.scenarios) {
            const ul = new UploadController(p5.upload);
            for (const c of sc.cycles) {
              const z = ul.adjust(
                c['baseline_rtt_ms'] as number,
                c['load_rtt_ms'] as number,
                t.targetBloatMs,
                t.warnBloatMs,
              );
              const floor =
                z === 'RED'
                  ? p5.upload.floorRedBps
                  : z === 'YELLOW'
                    ? (p5.upload.floorYellowBps as number)
                    : (p5.upload.floorGreenBps as number);
              expect(ul.currentRateBps).toBeGreaterThanOrEqual(floor);
            }
          }
        });
      }
    });
  }
});
