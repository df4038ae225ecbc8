/**
 * Demo profiles: the simulated link (capacity trace, base RTT, buffers, offered load) and the
 * autorate example config each one runs with. Time is compressed so that a 60 s demo shows the
 * controller following capacity down and up, and a collapse below the configured floor that
 * only steering can help with.
 */
import { cableEveningTrace, dslTrace, loadSchedule, lteTrace, stepsTrace } from '@wanctl/link-sim';
import { SCALED_CONFIGS } from '../bench-control/bench.mjs';

export const PROFILE_NAMES = ['cable', 'steps', 'lte', 'dsl'];

const mbps = (v) => v * 1e6;

/**
 * Wraps a trace: between `fromS` and `toS` the capacity is at most `downBps`/`upBps`.
 * Used for the collapse below the autorate floor (the case steering exists for).
 */
function withCollapse(trace, { fromS, toS, downBps, upBps }) {
  return {
    name: trace.name,
    durationS: trace.durationS,
    at(tS, dir) {
      const c = trace.at(tS, dir);
      if (tS >= fromS && tS < toS) return Math.min(c, dir === 'down' ? downBps : upBps);
      return c;
    },
  };
}

/** Idle at first (the daemons start and learn the baseline), then 4 download + 4 upload flows. */
function demoLoad(durationS) {
  const warmS = Math.min(4, Math.max(2, 0.08 * durationS));
  return {
    warmS,
    load: loadSchedule([
      { durationS: warmS, downFlows: 0, upFlows: 0 },
      { durationS: 1e6, downFlows: 4, upFlows: 4 },
    ]),
  };
}

/**
 * The alternate WAN steering moves latency-sensitive traffic to: a modest second line (VDSL2
 * 50/10 Mbit/s, 32 ms base RTT, 30 % used by its own traffic).
 */
const ALTERNATE = { downBps: mbps(50), upBps: mbps(10), baseRttMs: 32, backgroundUtilisation: 0.3 };

/**
 * The profile `name` for a demo of `durationS` seconds. Returns `{ name, description, trace,
 * baseRttMs, down, up, load, warmS, example, overrides, alternate, collapse }`: `example` and
 * `overrides` select the autorate config (see deriveAutorateDoc in scripts/bench-control/bench.mjs);
 * `alternate` is the alternate WAN of the link model; `collapse` ({fromS, toS} or null) is when the
 * line is below the autorate floors (what steering is for).
 */
export function demoProfile(name, { durationS = 60, seed = 1 } = {}) {
  const D = durationS;
  const { load, warmS } = demoLoad(D);
  switch (name) {
    case 'cable': {
      // The cable evening compressed into the demo: nominal 900/35, ramp into prime time
      // (about 55 % with contention dips), and for 20 % of the run a collapse to 150/6 Mbit/s,
      // below the example's floors (200/8): autorate cannot fix that, steering does.
      const base = cableEveningTrace({
        downBps: mbps(900),
        upBps: mbps(35),
        durationS: D,
        seed,
        quietFraction: 0.1,
        rampFraction: 0.15,
        dipsPerMinute: 3,
      });
      const collapse = { fromS: 0.45 * D, toS: 0.65 * D };
      return {
        name,
        description:
          'cable evening 900/35 Mbit/s compressed in time, with a collapse to 150/6 below the floors',
        trace: withCollapse(base, { ...collapse, downBps: mbps(150), upBps: mbps(6) }),
        alternate: ALTERNATE,
        collapse,
        baseRttMs: 20,
        down: { bufferMs: 250 },
        up: { bufferMs: 600 },
        load,
        warmS,
        example: 'cable.yaml',
        overrides: {},
      };
    }
    case 'steps':
      return {
        name,
        description: 'steps 900 -> 450 -> 150 (below the floor) -> 900 -> 300 Mbit/s down',
        trace: stepsTrace({
          name: 'steps',
          durationS: D,
          steps: [
            { atS: 0, downBps: mbps(900), upBps: mbps(35) },
            { atS: 0.25 * D, downBps: mbps(450), upBps: mbps(20) },
            { atS: 0.45 * D, downBps: mbps(150), upBps: mbps(6) },
            { atS: 0.6 * D, downBps: mbps(900), upBps: mbps(35) },
            { atS: 0.8 * D, downBps: mbps(300), upBps: mbps(12) },
          ],
        }),
        alternate: ALTERNATE,
        collapse: { fromS: 0.45 * D, toS: 0.6 * D },
        baseRttMs: 20,
        down: { bufferMs: 250 },
        up: { bufferMs: 600 },
        load,
        warmS,
        example: 'cable.yaml',
        overrides: {},
      };
    case 'lte':
      return {
        name,
        description:
          'LTE 60/15 Mbit/s mean with fast fading and deep fades (config: cable example scaled to 120/30)',
        trace: lteTrace({ downBps: mbps(60), upBps: mbps(15), durationS: D, seed }),
        alternate: ALTERNATE,
        collapse: null,
        baseRttMs: 40,
        down: { bufferMs: 400 },
        up: { bufferMs: 800 },
        load,
        warmS,
        example: 'cable.yaml',
        overrides: SCALED_CONFIGS.lte,
      };
    case 'dsl':
      return {
        name,
        description: 'steady VDSL2 50/10 Mbit/s behind the DSL example (ceiling 95/18)',
        trace: dslTrace({ downBps: mbps(50), upBps: mbps(10), durationS: D, seed }),
        alternate: { ...ALTERNATE, downBps: mbps(30), upBps: mbps(5) },
        collapse: null,
        baseRttMs: 25,
        down: { bufferMs: 300 },
        up: { bufferMs: 800 },
        load,
        warmS,
        example: 'dsl.yaml',
        overrides: {},
      };
    default:
      throw new Error(`unknown profile "${name}" (expected one of ${PROFILE_NAMES.join(', ')})`);
  }
}
