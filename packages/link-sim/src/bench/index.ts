export { type CakeAutorateOptions, type CakeAutorateRates, cakeAutorateController } from './cake-autorate.js';
export {
  type Achieved,
  type BenchController,
  type BenchStartContext,
  noAutorateController,
  oracleController,
  type Rates,
} from './controller.js';
export { toJsonReport, toMarkdownTable } from './report.js';
export {
  type BenchSeries,
  type CapacityDropEvent,
  type ControlBenchmarkOptions,
  type ControlBenchmarkResult,
  type LatencySummary,
  percentileSorted,
  type ReflectorSetup,
  runControlBenchmark,
} from './run.js';
export {
  type BenchScenario,
  type BenchSuiteOptions,
  referenceControllerFactories,
  runBenchmarkSuite,
  standardScenarios,
} from './scenarios.js';
export { renderBenchmarkSvg, type SvgOptions } from './svg.js';
