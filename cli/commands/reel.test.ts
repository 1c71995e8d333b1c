/** The real CLI process: `node dist/cli/vidmux.mjs reel ...` (the built bin) against the VIDIO fake. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVidioFake, VIDIO_CREATOR_KEY, VIDIO_TEST_KEY, type VidioFake } from '../../test/fakes/vidio-server';
import { VIDMUX_BIN } from '../../test/fixtures/cli-bin';
import { ffprobeJson, sampleMp4 } from '../../test/fixtures/ffmpeg';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'vidmux-cli-reel-'));
let vidio: VidioFake;
let video: string;

beforeAll(async () => {
  // One status per poll, and a fast poll: the whole reel takes a second.
  vidio = await startVidioFake({ advance: 'poll', realTime: true });
  video = await sampleMp4();
});
afterAll(async () => {
  await vidio?.close();
  rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [VIDMUX_BIN, 'reel', ...args], { cwd: root, env: { ...process.env, VIDIO_API_KEY: VIDIO_TEST_KEY, VIDIO_BASE_URL: vidio.baseUrl, VIDIO_POLL_MS: '20', ...env } }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
/** The one error line (progress lines may come before it on stderr). */
const errorLines = (stderr: string) => stderr.trim().split('\n').filter((l) => l.startsWith('error:'));
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const visible = (d: string) => readdirSync(d).filter((f) => !f.startsWith('.'));

describe('vidmux reel (CLI)', () => {
  it('makes a 15 s portrait reel with music and saves it, printing {file, job_id, outputs}', async () => {
    const out = join(dir, 'ok');
    const r = await cli([video, '--category', 'travel', '--length', '15', '--aspect', 'portrait', '--music', 'sports', '--music-volume', '40', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const res = JSON.parse(lines[0]!);
    expect(Object.keys(res)).toEqual(['file', 'job_id', 'outputs']);
    expect(res.file.startsWith(out)).toBe(true);
    expect(res.outputs.length).toBeGreaterThan(0);
    expect(visible(out)).toEqual([res.file.slice(out.length + 1)]);
    const probe = await ffprobeJson(res.file);
    const v = probe.streams.find((s: { codec_type: string }) => s.codec_type === 'video');
    expect(v.height).toBeGreaterThan(v.width);
    // VIDIO got the file byte for byte, the documented parameters, and the key never left its host.
    const job = vidio.jobs.get(res.job_id)!;
    expect(job).toBeDefined();
    const upload = [...vidio.uploads.values()].at(-1)!;
    expect(upload.md5).toBe(md5(readFileSync(video)));
    expect(vidio.keyLeaks()).toEqual([]);
  });

  it('a bad key: exit 1, one line naming the key, no file', async () => {
    const out = join(dir, 'badkey');
    const r = await cli([video, '--category', 'travel', '--length', '15', '--aspect', 'portrait', '--out', out], { VIDIO_API_KEY: 'vidio_wrong_key_0000' });
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^error: .*key/i);
    expect(visible(out)).toEqual([]);
  });

  it('a plan without API access is told so', async () => {
    const out = join(dir, 'plan');
    const r = await cli([video, '--category', 'travel', '--length', '15', '--aspect', 'square', '--out', out], { VIDIO_API_KEY: VIDIO_CREATOR_KEY });
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^error: .*plan/i);
    expect(visible(out)).toEqual([]);
  });

  it('a file that is not a video: exit 1, one line with VIDIO’s reason, no file', async () => {
    const out = join(dir, 'notvideo');
    const r = await cli([join(root, 'package.json'), '--category', 'travel', '--length', '15', '--aspect', 'landscape', '--out', out]);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^error: .*package\.json/);
    expect(visible(out)).toEqual([]);
  });

  it('VIDIO_CONTRACT corrects the inferred contract; a bad one is a clear error', async () => {
    const out = join(dir, 'contract');
    const bad = await cli([video, '--category', 'travel', '--length', '15', '--aspect', 'portrait', '--out', out], { VIDIO_CONTRACT: '{"jobPath":"/jobs"}' });
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n').at(-1)).toMatch(/^error: VIDIO_CONTRACT jobPath: The job path must hold \{id\}/);
    // The fake's own paths, written out: the same reel is made.
    const ok = await cli([video, '--category', 'travel', '--length', '15', '--aspect', 'square', '--out', out, '--json'], { VIDIO_CONTRACT: '{"keyHeader":"X-API-Key","jobPath":"/jobs/{id}"}' });
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).file).toMatch(/square reel/);
  });

  it('usage errors exit 2; a missing key exits 1', async () => {
    const bad = await cli([video, '--category', 'travel', '--length', '15', '--aspect', 'diagonal', '--out', dir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--aspect must be one of landscape, portrait, square/);
    const noKey = await cli([video, '--category', 'travel', '--length', '15', '--aspect', 'portrait', '--out', dir], { VIDIO_API_KEY: '' });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/VIDIO_API_KEY is not set/);
  });
});
