#!/usr/bin/env node
/** wanctl-autorate: the CAKE rate controller daemon (see `wanctl-autorate --help`). */
import { runCli } from '@wanctl/runtime';
import { main } from './main.js';

void runCli('wanctl-autorate', () => main(process.argv.slice(2)));
