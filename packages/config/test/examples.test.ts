import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAutorateConfig, loadConfigFile, loadSteeringConfig } from '../src/index.js';
import { ENV, examplesDir, goldenDir } from './helpers.js';

interface GoldenParams {
  wan_name: string;
  baseline_rtt_initial_ms: number;
  download: Record<string, number>;
  upload: Record<string, number>;
  thresholds: Record<string, number>;
  ping_hosts: string[];
  use_median_of_three: boolean;
  fallback: Record<string, unknown>;
  rate_limiter: { max_changes: number; window_seconds: number };
  queues: { download: string; upload: string };
  cycle_interval_s: number;
}

describe('example configs', () => {
  it.each(['cable.yaml', 'dsl.yaml', 'fiber.yaml'])('%s loads as an autorate config', (name) => {
    const c = loadAutorateConfig(join(examplesDir, name), { env: ENV });
    expect(c.kind).toBe('autorate');
    expect(c.router.password?.reveal()).toBe(ENV.WANCTL_ROUTER_PASSWORD);
    expect(c.router.transport).toBe('rest');
    expect(c.router.fallbackTransport).toBe('ssh');
    expect(c.download.ceilingBps).toBeGreaterThan(c.download.floorRedBps);
  });

  it('steering.yaml loads as a steering config', () => {
    const c = loadSteeringConfig(join(examplesDir, 'steering.yaml'), { env: ENV });
    expect(c.stateGood).toBe('WAN1_GOOD');
    expect(c.stateDegraded).toBe('WAN1_DEGRADED');
    expect(c.mangleRule.comment).toBe('ADAPTIVE: Steer latency-sensitive to WAN2');
    expect(c.primaryStateFile).toBe('/run/wanctl/wan1_state.json');
    expect(c.cakeQueues).toEqual({ primaryDownload: 'WAN-Download-1', primaryUpload: 'WAN-Upload-1' });
    expect(c.measurement).toEqual({
      intervalSec: 2,
      intervalMs: 2000,
      pingHost: '1.1.1.1',
      pingCount: 3,
      probe: { method: 'icmp', udpPort: 7 },
    });
    expect(c.thresholds.redSamplesRequired).toBe(2);
    expect(c.timeouts).toEqual({ sshCommandSec: 30, pingSec: 2, pingTotalSec: 10 });
    expect(c.healthCheck).toEqual({ enabled: true, host: '127.0.0.1', port: 9102 });
    expect(c.confidence.dryRun).toBe(true);
  });

  it('detects the kind of each example', () => {
    for (const [name, kind] of [
      ['cable.yaml', 'autorate'],
      ['dsl.yaml', 'autorate'],
      ['fiber.yaml', 'autorate'],
      ['steering.yaml', 'steering'],
    ] as const) {
      expect(loadConfigFile(join(examplesDir, name), { env: ENV }).kind).toBe(kind);
    }
  });

  it('fiber warns about the frozen baseline (initial 8 ms below bounds min 10 ms)', () => {
    const c = loadAutorateConfig(join(examplesDir, 'fiber.yaml'), { env: ENV });
    const w = c.warnings.find((x) => x.path === 'continuous_monitoring.baseline_rtt_initial');
    expect(w?.message).toMatch(/outside baseline_rtt_bounds/);
    expect(w?.line).toBeGreaterThan(0);
  });

  // The golden headers carry the parameters v1.3 resolved from its cable and dsl examples.
  it.each([
    ['cable.yaml', 'queue_controller_cable.json'],
    ['dsl.yaml', 'queue_controller_dsl.json'],
    ['cable.yaml', 'wan_controller_cable.json'],
    ['dsl.yaml', 'wan_controller_dsl.json'],
  ])('%s normalises to the v1.3 parameters in golden %s', (name, golden) => {
    const g = JSON.parse(readFileSync(join(goldenDir, golden), 'utf8')) as {
      header: { params: GoldenParams };
    };
    const p = g.header.params;
    const c = loadAutorateConfig(join(examplesDir, name), { env: ENV });
    expect(c.wanName).toBe(p.wan_name);
    expect(c.cycleIntervalMs / 1000).toBe(p.cycle_interval_s);
    expect(c.baselineRttInitialMs).toBe(p.baseline_rtt_initial_ms);
    for (const [dir, limits] of [
      ['download', c.download],
      ['upload', c.upload],
    ] as const) {
      const gp = p[dir];
      expect(limits.floorGreenBps, `${dir} floor_green`).toBe(gp['floor_green_bps']);
      expect(limits.floorYellowBps, `${dir} floor_yellow`).toBe(gp['floor_yellow_bps']);
      expect(limits.floorSoftRedBps, `${dir} floor_soft_red`).toBe(gp['floor_soft_red_bps']);
      expect(limits.floorRedBps, `${dir} floor_red`).toBe(gp['floor_red_bps']);
      expect(limits.ceilingBps).toBe(gp['ceiling_bps']);
      expect(limits.stepUpBps).toBe(gp['step_up_bps']);
      expect(limits.factorDown).toBe(gp['factor_down']);
      expect(limits.factorDownYellow).toBe(gp['factor_down_yellow']);
      expect(limits.greenRequired).toBe(gp['green_required']);
    }
    const t = p.thresholds;
    expect(c.thresholds.targetBloatMs).toBe(t['target_bloat_ms']);
    expect(c.thresholds.warnBloatMs).toBe(t['warn_bloat_ms']);
    expect(c.thresholds.hardRedBloatMs).toBe(t['hard_red_bloat_ms']);
    expect(c.thresholds.alphaBaseline).toBe(t['alpha_baseline']);
    expect(c.thresholds.alphaLoad).toBe(t['alpha_load']);
    expect(c.thresholds.baselineUpdateThresholdMs).toBe(t['baseline_update_threshold_ms']);
    expect(c.thresholds.accelThresholdMs).toBe(t['accel_threshold_ms']);
    expect(c.thresholds.baselineRttMinMs).toBe(t['baseline_rtt_min_ms']);
    expect(c.thresholds.baselineRttMaxMs).toBe(t['baseline_rtt_max_ms']);
    expect(c.pingHosts).toEqual(p.ping_hosts);
    expect(c.useMedianOfThree).toBe(p.use_median_of_three);
    expect(c.queues).toEqual(p.queues);
    expect(c.writeBudget).toEqual({
      maxWrites: p.rate_limiter.max_changes,
      windowSec: p.rate_limiter.window_seconds,
    });
    expect(c.fallback.enabled).toBe(p.fallback['enabled']);
    expect(c.fallback.checkGateway).toBe(p.fallback['check_gateway']);
    expect(c.fallback.checkTcp).toBe(p.fallback['check_tcp']);
    expect(c.fallback.mode).toBe(p.fallback['mode']);
    expect(c.fallback.maxCycles).toBe(p.fallback['max_cycles']);
    expect(c.fallback.tcpTargets.map((x) => [x.host, x.port])).toEqual(p.fallback['tcp_targets']);
    // D11: v1.3 defaulted gateway_ip to one site's LAN address (10.10.110.1); we have no default.
    expect(p.fallback['gateway_ip']).toBe('10.10.110.1');
    expect(c.fallback.gatewayIp).toBeNull();
    // D4 default keeps the documented 150 ms confirmation.
    expect(c.thresholds.accelConfirmCycles).toBe(3);
  });

  it('state_file is honoured (D13), otherwise derived from lock_file as v1.3 did', () => {
    const c = loadAutorateConfig(join(examplesDir, 'cable.yaml'), { env: ENV });
    expect(c.stateFile).toBe('/var/lib/wanctl/cable_state.json');
  });
});
