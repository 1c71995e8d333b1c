/** The real CLI process on HLS and DASH: a manifest URL, or a page whose player loads one. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStreamServer, type StreamServer } from '../../test/fakes/stream-server';
import { VIDMUX_BIN } from '../../test/fixtures/cli-bin';
import { dashTime, decodedMd5s, hlsFmp4WithAudio, hlsTs, referenceMd5s, type StreamFixture } from '../../test/fixtures/streams';

const ROOT = resolve(__dirname, '../..');
let server: StreamServer;
let outDir: string;
let pageDir: string;
let fmp4: StreamFixture;
let ts: StreamFixture;
let dash: StreamFixture;

beforeAll(async () => {
  [fmp4, ts, dash] = await Promise.all([hlsFmp4WithAudio(), hlsTs(), dashTime()]);
  server = await startStreamServer();
  for (const f of [fmp4, ts, dash]) server.mount(f.name, { dir: f.dir });
  outDir = await mkdtemp(join(tmpdir(), 'vidmux-cli-streams-'));
  // A page whose player is handed its manifest in script, as hls.js pages are.
  pageDir = await mkdtemp(join(tmpdir(), 'vidmux-cli-page-'));
  await writeFile(
    join(pageDir, 'watch.html'),
    `<!doctype html><title>Night sky timelapse</title><video id="v"></video><script>
      const hls = new Hls(); hls.loadSource("${server.url(ts.name, ts.manifest)}"); hls.attachMedia(document.getElementById('v'));
    </script>`,
  );
  server.mount('page', { dir: pageDir });
}, 180_000);
afterAll(async () => {
  await server?.close();
  await rm(outDir, { recursive: true, force: true });
  await rm(pageDir, { recursive: true, force: true });
});

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [VIDMUX_BIN, ...args], { cwd: ROOT, timeout: 90_000 }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function download(url: string, quality: string, extra: string[] = []): Promise<string> {
  const r = await cli(['download', url, '--quality', quality, '--out', outDir, '--json', ...extra]);
  expect(r.stderr).not.toMatch(/error/);
  expect(r.code).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return (JSON.parse(lines[0]!) as { file: string }).file;
}

async function expectRendition(file: string, f: StreamFixture, rendition: string): Promise<void> {
  expect(file).toMatch(/\.mp4$/);
  expect(await decodedMd5s(file, '0:v')).toEqual(await referenceMd5s(f, rendition, 'video'));
  expect(await decodedMd5s(file, '0:a')).toEqual(await referenceMd5s(f, rendition, 'audio'));
}

describe('vidmux on streams', () => {
  it('info lists the renditions of an HLS master playlist: resolution, bitrate, codec, audio language', async () => {
    const r = await cli(['info', server.url(fmp4.name, fmp4.manifest)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/360p · H\.264 · MP4 · \d+ kbps · English \(en\)/);
    expect(r.stdout).toMatch(/180p · H\.264 · MP4 · \d+ kbps · Français \(fr\)/);
    expect(r.stdout).toMatch(/Audio · English \(en\) · M4A/);
  });

  it('download of an HLS master (fMP4, separate audio): --quality, or an exact rendition and language by --format', async () => {
    const url = server.url(fmp4.name, fmp4.manifest);
    await expectRendition(await download(url, '360'), fmp4, '360p-en');
    const info = JSON.parse((await cli(['info', url, '--json'])).stdout) as { formats: Array<{ id: string; height: number | null; language: string | null }> };
    const pick = info.formats.find((f) => f.height === 180 && f.language === 'fr')!;
    await expectRendition(await download(url, 'best', ['--format', pick.id]), fmp4, '180p-fr');
  });

  it('download of a DASH manifest ($Time$): the best rendition', async () => {
    await expectRendition(await download(server.url(dash.name, dash.manifest), 'best'), dash, '360p');
  });

  it('download of a page whose script loads an HLS stream (MPEG-TS): named after the page', async () => {
    const file = await download(server.url('page', 'watch.html'), '720');
    expect(file).toBe(join(outDir, 'Night sky timelapse.mp4'));
    await expectRendition(file, ts, '360p');
  });
});
