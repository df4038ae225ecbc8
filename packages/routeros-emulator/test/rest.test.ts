import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultFixture, type Emulator, startEmulator } from '../src/index.js';
import { rest } from './helpers.js';

type Rec = Record<string, string>;

describe('REST face', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({
      users: [
        { name: 'admin', password: 'admin', group: 'full' },
        { name: 'viewer', password: 'view', group: 'read' },
      ],
    });
  });
  afterAll(async () => {
    await emu.stop();
  });
  beforeEach(() => {
    emu.requests.clear();
  });

  it('answers 401 with an empty body on bad or missing credentials', async () => {
    const bad = await rest(
      emu,
      'GET',
      '/queue/tree',
      undefined,
      `Basic ${Buffer.from('admin:nope').toString('base64')}`,
    );
    expect(bad.status).toBe(401);
    expect(bad.text).toBe('');
    const none = await rest(emu, 'GET', '/queue/tree', undefined, null);
    expect(none.status).toBe(401);
  });

  it('lists with exact-match filters; every value is a string; keys sorted with .id first', async () => {
    const r = await rest(emu, 'GET', '/queue/tree?name=WAN-Download-1');
    expect(r.status).toBe(200);
    const items = r.json as Rec[];
    expect(items).toHaveLength(1);
    const q = items[0] as Rec;
    expect(q['name']).toBe('WAN-Download-1');
    expect(q['max-limit']).toBe('940000000');
    expect(q['disabled']).toBe('false');
    expect(q['parent']).toBe('bridge1');
    for (const v of Object.values(q)) expect(typeof v).toBe('string');
    const keys = Object.keys(q);
    expect(keys[0]).toBe('.id');
    expect(keys.slice(1)).toEqual([...keys.slice(1)].sort());
    expect(q['.id']).toMatch(/^\*[0-9A-F]+$/);
    // stats fields are present in a plain GET (wanctl reads them from here)
    for (const k of [
      'bytes',
      'packets',
      'dropped',
      'queued-bytes',
      'queued-packets',
      'rate',
      'packet-rate',
    ]) {
      expect(q[k]).toBe('0');
    }
    expect((await rest(emu, 'GET', '/queue/tree?name=missing')).json).toEqual([]);
    // filters AND together; booleans match yes/no
    expect((await rest(emu, 'GET', '/queue/tree?parent=global&disabled=no')).json).toHaveLength(1);
    expect((await rest(emu, 'GET', '/queue/tree?parent=global&disabled=yes')).json).toEqual([]);
  });

  it('honours .proplist and omits unset keys', async () => {
    const r = await rest(emu, 'GET', '/queue/tree?.proplist=name,max-limit');
    expect((r.json as Rec[])[0]).toEqual({ 'max-limit': '940000000', name: 'WAN-Download-1' });
    const q = (await rest(emu, 'GET', '/queue/tree?name=WAN-Upload-1')).json as Rec[];
    expect(q[0]).not.toHaveProperty('comment');
  });

  it('gets one item by .id or by name, 404 for unknown ids', async () => {
    const [q] = (await rest(emu, 'GET', '/queue/tree?name=WAN-Upload-1')).json as Rec[];
    const byId = await rest(emu, 'GET', `/queue/tree/${q?.['.id']}`);
    expect(byId.json).toMatchObject({ name: 'WAN-Upload-1' });
    expect(Array.isArray(byId.json)).toBe(false);
    const byName = await rest(emu, 'GET', '/queue/tree/WAN-Upload-1');
    expect(byName.json).toMatchObject({ '.id': q?.['.id'] });
    const missing = await rest(emu, 'GET', '/queue/tree/*DEAD');
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ error: 404, message: 'Not Found' });
  });

  it('PATCH sets max-limit and answers the whole updated item; suffixes accepted', async () => {
    const [q] = (await rest(emu, 'GET', '/queue/tree?name=WAN-Download-1')).json as Rec[];
    const r = await rest(emu, 'PATCH', `/queue/tree/${q?.['.id']}`, { 'max-limit': '500000000' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      '.id': q?.['.id'],
      name: 'WAN-Download-1',
      'max-limit': '500000000',
      bytes: '0',
    });
    const r2 = await rest(emu, 'PATCH', `/queue/tree/${q?.['.id']}`, {
      'max-limit': '90M',
      queue: 'cake-down-wan1',
    });
    expect((r2.json as Rec)['max-limit']).toBe('90000000');
    const num = await rest(emu, 'PATCH', `/queue/tree/${q?.['.id']}`, { 'max-limit': 123000000 });
    expect((num.json as Rec)['max-limit']).toBe('123000000');
    expect(emu.state.find('/queue/tree', { name: 'WAN-Download-1' })[0]?.['max-limit']).toBe('123000000');
    const gone = await rest(emu, 'PATCH', '/queue/tree/*BEEF', { 'max-limit': '1' });
    expect(gone.status).toBe(404);
    expect(gone.json).toEqual({ error: 404, message: 'Not Found' });
  });

  it('rejects bad values and unknown properties with 400 and RouterOS detail', async () => {
    const id = emu.state.resolveId('/queue/tree', 'WAN-Download-1');
    const bad = await rest(emu, 'PATCH', `/queue/tree/${id}`, { 'max-limit': 'fast' });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({
      detail: 'invalid value for argument max-limit',
      error: 400,
      message: 'Bad Request',
    });
    const q = await rest(emu, 'PATCH', `/queue/tree/${id}`, { queue: 'no-such-type' });
    expect(q.json).toEqual({
      detail: 'input does not match any value of queue',
      error: 400,
      message: 'Bad Request',
    });
    const unk = await rest(emu, 'PATCH', `/queue/tree/${id}`, { colour: 'red' });
    expect((unk.json as Rec)['detail']).toBe('unknown parameter colour');
    const badJson = await rest(emu, 'PATCH', `/queue/tree/${id}`, '{"max-limit":');
    expect(badJson.status).toBe(400);
  });

  it('unknown menu → 400 no such command or directory; unknown command → 406', async () => {
    const r = await rest(emu, 'GET', '/nonexistent/path');
    expect(r.status).toBe(400);
    expect(r.json).toEqual({
      detail: 'no such command or directory (nonexistent)',
      error: 400,
      message: 'Bad Request',
    });
    const c = await rest(emu, 'POST', '/system/identity/remove', {});
    expect(c.status).toBe(406);
    expect(c.json).toEqual({
      detail: 'no such command or directory (remove)',
      error: 406,
      message: 'Not Acceptable',
    });
  });

  it('a read-only user gets the permission error (500)', async () => {
    const auth = `Basic ${Buffer.from('viewer:view').toString('base64')}`;
    expect((await rest(emu, 'GET', '/queue/tree', undefined, auth)).status).toBe(200);
    const id = emu.state.resolveId('/queue/tree', 'WAN-Download-1');
    const r = await rest(emu, 'PATCH', `/queue/tree/${id}`, { 'max-limit': '1' }, auth);
    expect(r.status).toBe(500);
    expect(r.json).toEqual({
      detail: 'not enough permissions (9)',
      error: 500,
      message: 'Internal Server Error',
    });
  });

  it('POST print with .proplist and .query (API query stack)', async () => {
    const r = await rest(emu, 'POST', '/queue/tree/print', {
      '.proplist': ['name', 'parent'],
      '.query': ['name=WAN-Download-1', 'name=WAN-Upload-1', '#|'],
    });
    expect(r.json).toEqual([
      { name: 'WAN-Download-1', parent: 'bridge1' },
      { name: 'WAN-Upload-1', parent: 'global' },
    ]);
    const not = await rest(emu, 'POST', '/queue/tree/print', {
      '.proplist': 'name',
      '.query': ['parent=global', '#!'],
    });
    expect(not.json).toEqual([{ name: 'WAN-Download-1' }]);
  });

  it('mangle: GET by comment, enable/disable via POST and PATCH', async () => {
    const comment = defaultFixture.menus?.['/ip/firewall/mangle']?.[0]?.['comment'] as string;
    const list = await rest(emu, 'GET', `/ip/firewall/mangle?comment=${encodeURIComponent(comment)}`);
    const [rule] = list.json as Rec[];
    expect(rule?.['disabled']).toBe('true');
    expect(rule?.['action']).toBe('mark-routing');
    const en = await rest(emu, 'POST', '/ip/firewall/mangle/enable', { '.id': rule?.['.id'] });
    expect(en.status).toBe(200);
    expect(en.json).toEqual([]);
    expect(emu.state.get('/ip/firewall/mangle', rule?.['.id'])?.['disabled']).toBe('false');
    await rest(emu, 'POST', '/ip/firewall/mangle/disable', { '.id': rule?.['.id'] });
    expect(emu.state.get('/ip/firewall/mangle', rule?.['.id'])?.['disabled']).toBe('true');
    const p = await rest(emu, 'PATCH', `/ip/firewall/mangle/${rule?.['.id']}`, { disabled: 'false' });
    expect((p.json as Rec)['disabled']).toBe('false');
    const missing = await rest(emu, 'POST', '/ip/firewall/mangle/enable', { '.id': '*999' });
    expect(missing.status).toBe(404);
  });

  it('reset-counters re-bases cumulative counters; POST set works like PATCH', async () => {
    emu.state.staticTraffic.set('WAN-Upload-1', { bytes: 5000, packets: 50, dropped: 7, rate: 1000 });
    const id = emu.state.resolveId('/queue/tree', 'WAN-Upload-1');
    expect((await rest(emu, 'GET', `/queue/tree/${id}`)).json).toMatchObject({ bytes: '5000', dropped: '7' });
    const r = await rest(emu, 'POST', '/queue/tree/reset-counters', { '.id': id });
    expect(r.json).toEqual([]);
    expect((await rest(emu, 'GET', `/queue/tree/${id}`)).json).toMatchObject({
      bytes: '0',
      dropped: '0',
      rate: '1000',
    });
    emu.state.staticTraffic.add('WAN-Upload-1', { bytes: 100 });
    expect((await rest(emu, 'GET', `/queue/tree/${id}`)).json).toMatchObject({ bytes: '100' });
    const s = await rest(emu, 'POST', '/queue/tree/set', { '.id': id, 'max-limit': '20M' });
    expect(s.json).toEqual([]);
    expect(emu.state.get('/queue/tree', id)?.['max-limit']).toBe('20000000');
  });

  it('PUT creates, DELETE removes (second DELETE → 404)', async () => {
    const r = await rest(emu, 'PUT', '/queue/tree', { name: 'tmp-q', parent: 'global', 'max-limit': '10M' });
    expect(r.status).toBe(200);
    const created = r.json as Rec;
    expect(created).toMatchObject({ name: 'tmp-q', 'max-limit': '10000000', queue: 'default-small' });
    const d = await rest(emu, 'DELETE', `/queue/tree/${created['.id']}`);
    expect(d.status).toBe(204);
    expect(d.text).toBe('');
    const d2 = await rest(emu, 'DELETE', `/queue/tree/${created['.id']}`);
    expect(d2.status).toBe(404);
    expect(d2.json).toEqual({ error: 404, message: 'Not Found' });
    const dup = await rest(emu, 'PUT', '/queue/tree', { name: 'WAN-Upload-1' });
    expect(dup.status).toBe(400);
    const add = await rest(emu, 'POST', '/ip/firewall/mangle/add', { chain: 'forward', action: 'accept' });
    expect((add.json as Rec)['ret']).toMatch(/^\*[0-9A-F]+$/);
  });

  it('singletons return a bare object; identity set through POST set', async () => {
    const id = await rest(emu, 'GET', '/system/identity');
    expect(id.json).toEqual({ name: 'MikroTik' });
    const res = await rest(emu, 'GET', '/system/resource');
    expect(Array.isArray(res.json)).toBe(false);
    expect((res.json as Rec)['version']).toMatch(/^7\./);
    await rest(emu, 'POST', '/system/identity/set', { name: 'edge' });
    expect((await rest(emu, 'GET', '/system/identity')).json).toEqual({ name: 'edge' });
    await rest(emu, 'POST', '/system/identity/set', { name: 'MikroTik' });
  });

  it('simple queues use up/down pairs', async () => {
    const r = await rest(emu, 'PUT', '/queue/simple', {
      name: 'sq',
      target: '10.0.0.0/24',
      'max-limit': '20M/100M',
    });
    expect(r.json).toMatchObject({ 'max-limit': '20000000/100000000', bytes: '0/0', 'total-bytes': '0' });
    emu.state.remove('/queue/simple', 'sq');
  });

  it('logs exactly what the client sent', async () => {
    const id = emu.state.resolveId('/queue/tree', 'WAN-Upload-1');
    await rest(emu, 'PATCH', `/queue/tree/${id}`, { 'max-limit': '38000000' });
    const log = emu.requests.rest();
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({
      method: 'PATCH',
      path: `/rest/queue/tree/${id}`,
      body: '{"max-limit":"38000000"}',
      json: { 'max-limit': '38000000' },
      user: 'admin',
      status: 200,
    });
  });
});

describe('REST over HTTPS', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ tls: true, sshPort: false });
  });
  afterAll(async () => {
    await emu.stop();
  });

  it('serves /rest with a self-signed certificate that the client can pin', async () => {
    expect(emu.rest?.protocol).toBe('https');
    expect(emu.rest?.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/rest$/);
    const https = await import('node:https');
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.request(
        `${emu.rest?.url}/system/identity`,
        {
          ca: emu.rest?.cert,
          headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` },
        },
        (res) => {
          let t = '';
          res.on('data', (d) => {
            t += d;
          });
          res.on('end', () => resolve(`${res.statusCode} ${t}`));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(body).toBe('200 {"name":"MikroTik"}');
    // without trusting the cert the TLS handshake fails
    await expect(fetch(`${emu.rest?.url}/system/identity`)).rejects.toThrow();
  });
});

describe('REST ?comment= filter with special characters (field report quirk)', () => {
  const comment = 'ADAPTIVE: Steer latency-sensitive to WAN2';
  const q = `/ip/firewall/mangle?comment=${encodeURIComponent(comment)}`;
  const withTwoRules = async (mode?: 'ignore' | 'empty' | 'exact') => {
    const emu = await startEmulator({ sshPort: false, ...(mode ? { restCommentQuery: mode } : {}) });
    emu.state.add('/ip/firewall/mangle', { chain: 'forward', action: 'accept', comment: 'other rule' });
    return emu;
  };

  it('ignores the filter by default, so a client must match the comment itself', async () => {
    const emu = await withTwoRules();
    try {
      expect((await rest(emu, 'GET', q)).json).toHaveLength(2);
      // plain comments still filter
      expect((await rest(emu, 'GET', '/ip/firewall/mangle?comment=other%20rule')).json).toHaveLength(1);
      // POST print with .query is not affected
      const p = await rest(emu, 'POST', '/ip/firewall/mangle/print', { '.query': [`comment=${comment}`] });
      expect(p.json).toHaveLength(1);
    } finally {
      await emu.stop();
    }
  });

  it('can answer [] instead, or filter exactly', async () => {
    const empty = await withTwoRules('empty');
    const exact = await withTwoRules('exact');
    try {
      expect((await rest(empty, 'GET', q)).json).toEqual([]);
      expect((await rest(exact, 'GET', q)).json).toHaveLength(1);
    } finally {
      await empty.stop();
      await exact.stop();
    }
  });
});
