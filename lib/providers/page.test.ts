import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoMedia, type DemoMedia } from '../../test/fakes/demo-media';
import { startDemoSite, type DemoSite, PLAIN_PAGE_TITLE } from '../../test/fakes/demo-site';
import { ffprobeJson } from '../../test/fixtures/ffmpeg';
import { NodeFileSink } from '../node/files';
import { PageProvider } from './page';
import { scanPageHtml } from './page-html';
import { pickFormat } from './select';

let site: DemoSite;
let media: DemoMedia;
const out = mkdtempSync(join(tmpdir(), 'vidmux-page-'));
const sha256 = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const target = (path: string) => ({ media: async () => new NodeFileSink(path), subtitle: async () => new NodeFileSink(`${path}.srt`) });

beforeAll(async () => {
  media = await demoMedia();
  site = await startDemoSite(media.files);
});
afterAll(() => site?.close());

describe('scanPageHtml', () => {
  it('finds video, source, audio and og:video URLs, resolved against <base>, video elements first', () => {
    const html = `<html><head><title> My  clip </title><base href="https://cdn.example.com/a/">
      <meta property="og:video" content="https://og.example.com/v.mp4"></head><body>
      <video src="one.mp4"></video><video><source src="/two.webm" type="video/webm"><source src="three.mp4" type="video/mp4"></video>
      <audio src="four.m4a"></audio><video src="javascript:alert(1)"></video></body></html>`;
    const scan = scanPageHtml(html, 'https://www.example.com/watch');
    expect(scan.title).toBe('My clip');
    expect(scan.media.map((m) => [m.via, m.url])).toEqual([
      ['video', 'https://cdn.example.com/a/one.mp4'],
      ['source', 'https://cdn.example.com/two.webm'],
      ['source', 'https://cdn.example.com/a/three.mp4'],
      ['audio', 'https://cdn.example.com/a/four.m4a'],
      ['og:video', 'https://og.example.com/v.mp4'],
    ]);
  });
});

describe('PageProvider', () => {
  const page = new PageProvider();

  it('resolves a media file URL and downloads it byte for byte', async () => {
    const info = await page.resolve(`${site.url}/media/sample.mp4`);
    expect(info).toMatchObject({ provider: 'page', title: 'sample' });
    expect(info.formats).toHaveLength(1);
    expect(info.formats[0]).toMatchObject({ kind: 'video+audio', container: 'mp4', delivery: 'file', approxBytes: readFileSync(media.sample).length });
    const path = join(out, 'file.mp4');
    const r = await page.download(info, { format: info.formats[0]!, subtitles: [] }, { target: target(path) });
    expect(r.bytes).toBe(readFileSync(media.sample).length);
    expect(sha256(path)).toBe(sha256(media.sample));
  });

  it('reads a web page’s <video> and its title', async () => {
    const info = await page.resolve(`${site.url}/watch/plain.html`);
    expect(info.title).toBe(PLAIN_PAGE_TITLE);
    expect(info.formats.map((f) => f.id)).toEqual([expect.stringContaining('/media/sample.mp4')]);
  });

  it('resolves a DASH manifest into muxed formats and saves one MP4 with both tracks', async () => {
    const info = await page.resolve(`${site.url}/media/dash/manifest.mpd`);
    expect(info.formats.map((f) => [f.kind, f.height, f.delivery])).toEqual([
      ['video+audio', 480, 'tracks'],
      ['audio', null, 'tracks'],
    ]);
    const path = join(out, 'dash.mp4');
    await page.download(info, { format: pickFormat(info.formats, 'best'), subtitles: [] }, { target: target(path) });
    const probe = await ffprobeJson(path);
    expect(probe.streams.map((s: { codec_name: string }) => s.codec_name)).toEqual(['h264', 'aac']);
    const audioPath = join(out, 'dash.m4a');
    await page.download(info, { format: pickFormat(info.formats, 'audio'), subtitles: [] }, { target: target(audioPath) });
    expect((await ffprobeJson(audioPath)).streams.map((s: { codec_name: string }) => s.codec_name)).toEqual(['aac']);
  });

  it('says so when a page has no video, or a URL is neither page nor media', async () => {
    await expect(page.resolve(`${site.url}/novideo.html`)).rejects.toMatchObject({ code: 'not_found', message: /No video file found/ });
    await expect(page.resolve(`${site.url}/nope`)).rejects.toMatchObject({ code: 'not_found' });
  });
});
