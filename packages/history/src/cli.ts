#!/usr/bin/env node
// wanctl-history: see cli-main.ts (`wanctl-history --help`).
import { runCli } from '@wanctl/runtime';
import { main } from './cli-main.js';

void runCli('wanctl-history', () => main(process.argv.slice(2)));
