/**
 * Fixtures: the seed a state starts from (YAML or JSON), the default fixture wanctl expects, and a
 * builder from queue names and a mangle comment.
 */
import { readFile } from 'node:fs/promises';
import yaml from 'js-yaml';
import { EmulatorConfigError, RouterOsError } from './errors.js';
import { menuDef } from './schema.js';
import type { RouterState } from './state.js';

/** Item values may be written as strings, numbers or booleans; they are stored in REST form. */
export type FixtureItem = Record<string, string | number | boolean>;

export interface Fixture {
  /** `/system identity` name. */
  identity?: string;
  /** Overrides of `/system resource` fields. */
  resource?: Record<string, string | number>;
  /** Items per menu path: `/queue/tree`, `/queue/simple`, `/queue/type`, `/ip/firewall/mangle`. */
  menus?: Record<string, FixtureItem[]>;
  /** Initial static traffic counters per queue name. */
  counters?: Record<
    string,
    Partial<
      Record<
        'bytes' | 'packets' | 'dropped' | 'queuedBytes' | 'queuedPackets' | 'rate' | 'packetRate',
        number
      >
    >
  >;
}

export interface FixtureOptions {
  /** Download queue tree name. Default `WAN-Download-1`. */
  downloadQueue?: string;
  /** Upload queue tree name. Default `WAN-Upload-1`. */
  uploadQueue?: string;
  /** WAN name (lower-cased) used in the CAKE queue type names `cake-down-<wan>` / `cake-up-<wan>`. Default `wan1`. */
  wan?: string;
  /** Comment of the steering mangle rule. Default `ADAPTIVE: Steer latency-sensitive to WAN2`. */
  mangleComment?: string;
  /** Routing mark/table of the steering rule. Default `to_WAN2`. */
  routingMark?: string;
  /** Whether the steering rule starts disabled. Default true (steering off). */
  mangleDisabled?: boolean;
  /** Initial max-limit of the download queue, bit/s. Default 940000000. */
  downloadMaxLimit?: number;
  /** Initial max-limit of the upload queue, bit/s. Default 38000000. */
  uploadMaxLimit?: number;
  /** Router identity. Default `MikroTik`. */
  identity?: string;
}

/**
 * The fixture wanctl expects: CAKE queue types `cake-down-<wan>`/`cake-up-<wan>`, a download queue
 * tree parented to `bridge1` and an upload tree parented to `global`, and the steering mangle rule
 * with its comment (the commands v1.3 sends; EMULATION.md REF-B.5).
 */
export function buildFixture(opts: FixtureOptions = {}): Fixture {
  const wan = (opts.wan ?? 'wan1').toLowerCase();
  const down = `cake-down-${wan}`;
  const up = `cake-up-${wan}`;
  return {
    identity: opts.identity ?? 'MikroTik',
    menus: {
      '/queue/type': [
        {
          name: down,
          kind: 'cake',
          'cake-diffserv': 'diffserv4',
          'cake-flowmode': 'triple-isolate',
          'cake-nat': 'yes',
          'cake-ack-filter': 'none',
          'cake-rtt': '100ms',
          'cake-overhead-scheme': 'docsis',
        },
        {
          name: up,
          kind: 'cake',
          'cake-diffserv': 'diffserv4',
          'cake-flowmode': 'triple-isolate',
          'cake-nat': 'yes',
          'cake-ack-filter': 'filter',
          'cake-rtt': '100ms',
          'cake-overhead-scheme': 'docsis',
        },
      ],
      '/queue/tree': [
        {
          name: opts.downloadQueue ?? 'WAN-Download-1',
          parent: 'bridge1',
          'packet-mark': '',
          queue: down,
          'max-limit': opts.downloadMaxLimit ?? 940000000,
        },
        {
          name: opts.uploadQueue ?? 'WAN-Upload-1',
          parent: 'global',
          'packet-mark': 'wan1-out',
          queue: up,
          'max-limit': opts.uploadMaxLimit ?? 38000000,
        },
      ],
      '/ip/firewall/mangle': [
        {
          chain: 'prerouting',
          action: 'mark-routing',
          'new-routing-mark': opts.routingMark ?? 'to_WAN2',
          passthrough: 'no',
          'connection-mark': 'LATENCY_SENSITIVE',
          comment: opts.mangleComment ?? 'ADAPTIVE: Steer latency-sensitive to WAN2',
          disabled: opts.mangleDisabled ?? true,
          log: false,
          'log-prefix': '',
        },
      ],
    },
  };
}

/** The default fixture (buildFixture() with its defaults). */
export const defaultFixture: Fixture = buildFixture();

const MENU_ORDER = ['/queue/type', '/queue/tree', '/queue/simple', '/ip/firewall/mangle'];

/** Loads every item of `fixture` into `state` (after the built-ins). Throws EmulatorConfigError. */
export function applyFixture(state: RouterState, fixture: Fixture): void {
  if (fixture.identity !== undefined)
    state.set('/system/identity', undefined, { name: String(fixture.identity) });
  if (fixture.resource) {
    const props = Object.fromEntries(Object.entries(fixture.resource).map(([k, v]) => [k, String(v)]));
    try {
      state.set('/system/resource', undefined, props, { internal: true });
    } catch (e) {
      throw new EmulatorConfigError(`fixture resource: ${(e as Error).message}`);
    }
  }
  const menus = fixture.menus ?? {};
  for (const path of Object.keys(menus)) {
    const def = menuDef(path);
    if (!def || def.singleton) {
      throw new EmulatorConfigError(
        `fixture menu "${path}" is not emulated (expected one of ${MENU_ORDER.join(', ')})`,
      );
    }
  }
  const ordered = [
    ...MENU_ORDER.filter((p) => p in menus),
    ...Object.keys(menus).filter((p) => !MENU_ORDER.includes(p)),
  ];
  for (const path of ordered) {
    const items = menus[path] ?? [];
    if (!Array.isArray(items))
      throw new EmulatorConfigError(`fixture menu "${path}" must be a list of items`);
    items.forEach((item, i) => {
      if (!item || typeof item !== 'object')
        throw new EmulatorConfigError(`fixture ${path}[${i}] must be an object`);
      const props: Record<string, string> = {};
      for (const [k, v] of Object.entries(item)) {
        props[k] = typeof v === 'boolean' ? (v ? 'true' : 'false') : String(v);
      }
      try {
        state.add(path, props, { internal: true });
      } catch (e) {
        const why = e instanceof RouterOsError ? e.detail : (e as Error).message;
        throw new EmulatorConfigError(`fixture ${path}[${i}]: ${why}`);
      }
    });
  }
  for (const [name, c] of Object.entries(fixture.counters ?? {})) {
    state.staticTraffic.set(name, c);
  }
}

/** Reads a YAML or JSON fixture file (JSON is YAML). Throws EmulatorConfigError naming the file. */
export async function loadFixture(file: string): Promise<Fixture> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new EmulatorConfigError(`cannot read fixture ${file}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = yaml.load(text);
  } catch (e) {
    throw new EmulatorConfigError(`fixture ${file} is not valid YAML/JSON: ${(e as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new EmulatorConfigError(
      `fixture ${file} must be a mapping with keys identity, resource, menus, counters`,
    );
  }
  const allowed = new Set(['identity', 'resource', 'menus', 'counters']);
  for (const k of Object.keys(doc)) {
    if (!allowed.has(k)) throw new EmulatorConfigError(`fixture ${file}: unknown key "${k}"`);
  }
  return doc as Fixture;
}
