import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAutorateConfig, parseSteeringConfig } from '../src/index.js';
import { ENV, edit, examplesDir, MIN_AUTORATE, problemsOf } from './helpers.js';

const opts = { file: 'wan1.yaml', env: {} };
const ROUTER = /router:\n {2}host: 192.0.2.1\n {2}user: admin\n {2}ssh_key: \/etc\/wanctl\/ssh\/router.key\n/;
const linux = (cake: string, router = 'router:\n  transport: linux-cake\n') =>
  MIN_AUTORATE.replace(ROUTER, `${router}cake_params:\n${cake}`);
const BASIC = '  download_interface: eth1\n  upload_interface: eth0\n';
const bad = (text: string) => problemsOf(() => parseAutorateConfig(text, opts));

describe('router.transport linux-cake', () => {
  it('needs no host, user or credentials and fills the cake_params defaults', () => {
    const c = parseAutorateConfig(linux(BASIC), opts);
    expect(c.router.transport).toBe('linux-cake');
    expect(c.router.fallbackTransport).toBeNull();
    const none = {
      overhead: undefined,
      mpu: undefined,
      memlimit: undefined,
      rttMs: undefined,
      diffserv: undefined,
      ackFilter: undefined,
      splitGso: undefined,
      ecn: undefined,
      nat: undefined,
      wash: undefined,
      ingress: undefined,
    };
    expect(c.cakeParams).toEqual({
      downloadInterface: 'eth1',
      uploadInterface: 'eth0',
      downloadQdisc: 'cake',
      uploadQdisc: 'cake',
      ...none,
      download: none,
      upload: none,
      tbfLatencyMs: 5,
    });
    // no write budget on the kernel: a write every 50 ms cycle always fits
    expect(c.writeBudget).toEqual({ maxWrites: 41, windowSec: 1 });
  });

  it('reads every CAKE option', () => {
    const c = parseAutorateConfig(
      linux(
        `${BASIC}  download_qdisc: tbf\n  upload_qdisc: htb_fq_codel\n  overhead: docsis\n  mpu: 64\n  memlimit: 33554432\n  rtt: 40\n  diffserv: diffserv4\n  ack_filter: aggressive\n  split_gso: false\n  ecn: true\n  nat: true\n  wash: false\n  ingress: true\n  tbf_latency_ms: 8\n`,
      ),
      opts,
    );
    expect(c.cakeParams).toMatchObject({
      downloadQdisc: 'tbf',
      uploadQdisc: 'htb_fq_codel',
      overhead: 'docsis',
      mpu: 64,
      memlimit: 33554432,
      rttMs: 40,
      diffserv: 'diffserv4',
      ackFilter: 'aggressive',
      splitGso: false,
      ecn: true,
      nat: true,
      wash: false,
      ingress: true,
      tbfLatencyMs: 8,
    });
    // CAKE-only keys are ignored (with a warning) when no direction uses cake
    expect(c.warnings.map((w) => w.path)).toContain('cake_params.diffserv');
  });

  it('per-direction options override the shared ones (ingress on download, ack-filter on upload)', () => {
    const c = parseAutorateConfig(
      linux(
        `${BASIC}  diffserv: diffserv4\n  overhead: docsis\n  ack_filter: false\n  download:\n    ingress: true\n  upload:\n    ack_filter: true\n    overhead: 22\n`,
      ),
      opts,
    );
    expect(c.cakeParams?.download).toMatchObject({
      diffserv: 'diffserv4',
      overhead: 'docsis',
      ackFilter: false,
      ingress: true,
    });
    expect(c.cakeParams?.upload).toMatchObject({
      diffserv: 'diffserv4',
      overhead: 22,
      ackFilter: true,
      ingress: undefined,
    });
    expect(
      bad(linux(`${BASIC}  upload:\n    overhead: dsl\n    bogus: 1\n`))
        .map((p) => p.path)
        .sort(),
    ).toEqual(['cake_params.upload.bogus', 'cake_params.upload.overhead']);
  });

  it('honours an explicit write_budget', () => {
    const text = linux(BASIC).replace(
      '  thresholds:',
      '  write_budget:\n    max_writes: 100\n    window_sec: 10\n  thresholds:',
    );
    expect(parseAutorateConfig(text, opts).writeBudget).toEqual({ maxWrites: 100, windowSec: 10 });
  });

  it('refuses a missing cake_params, a bad keyword, bad values and ecn false with cake', () => {
    const none = MIN_AUTORATE.replace(ROUTER, 'router:\n  transport: linux-cake\n');
    expect(bad(none).map((p) => p.path)).toEqual(['cake_params']);
    const problems = bad(
      linux(
        '  download_interface: eth1\n  upload_interface: eth1\n  overhead: dsl\n  mpu: 300\n  diffserv: diffserv5\n  ack_filter: maybe\n  ecn: false\n',
      ),
    );
    expect(problems.map((p) => p.path).sort()).toEqual([
      'cake_params.ack_filter',
      'cake_params.diffserv',
      'cake_params.ecn',
      'cake_params.mpu',
      'cake_params.overhead',
      'cake_params.upload_interface',
    ]);
    expect(problems.find((p) => p.path === 'cake_params.overhead')?.expected).toMatch(/docsis/);
    expect(bad(linux('  download_interface: eth1\n')).map((p) => p.path)).toEqual([
      'cake_params.upload_interface',
    ]);
  });

  it('refuses cake_params with a RouterOS transport (it would be silently unused)', () => {
    const text = MIN_AUTORATE.replace(
      ROUTER,
      `router:\n  host: 192.0.2.1\n  user: admin\n  ssh_key: /k\ncake_params:\n${BASIC}`,
    );
    expect(bad(text).map((p) => p.path)).toEqual(['cake_params']);
  });

  it('still requires host and user for rest and ssh', () => {
    const text = MIN_AUTORATE.replace(ROUTER, 'router:\n  ssh_key: /k\n');
    expect(
      bad(text)
        .map((p) => p.path)
        .sort(),
    ).toEqual(['router.host', 'router.user']);
  });

  it('examples/linux-cake.yaml loads without a warning', () => {
    const c = parseAutorateConfig(readFileSync(join(examplesDir, 'linux-cake.yaml'), 'utf8'), opts);
    expect(c.warnings).toEqual([]);
    expect(c.cakeParams).toMatchObject({
      downloadInterface: 'eth1',
      uploadInterface: 'eth0',
      overhead: 'ethernet',
      rttMs: 40,
    });
  });

  it('is not a steering transport', () => {
    const steering = readFileSync(join(examplesDir, 'steering.yaml'), 'utf8');
    const text = edit(steering, /\ntransport: .*|\n {2}transport: .*/, '\n  transport: linux-cake');
    const o = { file: 'steering.yaml', env: ENV };
    expect(problemsOf(() => parseSteeringConfig(text, o)).map((p) => p.path)).toContain('router.transport');
  });
});
