/** The exit status contract and the one-line fatal report shared by both command lines. */
import { describe, expect, it } from 'vitest';
import {
  commanderExitCode,
  DaemonStartError,
  EXIT_STATUS_HELP,
  errorCode,
  exitCodeFor,
  exitStatusForCode,
  HttpBindError,
  LockError,
  LockHeldError,
  RuntimeError,
  reportFatal,
  runCli,
  StateWriteError,
  UsageError,
} from '../src/index.js';

/** Errors of other packages, known by their class name only (no code of their own yet). */
class ProbeUnavailableError extends Error {}
class ProbeConfigError extends Error {}
class ConfigError extends Error {}
/** An error of another package that carries its own code. */
class RouterishError extends Error {
  readonly code = 'WANCTL_ROUTER_TIMEOUT';
}

function report(e: unknown): { code: number; text: string } {
  let text = '';
  const code = reportFatal('wanctl-x', e, (t) => {
    text += t;
  });
  return { code, text };
}

describe('exitCodeFor / reportFatal', () => {
  it('a usage or config problem is 2, told as "<program>: <message>"', () => {
    const e = new UsageError('/etc/wanctl/wan1.yaml: thresholds.x: unknown key');
    expect(exitCodeFor(e)).toBe(2);
    expect(report(e)).toEqual({
      code: 2,
      text: 'wanctl-x: /etc/wanctl/wan1.yaml: thresholds.x: unknown key\n',
    });
  });

  it('a held lock is 1 and says another instance is running', () => {
    const e = new LockHeldError('/run/wanctl/wan1.lock', 4242);
    expect(exitCodeFor(e)).toBe(1);
    const r = report(e);
    expect(r.code).toBe(1);
    expect(r.text).toBe(`wanctl-x: another instance is running, refusing to start: ${e.message}\n`);
  });

  it('lock, start and bind errors are 1 with their message only (no stack)', () => {
    for (const e of [
      new LockError('/run/wanctl/wan1.lock', new Error('EACCES')),
      new DaemonStartError('fping not found', new Error('ENOENT')),
      new HttpBindError('127.0.0.1', 9101, 'EADDRINUSE'),
    ]) {
      expect(exitCodeFor(e)).toBe(1);
      expect(report(e)).toEqual({ code: 1, text: `wanctl-x: ${e.message}\n` });
    }
    expect(new DaemonStartError('x', 'why').cause).toBe('why');
  });

  it('an unexpected error is 1 and told with its stack; a thrown non-Error too', () => {
    const e = new TypeError('boom');
    expect(exitCodeFor(e)).toBe(1);
    const r = report(e);
    expect(r.code).toBe(1);
    expect(r.text.startsWith('wanctl-x: fatal: TypeError: boom\n')).toBe(true);
    expect(r.text).toContain('exit.test.ts');
    expect(report('just a string')).toEqual({ code: 1, text: 'wanctl-x: fatal: just a string\n' });
    expect(report(undefined)).toEqual({ code: 1, text: 'wanctl-x: fatal: undefined\n' });
  });

  it('the exit status follows the code: WANCTL_USAGE and WANCTL_CONFIG_* are 2, any other code 1', () => {
    expect(exitStatusForCode('WANCTL_USAGE')).toBe(2);
    expect(exitStatusForCode('WANCTL_CONFIG_INVALID')).toBe(2);
    expect(exitStatusForCode('WANCTL_CONFIG_PROBE')).toBe(2);
    expect(exitStatusForCode('WANCTL_LOCK_HELD')).toBe(1);
    expect(exitStatusForCode(undefined)).toBe(1);
    // an error with its own code: the code decides, whatever its class
    expect(errorCode(new RouterishError('x'))).toBe('WANCTL_ROUTER_TIMEOUT');
    expect(exitCodeFor(new RuntimeError('WANCTL_CONFIG_STATE', 'x'))).toBe(2);
    expect(exitCodeFor(new RuntimeError('WANCTL_STATE_READ', 'x'))).toBe(1);
    expect(report(new RouterishError('router did not answer within 2000 ms'))).toEqual({
      code: 1,
      text: 'wanctl-x: router did not answer within 2000 ms\n',
    });
    // a code that is not of the WANCTL_ form (an errno) is not taken for one
    expect(errorCode(new HttpBindError('127.0.0.1', 9101, 'EADDRINUSE'))).toBe('WANCTL_HTTP_BIND');
    expect(errorCode(new StateWriteError('/x', new Error('ENOSPC')))).toBe('WANCTL_STATE_WRITE');
  });

  it('errors of other packages without a code are known by class name, with their labels', () => {
    expect(errorCode(new ConfigError('x'))).toBe('WANCTL_CONFIG_INVALID');
    expect(exitCodeFor(new ConfigError('x'))).toBe(2);
    expect(report(new ProbeConfigError('"a:b" has no port'))).toEqual({
      code: 2,
      text: 'wanctl-x: bad reflector: "a:b" has no port\n',
    });
    expect(report(new ProbeUnavailableError('fping not found'))).toEqual({
      code: 1,
      text: 'wanctl-x: cannot probe RTT: fping not found\n',
    });
    // a subclass of a known class is known too
    class MyConfigError extends ConfigError {}
    expect(errorCode(new MyConfigError('x'))).toBe('WANCTL_CONFIG_INVALID');
    expect(errorCode(new Error('x'))).toBeUndefined();
    expect(errorCode('WANCTL_USAGE')).toBeUndefined();
  });

  it('every error class of this package has a WANCTL_ code', () => {
    for (const e of [
      new UsageError('x'),
      new DaemonStartError('x'),
      new LockHeldError('/l', 1),
      new LockError('/l', new Error('x')),
      new HttpBindError('h', 1, 'EACCES'),
      new StateWriteError('/s', new Error('x')),
    ])
      expect(errorCode(e)).toMatch(/^WANCTL_[A-Z_]+$/);
    expect(new UsageError('x').code).toBe('WANCTL_USAGE');
    expect(new DaemonStartError('x').code).toBe('WANCTL_DAEMON_START');
  });
});

describe('EXIT_STATUS_HELP', () => {
  it('states the contract the mapping implements', () => {
    expect(EXIT_STATUS_HELP).toBe(
      'Exit status: 0 clean stop; 2 bad config or arguments; 1 any other fatal error.',
    );
    expect(exitCodeFor(new UsageError('x'))).toBe(2);
    expect(exitCodeFor(new Error('x'))).toBe(1);
  });
});

describe('commanderExitCode', () => {
  it('--help and --version are 0; help because no subcommand was given, and parse errors, are 2', () => {
    expect(commanderExitCode({ code: 'commander.helpDisplayed', exitCode: 0 })).toBe(0);
    expect(commanderExitCode({ code: 'commander.version', exitCode: 0 })).toBe(0);
    expect(commanderExitCode({ code: 'commander.help', exitCode: 0 })).toBe(0);
    expect(commanderExitCode({ code: 'commander.help', exitCode: 1 })).toBe(2);
    expect(commanderExitCode({ code: 'commander.unknownOption', exitCode: 1 })).toBe(2);
    expect(commanderExitCode({ code: 'commander.missingMandatoryOptionValue', exitCode: 1 })).toBe(2);
  });
});

describe('runCli', () => {
  it('exits with the status main resolves with', async () => {
    const codes: number[] = [];
    await runCli('wanctl-x', async () => 0, { exit: (c) => codes.push(c), write: () => {} });
    await runCli('wanctl-x', async () => 2, { exit: (c) => codes.push(c), write: () => {} });
    expect(codes).toEqual([0, 2]);
  });

  it('a main that rejects or throws is reported like any fatal error and exits with its status', async () => {
    const codes: number[] = [];
    let text = '';
    const hooks = { exit: (c: number) => codes.push(c), write: (t: string) => (text += t) };
    await runCli('wanctl-x', () => Promise.reject(new UsageError('--config <yaml> is required')), hooks);
    await runCli(
      'wanctl-x',
      () => {
        throw new RangeError('boom');
      },
      hooks,
    );
    expect(codes).toEqual([2, 1]);
    expect(text).toContain('wanctl-x: --config <yaml> is required\n');
    expect(text).toContain('wanctl-x: fatal: RangeError: boom');
  });
});
