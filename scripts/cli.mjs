#!/usr/bin/env node
/**
 * `npm run cli -- <command> ...`: runs the CLI's bin (dist/cli/vidmux.mjs), building it first when
 * it is missing (a fresh clone installed with --ignore-scripts). The bin itself rebuilds when a
 * source is newer than the bundle (after `git pull` or an edit), so this never runs old code; a
 * rebuild takes about a second and says so on stderr.
 */
import { existsSync } from 'node:fs';

const bin = new URL('../dist/cli/vidmux.mjs', import.meta.url);
if (!existsSync(bin)) await (await import('./build-cli.mjs')).ensureFresh();
await import(bin.href);
