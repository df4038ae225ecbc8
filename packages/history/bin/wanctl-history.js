#!/usr/bin/env node
// wanctl-history: the command npm links (package.json "bin"). It is committed, not built, so that
// "npm ci" links it before anything is compiled; it runs ../dist/cli.js, the built CLI.
import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write(
    `wanctl-history: ${cli} is missing: wanctl is not built yet. Run "npm run build" (or "npx turbo run build") in the wanctl checkout, then retry.\n`,
  );
  process.exit(1);
}
// The CLI sees itself as the script that was run, as with "node dist/cli.js".
process.argv[1] = realpathSync(cli);
await import(pathToFileURL(process.argv[1]).href);
