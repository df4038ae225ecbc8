import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, REPO, run, SCRIPTS, tempDir } from './helpers.js';

const OWN_SCRIPTS = ['install.sh', 'deploy.sh', 'validate-deployment.sh'];
const UNITS = ['wanctl-autorate@.service', 'wanctl-steering.service'];
const DROPIN = path.join(REPO, 'deploy/systemd/wanctl-autorate@.service.d/linux-cake.conf');

describe('shell scripts', () => {
  const all = fs
    .readdirSync(SCRIPTS)
    .filter((f) => f.endsWith('.sh'))
    .sort();

  it('finds the deployment scripts', () => {
    for (const s of OWN_SCRIPTS) expect(all).toContain(s);
  });

  // From the checkout's root, where the scripts' `source=scripts/...` directives resolve.
  it.each(all)('%s passes shellcheck', async (name) => {
    const r = await run('shellcheck', ['-x', `scripts/${name}`], { cwd: REPO });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('shellcheck does flag a defect (the check can fail)', async () => {
    const dir = tempDir('shellcheck');
    try {
      fs.writeFileSync(path.join(dir, 'bad.sh'), '#!/usr/bin/env bash\nrm -rf $1/*\n');
      const r = await run('shellcheck', ['bad.sh'], { cwd: dir });
      expect(r.code).not.toBe(0);
      expect(r.stdout).toContain('SC2086');
    } finally {
      cleanup(dir);
    }
  });

  it.each(OWN_SCRIPTS)('%s uses set -euo pipefail and has a readable --help', async (name) => {
    const text = fs.readFileSync(path.join(SCRIPTS, name), 'utf8');
    expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(text).toMatch(/^set -euo pipefail$/m);
    expect(fs.statSync(path.join(SCRIPTS, name)).mode & 0o111).not.toBe(0);
    const r = await run('bash', [path.join(SCRIPTS, name), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: /);
    expect(r.stdout).toMatch(/Exit status/);
    for (const line of r.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });

  it.each(OWN_SCRIPTS)('%s rejects an unknown option with a pointer to --help', async (name) => {
    const r = await run('bash', [path.join(SCRIPTS, name), '--no-such-option']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--no-such-option');
    expect(r.stderr).toContain('--help');
  });
});

describe('systemd units', () => {
  const dirs: string[] = [];
  afterAll(() => cleanup(...dirs));

  // An offline root holding the units, stand-ins for the ExecStart binaries and the host's own
  // unit files (for targets such as multi-user.target), so that systemd-analyze verify checks
  // everything, the binaries included, without touching the host.
  function verifyRoot(unitText?: Record<string, string>, dropins: Record<string, string> = {}): string {
    const root = tempDir('units');
    dirs.push(root);
    const sys = path.join(root, 'usr/lib/systemd/system');
    fs.mkdirSync(sys, { recursive: true });
    for (const e of fs.readdirSync('/usr/lib/systemd/system', { withFileTypes: true })) {
      if (e.isFile()) fs.copyFileSync(path.join('/usr/lib/systemd/system', e.name), path.join(sys, e.name));
    }
    fs.mkdirSync(path.join(root, 'etc/systemd/system'), { recursive: true });
    for (const u of UNITS) {
      const text = unitText?.[u] ?? fs.readFileSync(path.join(REPO, 'deploy/systemd', u), 'utf8');
      fs.writeFileSync(path.join(root, 'etc/systemd/system', u), text);
    }
    // Drop-ins as install.sh places them: "<unit>.d/<name>" -> text.
    for (const [rel, text] of Object.entries(dropins)) {
      fs.mkdirSync(path.dirname(path.join(root, 'etc/systemd/system', rel)), { recursive: true });
      fs.writeFileSync(path.join(root, 'etc/systemd/system', rel), text);
    }
    fs.mkdirSync(path.join(root, 'opt/wanctl/bin'), { recursive: true });
    for (const b of ['wanctl-autorate', 'wanctl-steering']) {
      fs.writeFileSync(path.join(root, 'opt/wanctl/bin', b), '#!/bin/sh\n', { mode: 0o755 });
    }
    return root;
  }

  const verify = (root: string) =>
    run('systemd-analyze', [
      'verify',
      `--root=${root}`,
      '/etc/systemd/system/wanctl-autorate@cable.service',
      '/etc/systemd/system/wanctl-steering.service',
    ]);

  it('both units pass systemd-analyze verify without a warning', async () => {
    const r = await verify(verifyRoot());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  const lcDropin = (text = fs.readFileSync(DROPIN, 'utf8')) => ({
    'wanctl-autorate@cable.service.d/linux-cake.conf': text,
  });

  it('the autorate unit with the linux-cake drop-in passes verify; a typo in the drop-in is caught', async () => {
    const r = await verify(verifyRoot(undefined, lcDropin()));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const typo = await verify(
      verifyRoot(
        undefined,
        lcDropin(fs.readFileSync(DROPIN, 'utf8').replace('AmbientCapabilities=', 'AmbientCapabilites=')),
      ),
    );
    expect(typo.stderr).toContain("Unknown key 'AmbientCapabilites'");
  });

  // systemd's own reading of the merged unit (unit file + drop-in), offline.
  const security = (root: string) =>
    run('systemd-analyze', [
      'security',
      '--offline=yes',
      `--root=${root}`,
      '/etc/systemd/system/wanctl-autorate@cable.service',
    ]);

  it('systemd reads CAP_NET_ADMIN into the unit only with the drop-in; /proc stays unsubset', async () => {
    const plain = await security(verifyRoot());
    expect(plain.stdout).toMatch(
      /✓ CapabilityBoundingSet=~CAP_NET_ADMIN\s+Service has no network configuration privileges/,
    );
    const lc = await security(verifyRoot(undefined, lcDropin()));
    expect(lc.stdout).toMatch(
      /✗ CapabilityBoundingSet=~CAP_NET_ADMIN\s+Service has network configuration privileges/,
    );
    expect(lc.stdout).toMatch(/✗ ProcSubset=\s+Service has full access to non-process \/proc files/);
    // The drop-in grants nothing else.
    const granted = (out: string) =>
      out
        .split('\n')
        .filter((l) => /^✗ CapabilityBoundingSet=/.test(l))
        .map((l) => l.split(/\s+/)[1]);
    expect(granted(lc.stdout).sort()).toEqual(
      [...granted(plain.stdout), 'CapabilityBoundingSet=~CAP_NET_ADMIN'].sort(),
    );
  });

  it('tc needs exactly what the drop-in adds: denied with the plain unit’s capabilities, allowed with it', async () => {
    // The capability sets as the files declare them, applied to an unprivileged tc in a
    // private network namespace (no host interface is touched).
    const caps = (text: string) =>
      text
        .split('\n')
        .filter((l) => /^AmbientCapabilities=/.test(l))
        .flatMap((l) =>
          l
            .slice(l.indexOf('=') + 1)
            .trim()
            .split(/\s+/),
        )
        .map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`);
    const unit = fs.readFileSync(path.join(REPO, 'deploy/systemd/wanctl-autorate@.service'), 'utf8');
    const tcAs = (capList: string[]) =>
      run('unshare', [
        '--net',
        'setpriv',
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        `--inh-caps=-all,${capList.join(',')}`,
        `--ambient-caps=-all,${capList.join(',')}`,
        '--no-new-privs',
        'tc',
        'qdisc',
        'replace',
        'dev',
        'lo',
        'root',
        'pfifo',
        'limit',
        '100',
      ]);
    const plain = await tcAs(caps(unit));
    expect(caps(unit)).toEqual(['+net_raw']);
    expect(plain.stderr).toContain('Operation not permitted');
    expect(plain.code).not.toBe(0);
    const withDropin = await tcAs([...caps(unit), ...caps(fs.readFileSync(DROPIN, 'utf8'))]);
    expect(withDropin.stderr).toBe('');
    expect(withDropin.code).toBe(0);
  });

  it('systemd-analyze verify does catch a broken unit (the check can fail)', async () => {
    const good = fs.readFileSync(path.join(REPO, 'deploy/systemd/wanctl-steering.service'), 'utf8');
    const typo = verifyRoot({ 'wanctl-steering.service': good.replace('UMask=', 'Umask=') });
    const r1 = await verify(typo);
    expect(r1.stderr).toContain("Unknown key 'Umask'");
    const root = verifyRoot();
    fs.rmSync(path.join(root, 'opt/wanctl/bin/wanctl-autorate'));
    const r2 = await verify(root);
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toContain('/opt/wanctl/bin/wanctl-autorate');
  });

  it.each(UNITS)('%s has the settings the daemons rely on', (u) => {
    const text = fs.readFileSync(path.join(REPO, 'deploy/systemd', u), 'utf8');
    const settings = text
      .split('\n')
      .filter((l) => /^[A-Za-z]+=/.test(l))
      .map((l) => l.trim());
    for (const want of [
      'Type=notify',
      'NotifyAccess=all',
      'WatchdogSec=30s',
      'Restart=on-failure',
      'StartLimitIntervalSec=300',
      'StartLimitBurst=5',
      'RestartPreventExitStatus=2',
      'User=wanctl',
      'Group=wanctl',
      'EnvironmentFile=-/etc/wanctl/secrets',
      'AmbientCapabilities=CAP_NET_RAW',
      'CapabilityBoundingSet=CAP_NET_RAW',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'RuntimeDirectory=wanctl',
      'RuntimeDirectoryPreserve=yes',
      'StateDirectory=wanctl',
      'LogsDirectory=wanctl',
      'WantedBy=multi-user.target',
    ]) {
      expect(settings).toContain(want);
    }
    // V8's JIT needs W+X memory; ProcSubset=pid hides /proc files tools read.
    expect(settings.some((l) => l.startsWith('MemoryDenyWriteExecute='))).toBe(false);
    expect(settings.some((l) => l.startsWith('ProcSubset='))).toBe(false);
    const exec = settings.find((l) => l.startsWith('ExecStart='));
    expect(exec).toMatch(
      u === 'wanctl-steering.service'
        ? /^ExecStart=\/opt\/wanctl\/bin\/wanctl-steering run --config \/etc\/wanctl\/steering\.yaml$/
        : /^ExecStart=\/opt\/wanctl\/bin\/wanctl-autorate run --config \/etc\/wanctl\/%i\.yaml$/,
    );
  });

  it('the tmpfiles entry creates /run/wanctl for the wanctl user', async () => {
    const text = fs.readFileSync(path.join(REPO, 'deploy/tmpfiles.d/wanctl.conf'), 'utf8');
    expect(text).toMatch(/^d \/run\/wanctl\s+0755 wanctl wanctl -$/m);
    const r = await run('systemd-tmpfiles', ['--cat-config']);
    // systemd-tmpfiles is present wherever systemd is; its parser accepts the file.
    expect(r.code).toBe(0);
  });
});
