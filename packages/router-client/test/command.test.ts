import { describe, expect, it } from 'vitest';
import {
  CommandSyntaxError,
  type Condition,
  matchesAll,
  parseCommand,
  parseCommands,
  quoteValue,
  renderCli,
  renderCliBatch,
  restListRequest,
  restWriteRequests,
} from '../src/index.js';

describe('command model: parse once', () => {
  it('parses the space-separated form v1.3 autorate sends (two commands joined by ;)', () => {
    const cmds = parseCommands(
      '/queue tree set [find name="WAN-Download-1"] queue=cake-down-wan1 max-limit=425000000; /queue tree set [find name="WAN-Upload-1"] queue=cake-up-wan1 max-limit=45000000',
    );
    expect(cmds).toHaveLength(2);
    expect(cmds[0]).toEqual({
      path: ['queue', 'tree'],
      verb: 'set',
      target: { kind: 'find', conditions: [{ key: 'name', op: '=', value: 'WAN-Download-1' }] },
      where: [],
      params: [
        ['queue', 'cake-down-wan1'],
        ['max-limit', '425000000'],
      ],
      modifiers: [],
    });
    expect(cmds[1]?.params[1]).toEqual(['max-limit', '45000000']);
  });

  it('parses slash and mixed forms to the same command', () => {
    const a = parseCommand('/queue/tree/print stats detail where name="X"');
    const b = parseCommand('/queue tree print stats detail where name="X"');
    const c = parseCommand('/queue/tree print stats detail where name=X');
    expect(a).toEqual(b);
    expect(a).toEqual(c);
    expect(a.modifiers).toEqual(['stats', 'detail']);
    expect(a.where).toEqual([{ key: 'name', op: '=', value: 'X' }]);
  });

  it('parses the steering commands with comment~ (regex) and comments containing ":" and spaces', () => {
    const c = parseCommand(
      '/ip firewall mangle enable [find comment~"ADAPTIVE: Steer latency-sensitive to WAN2"]',
    );
    expect(c.path).toEqual(['ip', 'firewall', 'mangle']);
    expect(c.verb).toBe('enable');
    expect(c.target).toEqual({
      kind: 'find',
      conditions: [{ key: 'comment', op: '~', value: 'ADAPTIVE: Steer latency-sensitive to WAN2' }],
    });
  });

  it('handles RouterOS escapes in quoted strings', () => {
    const c = parseCommand('/ip/firewall/mangle/print where comment="a \\"quoted\\" \\$x\\\\y"');
    expect(c.where[0]?.value).toBe('a "quoted" $x\\y');
    expect(renderCli(c)).toBe('/ip/firewall/mangle/print where comment="a \\"quoted\\" \\$x\\\\y"');
  });

  it('accepts `verb where cond` as [find cond] (v1.3 sent it for reset-counters)', () => {
    const c = parseCommand('/queue/tree/reset-counters where name="WAN-Upload-1"');
    expect(c.target).toEqual({ kind: 'find', conditions: [{ key: 'name', op: '=', value: 'WAN-Upload-1' }] });
  });

  it('items by name or id after the verb', () => {
    expect(parseCommand('/queue tree set WAN-Download-1 max-limit=5').target).toEqual({
      kind: 'items',
      items: ['WAN-Download-1'],
    });
    expect(parseCommand('/queue/tree/set *1A,*1B max-limit=5').target).toEqual({
      kind: 'items',
      items: ['*1A', '*1B'],
    });
  });

  it.each([
    ['', 'empty command'],
    ['queue tree print', 'must start with a menu path'],
    ['/queue tree', 'no command verb'],
    ['/queue tree set [find name="x"]', 'set without any property'],
    ['/queue tree set max-limit=5', 'needs an item'],
    ['/queue tree print [find name="x"]', '[find] is not valid with print'],
    ['/queue tree print where name="x', 'unterminated string'],
    ['/queue tree print bogus', 'unsupported print argument'],
    ['/queue tree print where name="a" or name="b"', 'only key=value'],
    [':put [/system identity get name]', 'must start with a menu path'],
    ['/ip firewall mangle enable [find comment="x"] disabled=yes', 'takes no property'],
  ])('rejects %j with a message naming the problem', (cli, msg) => {
    let err: unknown;
    try {
      parseCommands(cli);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CommandSyntaxError);
    expect((err as Error).message).toContain(msg);
  });
});

describe('command model: render', () => {
  it('renders canonical CLI for SSH (round-trips through the parser)', () => {
    const src =
      '/queue tree set [find name="WAN-Download-1"] queue=cake-down-wan1 max-limit=425000000; /ip firewall mangle disable [find comment="ADAPTIVE: Steer to WAN2"]';
    const text = renderCliBatch(parseCommands(src));
    expect(text).toBe(
      '/queue/tree/set [find name="WAN-Download-1"] queue=cake-down-wan1 max-limit=425000000; /ip/firewall/mangle/disable [find comment="ADAPTIVE: Steer to WAN2"]',
    );
    expect(parseCommands(text)).toEqual(parseCommands(src));
  });

  it('quotes only when needed', () => {
    expect(quoteValue('cake-down')).toBe('cake-down');
    expect(quoteValue('')).toBe('""');
    expect(quoteValue('a b')).toBe('"a b"');
    expect(quoteValue('x$y')).toBe('"x\\$y"');
  });

  it('renders REST requests: list GET with exact filters except comment, writes per id', () => {
    const set = parseCommand('/queue tree set [find name="Q"] queue=cake-down max-limit=5');
    expect(
      restListRequest(set.path, (set.target as { kind: 'find'; conditions: Condition[] }).conditions),
    ).toEqual({
      method: 'GET',
      path: '/queue/tree',
      query: { name: 'Q' },
    });
    expect(restWriteRequests(set, ['*1A'])).toEqual([
      { method: 'PATCH', path: '/queue/tree/*1A', body: { queue: 'cake-down', 'max-limit': '5' } },
    ]);
    const en = parseCommand('/ip firewall mangle enable [find comment="ADAPTIVE: x"]');
    expect(restListRequest(en.path, [{ key: 'comment', op: '=', value: 'ADAPTIVE: x' }])).toEqual({
      method: 'GET',
      path: '/ip/firewall/mangle',
    });
    expect(restWriteRequests(en, ['*7', '*8'])).toEqual([
      { method: 'PATCH', path: '/ip/firewall/mangle/*7', body: { disabled: 'false' } },
      { method: 'PATCH', path: '/ip/firewall/mangle/*8', body: { disabled: 'false' } },
    ]);
    const dis = parseCommand('/ip firewall mangle disable [find comment="enable-me"]');
    expect(restWriteRequests(dis, ['*9'])).toEqual([
      { method: 'PATCH', path: '/ip/firewall/mangle/*9', body: { disabled: 'true' } },
    ]);
    const reset = parseCommand('/queue tree reset-counters [find name="Q"]');
    expect(restWriteRequests(reset, ['*1A'])).toEqual([
      { method: 'POST', path: '/queue/tree/reset-counters', body: { '.id': '*1A' } },
    ]);
  });

  it('matches exact comments client-side, including ":" and yes/no booleans', () => {
    const rec = { '.id': '*7', comment: 'ADAPTIVE: Steer', disabled: 'false' };
    expect(matchesAll(rec, [{ key: 'comment', op: '=', value: 'ADAPTIVE: Steer' }])).toBe(true);
    expect(matchesAll(rec, [{ key: 'comment', op: '=', value: 'ADAPTIVE' }])).toBe(false);
    expect(matchesAll(rec, [{ key: 'comment', op: '~', value: '^ADAPTIVE' }])).toBe(true);
    expect(matchesAll(rec, [{ key: 'disabled', op: '=', value: 'no' }])).toBe(true);
  });
});
