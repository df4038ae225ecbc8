/**
 * The one in-memory RouterOS state that both faces (REST and SSH) read and write.
 * Values are stored in their REST form (plain strings: bit/s integers, "true"/"false").
 */
import { NoSuchItemError, RouterOsError } from './errors.js';
import { type FieldDef, fieldDef, MENUS, type MenuDef, menuDef } from './schema.js';
import {
  type QueueCounters,
  type QueueInfo,
  StaticTrafficModel,
  type TrafficModel,
  ZERO_COUNTERS,
} from './traffic.js';
import { formatDuration, parseBool, parseDuration, parseRate, parseSize } from './units.js';

/** One item as REST shows it: every value a string, `.id` included (except singletons). */
export type ItemRecord = Record<string, string>;

/** A filter: exact property equality (booleans accept yes/no/true/false), or a predicate. */
export type ItemFilter = Record<string, string> | ((item: ItemRecord) => boolean);

export interface WriteOptions {
  /** Allow writing read-only properties (counters, `dynamic`, `invalid`). For tests/fixtures. */
  internal?: boolean;
}

export type ChangeAction = 'add' | 'set' | 'remove' | 'reset-counters';

export interface ChangeEvent {
  readonly path: string;
  readonly id: string;
  readonly action: ChangeAction;
  /** For `set`/`add`: the properties written, in REST form. */
  readonly props?: Readonly<Record<string, string>>;
}

interface StoredItem {
  id: string;
  props: Map<string, string>;
  /** Counter baseline subtracted after `reset-counters` (cumulative counters only). */
  base: Map<string, QueueCounters>;
}

interface MenuStore {
  def: MenuDef;
  items: StoredItem[];
  nextId: number;
}

const CUMULATIVE = ['bytes', 'packets', 'dropped'] as const;

function formatId(n: number): string {
  return `*${n.toString(16).toUpperCase()}`;
}

/** Sorts keys as RouterOS REST does: `.id` first, then alphabetical. */
export function sortKeys(rec: Record<string, string>): ItemRecord {
  const out: ItemRecord = {};
  if (rec['.id'] !== undefined) out['.id'] = rec['.id'];
  for (const k of Object.keys(rec).sort()) {
    if (k !== '.id') out[k] = rec[k] as string;
  }
  return out;
}

export interface RouterStateOptions {
  /** Clock in ms handed to the traffic model. Default `Date.now`. */
  now?: () => number;
  trafficModel?: TrafficModel;
}

export class RouterState {
  private readonly menus = new Map<string, MenuStore>();
  private readonly listeners = new Set<(ev: ChangeEvent) => void>();
  private model: TrafficModel;
  private readonly now: () => number;
  /** The built-in static model (kept even when another model is installed). */
  readonly staticTraffic: StaticTrafficModel;

  constructor(opts: RouterStateOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.staticTraffic = new StaticTrafficModel();
    this.model = opts.trafficModel ?? this.staticTraffic;
    for (const def of MENUS) {
      this.menus.set(def.path, { def, items: [], nextId: def.idStart });
      if (def.singleton) {
        this.menus.get(def.path)?.items.push({ id: '', props: new Map(), base: new Map() });
      }
    }
    this.seedDefaults();
  }

  /** Replaces the traffic model (queue counters source). */
  setTrafficModel(model: TrafficModel): void {
    this.model = model;
  }

  get trafficModel(): TrafficModel {
    return this.model;
  }

  /** Current emulator clock in ms. */
  clock(): number {
    return this.now();
  }

  /** Subscribes to changes; returns an unsubscribe function. */
  onChange(listener: (ev: ChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(ev: ChangeEvent): void {
    for (const l of this.listeners) l(ev);
  }

  private seedDefaults(): void {
    const types = this.store('/queue/type');
    const builtins: Record<string, string>[] = [
      { name: 'default', kind: 'pfifo', 'pfifo-limit': '50' },
      { name: 'ethernet-default', kind: 'pfifo', 'pfifo-limit': '50' },
      { name: 'wireless-default', kind: 'sfq', 'sfq-perturb': '5', 'sfq-allot': '1514' },
      {
        name: 'synchronous-default',
        kind: 'red',
        'red-limit': '60',
        'red-min-threshold': '10',
        'red-max-threshold': '50',
        'red-burst': '20',
        'red-avg-packet': '1000',
      },
      { name: 'hotspot-default', kind: 'sfq', 'sfq-perturb': '5', 'sfq-allot': '1514' },
      ...(['src-address', 'dst-address'] as const).map((c) => ({
        name: c === 'src-address' ? 'pcq-upload-default' : 'pcq-download-default',
        kind: 'pcq',
        'pcq-rate': '0',
        'pcq-limit': '50',
        'pcq-classifier': c,
        'pcq-total-limit': '2000',
        'pcq-burst-rate': '0',
        'pcq-burst-threshold': '0',
        'pcq-burst-time': '10s',
        'pcq-src-address-mask': '32',
        'pcq-dst-address-mask': '32',
        'pcq-src-address6-mask': '128',
        'pcq-dst-address6-mask': '128',
      })),
      { name: 'only-hardware-queue', kind: 'none' },
      { name: 'multi-queue-ethernet-default', kind: 'mq-pfifo', 'mq-pfifo-limit': '50' },
      { name: 'default-small', kind: 'pfifo', 'pfifo-limit': '10' },
    ];
    builtins.forEach((p, i) => {
      const props = new Map(Object.entries(p));
      props.set('default', 'true');
      types.items.push({ id: formatId(0xffffffff - i), props, base: new Map() });
    });
    const res = this.store('/system/resource').items[0]!;
    const defaults: Record<string, string> = {
      uptime: '1d2h3m4s',
      version: '7.16.2 (stable)',
      'build-time': '2024-11-27 12:00:00',
      'factory-software': '7.1',
      'free-memory': '819691520',
      'total-memory': '1073741824',
      cpu: 'ARM64',
      'cpu-count': '4',
      'cpu-frequency': '1400',
      'cpu-load': '3',
      'free-hdd-space': '104857600',
      'total-hdd-space': '134217728',
      'write-sect-since-reboot': '15160',
      'write-sect-total': '291965',
      'architecture-name': 'arm64',
      'board-name': 'RB5009UG+S+',
      platform: 'MikroTik',
    };
    for (const [k, v] of Object.entries(defaults)) res.props.set(k, v);
    this.store('/system/identity').items[0]!.props.set('name', 'MikroTik');
  }

  /** Removes every item of every list menu (built-in queue types are kept). */
  clear(): void {
    for (const s of this.menus.values()) {
      if (s.def.singleton) continue;
      s.items = s.items.filter((i) => i.props.get('default') === 'true');
      s.nextId = s.def.idStart;
    }
  }

  /** The menu definition for `path`; throws `no such command or directory` if not emulated. */
  menu(path: string): MenuDef {
    const def = menuDef(normalizePath(path));
    if (!def) {
      const last = normalizePath(path).split('/').filter(Boolean).pop() ?? '';
      throw new RouterOsError(`no such command or directory (${last})`, 400);
    }
    return def;
  }

  private store(path: string): MenuStore {
    const s = this.menus.get(normalizePath(path));
    if (!s) this.menu(path);
    return s as MenuStore;
  }

  /** All items of a menu in print order, as REST records (counters included). */
  list(path: string): ItemRecord[] {
    const s = this.store(path);
    return s.items.map((i) => this.record(s, i));
  }

  /** Items matching `filter` (exact equality, or predicate). */
  find(path: string, filter: ItemFilter = {}): ItemRecord[] {
    const s = this.store(path);
    const recs = s.items.map((i) => this.record(s, i));
    if (typeof filter === 'function') return recs.filter(filter);
    return recs.filter((r) => matchesExact(s.def, r, filter));
  }

  /** One item by `.id` (or by name in named menus); undefined if none. Singletons: the record. */
  get(path: string, ref?: string): ItemRecord | undefined {
    const s = this.store(path);
    if (s.def.singleton) return this.record(s, s.items[0]!);
    const item = ref === undefined ? undefined : this.lookup(s, ref);
    return item ? this.record(s, item) : undefined;
  }

  /** Position of an item in its menu (the CLI print number). */
  indexOf(path: string, id: string): number {
    return this.store(path).items.findIndex((i) => i.id === id);
  }

  private lookup(s: MenuStore, ref: string): StoredItem | undefined {
    if (ref.startsWith('*')) {
      const want = ref.toUpperCase();
      return s.items.find((i) => i.id === want);
    }
    if (s.def.named) return s.items.find((i) => i.props.get('name') === ref);
    return undefined;
  }

  private require(s: MenuStore, ref: string): StoredItem {
    const item = this.lookup(s, ref);
    if (!item) throw new NoSuchItemError(ref);
    return item;
  }

  /** Resolves `ref` (`*1A` or a name) to an `.id`; throws NoSuchItemError. */
  resolveId(path: string, ref: string): string {
    return this.require(this.store(path), ref).id;
  }

  /** Adds an item; returns its new `.id`. Values may be given in any RouterOS input form. */
  add(path: string, props: Record<string, string>, opts: WriteOptions = {}): string {
    const s = this.store(path);
    if (s.def.singleton) throw new RouterOsError('no such command (add)', 406);
    const item: StoredItem = { id: '', props: new Map(), base: new Map() };
    let explicitId: string | undefined;
    if (props['.id'] !== undefined) {
      if (!opts.internal) throw new RouterOsError('unknown parameter .id', 400);
      explicitId = props['.id'].toUpperCase();
      if (!/^\*[0-9A-F]+$/.test(explicitId)) throw new RouterOsError(`invalid .id ${props['.id']}`);
      if (s.items.some((i) => i.id === explicitId)) throw new RouterOsError(`duplicate .id ${explicitId}`);
    }
    const rest = { ...props };
    delete rest['.id'];
    // kind decides which properties exist (queue types); apply it first.
    const kind = rest['kind'];
    if (kind !== undefined) item.props.set('kind', this.normalize(fieldDef(s.def, 'kind')!, kind));
    this.applyProps(s, item, rest, opts, true);
    if (s.def.named && !item.props.get('name')) {
      throw new RouterOsError('failure: name must be set', 400);
    }
    if (explicitId) {
      item.id = explicitId;
      const n = Number.parseInt(explicitId.slice(1), 16);
      if (n >= s.nextId && n < 0xf0000000) s.nextId = n + 1;
    } else {
      while (s.items.some((i) => i.id === formatId(s.nextId))) s.nextId++;
      item.id = formatId(s.nextId++);
    }
    s.items.push(item);
    this.emit({ path: s.def.path, id: item.id, action: 'add', props: Object.fromEntries(item.props) });
    return item.id;
  }

  /**
   * Adds an item at `position` in print order (0 = first, default) instead of at the end; returns
   * its `.id`. With `renumber` below this reproduces "another admin added a rule first".
   */
  insert(path: string, props: Record<string, string>, position = 0, opts: WriteOptions = {}): string {
    const s = this.store(path);
    const id = this.add(path, props, opts);
    const idx = s.items.findIndex((i) => i.id === id);
    const [item] = s.items.splice(idx, 1);
    const firstUser = s.items.findIndex((i) => i.props.get('default') !== 'true');
    const base = firstUser < 0 ? s.items.length : firstUser;
    s.items.splice(Math.min(s.items.length, base + Math.max(0, Math.floor(position))), 0, item!);
    return id;
  }

  /**
   * Reassigns the `.id`s of a list menu in print order, starting again at the menu's first id, as
   * after a configuration import onto a reset router: an id a client cached may now name another
   * item. Built-in items (default queue types) keep theirs. Returns old id → new id.
   */
  renumber(path: string): Record<string, string> {
    const s = this.store(path);
    if (s.def.singleton) return {};
    const moved: Record<string, string> = {};
    const keep = new Set(s.items.filter((i) => i.props.get('default') === 'true').map((i) => i.id));
    let n = s.def.idStart;
    for (const item of s.items) {
      if (keep.has(item.id)) continue;
      while (keep.has(formatId(n))) n++;
      const next = formatId(n++);
      if (next !== item.id) moved[item.id] = next;
      item.id = next;
    }
    s.nextId = n;
    return moved;
  }

  /**
   * A router restart as wanctl sees it: every list menu renumbered (unless `renumber: false`),
   * queue counters back at zero and the given queue tree max-limits reset (by queue name, any
   * RouterOS rate form, e.g. `{ 'WAN-Download-1': '100M', 'WAN-Upload-1': '5M' }`: a config
   * saved before autorate's writes). Uptime restarts at `0s`.
   */
  reboot(opts: { maxLimits?: Record<string, string>; renumber?: boolean } = {}): void {
    for (const [name, limit] of Object.entries(opts.maxLimits ?? {})) {
      this.set('/queue/tree', name, { 'max-limit': limit });
    }
    for (const s of this.menus.values()) {
      if (s.def.singleton) continue;
      if (opts.renumber !== false) this.renumber(s.def.path);
      if (s.def.counterFields) for (const item of s.items) this.resetCounters(s.def.path, item.id);
    }
    this.store('/system/resource').items[0]!.props.set('uptime', '0s');
  }

  /** Sets properties of one item (by `.id` or name; ignored for singletons). Returns the updated record. */
  set(
    path: string,
    ref: string | undefined,
    props: Record<string, string>,
    opts: WriteOptions = {},
  ): ItemRecord {
    const s = this.store(path);
    const item = s.def.singleton ? s.items[0]! : this.require(s, ref ?? '');
    const before = this.queueInfos(s, item);
    const written = this.applyProps(s, item, props, opts, false);
    this.emit({ path: s.def.path, id: item.id, action: 'set', props: written });
    if ('max-limit' in written || 'disabled' in written) {
      const after = this.queueInfos(s, item);
      const now = this.now();
      after.forEach((q, i) => {
        const prev = before[i];
        if (prev && prev.maxLimit !== q.maxLimit) this.model.maxLimitChanged?.(q, prev.maxLimit, now);
      });
    }
    return this.record(s, item);
  }

  /** Removes one item. */
  remove(path: string, ref: string): void {
    const s = this.store(path);
    const item = this.require(s, ref);
    if (item.props.get('default') === 'true')
      throw new RouterOsError('failure: can not remove default queue');
    s.items = s.items.filter((i) => i !== item);
    this.emit({ path: s.def.path, id: item.id, action: 'remove' });
  }

  /** `reset-counters` on one item: cumulative counters restart from 0. */
  resetCounters(path: string, ref: string): void {
    const s = this.store(path);
    const item = this.require(s, ref);
    const now = this.now();
    if (s.def.counterFields) {
      for (const q of this.queueInfos(s, item)) {
        const raw = this.model.counters(q, now);
        item.base.set(q.direction ?? '', { ...raw });
        this.model.countersReset?.(q, now);
      }
    } else if (item.props.has('bytes')) {
      item.props.set('bytes', '0');
      item.props.set('packets', '0');
    }
    this.emit({ path: s.def.path, id: item.id, action: 'reset-counters' });
  }

  private applyProps(
    s: MenuStore,
    item: StoredItem,
    props: Record<string, string>,
    opts: WriteOptions,
    creating: boolean,
  ): Record<string, string> {
    const staged = new Map(item.props);
    const written: Record<string, string> = {};
    // `kind` decides which properties exist, so it is applied first
    const entries = Object.entries(props).sort(([a], [b]) => (a === 'kind' ? -1 : b === 'kind' ? 1 : 0));
    for (const [k, raw] of entries) {
      if (k === '.id' || k === 'numbers') continue;
      const f = fieldDef(s.def, k);
      if (!f || (f.kind && (staged.get('kind') ?? '') !== f.kind && k !== 'kind')) {
        throw new RouterOsError(`unknown parameter ${k}`, 400);
      }
      if (f.readOnly && !opts.internal) throw new RouterOsError(`unknown parameter ${k}`, 400);
      if (f.readOnly && s.def.counterFields?.includes(k)) {
        throw new RouterOsError(`${k} is a counter; set it through the traffic model`, 400);
      }
      if (k === 'comment' && raw === '') {
        staged.delete(k);
        written[k] = '';
        continue;
      }
      const v = this.normalize(f, raw);
      if (f.type === 'name' && s.items.some((i) => i !== item && i.props.get('name') === v)) {
        throw new RouterOsError('failure: item with such name already exists', 400);
      }
      staged.set(k, v);
      written[k] = v;
    }
    if (!creating && staged.get('default') === 'true' && !opts.internal && Object.keys(written).length > 0) {
      throw new RouterOsError('failure: can not change default queue', 400);
    }
    item.props = staged;
    return written;
  }

  private normalize(f: FieldDef, raw: string): string {
    const v = String(raw);
    const bad = () => new RouterOsError(`invalid value for argument ${f.name}`, 400);
    const nomatch = () => new RouterOsError(`input does not match any value of ${f.name}`, 400);
    switch (f.type) {
      case 'string':
      case 'name':
        if (f.type === 'name' && v === '') throw bad();
        return v;
      case 'rate': {
        const n = parseRate(v);
        if (n === null) throw bad();
        return String(n);
      }
      case 'rate2': {
        const parts = v.split('/');
        if (parts.length > 2) throw bad();
        const nums = parts.map((p) => parseRate(p));
        if (nums.some((n) => n === null)) throw bad();
        return nums.length === 1 ? `${nums[0]}/${nums[0]}` : nums.join('/');
      }
      case 'bool': {
        const b = parseBool(v);
        if (b === null) throw nomatch();
        return b;
      }
      case 'int':
        if (!/^-?\d+$/.test(v.trim())) throw bad();
        return String(Number(v.trim()));
      case 'kib': {
        const m = /^(\d+)(KiB)?$/.exec(v.trim());
        if (!m) throw bad();
        return m[1] as string;
      }
      case 'duration': {
        const d = parseDuration(v);
        if (d === null) throw bad();
        return formatDuration(d);
      }
      case 'duration2':
      case 'text2':
        return v.includes('/') ? v : `${v}/${v}`;
      case 'size': {
        const n = parseSize(v);
        if (n === null) throw bad();
        return String(n);
      }
      case 'enum':
        if (!f.values?.includes(v)) throw nomatch();
        return v;
      case 'queue-type':
      case 'queue-type2': {
        const names = f.type === 'queue-type' ? [v] : v.includes('/') ? v.split('/') : [v, v];
        const types = this.store('/queue/type').items;
        for (const n of names) {
          if (!types.some((t) => t.props.get('name') === n)) throw nomatch();
        }
        return names.join('/');
      }
    }
  }

  private queueInfos(s: MenuStore, item: StoredItem): QueueInfo[] {
    if (s.def.path === '/queue/tree') {
      return [
        {
          path: '/queue/tree',
          id: item.id,
          name: item.props.get('name') ?? '',
          maxLimit: Number(item.props.get('max-limit') ?? '0'),
          disabled: item.props.get('disabled') === 'true',
        },
      ];
    }
    if (s.def.path === '/queue/simple') {
      const [up, down] = (item.props.get('max-limit') ?? '0/0').split('/');
      const common = {
        path: '/queue/simple' as const,
        id: item.id,
        name: item.props.get('name') ?? '',
        disabled: item.props.get('disabled') === 'true',
      };
      return [
        { ...common, maxLimit: Number(up ?? 0), direction: 'upload' },
        { ...common, maxLimit: Number(down ?? 0), direction: 'download' },
      ];
    }
    return [];
  }

  private countersOf(q: QueueInfo, item: StoredItem, now: number): QueueCounters {
    const raw = this.model.counters(q, now);
    const base = item.base.get(q.direction ?? '') ?? ZERO_COUNTERS;
    const out = { ...raw };
    for (const c of CUMULATIVE) {
      const v = raw[c] - base[c];
      if (v < 0) {
        // The model went backwards (replaced or restarted): re-base at its new value.
        item.base.set(q.direction ?? '', { ...raw });
        return this.countersOf(q, item, now);
      }
      out[c] = v;
    }
    return out;
  }

  private record(s: MenuStore, item: StoredItem): ItemRecord {
    const rec: Record<string, string> = {};
    if (!s.def.singleton) rec['.id'] = item.id;
    const kind = item.props.get('kind');
    for (const f of s.def.fields) {
      if (f.kind && f.kind !== kind) continue;
      if (s.def.counterFields?.includes(f.name)) continue;
      const v = item.props.get(f.name) ?? f.default;
      if (v !== undefined) rec[f.name] = v;
    }
    if (s.def.counterFields) {
      const now = this.now();
      const qs = this.queueInfos(s, item).map((q) => this.countersOf(q, item, now));
      const pick = (c: QueueCounters, f: string): number =>
        f === 'rate'
          ? c.rate
          : f === 'packet-rate'
            ? c.packetRate
            : f === 'queued-bytes'
              ? c.queuedBytes
              : f === 'queued-packets'
                ? c.queuedPackets
                : f === 'bytes'
                  ? c.bytes
                  : f === 'packets'
                    ? c.packets
                    : c.dropped;
      for (const f of s.def.counterFields) {
        if (f.startsWith('total-')) rec[f] = '0';
        else rec[f] = qs.map((c) => String(pick(c, f))).join('/');
      }
    }
    return sortKeys(rec);
  }
}

/** `/queue/tree`, `queue/tree/`, `/queue tree` → `/queue/tree`. */
export function normalizePath(path: string): string {
  return `/${path
    .split(/[/\s]+/)
    .filter(Boolean)
    .join('/')}`;
}

/** Exact-match filter as REST query parameters apply it (booleans accept yes/no). */
export function matchesExact(def: MenuDef, rec: ItemRecord, filter: Record<string, string>): boolean {
  for (const [k, want] of Object.entries(filter)) {
    const have = rec[k];
    if (have === undefined) {
      if (want === '') continue;
      return false;
    }
    if (have === want) continue;
    const f = fieldDef(def, k);
    if (f?.type === 'bool' && parseBool(want) === have) continue;
    return false;
  }
  return true;
}
