/**
 * Failover and retry logic with scripted fake transports (no sockets), plus the failover.json
 * golden replay (v1.3 behaviour; D1 names where ours differs).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  type CommandResult,
  Deadline,
  FailoverRouterClient,
  type RouterClient,
  RouterCommandError,
  RouterConnectionError,
  RouterNotFoundError,
  RouterTimeoutError,
  RouterUnavailableError,
  retry,
  type Transport,
} from '../src/index.js';
import { captureLogger } from './helpers.js';

type Outcome = { ok: string } | { err: () => Error } | { hang: true };

class FakeTransport implements RouterClient {
  calls = 0;
  closed = false;
  constructor(
    readonly activeTransport: Transport,
    private readonly outcomes: Outcome[],
    private readonly dflt: Outcome = { ok: `${activeTransport}-ok` },
  ) {}
  private async next(opts?: { deadlineMs?: number }): Promise<string> {
    const o = this.outcomes[this.calls++] ?? this.dflt;
    if ('ok' in o) return o.ok;
    if ('err' in o) throw o.err();
    // hang until the caller's deadline, like a real client with a deadline
    await new Promise((r) => setTimeout(r, opts?.deadlineMs ?? 1000));
    throw new RouterTimeoutError('hung', opts?.deadlineMs ?? 1000, { transport: this.activeTransport });
  }
  async runCommand(_cli: string, opts?: { deadlineMs?: number }): Promise<CommandResult> {
    return { transport: this.activeTransport, records: [], raw: await this.next(opts) };
  }
  async getIdentity(opts?: { deadlineMs?: number }) {
    return this.next(opts);
  }
  async setQueueLimits() {}
  async getQueueStats() {
    return [];
  }
  async findMangleRule() {
    return null;
  }
  async enableMangleRule(): Promise<never> {
    throw new Error('unused');
  }
  async disableMangleRule(): Promise<never> {
    throw new Error('unused');
  }
  async resetQueueCounters() {}
  async getResource(): Promise<never> {
    throw new Error('unused');
  }
  async close() {
    this.closed = true;
  }
}

/** v1.3 outcome strings -> our typed outcomes. */
function outcome(s: string): Outcome {
  const ok = /^\(0, '([^']*)', ''\)$/.exec(s);
  if (ok) return { ok: ok[1]! };
  if (/^\(1, /.test(s)) return { err: () => new RouterCommandError('Command failed', 'Command failed') };
  const m = /^(\w+)\('([^']*)'\)$/.exec(s)!;
  const [, kind, msg] = m;
  if (kind === 'ConnectionError' || kind === 'OSError')
    return { err: () => new RouterConnectionError(msg!, 'refused') };
  if (kind === 'TimeoutError') return { err: () => new RouterTimeoutError(msg!, 1000) };
  return { err: () => new Error(msg!) };
}

describe('failover.json replay (FailoverRouterClient semantics)', () => {
  const g = JSON.parse(
    readFileSync(join(import.meta.dirname, '../../../fixtures/golden/failover.json'), 'utf8'),
  );

  it.each(
    g.scenarios as Array<{
      name: string;
      primary_outcomes: string[];
      fallback_outcomes: string[];
      steps: Array<{
        result?: [number, string, string];
        exception?: string;
        message?: string;
        using_fallback: boolean;
      }>;
    }>,
  )('$name', async (sc) => {
    const primary = new FakeTransport('rest', sc.primary_outcomes.map(outcome));
    const fallback = new FakeTransport('ssh', sc.fallback_outcomes.map(outcome));
    const c = new FailoverRouterClient(primary, fallback, { deadlineMs: 2000, reprobeIntervalMs: 60_000 });
    for (const step of sc.steps) {
      const res = await c.runCommand('/system/identity/print').then(
        (r) => ({ ok: r.raw }),
        (e: Error) => ({ err: e }),
      );
      if (step.result) {
        if (step.result[0] === 0) expect(res).toEqual({ ok: step.result[1] });
        else expect((res as { err: Error }).err).toBeInstanceOf(RouterCommandError); // rc!=0: typed, no failover
      } else if (step.exception === 'ValueError') {
        expect((res as { err: Error }).err.message).toBe(step.message);
      } else {
        // fallback_also_raises: v1.3 raised the fallback's ConnectionError; ours is one typed
        // RouterUnavailableError carrying both causes (D1).
        expect((res as { err: Error }).err).toBeInstanceOf(RouterUnavailableError);
      }
      if (sc.name === 'fallback_also_raises') {
        // D1: with both transports failing there is nothing to switch to; ours stays on the primary
        expect(c.activeTransport).toBe('rest');
      } else expect(c.activeTransport).toBe(step.using_fallback ? 'ssh' : 'rest');
    }
    await c.close();
    expect(primary.closed).toBe(true);
    expect(fallback.closed).toBe(true); // ours closes both whether used or not
  });

  it('v1.3 crashed on run_cmd(..., capture=..., timeout=...); ours takes a deadline on every call', async () => {
    expect(g.header.run_cmd_with_kwargs.exception).toBe('TypeError');
    const c = new FailoverRouterClient(new FakeTransport('rest', []), undefined);
    expect((await c.runCommand('/system/identity/print', { deadlineMs: 100 })).raw).toBe('rest-ok');
    await c.close();
  });
});

describe('failover timing and switching (fake transports)', () => {
  it('a hung primary leaves the fallback the rest of the deadline', async () => {
    const log = captureLogger();
    const c = new FailoverRouterClient(
      new FakeTransport('rest', [{ hang: true }]),
      new FakeTransport('ssh', []),
      {
        deadlineMs: 600,
        logger: log,
      },
    );
    const t0 = performance.now();
    expect(await c.getIdentity()).toBe('ssh-ok');
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(600 + 400);
    expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    await c.close();
  });

  it('both hung: RouterUnavailableError no later than the deadline', async () => {
    const c = new FailoverRouterClient(
      new FakeTransport('rest', [], { hang: true }),
      new FakeTransport('ssh', [], { hang: true }),
      {
        deadlineMs: 400,
      },
    );
    const t0 = performance.now();
    await expect(c.getIdentity()).rejects.toBeInstanceOf(RouterUnavailableError);
    expect(performance.now() - t0).toBeLessThan(400 + 300);
    await c.close();
  });

  it('a RouterOS answer from the fallback proves it works: switch, and return the answer', async () => {
    const c = new FailoverRouterClient(
      new FakeTransport('rest', [{ err: () => new RouterConnectionError('down', 'refused') }]),
      new FakeTransport('ssh', [{ err: () => new RouterNotFoundError('queue "x"', 'no such item') }]),
    );
    await expect(c.getIdentity()).rejects.toBeInstanceOf(RouterNotFoundError);
    expect(c.activeTransport).toBe('ssh');
    await c.close();
  });

  it('on the fallback, a fallback failure tries the primary within the same call', async () => {
    const primary = new FakeTransport('rest', [{ err: () => new RouterConnectionError('down', 'refused') }]);
    const fallback = new FakeTransport('ssh', [
      { ok: 'ssh-1' },
      { err: () => new RouterConnectionError('ssh down', 'reset') },
    ]);
    const events: string[] = [];
    const c = new FailoverRouterClient(primary, fallback, { reprobeIntervalMs: 60_000 });
    c.on('switch', (e) => events.push(`${e.from}->${e.to}`));
    expect(await c.getIdentity()).toBe('ssh-1');
    expect(await c.getIdentity()).toBe('rest-ok');
    expect(events).toEqual(['rest->ssh', 'ssh->rest']);
    await c.close();
  });

  it('probePrimary switches back only when the primary answers', async () => {
    const primary = new FakeTransport('rest', [
      { err: () => new RouterConnectionError('down', 'refused') },
      { err: () => new RouterConnectionError('still down', 'refused') },
    ]);
    const c = new FailoverRouterClient(primary, new FakeTransport('ssh', []), { reprobeIntervalMs: 60_000 });
    await c.getIdentity();
    expect(await c.probePrimary()).toBe(false);
    expect(c.activeTransport).toBe('ssh');
    expect(await c.probePrimary()).toBe(true);
    expect(c.activeTransport).toBe('rest');
    expect(c.switches).toBe(2);
    await c.close();
  });
});

describe('retry and deadlines', () => {
  it('jittered backoff stays within [d/2, d] and the cap', () => {
    const p = { attempts: 5, baseDelayMs: 100, maxDelayMs: 300 };
    expect(backoffDelay(p, 1, () => 0)).toBe(50);
    expect(backoffDelay(p, 1, () => 0.999999)).toBeCloseTo(100, 2);
    expect(backoffDelay(p, 3, () => 0.999999)).toBeCloseTo(300, 2);
    expect(backoffDelay(p, 10, () => 0)).toBe(150);
  });

  it('never sleeps past the deadline and stops retrying when no room is left', async () => {
    let now = 0;
    const deadline = new Deadline(250, () => now);
    const sleeps: number[] = [];
    let attempts = 0;
    const err = await retry(
      async () => {
        attempts++;
        now += Math.min(60, deadline.remaining()); // an attempt costs 60 ms, bounded by its deadline
        throw new RouterConnectionError('x', 'reset');
      },
      {
        policy: { attempts: 10, baseDelayMs: 40, maxDelayMs: 1000 },
        deadline,
        isRetryable: () => true,
        random: () => 1,
        sleep: async (ms) => {
          sleeps.push(ms);
          now += ms;
        },
      },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(RouterConnectionError);
    expect(now).toBeLessThanOrEqual(250);
    expect(attempts).toBeLessThan(10);
    expect(sleeps.every((s) => s > 0)).toBe(true);
  });

  it('non-retryable errors are not retried; attempts are bounded', async () => {
    let n = 0;
    const d = new Deadline(10_000);
    await expect(
      retry(
        async () => {
          n++;
          throw new RouterNotFoundError('q', 'no such item');
        },
        {
          policy: { attempts: 5, baseDelayMs: 1, maxDelayMs: 1 },
          deadline: d,
          isRetryable: (e) => e instanceof RouterConnectionError,
        },
      ),
    ).rejects.toBeInstanceOf(RouterNotFoundError);
    expect(n).toBe(1);
    n = 0;
    await expect(
      retry(
        async () => {
          n++;
          throw new RouterConnectionError('x', 'reset');
        },
        { policy: { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 }, deadline: d, isRetryable: () => true },
      ),
    ).rejects.toBeInstanceOf(RouterConnectionError);
    expect(n).toBe(3);
  });
});
