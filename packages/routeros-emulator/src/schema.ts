/**
 * Menu definitions: which properties each emulated RouterOS menu has, their types, defaults,
 * print order and flags. Sources (EMULATION.md): REF-B.3 (MikroTik's Queues page), routeros-samples/ (REST
 * item keys; CLI field order in `queue_tree_print_cake_ros7.14_mktxp-issue152.txt`,
 * `queue_tree_print_stats_doc.txt`, mangle/filter prints, `queue_type_print_doc_v7.txt`).
 */

export type FieldType =
  | 'string'
  | 'name'
  | 'rate'
  | 'rate2'
  | 'bool'
  | 'int'
  | 'duration'
  | 'duration2'
  | 'size'
  | 'kib'
  | 'queue-type'
  | 'queue-type2'
  | 'text2'
  | 'enum';

export interface FieldDef {
  readonly name: string;
  readonly type: FieldType;
  /** Default value in REST form; when absent the key is omitted until set. */
  readonly default?: string;
  /** Allowed values for `enum`. */
  readonly values?: readonly string[];
  /** Only present for items whose `kind` equals this (queue types). */
  readonly kind?: string;
  /** Read-only: RouterOS rejects writes (counters, flags like `invalid`). */
  readonly readOnly?: boolean;
}

/** One position of the CLI flags column; the first matching letter is shown. */
export interface FlagPos {
  readonly letters: readonly { letter: string; field: string }[];
}

export interface MenuDef {
  /** Menu path with slashes, e.g. `/queue/tree`. */
  readonly path: string;
  readonly singleton: boolean;
  /** First `.id` number handed out for items created in this menu. */
  readonly idStart: number;
  /** Items have a unique `name` and can be addressed by it. */
  readonly named: boolean;
  readonly fields: readonly FieldDef[];
  /** CLI `print` field order (configuration fields). */
  readonly printOrder: readonly string[];
  /** CLI `print stats` field order. */
  readonly statsOrder?: readonly string[];
  /** Fields that carry traffic counters (queue menus): supplied by the traffic model. */
  readonly counterFields?: readonly string[];
  /** Legend line printed before records. */
  readonly legend?: string;
  readonly flags: readonly FlagPos[];
  /** Comment shown as a `;;; ` line (record menus). */
  readonly hasComment: boolean;
  /** Commands this menu accepts besides print/get. */
  readonly commands: readonly string[];
}

const QUEUE_TREE_FIELDS: FieldDef[] = [
  { name: 'name', type: 'name' },
  { name: 'parent', type: 'string', default: 'global' },
  { name: 'packet-mark', type: 'string', default: '' },
  { name: 'limit-at', type: 'rate', default: '0' },
  { name: 'queue', type: 'queue-type', default: 'default-small' },
  { name: 'priority', type: 'int', default: '8' },
  { name: 'max-limit', type: 'rate', default: '0' },
  { name: 'burst-limit', type: 'rate', default: '0' },
  { name: 'burst-threshold', type: 'rate', default: '0' },
  { name: 'burst-time', type: 'duration', default: '0s' },
  { name: 'bucket-size', type: 'string', default: '0.1' },
  { name: 'comment', type: 'string' },
  { name: 'disabled', type: 'bool', default: 'false' },
  { name: 'invalid', type: 'bool', default: 'false', readOnly: true },
  { name: 'rate', type: 'int', readOnly: true },
  { name: 'packet-rate', type: 'int', readOnly: true },
  { name: 'queued-bytes', type: 'int', readOnly: true },
  { name: 'queued-packets', type: 'int', readOnly: true },
  { name: 'bytes', type: 'int', readOnly: true },
  { name: 'packets', type: 'int', readOnly: true },
  { name: 'dropped', type: 'int', readOnly: true },
];

const COUNTERS = ['rate', 'packet-rate', 'queued-bytes', 'queued-packets', 'bytes', 'packets', 'dropped'];

const QUEUE_SIMPLE_FIELDS: FieldDef[] = [
  { name: 'name', type: 'name' },
  { name: 'target', type: 'string', default: '' },
  { name: 'parent', type: 'string', default: 'none' },
  { name: 'packet-marks', type: 'string', default: '' },
  { name: 'priority', type: 'text2', default: '8/8' },
  { name: 'queue', type: 'queue-type2', default: 'default-small/default-small' },
  { name: 'limit-at', type: 'rate2', default: '0/0' },
  { name: 'max-limit', type: 'rate2', default: '0/0' },
  { name: 'burst-limit', type: 'rate2', default: '0/0' },
  { name: 'burst-threshold', type: 'rate2', default: '0/0' },
  { name: 'burst-time', type: 'duration2', default: '0s/0s' },
  { name: 'bucket-size', type: 'text2', default: '0.1/0.1' },
  { name: 'comment', type: 'string' },
  { name: 'disabled', type: 'bool', default: 'false' },
  { name: 'dynamic', type: 'bool', default: 'false', readOnly: true },
  { name: 'invalid', type: 'bool', default: 'false', readOnly: true },
  ...COUNTERS.map((n) => ({ name: n, type: 'text2' as const, readOnly: true })),
  ...COUNTERS.map((n) => ({ name: `total-${n}`, type: 'int' as const, readOnly: true })),
];

const CAKE_FIELDS: FieldDef[] = [
  {
    name: 'cake-ack-filter',
    type: 'enum',
    values: ['none', 'filter', 'aggressive'],
    default: 'none',
    kind: 'cake',
  },
  { name: 'cake-atm', type: 'enum', values: ['atm', 'ptm'], kind: 'cake' },
  { name: 'cake-autorate-ingress', type: 'bool', kind: 'cake' },
  { name: 'cake-bandwidth', type: 'rate', default: '0', kind: 'cake' },
  {
    name: 'cake-diffserv',
    type: 'enum',
    values: ['besteffort', 'diffserv3', 'diffserv4', 'diffserv8', 'precedence'],
    default: 'diffserv3',
    kind: 'cake',
  },
  {
    name: 'cake-flowmode',
    type: 'enum',
    values: [
      'dsthost',
      'dual-dsthost',
      'dual-srchost',
      'flowblind',
      'flows',
      'hosts',
      'srchost',
      'triple-isolate',
    ],
    default: 'triple-isolate',
    kind: 'cake',
  },
  { name: 'cake-memlimit', type: 'size', default: '33554432', kind: 'cake' },
  { name: 'cake-mpu', type: 'int', kind: 'cake' },
  { name: 'cake-nat', type: 'bool', default: 'false', kind: 'cake' },
  { name: 'cake-overhead', type: 'int', default: '-64', kind: 'cake' },
  { name: 'cake-overhead-scheme', type: 'string', default: '', kind: 'cake' },
  { name: 'cake-rtt', type: 'duration', default: '100ms', kind: 'cake' },
  {
    name: 'cake-rtt-scheme',
    type: 'enum',
    values: [
      '',
      'datacentre',
      'lan',
      'metro',
      'regional',
      'internet',
      'oceanic',
      'satellite',
      'interplanetary',
    ],
    default: '',
    kind: 'cake',
  },
  { name: 'cake-wash', type: 'bool', default: 'false', kind: 'cake' },
];

const QUEUE_TYPE_FIELDS: FieldDef[] = [
  { name: 'name', type: 'name' },
  {
    name: 'kind',
    type: 'enum',
    values: ['bfifo', 'cake', 'fq-codel', 'mq-pfifo', 'none', 'pcq', 'pfifo', 'red', 'sfq'],
    default: 'pfifo',
  },
  { name: 'default', type: 'bool', default: 'false', readOnly: true },
  { name: 'pfifo-limit', type: 'int', kind: 'pfifo' },
  { name: 'bfifo-limit', type: 'int', kind: 'bfifo' },
  { name: 'mq-pfifo-limit', type: 'int', kind: 'mq-pfifo' },
  { name: 'sfq-perturb', type: 'int', kind: 'sfq' },
  { name: 'sfq-allot', type: 'int', kind: 'sfq' },
  { name: 'red-limit', type: 'int', kind: 'red' },
  { name: 'red-min-threshold', type: 'int', kind: 'red' },
  { name: 'red-max-threshold', type: 'int', kind: 'red' },
  { name: 'red-burst', type: 'int', kind: 'red' },
  { name: 'red-avg-packet', type: 'int', kind: 'red' },
  { name: 'pcq-rate', type: 'rate', kind: 'pcq' },
  { name: 'pcq-limit', type: 'kib', kind: 'pcq' },
  { name: 'pcq-classifier', type: 'string', kind: 'pcq' },
  { name: 'pcq-total-limit', type: 'kib', kind: 'pcq' },
  { name: 'pcq-burst-rate', type: 'rate', kind: 'pcq' },
  { name: 'pcq-burst-threshold', type: 'rate', kind: 'pcq' },
  { name: 'pcq-burst-time', type: 'duration', kind: 'pcq' },
  { name: 'pcq-src-address-mask', type: 'int', kind: 'pcq' },
  { name: 'pcq-dst-address-mask', type: 'int', kind: 'pcq' },
  { name: 'pcq-src-address6-mask', type: 'int', kind: 'pcq' },
  { name: 'pcq-dst-address6-mask', type: 'int', kind: 'pcq' },
  { name: 'fq-codel-ecn', type: 'bool', kind: 'fq-codel' },
  { name: 'fq-codel-flows', type: 'int', kind: 'fq-codel' },
  { name: 'fq-codel-interval', type: 'duration', kind: 'fq-codel' },
  { name: 'fq-codel-limit', type: 'int', kind: 'fq-codel' },
  { name: 'fq-codel-memlimit', type: 'size', kind: 'fq-codel' },
  { name: 'fq-codel-quantum', type: 'int', kind: 'fq-codel' },
  { name: 'fq-codel-target', type: 'duration', kind: 'fq-codel' },
  ...CAKE_FIELDS,
  { name: 'comment', type: 'string' },
];

const MANGLE_FIELDS: FieldDef[] = [
  {
    name: 'chain',
    type: 'string',
    default: 'prerouting',
  },
  {
    name: 'action',
    type: 'enum',
    values: [
      'accept',
      'add-dst-to-address-list',
      'add-src-to-address-list',
      'change-dscp',
      'change-mss',
      'change-ttl',
      'clear-df',
      'fasttrack-connection',
      'jump',
      'log',
      'mark-connection',
      'mark-packet',
      'mark-routing',
      'passthrough',
      'return',
      'route',
      'set-priority',
      'sniff-pc',
      'sniff-tzsp',
      'strip-ipv4-options',
    ],
    default: 'accept',
  },
  { name: 'new-routing-mark', type: 'string' },
  { name: 'new-packet-mark', type: 'string' },
  { name: 'new-connection-mark', type: 'string' },
  { name: 'new-dscp', type: 'int' },
  { name: 'passthrough', type: 'bool' },
  { name: 'jump-target', type: 'string' },
  { name: 'src-address', type: 'string' },
  { name: 'dst-address', type: 'string' },
  { name: 'protocol', type: 'string' },
  { name: 'src-address-list', type: 'string' },
  { name: 'dst-address-list', type: 'string' },
  { name: 'in-interface', type: 'string' },
  { name: 'out-interface', type: 'string' },
  { name: 'in-interface-list', type: 'string' },
  { name: 'out-interface-list', type: 'string' },
  { name: 'src-port', type: 'string' },
  { name: 'dst-port', type: 'string' },
  { name: 'port', type: 'string' },
  { name: 'connection-state', type: 'string' },
  { name: 'connection-mark', type: 'string' },
  { name: 'packet-mark', type: 'string' },
  { name: 'routing-mark', type: 'string' },
  { name: 'dscp', type: 'string' },
  { name: 'log', type: 'bool' },
  { name: 'log-prefix', type: 'string' },
  { name: 'comment', type: 'string' },
  { name: 'disabled', type: 'bool' },
  { name: 'dynamic', type: 'bool', default: 'false', readOnly: true },
  { name: 'invalid', type: 'bool', default: 'false', readOnly: true },
  { name: 'bytes', type: 'int', default: '0', readOnly: true },
  { name: 'packets', type: 'int', default: '0', readOnly: true },
];

const names = (fs: FieldDef[], skip: string[]) => fs.map((f) => f.name).filter((n) => !skip.includes(n));

/** The flag columns of queue tree and firewall menus (`X` disabled, `I` invalid; `D` dynamic). */
const DISABLED_INVALID_DYNAMIC: Pick<MenuDef, 'legend' | 'flags'> = {
  legend: 'Flags: X - disabled, I - invalid; D - dynamic',
  flags: [
    {
      letters: [
        { letter: 'X', field: 'disabled' },
        { letter: 'I', field: 'invalid' },
      ],
    },
    { letters: [{ letter: 'D', field: 'dynamic' }] },
  ],
};

export const MENUS: readonly MenuDef[] = [
  {
    path: '/queue/tree',
    singleton: false,
    idStart: 0x1000000,
    named: true,
    fields: QUEUE_TREE_FIELDS,
    printOrder: [
      'name',
      'parent',
      'packet-mark',
      'limit-at',
      'queue',
      'priority',
      'max-limit',
      'burst-limit',
      'burst-threshold',
      'burst-time',
      'bucket-size',
    ],
    statsOrder: ['name', 'parent', 'packet-mark', ...COUNTERS],
    counterFields: COUNTERS,
    legend: 'Flags: X - disabled, I - invalid',
    flags: [
      {
        letters: [
          { letter: 'X', field: 'disabled' },
          { letter: 'I', field: 'invalid' },
        ],
      },
    ],
    hasComment: true,
    commands: ['add', 'set', 'remove', 'enable', 'disable', 'reset-counters', 'reset-counters-all'],
  },
  {
    path: '/queue/simple',
    singleton: false,
    idStart: 1,
    named: true,
    fields: QUEUE_SIMPLE_FIELDS,
    printOrder: [
      'name',
      'target',
      'parent',
      'packet-marks',
      'priority',
      'queue',
      'limit-at',
      'max-limit',
      'burst-limit',
      'burst-threshold',
      'burst-time',
      'bucket-size',
    ],
    statsOrder: [
      'name',
      'target',
      'rate',
      'total-rate',
      'packet-rate',
      'total-packet-rate',
      'queued-bytes',
      'total-queued-bytes',
      'queued-packets',
      'total-queued-packets',
      'bytes',
      'total-bytes',
      'packets',
      'total-packets',
      'dropped',
      'total-dropped',
    ],
    counterFields: [...COUNTERS, ...COUNTERS.map((c) => `total-${c}`)],
    ...DISABLED_INVALID_DYNAMIC,
    hasComment: true,
    commands: ['add', 'set', 'remove', 'enable', 'disable', 'reset-counters', 'reset-counters-all'],
  },
  {
    path: '/queue/type',
    singleton: false,
    idStart: 0x1000000,
    named: true,
    fields: QUEUE_TYPE_FIELDS,
    printOrder: names(QUEUE_TYPE_FIELDS, ['default', 'comment']),
    legend: 'Flags: * - default',
    flags: [{ letters: [{ letter: '*', field: 'default' }] }],
    hasComment: true,
    commands: ['add', 'set', 'remove'],
  },
  {
    path: '/ip/firewall/mangle',
    singleton: false,
    idStart: 1,
    named: false,
    fields: MANGLE_FIELDS,
    printOrder: names(MANGLE_FIELDS, ['comment', 'disabled', 'dynamic', 'invalid', 'bytes', 'packets']),
    statsOrder: ['chain', 'action', 'bytes', 'packets'],
    ...DISABLED_INVALID_DYNAMIC,
    hasComment: true,
    commands: ['add', 'set', 'remove', 'enable', 'disable', 'reset-counters', 'reset-counters-all'],
  },
  {
    path: '/system/identity',
    singleton: true,
    idStart: 0,
    named: false,
    fields: [{ name: 'name', type: 'string', default: 'MikroTik' }],
    printOrder: ['name'],
    flags: [],
    hasComment: false,
    commands: ['set'],
  },
  {
    path: '/system/resource',
    singleton: true,
    idStart: 0,
    named: false,
    fields: [
      'uptime',
      'version',
      'build-time',
      'factory-software',
      'free-memory',
      'total-memory',
      'cpu',
      'cpu-count',
      'cpu-frequency',
      'cpu-load',
      'free-hdd-space',
      'total-hdd-space',
      'write-sect-since-reboot',
      'write-sect-total',
      'architecture-name',
      'board-name',
      'platform',
    ].map((name) => ({ name, type: 'string' as const, readOnly: true })),
    printOrder: [
      'uptime',
      'version',
      'build-time',
      'factory-software',
      'free-memory',
      'total-memory',
      'cpu',
      'cpu-count',
      'cpu-frequency',
      'cpu-load',
      'free-hdd-space',
      'total-hdd-space',
      'write-sect-since-reboot',
      'write-sect-total',
      'architecture-name',
      'board-name',
      'platform',
    ],
    flags: [],
    hasComment: false,
    commands: [],
  },
];

const BY_PATH = new Map(MENUS.map((m) => [m.path, m]));

/** Looks a menu up by its slash path (`/queue/tree`). */
export function menuDef(path: string): MenuDef | undefined {
  return BY_PATH.get(path);
}

/** Every directory prefix that leads to an emulated menu (`/queue`, `/ip`, `/ip/firewall`, …). */
export const MENU_DIRS: ReadonlySet<string> = new Set(
  MENUS.flatMap((m) => {
    const parts = m.path.split('/').filter(Boolean);
    return parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
  }),
);

/** The field definition of `name` in `menu`, if any. */
export function fieldDef(menu: MenuDef, name: string): FieldDef | undefined {
  return menu.fields.find((f) => f.name === name);
}
