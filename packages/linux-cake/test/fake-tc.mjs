#!/usr/bin/env node
// A stand-in for `tc -s -j -force -batch -` in tests that need no root: it answers
// `qdisc show dev X` from a state file (real tc output), applies the rate of
// `qdisc change|replace ... cake bandwidth Nbit` / `tbf rate Nbit` to it, and fails like tc:
// unknown device → `Cannot find device "X"` + `Command failed -:N`. FAKE_TC_HANG=substring stops
// answering from the first command containing it; FAKE_TC_FREEZE=dev accepts writes to dev
// without applying them (a kernel that does not hold what it was told).
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const state = JSON.parse(readFileSync(process.env.FAKE_TC_STATE, 'utf8'));
const hang = process.env.FAKE_TC_HANG;
if (!process.argv.includes('-batch')) {
  process.stderr.write('fake tc: only -batch is supported\n');
  process.exit(1);
}
let n = 0;
let hung = false;
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  n++;
  if (hung || (hang && line.includes(hang))) {
    hung = true;
    return;
  }
  const a = line.split(' ');
  const dev = a[a.indexOf('dev') + 1];
  const entries = state[dev];
  if (entries === undefined) {
    process.stdout.write(`Cannot find device "${dev}"\nCommand failed -:${n}\n`);
    return;
  }
  if (a[1] === 'show') {
    process.stdout.write(`${JSON.stringify(entries)}\n`);
    return;
  }
  if (process.env.FAKE_TC_FREEZE === dev) return;
  const root = entries.find((e) => e.root);
  const i = a.indexOf('bandwidth') !== -1 ? a.indexOf('bandwidth') : a.indexOf('rate');
  if (root && i !== -1) {
    const bytes = Math.floor(Number(a[i + 1].replace(/bit$/, '')) / 8);
    if (root.kind === 'cake') root.options.bandwidth = bytes;
    else root.options.rate = bytes;
  }
});
