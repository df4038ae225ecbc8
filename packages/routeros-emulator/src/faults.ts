/**
 * Faults switchable at run time, per face. A count makes a fault one-shot for the next N
 * requests/commands; `true` keeps it until cleared.
 */
import { FaultSettingsError } from './errors.js';

export type Face = 'rest' | 'ssh';

export interface FaultSettings {
  /** Delay before each request (REST) or command (SSH) is answered, ms. */
  latencyMs?: number;
  /** Face down: the listener is closed (connections refused) and open connections are dropped. */
  down?: boolean;
  /** REST: send the status line, headers and half the body, then reset the connection. */
  reset?: number | boolean;
  /** Never answer (REST request / SSH command). Hung requests end when the emulator stops. */
  hang?: number | boolean;
  /**
   * REST: the request runs into RouterOS's command timeout: held for the emulator's
   * `restCommandTimeoutMs` (default 60 s, as documented), then answered 400 `Session closed`.
   */
  sessionClosed?: number | boolean;
  /** REST: answer with this HTTP status and a RouterOS error envelope (500/503 bursts). */
  httpError?: { status: number; count?: number };
  /** REST: answer 200 with a body that is not valid JSON. */
  malformedJson?: number | boolean;
  /** SSH: send part of the output, then drop the whole connection without an exit status. */
  disconnect?: number | boolean;
  /** Maximum concurrent connections; extra connections are closed at once (RouterOS `max-sessions`). */
  maxSessions?: number;
  /**
   * REST: the request is handled (the change is made), then answered 200 with exactly `body`
   * (e.g. `null`, `{}`, `""`, or records naming other items), for requests whose method is
   * `method` (any when omitted), the next `count` times (until cleared when omitted).
   */
  answerBody?: { body: string; method?: string; count?: number };
  /**
   * REST: answer 200 with a JSON array of about `bytes` bytes, streamed in 64 KiB chunks without
   * a content-length (the request is not handled). SSH: print about `bytes` bytes of output
   * after the command's own. For response size caps.
   */
  oversize?: { bytes: number; count?: number };
}

export type CountedFault = 'reset' | 'hang' | 'malformedJson' | 'disconnect' | 'sessionClosed';

/** Hook the faces register so `down` can close and reopen listeners. */
export type DownHook = (down: boolean) => Promise<void>;

export class Faults {
  private readonly settings: Record<Face, FaultSettings> = { rest: {}, ssh: {} };
  private readonly downHooks = new Map<Face, DownHook>();
  /** Bumped every time a face goes down: work delayed across it belongs to dropped connections. */
  private readonly downs: Record<Face, number> = { rest: 0, ssh: 0 };

  /** @internal */
  registerDownHook(face: Face, hook: DownHook): void {
    this.downHooks.set(face, hook);
  }

  /** Current settings of a face (a copy). */
  get(face: Face): FaultSettings {
    const s = this.settings[face];
    return {
      ...s,
      ...(s.httpError ? { httpError: { ...s.httpError } } : {}),
      ...(s.answerBody ? { answerBody: { ...s.answerBody } } : {}),
      ...(s.oversize ? { oversize: { ...s.oversize } } : {}),
    };
  }

  /**
   * Merges `settings` into the face's faults. A key set to `undefined`, `false` or `0` clears that
   * fault. Resolves once a `down` change has taken effect (listener closed or listening again).
   */
  async set(face: Face, settings: FaultSettings): Promise<void> {
    assertFace(face);
    const cur = this.settings[face];
    const wasDown = cur.down === true;
    for (const [k, v] of Object.entries(settings) as [keyof FaultSettings, unknown][]) {
      if (v === undefined || v === false || v === 0 || v === null) {
        delete cur[k];
        continue;
      }
      validate(k, v);
      (cur as Record<string, unknown>)[k] =
        k === 'httpError' || k === 'answerBody' || k === 'oversize' ? { ...(v as object) } : v;
    }
    const isDown = cur.down === true;
    if (isDown && !wasDown) this.downs[face]++;
    if (isDown !== wasDown) await this.downHooks.get(face)?.(isDown);
  }

  /** Clears every fault of one face, or of both. */
  async clear(face?: Face): Promise<void> {
    for (const f of face ? [face] : (['rest', 'ssh'] as const)) {
      const wasDown = this.settings[f].down === true;
      this.settings[f] = {};
      if (wasDown) await this.downHooks.get(f)?.(false);
    }
  }

  /**
   * @internal How many times the face went down. A request held by `latencyMs` compares it before
   * and after the delay: a face that went down in between dropped the request's connection, and a
   * router whose connections were dropped (a restart) does not run what they carried.
   */
  downCount(face: Face): number {
    return this.downs[face];
  }

  /** @internal Whether a counted fault applies to this request; consumes one count. */
  take(face: Face, kind: CountedFault): boolean {
    const s = this.settings[face];
    const v = s[kind];
    if (v === undefined || v === false) return false;
    if (typeof v === 'number') {
      if (v <= 1) delete s[kind];
      else s[kind] = v - 1;
    }
    return true;
  }

  /** @internal The HTTP error to answer with, if a burst is active; consumes one count. */
  takeHttpError(): number | undefined {
    const e = this.settings.rest.httpError;
    if (!e) return undefined;
    if (e.count !== undefined) {
      if (e.count <= 1) delete this.settings.rest.httpError;
      else e.count--;
    }
    return e.status;
  }

  /** @internal The replacement REST body for a request with this method, if any; consumes one count. */
  takeAnswerBody(method: string): string | undefined {
    const a = this.settings.rest.answerBody;
    if (!a || (a.method !== undefined && a.method.toUpperCase() !== method.toUpperCase())) return undefined;
    if (a.count !== undefined) {
      if (a.count <= 1) delete this.settings.rest.answerBody;
      else a.count--;
    }
    return a.body;
  }

  /** @internal Size of an oversize answer for this face, if one is due; consumes one count. */
  takeOversize(face: Face): number | undefined {
    const o = this.settings[face].oversize;
    if (!o) return undefined;
    if (o.count !== undefined) {
      if (o.count <= 1) delete this.settings[face].oversize;
      else o.count--;
    }
    return o.bytes;
  }
}

function assertFace(face: string): asserts face is Face {
  if (face !== 'rest' && face !== 'ssh')
    throw new FaultSettingsError(`unknown face "${face}" (expected "rest" or "ssh")`);
}

function validate(k: string, v: unknown): void {
  const nonNegInt = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 0;
  switch (k) {
    case 'latencyMs':
    case 'maxSessions':
      if (!nonNegInt(v))
        throw new FaultSettingsError(`fault ${k} must be a non-negative integer, got ${JSON.stringify(v)}`);
      return;
    case 'down':
      if (v !== true)
        throw new FaultSettingsError(`fault down must be true or false, got ${JSON.stringify(v)}`);
      return;
    case 'reset':
    case 'sessionClosed':
    case 'hang':
    case 'malformedJson':
    case 'disconnect':
      if (v !== true && !nonNegInt(v)) {
        throw new FaultSettingsError(`fault ${k} must be true or a request count, got ${JSON.stringify(v)}`);
      }
      return;
    case 'httpError': {
      const e = v as { status?: unknown; count?: unknown };
      if (typeof e !== 'object' || typeof e.status !== 'number' || e.status < 400 || e.status > 599) {
        throw new FaultSettingsError(
          `fault httpError needs {status: 400..599, count?}, got ${JSON.stringify(v)}`,
        );
      }
      if (e.count !== undefined && !nonNegInt(e.count))
        throw new FaultSettingsError('fault httpError.count must be an integer');
      return;
    }
    case 'answerBody': {
      const a = v as { body?: unknown; method?: unknown; count?: unknown };
      if (typeof a !== 'object' || typeof a.body !== 'string')
        throw new FaultSettingsError(
          `fault answerBody needs {body: string, method?, count?}, got ${JSON.stringify(v)}`,
        );
      if (a.method !== undefined && typeof a.method !== 'string')
        throw new FaultSettingsError('fault answerBody.method must be an HTTP method');
      if (a.count !== undefined && !nonNegInt(a.count))
        throw new FaultSettingsError('fault answerBody.count must be an integer');
      return;
    }
    case 'oversize': {
      const o = v as { bytes?: unknown; count?: unknown };
      if (typeof o !== 'object' || !nonNegInt(o.bytes))
        throw new FaultSettingsError(
          `fault oversize needs {bytes: integer, count?}, got ${JSON.stringify(v)}`,
        );
      if (o.count !== undefined && !nonNegInt(o.count))
        throw new FaultSettingsError('fault oversize.count must be an integer');
      return;
    }
    default:
      throw new FaultSettingsError(`unknown fault "${k}"`);
  }
}
