/**
 * `npm run bench:cli-start`: how long `vidmux --help` takes as a whole process, start to exit
 * (hyperfine-style: one untimed warm-up each, then RUNS rounds interleaved so that load from
 * anything else on the machine hits every row alike; medians). Rows:
 * - `node -e 0`: what any Node process costs here (the floor);
 * - the bin (`node dist/cli/vidmux.mjs --help`): what a user runs, with its source-checkout
 *   freshness check (one stat per source);
 * - the bundle alone (`node dist/cli/main.mjs --help`): the same without that check;
 * - `node scripts/cli.mjs --help`: what `npm run cli` runs (npm's own start, ~0.3 s, not counted);
 * - `tsx cli/index.ts --help`: the old way, transpiling at every start.
 * Target (issue 15): the bin under 150 ms. Wall time is measured here around each process; CPU time
 * (user + system, from /usr/bin/time) is shown beside it because it moves less than wall time when
 * something else loads the machine.
 */
import { spawnSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { BIN, ensureFresh, MAIN, ROOT } from '../scripts/build-cli.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const TARGET_MS = 150;

const rows: Array<{ name: string; cmd: string[] }> = [
  { name: 'node -e 0 (floor)', cmd: [process.execPath, '-e', '0'] },
  { name: `node ${relative(ROOT, BIN)} --help (bin)`, cmd: [process.execPath, BIN, '--help'] },
  { name: `node ${relative(ROOT, MAIN)} --help`, cmd: [process.execPath, MAIN, '--help'] },
  { name: 'node scripts/cli.mjs --help (npm run cli)', cmd: [process.execPath, join(ROOT, 'scripts/cli.mjs'), '--help'] },
  { name: 'tsx cli/index.ts --help (before)', cmd: [join(ROOT, 'node_modules/.bin/tsx'), join(ROOT, 'cli/index.ts'), '--help'] },
];

function once(cmd: string[]): { wall: number; cpu: number } {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'VIDMUX_CPU=%U %S', ...cmd], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const wall = performance.now() - t0;
  const m = /VIDMUX_CPU=([\d.]+) ([\d.]+)/.exec(String(r.stderr));
  if (r.status !== 0 || !m) throw new Error(`${cmd.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { wall, cpu: (Number(m[1]) + Number(m[2])) * 1000 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

await ensureFresh();
for (const r of rows) once(r.cmd);
const times = rows.map(() => [] as number[]);
const cpus = rows.map(() => [] as number[]);
for (let i = 0; i < RUNS; i++) {
  rows.forEach((r, j) => {
    const t = once(r.cmd);
    times[j]!.push(t.wall);
    cpus[j]!.push(t.cpu);
  });
}
const floor = median(times[0]!);
const lines = rows.map((r, j) => {
  const m = median(times[j]!);
  const xs = times[j]!;
  return `| ${r.name.padEnd(44)} | ${`${m.toFixed(0)} ms`.padStart(7)} | ${`${(m - floor).toFixed(0)} ms`.padStart(10)} | ${`${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)} ms`.padStart(11)} | ${`${median(cpus[j]!).toFixed(0)} ms`.padStart(8)} |`;
});
const bin = median(times[1]!);
process.stdout.write(
  [
    `CLI start to exit, medians of ${RUNS} interleaved runs (after one warm-up each)`,
    `| ${'command'.padEnd(44)} | median  | over floor | min-max     | CPU      |`,
    `|${'-'.repeat(46)}|---------|------------|-------------|----------|`,
    ...lines,
    `target: the bin's --help under ${TARGET_MS} ms: ${bin.toFixed(0)} ms, ${bin < TARGET_MS ? 'met' : 'NOT met'}`,
    '',
  ].join('\n'),
);
