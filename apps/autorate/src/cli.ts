#!/usr/bin/env node
/** wanctl-autorate: the CAKE rate controller daemon (see `wanctl-autorate --help`). */
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`wanctl-autorate: fatal: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
