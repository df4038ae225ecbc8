/**
 * YAML parsing with a key-path → position index.
 *
 * js-yaml builds plain objects and keeps no positions, so we listen to its node
 * open/close events, rebuild the node tree (with start offsets) and walk it beside the
 * parsed value to learn where each key path starts in the text.
 */
import yaml from 'js-yaml';
import { type ConfigProblem, MAX_ALIAS_EXPANSION } from './errors.js';

/** A 1-based line/column position in the YAML text. */
export interface Position {
  line: number;
  column: number;
}

/** Maps a key path (`a.b[2].c`) to the position of its key (or of a list item). */
export type PositionIndex = Map<string, Position>;

interface EventNode {
  start: number;
  kind: string | null;
  result: unknown;
  children: EventNode[];
}

interface ListenerState {
  position: number;
  kind: string | null;
  result: unknown;
}

/** Joins a parent path and a key or index into a path string. */
export function joinPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

/** Result of {@link parseYaml}. */
export type ParsedYaml =
  | { ok: true; value: unknown; positions: PositionIndex }
  | { ok: false; problem: ConfigProblem }
  /** Aliases expand the document by more than {@link MAX_ALIAS_EXPANSION} nodes (`added` of them). */
  | { ok: false; aliasExpansion: number };

/**
 * How many nodes YAML aliases add to a parsed value when it is expanded as a tree: the expanded
 * node count minus the distinct node count. js-yaml shares one object per anchor, so this is
 * computed in time linear in the distinct nodes (sizes memoised per object), never by expanding.
 * A reference cycle counts as unbounded (`Number.MAX_SAFE_INTEGER`).
 */
export function aliasExpansion(value: unknown): number {
  const size = new Map<object, number>();
  const open = new Set<object>();
  let distinct = 0;
  let cyclic = false;
  const visit = (v: unknown): number => {
    if (v === null || typeof v !== 'object' || v instanceof Date) {
      return 1;
    }
    const known = size.get(v);
    if (known !== undefined) return known;
    if (open.has(v)) {
      cyclic = true;
      return 1;
    }
    open.add(v);
    let n = 1;
    let own = 1;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      const isNode = child !== null && typeof child === 'object' && !(child instanceof Date);
      if (!isNode) own++;
      n += visit(child);
    }
    open.delete(v);
    distinct += own;
    size.set(v, n);
    return n;
  };
  const expanded = visit(value);
  if (cyclic) return Number.MAX_SAFE_INTEGER;
  return Math.max(
    0,
    Math.min(
      Number.MAX_SAFE_INTEGER,
      expanded - (typeof value === 'object' && value !== null ? distinct : 1),
    ),
  );
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function offsetToPosition(starts: number[], offset: number): Position {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] ?? 0) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - (starts[lo] ?? 0) + 1 };
}

/** Skips whitespace, newlines, comments and a leading `- ` marker, so an offset lands on content. */
function skipToContent(text: string, offset: number): number {
  let i = offset;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === ',') {
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else {
      break;
    }
  }
  return i;
}

/** A node that only wraps another node holding the same value (js-yaml's block-mapping probe). */
function unwrap(node: EventNode): EventNode {
  let n = node;
  while (n.children.length === 1 && n.children[0] !== undefined && n.children[0].result === n.result) {
    n = n.children[0];
  }
  return n;
}

function indexNode(node: EventNode, path: string, text: string, starts: number[], out: PositionIndex): void {
  const n = unwrap(node);
  if (n.kind === 'mapping' && n.result !== null && typeof n.result === 'object') {
    const kids = n.children;
    if (kids.length % 2 !== 0) return; // explicit keys or merges: give up on this subtree
    for (let i = 0; i < kids.length; i += 2) {
      const k = unwrap(kids[i] as EventNode);
      const v = kids[i + 1] as EventNode;
      if (typeof k.result !== 'string' && typeof k.result !== 'number') continue;
      const childPath = joinPath(path, String(k.result));
      if (!out.has(childPath)) out.set(childPath, offsetToPosition(starts, skipToContent(text, k.start)));
      indexNode(v, childPath, text, starts, out);
    }
  } else if (n.kind === 'sequence' && Array.isArray(n.result)) {
    const kids = n.children;
    if (kids.length !== n.result.length) return;
    kids.forEach((kid, idx) => {
      const childPath = joinPath(path, idx);
      const inner = unwrap(kid);
      out.set(childPath, offsetToPosition(starts, skipToContent(text, inner.start)));
      indexNode(kid, childPath, text, starts, out);
    });
  }
}

/**
 * Parses YAML text (one document, js-yaml 4 default schema). Returns the value and a
 * position index, or a problem with line and column for a syntax error (tabs in the
 * indentation, bad indentation, duplicate keys, unclosed quotes, ...).
 */
export function parseYaml(text: string, file: string): ParsedYaml {
  const root: EventNode = { start: 0, kind: null, result: undefined, children: [] };
  const stack: EventNode[] = [root];
  const listener = (event: 'open' | 'close', state: ListenerState): void => {
    if (event === 'open') {
      const node: EventNode = { start: state.position, kind: null, result: undefined, children: [] };
      (stack[stack.length - 1] as EventNode).children.push(node);
      stack.push(node);
    } else {
      const node = stack.pop();
      if (node !== undefined) {
        node.kind = state.kind;
        node.result = state.result;
      }
    }
  };
  let value: unknown;
  try {
    value = yaml.load(text, { filename: file, listener } as yaml.LoadOptions);
  } catch (err) {
    if (err instanceof yaml.YAMLException) {
      const mark = (err as yaml.YAMLException & { mark?: { line: number; column: number } }).mark;
      const problem: ConfigProblem = {
        file,
        path: '',
        message: `YAML syntax error: ${err.reason}`,
      };
      if (mark !== undefined) {
        problem.line = mark.line + 1;
        problem.column = mark.column + 1;
      }
      return { ok: false, problem };
    }
    throw err;
  }
  // Before anything walks the value as a tree (position index, env expansion, schema): a few
  // hundred bytes of nested aliases expand to billions of nodes.
  const added = aliasExpansion(value);
  if (added > MAX_ALIAS_EXPANSION) return { ok: false, aliasExpansion: added };
  const positions: PositionIndex = new Map();
  const top = root.children[0];
  if (top !== undefined) {
    try {
      indexNode(top, '', text, lineStarts(text), positions);
    } catch {
      // Positions are a convenience; a document we cannot index still validates.
    }
  }
  return { ok: true, value, positions };
}

/** Finds the position of a path, falling back to the nearest ancestor that has one. */
export function lookupPosition(positions: PositionIndex, path: string): Position | undefined {
  let p = path;
  while (p !== '') {
    const pos = positions.get(p);
    if (pos !== undefined) return pos;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    if (cut <= 0) break;
    p = p.slice(0, cut);
  }
  return undefined;
}
