/**
 * RouterOS REST error envelopes (routeros-samples/rest/error_*.json) become typed errors that
 * carry RouterOS's own message.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isTransportFailure,
  RestRouterClient,
  RouterAuthError,
  RouterCommandError,
  RouterConnectionError,
  RouterNotFoundError,
} from '../src/index.js';

const REST = join(import.meta.dirname, '../../../fixtures/routeros-samples/rest');

describe('REST error envelopes from real routers', () => {
  let server: http.Server;
  let port: number;
  let next: { status: number; body: string } = { status: 200, body: '[]' };
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(next.status, { 'content-type': 'application/json' });
        res.end(next.body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  async function errorFor(status: number, file: string | null): Promise<Error> {
    next = { status, body: file ? readFileSync(join(REST, file), 'utf8') : '' };
    const c = new RestRouterClient({
      host: '127.0.0.1',
      port,
      https: false,
      user: 'u',
      password: 'p',
      deadlineMs: 2000,
      retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
    });
    try {
      await c.runCommand('/ip/service/set [find name="www-ssl"] certificate=nope');
      throw new Error('expected a failure');
    } catch (e) {
      return e as Error;
    } finally {
      await c.close();
    }
  }

  it.each([
    [
      400,
      'error_400_failure_configured_elsewhere_ros7.19_terraform-issue769.json',
      'failure: this is configured elsewhere',
    ],
    [
      400,
      'error_400_patch_input_does_not_match_tikoci-pr20.json',
      'input does not match any value of certificate',
    ],
    [400, 'error_400_unknown_path_chr_ros7.23.7_lab-survey.json', 'no such command or directory'],
    [400, 'error_400_session_closed_ping_timeout_doc.json', 'Session closed'],
    [406, 'error_406_no_such_command_doc.json', 'no such command or directory'],
  ])('%i %s -> RouterCommandError with the detail', async (status, file, detail) => {
    const err = (await errorFor(status, file)) as RouterCommandError;
    expect(err).toBeInstanceOf(RouterCommandError);
    expect(err).not.toBeInstanceOf(RouterNotFoundError);
    expect(err.routerMessage).toContain(detail);
    expect(err.status).toBe(status);
    expect(isTransportFailure(err)).toBe(false);
  });

  it('404 without detail -> RouterNotFoundError', async () => {
    const err = await errorFor(404, 'error_404_delete_twice_doc.json');
    expect(err).toBeInstanceOf(RouterNotFoundError);
  });

  it('401 with a JSON body or with an empty body -> RouterAuthError', async () => {
    expect(await errorFor(401, 'error_401_unauthorized_chr_ros7.23.7_lab-survey.json')).toBeInstanceOf(
      RouterAuthError,
    );
    expect(await errorFor(401, null)).toBeInstanceOf(RouterAuthError);
  });

  it('500 not enough permissions -> a transport failure (server-error) carrying the detail', async () => {
    next = { status: 500, body: '' };
    const err = (await errorFor(500, null)) as RouterConnectionError;
    expect(err).toBeInstanceOf(RouterConnectionError);
    expect(err.kind).toBe('server-error');
    expect(err.status).toBe(500);
  });
});
