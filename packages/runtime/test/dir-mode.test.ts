/** Directories wanctl creates (state, lock, log) are 0750 whatever the umask (issue 16). */
import { mkdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  acquirePidLock,
  createLogger,
  DIR_MODE,
  ensureDirSync,
  StateStore,
  writeJsonAtomic,
} from '../src/index.js';

let dir: string;
let oldMask: number;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runtime-dirmode-'));
  oldMask = process.umask(0); // the worst case: everything created world-writable
});
afterEach(async () => {
  process.umask(oldMask);
  await rm(dir, { recursive: true, force: true });
});

const mode = (p: string): string => (statSync(p).mode & 0o777).toString(8);

describe('directory modes under umask 000', () => {
  it('the state file directory (and its missing parents) is created 0750', async () => {
    await writeJsonAtomic(join(dir, 'var', 'lib', 'wanctl', 'wan1_state.json'), { x: 1 });
    expect(mode(join(dir, 'var'))).toBe('750');
    expect(mode(join(dir, 'var', 'lib'))).toBe('750');
    expect(mode(join(dir, 'var', 'lib', 'wanctl'))).toBe('750');
    expect(DIR_MODE).toBe(0o750);
  });

  it('through the StateStore too (what the daemons use)', async () => {
    const store = new StateStore<{ n: number }>({ path: join(dir, 'state', 'wan1.json') });
    await store.flush({ n: 1 });
    expect(mode(join(dir, 'state'))).toBe('750');
  });

  it('the lock directory and the log directory are created 0750', async () => {
    const l = acquirePidLock(join(dir, 'run', 'wanctl', 'wan1.lock'));
    l.release();
    expect(mode(join(dir, 'run', 'wanctl'))).toBe('750');
    const log = createLogger({ name: 'x', file: join(dir, 'log', 'wanctl', 'wan1.log'), console: false });
    await log.close();
    expect(mode(join(dir, 'log', 'wanctl'))).toBe('750');
  });

  it('an existing directory is left as it is', () => {
    const existing = join(dir, 'mine');
    mkdirSync(existing, { mode: 0o711 });
    ensureDirSync(join(existing, 'sub'));
    expect(mode(existing)).toBe('711');
    expect(mode(join(existing, 'sub'))).toBe('750');
  });
});
