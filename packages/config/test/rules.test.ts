// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${VAR}" is wanctl config syntax, not a template
import { describe, expect, it } from 'vitest';
import { type ConfigError, formatProblem, parseAutorateConfig, parseConfigText } from '../src/index.js';
import { edit, MIN_AUTORATE, problemsOf } from './helpers.js';

const opts = { file: 'wan1.yaml', env: {} };
const ok = (text: string) => parseAutorateConfig(text, opts);
const bad = (text: string) => problemsOf(() => parseAutorateConfig(text, opts));
const paths = (text: string) => bad(text).map((p) => p.path);

describe('autorate: accepted minimal config and defaults', () => {
  it('fills every default', () => {
    const c = ok(MIN_AUTORATE);
    expect(c.schemaVersion).toBe('1.0');
    expect(c.router.transport).toBe('ssh');
    expect(c.router.fallbackTransport).toBeNull();
    expect(c.router.rest).toEqual({
      port: 443,
      scheme: 'https',
      verifyTls: false,
      caFile: null,
      certSha256: null,
    });
    expect(c.router.ssh).toEqual({
      port: 22,
      keyFile: '/etc/wanctl/ssh/router.key',
      knownHostsFile: null,
      hostKeySha256: null,
    });
    expect(c.router.callDeadlineMs).toBe(15000);
    expect(c.download.factorDownYellow).toBe(0.96);
    expect(c.upload.factorDownYellow).toBe(0.94);
    expect(c.download.greenRequired).toBe(5);
    expect(c.thresholds.hardRedBloatMs).toBe(80);
    expect(c.thresholds.baselineUpdateThresholdMs).toBe(3);
    expect(c.thresholds.accelThresholdMs).toBe(15);
    expect(c.thresholds.accelConfirmCycles).toBe(3);
    expect(c.cycleIntervalMs).toBe(50);
    expect(c.writeBudget).toEqual({ maxWrites: 10, windowSec: 60 });
    expect(c.fallback).toEqual({
      enabled: true,
      checkGateway: true,
      checkTcp: true,
      gatewayIp: null,
      tcpTargets: [
        { host: '1.1.1.1', port: 443 },
        { host: '8.8.8.8', port: 443 },
      ],
      mode: 'graceful_degradation',
      maxCycles: 3,
    });
    expect(c.stateFile).toBe('/run/wanctl/wan1_state.json');
    expect(c.timeouts).toEqual({ sshCommandSec: 15, pingSec: 1 });
    expect(c.healthCheck).toEqual({ enabled: true, host: '127.0.0.1', port: 9101 });
    expect(c.metrics).toEqual({ enabled: false, host: '127.0.0.1', port: 9100 });
    expect(c.useMedianOfThree).toBe(false);
    expect(c.raw['wan_name']).toBe('wan1');
  });

  it('Mbps become bps by × 1 000 000 without rounding', () => {
    const c = ok(edit(MIN_AUTORATE, /step_up_mbps: 0.5/, 'step_up_mbps: 0.3'));
    expect(c.upload.stepUpBps).toBe(0.3 * 1_000_000);
    expect(c.download.floorRedBps).toBe(25_000_000);
  });
});

describe('autorate: v1.3 rules, both sides', () => {
  it('wan_name identifier rule', () => {
    expect(ok(edit(MIN_AUTORATE, /wan_name: wan1/, 'wan_name: Cable_1.a-b')).wanName).toBe('Cable_1.a-b');
    expect(paths(edit(MIN_AUTORATE, /wan_name: wan1/, 'wan_name: "wan 1;reboot"'))).toEqual(['wan_name']);
    expect(paths(edit(MIN_AUTORATE, /wan_name: wan1/, `wan_name: ${'a'.repeat(65)}`))).toEqual(['wan_name']);
    expect(ok(edit(MIN_AUTORATE, /wan_name: wan1/, `wan_name: ${'a'.repeat(64)}`)).wanName).toHaveLength(64);
  });

  it('queue names identifier rule', () => {
    const p = bad(edit(MIN_AUTORATE, /download: WAN-Download-1/, 'download: "WAN Download"'));
    expect(p[0]).toMatchObject({ path: 'queues.download', message: 'not a valid identifier', line: 7 });
  });

  it('required keys', () => {
    const p = paths(edit(MIN_AUTORATE, /lock_timeout: 300\n/, ''));
    expect(p).toEqual(['lock_timeout']);
    expect(paths(edit(MIN_AUTORATE, / {4}ceiling_mbps: 100\n/, ''))).toEqual([
      'continuous_monitoring.download.ceiling_mbps',
    ]);
  });

  it('an explicit null counts as missing', () => {
    const p = bad(edit(MIN_AUTORATE, /lock_timeout: 300/, 'lock_timeout:'));
    expect(p[0]).toMatchObject({ path: 'lock_timeout', message: 'required key has no value' });
    // Optional keys with null take their default.
    expect(ok(`${MIN_AUTORATE}timeouts:\n  ssh_command:\n`).timeouts.sshCommandSec).toBe(15);
  });

  it.each([
    [
      'continuous_monitoring.download.ceiling_mbps',
      /ceiling_mbps: 100/,
      'ceiling_mbps: 10001',
      'ceiling_mbps: 10000',
    ],
    [
      'continuous_monitoring.upload.ceiling_mbps',
      /ceiling_mbps: 20/,
      'ceiling_mbps: 1001',
      'ceiling_mbps: 1000',
    ],
    [
      'continuous_monitoring.download.step_up_mbps',
      /step_up_mbps: 2/,
      'step_up_mbps: 0.05',
      'step_up_mbps: 0.1',
    ],
    [
      'continuous_monitoring.download.factor_down',
      /factor_down: 0.9/,
      'factor_down: 1.1',
      'factor_down: 1.0',
    ],
    [
      'continuous_monitoring.baseline_rtt_initial',
      /baseline_rtt_initial: 25/,
      'baseline_rtt_initial: 501',
      'baseline_rtt_initial: 500',
    ],
    [
      'continuous_monitoring.thresholds.target_bloat_ms',
      /target_bloat_ms: 5/,
      'target_bloat_ms: 0.5',
      'target_bloat_ms: 1',
    ],
    [
      'continuous_monitoring.thresholds.alpha_load',
      /alpha_load: 0.2/,
      'alpha_load: 0.0005',
      'alpha_load: 0.001',
    ],
    [
      'continuous_monitoring.thresholds.alpha_baseline',
      /alpha_baseline: 0.02/,
      'alpha_baseline: 1.5',
      'alpha_baseline: 1',
    ],
    ['lock_timeout', /lock_timeout: 300/, 'lock_timeout: 3601', 'lock_timeout: 3600'],
  ])('range of %s', (path, from, badLine, okLine) => {
    const p = bad(edit(MIN_AUTORATE, from, badLine));
    expect(p.map((x) => x.path)).toEqual([path]);
    expect(p[0]?.message).toBe('out of range');
    expect(p[0]?.expected).toMatch(/\[|≥|>/);
    ok(edit(MIN_AUTORATE, from, okLine));
  });

  it('factor_down_yellow and green_required ranges', () => {
    const dl = (line: string) => edit(MIN_AUTORATE, /factor_down: 0.9\n/, `factor_down: 0.9\n    ${line}\n`);
    expect(paths(dl('factor_down_yellow: 0.79'))).toEqual([
      'continuous_monitoring.download.factor_down_yellow',
    ]);
    expect(ok(dl('factor_down_yellow: 0.8')).download.factorDownYellow).toBe(0.8);
    expect(paths(dl('green_required: 11'))).toEqual(['continuous_monitoring.download.green_required']);
    expect(ok(dl('green_required: 10')).download.greenRequired).toBe(10);
    const ul = (line: string) =>
      edit(MIN_AUTORATE, /factor_down: 0.95\n/, `factor_down: 0.95\n    ${line}\n`);
    expect(paths(ul('factor_down_yellow: 0.89'))).toEqual([
      'continuous_monitoring.upload.factor_down_yellow',
    ]);
    expect(ok(ul('factor_down_yellow: 0.9')).upload.factorDownYellow).toBe(0.9);
  });

  it('an integer is accepted where a number is expected', () => {
    expect(ok(edit(MIN_AUTORATE, /factor_down: 0.9\n/, 'factor_down: 1\n')).download.factorDown).toBe(1);
  });

  it('per-state download floors: 4 floors, soft_red defaults to yellow', () => {
    const four = edit(
      MIN_AUTORATE,
      /floor_mbps: 25/,
      'floor_green_mbps: 80\n    floor_yellow_mbps: 60\n    floor_red_mbps: 30',
    );
    const c = ok(four);
    expect(c.download).toMatchObject({
      floorStyle: 'per-state',
      floorGreenBps: 80e6,
      floorYellowBps: 60e6,
      floorSoftRedBps: 60e6,
      floorRedBps: 30e6,
    });
    const withSoft = edit(four, /floor_red_mbps: 30/, 'floor_red_mbps: 30\n    floor_soft_red_mbps: 40');
    expect(ok(withSoft).download.floorSoftRedBps).toBe(40e6);
  });

  it('legacy floor: one value for every state', () => {
    expect(ok(MIN_AUTORATE).download).toMatchObject({
      floorStyle: 'legacy',
      floorGreenBps: 25e6,
      floorYellowBps: 25e6,
      floorSoftRedBps: 25e6,
      floorRedBps: 25e6,
    });
  });

  it('per-state upload floors are kept (D5)', () => {
    const c = ok(
      edit(
        MIN_AUTORATE,
        /floor_mbps: 5/,
        'floor_green_mbps: 15\n    floor_yellow_mbps: 10\n    floor_red_mbps: 5',
      ),
    );
    expect(c.upload).toMatchObject({
      floorStyle: 'per-state',
      floorGreenBps: 15e6,
      floorYellowBps: 10e6,
      floorSoftRedBps: 10e6,
      floorRedBps: 5e6,
    });
  });

  it('floor ordering: red ≤ soft_red ≤ yellow ≤ green ≤ ceiling', () => {
    const four = edit(
      MIN_AUTORATE,
      /floor_mbps: 25/,
      'floor_green_mbps: 80\n    floor_yellow_mbps: 90\n    floor_soft_red_mbps: 40\n    floor_red_mbps: 30',
    );
    const p = bad(four);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatchObject({ path: 'continuous_monitoring.download.floor_yellow_mbps', line: 15 });
    expect(p[0]?.message).toMatch(
      /floor ordering violated: floor_yellow_mbps \(90 Mbps\) must be ≤ floor_green_mbps \(80 Mbps\)/,
    );
    expect(paths(edit(MIN_AUTORATE, /floor_mbps: 25/, 'floor_mbps: 150'))).toEqual([
      'continuous_monitoring.download.floor_mbps',
    ]);
    expect(paths(edit(MIN_AUTORATE, /floor_mbps: 5/, 'floor_mbps: 21'))).toEqual([
      'continuous_monitoring.upload.floor_mbps',
    ]);
    ok(edit(MIN_AUTORATE, /floor_mbps: 25/, 'floor_mbps: 100')); // equal to ceiling is fine
  });

  it('threshold ordering: target < warn < hard_red (strict)', () => {
    expect(paths(edit(MIN_AUTORATE, /target_bloat_ms: 5/, 'target_bloat_ms: 15'))).toEqual([
      'continuous_monitoring.thresholds.target_bloat_ms',
    ]);
    const withHard = (v: number) =>
      edit(MIN_AUTORATE, /warn_bloat_ms: 15/, `warn_bloat_ms: 15\n    hard_red_bloat_ms: ${v}`);
    expect(paths(withHard(15))).toEqual(['continuous_monitoring.thresholds.hard_red_bloat_ms']);
    expect(ok(withHard(16)).thresholds.hardRedBloatMs).toBe(16);
    // warn above the default hard_red (80)
    expect(paths(edit(MIN_AUTORATE, /warn_bloat_ms: 15/, 'warn_bloat_ms: 90'))).toEqual([
      'continuous_monitoring.thresholds.warn_bloat_ms',
    ]);
  });

  it('alpha versus time constant: time constant wins and derives alpha = interval / τ', () => {
    const both = edit(
      MIN_AUTORATE,
      /alpha_load: 0.2/,
      'alpha_load: 0.2\n    load_time_constant_sec: 0.1\n    baseline_time_constant_sec: 50',
    );
    const c = ok(both);
    expect(c.thresholds.alphaLoad).toBe(0.5);
    expect(c.thresholds.alphaBaseline).toBe(0.001);
    expect(c.thresholds.loadTimeConstantSec).toBe(0.1);
    const raw = ok(MIN_AUTORATE);
    expect(raw.thresholds.alphaLoad).toBe(0.2);
    expect(raw.thresholds.loadTimeConstantSec).toBeNull();
    // A different cycle interval changes the derived alpha.
    const fast = edit(both, /ping_hosts:/, 'cycle_interval_ms: 25\n  ping_hosts:');
    expect(ok(fast).thresholds.alphaLoad).toBe(0.025 / 0.1);
  });

  it('alpha versus time constant: one of each pair is required', () => {
    const p = bad(edit(MIN_AUTORATE, / {4}alpha_load: 0.2\n/, ''));
    expect(p.map((x) => x.path)).toEqual(['continuous_monitoring.thresholds.load_time_constant_sec']);
    expect(p[0]?.message).toMatch(/load_time_constant_sec .* or alpha_load/);
    expect(p[0]?.line).toBe(23); // the thresholds mapping
  });

  it('time-constant ranges', () => {
    expect(paths(edit(MIN_AUTORATE, /alpha_load: 0.2/, 'load_time_constant_sec: 11'))).toEqual([
      'continuous_monitoring.thresholds.load_time_constant_sec',
    ]);
    expect(paths(edit(MIN_AUTORATE, /alpha_baseline: 0.02/, 'baseline_time_constant_sec: 0.5'))).toEqual([
      'continuous_monitoring.thresholds.baseline_time_constant_sec',
    ]);
  });

  it('slow raw alpha_load warns (v1.3 warning)', () => {
    const c = ok(edit(MIN_AUTORATE, /alpha_load: 0.2/, 'alpha_load: 0.005'));
    expect(c.warnings.map((w) => w.path)).toContain('continuous_monitoring.thresholds.alpha_load');
  });

  it('ping host rules', () => {
    ok(
      edit(
        MIN_AUTORATE,
        /ping_hosts: \[1.1.1.1\]/,
        'ping_hosts: ["2606:4700:4700::1111", one.one.one.one, 9.9.9.9]',
      ),
    );
    const p = bad(edit(MIN_AUTORATE, /ping_hosts: \[1.1.1.1\]/, 'ping_hosts: ["1.1.1.1", "-bad;rm -rf /"]'));
    expect(p[0]).toMatchObject({
      path: 'continuous_monitoring.ping_hosts[1]',
      message: 'not a valid ping host',
      line: 12,
    });
    expect(paths(edit(MIN_AUTORATE, /ping_hosts: \[1.1.1.1\]/, 'ping_hosts: []'))).toEqual([
      'continuous_monitoring.ping_hosts',
    ]);
    expect(paths(edit(MIN_AUTORATE, /ping_hosts: \[1.1.1.1\]/, 'ping_hosts: 1.1.1.1'))).toEqual([
      'continuous_monitoring.ping_hosts',
    ]);
  });

  it('spare_ping_hosts: default empty, validated like ping_hosts, a duplicate warns and is dropped', () => {
    expect(ok(MIN_AUTORATE).sparePingHosts).toEqual([]);
    const spares = (list: string, law = 'adaptive') =>
      edit(
        MIN_AUTORATE,
        /ping_hosts: \[1.1.1.1\]/,
        `ping_hosts: [1.1.1.1]\n  control_law: ${law}\n  spare_ping_hosts: ${list}`,
      );
    const c = ok(spares('["2606:4700:4700::1111", one.one.one.one, 1.1.1.1, 9.9.9.9, 9.9.9.9]'));
    expect(c.sparePingHosts).toEqual(['2606:4700:4700::1111', 'one.one.one.one', '9.9.9.9']);
    expect(c.warnings.map((w) => w.path)).toEqual([
      'continuous_monitoring.spare_ping_hosts[2]',
      'continuous_monitoring.spare_ping_hosts[4]',
    ]);
    expect(ok(spares('[]')).sparePingHosts).toEqual([]);
    expect(bad(spares('["9.9.9.9", "-bad;rm -rf /"]'))[0]).toMatchObject({
      path: 'continuous_monitoring.spare_ping_hosts[1]',
      message: 'not a valid ping host',
    });
    expect(paths(spares('9.9.9.9'))).toEqual(['continuous_monitoring.spare_ping_hosts']);
    // the v1.3 law has no bad-reflector report: spares do nothing there, and the config says so
    expect(ok(spares('[9.9.9.9]', 'v1.3')).warnings.map((w) => w.message)).toEqual([
      'spare_ping_hosts has no effect with control_law v1.3 (only the adaptive law reports bad reflectors)',
    ]);
  });

  it('fallback checks: mode enum and tcp_targets shape', () => {
    const fb = (body: string) =>
      `${MIN_AUTORATE.replace(/logging:/, `  fallback_checks:\n${body}\nlogging:`)}`;
    const c = ok(
      fb('    gateway_ip: 192.168.88.1\n    fallback_mode: freeze\n    tcp_targets: [["example.net", 80]]'),
    );
    expect(c.fallback).toMatchObject({
      gatewayIp: '192.168.88.1',
      mode: 'freeze',
      tcpTargets: [{ host: 'example.net', port: 80 }],
    });
    expect(paths(fb('    fallback_mode: bogus_mode'))).toEqual([
      'continuous_monitoring.fallback_checks.fallback_mode',
    ]);
    expect(paths(fb('    tcp_targets: [["1.1.1.1"]]'))).toEqual([
      'continuous_monitoring.fallback_checks.tcp_targets[0]',
    ]);
  });
});

describe('autorate: stricter than v1.3', () => {
  it('unknown keys are errors, with "did you mean" for near misses', () => {
    const p = bad(edit(MIN_AUTORATE, /floor_mbps: 25/, 'floor_mbps: 25\n    floor_red_mpbs: 20'));
    expect(p[0]).toMatchObject({
      path: 'continuous_monitoring.download.floor_red_mpbs',
      message: 'unknown key "floor_red_mpbs"; did you mean "floor_red_mbps"?',
      line: 15,
      column: 5,
    });
    const far = bad(`${MIN_AUTORATE}colour: blue\n`);
    expect(far[0]?.message).toBe('unknown key "colour"');
  });

  it('true is not an integer', () => {
    const p = bad(edit(MIN_AUTORATE, /lock_timeout: 300/, 'lock_timeout: true'));
    expect(p[0]).toMatchObject({
      path: 'lock_timeout',
      message: 'wrong type',
      expected: 'integer',
      found: 'true (boolean)',
    });
    const q = bad(edit(MIN_AUTORATE, /factor_down: 0.9\n/, 'factor_down: 0.9\n    green_required: true\n'));
    expect(q[0]?.path).toBe('continuous_monitoring.download.green_required');
  });

  it('missing floor keys are validation errors, not crashes', () => {
    const p = bad(edit(MIN_AUTORATE, /floor_mbps: 25/, 'floor_green_mbps: 80'));
    expect(p.map((x) => x.path).sort()).toEqual([
      'continuous_monitoring.download.floor_red_mbps',
      'continuous_monitoring.download.floor_yellow_mbps',
    ]);
    expect(p[0]?.line).toBe(13); // the download mapping
    expect(paths(edit(MIN_AUTORATE, / {4}floor_mbps: 25\n/, ''))).toEqual([
      'continuous_monitoring.download.floor_mbps',
    ]);
  });

  it('mixing floor styles is an error', () => {
    expect(paths(edit(MIN_AUTORATE, /floor_mbps: 25/, 'floor_mbps: 25\n    floor_red_mbps: 20'))).toEqual([
      'continuous_monitoring.download.floor_red_mbps',
    ]);
  });

  it('an empty file is an error', () => {
    for (const text of ['', '\n', '# only a comment\n', '---\n']) {
      const p = problemsOf(() => parseConfigText(text, opts));
      expect(p[0]?.message).toBe('the config file is empty');
    }
  });

  it('a top level that is not a mapping is an error', () => {
    expect(problemsOf(() => parseAutorateConfig('- a\n- b\n', opts))[0]?.message).toMatch(/mapping/);
  });

  it('baseline_rtt_bounds.min must be below max', () => {
    const t = edit(
      MIN_AUTORATE,
      /alpha_load: 0.2/,
      'alpha_load: 0.2\n    baseline_rtt_bounds: {min: 50, max: 40}',
    );
    expect(paths(t)).toEqual(['continuous_monitoring.thresholds.baseline_rtt_bounds.min']);
  });

  it('collects every problem at once, in document order', () => {
    const t = edit(
      edit(
        edit(MIN_AUTORATE, /wan_name: wan1/, 'wan_name: "bad name"'),
        /lock_timeout: 300/,
        'lock_timeout: 0',
      ),
      /factor_down: 0.9\n/,
      'factor_down: 2\n',
    );
    const p = bad(t);
    expect(p.map((x) => x.path)).toEqual([
      'wan_name',
      'continuous_monitoring.download.factor_down',
      'lock_timeout',
    ]);
    try {
      parseAutorateConfig(t, opts);
    } catch (err) {
      const lines = (err as ConfigError).message.split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatch(/^wan1\.yaml:1:1: wan_name: not a valid identifier/);
      expect(lines[2]).toMatch(
        /^wan1\.yaml:32:1: lock_timeout: out of range \(expected integer in \[1, 3600\], found 0\)$/,
      );
    }
  });
});

describe('router keys', () => {
  const withRouter = (lines: string) =>
    edit(MIN_AUTORATE, / {2}ssh_key: \/etc\/wanctl\/ssh\/router.key\n/, lines);

  it('transport is honoured and the other transport is the fallback when its credentials exist (D1)', () => {
    const env = { P: 'pw' };
    const c = parseAutorateConfig(withRouter('  transport: ssh\n  ssh_key: /k\n  password: "${P}"\n'), {
      file: 'x',
      env,
    });
    expect(c.router.transport).toBe('ssh');
    expect(c.router.fallbackTransport).toBe('rest');
    const r = parseAutorateConfig(withRouter('  transport: rest\n  password: "${P}"\n'), { file: 'x', env });
    expect(r.router.transport).toBe('rest');
    expect(r.router.fallbackTransport).toBeNull();
  });

  it('credentials of the primary transport are required', () => {
    expect(paths(withRouter(''))).toEqual(['router.ssh_key']);
    expect(paths(withRouter('  transport: rest\n'))).toEqual(['router.password']);
    expect(paths(withRouter('  transport: telnet\n  ssh_key: /k\n'))).toEqual(['router.transport']);
  });

  it('scheme defaults to https only on port 443; TLS and SSH pinning are normalised', () => {
    const fp = 'ab'.repeat(32);
    const c = ok(
      withRouter(
        `  ssh_key: /k\n  port: 8443\n  scheme: https\n  tls_fingerprint_sha256: "${fp}"\n  tls_ca_file: /etc/wanctl/router-ca.pem\n  ssh_host_key_sha256: "SHA256:${'A'.repeat(43)}"\n  ssh_known_hosts_file: /etc/wanctl/known_hosts\n  ssh_port: 2222\n  call_deadline_ms: 2000\n`,
      ),
    );
    expect(c.router.rest).toEqual({
      port: 8443,
      scheme: 'https',
      verifyTls: true,
      caFile: '/etc/wanctl/router-ca.pem',
      certSha256: Array(32).fill('AB').join(':'),
    });
    expect(c.router.ssh).toEqual({
      port: 2222,
      keyFile: '/k',
      knownHostsFile: '/etc/wanctl/known_hosts',
      hostKeySha256: `SHA256:${'A'.repeat(43)}`,
    });
    expect(c.router.callDeadlineMs).toBe(2000);
    expect(ok(withRouter('  ssh_key: /k\n  port: 8080\n')).router.rest.scheme).toBe('http');
    expect(paths(withRouter('  ssh_key: /k\n  tls_fingerprint_sha256: "xyz"\n'))).toEqual([
      'router.tls_fingerprint_sha256',
    ]);
    expect(paths(withRouter('  ssh_key: /k\n  port: 80\n  tls_ca_file: /ca.pem\n'))).toEqual([
      'router.scheme',
    ]);
    expect(paths(withRouter('  ssh_key: /k\n  ssh_host_key_sha256: "MD5:aa"\n'))).toEqual([
      'router.ssh_host_key_sha256',
    ]);
  });

  it('router.host must be an address or host name', () => {
    expect(paths(edit(MIN_AUTORATE, /host: 192.0.2.1/, 'host: "bad host;"'))).toEqual(['router.host']);
  });
});

describe('messages', () => {
  it('formatProblem renders file:line:col: path: message (expected, found)', () => {
    expect(
      formatProblem({
        file: 'a.yaml',
        path: 'x.y',
        line: 3,
        column: 5,
        message: 'bad',
        expected: 'int',
        found: '"s"',
      }),
    ).toBe('a.yaml:3:5: x.y: bad (expected int, found "s")');
    expect(formatProblem({ file: 'a.yaml', path: '', message: 'empty' })).toBe('a.yaml: empty');
  });

  it('a missing required key points at its parent mapping', () => {
    const p = bad(edit(MIN_AUTORATE, / {4}factor_down: 0.95\n/, ''));
    expect(p[0]).toMatchObject({ path: 'continuous_monitoring.upload.factor_down', line: 18, column: 3 });
  });

  it('flow-style mappings get positions too', () => {
    const t = edit(MIN_AUTORATE, / {2}download: WAN-Download-1\n {2}upload: WAN-Upload-1\n/, '').replace(
      'queues:\n',
      'queues: {download: WAN-Download-1, upload: "bad name"}\n',
    );
    expect(bad(t)[0]).toMatchObject({ path: 'queues.upload', line: 6, column: 36 });
  });
});

describe('RTT probe method (new optional key)', () => {
  it('defaults to ICMP through fping, as v1.3', () => {
    expect(ok(MIN_AUTORATE).probe).toEqual({ method: 'icmp', udpPort: 7 });
  });
  it('accepts UDP echo with a port', () => {
    const text = edit(
      MIN_AUTORATE,
      / {2}ping_hosts: \[1\.1\.1\.1\]\n/,
      '  ping_hosts: [127.0.0.1]\n  probe:\n    method: udp\n    udp_port: 9007\n',
    );
    expect(ok(text).probe).toEqual({ method: 'udp', udpPort: 9007 });
  });
  it('rejects an unknown method and a port out of range, with the key path', () => {
    const text = edit(
      MIN_AUTORATE,
      / {2}ping_hosts: \[1\.1\.1\.1\]\n/,
      '  ping_hosts: [127.0.0.1]\n  probe:\n    method: tcp\n    udp_port: 70000\n',
    );
    expect(paths(text)).toEqual(
      expect.arrayContaining(['continuous_monitoring.probe.method', 'continuous_monitoring.probe.udp_port']),
    );
  });
});
