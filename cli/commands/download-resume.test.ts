/**
 * A CLI download killed halfway (SIGKILL: no chance to clean up) is continued by running the same
 * command again: the bytes after the restart are well under the whole file (counted at the
 * server), and the saved file equals the source. A failed download leaves nothing behind.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResumableFileSink } from '../../lib/node/files';
import { startMediaServer, type MediaServer } from '../../test/fakes/media-server';
import { VIDMUX_BIN } from '../../test/fixtures/cli-bin';

const ROOT = resolve(__dirname, '../..');
const FTYP = Buffer.from([0, 0, 0, 24, ...Buffer.from('ftypisom'), 0, 0, 2, 0, ...Buffer.from('isommp41')]);
const SIZE = 64 * 1024 * 1024;
const DATA = Buffer.concat([FTYP, randomBytes(SIZE - FTYP.length)]);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
let server: MediaServer;

beforeAll(async () => {
  // 4 MB/s per connection: the download takes seconds, so it can be killed halfway.
  server = await startMediaServer({ bytesPerSecond: 4 * 1024 * 1024 });
  await server.addFile('big.mp4', DATA);
});
afterAll(() => server.close());

function start(args: string[]) {
  const child = spawn(process.execPath, [VIDMUX_BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((r) => child.on('close', (code, signal) => r({ code, signal, stdout, stderr })));
  return { child, done };
}

/** Waits until the part record says at least `bytes` are on disk; returns the record's path. */
async function partRecord(dir: string, bytes: number): Promise<string> {
  for (let i = 0; i < 600; i++) {
    const names = await readdir(dir).catch(() => [] as string[]);
    const rec = names.find((n) => n.endsWith('.part.json'));
    if (rec) {
      const saved = JSON.parse(await readFile(join(dir, rec), 'utf8').catch(() => '{}')) as { bytes?: number };
      if ((saved.bytes ?? 0) >= bytes) return join(dir, rec);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no part record appeared');
}

const served = (from: number) => server.requests.slice(from).reduce((n, r) => n + r.bytesSent, 0);

describe('vidmux download: resume after a kill', () => {
  it('SIGKILL halfway, then the same command: continues from the part file, and the file equals the source', async () => {
    const out = await mkdtemp(join(tmpdir(), 'vidmux-resume-'));
    const args = ['download', server.fileUrl('big.mp4'), '--out', out, '--json'];
    const first = start(args);
    await partRecord(out, 16 * 1024 * 1024);
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    expect((await readdir(out)).filter((n) => n.endsWith('.part')).length).toBe(1);

    const from = server.requests.length;
    const second = await start(args).done;
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/continuing an interrupted download from \d+(\.\d+)? MB/);
    const { file } = JSON.parse(second.stdout) as { file: string };
    expect(sha(await readFile(file))).toBe(sha(DATA));
    const after = served(from);
    expect(after).toBeLessThan(SIZE * 0.8);
    expect(after).toBeGreaterThan(0);
    // Nothing of the job is left beside the file.
    expect((await readdir(out)).filter((n) => n.startsWith('.vidmux-'))).toEqual([]);
    await rm(out, { recursive: true, force: true });
  }, 120_000);

  it('Ctrl-C keeps the part file and says how to continue; a failure removes it', async () => {
    const out = await mkdtemp(join(tmpdir(), 'vidmux-resume-'));
    const args = ['download', server.fileUrl('big.mp4'), '--out', out];
    const first = start(args);
    await partRecord(out, 16 * 1024 * 1024);
    first.child.kill('SIGINT');
    const r = await first.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/Interrupted: run the same command again to continue/);
    expect((await readdir(out)).filter((n) => n.startsWith('.vidmux-')).sort()).toEqual([expect.stringMatching(/\.part$/), expect.stringMatching(/\.part\.json$/)]);

    // The server now refuses the file: the run fails, and nothing of it is left.
    const failing = await start(['download', server.fileUrl('big.mp4', { status: 404, after: 0 }), '--out', out]).done;
    expect(failing.code).toBe(1);
    // The failed job left nothing; the interrupted one's part file still waits.
    expect((await readdir(out)).filter((n) => n.startsWith('.vidmux-')).length).toBe(2);
    await rm(out, { recursive: true, force: true });
  }, 120_000);

  it('a part file of another version of the file is not continued: it starts over', async () => {
    const out = await mkdtemp(join(tmpdir(), 'vidmux-resume-'));
    const path = join(out, '.vidmux-x-main0');
    const keep = { keep: () => true };
    const a = new ResumableFileSink(path, keep);
    await a.write(0, Buffer.alloc(1000, 1));
    await a.checkpoint(1000, { size: 5000, etag: '"v1"', lastModified: null });
    await a.abort();
    expect(existsSync(`${path}.part`)).toBe(true);
    const b = new ResumableFileSink(path, keep);
    expect(await b.resumeFrom({ size: 5000, etag: '"v1"', lastModified: null })).toEqual({ offset: 1000, unverified: false });
    const c = new ResumableFileSink(path, { keep: () => false });
    expect(await c.resumeFrom({ size: 5000, etag: '"v2"', lastModified: null })).toEqual({ offset: 0, unverified: false });
    await c.abort();
    expect(await readdir(out)).toEqual([]);
    await rm(out, { recursive: true, force: true });
  });
});

describe('vidmux download: time limits from flags', () => {
  it('--speed-limit / --speed-time: a dripping server is given up, naming the limit; bad values are a usage error', async () => {
    const out = await mkdtemp(join(tmpdir(), 'vidmux-limits-'));
    const drip = await start(['download', server.fileUrl('big.mp4', { drip: 2000, after: 1 }), '--out', out, '--speed-limit', '50000', '--speed-time', '1', '--give-up', '10']).done;
    expect(drip.code).toBe(1);
    expect(drip.stderr).toMatch(/sent less than 50000 bytes\/s for 1 s \(the low-speed limit\)/);
    expect((await readdir(out)).filter((n) => n.startsWith('.vidmux-'))).toEqual([]);
    const bad = await start(['download', server.fileUrl('big.mp4'), '--out', out, '--speed-time', '0']).done;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--speed-time 1 to 600 seconds/);
    await rm(out, { recursive: true, force: true });
  }, 120_000);
});
