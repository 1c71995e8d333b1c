/** The real CLI process: `tsx cli/index.ts mux ...`. */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { audioInputs, videoInputs } from '../../test/fixtures/media-matrix';

const root = resolve(import.meta.dirname, '../..');
const tsx = join(root, 'node_modules/.bin/tsx');
const dir = mkdtempSync(join(tmpdir(), 'vidmux-cli-mux-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(tsx, ['cli/index.ts', ...args], { cwd: root }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('vidmux mux (CLI)', () => {
  it('muxes video + audio and prints one JSON summary line', async () => {
    const out = join(dir, 'out.mp4');
    const r = await cli(['mux', '--video', await videoInputs.h264Bframes(), '--audio', await audioInputs.aac48Stereo(), '--out', out]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0]!);
    expect(summary.output).toBe(out);
    expect(summary.bytes).toBe(statSync(out).size);
    expect(summary.streams.map((s: { kind: string }) => s.kind)).toEqual(['video', 'audio']);
    expect(summary.duration).toBeCloseTo(2, 2);
  });

  it('accepts audio only', async () => {
    const out = join(dir, 'audio.m4a');
    const r = await cli(['mux', '--audio', await audioInputs.aac44Mono(), '--out', out]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).streams).toHaveLength(1);
  });

  it('exits non-zero with a one-line error and no output file on bad input', async () => {
    const out = join(dir, 'bad.mp4');
    const r = await cli(['mux', '--video', join(root, 'package.json'), '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: The video input is not a readable MP4/);
    expect(existsSync(out)).toBe(false);
  });

  it('exits 2 on usage errors', async () => {
    const r = await cli(['mux', '--video', 'x.mp4']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--out is required/);
  });
});
