import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  autorateConfig,
  CONFIG_LIB_BUILT,
  cleanup,
  makeFakeBundle,
  makeFakeSystemctl,
  REPO,
  run,
  SCRIPTS,
  systemctlCalls,
  tempDir,
} from './helpers.js';
import { SSHD, startSshd, type TestSshd } from './sshd.js';

const DEPLOY = path.join(SCRIPTS, 'deploy.sh');

function steeringConfig(): string {
  return fs
    .readFileSync(path.join(REPO, 'examples/steering.yaml'), 'utf8')
    .replace('host: "router.example.net"', 'host: "127.0.0.1"')
    .replace('  ssh_key: "/etc/wanctl/ssh/router.key"\n', '')
    .replace('port: 443', 'port: 8728')
    .replace('ping_host: "1.1.1.1"', 'ping_host: "127.0.0.1"')
    .replace('primary_wan: "wan1"', 'primary_wan: "cable"')
    .replace('/run/wanctl/wan1_state.json', '/run/wanctl/cable_state.json')
    .concat('health_check: {enabled: false}\n');
}

describe.skipIf(!SSHD || !CONFIG_LIB_BUILT)('deploy.sh to a real OpenSSH server on 127.0.0.1', () => {
  let work: string;
  let sshd: TestSshd;
  let bundle: string;
  let target: string;
  let configs: string;
  let fakeSystemd: string;

  beforeAll(async () => {
    work = tempDir('deploy');
    sshd = await startSshd(path.join(work, 'sshd'));
    bundle = makeFakeBundle(path.join(work, 'bundle'));
    target = path.join(work, 'target');
    fs.mkdirSync(path.join(target, 'etc/wanctl'), { recursive: true });
    // The host's secrets: deploy never ships or touches them.
    fs.writeFileSync(path.join(target, 'etc/wanctl/secrets'), 'WANCTL_ROUTER_PASSWORD=s3cret\n', {
      mode: 0o640,
    });
    configs = path.join(work, 'configs');
    fs.mkdirSync(configs);
    fs.writeFileSync(path.join(configs, 'cable.yaml'), autorateConfig({ wan: 'cable', healthPort: 9301 }));
    fs.writeFileSync(path.join(configs, 'dsl.yaml'), autorateConfig({ wan: 'dsl', healthPort: 9302 }));
    fs.writeFileSync(path.join(configs, 'steering.yaml'), steeringConfig());
    fakeSystemd = path.join(work, 'systemd');
    fs.mkdirSync(fakeSystemd);
    makeFakeSystemctl(fakeSystemd);
  });
  afterAll(async () => {
    await sshd?.stop();
    cleanup(work);
  });

  const deploy = (...args: string[]) =>
    run('bash', [
      DEPLOY,
      'root@127.0.0.1',
      ...sshd.sshArgs,
      '--bundle',
      bundle,
      '--config-dir',
      configs,
      '--target-root',
      target,
      '--remote-env',
      `WANCTL_SYSTEMCTL=${path.join(fakeSystemd, 'systemctl')}`,
      ...args,
    ]);

  const restarts = () =>
    systemctlCalls(fakeSystemd)
      .filter((c) => c.startsWith('restart '))
      .map((c) => c.slice('restart '.length));

  it('first deploy installs, ships the configs, validates, enables and starts the units', async () => {
    const r = await deploy('--wan', 'cable', '--wan', 'dsl', '--with-steering');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // Installed on the target, under the target root.
    expect(fs.existsSync(path.join(target, 'opt/wanctl/bin/wanctl-autorate'))).toBe(true);
    expect(fs.existsSync(path.join(target, 'etc/systemd/system/wanctl-autorate@.service'))).toBe(true);
    for (const c of ['cable.yaml', 'dsl.yaml', 'steering.yaml']) {
      expect(fs.readFileSync(path.join(target, 'etc/wanctl', c), 'utf8')).toBe(
        fs.readFileSync(path.join(configs, c), 'utf8'),
      );
    }
    expect(fs.readFileSync(path.join(target, 'etc/wanctl/secrets'), 'utf8')).toBe(
      'WANCTL_ROUTER_PASSWORD=s3cret\n',
    );
    // The validation report is printed, with its summary.
    expect(r.stdout).toContain('validating on root@127.0.0.1 (before starting)');
    expect(r.stdout).toMatch(/OK {3}config {3}\S*cable\.yaml: valid/);
    expect(r.stdout).toMatch(
      /OK {3}router {3}\S*cable\.yaml: router 127\.0\.0\.1 over rest \(primary\) answers as "FakeRouter", latency p50 1\.2 ms/,
    );
    expect(r.stdout).toContain('validation passed');
    // Every selected unit enabled and started; nothing else.
    const units = ['wanctl-autorate@cable.service', 'wanctl-autorate@dsl.service', 'wanctl-steering.service'];
    expect(restarts().sort()).toEqual([...units].sort());
    for (const u of units) {
      expect(systemctlCalls(fakeSystemd)).toContain(`enable ${u}`);
      expect(r.stdout).toContain(`restarted ${u}`);
    }
    expect(r.stdout).toMatch(/changed: .*code/);
    // Nothing is left in the remote temporary directory.
    expect(fs.readdirSync('/tmp').filter((f) => f.startsWith('wanctl-deploy.'))).toEqual([]);
  });

  it('a second deploy with nothing changed restarts nothing', async () => {
    fs.writeFileSync(path.join(fakeSystemd, 'calls.log'), '');
    const r = await deploy('--wan', 'cable', '--wan', 'dsl', '--with-steering');
    expect(r.code).toBe(0);
    expect(restarts()).toEqual([]);
    expect(r.stdout).toContain('nothing changed on the host');
    expect(r.stdout).toContain('wanctl-autorate@cable.service: unchanged, left running');
    expect(r.stdout).toContain('restarted: none');
  });

  it('a changed config restarts only that WAN’s unit and keeps the old config as .bak', async () => {
    fs.writeFileSync(path.join(fakeSystemd, 'calls.log'), '');
    fs.appendFileSync(path.join(configs, 'dsl.yaml'), '# retuned\n');
    const r = await deploy('--wan', 'cable', '--wan', 'dsl', '--with-steering');
    expect(r.code).toBe(0);
    expect(restarts()).toEqual(['wanctl-autorate@dsl.service']);
    expect(r.stdout).toContain('restarted wanctl-autorate@dsl.service (config changed)');
    expect(fs.readdirSync(path.join(target, 'etc/wanctl')).some((f) => /^dsl\.yaml\..*\.bak$/.test(f))).toBe(
      true,
    );
  });

  it('new code restarts every running wanctl unit, also ones not named on this deploy', async () => {
    fs.writeFileSync(path.join(fakeSystemd, 'calls.log'), '');
    fs.appendFileSync(path.join(bundle, 'apps/autorate/dist/cli.js'), '// v2\n');
    const r = await deploy('--wan', 'cable');
    expect(r.code).toBe(0);
    expect(restarts().sort()).toEqual(
      ['wanctl-autorate@cable.service', 'wanctl-autorate@dsl.service', 'wanctl-steering.service'].sort(),
    );
    expect(r.stdout).toContain('restarted wanctl-autorate@dsl.service (code changed)');
  });

  it('validation findings warn and do not block; --strict blocks the restart and exits 1', async () => {
    // A router without the configured queue: the probe reports it and fails.
    const broken = makeFakeBundle(path.join(work, 'bundle-broken'), 'WAN-Download-cable');
    fs.appendFileSync(path.join(configs, 'cable.yaml'), '# change 1\n');
    fs.writeFileSync(path.join(fakeSystemd, 'calls.log'), '');
    const args = [
      'root@127.0.0.1',
      ...sshd.sshArgs,
      '--bundle',
      broken,
      '--config-dir',
      configs,
      '--target-root',
      target,
      '--remote-env',
      `WANCTL_SYSTEMCTL=${path.join(fakeSystemd, 'systemctl')}`,
      '--wan',
      'cable',
    ];
    const strict = await run('bash', [DEPLOY, ...args, '--strict']);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(
      /FAIL router {3}\S*cable\.yaml: queue tree "WAN-Download-cable" \(rest\): no such item; fix: create the CAKE queue/,
    );
    expect(strict.stdout).toContain('--strict: validation did not pass, so no unit was started or restarted');
    expect(restarts()).toEqual([]);

    // Nothing new this time: what the blocked deploy installed is still acted on.
    const lenient = await run('bash', [DEPLOY, ...args]);
    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toContain(
      'restarted wanctl-autorate@cable.service (code changed, config changed)',
    );
    expect(lenient.stdout).toContain('validation found errors: review them above');
    expect(lenient.stdout).toContain('the deploy went ahead because --strict was not given');
    expect(restarts()).toContain('wanctl-autorate@cable.service');
  });

  it('--rollback restores the previous release and restarts the units; a second one rolls forward', async () => {
    const installed = () =>
      fs.readFileSync(path.join(target, 'opt/wanctl/apps/autorate/dist/cli.js'), 'utf8');
    // Release A, then release B: the host keeps A as the previous release.
    fs.appendFileSync(path.join(bundle, 'apps/autorate/dist/cli.js'), '// release A\n');
    expect((await deploy('--wan', 'cable', '--wan', 'dsl', '--with-steering')).code).toBe(0);
    const releaseA = installed();
    expect(releaseA).toContain('// release A');
    fs.appendFileSync(path.join(bundle, 'apps/autorate/dist/cli.js'), '// release B\n');
    expect((await deploy('--wan', 'cable', '--wan', 'dsl', '--with-steering')).code).toBe(0);
    expect(installed()).toContain('// release B');

    fs.writeFileSync(path.join(fakeSystemd, 'calls.log'), '');
    const rollback = () =>
      run('bash', [
        DEPLOY,
        'root@127.0.0.1',
        ...sshd.sshArgs,
        '--target-root',
        target,
        '--remote-env',
        `WANCTL_SYSTEMCTL=${path.join(fakeSystemd, 'systemctl')}`,
        '--rollback',
      ]);
    const r = await rollback();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(installed()).toBe(releaseA);
    expect(fs.readFileSync(path.join(target, 'opt/wanctl.prev/apps/autorate/dist/cli.js'), 'utf8')).toContain(
      '// release B',
    );
    expect(r.stdout).toContain('==> rolling back on root@127.0.0.1');
    expect(r.stdout).toContain('rolled /opt/wanctl back to');
    // Validated with the restored release (every config on the host), then every running unit restarted.
    expect(r.stdout).toMatch(/OK {3}config {3}\S*cable\.yaml: valid/);
    expect(r.stdout).toContain('validation passed');
    const units = ['wanctl-autorate@cable.service', 'wanctl-autorate@dsl.service', 'wanctl-steering.service'];
    expect(restarts().sort()).toEqual(units);
    for (const u of units) expect(r.stdout).toContain(`restarted ${u} (code changed)`);
    // Configs and secrets are the host's and stay.
    expect(fs.readFileSync(path.join(target, 'etc/wanctl/secrets'), 'utf8')).toBe(
      'WANCTL_ROUTER_PASSWORD=s3cret\n',
    );

    fs.writeFileSync(path.join(fakeSystemd, 'calls.log'), '');
    const forward = await rollback();
    expect(forward.code).toBe(0);
    expect(installed()).toContain('// release B');
    expect(restarts().sort()).toEqual(units);
  }, 480_000);

  it('--rollback with no previous release on the host fails and restarts nothing', async () => {
    const bare = path.join(work, 'bare-target');
    fs.mkdirSync(bare);
    // Installed once: nothing to roll back to.
    const i = await run('bash', [
      path.join(bundle, 'scripts/install.sh'),
      '--from',
      bundle,
      '--root',
      bare,
      '--skip-packages',
      '-q',
    ]);
    expect(i.code).toBe(0);
    fs.writeFileSync(path.join(fakeSystemd, 'calls.log'), '');
    const r = await run('bash', [
      DEPLOY,
      'root@127.0.0.1',
      ...sshd.sshArgs,
      '--target-root',
      bare,
      '--remote-env',
      `WANCTL_SYSTEMCTL=${path.join(fakeSystemd, 'systemctl')}`,
      '--rollback',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain('no previous release to roll back to');
    expect(r.stderr).toContain('install.sh --rollback failed on root@127.0.0.1');
    expect(systemctlCalls(fakeSystemd)).toEqual([]);
    const bad = await run('bash', [DEPLOY, 'root@127.0.0.1', '--rollback', '--bundle', bundle]);
    expect(bad.code).toBe(2);
  });

  it('a missing site config stops the deploy before the host is touched', async () => {
    fs.writeFileSync(path.join(fakeSystemd, 'calls.log'), '');
    const r = await deploy('--wan', 'fiber');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`config ${path.join(configs, 'fiber.yaml')} not found (nothing was deployed)`);
    expect(systemctlCalls(fakeSystemd)).toEqual([]);
  });

  it('an invalid config stops the deploy with exit 2 before the host is touched', async () => {
    fs.writeFileSync(
      path.join(configs, 'bad.yaml'),
      autorateConfig({ wan: 'bad', extra: 'no_such_key: 1\n' }),
    );
    const before = fs.readdirSync(path.join(target, 'etc/wanctl')).sort();
    const r = await deploy('--wan', 'bad');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no_such_key');
    expect(r.stderr).toContain('nothing was deployed');
    expect(fs.readdirSync(path.join(target, 'etc/wanctl')).sort()).toEqual(before);
  });

  it('--dry-run prints the plan and connects nowhere', async () => {
    const r = await run('bash', [
      DEPLOY,
      'root@192.0.2.1',
      '--dry-run',
      '--bundle',
      bundle,
      '--config-dir',
      configs,
      '--wan',
      'cable',
      '--with-steering',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('dry run: nothing built, nothing sent');
    expect(r.stdout).toContain('would enable wanctl-autorate@cable.service wanctl-steering.service');

    const rb = await run('bash', [DEPLOY, 'root@192.0.2.1', '--rollback', '--dry-run']);
    expect(rb.stderr).toBe('');
    expect(rb.code).toBe(0);
    expect(rb.stdout).toContain('would run there: install.sh --rollback');
    expect(rb.stdout).toContain('would restart every running wanctl unit');
  });

  it('an unreachable host is a clear error', async () => {
    const r = await run('bash', [
      DEPLOY,
      'root@127.0.0.1',
      '-p',
      '1',
      '-o',
      'ConnectTimeout=5',
      '--bundle',
      bundle,
      '--config-dir',
      configs,
      '--wan',
      'cable',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot run commands on root@127.0.0.1 over ssh');
  });
});

const BUILT = ['apps/autorate', 'apps/steering', 'packages/config', 'packages/router-client'].every((w) =>
  fs.existsSync(path.join(REPO, w, 'dist', 'cli.js')),
);
const EMULATOR = path.join(REPO, 'packages/routeros-emulator/dist/index.js');

describe.skipIf(!SSHD || !BUILT || !fs.existsSync(EMULATOR))(
  'deploy.sh end to end: this checkout, a real sshd, the RouterOS emulator',
  () => {
    let work: string;
    let sshd: TestSshd;
    let emu: { rest?: { port: number }; stop(): Promise<void> };

    beforeAll(async () => {
      work = tempDir('deploy-e2e');
      sshd = await startSshd(path.join(work, 'sshd'));
      const mod = (await import(EMULATOR)) as {
        startEmulator(o: Record<string, unknown>): Promise<typeof emu>;
      };
      emu = await mod.startEmulator({ sshPort: false });
    });
    afterAll(async () => {
      await emu?.stop();
      await sshd?.stop();
      cleanup(work);
    });

    it('stages the real bundle, installs it, and the real validation passes against the router', async () => {
      const target = path.join(work, 'target');
      fs.mkdirSync(path.join(target, 'etc/wanctl'), { recursive: true });
      fs.writeFileSync(path.join(target, 'etc/wanctl/secrets'), 'WANCTL_ROUTER_PASSWORD=admin\n', {
        mode: 0o640,
      });
      const configs = path.join(work, 'configs');
      fs.mkdirSync(configs);
      fs.writeFileSync(
        path.join(configs, 'wan1.yaml'),
        autorateConfig({
          wan: 'wan1',
          routerPort: emu.rest?.port ?? 0,
          queues: { download: 'WAN-Download-1', upload: 'WAN-Upload-1' },
        }),
      );
      const fakeSystemd = path.join(work, 'systemd');
      fs.mkdirSync(fakeSystemd);
      makeFakeSystemctl(fakeSystemd);
      const r = await run('bash', [
        DEPLOY,
        'root@127.0.0.1',
        ...sshd.sshArgs,
        '--no-build',
        '--config-dir',
        configs,
        '--target-root',
        target,
        '--remote-env',
        `WANCTL_SYSTEMCTL=${path.join(fakeSystemd, 'systemctl')}`,
        '--wan',
        'wan1',
        '--strict',
      ]);
      expect(r.stdout).toContain('==> staging the bundle');
      expect(r.stdout).toMatch(
        /OK {3}router {3}\S*wan1\.yaml: router 127\.0\.0\.1 over rest \(primary\) answers as/,
      );
      expect(r.stdout).toMatch(/OK {3}router {3}\S*wan1\.yaml: queue type "cake-down-wan1" exists \(rest\)/);
      expect(r.stdout).toContain('validation passed');
      expect(r.stdout).toContain('restarted wanctl-autorate@wan1.service');
      expect(r.code).toBe(0);
      // The installed daemon is the real one.
      const help = await run(path.join(target, 'opt/wanctl/bin/wanctl-autorate'), ['--help']);
      expect(help.stdout).toContain('Usage: wanctl-autorate');
    });
  },
);
