import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  autorateConfig,
  CONFIG_LIB_BUILT,
  cleanup,
  freePort,
  makeFakeSystemctl,
  REPO,
  run,
  SCRIPTS,
  tempDir,
} from './helpers.js';

const VALIDATE = path.join(SCRIPTS, 'validate-deployment.sh');
const UID = 4242;

/** A root laid out as install.sh leaves it, with wanctl as uid/gid 4242 in its own passwd. */
function makeRoot(dir: string, secrets = 'WANCTL_ROUTER_PASSWORD=admin\n'): string {
  for (const d of ['etc/wanctl', 'var/lib/wanctl', 'var/log/wanctl', 'run/wanctl', 'etc/systemd/system']) {
    fs.mkdirSync(path.join(dir, d), { recursive: true });
  }
  fs.writeFileSync(
    path.join(dir, 'etc/passwd'),
    `root:x:0:0::/root:/bin/sh\nwanctl:x:${UID}:${UID}::/var/lib/wanctl:/usr/sbin/nologin\n`,
  );
  fs.writeFileSync(path.join(dir, 'etc/group'), `root:x:0:\nwanctl:x:${UID}:\n`);
  for (const d of ['var/lib/wanctl', 'var/log/wanctl', 'run/wanctl']) {
    fs.chownSync(path.join(dir, d), UID, UID);
    fs.chmodSync(path.join(dir, d), 0o750);
  }
  fs.writeFileSync(path.join(dir, 'etc/wanctl/secrets'), secrets, { mode: 0o640 });
  fs.chownSync(path.join(dir, 'etc/wanctl/secrets'), 0, UID);
  for (const u of ['wanctl-autorate@.service', 'wanctl-steering.service']) {
    fs.copyFileSync(path.join(REPO, 'deploy/systemd', u), path.join(dir, 'etc/systemd/system', u));
  }
  return dir;
}

interface Report {
  status: number;
  ok: number;
  warnings: number;
  errors: number;
  findings: Array<{ level: string; check: string; message: string }>;
}

async function validateJson(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Report & { code: number }> {
  const r = await run('bash', [VALIDATE, ...args, '--json'], { env });
  let parsed: Report;
  try {
    parsed = JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
  return { ...parsed, code: r.code };
}

const problems = (rep: Report) => rep.findings.filter((f) => f.level !== 'ok');

describe.skipIf(!CONFIG_LIB_BUILT)('validate-deployment.sh: local checks', () => {
  let work: string;
  let root: string;
  beforeAll(() => {
    work = tempDir('validate');
    root = makeRoot(path.join(work, 'root'));
  });
  afterAll(() => cleanup(work));

  const cfg = (name: string, text: string) => {
    const f = path.join(root, 'etc/wanctl', name);
    fs.writeFileSync(f, text);
    return f;
  };
  const local = ['--skip', 'router,units,health', '--root'];

  it('a sound host has no findings but OK lines, and exits 0', async () => {
    const f = cfg('cable.yaml', autorateConfig({ wan: 'cable' }));
    const r = await run('bash', [VALIDATE, '--config', f, ...local, root]);
    expect(r.stdout).not.toMatch(/^(WARN|FAIL)/m);
    expect(r.stdout).toMatch(/^OK {3}config {3}\S+cable\.yaml: valid/m);
    expect(r.stdout).toMatch(/^OK {3}dirs {5}\/run\/wanctl is writable by wanctl$/m);
    expect(r.stdout).toMatch(/^validate: \d+ ok, 0 warning\(s\), 0 error\(s\)$/m);
    expect(r.code).toBe(0);
  });

  it('a world-readable secrets file is an error that says how to fix it', async () => {
    const f = cfg('cable.yaml', autorateConfig({ wan: 'cable' }));
    fs.chmodSync(path.join(root, 'etc/wanctl/secrets'), 0o644);
    try {
      const rep = await validateJson(['--config', f, ...local, root]);
      expect(rep.code).toBe(1);
      expect(problems(rep)).toEqual([
        {
          level: 'error',
          check: 'secrets',
          message:
            '/etc/wanctl/secrets is readable by every user (mode 644); fix: chmod 0640 /etc/wanctl/secrets',
        },
      ]);
    } finally {
      fs.chmodSync(path.join(root, 'etc/wanctl/secrets'), 0o640);
    }
  });

  it('a config variable the secrets file does not define is an error naming the variable', async () => {
    const f = cfg(
      'dsl.yaml',
      autorateConfig({ wan: 'dsl' }).replace('WANCTL_ROUTER_PASSWORD', 'DSL_PASSWORD'),
    );
    const rep = await validateJson(['--config', f, ...local, root]);
    expect(rep.code).toBe(1);
    const p = problems(rep);
    expect(p).toHaveLength(1);
    expect(p[0]?.check).toBe('secrets');
    expect(p[0]?.message).toContain(`uses \${DSL_PASSWORD}`);
    expect(p[0]?.message).toContain('fix: add DSL_PASSWORD=... to');
  });

  it('an invalid config is reported with its key path; a lock outside the writable dirs too', async () => {
    const bad = cfg('bad.yaml', autorateConfig({ wan: 'bad', extra: 'lock_timout: 5\n' }));
    const elsewhere = cfg(
      'odd.yaml',
      autorateConfig({ wan: 'odd' }).replace(
        'lock_file: "/run/wanctl/odd.lock"',
        'lock_file: "/srv/odd.lock"',
      ),
    );
    const rep = await validateJson(['--config', bad, '--config', elsewhere, ...local, root]);
    expect(rep.code).toBe(1);
    const msgs = problems(rep).map((f) => `${f.level} ${f.check} ${f.message}`);
    expect(msgs.some((m) => m.startsWith('error config') && m.includes('lock_timout'))).toBe(true);
    expect(
      msgs.some(
        (m) =>
          m.startsWith('error dirs') &&
          m.includes('/srv') &&
          m.includes('ProtectSystem=strict') &&
          m.includes('fix:'),
      ),
    ).toBe(true);
  });

  it('two configs on one health port are an error', async () => {
    const a = cfg('a.yaml', autorateConfig({ wan: 'a', healthEnabled: true, healthPort: 9111 }));
    const b = cfg('b.yaml', autorateConfig({ wan: 'b', healthEnabled: true, healthPort: 9111 }));
    const rep = await validateJson(['--config', a, '--config', b, ...local, root]);
    expect(rep.code).toBe(1);
    expect(problems(rep).map((f) => f.message)).toEqual([
      expect.stringMatching(
        /both listen on 127\.0\.0\.1:9111; fix: give each config its own health_check\.port/,
      ),
    ]);
  });

  it('warnings only exit 3 (an unpinned TLS certificate)', async () => {
    const f = cfg(
      'tls.yaml',
      autorateConfig({ wan: 'tls' }).replace('port: 8728', 'port: 443\n  verify_ssl: false'),
    );
    const rep = await validateJson(['--config', f, ...local, root]);
    expect(problems(rep).map((x) => x.level)).toEqual(['warning']);
    expect(problems(rep)[0]?.message).toContain('tls_fingerprint_sha256');
    expect(rep.code).toBe(3);
    expect(rep.status).toBe(3);
  });

  it('bad arguments exit 2 with a pointer to --help, and check nothing', async () => {
    for (const args of [
      ['--only', 'nonsense'],
      ['--wait', 'soon'],
      ['--root', path.join(work, 'nowhere')],
    ]) {
      const r = await run('bash', [VALIDATE, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain('(see --help)');
      expect(r.stdout, args.join(' ')).toBe('');
    }
  });

  describe('tc: router.transport linux-cake and the unit’s CAP_NET_ADMIN', () => {
    const units = () => path.join(root, 'etc/systemd/system');
    const dropinDir = (wan: string) => path.join(units(), `wanctl-autorate@${wan}.service.d`);
    const installDropin = (wan: string) => {
      fs.mkdirSync(dropinDir(wan), { recursive: true });
      fs.copyFileSync(
        path.join(REPO, 'deploy/systemd/wanctl-autorate@.service.d/linux-cake.conf'),
        path.join(dropinDir(wan), 'linux-cake.conf'),
      );
    };
    const lcConfig = (wan: string) =>
      cfg(
        `${wan}.yaml`,
        autorateConfig({ wan })
          .replace('transport: "rest"', 'transport: "linux-cake"')
          .concat('cake_params: {download_interface: "ifb0", upload_interface: "eth0"}\n'),
      );
    // Only the tc findings: whether this branch's config schema knows linux-cake is not the point.
    const tcFindings = async (f: string) =>
      (await validateJson(['--config', f, '--only', 'tc', '--root', root])).findings.filter(
        (x) => x.check === 'tc',
      );
    afterAll(() => {
      for (const w of ['lc1', 'lc2', 'cable']) fs.rmSync(dropinDir(w), { recursive: true, force: true });
    });

    it('a linux-cake config under the plain unit is an error naming the drop-in', async () => {
      const f = lcConfig('lc1');
      const tc = await tcFindings(f);
      expect(tc.filter((x) => x.level === 'error').map((x) => x.message)).toEqual([
        expect.stringMatching(
          /lc1\.yaml: router\.transport is linux-cake, but wanctl-autorate@lc1\.service does not grant CAP_NET_ADMIN, so tc cannot change the qdiscs; fix: run scripts\/install\.sh again .*linux-cake\.conf/,
        ),
      ]);
      // tc itself and the scheduler clock file it reads are checked too.
      expect(tc.map((x) => x.message)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^tc is installed \(/),
          expect.stringContaining('/proc/net/psched'),
        ]),
      );
    });

    it('with the linux-cake drop-in the unit grants CAP_NET_ADMIN', async () => {
      const f = lcConfig('lc2');
      installDropin('lc2');
      const tc = await tcFindings(f);
      expect(tc.filter((x) => x.level !== 'ok')).toEqual([]);
      expect(tc.map((x) => x.message)).toContain(
        `${f}: wanctl-autorate@lc2.service grants CAP_NET_ADMIN for tc (router.transport linux-cake)`,
      );
    });

    it('a later drop-in that resets the capabilities takes CAP_NET_ADMIN away again', async () => {
      const f = lcConfig('lc2');
      fs.writeFileSync(
        path.join(dropinDir('lc2'), 'zz-local.conf'),
        '[Service]\nCapabilityBoundingSet=\nCapabilityBoundingSet=CAP_NET_RAW\n',
      );
      try {
        const tc = await tcFindings(f);
        expect(tc.filter((x) => x.level === 'error').map((x) => x.message)).toEqual([
          expect.stringContaining('does not grant CAP_NET_ADMIN'),
        ]);
      } finally {
        fs.rmSync(path.join(dropinDir('lc2'), 'zz-local.conf'));
      }
      // "~" removes from the set: the drop-in's grant survives a "~CAP_SYS_ADMIN", not a "~CAP_NET_ADMIN".
      fs.writeFileSync(
        path.join(dropinDir('lc2'), 'zz-local.conf'),
        '[Service]\nCapabilityBoundingSet=~CAP_SYS_ADMIN\n',
      );
      expect((await tcFindings(f)).filter((x) => x.level !== 'ok')).toEqual([]);
      fs.writeFileSync(
        path.join(dropinDir('lc2'), 'zz-local.conf'),
        '[Service]\nCapabilityBoundingSet=~CAP_NET_ADMIN\n',
      );
      expect((await tcFindings(f)).filter((x) => x.level === 'error')).toHaveLength(1);
      fs.rmSync(path.join(dropinDir('lc2'), 'zz-local.conf'));
    });

    it('a RouterOS config whose unit grants CAP_NET_ADMIN is a warning; without it, no tc finding', async () => {
      const f = cfg('cable.yaml', autorateConfig({ wan: 'cable' }));
      expect(await tcFindings(f)).toEqual([]);
      installDropin('cable');
      const tc = await tcFindings(f);
      expect(tc.map((x) => [x.level, x.message])).toEqual([
        [
          'warning',
          expect.stringMatching(
            /cable\.yaml: router\.transport is rest, yet wanctl-autorate@cable\.service grants CAP_NET_ADMIN, which only linux-cake needs; fix: rm \/etc\/systemd\/system\/wanctl-autorate@cable\.service\.d\/linux-cake\.conf/,
          ),
        ],
      ]);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Against the RouterOS emulator, through the real wanctl-router probe.

const EMULATOR = path.join(REPO, 'packages/routeros-emulator/dist/index.js');
const ROUTER_CLI = path.join(REPO, 'packages/router-client/dist/cli.js');
const EMULATOR_READY = CONFIG_LIB_BUILT && fs.existsSync(EMULATOR) && fs.existsSync(ROUTER_CLI);

interface EmulatorLike {
  rest?: { port: number; cert?: string };
  ssh?: { port: number; hostKeyFingerprint: string };
  state: {
    find(path: string, filter?: Record<string, string>): Array<Record<string, string>>;
    remove(path: string, ref: string): void;
  };
  stop(): Promise<void>;
}

describe.skipIf(!EMULATOR_READY)('validate-deployment.sh against the RouterOS emulator', () => {
  let work: string;
  let root: string;
  let emu: EmulatorLike;
  let health: http.Server;
  let healthPort: number;
  let fakeSystemd: string;
  let wan: string;
  let steering: string;

  beforeAll(async () => {
    work = tempDir('validate-emu');
    root = makeRoot(path.join(work, 'root'));
    const key = path.join(root, 'etc/wanctl/ssh/router.key');
    fs.mkdirSync(path.dirname(key), { recursive: true });
    const kg = await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'wanctl', '-f', key]);
    expect(kg.code).toBe(0);
    // As install.sh's README asks: the daemons (group wanctl) may read it, nobody else.
    fs.chownSync(key, 0, UID);
    fs.chmodSync(key, 0o640);
    const mod = (await import(EMULATOR)) as {
      startEmulator(o: Record<string, unknown>): Promise<EmulatorLike>;
    };
    emu = await mod.startEmulator({
      tls: true,
      users: [
        {
          name: 'admin',
          password: 'admin',
          group: 'full',
          authorizedKeys: [fs.readFileSync(`${key}.pub`, 'utf8').trim()],
        },
      ],
    });
    const certSha256 = new X509Certificate(emu.rest?.cert ?? '').fingerprint256;

    // Stand-ins for what is not the router: the running daemons' health endpoint and systemd.
    healthPort = await freePort();
    health = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'healthy' }));
    });
    await new Promise<void>((resolve) => health.listen(healthPort, '127.0.0.1', resolve));
    fakeSystemd = path.join(work, 'systemd');
    fs.mkdirSync(path.join(fakeSystemd, 'enabled'), { recursive: true });
    fs.mkdirSync(path.join(fakeSystemd, 'active'), { recursive: true });
    makeFakeSystemctl(fakeSystemd);
    for (const u of ['wanctl-autorate@wan1.service', 'wanctl-steering.service']) {
      fs.writeFileSync(path.join(fakeSystemd, 'enabled', u), '');
      fs.writeFileSync(path.join(fakeSystemd, 'active', u), '');
    }
    fs.writeFileSync(path.join(root, 'run/wanctl/wan1_state.json'), '{}');

    const router = [
      'router:',
      '  transport: "rest"',
      '  host: "127.0.0.1"',
      '  user: "admin"',
      `  password: "\${WANCTL_ROUTER_PASSWORD}"`,
      `  port: ${emu.rest?.port}`,
      '  scheme: "https"',
      `  tls_fingerprint_sha256: "${certSha256}"`,
      `  ssh_key: "${key}"`,
      `  ssh_port: ${emu.ssh?.port}`,
      `  ssh_host_key_sha256: "${emu.ssh?.hostKeyFingerprint}"`,
    ].join('\n');
    wan = path.join(root, 'etc/wanctl/wan1.yaml');
    fs.writeFileSync(
      wan,
      autorateConfig({
        wan: 'wan1',
        queues: { download: 'WAN-Download-1', upload: 'WAN-Upload-1' },
        healthEnabled: true,
        healthPort,
      }).replace(/^router:\n(?: {2}.*\n)+/m, `${router}\n`),
    );
    steering = path.join(root, 'etc/wanctl/steering.yaml');
    fs.writeFileSync(
      steering,
      fs
        .readFileSync(path.join(REPO, 'examples/steering.yaml'), 'utf8')
        .replace(/^router:\n(?: {2}.*\n)+/m, `${router}\n`)
        .replace('ping_host: "1.1.1.1"', 'ping_host: "127.0.0.1"')
        .concat('health_check: {enabled: false}\n'),
    );
  });
  afterAll(async () => {
    await emu?.stop();
    await new Promise<void>((resolve) => (health ? health.close(() => resolve()) : resolve()));
    cleanup(work);
  });

  const validate = (...extra: string[]) =>
    validateJson(['--config', wan, '--steering', steering, '--root', root, ...extra], {
      ...process.env,
      WANCTL_SYSTEMCTL: path.join(fakeSystemd, 'systemctl'),
    });

  it('a healthy setup: both transports answer, queues, queue types and the rule exist; exit 0', async () => {
    const rep = await validate();
    expect(problems(rep)).toEqual([]);
    expect(rep.code).toBe(0);
    const router = rep.findings.filter((f) => f.check === 'router').map((f) => f.message);
    expect(
      router.some((m) => /wan1\.yaml: router 127\.0\.0\.1 over rest \(primary\) answers as/.test(m)),
    ).toBe(true);
    expect(
      router.some((m) => /wan1\.yaml: router 127\.0\.0\.1 over ssh \(fallback\) answers as/.test(m)),
    ).toBe(true);
    expect(router.some((m) => m.includes('queue type "cake-down-wan1" exists (rest, ssh)'))).toBe(true);
    expect(
      router.some((m) => m.includes('mangle rule "ADAPTIVE: Steer latency-sensitive to WAN2" exists')),
    ).toBe(true);
    expect(rep.findings.some((f) => f.check === 'health' && f.message.includes('answers'))).toBe(true);
    expect(
      rep.findings.some(
        (f) => f.check === 'secrets' && f.message.endsWith('router.key is readable by wanctl only'),
      ),
    ).toBe(true);
    expect(
      rep.findings.some((f) => f.check === 'units' && f.message === 'wanctl-steering.service is active'),
    ).toBe(true);
  });

  it('a missing queue is an error finding with what to do; exit 1', async () => {
    const [q] = emu.state.find('/queue/tree', { name: 'WAN-Upload-1' });
    emu.state.remove('/queue/tree', q?.['.id'] ?? '');
    const rep = await validate('--only', 'config,router');
    expect(rep.code).toBe(1);
    const errs = problems(rep);
    expect(errs.length).toBeGreaterThan(0);
    expect(errs.every((f) => f.level === 'error' && f.check === 'router')).toBe(true);
    expect(errs[0]?.message).toMatch(
      /wan1\.yaml: queue tree "WAN-Upload-1" \(rest, ssh\): .*; fix: create the CAKE queue tree entry/,
    );
  });

  it('a missing mangle rule is an error finding for steering; exit 1', async () => {
    const [rule] = emu.state.find('/ip/firewall/mangle', {
      comment: 'ADAPTIVE: Steer latency-sensitive to WAN2',
    });
    emu.state.remove('/ip/firewall/mangle', rule?.['.id'] ?? '');
    const rep = await validateJson(['--steering', steering, '--root', root, '--only', 'config,router']);
    expect(rep.code).toBe(1);
    const errs = problems(rep);
    expect(errs).toHaveLength(1);
    expect(errs[0]?.message).toMatch(
      /steering\.yaml: mangle rule "ADAPTIVE: Steer latency-sensitive to WAN2" \(rest, ssh\): no rule has exactly this comment; fix: add the mangle rule/,
    );
  });
});
