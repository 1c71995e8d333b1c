#!/usr/bin/env node
/**
 * `npm run build:cli` (also run by `postinstall`): bundles the CLI with esbuild, so that `vidmux`
 * starts under plain `node` instead of transpiling TypeScript at every run. Plain JavaScript so it
 * runs at install time without tsx.
 *
 * Output, in dist/cli/:
 * - vidmux.mjs: the package's `bin`, a few lines: in a source checkout it first checks that no
 *   source is newer than the bundle (one stat per file, ~3 ms; it loads this script only to
 *   rebuild), so a stale bundle after `git pull` never runs; then it imports main.mjs. Outside a
 *   checkout (no scripts/build-cli.mjs beside it) it costs one existsSync.
 * - main.mjs: cli/index.ts bundled (ESM, node20); chunks/: one chunk per lazily loaded command and
 *   per shared engine (code splitting keeps `import('./commands/mux.js')` lazy: `vidmux --help`
 *   loads under 1 kB, `vidmux mux` never parses zod or the providers).
 * - build.json: when the build started (by the file system's clock) and the files to watch: the
 *   repo files that went into it, package.json, package-lock.json and this script. The bundle is
 *   stale when one of them is gone or its mtime is not older than the start.
 *
 * Deterministic: the same sources give byte-identical files (content-hashed chunk names, paths in
 * comments relative to the repo root, no timestamps in the bundle). Files are written to a
 * temporary name and renamed, so a process that starts during a rebuild never reads half a file.
 *
 * Usage: `node scripts/build-cli.mjs [--if-stale] [--quiet] [--optional]`; `--optional` (postinstall)
 * makes a missing esbuild (an install without devDependencies) a warning: `npm run cli` builds later.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
export const ROOT = resolve(dirname(SELF), '..');
export const OUT_DIR = join(ROOT, 'dist/cli');
/** The `bin` (package.json points here). */
export const BIN = join(OUT_DIR, 'vidmux.mjs');
/** The bundled cli/index.ts. */
export const MAIN = join(OUT_DIR, 'main.mjs');
const RECORD = join(OUT_DIR, 'build.json');
/** Files outside the bundle's inputs whose change means a rebuild (dependencies, this script), watched when there. */
const ALWAYS = ['package.json', 'package-lock.json', 'scripts/build-cli.mjs'];

// The same test as staleReason(), inlined: loading this script would cost more than the check.
const LAUNCHER = `#!/usr/bin/env node
// The vidmux bin, written by scripts/build-cli.mjs (do not edit). In a source checkout, rebuild
// first when a watched file is not older than the bundle; then run the bundled CLI (main.mjs).
import { existsSync, readFileSync, statSync } from 'node:fs';
const root = new URL('../../', import.meta.url);
const builder = new URL('scripts/build-cli.mjs', root);
if (existsSync(builder)) {
  let fresh = false;
  try {
    const { startedAt, watch } = JSON.parse(readFileSync(new URL('build.json', import.meta.url), 'utf8'));
    fresh = watch.every((f) => (statSync(new URL(f, root), { throwIfNoEntry: false })?.mtimeMs ?? Infinity) < startedAt);
  } catch {}
  if (!fresh) await (await import(builder.href)).ensureFresh();
}
await import('./main.mjs');
`;

/** Why the bundle must be rebuilt, or undefined when it is current. Costs one stat per source. */
export function staleReason() {
  let record;
  try {
    record = JSON.parse(readFileSync(RECORD, 'utf8'));
  } catch {
    return 'no CLI bundle yet';
  }
  if (!existsSync(MAIN) || !existsSync(BIN) || !Array.isArray(record.watch)) return 'the CLI bundle is incomplete';
  for (const file of record.watch) {
    const st = statSync(join(ROOT, file), { throwIfNoEntry: false });
    if (!st) return `${file} is gone`;
    // `>=`: a save in the same clock tick as the build's start may be after it (one extra build, never a stale run).
    if (st.mtimeMs >= record.startedAt) return `${file} changed`;
  }
  return undefined;
}

/** Writes `data` to `path` through a temporary file and a rename (readers see old or new, whole). */
function writeAtomic(path, data, mode) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data, mode ? { mode } : undefined);
  renameSync(tmp, path);
}

/** Bundles the CLI into dist/cli. Returns the build's duration in ms. */
export async function buildCli() {
  const t0 = performance.now();
  // Taken before esbuild reads anything, from the file system's own clock (the one that stamps the
  // sources, coarser than Date.now()): a source saved during the build counts as newer.
  mkdirSync(OUT_DIR, { recursive: true });
  const probe = join(OUT_DIR, `.started.${process.pid}`);
  writeFileSync(probe, '');
  const startedAt = statSync(probe).mtimeMs;
  rmSync(probe);
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: { main: 'cli/index.ts' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outdir: OUT_DIR,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    // Nothing external but Node's builtins: every dependency is bundled (no node_modules needed).
    external: [],
    // The TypeScript settings that change the output, given here: the repo's tsconfig.json extends
    // .wxt/tsconfig.json, which only `wxt prepare` writes (a fresh clone has none yet).
    tsconfigRaw: { compilerOptions: { useDefineForClassFields: true } },
    metafile: true,
    write: false,
    logLevel: 'warning',
  });
  const written = new Set();
  // Chunks first, main.mjs after them: a process starting meanwhile finds whatever main.mjs imports.
  const files = [...result.outputFiles].sort((a, b) => Number(a.path === MAIN) - Number(b.path === MAIN));
  for (const file of files) {
    writeAtomic(file.path, file.contents);
    written.add(file.path);
  }
  // Chunks of earlier builds (their names carry the old content hash).
  const chunks = join(OUT_DIR, 'chunks');
  for (const name of existsSync(chunks) ? readdirSync(chunks) : []) {
    if (!written.has(join(chunks, name))) rmSync(join(chunks, name), { force: true });
  }
  writeAtomic(BIN, LAUNCHER, 0o755);
  const inputs = Object.keys(result.metafile.inputs)
    .map((p) => relative(ROOT, resolve(ROOT, p)))
    .filter((p) => !p.startsWith('..') && !p.split(sep).includes('node_modules'))
    .map((p) => p.split(sep).join('/'))
    .sort();
  const watch = [...inputs, ...ALWAYS.filter((f) => existsSync(join(ROOT, f)))];
  writeAtomic(RECORD, `${JSON.stringify({ startedAt, watch }, null, 1)}\n`);
  return performance.now() - t0;
}

/** Rebuilds when stale (saying why on stderr); a checkout without esbuild keeps its bundle, loudly. */
export async function ensureFresh({ quiet = false } = {}) {
  const why = staleReason();
  if (!why) return false;
  try {
    const ms = await buildCli();
    if (!quiet) process.stderr.write(`vidmux: rebuilt the CLI bundle (${why}) in ${(ms / 1000).toFixed(1)} s\n`);
    return true;
  } catch (err) {
    if (!existsSync(MAIN)) throw err;
    process.stderr.write(`vidmux: warning: the CLI bundle is stale (${why}) and could not be rebuilt: ${err instanceof Error ? err.message : String(err)}\n`);
    return false;
  }
}

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  const args = process.argv.slice(2);
  const quiet = args.includes('--quiet');
  let esbuildThere = true;
  if (args.includes('--optional')) await import('esbuild').catch(() => (esbuildThere = false));
  if (!esbuildThere) process.stderr.write('vidmux: esbuild is not installed (no devDependencies?): the CLI bundle is not built yet\n');
  else if (args.includes('--if-stale')) await ensureFresh({ quiet });
  else {
    const ms = await buildCli();
    if (!quiet) process.stderr.write(`built ${relative(ROOT, BIN)} (+ main.mjs, chunks/) in ${(ms / 1000).toFixed(1)} s\n`);
  }
}
