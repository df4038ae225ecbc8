import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { normaliseAutorate } from './autorate.js';
import { parseMapping, prepare, throwIfProblems } from './context.js';
import { ConfigError, ConfigReadError, ConfigTooLargeError, MAX_CONFIG_BYTES } from './errors.js';
import { autorateSchema, steeringSchema } from './schemas.js';
import { normaliseSteering } from './steering.js';
import type {
  AutorateConfig,
  ConfigKind,
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
