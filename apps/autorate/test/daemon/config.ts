/** Autorate configs for the daemon's tests (the fakes are @wanctl/testkit's). */
import { parseAutorateConfig } from '@wanctl/config';

/** A valid autorate config text (v1.3 keys), paths under `dir`. */
export function configText(dir: string, extra: Record<string, string> = {}): string {
  return `
wan_name: "${extra['wan'] ?? 'wan1'}"
router:
  transport: rest
  host: 127.0.0.1
  user: admin
  password: "pw-not-real-123"
  port: 8080
queues:
  download: "WAN-Download-1"
  upload: "WAN-Upload-1"
continuous_monitoring:
  enabled: true
${extra['law'] ? `  control_law: ${extra['law']}\n` : ''}  baseline_rtt_initial: 20
  cycle_interval_ms: ${extra['interval'] ?? 50}
  download:
    floor_green_mbps: 40
    floor_yellow_mbps: 30
    floor_soft_red_mbps: 25
    floor_red_mbps: 20
    ceiling_mbps: 100
    step_up_mbps: 10
    factor_down: 0.5
  upload:
    floor_mbps: 5
    ceiling_mbps: 20
    step_up_mbps: 2
    factor_down: 0.5
  thresholds:
    target_bloat_ms: 10
    warn_bloat_ms: 30
    hard_red_bloat_ms: 60
    alpha_baseline: 0.02
    alpha_load: 0.5
  ping_hosts: ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
  use_median_of_three: true
${extra['spares'] ? `  spare_ping_hosts: ${extra['spares']}\n` : ''}  fallback_checks:
    enabled: ${extra['fallback'] ?? 'false'}
    gateway_ip: 192.0.2.254
    tcp_targets: [["192.0.2.10", 443]]
logging:
  main_log: "${dir}/wan1.log"
  debug_log: "${dir}/wan1_debug.log"
lock_file: "${dir}/${extra['wan'] ?? 'wan1'}.lock"
lock_timeout: 300
history:
  enabled: ${extra['history'] ?? 'false'}
  file: "${extra['historyFile'] ?? `${dir}/${extra['wan'] ?? 'wan1'}_history.db`}"
  flush_interval_sec: ${extra['historyFlushSec'] ?? 5}
  dashboard: { enabled: ${extra['dashboardPort'] !== undefined}, port: ${extra['dashboardPort'] ?? 9104} }
health_check:
  enabled: ${extra['health'] ?? 'false'}
  port: ${extra['healthPort'] ?? 9101}
`;
}

export function config(dir: string, extra: Record<string, string> = {}) {
  return parseAutorateConfig(configText(dir, extra), { file: `${dir}/wan1.yaml` });
}
