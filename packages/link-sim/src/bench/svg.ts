import type { ControlBenchmarkResult } from './run.js';

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

export interface SvgOptions {
  width?: number;
  /** Height of each of the three panels. Default 220. */
  panelHeight?: number;
  /** Most points per polyline (series are bucketed). Default 1200. */
  maxPoints?: number;
  title?: string;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Buckets a series to at most maxPoints: mean (rates) or max (latency) per bucket. */
function bucket(
  t: Float64Array,
  v: Float64Array,
  maxPoints: number,
  mode: 'mean' | 'max',
): { t: Float64Array; v: Float64Array } {
  const n = t.length;
  const size = Math.max(1, Math.ceil(n / maxPoints));
  const m = Math.ceil(n / size);
  const ot = new Float64Array(m);
  const ov = new Float64Array(m);
  for (let b = 0; b < m; b++) {
    const i0 = b * size;
    const i1 = Math.min(n, i0 + size);
    let acc = mode === 'max' ? Number.NEGATIVE_INFINITY : 0;
    for (let i = i0; i < i1; i++) acc = mode === 'max' ? Math.max(acc, v[i]!) : acc + v[i]!;
    ot[b] = t[i1 - 1]!;
    ov[b] = mode === 'max' ? acc : acc / (i1 - i0);
  }
  return { t: ot, v: ov };
}

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmtRate(bps: number): string {
  if (bps >= 1e9) return `${(bps / 1e9).toFixed(bps % 1e9 === 0 ? 0 : 1)}G`;
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(bps % 1e6 === 0 ? 0 : 1)}M`;
  if (bps >= 1e3) return `${(bps / 1e3).toFixed(0)}k`;
  return `${bps}`;
}

interface Panel {
  y0: number;
  h: number;
  x0: number;
  w: number;
  tMax: number;
}

function polyline(
  panel: Panel,
  t: Float64Array,
  v: Float64Array,
  yOf: (v: number) => number,
  attrs: string,
): string {
  const pts: string[] = [];
  for (let i = 0; i < t.length; i++) {
    const x = panel.x0 + (t[i]! / panel.tMax) * panel.w;
    const y = panel.y0 + panel.h - yOf(v[i]!) * panel.h;
    pts.push(`${x.toFixed(1)},${y.toFixed(1)}`);
  }
  return `<polyline fill="none" ${attrs} points="${pts.join(' ')}"/>`;
}

/**
 * One SVG per trace: download and upload panels (true capacity in grey, each controller's
 * shaper rate in colour) and an added-latency panel (RTT minus base, square-root scale, the
 * latency target dashed). Idle periods are shaded. `results` are runs on the same trace.
 */
export function renderBenchmarkSvg(
  results: readonly ControlBenchmarkResult[],
  opts: SvgOptions = {},
): string {
  const withSeries = results.filter((r) => r.series && r.series.tS.length > 0);
  const W = opts.width ?? 1000;
  const PH = opts.panelHeight ?? 220;
  const maxPoints = opts.maxPoints ?? 1200;
  const left = 70;
  const right = 20;
  const top = 70;
  const gap = 50;
  const H = top + 3 * PH + 3 * gap;
  const first = withSeries[0];
  const title =
    opts.title ?? (first ? `${first.scenario}: capacity, shaper rate and added latency` : 'no data');
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${left}" y="24" font-size="16" font-weight="bold">${esc(title)}</text>`);
  if (!first?.series) {
    parts.push('</svg>');
    return parts.join('\n');
  }
  const s0 = first.series;
  const tMax = s0.tS[s0.tS.length - 1]!;
  const panels: Panel[] = [0, 1, 2].map((i) => ({
    y0: top + i * (PH + gap),
    h: PH,
    x0: left,
    w: W - left - right,
    tMax,
  }));

  // Idle shading (from the first run; all runs share the load schedule).
  for (const panel of panels) {
    let start = -1;
    const n = s0.tS.length;
    for (let i = 0; i <= n; i++) {
      const idle = i < n && s0.loadOn[i] === 0;
      if (idle && start < 0) start = i;
      if (!idle && start >= 0) {
        const x1 = panel.x0 + (s0.tS[start]! / tMax) * panel.w;
        const x2 = panel.x0 + (s0.tS[i - 1]! / tMax) * panel.w;
        parts.push(
          `<rect x="${x1.toFixed(1)}" y="${panel.y0}" width="${Math.max(1, x2 - x1).toFixed(1)}" height="${panel.h}" fill="#f0f0f0"/>`,
        );
        start = -1;
      }
    }
  }

  const rateKeys = [
    { cap: 'capacityDownBps', shaper: 'shaperDownBps', label: 'download' },
    { cap: 'capacityUpBps', shaper: 'shaperUpBps', label: 'upload' },
  ] as const;
  rateKeys.forEach((k, pi) => {
    const panel = panels[pi]!;
    let vmax = 0;
    for (const r of withSeries) {
      for (const v of r.series![k.cap]) vmax = Math.max(vmax, v);
      for (const v of r.series![k.shaper]) vmax = Math.max(vmax, v);
    }
    vmax = niceMax(vmax);
    axes(
      parts,
      panel,
      `${k.label} rate (bit/s)`,
      [0, 0.25, 0.5, 0.75, 1].map((f) => [f, fmtRate(f * vmax)]),
    );
    const yOf = (v: number) => Math.min(1, v / vmax);
    const cap = bucket(s0.tS, s0[k.cap], maxPoints, 'mean');
    parts.push(polyline(panel, cap.t, cap.v, yOf, 'stroke="#999" stroke-width="3"'));
    withSeries.forEach((r, ri) => {
      const b = bucket(r.series!.tS, r.series![k.shaper], maxPoints, 'mean');
      parts.push(
        polyline(panel, b.t, b.v, yOf, `stroke="${PALETTE[ri % PALETTE.length]}" stroke-width="1.3"`),
      );
    });
  });

  // Added latency, square-root scale.
  const lp = panels[2]!;
  let lmax = 0;
  const base = first.baseRttMs;
  for (const r of withSeries) for (const v of r.series!.rttMs) lmax = Math.max(lmax, v - r.baseRttMs);
  lmax = niceMax(Math.max(lmax, first.latencyTargetMs * 2));
  const yL = (v: number) => Math.sqrt(Math.max(0, Math.min(v, lmax)) / lmax);
  const ticks = [0, 5, 15, 50, 100, 200, 500, 1000, 2000].filter((v) => v <= lmax);
  axes(
    parts,
    lp,
    `added latency (ms over ${base} ms base), sqrt scale`,
    ticks.map((v) => [yL(v), `${v}`]),
  );
  const yT = lp.y0 + lp.h - yL(first.latencyTargetMs) * lp.h;
  parts.push(
    `<line x1="${lp.x0}" x2="${lp.x0 + lp.w}" y1="${yT.toFixed(1)}" y2="${yT.toFixed(1)}" stroke="#444" stroke-dasharray="4 4"/>`,
  );
  withSeries.forEach((r, ri) => {
    const s = r.series!;
    const addedArr = new Float64Array(s.rttMs.length);
    for (let i = 0; i < addedArr.length; i++) addedArr[i] = s.rttMs[i]! - r.baseRttMs;
    const b = bucket(s.tS, addedArr, maxPoints, 'max');
    parts.push(polyline(lp, b.t, b.v, yL, `stroke="${PALETTE[ri % PALETTE.length]}" stroke-width="1.2"`));
  });

  // Time axis labels and legend.
  for (const panel of panels) {
    for (let i = 0; i <= 5; i++) {
      const x = panel.x0 + (i / 5) * panel.w;
      parts.push(
        `<text x="${x.toFixed(1)}" y="${panel.y0 + panel.h + 15}" text-anchor="middle">${((i / 5) * tMax).toFixed(0)} s</text>`,
      );
    }
  }
  // Legend on its own line under the title.
  let lx = left;
  const ly = 36;
  parts.push(`<rect x="${lx}" y="${ly - 6}" width="16" height="4" fill="#999"/>`);
  parts.push(`<text x="${lx + 20}" y="${ly}">capacity</text>`);
  lx += 85;
  withSeries.forEach((r, ri) => {
    parts.push(
      `<rect x="${lx}" y="${ly - 6}" width="16" height="4" fill="${PALETTE[ri % PALETTE.length]}"/>`,
    );
    parts.push(`<text x="${lx + 20}" y="${ly}">${esc(r.controller)}</text>`);
    lx += 40 + 8 * r.controller.length;
  });
  parts.push(`<text x="${lx}" y="${ly}" fill="#666">(shaded: idle, no load)</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

function axes(parts: string[], p: Panel, label: string, ticks: Array<[number, string]>): void {
  parts.push(`<rect x="${p.x0}" y="${p.y0}" width="${p.w}" height="${p.h}" fill="none" stroke="#ccc"/>`);
  for (const [f, text] of ticks) {
    const y = p.y0 + p.h - f * p.h;
    parts.push(
      `<line x1="${p.x0}" x2="${p.x0 + p.w}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#eee"/>`,
    );
    parts.push(`<text x="${p.x0 - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${esc(text)}</text>`);
  }
  parts.push(`<text x="${p.x0}" y="${p.y0 - 6}" font-weight="bold">${esc(label)}</text>`);
}
