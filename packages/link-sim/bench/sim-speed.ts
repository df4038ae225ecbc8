/**
 * How fast the link simulation runs: simulated seconds per wall second for a 10-minute trace,
 * one core, default 1 ms tick. Prints one line per case.
 *   npm run bench -w @wanctl/link-sim        (or: npx tsc -b && npx tsc -p tsconfig.bench.json
 *                                              && node dist/bench-scripts/sim-speed.js)
 */
import { cableEveningTrace, constantLoad, LinkSim, lteTrace, onOffLoad } from '@wanctl/link-sim';

interface Case {
  name: string;
  make: () => LinkSim;
}

const DURATION_S = 600;

const cases: Case[] = [
  {
    name: 'cable 900/35, 4+4 flows, shaped below capacity',
    make: () =>
      new LinkSim({
        baseRttMs: 18,
        trace: cableEveningTrace({ durationS: DURATION_S }),
        down: { shaperRateBps: 450e6 },
        up: { shaperRateBps: 25e6 },
        load: constantLoad(4, 4),
      }),
  },
  {
    name: 'cable 900/35, 4+4 flows, unshaped (bufferbloat)',
    make: () =>
      new LinkSim({
        baseRttMs: 18,
        trace: cableEveningTrace({ durationS: DURATION_S }),
        load: constantLoad(4, 4),
      }),
  },
  {
    name: 'LTE 60/15, 8+4 flows, on/off, shaped',
    make: () =>
      new LinkSim({
        baseRttMs: 40,
        trace: lteTrace({ durationS: DURATION_S }),
        down: { shaperRateBps: 40e6 },
        up: { shaperRateBps: 10e6 },
        load: onOffLoad({ onS: 40, offS: 10, downFlows: 8, upFlows: 4 }),
      }),
  },
];

for (const c of cases) {
  // Warm up the JIT on a fresh instance, then time a full run.
  c.make().step(20);
  const sim = c.make();
  const t0 = performance.now();
  // Advance in 50 ms steps, reading what a controller would read.
  let sink = 0;
  for (let i = 0; i < DURATION_S * 20; i++) {
    sim.step(0.05);
    sink += sim.rttMs() + sim.counters('down').bytes;
  }
  const wallS = (performance.now() - t0) / 1000;
  const speed = DURATION_S / wallS;
  console.log(
    `${c.name}: ${DURATION_S} s simulated in ${wallS.toFixed(2)} s wall = ${speed.toFixed(0)}x real time` +
      ` (tick ${sim.tickS * 1000} ms)${sink < 0 ? '!' : ''}`,
  );
}
