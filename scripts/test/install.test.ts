import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  autorateConfig,
  CONFIG_LIB_BUILT,
  cleanup,
  diffSnapshots,
  makeFakeBundle,
  REPO,
  run,
  SCRIPTS,
  snapshot,
  tempDir,
} from './helpers.js';

const INSTALL = path.join(SCRIPTS, 'install.sh');

function passwdEntry(root: string, user: string): string[] | undefined {
  const f = path.join(root, 'etc/passwd');
  if (!fs.existsSync(f)) return undefined;
  return fs
    .readFileSync(f, 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
    .find((cols) => cols[0] === user);
}

const modeOf = (p: string) => (fs.statSync(p).mode & 0o7777).toString(8);

describe.skipIf(!CONFIG_LIB_BUILT)('install.sh into a temporary root', () => {
  let work: string;
  let bundle: string;
  let root: string;
  let cfgDir: string;

  beforeAll(() => {
    work = tempDir('install');
    bundle = makeFakeBundle(path.join(work, 'bundle'));
    root = path.join(work, 'root');
    fs.mkdirSync(root);
    cfgDir = path.join(work, 'configs');
    fs.mkdirSync(cfgDir);
    fs.writeFileSync(path.join(cfgDir, 'cable.yaml'), autorateConfig({ wan: 'cable' }));
  });
  afterAll(() => cleanup(work));

  const install = (...args: string[]) =>
    run('bash', [INSTALL, '--from', bundle, '--root', root, '--skip-packages', ...args]);

  it('installs the layout: user, directories, secrets template, code, wrappers, units', async () => {
    const r = await install('--changes-file', path.join(work, 'changes1'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);

    const user = passwdEntry(root, 'wanctl');
    expect(user?.[5]).toBe('/var/lib/wanctl');
    expect(user?.[6]).toBe('/usr/sbin/nologin');
    const uid = Number(user?.[2]);
    const gid = Number(user?.[3]);

    const expectDir = (p: string, mode: string, owner: number, group: number) => {
      const st = fs.statSync(path.join(root, p));
      expect(st.isDirectory(), p).toBe(true);
      expect(modeOf(path.join(root, p)), p).toBe(mode);
      expect([st.uid, st.gid], p).toEqual([owner, group]);
    };
    expectDir('etc/wanctl', '750', 0, gid);
    expectDir('var/lib/wanctl', '750', uid, gid);
    expectDir('var/lib/wanctl/.ssh', '700', uid, gid);
    expectDir('var/log/wanctl', '750', uid, gid);
    expectDir('run/wanctl', '755', uid, gid);
    expectDir('opt/wanctl', '755', 0, 0);

    const secrets = path.join(root, 'etc/wanctl/secrets');
    expect(modeOf(secrets)).toBe('640');
    expect(fs.statSync(secrets).gid).toBe(gid);
    expect(fs.readFileSync(secrets, 'utf8')).toContain('#WANCTL_ROUTER_PASSWORD=');

    for (const u of ['wanctl-autorate@.service', 'wanctl-steering.service']) {
      expect(fs.readFileSync(path.join(root, 'etc/systemd/system', u), 'utf8')).toBe(
        fs.readFileSync(path.join(bundle, 'deploy/systemd', u), 'utf8'),
      );
    }
    expect(fs.existsSync(path.join(root, 'etc/tmpfiles.d/wanctl.conf'))).toBe(true);
    expect(fs.existsSync(path.join(root, 'etc/logrotate.d/wanctl'))).toBe(true);

    // The wrapper the unit starts runs the installed app with this host's node.
    const w = await run(path.join(root, 'opt/wanctl/bin/wanctl-autorate'), ['run', '--config', 'x.yaml']);
    expect(w.stdout.trim()).toBe('fake wanctl-autorate run --config x.yaml');
    expect(fs.readlinkSync(path.join(root, 'usr/local/bin/wanctl-router'))).toBe(
      '/opt/wanctl/bin/wanctl-router',
    );

    const changes = fs.readFileSync(path.join(work, 'changes1'), 'utf8').split('\n').filter(Boolean);
    expect(changes).toEqual(
      expect.arrayContaining([
        'code',
        'unit:wanctl-autorate@.service',
        'unit:wanctl-steering.service',
        'tmpfiles',
      ]),
    );
  });

  it('a second run changes nothing at all', async () => {
    const before = snapshot(root);
    const r = await install('--changes-file', path.join(work, 'changes2'));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('install: nothing changed');
    expect(r.stdout).not.toContain('changed:');
    expect(diffSnapshots(before, snapshot(root))).toEqual([]);
    expect(fs.readFileSync(path.join(work, 'changes2'), 'utf8')).toBe('');
  });

  it('never overwrites existing secrets; tightens a world-readable secrets file', async () => {
    const secrets = path.join(root, 'etc/wanctl/secrets');
    fs.writeFileSync(secrets, 'ROUTER_PASSWORD=hunter2\n');
    fs.chmodSync(secrets, 0o644);
    const r = await install();
    expect(r.code).toBe(0);
    expect(fs.readFileSync(secrets, 'utf8')).toBe('ROUTER_PASSWORD=hunter2\n');
    expect(modeOf(secrets)).toBe('640');
  });

  it('--config installs a config, keeps the previous one as .bak, and is idempotent', async () => {
    const src = path.join(cfgDir, 'cable.yaml');
    const dest = path.join(root, 'etc/wanctl/cable.yaml');
    let r = await install('--config', src, '--changes-file', path.join(work, 'c3'));
    expect(r.code).toBe(0);
    expect(fs.readFileSync(dest, 'utf8')).toBe(fs.readFileSync(src, 'utf8'));
    expect(modeOf(dest)).toBe('640');
    expect(fs.readFileSync(path.join(work, 'c3'), 'utf8')).toBe('config:cable.yaml\n');

    r = await install('--config', src, '--changes-file', path.join(work, 'c4'));
    expect(fs.readFileSync(path.join(work, 'c4'), 'utf8')).toBe('');
    expect(r.stdout).toContain('/etc/wanctl/cable.yaml is up to date');

    const old = fs.readFileSync(dest, 'utf8');
    fs.appendFileSync(src, '# tuned\n');
    r = await install('--config', src, '--changes-file', path.join(work, 'c5'));
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(work, 'c5'), 'utf8')).toBe('config:cable.yaml\n');
    const baks = fs
      .readdirSync(path.join(root, 'etc/wanctl'))
      .filter((f) => /^cable\.yaml\..*\.bak$/.test(f));
    expect(baks).toHaveLength(1);
    expect(fs.readFileSync(path.join(root, 'etc/wanctl', baks[0] ?? ''), 'utf8')).toBe(old);
  });

  it('a changed bundle replaces the code, keeps the replaced release, and reports only "code"', async () => {
    const v1 = fs.readFileSync(path.join(root, 'opt/wanctl/apps/autorate/dist/cli.js'), 'utf8');
    fs.appendFileSync(path.join(bundle, 'apps/autorate/dist/cli.js'), '// v2\n');
    const r = await install('--changes-file', path.join(work, 'c6'));
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(work, 'c6'), 'utf8')).toBe('code\n');
    expect(fs.readFileSync(path.join(root, 'opt/wanctl/apps/autorate/dist/cli.js'), 'utf8')).toContain(
      '// v2',
    );
    expect(fs.readdirSync(path.join(root, 'opt')).sort()).toEqual(['wanctl', 'wanctl.prev']);
    expect(fs.readFileSync(path.join(root, 'opt/wanctl.prev/apps/autorate/dist/cli.js'), 'utf8')).toBe(v1);
    expect(r.stdout).toContain('kept the previous release as /opt/wanctl.prev');
  });

  it('--rollback swaps back to the previous release, and a second one rolls forward', async () => {
    const cli = (dir: string) => fs.readFileSync(path.join(root, dir, 'apps/autorate/dist/cli.js'), 'utf8');
    expect(cli('opt/wanctl')).toContain('// v2');
    // The restored release's unit file comes back with it.
    const unit = path.join(root, 'etc/systemd/system/wanctl-steering.service');
    fs.appendFileSync(
      path.join(root, 'opt/wanctl.prev/deploy/systemd/wanctl-steering.service'),
      '# v1 unit\n',
    );
    const r = await install('--rollback', '--changes-file', path.join(work, 'rb1'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(cli('opt/wanctl')).not.toContain('// v2');
    expect(cli('opt/wanctl.prev')).toContain('// v2');
    expect(fs.readFileSync(unit, 'utf8')).toContain('# v1 unit');
    expect(fs.readFileSync(path.join(work, 'rb1'), 'utf8').split('\n').filter(Boolean).sort()).toEqual([
      'code',
      'unit:wanctl-steering.service',
    ]);
    const w = await run(path.join(root, 'opt/wanctl/bin/wanctl-autorate'), ['--version']);
    expect(w.stdout.trim()).toBe('fake wanctl-autorate --version');

    const fwd = await install('--rollback');
    expect(fwd.code).toBe(0);
    expect(cli('opt/wanctl')).toContain('// v2');
    expect(fs.readFileSync(unit, 'utf8')).not.toContain('# v1 unit');
  });

  it('--rollback without a previous release changes nothing and says why', async () => {
    const bare = path.join(work, 'bare-root');
    expect(
      (await run('bash', [INSTALL, '--from', bundle, '--root', bare, '--skip-packages', '-q'])).code,
    ).toBe(0);
    const before = snapshot(bare);
    const r = await run('bash', [INSTALL, '--root', bare, '--rollback']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no previous release to roll back to');
    expect(diffSnapshots(before, snapshot(bare))).toEqual([]);
    const bad = await run('bash', [INSTALL, '--root', bare, '--rollback', '--uninstall']);
    expect(bad.code).toBe(2);
  });

  it('--root creates the directory when it is missing', async () => {
    const fresh = path.join(work, 'not', 'there', 'yet');
    const r = await run('bash', [INSTALL, '--from', bundle, '--root', fresh, '--skip-packages', '-q']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(fresh, 'opt/wanctl/bin/wanctl-autorate'))).toBe(true);
    const file = path.join(work, 'a-file');
    fs.writeFileSync(file, '');
    const f = await run('bash', [INSTALL, '--from', bundle, '--root', file, '--skip-packages', '-q']);
    expect(f.code).toBe(1);
    expect(f.stderr).toContain('exists and is not a directory');
  });

  it('a linux-cake config gets the CAP_NET_ADMIN drop-in for its instance only, and loses it again', async () => {
    const lc = path.join(cfgDir, 'lte.yaml');
    fs.writeFileSync(
      lc,
      autorateConfig({ wan: 'lte' }).replace('transport: "rest"', 'transport: "linux-cake"'),
    );
    const dropin = path.join(root, 'etc/systemd/system/wanctl-autorate@lte.service.d/linux-cake.conf');
    let r = await install('--config', lc, '--changes-file', path.join(work, 'lc1'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(fs.readFileSync(dropin, 'utf8')).toBe(
      fs.readFileSync(path.join(REPO, 'deploy/systemd/wanctl-autorate@.service.d/linux-cake.conf'), 'utf8'),
    );
    expect(modeOf(dropin)).toBe('644');
    // The RouterOS instance (cable.yaml) keeps the tighter unit.
    expect(fs.existsSync(path.join(root, 'etc/systemd/system/wanctl-autorate@cable.service.d'))).toBe(false);
    expect(fs.readFileSync(path.join(work, 'lc1'), 'utf8').split('\n').filter(Boolean).sort()).toEqual([
      'config:lte.yaml',
      'unit:wanctl-autorate@lte.service',
    ]);

    r = await install('--config', lc, '--changes-file', path.join(work, 'lc2'));
    expect(fs.readFileSync(path.join(work, 'lc2'), 'utf8')).toBe('');

    fs.writeFileSync(lc, autorateConfig({ wan: 'lte', transport: 'ssh' }));
    r = await install('--config', lc, '--changes-file', path.join(work, 'lc3'));
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.dirname(dropin))).toBe(false);
    expect(r.stdout).toContain('its config does not use linux-cake');
    expect(fs.readFileSync(path.join(work, 'lc3'), 'utf8').split('\n').filter(Boolean).sort()).toEqual([
      'config:lte.yaml',
      'unit:wanctl-autorate@lte.service',
    ]);
    fs.writeFileSync(
      lc,
      autorateConfig({ wan: 'lte' }).replace('transport: "rest"', 'transport: linux-cake'),
    );
    expect((await install('--config', lc)).code).toBe(0);
    expect(fs.existsSync(dropin)).toBe(true);
  });

  it('refuses a tree without the built apps, naming the fix', async () => {
    const empty = path.join(work, 'empty');
    fs.mkdirSync(empty);
    fs.writeFileSync(path.join(empty, 'package.json'), '{}');
    const r = await run('bash', [INSTALL, '--from', empty, '--root', root, '--skip-packages']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('npm run build');
  });

  it('--uninstall removes what it installed and keeps configs, secrets, state and the user', async () => {
    fs.mkdirSync(path.join(root, 'etc/systemd/system/multi-user.target.wants'), { recursive: true });
    fs.symlinkSync(
      '/etc/systemd/system/wanctl-autorate@.service',
      path.join(root, 'etc/systemd/system/multi-user.target.wants/wanctl-autorate@cable.service'),
    );
    const r = await install('--uninstall');
    expect(r.code).toBe(0);
    for (const gone of [
      'opt/wanctl',
      'opt/wanctl.prev',
      'etc/systemd/system/wanctl-autorate@lte.service.d',
      'etc/systemd/system/wanctl-autorate@.service',
      'etc/systemd/system/wanctl-steering.service',
      'etc/systemd/system/multi-user.target.wants/wanctl-autorate@cable.service',
      'etc/tmpfiles.d/wanctl.conf',
      'etc/logrotate.d/wanctl',
      'usr/local/bin/wanctl-autorate',
      'run/wanctl',
    ]) {
      expect(fs.existsSync(path.join(root, gone)), gone).toBe(false);
    }
    expect(fs.readFileSync(path.join(root, 'etc/wanctl/secrets'), 'utf8')).toBe('ROUTER_PASSWORD=hunter2\n');
    expect(fs.existsSync(path.join(root, 'etc/wanctl/cable.yaml'))).toBe(true);
    expect(fs.existsSync(path.join(root, 'var/lib/wanctl/.ssh/known_hosts'))).toBe(true);
    expect(passwdEntry(root, 'wanctl')).toBeDefined();
    expect(r.stdout).toContain('kept /etc/wanctl');

    // Installing again brings it back without touching the kept configs.
    const again = await install();
    expect(again.code).toBe(0);
    expect(fs.existsSync(path.join(root, 'opt/wanctl/bin/wanctl-autorate'))).toBe(true);
    expect(fs.readFileSync(path.join(root, 'etc/wanctl/secrets'), 'utf8')).toBe('ROUTER_PASSWORD=hunter2\n');
  });

  it('--uninstall --purge also removes configs, state, logs and the user', async () => {
    const r = await install('--uninstall', '--purge');
    expect(r.code).toBe(0);
    for (const gone of ['opt/wanctl', 'etc/wanctl', 'var/lib/wanctl', 'var/log/wanctl']) {
      expect(fs.existsSync(path.join(root, gone)), gone).toBe(false);
    }
    expect(passwdEntry(root, 'wanctl')).toBeUndefined();
  });

  it('--purge without --uninstall is a usage error', async () => {
    const r = await install('--purge');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--purge only goes with --uninstall');
  });
});

const BUILT = ['apps/autorate', 'apps/steering', 'packages/config'].every((w) =>
  fs.existsSync(path.join(REPO, w, 'dist', 'cli.js')),
);

describe.skipIf(!BUILT)('the real bundle (install.sh --stage-only on this checkout)', () => {
  let work: string;
  beforeAll(() => {
    work = tempDir('bundle');
  });
  afterAll(() => cleanup(work));

  it('holds the daemons and their production dependencies only, and runs once installed', async () => {
    const bundle = path.join(work, 'bundle');
    const s = await run('bash', [INSTALL, '--stage-only', bundle, '--from', REPO, '-q']);
    expect(s.stderr).toBe('');
    expect(s.code).toBe(0);
    const mods = fs.readdirSync(path.join(bundle, 'node_modules'));
    for (const dev of ['typescript', 'vitest', '@biomejs', 'turbo', 'vite']) expect(mods).not.toContain(dev);
    expect(fs.readdirSync(path.join(bundle, 'node_modules/@wanctl')).sort()).not.toContain(
      'routeros-emulator',
    );
    expect(fs.existsSync(path.join(bundle, 'packages/routeros-emulator'))).toBe(false);
    expect(fs.readFileSync(path.join(bundle, '.wanctl-bundle'), 'utf8')).toMatch(/^commit: [0-9a-f]{40}/m);

    // The committed launchers travel with dist (the wrappers run them).
    for (const l of ['apps/autorate/bin/wanctl-autorate.js', 'packages/config/bin/wanctl-check-config.js']) {
      expect(fs.statSync(path.join(bundle, l)).mode & 0o111, l).not.toBe(0);
    }
    const root = path.join(work, 'root'); // install.sh creates it
    const i = await run('bash', [
      path.join(bundle, 'scripts/install.sh'),
      '--from',
      bundle,
      '--root',
      root,
      '-q',
      '--skip-packages',
    ]);
    expect(i.code).toBe(0);
    const bin = path.join(root, 'opt/wanctl/bin');
    const check = await run(path.join(bin, 'wanctl-check-config'), [path.join(REPO, 'examples/cable.yaml')], {
      env: { ...process.env, WANCTL_ROUTER_PASSWORD: 'example-only' },
    });
    expect(check.stdout).toContain('OK ');
    expect(check.code).toBe(0);
    for (const cmd of ['wanctl-autorate', 'wanctl-steering', 'wanctl-router']) {
      const h = await run(path.join(bin, cmd), ['--help']);
      expect(h.stdout, cmd).toContain(`Usage: ${cmd}`);
      expect(h.code, cmd).toBe(0);
    }
  });
});
