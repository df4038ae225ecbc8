/**
 * The linux-cake shaper is a drop-in for the part of RouterClient autorate uses: checked by the
 * compiler (typecheck runs on tests) and by calling through the RouterClient-typed view.
 */
import { LinuxCakeClient } from '@wanctl/linux-cake';
import { describe, expect, it } from 'vitest';
import type { RouterClient } from '../src/index.js';

type AutorateSubset = Pick<RouterClient, 'setQueueLimits' | 'getQueueStats' | 'close'> & {
  readonly activeTransport: string;
};

describe('LinuxCakeClient as the RouterClient subset autorate uses', () => {
  it('fits the type and refuses names it does not shape, like RouterOS refuses a missing queue', async () => {
    const shaper: AutorateSubset = new LinuxCakeClient({
      queues: { download: 'WAN-Download-1', upload: 'WAN-Upload-1' },
      params: {
        downloadInterface: 'eth1',
        uploadInterface: 'eth0',
        downloadQdisc: 'cake',
        uploadQdisc: 'cake',
        overhead: undefined,
        mpu: undefined,
        memlimit: undefined,
        rttMs: undefined,
        diffserv: undefined,
        ackFilter: undefined,
        splitGso: undefined,
        ecn: undefined,
        nat: undefined,
        wash: undefined,
        ingress: undefined,
        tbfLatencyMs: 5,
      },
    });
    expect(shaper.activeTransport).toBe('linux-cake');
    await expect(shaper.getQueueStats(['WAN-Download-2'])).rejects.toMatchObject({
      code: 'WANCTL_TC_UNKNOWN_QUEUE',
    });
    await shaper.close();
  });
});
