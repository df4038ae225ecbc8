/**
 * deploy/monitoring: the Prometheus alert rules and the Grafana dashboard use the metric names the
 * daemons export, and are well formed. `promtool` (Debian's prometheus package, installed by
 * .ci/run) checks the rules and runs their unit tests.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MON = join(ROOT, 'deploy/monitoring');
const PROMTOOL = process.env['WANCTL_PROMTOOL'] ?? '/usr/bin/promtool';

/** Every `'wanctl_…'` name registered in apps/*\/src (metrics.ts files), plus the proposed history gauge. */
function exportedMetrics(): Set<string> {
  const names = new Set<string>(['wanctl_history_degraded']);
  const walk = (dir: string) => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f === 'metrics.ts')
        for (const m of readFileSync(p, 'utf8').matchAll(/'(wanctl_[a-z_]+)'/g)) names.add(m[1] as string);
    }
  };
  for (const app of readdirSync(join(ROOT, 'apps'))) {
    const src = join(ROOT, 'apps', app, 'src');
    if (existsSync(src)) walk(src);
  }
  return names;
}

/** Metric names used in a PromQL expression (functions, labels and keywords are not metric names). */
function metricsIn(expr: string): string[] {
  const withoutLabels = expr.replace(/\{[^}]*\}/g, '').replace(/"[^"]*"/g, '');
  return [...withoutLabels.matchAll(/\b(wanctl_[a-z_]+)\b/g)].map((m) =>
    (m[1] as string).replace(/_(bucket|sum|count)$/, ''),
  );
}

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description: string };
}

const rules = (
  yaml.load(readFileSync(join(MON, 'wanctl-alerts.yml'), 'utf8')) as {
    groups: Array<{ name: string; rules: Rule[] }>;
  }
).groups.flatMap((g) => g.rules);
const grafana = JSON.parse(readFileSync(join(MON, 'wanctl-grafana.json'), 'utf8')) as {
  uid: string;
  panels: Array<{
    id: number;
    title: string;
    gridPos: Record<string, number>;
    targets: Array<{ expr: string; refId: string }>;
  }>;
  templating: { list: Array<{ name: string }> };
  annotations: { list: Array<{ expr: string }> };
};

describe('Prometheus alert rules', () => {
  it('alert on sustained RED, steering active, transport failed over, router writes failing, history degraded', () => {
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'WanctlSustainedRed',
        'WanctlSteeringActive',
        'WanctlTransportFailedOver',
        'WanctlRouterWritesFailing',
        'WanctlHistoryDegraded',
      ]),
    );
    for (const r of rules) {
      expect(r.expr, r.alert).toMatch(/wanctl_/);
      expect(['info', 'warning', 'critical'], r.alert).toContain(r.labels.severity);
      expect(r.annotations.summary.length, r.alert).toBeGreaterThan(10);
      expect(r.annotations.description.length, r.alert).toBeGreaterThan(40);
    }
  });

  it('use only metric names the daemons export (and wanctl_history_degraded)', () => {
    const known = exportedMetrics();
    expect(known.has('wanctl_state')).toBe(true);
    const used = rules.flatMap((r) => metricsIn(r.expr));
    expect(used.filter((m) => !known.has(m))).toEqual([]);
  });

  it('pass promtool check rules and their unit tests (promtool test rules)', async () => {
    expect(existsSync(PROMTOOL), `${PROMTOOL} missing: apt-get install prometheus (as .ci/run does)`).toBe(
      true,
    );
    const check = await run(PROMTOOL, ['check', 'rules', join(MON, 'wanctl-alerts.yml')]);
    expect(check.stdout).toMatch(/SUCCESS: \d+ rules found/);
    const unit = await run(PROMTOOL, ['test', 'rules', join(MON, 'wanctl-alerts.test.yml')]);
    expect(unit.stdout).toMatch(/SUCCESS/);
  }, 30_000);
});

describe('Grafana dashboard', () => {
  it('is a dashboard with unique panel ids, a layout, and a Prometheus query per target', () => {
    expect(grafana.uid).toBe('wanctl-overview');
    expect(grafana.templating.list.map((v) => v.name)).toEqual(['datasource', 'wan']);
    const ids = grafana.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of grafana.panels) {
      expect(p.gridPos, p.title).toMatchObject({
        x: expect.any(Number),
        y: expect.any(Number),
        w: expect.any(Number),
        h: expect.any(Number),
      });
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets) expect(t.expr, p.title).toMatch(/wanctl_/);
    }
  });

  it('queries only metric names the daemons export (and wanctl_history_degraded)', () => {
    const known = exportedMetrics();
    const used = [
      ...grafana.panels.flatMap((p) => p.targets.flatMap((t) => metricsIn(t.expr))),
      ...grafana.annotations.list.flatMap((a) => metricsIn(a.expr)),
    ];
    expect(used.length).toBeGreaterThan(15);
    expect([...new Set(used.filter((m) => !known.has(m)))]).toEqual([]);
  });
});
