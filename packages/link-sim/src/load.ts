import { LinkSimConfigError, requireFinite } from './errors.js';

/** One period of offered load: how many greedy flows run in each direction, for how long. */
export interface LoadPhase {
  /** Length in seconds; `Infinity` for a phase that never ends. */
  readonly durationS: number;
  /** Greedy download flows (server to home). 0 = idle. */
  readonly downFlows: number;
  /** Greedy upload flows (home to server). 0 = idle. */
  readonly upFlows: number;
}

/** A sequence of load phases, optionally repeated forever. */
export interface LoadSchedule {
  readonly phases: readonly LoadPhase[];
  /** Start over after the last phase (otherwise the last phase holds). */
  readonly repeat: boolean;
}

export function loadSchedule(phases: readonly LoadPhase[], opts: { repeat?: boolean } = {}): LoadSchedule {
  if (phases.length === 0) throw new LinkSimConfigError('load.phases', 'at least one phase is needed');
  let total = 0;
  phases.forEach((p, i) => {
    if (!(p.durationS > 0)) {
      throw new LinkSimConfigError(`load.phases[${i}].durationS`, `expected > 0, got ${p.durationS}`);
    }
    for (const k of ['downFlows', 'upFlows'] as const) {
      const v = requireFinite(`load.phases[${i}].${k}`, p[k], 0);
      if (!Number.isInteger(v) || v > 256) {
        throw new LinkSimConfigError(`load.phases[${i}].${k}`, `expected an integer 0..256, got ${v}`);
      }
    }
    total += p.durationS;
  });
  const repeat = opts.repeat ?? false;
  if (repeat && !Number.isFinite(total)) {
    throw new LinkSimConfigError('load.repeat', 'a repeating schedule needs finite phases');
  }
  return { phases: phases.slice(), repeat };
}

/** Greedy flows that never stop. */
export function constantLoad(downFlows: number, upFlows: number): LoadSchedule {
  return loadSchedule([{ durationS: Number.POSITIVE_INFINITY, downFlows, upFlows }]);
}

/** Alternating busy and idle periods, repeated forever. */
export function onOffLoad(opts: {
  onS: number;
  offS: number;
  downFlows: number;
  upFlows: number;
  /** Start with the idle period. Default false (start busy). */
  startIdle?: boolean;
}): LoadSchedule {
  const on: LoadPhase = { durationS: opts.onS, downFlows: opts.downFlows, upFlows: opts.upFlows };
  const off: LoadPhase = { durationS: opts.offS, downFlows: 0, upFlows: 0 };
  return loadSchedule(opts.startIdle ? [off, on] : [on, off], { repeat: true });
}

/** Tracks the active phase as time moves forward (allocation-free). */
export class LoadCursor {
  private index = 0;
  private phaseStart = 0;
  private readonly cycle: number;

  constructor(private readonly schedule: LoadSchedule) {
    this.cycle = schedule.phases.reduce((s, p) => s + p.durationS, 0);
  }

  /** Largest flow count the schedule ever asks for in a direction. */
  maxFlows(dir: 'down' | 'up'): number {
    let m = 0;
    for (const p of this.schedule.phases) m = Math.max(m, dir === 'down' ? p.downFlows : p.upFlows);
    return m;
  }

  /** The phase active at `tS`; `tS` must not go backwards. */
  phaseAt(tS: number): LoadPhase {
    const phases = this.schedule.phases;
    let p = phases[this.index]!;
    while (tS >= this.phaseStart + p.durationS) {
      if (this.index + 1 < phases.length) {
        this.phaseStart += p.durationS;
        this.index++;
      } else if (this.schedule.repeat && this.cycle > 0) {
        this.phaseStart += p.durationS;
        this.index = 0;
      } else {
        return p;
      }
      p = phases[this.index]!;
    }
    return p;
  }
}
