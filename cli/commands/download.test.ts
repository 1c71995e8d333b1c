/** Runs the real CLI process (`npm run --silent cli -- download ...`) against the media fake. */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMediaServer, type MediaServer } from '../../test/fakes/media-server';
import { VIDMUX_BIN } from '../../test/fixtures/cli-bin';

const ROOT = resolve(__dirname, '../..');
// Starts like an MP4 (an `ftyp` box): a download is saved only if it looks like media.
const FTYP = Buffer.from([0, 0, 0, 24, ...Buffer.from('ftypisom'), 0, 0, 2, 0, ...Buffer.from('isommp41')]);
const DATA = Buffer.concat([FTYP, randomBytes(2 * 1024 * 1024 + 77)]);
let server: MediaServer;
let outDir: string;

beforeAll(async () => {
  server = await startMediaServer();
  await server.addFile('my clip.mp4', DATA);
  outDir = await mkdtemp(join(tmpdir(), 'vidmux-dl-'));
});
afterAll(async () => {
  await server.close();
  await rm(outDir, { recursive: true, force: true });
});

/** Runs the CLI the way users do; resolves with exit code and output (never rejects). */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [VIDMUX_BIN, ...args], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('vidmux download', () => {
  it('--json: downloads with ranges, prints exactly one {file, bytes} object', async () => {
    const url = server.fileUrl('my clip.mp4', { reset: 300_000, after: 1, times: 1 }); // one reset on the way
    const r = await cli(['download', url, '--out', outDir, '--json', '--chunk-size', '262144']);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]!) as { file: string; bytes: number };
    expect(out).toMatchObject({ file: join(outDir, 'my clip.mp4'), bytes: DATA.length, provider: 'page', format: { kind: 'video+audio', container: 'mp4', delivery: 'file' }, subtitles: [] });
    expect(sha(await readFile(out.file))).toBe(sha(DATA));
    expect(server.requests.some((q) => q.status === 206 && q.start !== null && q.start > 0)).toBe(true);
    // Nothing temporary left behind.
    expect((await readdir(outDir)).filter((f) => f.includes('.part'))).toEqual([]);
  });

  it('never overwrites: a second download gets a new name; progress goes to stderr', async () => {
    const r = await cli(['download', server.fileUrl('my clip.mp4', { cap: 2_000_000 }), '--out', outDir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/100\.0% 2\.10 MB of 2\.10 MB/);
    expect(r.stderr).toMatch(/saved .*my clip \(1\)\.mp4/);
    expect(sha(await readFile(join(outDir, 'my clip (1).mp4')))).toBe(sha(DATA));
  });

  it('failure: exit 1, one line on stderr, nothing on stdout, no file left', async () => {
    const before = await readdir(outDir);
    const r = await cli(['download', `${server.origin}/files/nope.mp4`, '--out', outDir, '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: .*has no such file \(404 Not Found\)/);
    expect(await readdir(outDir)).toEqual(before);
  });

  it('a failure in the middle deletes the partial file', async () => {
    const before = await readdir(outDir);
    const r = await cli(['download', server.fileUrl('my clip.mp4', { status: 404, after: 2 }), '--out', outDir, '--chunk-size', '262144']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: .*404/);
    expect(await readdir(outDir)).toEqual(before);
  });

  // The hostile-server cases of the fault table, through the CLI process itself.
  for (const [name, faults, said] of [
    ['an HTML error page at a .mp4 URL', { html: true }, /The server sent a web page instead of the video/],
    ['a web page served as video/mp4', { htmlAsVideo: true }, /The server sent a web page instead of the video/],
    ['a 200 with an empty body', { empty: true }, /The server sent an empty file instead of the video/],
    ['a file that changes and grows mid-download', { changeAfter: 3, grow: 4096 }, /changed on the server during the download and its size changed too/],
  ] as const) {
    it(`${name}: exit 1, the reason on one line, no file`, async () => {
      const before = await readdir(outDir);
      const r = await cli(['download', server.fileUrl('my clip.mp4', faults), '--out', outDir, '--chunk-size', '262144']);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n').at(-1)).toMatch(said);
      expect(await readdir(outDir)).toEqual(before);
    });
  }

  it('a file that changes mid-download (same size) is fetched again from byte 0: the new version, whole', async () => {
    const r = await cli(['download', server.fileUrl('my clip.mp4', { changeAfter: 3 }), '--out', outDir, '--json', '--chunk-size', '262144']);
    expect(r.code, r.stderr).toBe(0);
    const { file } = JSON.parse(r.stdout) as { file: string };
    expect(sha(await readFile(file))).toBe(sha(Buffer.from(DATA.map((b, i) => (i < 64 ? b : b ^ 0x5a)))));
  });

  it('bad usage: exit 2', async () => {
    expect((await cli(['download'])).code).toBe(2);
    expect((await cli(['download', 'ftp://x/y'])).code).toBe(2);
  });

});
