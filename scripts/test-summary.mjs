// Sums the per-package Vitest JSON reports into one closing line, so a run that
// executed no test (or lost a package's report) is visible.
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
let passed = 0;
let failed = 0;
let skipped = 0;
let missing = 0;
// Every workspace of the root package.json ("packages/*", "apps/*", "scripts").
const workspaces = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).workspaces;
const dirs = workspaces.flatMap((w) =>
  w.endsWith('/*')
    ? fs
        .readdirSync(path.join(root, w.slice(0, -2)))
        .sort()
        .map((d) => `${w.slice(0, -2)}/${d}`)
    : [w],
);
for (const rel of dirs) {
  const pkg = path.join(root, rel);
  if (!fs.existsSync(path.join(pkg, 'package.json'))) continue;
  const report = path.join(pkg, '.test-results', 'vitest.json');
  if (!fs.existsSync(report)) {
    console.log(`${rel}: no test report (tests did not run)`);
    missing += 1;
    continue;
  }
  const r = JSON.parse(fs.readFileSync(report, 'utf8'));
  const p = r.numPassedTests ?? 0;
  // A failed test also marks its describe blocks and its file as failed suites: count tests,
  // plus each file that failed without a failed test (it did not load, or a hook threw).
  const brokenFiles = (r.testResults ?? []).filter(
    (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'),
  ).length;
  const f = (r.numFailedTests ?? 0) + brokenFiles;
  const s = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`${rel}: ${p} passed, ${f} failed, ${s} skipped`);
  // name what failed here, at the end of the run, where a truncated CI log still shows it
  for (const file of r.testResults ?? []) {
    const where = path.relative(root, file.name ?? '');
    const bad = (file.assertionResults ?? []).filter((a) => a.status === 'failed');
    for (const a of bad) {
      const why = String(a.failureMessages?.[0] ?? '')
        .split('\n')[0]
        .slice(0, 200);
      console.log(`  FAILED ${where} > ${a.fullName ?? a.title}${why ? `: ${why}` : ''}`);
    }
    if (file.status === 'failed' && bad.length === 0) {
      console.log(
        `  FAILED ${where}: ${String(file.message ?? '')
          .split('\n')[0]
          .slice(0, 200)}`,
      );
    }
  }
  passed += p;
  failed += f;
  skipped += s;
}
console.log(`tests: ${passed} passed, ${failed + missing} failed, ${skipped} skipped`);
process.exit(failed + missing > 0 || passed === 0 ? 1 : 0);
