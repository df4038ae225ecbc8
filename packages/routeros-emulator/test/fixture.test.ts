import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildFixture,
  defaultFixture,
  EmulatorConfigError,
  loadFixture,
  startEmulator,
} from '../src/index.js';
import { sshExec, tempDir } from './helpers.js';

describe('fixtures', () => {
  it('buildFixture names queues, CAKE types and the mangle comment as wanctl expects', async () => {
    const f = buildFixture({
      downloadQueue: 'WAN-Download-Spectrum',
      uploadQueue: 'WAN-Upload-Spectrum',
      wan: 'Spectrum',
      mangleComment: 'ADAPTIVE: Steer latency-sensitive to ATT',
    });
    const emu = await startEmulator({ seed: f, restPort: false });
    try {
      expect(emu.state.get('/queue/tree', 'WAN-Download-Spectrum')?.['queue']).toBe('cake-down-spectrum');
      expect(emu.state.get('/queue/type', 'cake-up-spectrum')?.['kind']).toBe('cake');
      const out = await sshExec(
        emu,
        '/queue tree set [find name="WAN-Download-Spectrum"] queue=cake-down-spectrum max-limit=500000000',
      );
      expect(out.out).toBe('');
      expect(
        emu.state.find('/ip/firewall/mangle', { comment: 'ADAPTIVE: Steer latency-sensitive to ATT' }),
      ).toHaveLength(1);
    } finally {
      await emu.stop();
    }
    expect(defaultFixture.menus?.['/queue/tree']?.map((q) => q['name'])).toEqual([
      'WAN-Download-1',
      'WAN-Upload-1',
    ]);
  });

  it('loads YAML and JSON seed files; counters seed the static model', async () => {
    const t = await tempDir();
    try {
      const yml = join(t.dir, 'seed.yaml');
      await writeFile(
        yml,
        [
          'identity: lab-router',
          'menus:',
          '  /queue/type:',
          '    - { name: cake-down-x, kind: cake, cake-diffserv: besteffort }',
          '  /queue/tree:',
          '    - { name: DL, parent: bridge1, queue: cake-down-x, max-limit: 100M }',
          'counters:',
          '  DL: { bytes: 1234, dropped: 2 }',
        ].join('\n'),
      );
      const emu = await startEmulator({ seed: yml, sshPort: false });
      expect(emu.state.get('/system/identity')).toEqual({ name: 'lab-router' });
      expect(emu.state.get('/queue/tree', 'DL')).toMatchObject({
        'max-limit': '100000000',
        bytes: '1234',
        dropped: '2',
      });
      expect(emu.state.list('/ip/firewall/mangle')).toEqual([]);
      await emu.stop();
      const json = join(t.dir, 'seed.json');
      await writeFile(json, JSON.stringify(buildFixture({ wan: 'att' })));
      expect((await loadFixture(json)).menus?.['/queue/type']?.[0]?.['name']).toBe('cake-down-att');
    } finally {
      await t.cleanup();
    }
  });

  it('reports bad fixtures with the file, menu and item index', async () => {
    const t = await tempDir();
    try {
      const bad = join(t.dir, 'bad.yaml');
      await writeFile(bad, 'menus:\n  /queue/tree:\n    - { name: A, queue: missing-type }\n');
      await expect(startEmulator({ seed: bad })).rejects.toThrow(
        new EmulatorConfigError('fixture /queue/tree[0]: input does not match any value of queue'),
      );
      const unknownKey = join(t.dir, 'k.yaml');
      await writeFile(unknownKey, 'queues: []\n');
      await expect(loadFixture(unknownKey)).rejects.toThrow(/unknown key "queues"/);
      const menu = join(t.dir, 'm.yaml');
      await writeFile(menu, 'menus:\n  /interface: []\n');
      await expect(startEmulator({ seed: menu })).rejects.toThrow(/"\/interface" is not emulated/);
      await expect(loadFixture(join(t.dir, 'absent.yaml'))).rejects.toThrow(EmulatorConfigError);
      await expect(startEmulator({ users: [{ name: 'x' }] })).rejects.toThrow(/neither a password nor/);
    } finally {
      await t.cleanup();
    }
  });
});
