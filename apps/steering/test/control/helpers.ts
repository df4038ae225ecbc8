import {
  type CakeSnapshot,
  resolveSteeringParams,
  type SteeringParams,
  type SteeringParamsInput,
} from '../../src/control/index.js';

export function params(over: Partial<SteeringParamsInput> = {}): SteeringParams {
  return resolveSteeringParams({ primaryWan: 'wan1', intervalSeconds: 2, historySize: 50, ...over });
}

/** Builds cumulative CAKE snapshots: each call adds `drops` to the running drop counter. */
export function cakeSeq(start = 1000): (drops: number, queued: number) => CakeSnapshot {
  let dropped = start;
  let packets = 100000;
  return (drops, queued) => {
    dropped += drops;
    packets += 500;
    return { dropped, queued_packets: queued, packets, bytes: packets * 1000 };
  };
}
