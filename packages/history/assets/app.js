// wanctl history dashboard: hand-written SVG charts over the JSON API of this server.
// No dependency and no network access beyond this server.

(() => {
  const SVG = 'http://www.w3.org/2000/svg';
  const $ = (s) => document.querySelector(s);
  const state = {
    span: 3600,
    from: null,
    to: null,
    wan: '',
    live: true,
    timer: null,
    data: null,
    wholeDays: false,
  };

  const el = (name, attrs, parent) => {
    const e = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (parent) parent.appendChild(e);
    return e;
  };
  const pad = (n) => String(n).padStart(2, '0');
  const fmtTime = (sec, span) => {
    const d = new Date(sec * 1000);
    const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
    if (span <= 2 * 86400) return span <= 600 ? `${hm}:${pad(d.getSeconds())}` : hm;
    return `${pad(d.getDate())}.${pad(d.getMonth() + 1)} ${hm}`;
  };
  const fmtFull = (sec) => {
    const d = new Date(sec * 1000);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  };
  const localInput = (sec) => {
    const d = new Date(sec * 1000);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  };
  const niceMax = (v) => {
    if (!(v > 0)) return 1;
    const p = 10 ** Math.floor(Math.log10(v));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  };
  const status = (text, error) => {
    const s = $('#status');
    s.textContent = text;
    s.className = error ? 'error' : '';
  };

  async function getJson(path) {
    const res = await fetch(path, { cache: 'no-store' });
    const body = await res.json();
    if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
    return body;
  }

  function range() {
    if (state.from !== null) return { from: state.from, to: state.to };
    const to = Math.ceil(Date.now() / 1000);
    return { from: to - state.span, to };
  }

  /**
   * One chart: lines (arrays aligned with t, null = gap), an optional min–max band, zone
   * backgrounds, steering periods and event markers. Returns the number of points drawn.
   */
  function drawChart(svg, spec) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const W = svg.clientWidth || 600;
    const H = svg.clientHeight || 200;
    const m = { l: 44, r: 8, t: 8, b: 22 };
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    const { from, to, t } = spec;
    const x = (s) => m.l + ((s - from) / (to - from)) * (W - m.l - m.r);
    let ymax = 0;
    for (const s of spec.lines) for (const v of s.values) if (v !== null && v > ymax) ymax = v;
    if (spec.band) for (const v of spec.band.hi) if (v !== null && v > ymax) ymax = v;
    if (spec.ymaxCap && ymax > spec.ymaxCap) ymax = spec.ymaxCap;
    ymax = niceMax(ymax * 1.05);
    const y = (v) => m.t + (1 - Math.min(v, ymax) / ymax) * (H - m.t - m.b);
    const step = spec.step;

    // zone backgrounds: runs of the same worst zone
    if (spec.zones) {
      const g = el('g', { class: 'zones' }, svg);
      let i = 0;
      while (i < t.length) {
        const z = spec.zones[i];
        let j = i;
        while (j + 1 < t.length && spec.zones[j + 1] === z && t[j + 1] - t[j] <= step * 1.5) j++;
        if (z) {
          const x0 = x(t[i]);
          el(
            'rect',
            {
              class: `zone z${z}`,
              x: x0,
              y: m.t,
              width: Math.max(1, x(t[j] + step) - x0),
              height: H - m.t - m.b,
            },
            g,
          );
        }
        i = j + 1;
      }
    }
    // steering periods
    const sg = el('g', { class: 'steering' }, svg);
    for (const p of spec.steered) {
      const x0 = x(Math.max(p.from, from));
      const x1 = x(Math.min(p.to, to));
      if (x1 > x0) {
        const r = el('rect', { class: 'steer', x: x0, y: m.t, width: x1 - x0, height: H - m.t - m.b }, sg);
        el('title', {}, r).textContent =
          `steered ${fmtFull(p.from)} – ${fmtFull(p.to)}${p.reason ? `: ${p.reason}` : ''}`;
      }
    }
    // grid and axes
    const grid = el('g', { class: 'grid' }, svg);
    const axis = el('g', { class: 'axis' }, svg);
    for (let k = 0; k <= 4; k++) {
      const v = (ymax * k) / 4;
      el('line', { x1: m.l, x2: W - m.r, y1: y(v), y2: y(v) }, grid);
      el('text', { x: m.l - 4, y: y(v) + 4, 'text-anchor': 'end' }, axis).textContent = +v.toFixed(2);
    }
    const nx = Math.max(2, Math.floor((W - m.l - m.r) / 90));
    for (let k = 0; k <= nx; k++) {
      const s = from + ((to - from) * k) / nx;
      el(
        'text',
        { x: x(s), y: H - 6, 'text-anchor': k === 0 ? 'start' : k === nx ? 'end' : 'middle' },
        axis,
      ).textContent = fmtTime(s, to - from);
    }
    // min–max band
    if (spec.band) {
      let d = '';
      let run = [];
      const flush = () => {
        if (run.length > 0) {
          d += `M${run.map((i) => `${x(t[i]).toFixed(1)},${y(spec.band.hi[i]).toFixed(1)}`).join('L')}`;
          d += `L${run
            .slice()
            .reverse()
            .map((i) => `${x(t[i]).toFixed(1)},${y(spec.band.lo[i]).toFixed(1)}`)
            .join('L')}Z`;
        }
        run = [];
      };
      for (let i = 0; i < t.length; i++) {
        if (spec.band.hi[i] === null || spec.band.lo[i] === null || (i > 0 && t[i] - t[i - 1] > step * 1.5))
          flush();
        if (spec.band.hi[i] !== null && spec.band.lo[i] !== null) run.push(i);
      }
      flush();
      if (d) el('path', { class: 'band', d }, svg);
    }
    // lines (broken at gaps)
    let drawn = 0;
    for (const s of spec.lines) {
      let d = '';
      let pen = false;
      let n = 0;
      for (let i = 0; i < t.length; i++) {
        const v = s.values[i];
        if (v === null || (i > 0 && t[i] - t[i - 1] > step * 1.5)) pen = false;
        if (v === null) continue;
        d += `${pen ? 'L' : 'M'}${x(t[i]).toFixed(1)},${y(v).toFixed(1)}`;
        pen = true;
        n++;
      }
      drawn += n;
      if (d) el('path', { class: `line ${s.cls}`, d, 'data-points': n }, svg);
    }
    // event markers
    const mg = el('g', { class: 'markers' }, svg);
    for (const e of spec.markers) {
      const s = e.t / 1000;
      if (s < from || s > to) continue;
      const line = el('line', { class: `marker ${e.kind}`, x1: x(s), x2: x(s), y1: m.t, y2: H - m.b }, mg);
      el('title', {}, line).textContent =
        `${fmtFull(s)} ${e.kind}${e.from ? ` ${e.from} → ${e.to}` : ''}${e.detail ? `: ${e.detail}` : ''}`;
    }
    if (t.length === 0) {
      el('text', { class: 'empty', x: W / 2, y: H / 2, 'text-anchor': 'middle' }, svg).textContent =
        'no data in this range';
    }
    // hover readout
    const cursor = el('line', { class: 'cursor', y1: m.t, y2: H - m.b, visibility: 'hidden' }, svg);
    const readout = svg.parentNode.querySelector('.readout');
    svg.onmousemove = (ev) => {
      if (t.length === 0) return;
      const rect = svg.getBoundingClientRect();
      const px = ((ev.clientX - rect.left) / rect.width) * W;
      const s = from + ((px - m.l) / (W - m.l - m.r)) * (to - from);
      let lo = 0;
      let hi = t.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (t[mid] < s) lo = mid + 1;
        else hi = mid;
      }
      cursor.setAttribute('x1', x(t[lo]));
      cursor.setAttribute('x2', x(t[lo]));
      cursor.setAttribute('visibility', 'visible');
      readout.textContent = `${fmtFull(t[lo])} ${spec.lines
        .map((l) => `${l.name} ${l.values[lo] === null ? '–' : (+l.values[lo].toFixed(1)).toString()}`)
        .join(' · ')}`;
    };
    svg.onmouseleave = () => {
      cursor.setAttribute('visibility', 'hidden');
      readout.textContent = '';
    };
    svg.setAttribute('data-drawn', drawn);
    svg.setAttribute('data-last', t.length > 0 ? t[t.length - 1] : '');
    return drawn;
  }

  /** Steering periods from the steering events (a state naming DEGRADED/STEERED/ENABLED is steered). */
  function steeredPeriods(events, atStart, from, to) {
    const steeredState = (s) => s !== null && /DEGRADED|STEERED|ENABLED/i.test(s);
    const out = [];
    let on = atStart.some((a) => steeredState(a.state));
    let since = from;
    let reason = '';
    for (const e of events) {
      if (e.kind !== 'steering') continue;
      const now = steeredState(e.to);
      if (on && !now) out.push({ from: since, to: e.t / 1000, reason });
      if (!on && now) {
        since = e.t / 1000;
        reason = e.detail || '';
      }
      on = now;
    }
    if (on) out.push({ from: since, to, reason });
    return out;
  }

  const mbps = (arr) => arr.map((v) => (v === null ? null : v / 1e6));

  function render() {
    const d = state.data;
    if (!d) return;
    const { from, to } = d;
    const s = d.series.find((x) => x.wan === state.wan) || d.series[0];
    const cols = s ? s.columns : { t: [] };
    const t = cols.t || [];
    const step = s ? s.resolution : 1;
    const steered = steeredPeriods(d.events, d.steeringAtStart, from, to);
    const markers = d.events.filter(
      (e) => e.kind !== 'zone' && e.kind !== 'steering' && (e.wan === state.wan || e.store === 'steering'),
    );
    const base = { from, to, t, step, steered, markers };
    const points = [
      drawChart($('#chart-dl svg'), {
        ...base,
        lines: [
          { name: 'shaped', cls: 'shaped', values: mbps(cols.shaped_dl || []) },
          { name: 'achieved', cls: 'achieved', values: mbps(cols.achieved_dl || []) },
          { name: 'capacity seen', cls: 'peak', values: mbps(cols.peak_dl || []) },
        ],
      }),
      drawChart($('#chart-ul svg'), {
        ...base,
        lines: [
          { name: 'shaped', cls: 'shaped', values: mbps(cols.shaped_ul || []) },
          { name: 'achieved', cls: 'achieved', values: mbps(cols.achieved_ul || []) },
          { name: 'capacity seen', cls: 'peak', values: mbps(cols.peak_ul || []) },
        ],
      }),
      drawChart($('#chart-delta svg'), {
        ...base,
        zones: cols.zone_dl || [],
        band: { lo: cols.dmin || [], hi: cols.dmax || [] },
        lines: [{ name: 'delta', cls: 'dmean', values: cols.dmean || [] }],
      }),
    ];
    const res = step === 1 ? '1 s' : step === 60 ? '1 min' : '1 h';
    status(
      `${s ? s.wan : 'no WAN'} · ${fmtFull(from)} – ${fmtFull(to)} · ${t.length} rows at ${res} · ${points[0]} points${state.from === null && state.live ? ' · live' : ''}`,
    );
    const tb = $('#events-table tbody');
    tb.textContent = '';
    // zone changes are many and are drawn as the delta chart's bands: counted, not listed
    const zoneChanges = d.events.filter((e) => e.kind === 'zone' && e.wan === state.wan).length;
    $('#events h2').textContent = `Events (${zoneChanges} zone changes not listed)`;
    const shown = d.events
      .filter((e) => e.kind !== 'zone')
      .slice(-500)
      .reverse();
    for (const e of shown) {
      const tr = document.createElement('tr');
      tr.className = `ev ${e.kind}`;
      for (const [v, cls] of [
        [fmtFull(e.t / 1000), ''],
        [e.wan, ''],
        [e.kind + (e.dir ? ` ${e.dir}` : ''), ''],
        [e.from || e.to ? `${e.from ?? ''} → ${e.to ?? ''}` : '', ''],
        [e.detail ?? '', 'detail'],
      ]) {
        const td = document.createElement('td');
        td.textContent = v;
        if (cls) td.className = cls;
        tr.appendChild(td);
      }
      tb.appendChild(tr);
    }
    const sb = $('#summary-table tbody');
    sb.textContent = '';
    const mins = (sec) => `${Math.round(sec / 60)} min`;
    $('#summary-title').textContent = state.wholeDays ? 'Days' : 'Evenings (18:00–24:00)';
    $('#summary-empty').textContent = state.wholeDays
      ? 'No data in this range.'
      : 'No evening in this range.';
    $('#summary-empty').hidden = d.summary.length > 0;
    for (const v of d.summary) {
      const tr = document.createElement('tr');
      for (const c of [
        v.date,
        v.wan,
        mins(v.zoneSeconds.GREEN),
        mins(v.zoneSeconds.YELLOW),
        mins(v.zoneSeconds.SOFT_RED),
        mins(v.zoneSeconds.RED),
        v.deltaP50 === null ? '–' : `${v.deltaP50.toFixed(1)} ms`,
        v.deltaP95 === null ? '–' : `${v.deltaP95.toFixed(1)} ms`,
        v.deltaP99 === null ? '–' : `${v.deltaP99.toFixed(1)} ms`,
        `${Math.round(v.minutesSteered)} min`,
        String(v.failovers),
      ]) {
        const td = document.createElement('td');
        td.textContent = c;
        tr.appendChild(td);
      }
      sb.appendChild(tr);
    }
  }

  async function load() {
    const { from, to } = range();
    const q = `from=${Math.floor(from)}&to=${Math.ceil(to)}`;
    const points = Math.min(4000, Math.max(300, Math.round(($('#chart-dl svg').clientWidth || 800) * 2)));
    try {
      const [series, events, summary] = await Promise.all([
        getJson(`api/series?${q}&points=${points}`),
        getJson(`api/events?${q}`),
        getJson(`api/summary?${q}${state.wholeDays ? '&start_hour=0&end_hour=24' : ''}`),
      ]);
      state.data = {
        from,
        to,
        series: series.series,
        events: events.events,
        steeringAtStart: events.steeringAtStart,
        summary: summary.evenings,
      };
      const sel = $('#wan');
      const wans = series.series.map((s) => s.wan);
      if (sel.options.length !== wans.length) {
        sel.textContent = '';
        for (const w of wans) {
          const o = document.createElement('option');
          o.value = w;
          o.textContent = w;
          sel.appendChild(o);
        }
      }
      if (!wans.includes(state.wan)) state.wan = wans[0] || '';
      sel.value = state.wan;
      $('#from').value = localInput(from);
      $('#to').value = localInput(to);
      render();
    } catch (e) {
      status(`cannot load history: ${e.message}`, true);
    }
  }

  function schedule() {
    if (state.timer) clearInterval(state.timer);
    state.timer = null;
    if (state.live && state.from === null) state.timer = setInterval(load, 5000);
  }

  for (const b of document.querySelectorAll('.ranges button')) {
    b.addEventListener('click', () => {
      state.span = Number(b.dataset.span);
      state.from = null;
      state.to = null;
      for (const o of document.querySelectorAll('.ranges button')) o.classList.toggle('active', o === b);
      schedule();
      load();
    });
  }
  $('#custom').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = new Date($('#from').value).getTime() / 1000;
    const t = new Date($('#to').value).getTime() / 1000;
    if (!(f < t)) {
      status('"from" must be before "to"', true);
      return;
    }
    state.from = f;
    state.to = t;
    for (const o of document.querySelectorAll('.ranges button')) o.classList.remove('active');
    schedule();
    load();
  });
  $('#whole-days').addEventListener('change', (ev) => {
    state.wholeDays = ev.target.checked;
    load();
  });
  $('#live').addEventListener('change', (ev) => {
    state.live = ev.target.checked;
    schedule();
  });
  $('#wan').addEventListener('change', (ev) => {
    state.wan = ev.target.value;
    render();
  });
  let resizeTimer = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(render, 150);
  });
  // initial range from the address (?span=SECONDS or ?from=&to= Unix seconds)
  const params = new URLSearchParams(location.search);
  if (params.get('from') && params.get('to')) {
    state.from = Number(params.get('from'));
    state.to = Number(params.get('to'));
  } else if (params.get('span')) state.span = Number(params.get('span'));
  for (const o of document.querySelectorAll('.ranges button'))
    o.classList.toggle('active', state.from === null && Number(o.dataset.span) === state.span);
  schedule();
  load();
})();
