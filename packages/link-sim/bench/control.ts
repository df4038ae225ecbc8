/**
 * The control-quality benchmark with the two reference controllers (no autorate, oracle) on
 * the standard scenarios. Writes bench-results/control.{md,json} and one SVG per trace.
 * A real controller is added by passing one more factory to runBenchmarkSuite (see README).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  referenceControllerFactories,
  renderBenchmarkSvg,
  runBenchmarkSuite,
  standardScenarios,
  toJsonReport,
  toMarkdownTable,
} from '@wanctl/link-sim';

const durationS = Number(process.env['LINK_SIM_BENCH_DURATION_S'] ?? 300);
const out = process.env['LINK_SIM_BENCH_OUT'] ?? 'bench-results';
mkdirSync(out, { recursive: true });
const t0 = performance.now();
const scenarios = standardScenarios({ durationS });
const results = runBenchmarkSuite({
  scenarios,
  controllers: referenceControllerFactories,
  onResult: (r) =>
    console.log(
      `${r.scenario} / ${r.controller}: ${r.wallMs.toFixed(0)} ms (${r.simSecondsPerWallSecond.toFixed(0)}x)`,
    ),
});
const md = toMarkdownTable(results);
writeFileSync(join(out, 'control.md'), `${md}\n`);
writeFileSync(
  join(out, 'control.json'),
  toJsonReport(results, { durationS, generatedBy: 'link-sim bench/control' }),
);
for (const sc of scenarios) {
  writeFileSync(
    join(out, `control-${sc.name}.svg`),
    renderBenchmarkSvg(results.filter((r) => r.scenario === sc.name)),
  );
}
console.log(
  `\n${md}\n\n${results.length} runs in ${((performance.now() - t0) / 1000).toFixed(1)} s; files in ${out}/`,
);
