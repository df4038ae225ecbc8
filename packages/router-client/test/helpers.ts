import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Emulator,
  type EmulatorOptions,
  type StaticTrafficModel,
  startEmulator,
} from '@wanctl/routeros-emulator';
import {
  RestRouterClient,
  type RouterClient,
  type RouterClientOptions,
  type RouterLogger,
  SshRouterClient,
  type Transport,
} from '../src/index.js';

export const DL = 'WAN-Download-1';
export const UL = 'WAN-Upload-1';
export const COMMENT = 'ADAPTIVE: Steer latency-sensitive to WAN2';

export async function startEmu(opts: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({ tls: true, ...opts });
}

export function certFingerprint(emu: Emulator): string {
  return new X509Certificate(emu.rest!.cert!).fingerprint256;
}

export function traffic(emu: Emulator): StaticTrafficModel {
  return emu.state.trafficModel as StaticTrafficModel;
}

/** Options for both transports against an emulator (HTTPS pinned by fingerprint, SSH host key pinned). */
export function emuOptions(
  emu: Emulator,
  transport: Transport,
  extra: Partial<RouterClientOptions> = {},
): RouterClientOptions {
  return {
    host: '127.0.0.1',
    transport,
    rest:
      emu.rest!.protocol === 'https'
        ? {
            port: emu.rest!.port,
            https: true,
            user: 'admin',
            password: 'admin',
            certFingerprint: certFingerprint(emu),
          }
        : { port: emu.rest!.port, https: false, user: 'admin', password: 'admin' },
    ssh: {
      port: emu.ssh!.port,
      user: 'admin',
      password: 'admin',
      hostKeyFingerprint: emu.ssh!.hostKeyFingerprint,
    },
    deadlineMs: 5000,
    ...extra,
  };
}

export function clientFor(
  emu: Emulator,
  transport: Transport,
  extra: Partial<RouterClientOptions> = {},
): RouterClient {
  const o = emuOptions(emu, transport, extra);
  const common = {
    host: o.host,
    deadlineMs: o.deadlineMs ?? 5000,
    ...(o.logger ? { logger: o.logger } : {}),
  };
  return transport === 'rest'
    ? new RestRouterClient({ ...o.rest!, ...common })
    : new SshRouterClient({ ...o.ssh!, ...common });
}

export interface Captured extends RouterLogger {
  lines: Array<{ level: string; message: string; meta?: Record<string, unknown> }>;
}

export function captureLogger(): Captured {
  const lines: Captured['lines'] = [];
  const at = (level: string) => (message: string, meta?: Record<string, unknown>) => {
    lines.push({ level, message, ...(meta ? { meta } : {}) });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export function tempDir(): { dir: string; file(name: string, text: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'wanctl-rc-'));
  return {
    dir,
    file(name, text) {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
