/**
 * `vidmux download`'s last step, in this process (so a final rename can be made to fail): the
 * saved files are placed all or none. A rename that fails, of the video or of a subtitle file
 * after the video was placed, ends in exit 1 with nothing in --out: no video, no temporary file,
 * no folder made for them.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startVidPickrFake, VIDPICKR_TEST_KEY, type VidPickrFake } from '../../test/fakes/vidpickr-server';
import { run } from './download';

/** Final renames whose target matches this fail (as a full disk or a vanished folder would make them). */
const failing: { target: RegExp | null } = { target: null };

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const rename: typeof real.rename = async (from, to) => {
    if (failing.target?.test(String(to))) throw Object.assign(new Error(`EIO: i/o error, rename '${String(from)}' -> '${String(to)}'`), { code: 'EIO' });
    return real.rename(from, to);
  };
  return { ...real, rename, default: { ...real, rename } };
});

const YT = 'https://www.youtube.com/watch?v=dQw4w9WgXcQ';
let vidpickr: VidPickrFake;
let out: string;

beforeAll(async () => {
  vidpickr = await startVidPickrFake();
  vi.stubEnv('VIDPICKR_API_KEY', VIDPICKR_TEST_KEY);
  vi.stubEnv('VIDPICKR_BASE_URL', vidpickr.baseUrl);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await vidpickr?.close();
});
beforeEach(async () => {
  out = await mkdtemp(join(tmpdir(), 'vidmux-dl-place-'));
});
afterEach(async () => {
  failing.target = null;
  vi.restoreAllMocks();
  await rm(out, { recursive: true, force: true });
});

/** Runs the command in this process; stdout and stderr are captured. */
async function download(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (stdout.push(String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (stderr.push(String(chunk)), true));
  const code = await run(args);
  vi.restoreAllMocks();
  return { code, stdout: stdout.join(''), stderr: stderr.join('') };
}

/** The `error: ...` lines among the progress lines on stderr. */
const errors = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('error:'));

const args = (extra: string[] = []) => [YT, '--provider', 'vidpickr', '--quality', 'audio', '--subs', 'en', '--out', out, '--json', ...extra];

describe('vidmux download: placing the files', () => {
  it('places the audio and its subtitles (the path the failures below break)', async () => {
    const r = await download(args());
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as { file: string; subtitles: string[] };
    expect(res.subtitles).toHaveLength(1);
    expect((await readdir(out)).sort()).toEqual([res.file, ...res.subtitles].map((f) => f.slice(out.length + 1)).sort());
  });

  it('a subtitle file that fails to move after the audio was placed: exit 1, and the audio is taken back', async () => {
    failing.target = /\.en\.srt$/;
    const r = await download(args(['--name', 'music/{title}.{ext}']));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(errors(r.stderr)).toEqual([expect.stringMatching(/^error: EIO: i\/o error, rename .*\.en\.srt' \[download_failed\]$/)]);
    expect(await readdir(out)).toEqual([]);
  });

  it('the audio failing to move: exit 1, no temporary file and no folder left', async () => {
    failing.target = /\.m4a$/;
    const r = await download(args(['--name', 'music/{title}.{ext}']));
    expect(r.code).toBe(1);
    expect(errors(r.stderr)).toEqual([expect.stringMatching(/^error: EIO: i\/o error, rename .*\.m4a' \[download_failed\]$/)]);
    expect(await readdir(out)).toEqual([]);
  });
});
