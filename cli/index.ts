#!/usr/bin/env node
/**
 * `vidmux <command> ...` (the package's bin: dist/cli/vidmux.mjs, built by scripts/build-cli.mjs)
 * or `npm run --silent cli -- <command> ...`: the engine in Node for scripts and power users.
 * Each command lives in cli/commands/<name>.ts and exports `run(argv): Promise<number>` (exit code).
 * Output contract: results on stdout (one JSON object with --json), progress and errors on stderr.
 */
const commands: Record<string, () => Promise<{ run: (argv: string[]) => Promise<number> }>> = {
  mux: () => import('./commands/mux.js'),
  download: () => import('./commands/download.js'),
  info: () => import('./commands/info.js'),
  reel: () => import('./commands/reel.js'),
};

const USAGE = `usage: vidmux <${Object.keys(commands).join('|')}> [options]`;

async function main(): Promise<number> {
  const [name, ...argv] = process.argv.slice(2);
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const load = name ? commands[name] : undefined;
  if (!load) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const command = await load();
  return command.run(argv);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
