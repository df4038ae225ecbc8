/** Steering configs for the in-process daemon tests (the fakes are @wanctl/testkit's). */
import { parseSteeringConfig, type SteeringConfig } from '@wanctl/config';
import { DEFAULT_RULE_COMMENT } from '@wanctl/testkit';

/** The rule comment of {@link testConfig} (the fake router's default). */
export const COMMENT = DEFAULT_RULE_COMMENT;

/** A parsed steering config whose paths live in `dir`. */
export function testConfig(
  dir: string,
  o: {
    interval?: number;
    red?: number;
    green?: number;
    historySize?: number;
    comment?: string;
    extra?: string;
  } = {},
): SteeringConfig {
  const yaml = `wan_name: steering
topology: { primary_wan: wan1, primary_wan_config: ${dir}/wan1.yaml, alternate_wan: wan2 }
router: { transport: rest, host: 127.0.0.1, user: admin, password: secret, port: 8080, ssh_key: ${dir}/key }
mangle_rule: { comment: "${o.comment ?? COMMENT}" }
cake_state_sources: { primary: ${dir}/wan1_state.json }
cake_queues: { primary_download: WAN-Download-1, primary_upload: WAN-Upload-1 }
measurement: { interval_seconds: ${o.interval ?? 2}, ping_host: 127.0.0.1, ping_count: 1 }
thresholds: { red_samples_required: ${o.red ?? 2}, green_samples_required: ${o.green ?? 3} }
state: { file: ${dir}/steering_state.json, history_size: ${o.historySize ?? 60} }
logging: { main_log: ${dir}/steering.log, debug_log: ${dir}/debug.log }
lock_file: ${dir}/steering.lock
lock_timeout: 300
${o.extra?.includes('history:') ? '' : `history: { enabled: false, file: ${dir}/steering_history.db }`}
${o.extra ?? ''}`;
  return parseSteeringConfig(yaml, { file: `${dir}/steering.yaml`, env: {} });
}
