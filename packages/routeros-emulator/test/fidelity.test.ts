/**
 * Layout fidelity: the emulator's REST bodies and CLI prints against real RouterOS output in
 * fixtures/routeros-samples (see its README for where each sample comes from).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/index.js';
import { lines, rest, sshConnect } from './helpers.js';

const SAMPLES = join(__dirname, '../../../fixtures/routeros-samples');
const sample = (f: string) => readFileSync(join(SAMPLES, f), 'utf8');
const sampleJson = (f: string) => JSON.parse(sample(`rest/${f}`)) as unknown;
type Rec = Record<string, string>;

/** Keys and value types of a REST item (every value must be a string). */
function shape(o: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(o as Record<string, unknown>).map(([k, v]) => [k, typeof v]));
}

async function execAs(emu: Emulator, username: string, cmd: string): Promise<string[]> {
  const c = await sshConnect(emu, { username });
  try {
    return lines((await c.exec(cmd)).out);
  } finally {
    c.end();
  }
}

describe('fidelity against routeros-samples', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ seed: 'empty' });
  });
  afterAll(async () => {
    await emu.stop();
  });

  describe('REST bodies', () => {
    it('queue tree item: same keys and string types as the recorded items', async () => {
      const id = emu.state.add('/queue/tree', { name: 'queue1', comment: 'comment' });
      const withComment = (await rest(emu, 'GET', `/queue/tree/${id}`)).json;
      expect(shape(withComment)).toEqual(shape(sampleJson('queue_tree_item_get_terraform_ros7.json')));
      const zero = sampleJson('queue_tree_item_get_terraform_ros7.json') as Rec;
      expect(withComment).toEqual({ ...zero, '.id': id });
      emu.state.set('/queue/tree', id, { comment: '' });
      const plain = (await rest(emu, 'GET', `/queue/tree/${id}`)).json;
      expect(Object.keys(plain as Rec)).toEqual(
        Object.keys(sampleJson('queue_tree_item_nonzero_get_mikrotik_api_2influx_ros7.json') as Rec),
      );
      emu.state.remove('/queue/tree', id);
    });

    it('queue simple item: same keys, `up/down` pairs and single total-* values', async () => {
      const id = emu.state.add('/queue/simple', { name: 'queue1', 'max-limit': '1G/1G' });
      const got = (await rest(emu, 'GET', `/queue/simple/${id}`)).json as Rec;
      const want = sampleJson('queue_simple_item_nonzero_get_mikrotik_api_2influx_ros7.json') as Rec;
      expect(shape(got)).toEqual(shape(want));
      for (const k of Object.keys(want)) {
        expect(got[k]?.includes('/'), k).toBe(want[k]?.includes('/'));
      }
      emu.state.remove('/queue/simple', id);
    });

    it('queue type: the built-in pcq-upload-default matches the recorded item exactly', async () => {
      const got = (await rest(emu, 'GET', '/queue/type?name=pcq-upload-default')).json as Rec[];
      expect(got[0]).toEqual(sampleJson('queue_type_pcq_item_get_terraform_ros7.json'));
    });

    it('mangle item: same keys and types', async () => {
      const id = emu.state.add('/ip/firewall/mangle', {
        chain: 'prerouting',
        action: 'accept',
        disabled: 'no',
        log: 'no',
        'log-prefix': '',
      });
      const got = (await rest(emu, 'GET', `/ip/firewall/mangle/${id}`)).json;
      expect(shape(got)).toEqual(shape(sampleJson('ip_firewall_mangle_item_get_terraform_ros7.json')));
      emu.state.remove('/ip/firewall/mangle', id);
    });

    it('singletons: identity and resource are bare objects with the recorded keys', async () => {
      expect((await rest(emu, 'GET', '/system/identity')).json).toEqual(
        sampleJson('system_identity_get_terraform_ros7.json'),
      );
      const res = (await rest(emu, 'GET', '/system/resource')).json;
      expect(shape(res)).toEqual(shape(sampleJson('system_resource_get_chr_ros7.19.4.json')));
    });

    it('keys come back sorted whatever the .proplist order (log sample)', async () => {
      emu.state.add('/queue/tree', { name: 'q' });
      const got = (await rest(emu, 'GET', '/queue/tree?.proplist=name,.id,max-limit')).json as Rec[];
      expect(Object.keys(got[0] as Rec)).toEqual(['.id', 'max-limit', 'name']);
      const logSample = sampleJson('log_get_proplist_hap-ax2_ros7.20.5.json') as Rec[];
      expect(Object.keys(logSample[0] as Rec)).toEqual([...Object.keys(logSample[0] as Rec)].sort());
      emu.state.remove('/queue/tree', 'q');
    });

    it('PATCH answers the whole object; POST set answers []', async () => {
      const id = emu.state.add('/queue/tree', { name: 'p' });
      const patched = (await rest(emu, 'PATCH', `/queue/tree/${id}`, { comment: 'test' })).json;
      expect(patched).toEqual((await rest(emu, 'GET', `/queue/tree/${id}`)).json);
      const set = await rest(emu, 'POST', '/queue/tree/set', { '.id': id, comment: 'x' });
      expect(set.json).toEqual(
        sampleJson('ip_service_set_post_success_empty_ros7.19.1_terraform-issue769.json'),
      );
      emu.state.remove('/queue/tree', id);
    });

    it('error bodies: 400 unknown path, 404, 401 (json variant), 406, Session closed', async () => {
      const unknown = await rest(emu, 'GET', '/nonexistent/path');
      expect(unknown.text).toBe(sample('rest/error_400_unknown_path_chr_ros7.23.7_lab-survey.json').trim());
      const nf = await rest(emu, 'DELETE', '/queue/tree/*9');
      expect(nf.text).toBe(sample('rest/error_404_delete_twice_doc.json').trim());
      const e406 = await rest(emu, 'POST', '/system/identity/remove', {});
      expect(e406.json).toEqual(sampleJson('error_406_no_such_command_doc.json'));
      const jsonEmu = await startEmulator({
        sshPort: false,
        unauthorizedBody: 'json',
        restCommandTimeoutMs: 50,
      });
      try {
        const u = await rest(jsonEmu, 'GET', '/queue/tree', undefined, null);
        expect(u.text).toBe(sample('rest/error_401_unauthorized_chr_ros7.23.7_lab-survey.json').trim());
        await jsonEmu.faults.set('rest', { sessionClosed: 1 });
        const sc = await rest(jsonEmu, 'POST', '/queue/tree/print', {});
        expect(sc.text).toBe(sample('rest/error_400_session_closed_ping_timeout_doc.json').trim());
      } finally {
        await jsonEmu.stop();
      }
      const bad = await rest(emu, 'PUT', '/queue/tree', { name: 'b', queue: 'nope' });
      expect(Object.keys(bad.json as Rec)).toEqual(
        Object.keys(sampleJson('error_400_patch_input_does_not_match_tikoci-pr20.json') as Rec),
      );
      expect((bad.json as Rec)['detail']).toBe('input does not match any value of queue');
    });
  });

  describe('CLI layouts', () => {
    it('queue tree print reproduces the 7.14 CAKE print byte for byte (wrap width 165)', async () => {
      for (const t of ['cake1500mtu', 'cake1472mtu', 'cakelte', 'cakedownlink']) {
        emu.state.add('/queue/type', { name: t, kind: 'cake' });
      }
      const items: [string, string, string, string, boolean][] = [
        ['ISP1-Uplink-cake', 'vlan100', 'cake1500mtu', '880M', true],
        ['ISP2-uplink-fq-codel', 'pppoe-out2', 'cake1472mtu', '49M', false],
        ['LTE-Uplink00-cake', 'lte1', 'cakelte', '15M', false],
        ['LAN-Downlink-cake', 'bridge', 'cakedownlink', '880M', true],
        ['ISP1-IPv6-Uplink-cake', 'pppoe-out1', 'cake1472mtu', '80M', true],
        ['ISP1-Uplink-fq-codel', 'vlan100', 'fq-codel', '880M', false],
      ];
      emu.state.add('/queue/type', { name: 'fq-codel', kind: 'fq-codel' });
      for (const [name, parent, queue, max, disabled] of items) {
        emu.state.add('/queue/tree', {
          name,
          parent,
          queue,
          'max-limit': max,
          'packet-mark': 'no-mark',
          disabled: disabled ? 'yes' : 'no',
        });
      }
      const want = lines(sample('cli/queue_tree_print_cake_ros7.14_mktxp-issue152.txt')).slice(1);
      const got = await execAs(emu, 'admin+ctw165', 'queue/tree/print');
      expect(got).toEqual(want);
    });

    it('queue tree print stats reproduces the manual example (fields, order, flags, spacing)', async () => {
      emu.state.clear();
      emu.state.add('/queue/tree', {
        name: 'Limiting-Youtube',
        parent: 'global',
        'packet-mark': 'pmark-Youtube',
      });
      emu.state.staticTraffic.set('Limiting-Youtube', { bytes: 67887, packets: 355 });
      const want = lines(sample('cli/queue_tree_print_stats_doc.txt')).slice(1);
      const got = await execAs(emu, 'admin+ctw300', 'queue tree print stats');
      expect(got).toEqual(want);
      emu.state.staticTraffic.clear();
    });

    it('queue type print reproduces the manual example for the built-in types', async () => {
      emu.state.clear();
      const want = lines(sample('cli/queue_type_print_doc_v7.txt')).slice(1);
      const got = await execAs(emu, 'admin+ctw202', '/queue/type/print');
      // the manual trims the trailing space of its very last line
      expect(got.map((l) => l.trimEnd())).toEqual(want.map((l) => l.trimEnd()));
      expect(got.slice(0, -1)).toEqual(want.slice(0, -1));
    });

    it('mangle print with ;;; comments reproduces the v7 fragment (items 3–6)', async () => {
      emu.state.clear();
      for (let i = 0; i < 3; i++)
        emu.state.add('/ip/firewall/mangle', { chain: 'forward', action: 'accept' });
      for (const [wan, iface] of [
        ['Toya', 'ether1'],
        ['LTE', 'ether2'],
      ]) {
        emu.state.add('/ip/firewall/mangle', {
          chain: 'postrouting',
          action: 'passthrough',
          'src-address-list': 'MyIPAddresses',
          'out-interface': iface as string,
          log: 'no',
          'log-prefix': '',
          comment: `local-wan-${wan}-tx`,
        });
        emu.state.add('/ip/firewall/mangle', {
          chain: 'prerouting',
          action: 'passthrough',
          'in-interface': iface as string,
          log: 'no',
          'log-prefix': '',
          comment: `local-wan-${wan}-rx`,
        });
      }
      const want = lines(
        sample('cli/ip_firewall_mangle_print_fragment_comments_v7_traffic-counter-issue5.txt'),
      );
      want[0] = ` ${want[0]}`; // the issue lost the first line's leading space (see README)
      const got = await execAs(emu, 'admin+ctw200', '/ip firewall mangle print where comment~"local-wan"');
      expect(got[0]).toBe('Flags: X - disabled, I - invalid; D - dynamic ');
      expect(got.slice(1)).toEqual(want);
    });

    it('two-digit indexes and the disabled flag line up as in the filter print (`13 X  ;;; …`)', async () => {
      emu.state.clear();
      for (let i = 0; i < 14; i++) {
        emu.state.add('/ip/firewall/mangle', {
          chain: 'forward',
          action: 'accept',
          comment: `rule ${i}`,
          ...(i === 13 ? { disabled: 'yes' } : {}),
        });
      }
      const got = await execAs(emu, 'admin', '/ip firewall mangle print');
      const ntc = lines(sample('cli/ip_firewall_filter_print_all_without-paging_flags_comments_ntc.txt'));
      const prefix = (l: string) => /^([ \d]{2} [X ][D ] );;; /.exec(l)?.[1]?.replace(/\d/g, '9');
      const wantPrefixes = new Set(ntc.map(prefix).filter(Boolean));
      const gotPrefixes = new Set(got.map(prefix).filter(Boolean));
      expect(gotPrefixes).toEqual(new Set([' 9    ', '99    ', '99 X  ']));
      for (const p of gotPrefixes) expect(wantPrefixes.has(p)).toBe(true);
      // the rule line is indented 6, as in the sample
      const ruleIndent = (ls: string[]) => ls.find((l) => /^\s+chain=/.test(l))?.search(/\S/);
      expect(ruleIndent(got)).toBe(ruleIndent(ntc));
    });

    it('terse: one unwrapped line per item, comment unquoted with spaces', async () => {
      emu.state.clear();
      emu.state.add('/ip/firewall/mangle', {
        chain: 'forward',
        action: 'accept',
        comment: 'this is a comment',
      });
      const got = await execAs(emu, 'admin', '/ip firewall mangle print terse');
      expect(got).toHaveLength(1);
      const ntc = lines(sample('cli/interface_print_terse_without-paging_v7_ntc.txt'));
      const grammar = /^ ?\d+ [A-Z ]+ (\S+=.*)$/;
      for (const l of [...ntc, ...got]) expect(l).toMatch(grammar);
      expect(got[0]).toContain('comment=this is a comment chain=forward');
      expect(ntc[0]).toContain('comment=this is a comment name=ether1');
    });

    it('as-value: `.id` first, then alphabetical, `;`-separated, no quoting', async () => {
      const want = lines(sample('cli/ip_route_print_as-value_doc.txt')).find((l) => l.startsWith('.id='));
      const got = (await execAs(emu, 'admin', '/ip firewall mangle print as-value'))[0] as string;
      const keys = (s: string) => s.split(';').map((kv) => kv.split('=')[0]);
      for (const s of [want as string, got]) {
        const k = keys(s);
        expect(k[0]).toBe('.id');
        expect(k.slice(1)).toEqual([...k.slice(1)].sort());
      }
      expect(got).toContain(';comment=this is a comment;');
    });

    it('system resource print: right-aligned `key: value` with the colon in the same column', async () => {
      const ntc = lines(sample('cli/system_resource_print_ccr2004_ros7.12.2_ntc.txt'));
      const got = await execAs(emu, 'admin', '/system resource print');
      const col = (ls: string[]) => new Set(ls.map((l) => l.indexOf(': ')));
      expect(col(got)).toEqual(col(ntc));
      expect(got.find((l) => l.trim().startsWith('total-memory'))).toMatch(/: \d+\.\dMiB$/);
      expect(got.find((l) => l.trim().startsWith('cpu-load'))).toMatch(/: \d+%$/);
    });

    it('error texts have the recorded forms', async () => {
      const c = await sshConnect(emu);
      const out = async (cmd: string) => lines((await c.exec(cmd)).out)[0] as string;
      const grammar = [
        /^expected end of command \(line 1 column \d+\)$/,
        /^bad command name \S+ \(line 1 column \d+\)$/,
        /^no such item \(\/[a-z/-]+; line 1\)$/,
        /^not enough permissions \(9\) \(\/[a-z/-]+; line 1\)$/,
        /^input does not match any value of [a-z-]+/,
        /^syntax error \(line 1 column \d+\)$/,
      ];
      const recorded = [
        ...lines(sample('cli/error_texts_measured_ssh-exec_hex_ros7.20.8_code-comment.txt')).map((l) =>
          l.replace(/^.*-> /, ''),
        ),
        ...lines(
          sample('cli/error_input_does_not_match_and_expected_end_of_command_ros6.49.13_gitpel-issue1.txt'),
        ),
        lines(sample('cli/error_no_such_item_script_log_v7_hreskiv-mikr-issue8.txt'))[0]?.replace(
          /^.*\) /,
          '',
        ) ?? '',
        lines(sample('cli/error_syntax_error_local_scope_doc.txt'))[2] ?? '',
      ];
      // every grammar line matches at least one recorded text …
      for (const g of grammar.filter((_, i) => i !== 1 && i !== 3)) {
        expect(
          recorded.some((r) => g.test(r)),
          String(g),
        ).toBe(true);
      }
      // … and the emulator produces each form
      const produced = [
        await out('/queue tree set foo=bar'),
        await out('/queue tree frobnicate'),
        await out('/queue tree set nosuch max-limit=1'),
        await out('/queue tree add name=x queue=nope'),
        await out('/queue tree print where name='),
      ];
      expect(produced[0]).toMatch(grammar[0] as RegExp);
      expect(produced[1]).toMatch(grammar[1] as RegExp);
      expect(produced[2]).toMatch(grammar[2] as RegExp);
      expect(produced[3]).toMatch(grammar[4] as RegExp);
      expect(produced[4]).toMatch(grammar[5] as RegExp);
      c.end();
    });
  });
});
