/**
 * What a WAN writes to its state file: v1.3's snapshot (with the adaptive law's rates when it
 * decides), a local timestamp, and the `congestion` report steering reads (docs/decisions.md#d14);
 * plus the change key that tells the state store when the file is worth writing. Split out of
 * wan-runner.ts; the change key is computed every cycle and allocates only when a part changed.
 */

import {
  type AdaptiveController,
  type ControllerSnapshot,
  type ControlParams,
  lowestDownloadFloorBps,
  lowestUploadFloorBps,
  type WanController,
} from '../control/index.js';
import { r2 } from './round.js';
import type { HeldRates } from './router-sync.js';

/** One direction of the `congestion` report in the state file (docs/decisions.md#d14). */
export interface DirectionCongestionReport {
  zone: string | null;
  /** The rate is at (or under) the lowest configured floor. */
  at_floor: boolean;
  /**
   * The rate is under the lowest floor: the adaptive law cut it to what the link delivered, less
   * than the floor (docs/decisions.md#d16). Congestion for steering, whatever the RTT now.
   */
  below_floor: boolean;
  rtt_delta_ms: number;
  /** How long the direction has been RED without a break (s; 0 when not RED). */
  red_for_sec: number;
}

/** The state file's `congestion` key: what steering reads besides the baseline. */
export interface CongestionReport {
  /** UTC ISO time of the values. */
  at: string;
  download: DirectionCongestionReport;
  upload: DirectionCongestionReport;
}

/** The state file body: v1.3's keys, its timestamp, and the congestion report. */
export type StateBody = ControllerSnapshot & { timestamp: string; congestion: CongestionReport };

/** The last zones of a WAN (null before its first measured cycle). */
export interface Zones {
  dl: string | null;
  ul: string | null;
}

/** The controller's snapshot; with the adaptive law its rates (same v1.3 keys). */
export function lawSnapshot(
  controller: WanController,
  adaptive: AdaptiveController | null,
  law: { heldRates(): HeldRates },
): ControllerSnapshot {
  const s = controller.snapshot();
  if (!adaptive) return s;
  const r = adaptive.rates;
  const h = law.heldRates();
  return {
    ...s,
    download: { ...s.download, current_rate: r.dlBps },
    upload: { ...s.upload, current_rate: r.ulBps },
    last_applied: { dl_rate: h.dlBps, ul_rate: h.ulBps },
  };
}

/**
 * The state file body now: v1.3's keys unchanged, plus `congestion` (docs/decisions.md#d14), what
 * wanctl-steering needs to tell congestion the shaper cannot fix: per direction the zone (null
 * before the first cycle), whether the rate sits at its lowest floor, the RTT delta (load -
 * baseline EWMA, ms) and how long it has been RED; `at` is the wall-clock time (UTC ISO) the values
 * are from. `floors` is floorBits() of the same moment.
 */
export function stateBody(
  snap: ControllerSnapshot,
  zones: Zones,
  floors: number,
  intervalSeconds: number,
): StateBody {
  const now = new Date();
  const delta = r2(Math.max(0, snap.ewma.load_rtt - snap.ewma.baseline_rtt));
  return {
    ...stateFileBody(snap, now),
    congestion: {
      at: now.toISOString(),
      download: {
        zone: zones.dl,
        at_floor: (floors & 1) !== 0,
        below_floor: (floors & 4) !== 0,
        rtt_delta_ms: delta,
        red_for_sec: r2(snap.download.red_streak * intervalSeconds),
      },
      upload: {
        zone: zones.ul,
        at_floor: (floors & 2) !== 0,
        below_floor: (floors & 8) !== 0,
        rtt_delta_ms: delta,
        red_for_sec: r2(snap.upload.red_streak * intervalSeconds),
      },
    },
  };
}

/**
 * Whether each direction's rate sits at (or under) its lowest configured floor, and under it, as
 * bits (1: download at its floor, 2: upload at its floor, 4: download under it, 8: upload under
 * it), without allocating (the per-cycle path).
 */
export function floorBits(p: ControlParams, rates: { dlBps: number; ulBps: number }): number {
  const dlFloor = lowestDownloadFloorBps(p.download);
  const ulFloor = lowestUploadFloorBps(p.upload);
  return (
    (rates.dlBps <= dlFloor ? 1 : 0) |
    (rates.ulBps <= ulFloor ? 2 : 0) |
    (rates.dlBps < dlFloor ? 4 : 0) |
    (rates.ulBps < ulFloor ? 8 : 0)
  );
}

/**
 * The state file's change key: `dl|ul|applied dl|applied ul|baseline (0.1 ms)` of the controller's
 * snapshot, without building a snapshot; the string is rebuilt only when one of its parts changed
 * (not load RTT, not streaks). Then the zones and floor flags, and a seconds counter while the WAN
 * is not calm (D14).
 */
export class StateChangeKey {
  private keyDl = Number.NaN;
  private keyUl = Number.NaN;
  private keyLastDl: number | null = Number.NaN;
  private keyLastUl: number | null = Number.NaN;
  private keyBaseline = Number.NaN;
  private key = '';
  // the D14 part of the change key: rebuilt only when zones, floor flags or the second change
  private fullKey = '';
  private fullKeyBase = '';
  private fullKeyZoneDl: string | null = null;
  private fullKeyZoneUl: string | null = null;
  private fullKeyFloors = -1;
  private fullKeySecond = -1;

  /** The key now; `floors` is floorBits() of `rates`; `now` (monotonic ms) is read only while not calm. */
  compute(
    rates: { dlBps: number; ulBps: number },
    ra: HeldRates,
    b: number,
    z: Zones,
    floors: number,
    now: () => number,
  ): string {
    if (
      rates.dlBps !== this.keyDl ||
      rates.ulBps !== this.keyUl ||
      ra.dlBps !== this.keyLastDl ||
      ra.ulBps !== this.keyLastUl ||
      b !== this.keyBaseline
    ) {
      this.keyDl = rates.dlBps;
      this.keyUl = rates.ulBps;
      this.keyLastDl = ra.dlBps;
      this.keyLastUl = ra.ulBps;
      this.keyBaseline = b;
      this.key = `${rates.dlBps}|${rates.ulBps}|${ra.dlBps}|${ra.ulBps}|${b.toFixed(1)}`;
    }
    // docs/decisions.md#d14: a zone or floor change is written, and while a direction is not
    // GREEN or sits at its floor the file is refreshed every second (steering treats a
    // congestion report older than a few seconds as unknown); an idle GREEN WAN stays quiet.
    const calm = (z.dl === null || z.dl === 'GREEN') && (z.ul === null || z.ul === 'GREEN') && floors === 0;
    const second = calm ? -1 : Math.floor(now() / 1000);
    if (
      this.key !== this.fullKeyBase ||
      z.dl !== this.fullKeyZoneDl ||
      z.ul !== this.fullKeyZoneUl ||
      floors !== this.fullKeyFloors ||
      second !== this.fullKeySecond
    ) {
      this.fullKeyBase = this.key;
      this.fullKeyZoneDl = z.dl;
      this.fullKeyZoneUl = z.ul;
      this.fullKeyFloors = floors;
      this.fullKeySecond = second;
      this.fullKey = `${this.key}|${z.dl}|${z.ul}|${floors}${second < 0 ? '' : `|${second}`}`;
    }
    return this.fullKey;
  }
}

/** The v1.3 state file content: the controller's snapshot plus a local naive ISO timestamp. */
function stateFileBody(s: ControllerSnapshot, date = new Date()): ControllerSnapshot & { timestamp: string } {
  return { ...s, timestamp: localIsoTimestamp(date) };
}

/** `2026-01-21T09:46:43.123000` (local time, no zone, microseconds as v1.3's isoformat()). */
function localIsoTimestamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:` +
    `${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}000`
  );
}
