/**
 * Maps a normalised autorate config (@wanctl/config) onto the control law's parameters.
 * Units are already normalised by the config package (bps, ms); this only renames and fills the
 * constants v1.3 hard-codes.
 */
import type { AutorateConfig } from '@wanctl/config';
import {
  CONTROL_DEFAULTS,
  type ControlParams,
  validateControlParams,
  validateWritePolicy,
  WRITE_POLICY_DEFAULTS,
  type WritePolicyParams,
} from './control/index.js';

/**
 * The control parameters for one WAN config. Upload per-state floors are passed only when the
 * config gave per-state floor keys (docs/decisions.md#d5); with the legacy `floor_mbps` the upload has its
 * single floor, as in v1.3. Throws `ControlParamsError` if the result is inconsistent.
 */
export function controlParamsFromConfig(cfg: AutorateConfig): ControlParams {
  const d = cfg.download;
  const u = cfg.upload;
  const t = cfg.thresholds;
  const perStateUpload = u.floorStyle === 'per-state';
  return validateControlParams({
    intervalSeconds: cfg.cycleIntervalMs / 1000,
    baselineRttInitialMs: cfg.baselineRttInitialMs,
    download: {
      ceilingBps: d.ceilingBps,
      stepUpBps: d.stepUpBps,
      factorDown: d.factorDown,
      factorDownYellow: d.factorDownYellow,
      greenRequired: d.greenRequired,
      softRedRequired: CONTROL_DEFAULTS.softRedRequired,
      floorGreenBps: d.floorGreenBps,
      floorYellowBps: d.floorYellowBps,
      floorSoftRedBps: d.floorSoftRedBps,
      floorRedBps: d.floorRedBps,
    },
    upload: {
      ceilingBps: u.ceilingBps,
      stepUpBps: u.stepUpBps,
      factorDown: u.factorDown,
      factorDownYellow: u.factorDownYellow,
      greenRequired: u.greenRequired,
      floorRedBps: u.floorRedBps,
      floorGreenBps: perStateUpload ? u.floorGreenBps : undefined,
      floorYellowBps: perStateUpload ? u.floorYellowBps : undefined,
    },
    thresholds: {
      targetBloatMs: t.targetBloatMs,
      warnBloatMs: t.warnBloatMs,
      hardRedBloatMs: t.hardRedBloatMs,
      alphaBaseline: t.alphaBaseline,
      alphaLoad: t.alphaLoad,
      baselineUpdateThresholdMs: t.baselineUpdateThresholdMs,
      accelThresholdMs: t.accelThresholdMs,
      accelConfirmCycles: t.accelConfirmCycles,
      baselineRttMinMs: t.baselineRttMinMs,
      baselineRttMaxMs: t.baselineRttMaxMs,
    },
    fallback: {
      enabled: cfg.fallback.enabled,
      // D11: without gateway_ip the daemon reports the gateway check as failed (not run).
      checkGateway: cfg.fallback.checkGateway,
      checkTcp: cfg.fallback.checkTcp,
      mode: cfg.fallback.mode,
      maxCycles: cfg.fallback.maxCycles,
    },
    writeBudget: { maxWrites: cfg.writeBudget.maxWrites, windowSeconds: cfg.writeBudget.windowSec },
    maxRttDeltaMs: CONTROL_DEFAULTS.maxRttDeltaMs,
  });
}

/**
 * The adaptive law's router write policy for one WAN config: `continuous_monitoring.write_policy`
 * (default 2 writes/s, bursts of 4, 1 % deadband) on RouterOS; every change at once (`unlimited`)
 * on linux-cake, where a write is a local `tc` call. Throws `ControlParamsError` if inconsistent.
 */
export function writePolicyFromConfig(cfg: AutorateConfig): WritePolicyParams {
  if (cfg.router.transport === 'linux-cake')
    return validateWritePolicy({ ...WRITE_POLICY_DEFAULTS, mode: 'unlimited' });
  const w = cfg.writePolicy;
  return validateWritePolicy({
    ...WRITE_POLICY_DEFAULTS,
    writesPerSecond: w.maxPerSecond,
    burst: w.burst,
    // An increase leaves one token for a decrease; a bucket of one has no room for that.
    reserveForDecrease: Math.min(WRITE_POLICY_DEFAULTS.reserveForDecrease, w.burst - 1),
    deadbandFraction: w.deadbandPercent / 100,
  });
}
