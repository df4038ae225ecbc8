/**
 * The alternate WAN, where steering sends latency-sensitive traffic (a call, a game) while the
 * primary is congested: a second link with its own modest capacity and base RTT, carrying its own
 * steady background traffic. A latency-sensitive packet on it waits for the packet in service and
 * for the background queue (M/D/1 mean wait, both directions) - small while the link is not full.
 * Deterministic: no randomness, no time steps; what it answers depends only on its options and the
 * latency-sensitive rate put on it.
 */
import { LinkSimConfigError, requireFinite, requirePositive } from './errors.js';

export interface AlternateWanOptions {
  /** Capacity, bps. */
  downBps: number;
  upBps: number;
  /** Round-trip time of the empty path, ms. */
  baseRttMs: number;
  /** Share of the capacity its own background traffic uses (0 .. 0.95). Default 0.3. */
  backgroundUtilisation?: number;
  /** Packet size, bytes. Default 1500. */
  packetBytes?: number;
}

export class AlternateWan {
  readonly downBps: number;
  readonly upBps: number;
  readonly baseRttMs: number;
  readonly backgroundUtilisation: number;
  readonly packetBytes: number;

  constructor(o: AlternateWanOptions) {
    this.downBps = requirePositive('alternate.downBps', o.downBps);
    this.upBps = requirePositive('alternate.upBps', o.upBps);
    this.baseRttMs = requirePositive('alternate.baseRttMs', o.baseRttMs);
    this.backgroundUtilisation = requireFinite(
      'alternate.backgroundUtilisation',
      o.backgroundUtilisation ?? 0.3,
      0,
    );
    if (this.backgroundUtilisation > 0.95)
      throw new LinkSimConfigError('alternate.backgroundUtilisation', 'expected 0 .. 0.95');
    this.packetBytes = requirePositive('alternate.packetBytes', o.packetBytes ?? 1500);
  }

  /** Mean wait plus serialisation of one packet in a direction, seconds. */
  private delayS(capacityBps: number, steeredBps: number): number {
    const service = (this.packetBytes * 8) / capacityBps;
    const rho = Math.min(0.99, this.backgroundUtilisation + Math.max(0, steeredBps) / capacityBps);
    return service + (rho / (2 * (1 - rho))) * service;
  }

  /**
   * RTT a latency-sensitive packet sees on the alternate WAN, ms, with `steered` bps of
   * latency-sensitive traffic moved onto it (default none).
   */
  rttMs(steered: { down?: number; up?: number } = {}): number {
    return (
      this.baseRttMs +
      1000 * (this.delayS(this.downBps, steered.down ?? 0) + this.delayS(this.upBps, steered.up ?? 0))
    );
  }
}
