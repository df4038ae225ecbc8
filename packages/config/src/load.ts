import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { normaliseAutorate } from './autorate.js';
import { parseMapping, prepare, throwIfProblems } from './context.js';
import { ConfigError, ConfigReadError, ConfigTooLargeError, MAX_CONFIG_BYTES } from './errors.js';
import { historyConfig, historySchema } from './history.js';
import { autorateSchema, IDENTIFIER_PATTERN, type JsonSchema, steeringSchema } from './schemas.js';
import { normaliseSteering } from './steering.js';
import type {
  AutorateConfig,
  ConfigKind,
  HistoryConfig,
  LoadedConfig,
  LoadOptions,
  ParseOptions,
  SteeringConfig,
} from './types.js';

const AUTORATE_MARKERS = ['continuous_monitoring', 'queues'];
const STEERING_MARKERS = ['topology', 'mangle_rule', 'measurement', 'cake_state_sources', 'cake_queues'];

/**
 * Tells an autorate config from a steering config by its top-level keys
 * (`continuous_monitoring`/`queues` versus `topology`/`mangle_rule`/`measurement`/...).
 * Returns null when neither or both kinds' keys are present.
 */
export function detectConfigKind(obj: unknown): ConfigKind | null {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return null;
  const keys = Object.keys(obj);
  const a = keys.some((k) => AUTORATE_MARKERS.includes(k));
  const s = keys.some((k) => STEERING_MARKERS.includes(k));
  if (a === s) return null;
  return a ? 'autorate' : 'steering';
}

/** Reads a config file; a file larger than {@link MAX_CONFIG_BYTES} is refused unread. */
function readText(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new ConfigReadError(file, err);
  }
  try {
    let size: number;
    try {
      size = fstatSync(fd).size;
    } catch (err) {
      throw new ConfigReadError(file, err);
    }
    if (size > MAX_CONFIG_BYTES) throw new ConfigTooLargeError(file, size);
    try {
      return readFileSync(fd, 'utf8');
    } catch (err) {
      throw new ConfigReadError(file, err);
    }
  } finally {
    closeSync(fd);
  }
}

function parseKind(text: string, kind: ConfigKind | undefined, opts: ParseOptions): LoadedConfig {
  const file = opts.file ?? '<memory>';
  // (a pipe or /dev/stdin has no size to check before reading)
  if (text.length > MAX_CONFIG_BYTES) throw new ConfigTooLargeError(file, Buffer.byteLength(text, 'utf8'));
  const env = opts.env ?? process.env;
  const { raw, positions } = parseMapping(text, file);
  const k = kind ?? detectConfigKind(raw);
  if (k === null) {
    throw new ConfigError(file, [
      {
        file,
        path: '',
        message:
          'cannot tell whether this is an autorate or a steering config (autorate has continuous_monitoring and queues; steering has topology, mangle_rule and measurement); use --kind',
      },
    ]);
  }
  if (k === 'autorate') {
    const { ctx, data } = prepare(raw, positions, file, autorateSchema, env);
    const config = normaliseAutorate(ctx, data, raw);
    throwIfProblems(ctx);
    return { kind: 'autorate', config };
  }
  const { ctx, data } = prepare(raw, positions, file, steeringSchema, env);
  const config = normaliseSteering(ctx, data, raw);
  throwIfProblems(ctx);
  return { kind: 'steering', config };
}

/**
 * Parses and validates autorate config text. Throws {@link ConfigError} with every problem.
 * @example parseAutorateConfig(text, { file: 'cable.yaml', env: { WANCTL_ROUTER_PASSWORD: 'x' } })
 */
export function parseAutorateConfig(text: string, opts: ParseOptions = {}): AutorateConfig {
  return (parseKind(text, 'autorate', opts) as { config: AutorateConfig }).config;
}

/** Parses and validates steering config text. Throws {@link ConfigError} with every problem. */
export function parseSteeringConfig(text: string, opts: ParseOptions = {}): SteeringConfig {
  return (parseKind(text, 'steering', opts) as { config: SteeringConfig }).config;
}

/** Parses config text of either kind (detected from the content unless `kind` is given). */
export function parseConfigText(text: string, opts: ParseOptions & { kind?: ConfigKind } = {}): LoadedConfig {
  return parseKind(text, opts.kind, opts);
}

/**
 * Reads and validates an autorate config file (synchronously).
 * Throws {@link ConfigReadError} if the file cannot be read, {@link ConfigError} if it is invalid.
 */
export function loadAutorateConfig(file: string, opts: Omit<LoadOptions, 'kind'> = {}): AutorateConfig {
  return parseAutorateConfig(readText(file), { file, ...opts });
}

/**
 * Reads and validates a steering config file (synchronously).
 * Throws {@link ConfigReadError} if the file cannot be read, {@link ConfigError} if it is invalid.
 */
export function loadSteeringConfig(file: string, opts: Omit<LoadOptions, 'kind'> = {}): SteeringConfig {
  return parseSteeringConfig(readText(file), { file, ...opts });
}

/**
 * Reads and validates a config file of either kind: `{kind: 'autorate'|'steering', config}`.
 * The kind comes from `opts.kind` or is detected from the content ({@link detectConfigKind}).
 */
export function loadConfigFile(file: string, opts: LoadOptions = {}): LoadedConfig {
  return parseKind(readText(file), opts.kind, { file, ...(opts.env ? { env: opts.env } : {}) });
}

/** What a history reader needs from a daemon's config: {@link loadHistorySettings}. */
export interface HistorySettings {
  kind: ConfigKind;
  /** `wan_name` ('' when the config has none). */
  wanName: string;
  /** The `history` section, fully defaulted (as in the full config). */
  history: HistoryConfig;
}

/** Default dashboard port of each kind (as in the full schemas). */
const DASHBOARD_PORT: Record<ConfigKind, number> = { autorate: 9104, steering: 9105 };

const historyOnlySchemas = new Map<ConfigKind, JsonSchema>();

/** The keys {@link parseHistorySettings} reads; every other key is neither expanded nor checked. */
function historyOnlySchema(kind: ConfigKind): JsonSchema {
  let s = historyOnlySchemas.get(kind);
  if (s === undefined) {
    s = {
      type: 'object',
      properties: {
        wan_name: { type: 'string', pattern: IDENTIFIER_PATTERN, description: 'Name of the WAN.' },
        history: historySchema(DASHBOARD_PORT[kind]),
      },
    };
    historyOnlySchemas.set(kind, s); // compiled once per kind (validators are cached by schema)
  }
  return s;
}

/**
 * Reads only what the history store's readers need from a daemon's config (autorate or steering):
 * `wan_name` and the `history` section, `${VAR}` expanded and checked in those keys alone. The
 * router section and its secrets are not resolved, so `wanctl-history --config` works without
 * `WANCTL_ROUTER_PASSWORD` (or read access to a key file). The file must still be a config of
 * either kind (its top-level keys tell which; `opts.kind` forces it).
 *
 * @throws {ConfigError} when those keys are invalid (or the kind cannot be told)
 * @example parseHistorySettings(text, { file: 'cable.yaml' }).history.file
 */
export function parseHistorySettings(
  text: string,
  opts: ParseOptions & { kind?: ConfigKind } = {},
): HistorySettings {
  const file = opts.file ?? '<memory>';
  if (text.length > MAX_CONFIG_BYTES) throw new ConfigTooLargeError(file, Buffer.byteLength(text, 'utf8'));
  const { raw, positions } = parseMapping(text, file);
  const kind = opts.kind ?? detectConfigKind(raw);
  if (kind === null) {
    throw new ConfigError(file, [
      {
        file,
        path: '',
        message:
          'cannot tell whether this is an autorate or a steering config (autorate has continuous_monitoring and queues; steering has topology, mangle_rule and measurement)',
      },
    ]);
  }
  const subset: Record<string, unknown> = {};
  if ('wan_name' in raw) subset['wan_name'] = raw['wan_name'];
  if ('history' in raw) subset['history'] = raw['history'];
  const { ctx, data } = prepare(subset, positions, file, historyOnlySchema(kind), opts.env ?? process.env);
  const wanName = typeof data['wan_name'] === 'string' ? data['wan_name'] : '';
  const hasFile = typeof (data['history'] as Record<string, unknown> | undefined)?.['file'] === 'string';
  if (wanName === '' && !hasFile && ctx.problems.length === 0)
    ctx.error(
      'wan_name',
      'wan_name is missing: the default history.file is named after it (or set history.file)',
    );
  throwIfProblems(ctx);
  return { kind, wanName, history: historyConfig(data, wanName, DASHBOARD_PORT[kind]) };
}

/**
 * Reads a config file for the history store's readers: see {@link parseHistorySettings}.
 * @throws {ConfigReadError} if the file cannot be read, {@link ConfigError} if those keys are invalid
 */
export function loadHistorySettings(file: string, opts: LoadOptions = {}): HistorySettings {
  return parseHistorySettings(readText(file), {
    file,
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.kind ? { kind: opts.kind } : {}),
  });
}
