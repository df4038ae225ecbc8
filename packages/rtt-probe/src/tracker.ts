/** Per-reflector bookkeeping shared by the probes (internal). */
import type { ProbeEvent, ReflectorHealth, RoundSamples, RttSample } from './types.js';

const WINDOW = 64;

interface Slot {
  /** newest reply not yet returned by latest() */
  newest: RttSample | null;
  /** newest reply, returned or not */
  last: RttSample | null;
  lastReplyAt: number | null;
  lastRttMs: number | null;
  lastSeq: number;
  replies: number;
  /** ring of outcomes: 1 = lost, 0 = replied */
  outcomes: Uint8Array;
  outcomeNext: number;
  outcomeCount: number;
  alive: boolean;
  /** Since when a reflector without any reply counts as silent (start, or its replacement). */
  since: number;
}

export interface TrackerOptions {
  now: () => number;
  deadAfterMs: number;
  /** Expected spacing of probes per reflector, for counting silence as loss. */
  periodMs: number;
  timeoutMs: number;
  /** Count silence past the timeout as loss (fping 5.1 prints nothing for a lost probe). */
  countSilence: boolean;
  onEvent?: (e: ProbeEvent) => void;
}

type Waiter = { resolve: (v: number | null) => void; timer: NodeJS.Timeout };

function newSlot(since: number): Slot {
  return {
    newest: null,
    last: null,
    lastReplyAt: null,
    lastRttMs: null,
    lastSeq: -1,
    replies: 0,
    outcomes: new Uint8Array(WINDOW),
    outcomeNext: 0,
    outcomeCount: 0,
    alive: true,
    since,
  };
}

export class ReflectorTracker {
  private readonly names: string[];
  private readonly slots: Slot[];
  private readonly index = new Map<string, number>();
  private waiters: Waiter[] = [];

  constructor(
    reflectors: readonly string[],
    private readonly opts: TrackerOptions,
  ) {
    this.names = [...reflectors];
    const now = opts.now();
    this.slots = reflectors.map(() => newSlot(now));
    reflectors.forEach((r, i) => {
      this.index.set(r, i);
    });
  }

  /** The reflectors, in slot order (a replacement changes one in place). */
  get reflectors(): readonly string[] {
    return this.names;
  }

  indexOf(reflector: string): number | undefined {
    return this.index.get(reflector);
  }

  reset(): void {
    const now = this.opts.now();
    for (const s of this.slots) s.since = now;
    this.resetSequences();
  }

  /**
   * Slot `i` now holds `reflector` (a replacement): its replies, loss window, sequence numbers
   * and silence start afresh (silent from now), and a reply not yet taken by latest() is dropped.
   */
  replace(i: number, reflector: string): void {
    const old = this.names[i];
    if (old === undefined) return;
    this.index.delete(old);
    this.names[i] = reflector;
    this.index.set(reflector, i);
    this.slots[i] = newSlot(this.opts.now());
  }

  /** A new prober instance starts counting at 0 again (fping child restarted). */
  resetSequences(): void {
    for (const s of this.slots) {
      s.lastSeq = -1;
    }
  }

  private outcome(s: Slot, lost: 0 | 1): void {
    s.outcomes[s.outcomeNext] = lost;
    s.outcomeNext = (s.outcomeNext + 1) % WINDOW;
    if (s.outcomeCount < WINDOW) s.outcomeCount++;
  }

  /** A reply arrived. `gapLost`: probes known lost before it (sequence gap). */
  reply(i: number, rttMs: number, seq: number, at: number): void {
    const s = this.slots[i];
    if (!s) return;
    if (s.lastSeq >= 0 && seq > s.lastSeq + 1) {
      const gap = Math.min(seq - s.lastSeq - 1, WINDOW);
      for (let k = 0; k < gap; k++) this.outcome(s, 1);
    }
    if (seq > s.lastSeq) s.lastSeq = seq;
    this.outcome(s, 0);
    s.replies++;
    s.lastReplyAt = at;
    s.lastRttMs = rttMs;
    s.newest = { reflector: this.names[i] as string, rttMs, seq, at };
    s.last = s.newest;
    if (!s.alive) {
      s.alive = true;
      this.opts.onEvent?.({ kind: 'reflector-up', reflector: this.names[i] as string });
    }
    if (this.waiters.length > 0) {
      const ws = this.waiters;
      this.waiters = [];
      for (const w of ws) {
        clearTimeout(w.timer);
        w.resolve(rttMs);
      }
    }
  }

  /** A probe is known lost (UDP timeout). */
  lost(i: number, seq: number): void {
    const s = this.slots[i];
    if (!s) return;
    if (seq > s.lastSeq) s.lastSeq = seq;
    this.outcome(s, 1);
  }

  latest(): RoundSamples {
    const at = this.opts.now();
    this.checkDead(at);
    const samples: RttSample[] = [];
    for (const s of this.slots) {
      if (s.newest !== null) {
        samples.push(s.newest);
        s.newest = null;
      }
    }
    return { at, samples };
  }

  /** Detect reflectors silent for longer than deadAfterMs. */
  checkDead(now = this.opts.now()): void {
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i] as Slot;
      if (!s.alive) continue;
      const silent = now - (s.lastReplyAt ?? s.since);
      if (silent > this.opts.deadAfterMs) {
        s.alive = false;
        this.opts.onEvent?.({
          kind: 'reflector-down',
          reflector: this.names[i] as string,
          silentMs: silent,
        });
      }
    }
  }

  /** Newest reply per reflector received within `maxAgeMs`, whether or not returned before. */
  fresh(maxAgeMs: number): RoundSamples {
    const at = this.opts.now();
    const samples: RttSample[] = [];
    for (const s of this.slots) {
      if (s.last !== null && at - s.last.at <= maxAgeMs) samples.push(s.last);
    }
    return { at, samples };
  }

  health(): ReflectorHealth[] {
    const now = this.opts.now();
    this.checkDead(now);
    return this.slots.map((s, i) => {
      let lost = 0;
      for (let k = 0; k < s.outcomeCount; k++) lost += s.outcomes[k] as number;
      let total = s.outcomeCount;
      // silence after the last reply counts as loss once past the timeout
      const since = s.lastReplyAt ?? s.since;
      const silentLost = this.opts.countSilence
        ? Math.max(0, Math.floor((now - since - this.opts.timeoutMs) / this.opts.periodMs))
        : 0;
      if (silentLost > 0) {
        const extra = Math.min(silentLost, WINDOW);
        lost = Math.min(WINDOW, lost + extra);
        total = Math.min(WINDOW, total + extra);
      }
      return {
        reflector: this.names[i] as string,
        lastReplyAgeMs: s.lastReplyAt === null ? null : now - s.lastReplyAt,
        lastRttMs: s.lastRttMs,
        lossPct: total === 0 ? 0 : Math.round((lost / total) * 1000) / 10,
        replies: s.replies,
        alive: s.alive,
      };
    });
  }

  /** Resolve with the next reply's RTT, or null after timeoutMs. */
  nextReply(timeoutMs: number): Promise<number | null> {
    return new Promise((resolve) => {
      const w: Waiter = {
        resolve,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          resolve(null);
        }, timeoutMs),
      };
      this.waiters.push(w);
    });
  }

  /** Someone waits in nextReply(). */
  hasWaiters(): boolean {
    return this.waiters.length > 0;
  }

  cancelWaiters(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) {
      clearTimeout(w.timer);
      w.resolve(null);
    }
  }
}
