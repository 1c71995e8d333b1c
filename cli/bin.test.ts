/** The shipped artefact: package.json's `bin` is the built bundle, and it starts under plain node. */
import { execFile } from 'node:child_process';
import { accessSync, constants, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { staleReason } from '../scripts/build-cli.mjs';
import { VIDMUX_BIN } from '../test/fixtures/cli-bin';

const ROOT = resolve(import.meta.dirname, '..');

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(file, args, { cwd: ROOT }, (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

describe('vidmux bin', () => {
  it("package.json's bin points at the built, executable bundle, which is current", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
    expect(pkg.bin?.vidmux).toBeDefined();
    const bin = resolve(ROOT, pkg.bin!.vidmux!);
    expect(bin).toBe(VIDMUX_BIN);
    expect(statSync(bin).isFile()).toBe(true);
    expect(() => accessSync(bin, constants.X_OK)).not.toThrow();
    expect(readFileSync(bin, 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
    expect(staleReason()).toBeUndefined();
  });

  it('node <bin> --help exits 0 and prints the usage on stdout', async () => {
    const r = await run(process.execPath, [VIDMUX_BIN, '--help']);
    expect(r).toEqual({ code: 0, stdout: 'usage: vidmux <mux|download|info|reel> [options]\n', stderr: '' });
  });

  it('runs as an executable too (its #! line), and without a command prints the usage on stderr, exit 2', async () => {
    const r = await run(VIDMUX_BIN, []);
    expect(r).toEqual({ code: 2, stdout: '', stderr: 'usage: vidmux <mux|download|info|reel> [options]\n' });
  });

  it('keeps the commands lazy: the entry loads no chunk until a command runs; mux never loads zod', () => {
    const main = readFileSync(join(ROOT, 'dist/cli/main.mjs'), 'utf8');
    expect(main).not.toMatch(/^import /m);
    const chunks = [...main.matchAll(/import\("\.\/(chunks\/(\w+)-\w+\.mjs)"\)/g)];
    expect(chunks.map((m) => m[2]).sort()).toEqual(['download', 'info', 'mux', 'reel']);
    // Everything mux pulls in, statically, from its chunk.
    const seen = new Set<string>();
    const visit = (rel: string) => {
      if (seen.has(rel)) return;
      seen.add(rel);
      const code = readFileSync(join(ROOT, 'dist/cli', rel), 'utf8');
      for (const m of code.matchAll(/^(?:import|export)\b[^;]*?"\.\/([^"]+\.mjs)";$/gm)) visit(`chunks/${m[1]}`);
    };
    visit(chunks.find((m) => m[2] === 'mux')![1]!);
    const loaded = [...seen].map((rel) => readFileSync(join(ROOT, 'dist/cli', rel), 'utf8')).join('\n');
    expect(loaded).toContain('lib/media/');
    expect(loaded).not.toContain('node_modules/zod/');
  });
});

describe('vidmux bin in a checkout: never runs a stale bundle', () => {
  // A checkout of its own (the build script, a one-file CLI, this node_modules), so that editing its
  // source races with nothing else.
  const dir = mkdtempSync(join(tmpdir(), 'vidmux-bin-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const say = (text: string) => writeFileSync(join(dir, 'cli/index.ts'), `process.stdout.write(${JSON.stringify(text)} as string);\n`);

  it('npm run cli builds a missing bundle; the bin rebuilds when a source is newer, says so, and runs the new code', async () => {
    for (const d of ['scripts', 'cli']) mkdirSync(join(dir, d));
    for (const f of ['scripts/build-cli.mjs', 'scripts/cli.mjs']) copyFileSync(join(ROOT, f), join(dir, f));
    for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(ROOT, f), join(dir, f));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    say('v1');
    const bin = join(dir, 'dist/cli/vidmux.mjs');

    // A fresh clone installed without scripts: `npm run cli` (scripts/cli.mjs) builds first.
    const first = await run(process.execPath, [join(dir, 'scripts/cli.mjs')]);
    expect(first).toMatchObject({ code: 0, stdout: 'v1' });
    expect(first.stderr).toMatch(/^vidmux: rebuilt the CLI bundle \(no CLI bundle yet\)/);
    expect(await run(process.execPath, [bin])).toEqual({ code: 0, stdout: 'v1', stderr: '' });

    // An edit (or a git pull) after the build.
    say('v2');
    const r = await run(process.execPath, [bin]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('v2');
    expect(r.stderr).toMatch(/^vidmux: rebuilt the CLI bundle \(cli\/index\.ts changed\) in [\d.]+ s\n$/);
    // Current again: no rebuild, nothing on stderr.
    expect(await run(process.execPath, [bin])).toEqual({ code: 0, stdout: 'v2', stderr: '' });
  });
});
