import { describe, expect, it } from 'vitest';
import { CakeDeltaTracker, checkCakeSnapshot } from '../../src/control/index.js';

describe('CakeDeltaTracker (D8)', () => {
  it('the first read only sets the reference: old drops are not new drops', () => {
    const t = new CakeDeltaTracker();
    const d = t.update({ dropped: 123456, queued_packets: 7, packets: 9e9, bytes: 9e12 });
    expect(d).toMatchObject({
      dropped: 0,
      packets: 0,
      bytes: 0,
      queued_packets: 7,
      firstRead: true,
      resets: [],
    });
  });

  it('later reads give the difference; queue depth is instantaneous', () => {
    const t = new CakeDeltaTracker();
    t.update({ dropped: 100, queued_packets: 0, packets: 1000, bytes: 100000 });
    const d = t.update({ dropped: 105, queued_packets: 60, packets: 1500, bytes: 160000 });
    expect(d).toMatchObject({ dropped: 5, packets: 500, bytes: 60000, queued_packets: 60, firstRead: false });
  });

  it('a counter that goes backwards is a reset, never negative drops, and re-bases the reference', () => {
    const t = new CakeDeltaTracker();
    t.update({ dropped: 500, queued_packets: 0, packets: 1000, bytes: 100000 });
    const reset = t.update({ dropped: 3, queued_packets: 2, packets: 10, bytes: 900 });
    expect(reset.dropped).toBe(0);
    expect(reset.packets).toBe(0);
    expect(reset.resets).toEqual(['dropped', 'packets', 'bytes']);
    const next = t.update({ dropped: 10, queued_packets: 2, packets: 20, bytes: 1900 });
    expect(next).toMatchObject({ dropped: 7, packets: 10, bytes: 1000, resets: [] });
  });

  it('reset() forgets the reference', () => {
    const t = new CakeDeltaTracker();
    t.update({ dropped: 5, queued_packets: 0, packets: 1, bytes: 1 });
    t.reset();
    expect(t.reference()).toBeNull();
    expect(t.update({ dropped: 50, queued_packets: 0, packets: 2, bytes: 2 }).firstRead).toBe(true);
  });

  it('checkCakeSnapshot names the bad field', () => {
    expect(checkCakeSnapshot({ dropped: 1, queued_packets: 2, packets: 3, bytes: 4 })).toBeNull();
    expect(checkCakeSnapshot({ dropped: '1', queued_packets: 2, packets: 3, bytes: 4 })).toContain(
      '"dropped"',
    );
    expect(checkCakeSnapshot({ dropped: 1, queued_packets: -2, packets: 3, bytes: 4 })).toContain(
      '"queued_packets"',
    );
    expect(checkCakeSnapshot(null)).not.toBeNull();
  });
});
