import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { parseAutorateConfig, parseConfigText } from '../src/index.js';
import { goldenDir } from './helpers.js';

// The golden headers hold v1.3's example configs exactly as parsed; every v1.3 config must
// keep loading unchanged (password "${ROUTER_PASSWORD}" as in v1.3). The steering_daemon vectors
// (golden/steering-daemon/) carry the steering example, with header.config_mutations applied.
type Kind = 'autorate' | 'steering';
interface GoldenHeader {
  source_config_yaml?: unknown;
  config_mutations?: Record<string, unknown>;
}
function goldenJson(): string[] {
  const top = readdirSync(goldenDir).filter((f) => f.endsWith('.json'));
  const daemon = readdirSync(join(goldenDir, 'steering-daemon'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => join('steering-daemon', f));
  return [...top, ...daemon];
}
/** header.config_mutations: `{"a.b.c": value}` set on a copy of the parsed YAML. */
function mutated(doc: unknown, mutations: Record<string, unknown> | undefined): unknown {
  const out = structuredClone(doc) as Record<string, unknown>;
  for (const [dotted, value] of Object.entries(mutations ?? {})) {
    const parts = dotted.split('.');
    let cur = out;
    for (const p of parts.slice(0, -1)) {
      if (cur[p] === null || typeof cur[p] !== 'object') cur[p] = {};
      cur = cur[p] as Record<string, unknown>;
    }
    cur[parts[parts.length - 1]!] = value;
  }
  return out;
}
const sources = goldenJson().flatMap((f) => {
  const g = JSON.parse(readFileSync(join(goldenDir, f), 'utf8')) as { kind?: string; header?: GoldenHeader };
  const h = g.header;
  if (h?.source_config_yaml === undefined) return [];
  const kind: Kind = g.kind === 'steering_daemon' ? 'steering' : 'autorate';
  return [[f, kind, mutated(h.source_config_yaml, h.config_mutations)] as const];
});

// v1.3 canonical "all keys" example (every key v1.3 reads, with its example values).
const CANONICAL = `schema_version: "1.0"
wan_name: "cable"
router:
  transport: "rest"
  host: "192.168.1.1"
  user: "admin"
  ssh_key: "/etc/wanctl/ssh/router.key"
  password: "\${ROUTER_PASSWORD}"
  port: 443
  verify_ssl: false
queues: {download: "WAN-Download-Cable", upload: "WAN-Upload-Cable"}
continuous_monitoring:
  enabled: true
  baseline_rtt_initial: 24
  download: {floor_green_mbps: 550, floor_yellow_mbps: 350, floor_soft_red_mbps: 275,
             floor_red_mbps: 200, ceiling_mbps: 940, step_up_mbps: 10, factor_down: 0.85,
             factor_down_yellow: 0.96, green_required: 5}
  upload: {floor_mbps: 8, ceiling_mbps: 38, step_up_mbps: 1, factor_down: 0.90,
           factor_down_yellow: 0.94, green_required: 5}
  thresholds:
    target_bloat_ms: 12
    warn_bloat_ms: 45
    hard_red_bloat_ms: 80
    baseline_time_constant_sec: 50
    load_time_constant_sec: 0.10
    accel_threshold_ms: 12
    baseline_update_threshold_ms: 3.0
    baseline_rtt_bounds: {min: 10, max: 60}
  ping_hosts: ["1.1.1.1", "8.8.8.8", "9.9.9.9"]
  use_median_of_three: true
  fallback_checks:
    enabled: true
    check_gateway: true
    check_tcp: true
    gateway_ip: "192.168.1.1"
    tcp_targets: [["1.1.1.1", 443], ["8.8.8.8", 443]]
    fallback_mode: "graceful_degradation"
    max_fallback_cycles: 3
logging: {main_log: "/var/log/wanctl/cable.log", debug_log: "/var/log/wanctl/cable_debug.log"}
lock_file: "/run/wanctl/cable.lock"
lock_timeout: 300
timeouts: {ssh_command: 15, ping: 1}
health_check: {enabled: true, host: "127.0.0.1", port: 9101}
metrics: {enabled: false, host: "127.0.0.1", port: 9100}
`;

describe('v1.3 configs load unchanged', () => {
  it('the golden headers carry v1.3 example configs of both kinds', () => {
    expect(sources.filter(([, kind]) => kind === 'autorate').length).toBeGreaterThanOrEqual(2);
    expect(sources.filter(([, kind]) => kind === 'steering').length).toBeGreaterThanOrEqual(2);
  });

  it.each(sources)('%s source_config_yaml loads as a %s config', (_file, kind, parsed) => {
    const text = yaml.dump(parsed);
    const r = parseConfigText(text, { file: 'v13.yaml', env: { ROUTER_PASSWORD: 'pw' } });
    expect(r.kind).toBe(kind);
  });

  it('the v1.3 canonical all-keys example (with its flow mappings)', () => {
    const c = parseAutorateConfig(CANONICAL, { file: 'canonical.yaml', env: { ROUTER_PASSWORD: 'pw' } });
    expect(c.fallback.gatewayIp).toBe('192.168.1.1');
    expect(c.download.floorSoftRedBps).toBe(275_000_000);
    expect(c.thresholds.alphaLoad).toBe(0.5);
    expect(c.stateFile).toBe('/run/wanctl/cable_state.json');
  });

  it('positions inside the canonical flow mappings point at the key', () => {
    const bad = CANONICAL.replace('factor_down_yellow: 0.96', 'factor_down_yelow: 0.96');
    try {
      parseAutorateConfig(bad, { file: 'canonical.yaml', env: { ROUTER_PASSWORD: 'pw' } });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(
        /^canonical\.yaml:17:14: continuous_monitoring\.download\.factor_down_yelow: unknown key "factor_down_yelow"; did you mean "factor_down_yellow"\?/,
      );
    }
  });
});
