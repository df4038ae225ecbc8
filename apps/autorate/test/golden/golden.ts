/** Helpers shared by the golden replays: locating the vectors and mapping header params. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTROL_DEFAULTS, type ControlParams } from '../../src/control/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The golden vectors live in `fixtures/golden` in the repository
 * (apps/autorate/test/golden -> repo root is four levels up).
 * WANCTL_GOLDEN_DIR overrides (acceptance runs other profiles from elsewhere).
 */
export const GOLDEN_DIR =
  process.env['WANCTL_GOLDEN_DIR'] ?? path.resolve(here, '../../../../fixtures/golden');

export function goldenPath(file: string): string {
  return path.join(GOLDEN_DIR, file);
}

/** Golden files matching a prefix (so held-back profiles dropped in the folder replay too). */
export function goldenFiles(prefix: string): string[] {
  return readdirSync(GOLDEN_DIR)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.json'))
    .sort();
}

export function loadGolden<T = GoldenFile>(file: string): T {
  return JSON.parse(readFileSync(goldenPath(file), 'utf8')) as T;
}

export interface GoldenHeaderParams {
  cycle_interval_s?: number;
  baseline_rtt_initial_ms: number;
  download: Record<string, number>;
  upload: Record<string, number>;
  thresholds: Record<string, number>;
  fallback?: {
    enabled: boolean;
    check_gateway: boolean;
    check_tcp: boolean;
    mode: string;
    max_cycles: number;
  };
  rate_limiter?: { max_changes: number; window_seconds: number };
  [k: string]: unknown;
}

export interface GoldenFile {
  format_version: number;
  file: string;
  kind: string;
  header: { params: GoldenHeaderParams; [k: string]: unknown };
  scenarios: Array<{
    name: string;
    description?: string;
    overrides?: Record<string, unknown> | null;
    initial?: Record<string, unknown>;
    cycles: Array<Record<string, unknown>>;
  }>;
}

function req(o: Record<string, number>, key: string, where: string): number {
  const v = o[key];
  if (typeof v !== 'number') throw new Error(`golden header: ${where}.${key} missing`);
  return v;
}

/** Options that a golden header cannot express. */
export interface HeaderOptions {
  /** docs/decisions.md#d4 confirmation count (not in v1.3's params). */
  accelConfirmCycles?: number;
  /**
   * Upload per-state floors (docs/decisions.md#d5). 'given' maps the header's upload floor_green/yellow;
   * 'v1.3' omits them so that only floor_red applies, as v1.3 did.
   */
  uploadFloors?: 'given' | 'v1.3';
}

/** Builds ControlParams from a golden header's `params` (rates in bps, RTTs in ms). */
export function paramsFromGoldenHeader(
  header: { params: GoldenHeaderParams },
  opts: HeaderOptions = {},
): ControlParams {
  const h = header.params;
  const d = h.download;
  const u = h.upload;
  const t = h.thresholds;
  const fb = h.fallback;
  const rl = h.rate_limiter;
  const uploadFloors = opts.uploadFloors ?? 'given';
  return {
    intervalSeconds: h.cycle_interval_s ?? CONTROL_DEFAULTS.intervalSeconds,
    baselineRttInitialMs: h.baseline_rtt_initial_ms,
    download: {
      ceilingBps: req(d, 'ceiling_bps', 'download'),
      stepUpBps: req(d, 'step_up_bps', 'download'),
      factorDown: req(d, 'factor_down', 'download'),
      factorDownYellow: d['factor_down_yellow'] ?? CONTROL_DEFAULTS.downloadFactorDownYellow,
      greenRequired: d['green_required'] ?? CONTROL_DEFAULTS.greenRequired,
      softRedRequired: d['soft_red_required'] ?? CONTROL_DEFAULTS.softRedRequired,
      floorGreenBps: req(d, 'floor_green_bps', 'download'),
      floorYellowBps: req(d, 'floor_yellow_bps', 'download'),
      floorSoftRedBps: req(d, 'floor_soft_red_bps', 'download'),
      floorRedBps: req(d, 'floor_red_bps', 'download'),
    },
    upload: {
      ceilingBps: req(u, 'ceiling_bps', 'upload'),
      stepUpBps: req(u, 'step_up_bps', 'upload'),
      factorDown: req(u, 'factor_down', 'upload'),
      factorDownYellow: u['factor_down_yellow'] ?? CONTROL_DEFAULTS.uploadFactorDownYellow,
      greenRequired: u['green_required'] ?? CONTROL_DEFAULTS.greenRequired,
      floorRedBps: req(u, 'floor_red_bps', 'upload'),
      floorGreenBps: uploadFloors === 'given' ? u['floor_green_bps'] : undefined,
      floorYellowBps: uploadFloors === 'given' ? u['floor_yellow_bps'] : undefined,
    },
    thresholds: {
      targetBloatMs: req(t, 'target_bloat_ms', 'thresholds'),
      warnBloatMs: req(t, 'warn_bloat_ms', 'thresholds'),
      hardRedBloatMs: t['hard_red_bloat_ms'] ?? CONTROL_DEFAULTS.hardRedBloatMs,
      alphaBaseline: req(t, 'alpha_baseline', 'thresholds'),
      alphaLoad: req(t, 'alpha_load', 'thresholds'),
      baselineUpdateThresholdMs:
        t['baseline_update_threshold_ms'] ?? CONTROL_DEFAULTS.baselineUpdateThresholdMs,
      accelThresholdMs: t['accel_threshold_ms'] ?? CONTROL_DEFAULTS.accelThresholdMs,
      accelConfirmCycles: opts.accelConfirmCycles ?? CONTROL_DEFAULTS.accelConfirmCycles,
      baselineRttMinMs: t['baseline_rtt_min_ms'] ?? CONTROL_DEFAULTS.baselineRttMinMs,
      baselineRttMaxMs: t['baseline_rtt_max_ms'] ?? CONTROL_DEFAULTS.baselineRttMaxMs,
    },
    fallback: {
      enabled: fb?.enabled ?? true,
      checkGateway: fb?.check_gateway ?? true,
      checkTcp: fb?.check_tcp ?? true,
      mode: fb?.mode ?? CONTROL_DEFAULTS.fallbackMode,
      maxCycles: fb?.max_cycles ?? CONTROL_DEFAULTS.maxFallbackCycles,
    },
    writeBudget: {
      maxWrites: rl?.max_changes ?? CONTROL_DEFAULTS.maxWrites,
      windowSeconds: rl?.window_seconds ?? CONTROL_DEFAULTS.windowSeconds,
    },
    maxRttDeltaMs: CONTROL_DEFAULTS.maxRttDeltaMs,
  };
}

/**
 * Applies a wan_controller scenario's `overrides` (v1.3 Config attribute names) to params.
 * Unknown override names throw, so a new held-back scenario cannot be silently mis-replayed.
 */
export function applyOverrides(
  p: ControlParams,
  overrides: Record<string, unknown> | null | undefined,
): ControlParams {
  if (!overrides) return p;
  const q: ControlParams = {
    ...p,
    download: { ...p.download },
    upload: { ...p.upload },
    thresholds: { ...p.thresholds },
    fallback: { ...p.fallback },
    writeBudget: { ...p.writeBudget },
  };
  for (const [k, v] of Object.entries(overrides)) {
    switch (k) {
      case 'fallback_mode':
        q.fallback.mode = v as string;
        break;
      case 'fallback_enabled':
        q.fallback.enabled = v as boolean;
        break;
      case 'fallback_check_gateway':
        q.fallback.checkGateway = v as boolean;
        break;
      case 'fallback_check_tcp':
        q.fallback.checkTcp = v as boolean;
        break;
      case 'fallback_max_cycles':
        q.fallback.maxCycles = v as number;
        break;
      case 'accel_threshold_ms':
        q.thresholds.accelThresholdMs = v as number;
        break;
      case 'baseline_rtt_min':
        q.thresholds.baselineRttMinMs = v as number;
        break;
      case 'baseline_rtt_max':
        q.thresholds.baselineRttMaxMs = v as number;
        break;
      case 'baseline_update_threshold':
        q.thresholds.baselineUpdateThresholdMs = v as number;
        break;
      default:
        throw new Error(`golden scenario override not understood: ${k}`);
    }
  }
  return q;
}
