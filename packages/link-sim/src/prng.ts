/**
 * Seeded pseudo-random numbers (mulberry32). Deterministic across platforms: the same seed
 * always yields the same sequence, which is what makes every simulation run repeatable.
 */
export class Prng {
  private state: number;
  private spareNormal = Number.NaN;

  constructor(seed: number) {
    // Mix the seed so that small consecutive seeds do not give correlated first draws.
    this.state = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal (Box-Muller, the second value is cached). */
  normal(): number {
    if (!Number.isNaN(this.spareNormal)) {
      const v = this.spareNormal;
      this.spareNormal = Number.NaN;
      return v;
    }
    let u = this.next();
    while (u <= Number.MIN_VALUE) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Exponentially distributed with the given mean. */
  exponential(mean: number): number {
    let u = this.next();
    while (u <= Number.MIN_VALUE) u = this.next();
    return -Math.log(u) * mean;
  }
}
