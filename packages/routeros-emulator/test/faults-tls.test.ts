import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/index.js';
import { AUTH } from './helpers.js';

describe('faults over HTTPS', () => {
  let emu: Emulator;
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => uncaught.push(e);
  beforeAll(async () => {
    process.on('uncaughtException', onUncaught);
    emu = await startEmulator({ tls: true, sshPort: false });
  });
  afterAll(async () => {
    await emu.stop();
    process.off('uncaughtException', onUncaught);
  });

  it('reset cuts a TLS response mid-body without crashing the emulator', async () => {
    await emu.faults.set('rest', { reset: 1 });
    const got = await new Promise<{ status?: number; error?: string; partial: string }>((resolve) => {
      let status: number | undefined;
      let partial = '';
      const finish = (error?: string) => resolve({ status, partial, ...(error ? { error } : {}) });
      const req = https.get(
        `${emu.rest?.url}/queue/tree`,
        { headers: { authorization: AUTH }, rejectUnauthorized: false, timeout: 5000 },
        (res) => {
          status = res.statusCode;
          res.on('data', (d) => {
            partial += d;
          });
          res.on('error', (e) => finish(e.message));
          res.on('aborted', () => finish('aborted'));
          res.on('end', () => finish());
        },
      );
      req.on('timeout', () => {
        req.destroy();
        finish('client timeout: the connection was not cut');
      });
      req.on('error', (e) => finish(e.message));
    });
    expect(got.status).toBe(200);
    expect(got.error).toBeDefined();
    expect(got.error).not.toMatch(/client timeout/);
    expect(() => JSON.parse(got.partial)).toThrow();
    expect(uncaught).toEqual([]);
    // the emulator still answers afterwards
    const status = await new Promise<number | undefined>((resolve, reject) => {
      https
        .get(
          `${emu.rest?.url}/system/identity`,
          { headers: { authorization: AUTH }, rejectUnauthorized: false },
          (res) => {
            res.resume();
            resolve(res.statusCode);
          },
        )
        .on('error', reject);
    });
    expect(status).toBe(200);
  });
});
