// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${VAR}" is wanctl config syntax, not a template
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { historyCliMain as main, parseWhen } from '../src/index.js';
import { type FixtureStores, makeStores } from './fixture.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

let dir: string;
let fx: FixtureStores;
// an evening: 17:00–19:00 local time
const END = (() => {
  const d = new Date(2026, 0, 5, 19, 0, 0, 0);
  return d.getTime();
})();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wanctl-history-cli-'));
  fx = await makeStores(dir, END, 120);
  // a real config with a misspelt history key, and a good one pointing at the fixture store
  const example = readFileSync(new URL('../../../examples/cable.yaml', import.meta.url), 'utf8').replace(
    '${WANCTL_ROUTER_PASSWORD}',
    'not-a-secret',
  );
  writeFileSync(join(dir, 'bad.yaml'), `${example}\nhistory:\n  retention:\n    raw_hourz: 3\n`);
  writeFileSync(join(dir, 'good.yaml'), `${example}\nhistory:\n  file: ${JSON.stringify(fx.wanFile)}\n`);
  // the installed config as it is: the router password comes from the environment
  const installed = readFileSync(new URL('../../../examples/cable.yaml', import.meta.url), 'utf8');
  writeFileSync(
    join(dir, 'secret.yaml'),
    `${installed}\nhistory:\n  file: ${JSON.stringify(fx.wanFile)}\n  dashboard: { port: 1 }\n`,
  );
});

/** The environment without the router password. */
function envWithoutPassword(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['WANCTL_ROUTER_PASSWORD'];
  return env;
}
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(
    args,
    {
      out: (t) => {
        out += t;
      },
      err: (t) => {
        err += t;
      },
    },
    { now: () => END },
  );
  return { code, out, err };
}

describe('parseWhen', () => {
  const now = new Date(2026, 0, 5, 19, 30, 0, 0).getTime();
  it('reads relative, day-relative and ISO times', () => {
    expect(parseWhen('2h', now)).toBe(now - 7_200_000);
    expect(parseWhen('30m', now)).toBe(now - 1_800_000);
    expect(parseWhen('7d', now)).toBe(now - 7 * 86_400_000);
    expect(parseWhen('now', now)).toBe(now);
    expect(parseWhen('yesterday 18:00', now)).toBe(new Date(2026, 0, 4, 18, 0, 0, 0).getTime());
    expect(parseWhen('today', now)).toBe(new Date(2026, 0, 5, 0, 0, 0, 0).getTime());
    expect(parseWhen('18:15', now)).toBe(new Date(2026, 0, 5, 18, 15, 0, 0).getTime());
    expect(parseWhen('2026-01-05T18:00:00Z', now)).toBe(Date.UTC(2026, 0, 5, 18));
  });
  it('refuses what it cannot read, saying which forms work', () => {
    expect(() => parseWhen('last tuesday', now, '--since')).toThrow(
      /--since: cannot read "last tuesday".*yesterday 18:00/,
    );
    expect(() => parseWhen('25:00', now)).toThrow(/not a time of day/);
  });
});

describe('wanctl-history', () => {
  it('prints a table of one-minute rows for a 2 h range (finest resolution under the row limit)', async () => {
    const r = await cli(['--db', fx.wanFile, '--since', '2h', '--resolution', '1m']);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(/^time\s+wan\s+res\s+shaped dl\/ul Mbps/);
    // the minute still in progress at the last write is not downsampled yet
    expect(lines.length).toBe(1 + 119);
    expect(lines[1]).toMatch(/^2026-01-05 17:00:00\s+cable\s+1m\s+300\.0\/20\.0/);
    // the congested stretch is RED somewhere
    expect(r.out).toMatch(/RED\/RED/);
  });

  it('--json gives every column; --csv a header and one line per row', async () => {
    const j = await cli(['--db', fx.wanFile, '--since', '18:00', '--until', '18:01', '--json']);
    expect(j.code).toBe(0);
    const doc = JSON.parse(j.out) as Array<{
      wan: string;
      resolution: number;
      rows: Array<Record<string, number>>;
    }>;
    expect(doc[0]?.wan).toBe('cable');
    expect(doc[0]?.resolution).toBe(1);
    expect(doc[0]?.rows).toHaveLength(60);
    expect(doc[0]?.rows[0]?.cycles).toBe(20);
    const c = await cli(['--db', fx.wanFile, '--since', '18:00', '--until', '18:01', '--csv']);
    const lines = c.out.trim().split('\n');
    expect(lines[0]).toBe(
      'wan,time,resolution_s,t,n,cycles,overruns,shaped_dl,shaped_ul,achieved_dl,achieved_ul,peak_dl,peak_ul,rtt,baseline,dmin,dmean,dmax,zone_dl,zone_ul,dl_green,dl_yellow,dl_soft_red,dl_red,ul_green,ul_yellow,ul_red',
    );
    expect(lines).toHaveLength(61);
  });

  it('--events lists failures, failovers, steering with its reason and restarts from every store', async () => {
    const r = await cli(['--db', fx.wanFile, '--db', fx.steeringFile, '--events', '--since', '2h']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/cable\s+restart\s+wanctl-autorate 0\.1\.0 pid 4242/);
    expect(r.out).toMatch(/cable\s+write_failure\s+WANCTL_ROUTER_TIMEOUT/);
    expect(r.out).toMatch(/cable\s+failover\s+rest -> ssh\s+REST: connection refused/);
    expect(r.out).toMatch(/steering\s+steering\s+CABLE_GOOD -> CABLE_DEGRADED\s+RED 2 cycles/);
    expect(r.out).toMatch(/zone dl\s+GREEN -> YELLOW/);
  });

  it('--summary: one line per evening with zone minutes, delta percentiles, minutes steered, failovers', async () => {
    const r = await cli([
      '--db',
      fx.wanFile,
      '--db',
      fx.steeringFile,
      '--summary',
      '--evening',
      '17-24',
      '--since',
      '2h',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out) as Array<
      Record<string, unknown> & { zoneSeconds: Record<string, number> }
    >;
    expect(rows).toHaveLength(1);
    const e = rows[0] as (typeof rows)[0];
    expect(e['date']).toBe('2026-01-05');
    expect(e['wan']).toBe('cable');
    // 17:00–19:00 is inside the window
    expect(e['seconds']).toBeGreaterThan(7100);
    const z = e.zoneSeconds;
    expect((z['GREEN'] ?? 0) + (z['YELLOW'] ?? 0) + (z['SOFT_RED'] ?? 0) + (z['RED'] ?? 0)).toBeCloseTo(
      e['seconds'] as number,
      0,
    );
    expect(z['RED']).toBeGreaterThan(0);
    expect(e['deltaP50'] as number).toBeLessThan(e['deltaP95'] as number);
    expect(e['deltaP95'] as number).toBeLessThanOrEqual(e['deltaP99'] as number);
    // steering ran from 17:48:30 (cycle c0+600) to 18:13:00 (c1+1200)
    expect(e['minutesSteered']).toBeCloseTo(24.5, 1);
    expect(e['failovers']).toBe(1);
    expect(e['writeFailures']).toBe(1);
    const t = await cli(['--db', fx.wanFile, '--db', fx.steeringFile, '--summary', '--since', '2h']);
    expect(t.out).toMatch(/^evening\s+wan\s+green min/);
    // the default evening (18–24) holds the last 13 minutes of steering and no failover
    expect(t.out).toMatch(
      /2026-01-05\s+cable\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+13\.0\s+0\s+0/,
    );
  });

  it('--wan picks a store; an unknown WAN is a usage error (exit 2) naming the WANs there are', async () => {
    const ok = await cli(['--db', fx.wanFile, '--db', fx.steeringFile, '--wan', 'cable', '--events']);
    expect(ok.code).toBe(0);
    expect(ok.out).not.toMatch(/CABLE_DEGRADED/);
    const bad = await cli(['--db', fx.wanFile, '--wan', 'dsl']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--wan dsl: no such WAN .*cable/);
  });

  it('bad arguments exit 2 with a message; a missing file exits 1', async () => {
    expect((await cli(['--db', fx.wanFile, '--since', 'whenever'])).code).toBe(2);
    expect((await cli(['--db', fx.wanFile, '--since', '1h', '--until', '2h'])).err).toMatch(/must be before/);
    expect((await cli(['--db', fx.wanFile, '--json', '--csv'])).code).toBe(2);
    expect((await cli(['--db', fx.wanFile, '--evening', '20-18'])).code).toBe(2);
    expect((await cli(['--nope'])).code).toBe(2);
    expect((await cli([])).err).toMatch(/--config FILE .* or --db FILE/);
    const missing = await cli(['--db', join(dir, 'missing.db')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/missing\.db does not exist/);
    const badConfig = await cli(['--config', join(dir, 'bad.yaml')]);
    expect(badConfig.code).toBe(2);
    expect(badConfig.err).toMatch(/bad\.yaml.*history\.retention.*raw_hourz/s);
    const good = await cli(['--config', join(dir, 'good.yaml'), '--events', '--since', '2h']);
    expect(good.code).toBe(0);
    expect(good.out).toMatch(/write_failure/);
  });

  it('the installed command: --help exits 0, an unknown option exits 2, a table on stdout', async () => {
    const help = await run(process.execPath, [BIN, '--help']);
    expect(help.stdout).toMatch(/--summary/);
    expect(help.stdout).toMatch(/Exit status: 0/);
    const bad = await run(process.execPath, [BIN, '--bogus']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stderr: string }).stderr).toMatch(/unknown option '--bogus'/);
    const rows = await run(process.execPath, [
      BIN,
      '--db',
      fx.wanFile,
      '--since',
      new Date(END - 60_000).toISOString(),
      '--until',
      new Date(END).toISOString(),
    ]);
    expect(rows.stdout.trim().split('\n').length).toBe(61);
  });

  it('serve: the dashboard on loopback from the stores alone; SIGTERM stops it with status 0', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'serve', '--db', fx.wanFile, '--db', fx.steeringFile, '--port', '0'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          const m = /dashboard on (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
          if (m) resolve(m[1] as string);
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
        setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 15_000);
      });
      const meta = (await (await fetch(`${url}/api/meta`)).json()) as { stores: Array<{ wan: string }> };
      expect(meta.stores.map((s) => s.wan)).toEqual(['cable', 'steering']);
      expect((await fetch(`${url}/`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
  }, 30_000);

  it('--config needs only the history section: it works without WANCTL_ROUTER_PASSWORD', async () => {
    const cfg = join(dir, 'secret.yaml');
    expect(readFileSync(cfg, 'utf8')).toContain('${WANCTL_ROUTER_PASSWORD}');
    const r = await run(process.execPath, [BIN, '--config', cfg, '--json', '--since', '2h'], {
      env: envWithoutPassword(),
    }).catch((e: { code: number; stderr: string }) => e);
    expect((r as { stderr: string }).stderr).toBe('');
    expect((r as { code?: number }).code ?? 0).toBe(0);
    expect(JSON.parse((r as { stdout: string }).stdout).length).toBeGreaterThan(0);
  });

  it('serve --config needs only the history section too (the router password unset)', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'serve', '--config', join(dir, 'secret.yaml'), '--port', '0'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: envWithoutPassword(),
      },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        let err = '';
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          const m = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
          if (m) resolve(m[1] as string);
        });
        child.stderr.on('data', (b: Buffer) => {
          err += b.toString();
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}${err}`)));
        setTimeout(() => reject(new Error(`no URL printed: ${out}${err}`)), 15_000);
      });
      const meta = (await (await fetch(`${url}/api/meta`)).json()) as { stores: Array<{ wan: string }> };
      expect(meta.stores.map((s) => s.wan)).toEqual(['cable']);
    } finally {
      child.kill('SIGTERM');
    }
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
  }, 30_000);

  it('serve: a port in use is exit 1 with the reason', async () => {
    const first = spawn(process.execPath, [BIN, 'serve', '--db', fx.wanFile, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const port = await new Promise<string>((resolve) => {
        let out = '';
        first.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          const m = /127\.0\.0\.1:(\d+)\//.exec(out);
          if (m) resolve(m[1] as string);
        });
      });
      const second = await run(process.execPath, [BIN, 'serve', '--db', fx.wanFile, '--port', port]).catch(
        (e: { code: number; stderr: string }) => e,
      );
      expect((second as { code: number }).code).toBe(1);
      expect((second as { stderr: string }).stderr).toMatch(/already in use/);
    } finally {
      first.kill('SIGTERM');
    }
  }, 30_000);
});
