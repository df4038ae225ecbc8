#!/usr/bin/env node
/** wanctl-steering: the latency-sensitive traffic steering daemon (see `wanctl-steering --help`). */
import { runCli } from '@wanctl/runtime';
import { main } from './main.js';

void runCli('wanctl-steering', () => main(process.argv.slice(2)));
