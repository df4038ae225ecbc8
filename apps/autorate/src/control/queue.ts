/**
 * Per-direction rate state machines (v1.3 `QueueController.adjust_4state` / `adjust`).
 * Both mutate their own fields in place and return the zone; the new rate is `currentRateBps`.
 */
import type { DownloadParams, UploadParams } from './params.js';
import { enforceRateBounds } from './rate.js';

export type Zone = 'GREEN' | 'YELLOW' | 'SOFT_RED' | 'RED';

export interface StreakState {
  greenStreak: number;
  softRedStreak: number;
  redStreak: number;
  currentRateBps: number;
}

/** Download: GREEN / YELLOW / SOFT_RED / RED with a floor per state. */
export class DownloadController implements StreakState {
  greenStreak = 0;
  softRedStreak = 0;
  redStreak = 0;
  currentRateBps: number;

  constructor(readonly p: DownloadParams) {
    this.currentRateBps = p.ceilingBps;
  }

  /**
   * One cycle. `d = load - baseline`; GREEN `d <= T`, YELLOW `T < d <= W`, SOFT_RED `W < d <= H`,
   * RED `d > H`. `forceRed` (docs/decisions.md#d4: confirmed spike) classifies the cycle as RED whatever d is.
   */
  adjust(
    baselineMs: number,
    loadMs: number,
    targetMs: number,
    warnMs: number,
    hardRedMs: number,
    forceRed: boolean,
  ): Zone {
    const p = this.p;
    const delta = loadMs - baselineMs;
    let zone: Zone;
    if (forceRed || delta > hardRedMs) {
      this.softRedStreak = 0;
      this.redStreak += 1;
      this.greenStreak = 0;
      zone = 'RED';
    } else if (delta > warnMs) {
      this.softRedStreak += 1;
      this.redStreak = 0;
      this.greenStreak = 0;
      zone = this.softRedStreak >= p.softRedRequired ? 'SOFT_RED' : 'YELLOW';
    } else if (delta > targetMs) {
      this.softRedStreak = 0;
      this.redStreak = 0;
      this.greenStreak = 0;
      zone = 'YELLOW';
    } else {
      this.softRedStreak = 0;
      this.redStreak = 0;
      this.greenStreak += 1;
      zone = 'GREEN';
    }

    const current = this.currentRateBps;
    let rate: number;
    let floor: number;
    if (this.redStreak >= 1) {
      rate = Math.trunc(current * p.factorDown);
      floor = p.floorRedBps;
    } else if (zone === 'SOFT_RED') {
      rate = current;
      floor = p.floorSoftRedBps;
    } else if (this.greenStreak >= p.greenRequired) {
      rate = current + p.stepUpBps;
      floor = p.floorGreenBps;
    } else if (zone === 'YELLOW') {
      rate = Math.trunc(current * p.factorDownYellow);
      floor = p.floorYellowBps;
    } else {
      rate = current;
      floor = p.floorGreenBps;
    }
    this.currentRateBps = enforceRateBounds(rate, floor, p.ceilingBps);
    return zone;
  }
}

/** Upload: GREEN / YELLOW / RED (RED above `warn`; `hard_red` is not used). */
export class UploadController implements StreakState {
  greenStreak = 0;
  /** Never touched by the 3-state machine (kept for the state file, as v1.3). */
  softRedStreak = 0;
  redStreak = 0;
  currentRateBps: number;
  private readonly floorGreen: number;
  private readonly floorYellow: number;

  constructor(readonly p: UploadParams) {
    this.currentRateBps = p.ceilingBps;
    // docs/decisions.md#d5: per-state floors honoured when given; v1.3 always clamped to floor_red.
    this.floorYellow = p.floorYellowBps ?? p.floorRedBps;
    this.floorGreen = p.floorGreenBps ?? this.floorYellow;
  }

  adjust(baselineMs: number, loadMs: number, targetMs: number, warnMs: number): Zone {
    const p = this.p;
    const delta = loadMs - baselineMs;
    let zone: Zone;
    if (delta > warnMs) {
      this.redStreak += 1;
      this.greenStreak = 0;
      zone = 'RED';
    } else if (delta > targetMs) {
      this.redStreak = 0;
      this.greenStreak = 0;
      zone = 'YELLOW';
    } else {
      this.greenStreak += 1;
      this.redStreak = 0;
      zone = 'GREEN';
    }
    const current = this.currentRateBps;
    let rate: number;
    let floor: number;
    if (this.redStreak >= 1) {
      rate = Math.trunc(current * p.factorDown);
      floor = p.floorRedBps;
    } else if (this.greenStreak >= p.greenRequired) {
      rate = current + p.stepUpBps;
      floor = this.floorGreen;
    } else if (zone === 'YELLOW') {
      rate = Math.trunc(current * p.factorDownYellow);
      floor = this.floorYellow;
    } else {
      rate = current;
      floor = this.floorGreen;
    }
    this.currentRateBps = enforceRateBounds(rate, floor, p.ceilingBps);
    return zone;
  }
}
