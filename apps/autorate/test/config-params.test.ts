/**
 * controlParamsFromConfig: loading each golden header's source_config_yaml through @wanctl/config
 * and mapping it must give exactly the header's params (the ones v1.3 derived from that file).
 */
import { parseAutorateConfig } from '@wanctl/config';
import { describe, expect, it } from 'vitest';
import { controlParamsFromConfig } from '../src/config-params.js';
import { goldenFiles, loadGolden } from './golden/golden.js';

interface Header {
  source_config_yaml?: Record<string, unknown>;
  params: {
    cycle_interval_s: number;
    baseline_rtt_initial_ms: number;
    download: Record<string, number>;
    upload: Record<string, number>;
    thresholds: Record<string, number>;
    fallback: {
      enabled: boolean;
      check_gateway: boolean;
      check_tcp: boolean;
      gateway_ip: string;
      tcp_targets: [string, number][];
      mode: string;
      max_cycles: number;
    };
    rate_limiter: { max_changes: number; window_seconds: number };
    queues: { download: string; upload: string };
    ping_hosts: string[];
    use_median_of_three: boolean;
  };
}

const files = [...goldenFiles('wan_controller_'), ...goldenFiles('queue_controller_')].filter(
  (f) => loadGolden<{ header: Header }>(f).header.source_config_yaml !== undefined,
);

describe('controlParamsFromConfig against the golden headers', () => {
  it('has golden files to check (a missing fixtures/golden fails here instead of skipping)', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s: source_config_yaml -> @wanctl/config -> ControlParams = header params', (file) => {
    const h = loadGolden<{ header: Header }>(file).header;
    const text = JSON.stringify(h.source_config_yaml); // JSON is YAML
    const env: Record<string, string> = {};
    for (const m of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g))
      env[m[1] as string] = 'golden-test-password';
    const cfg = parseAutorateConfig(text, { file, env });
    const p = controlParamsFromConfig(cfg);
    const hp = h.params;
    expect(p.intervalSeconds).toBe(hp.cycle_interval_s);
    expect(p.baselineRttInitialMs).toBe(hp.baseline_rtt_initial_ms);
    const d = hp.download;
    expect(p.download).toEqual({
      ceilingBps: d['ceiling_bps'],
      stepUpBps: d['step_up_bps'],
      factorDown: d['factor_down'],
      factorDownYellow: d['factor_down_yellow'],
      greenRequired: d['green_required'],
      softRedRequired: d['soft_red_required'],
      floorGreenBps: d['floor_green_bps'],
      floorYellowBps: d['floor_yellow_bps'],
      floorSoftRedBps: d['floor_soft_red_bps'],
      floorRedBps: d['floor_red_bps'],
    });
    const u = hp.upload;
    expect(p.upload.ceilingBps).toBe(u['ceiling_bps']);
    expect(p.upload.stepUpBps).toBe(u['step_up_bps']);
    expect(p.upload.factorDown).toBe(u['factor_down']);
    expect(p.upload.factorDownYellow).toBe(u['factor_down_yellow']);
    expect(p.upload.greenRequired).toBe(u['green_required']);
    expect(p.upload.floorRedBps).toBe(u['floor_red_bps']);
    // effective upload floors (D5: per-state floors only when the config gives them)
    expect(p.upload.floorYellowBps ?? p.upload.floorRedBps).toBe(u['floor_yellow_bps']);
    expect(p.upload.floorGreenBps ?? p.upload.floorYellowBps ?? p.upload.floorRedBps).toBe(
      u['floor_green_bps'],
    );
    const t = hp.thresholds;
    expect(p.thresholds).toMatchObject({
      targetBloatMs: t['target_bloat_ms'],
      warnBloatMs: t['warn_bloat_ms'],
      hardRedBloatMs: t['hard_red_bloat_ms'],
      alphaBaseline: t['alpha_baseline'],
      alphaLoad: t['alpha_load'],
      baselineUpdateThresholdMs: t['baseline_update_threshold_ms'],
      accelThresholdMs: t['accel_threshold_ms'],
      baselineRttMinMs: t['baseline_rtt_min_ms'],
      baselineRttMaxMs: t['baseline_rtt_max_ms'],
    });
    expect(p.thresholds.accelConfirmCycles).toBe(3); // D4 default, not in v1.3's params
    expect(p.fallback).toEqual({
      enabled: hp.fallback.enabled,
      checkGateway: hp.fallback.check_gateway,
      checkTcp: hp.fallback.check_tcp,
      mode: hp.fallback.mode,
      maxCycles: hp.fallback.max_cycles,
    });
    // D11: v1.3 defaulted gateway_ip to one site's LAN address; we have no default
    expect(cfg.fallback.gatewayIp).toBeNull();
    expect(hp.fallback.gateway_ip).toBe('10.10.110.1');
    expect(cfg.fallback.tcpTargets.map((x) => [x.host, x.port])).toEqual(hp.fallback.tcp_targets);
    expect(p.writeBudget).toEqual({
      maxWrites: hp.rate_limiter.max_changes,
      windowSeconds: hp.rate_limiter.window_seconds,
    });
    expect(cfg.queues).toEqual(hp.queues);
    expect(cfg.pingHosts).toEqual(hp.ping_hosts);
    expect(cfg.useMedianOfThree).toBe(hp.use_median_of_three);
    // D13: state_file is honoured when given
    const sf = (h.source_config_yaml as { state_file?: string }).state_file;
    if (sf) expect(cfg.stateFile).toBe(sf);
  });
});
