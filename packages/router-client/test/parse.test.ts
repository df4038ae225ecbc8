import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  findRouterOsError,
  parseAsValue,
  parseKeyValueBlock,
  parsePrint,
  parseRate,
  parseSize,
  printRecordToMap,
  queueStatsFromMap,
  resourceFromMap,
} from '../src/index.js';

const SAMPLES = join(import.meta.dirname, '../../../fixtures/routeros-samples');
const cli = (f: string) => readFileSync(join(SAMPLES, 'cli', f), 'utf8');
const rest = (f: string) => JSON.parse(readFileSync(join(SAMPLES, 'rest', f), 'utf8'));

describe('parsePrint on real RouterOS layouts (routeros-samples/cli)', () => {
  it('queue tree print stats (doc): fields by name, no queued-/bytes confusion', () => {
    const out = parsePrint(cli('queue_tree_print_stats_doc.txt'));
    expect(out.legend).toEqual({ X: 'disabled', I: 'invalid' });
    expect(out.records).toHaveLength(1);
    const m = printRecordToMap(out.records[0]!, out.legend);
    const s = queueStatsFromMap(m, 'ssh');
    expect(s).toMatchObject({
      name: 'Limiting-Youtube',
      bytes: 67887,
      packets: 355,
      dropped: 0,
      queuedBytes: 0,
      queuedPackets: 0,
      rateBps: 0,
      disabled: false,
    });
  });

  it('queue tree print with CAKE types (7.14): X flags, wrapped 5-space continuation lines, suffix max-limit', () => {
    const out = parsePrint(cli('queue_tree_print_cake_ros7.14_mktxp-issue152.txt'));
    expect(out.records.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(out.records.map((r) => r.flags)).toEqual(['X', '', '', 'X', 'X', '']);
    const r1 = out.records[1]!.props;
    expect(r1['name']).toBe('ISP2-uplink-fq-codel');
    expect(r1['burst-time']).toBe('0s'); // from the wrapped line
    expect(r1['bucket-size']).toBe('0.1');
    expect(parseRate(out.records[0]!.props['max-limit']!)).toBe(880_000_000);
    expect(printRecordToMap(out.records[0]!, out.legend)['disabled']).toBe('true');
  });

  it('queue simple print stats (v7): legend with ";" separator, humanised rates, wrapped line', () => {
    const out = parsePrint(cli('queue_simple_print_stats_v7_python-docstring.txt'));
    expect(out.legend).toEqual({ X: 'disabled', I: 'invalid', D: 'dynamic' });
    expect(out.records).toHaveLength(1);
    const p = out.records[0]!.props;
    expect(p['rate']).toBe('2.0Mbps/15.0Mbps');
    expect(p['total-queued-packets']).toBe('0');
    expect(p['dropped']).toBe('0/1195');
    expect(parseRate('2.0Mbps')).toBe(2_000_000);
    expect(parseRate('0bps')).toBe(0);
  });

  it('a single detail record pasted without index', () => {
    const out = parsePrint(cli('queue_simple_print_detail_record_ros7.13_community-routeros-pr260.txt'));
    expect(out.records).toHaveLength(1);
    expect(out.records[0]!.props).toMatchObject({
      name: 'queue1',
      'packet-marks': '',
      'burst-time': '0s/0s',
    });
  });

  it('queue type print (doc): * default flag, blank lines, wrapped lines', () => {
    const out = parsePrint(cli('queue_type_print_doc_v7.txt'));
    expect(out.legend).toEqual({ '*': 'default' });
    expect(out.records).toHaveLength(10);
    expect(out.records.every((r) => r.flags === '*')).toBe(true);
    expect(out.records[5]!.props['pcq-dst-address6-mask']).toBe('128');
    expect(parseSize(out.records[5]!.props['pcq-limit']!)).toBe(50 * 1024);
  });

  it('mangle print fragment: ;;; comment on the index line, rule on the next line', () => {
    const out = parsePrint(cli('ip_firewall_mangle_print_fragment_comments_v7_traffic-counter-issue5.txt'));
    expect(out.records.map((r) => [r.index, r.comment, r.flags])).toEqual([
      [3, 'local-wan-Toya-tx', ''],
      [4, 'local-wan-Toya-rx', ''],
      [5, 'local-wan-LTE-tx', ''],
      [6, 'local-wan-LTE-rx', ''],
    ]);
    expect(out.records[0]!.props).toMatchObject({ chain: 'postrouting', 'log-prefix': '', log: 'no' });
  });

  it('filter print with flags, comments, two-digit indexes and console echo lines mixed in', () => {
    const out = parsePrint(cli('ip_firewall_filter_print_all_without-paging_flags_comments_ntc.txt'));
    const byIndex = new Map(out.records.map((r) => [r.index, r]));
    expect(byIndex.get(3)?.comment).toBeUndefined();
    expect(byIndex.get(3)?.props['dst-address']).toBe('185.163.212.156/30');
    expect(byIndex.get(8)?.props['dst-port']).toBe('161'); // the echo line did not leak in
    expect(byIndex.get(13)?.flags).toBe('X');
    expect(byIndex.get(13)?.comment).toBe('defconf: fasttrack');
    expect(byIndex.get(5)?.props['log-prefix']).toBe('Acces VPN');
    expect(printRecordToMap(byIndex.get(13)!, out.legend)['disabled']).toBe('true');
    expect(printRecordToMap(byIndex.get(12)!, out.legend)['disabled']).toBe('false');
  });

  it('print terse: fixed flags column, unquoted values with spaces', () => {
    const out = parsePrint(cli('interface_print_terse_without-paging_v7_ntc.txt'));
    expect(out.records).toHaveLength(9);
    expect(out.records[0]!.flags).toBe('R');
    expect(out.records[2]!.flags).toBe('S');
    expect(out.records[4]!.flags).toBe('');
    expect(out.records[0]!.props['comment']).toBe('this is a comment');
    expect(out.records[0]!.props['last-link-down-time']).toBe('1970-01-01 01:02:03');
    expect(out.records[0]!.props['name']).toBe('ether1');
  });

  it('v7 Columns: table with ;;; rows', () => {
    const out = parsePrint(cli('ip_address_print_v7_columns_comment-rows_ntc.txt'));
    expect(out.records).toHaveLength(10);
    expect(out.records[0]).toMatchObject({
      index: 0,
      comment: 'INET Uplink',
      props: { address: '1.1.1.26/30' },
    });
    expect(out.records[9]).toMatchObject({ index: 9, flags: 'D', props: { interface: 'pppoe-out1' } });
  });

  it('ssh exec output padded to fixed width with a legend wrapped onto a second line', () => {
    const out = parsePrint(cli('bridge_host_print_detail_ssh-exec_v7_netmiko-issue2880.txt'));
    expect(out.legend['M']).toBe('mlag');
    expect(out.records[0]!.flags).toBe('DL');
    expect(out.records[0]!.props).toMatchObject({ interface: 'bridge', 'on-interface': 'bridge' });
    expect(out.records[1]!.props['mac-address']).toBe('DC:2C:6E:8C:F8:31');
  });
});

describe('other console forms', () => {
  it('print as-value', () => {
    const recs = parseAsValue(cli('ip_route_print_as-value_doc.txt'));
    expect(recs).toEqual([
      {
        '.id': '*400ae12f',
        distance: '255',
        'dst-address': '111.111.111.1/32',
        gateway: 'ether1',
        'pref-src': '111.111.111.1',
      },
    ]);
    expect(parseAsValue('.id=*1;name=a;.id=*2;name=b')).toEqual([
      { '.id': '*1', name: 'a' },
      { '.id': '*2', name: 'b' },
    ]);
  });

  it('system resource print: key: value block with human units', () => {
    const r = resourceFromMap(parseKeyValueBlock(cli('system_resource_print_ccr2004_ros7.12.2_ntc.txt')));
    expect(r.version).toBe('7.12.2 (stable)');
    expect(r.cpuLoadPercent).toBe(36);
    expect(r.freeMemoryBytes).toBe(Math.round(3704.1 * 1024 * 1024));
    expect(r.boardName).toBe('CCR2004-1G-12S+2XS');
  });
});

describe('RouterOS error lines (printed with exit status 0)', () => {
  it.each([
    ['error_syntax_error_local_scope_doc.txt', 'syntax error (line 1 column 7)'],
    [
      'error_expected_value_of_ros7.13_community-routeros-pr260.txt',
      'expected value of download-priority (line 1 column 39)',
    ],
    [
      'error_input_does_not_match_and_expected_end_of_command_ros6.49.13_gitpel-issue1.txt',
      'input does not match any value of value-name',
    ],
    [
      'error_no_such_item_script_log_v7_hreskiv-mikr-issue8.txt',
      'no such item (/interface/ethernet/monitor; line 1)',
    ],
  ])('%s', (file, msg) => {
    expect(findRouterOsError(cli(file))).toBe(msg);
  });

  it('measured exec error texts (7.20.8)', () => {
    for (const line of [
      'expected end of command (line 1 column 29)',
      'not enough permissions (9) (/user/add; line 1)',
      'failure: not allowed by device-mode (/system/scheduler/add; line 1)',
      'bad command name foo (line 1 column 2)',
    ]) {
      expect(findRouterOsError(`${line}\n`)).toBe(line);
    }
  });

  it('finds no error in any print sample (no false positives)', () => {
    const printSamples = readdirSync(join(SAMPLES, 'cli')).filter((f) => !f.startsWith('error_'));
    expect(printSamples.length).toBeGreaterThanOrEqual(12);
    for (const f of printSamples) expect(findRouterOsError(cli(f)), f).toBeNull();
  });
});

describe('REST bodies (routeros-samples/rest) through the same normalisation', () => {
  it('queue tree item with live counters', () => {
    const item = rest('queue_tree_item_nonzero_get_mikrotik_api_2influx_ros7.json');
    const s = queueStatsFromMap(item, 'rest');
    expect(s.rateBps).toBe(254232);
    expect(s.bytes).toBe(Number(item.bytes));
    expect(s.maxLimitBps).toBe(12_000_000_000);
  });

  it('queue tree item with zero counters (terraform sample)', () => {
    const s = queueStatsFromMap(rest('queue_tree_item_get_terraform_ros7.json'), 'rest');
    expect(s).toMatchObject({ id: '*1000000', bytes: 0, dropped: 0, queuedPackets: 0, disabled: false });
  });

  it('system resource object', () => {
    const r = resourceFromMap(rest('system_resource_get_chr_ros7.19.4.json'));
    expect(r.cpuLoadPercent).toBe(0);
    expect(typeof r.totalMemoryBytes).toBe('number');
  });

  it('a record without counters is an error, not a silent zero', () => {
    expect(() => queueStatsFromMap({ name: 'q', '.id': '*1' }, 'rest')).toThrow(/no "bytes" counter/);
  });
});
