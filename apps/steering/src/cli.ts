#!/usr/bin/env node
/** wanctl-steering: the latency-sensitive traffic steering daemon (see `wanctl-steering --help`). */
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`wanctl-steering: fatal: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
