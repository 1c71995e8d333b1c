import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoMedia, type DemoMedia } from '../../test/fakes/demo-media';
import { startDemoSite, type DemoSite, PLAIN_PAGE_TITLE } from '../../test/fakes/demo-site';
import { startMediaServer, type MediaServer } from '../../test/fakes/media-server';
import { ffmpeg, ffprobeJson } from '../../test/fixtures/ffmpeg';
import { NodeFileSink } from '../node/files';
import { createProviders } from '.';
import { PageProvider } from './page';
import type { Format, MediaInfo } from './types';
import { scanPageHtml } from './page-html';
import { downloadContext } from '../jobs/download-context';
import { chooseFormat, pickFormat, planFormat } from '../jobs/choose-format';
import { webmInputs } from '../../test/fixtures/webm-media';
import { downloadWithFallback } from './registry';
import { HttpClient } from '../net/http';
import { DEFAULT_CODEC_PREFERENCE } from '../schemas/ids';

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
    expect(info.formats.map((f) => [f.kind, f.container, f.delivery])).toEqual([
      ['video+audio', 'mp4', 'file'],
      ['audio', 'm4a', 'tracks'],
    ]);
    expect(info.formats[0]).toMatchObject({ approxBytes: readFileSync(media.sample).length });
    const path = join(out, 'file.mp4');
    const r = await page.download(info, { format: info.formats[0]!, subtitles: [] }, downloadContext({ target: target(path) }));
    expect(r.bytes).toBe(readFileSync(media.sample).length);
    expect(sha256(path)).toBe(sha256(media.sample));
  });

  it('reads a web page’s <video> and its title, and saves that file', async () => {
    const info = await page.resolve(`${site.url}/watch/plain.html`);
    expect(info.title).toBe(PLAIN_PAGE_TITLE);
    expect(info.formats.map((f) => f.label)).toEqual([expect.stringMatching(/· sample\.mp4$/), 'Audio · M4A · from sample.mp4']);
    const path = join(out, 'page-video.mp4');
    await page.download(info, { format: info.formats[0]!, subtitles: [] }, downloadContext({ target: target(path) }));
    expect(sha256(path)).toBe(sha256(media.sample));
  });

  it('saves the clicked video without asking the page again (its height names the file)', async () => {
    const src = `${site.url}/media/sample.mp4`;
    const asked: string[] = [];
    const counting = new PageProvider({ http: new HttpClient({ fetch: ((input: RequestInfo | URL, init?: RequestInit) => (asked.push(String(input)), fetch(input, init))) as typeof fetch }) });
    const info = await counting.resolve(`${site.url}/watch/plain.html`, { media: { id: 'v1', kind: 'file', src, mimeType: 'video/mp4', width: 640, height: 360, duration: 4 } });
    expect(asked).toEqual([]); // what a clicked <video> plays is known: no request to resolve it
    expect(info).toMatchObject({ provider: 'page', title: 'sample' });
    expect(info.formats.map((f) => [f.kind, f.container, f.height, f.delivery])).toEqual([
      ['video+audio', 'mp4', 360, 'file'],
      ['audio', 'm4a', null, 'tracks'],
    ]);
    const path = join(out, 'clicked.mp4');
    await counting.download(info, { format: info.formats[0]!, subtitles: [] }, downloadContext({ target: target(path) }));
    expect(sha256(path)).toBe(sha256(media.sample));
  });

  it('refuses what the clicked video plays when it is not a file, saying why', async () => {
    const at = `${site.url}/watch/mse.html`;
    const clicked = (kind: 'mediasource' | 'blob' | 'manifest' | 'none', src: string, mimeType: string | null = null) => page.resolve(at, { media: { id: 'v', kind, src, mimeType, width: 1, height: 1, duration: null } });
    await expect(clicked('mediasource', 'blob:https://a/1')).rejects.toMatchObject({ code: 'not_a_file', message: /MediaSource/ });
    await expect(clicked('blob', 'blob:https://a/1')).rejects.toMatchObject({ code: 'not_a_file' });
    await expect(clicked('none', '')).rejects.toMatchObject({ code: 'not_a_file', message: /no source/ });
  });

  it('"audio only" on a page that has only an MP4 video: its sound track alone, stream copy', async () => {
    const info = await page.resolve(`${site.url}/media/sample.mp4`);
    const format = chooseFormat(info, { quality: 'audio' });
    expect(format).toMatchObject({ kind: 'audio', container: 'm4a', delivery: 'tracks' });
    const path = join(out, 'sound.m4a');
    await page.download(info, { format, subtitles: [] }, downloadContext({ target: target(path) }));
    const probe = await ffprobeJson(path);
    expect(probe.streams.map((s: { codec_type: string }) => s.codec_type)).toEqual(['audio']);
    const packets = async (file: string) => (await ffmpeg(['-i', file, '-map', '0:a', '-c', 'copy', '-f', 'framemd5', '-'])).split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(',').at(-1)!.trim());
    expect(await packets(path)).toEqual(await packets(media.sample));
  });

  it('a format it did not offer is refused', async () => {
    const info = await page.resolve(`${site.url}/media/sample.mp4`);
    const forged = { ...info.formats[0]!, id: 'page:99' };
    await expect(page.download(info, { format: forged, subtitles: [] }, downloadContext({ target: target(join(out, 'x.mp4')) }))).rejects.toMatchObject({ code: 'bad_input' });
  });

  it('resolves a DASH manifest into muxed formats and saves one MP4 with both tracks', async () => {
    const info = await page.resolve(`${site.url}/media/dash/manifest.mpd`);
    expect(info.formats.map((f) => [f.kind, f.height, f.delivery])).toEqual([
      ['video+audio', 480, 'tracks'],
      ['audio', null, 'tracks'],
    ]);
    const path = join(out, 'dash.mp4');
    await page.download(info, { format: pickFormat(info.formats, 'best'), subtitles: [] }, downloadContext({ target: target(path) }));
    const probe = await ffprobeJson(path);
    expect(probe.streams.map((s: { codec_name: string }) => s.codec_name)).toEqual(['h264', 'aac']);
    // The chosen format's plan: this manifest's one video and its audio, muxed (not the audio alone).
    expect(probe.streams.map((s: { codec_type: string }) => s.codec_type)).toEqual(['video', 'audio']);
    const audioPath = join(out, 'dash.m4a');
    await page.download(info, { format: pickFormat(info.formats, 'audio'), subtitles: [] }, downloadContext({ target: target(audioPath) }));
    expect((await ffprobeJson(audioPath)).streams.map((s: { codec_name: string }) => s.codec_name)).toEqual(['aac']);
  });

  it('says so when a page has no video, or a URL is neither page nor media', async () => {
    await expect(page.resolve(`${site.url}/novideo.html`)).rejects.toMatchObject({ code: 'not_found', message: /No video file found/ });
    await expect(page.resolve(`${site.url}/nope`)).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('PageProvider: a DASH page honours the user’s quality and codec preference', () => {
  /** A manifest of single-file representations (SegmentBase with an index), as players load them. */
  const MPD = `<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT10S" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">
 <Period>
  <AdaptationSet mimeType="video/webm"><Representation id="webm-2160" codecs="vp9" bandwidth="20000000" width="3840" height="2160"><BaseURL>v2160.webm</BaseURL><SegmentBase indexRange="200-999"/></Representation></AdaptationSet>
  <AdaptationSet mimeType="video/mp4">
   <Representation id="avc-720" codecs="avc1.64001f" bandwidth="2500000" width="1280" height="720"><BaseURL>avc720.mp4</BaseURL><SegmentBase indexRange="700-899"/></Representation>
   <Representation id="avc-1080" codecs="avc1.640028" bandwidth="5000000" width="1920" height="1080"><BaseURL>avc1080.mp4</BaseURL><SegmentBase indexRange="700-899"/></Representation>
   <Representation id="av1-1080" codecs="av01.0.08M.08" bandwidth="3000000" width="1920" height="1080"><BaseURL>av1080.mp4</BaseURL><SegmentBase indexRange="700-899"/></Representation>
  </AdaptationSet>
  <AdaptationSet mimeType="audio/mp4" lang="en">
   <Representation id="aac-64" codecs="mp4a.40.5" bandwidth="64000"><BaseURL>a64.mp4</BaseURL><SegmentBase indexRange="600-799"/></Representation>
   <Representation id="aac-128" codecs="mp4a.40.2" bandwidth="128000"><BaseURL>a128.mp4</BaseURL><SegmentBase indexRange="600-799"/></Representation>
  </AdaptationSet>
 </Period>
</MPD>`;
  const mpdUrl = 'https://cdn.example/v/manifest.mpd';
  /** The CDN stand-in answers the manifest (nothing else is fetched by a resolve). */
  const http = new HttpClient({ fetch: (async (input: RequestInfo | URL) => (String(input) === mpdUrl ? new Response(MPD, { headers: { 'content-type': 'application/dash+xml' } }) : new Response('', { status: 404 }))) as typeof fetch });
  const clicked = { id: 'v1', kind: 'manifest' as const, src: mpdUrl, mimeType: 'application/dash+xml', width: 1280, height: 720, duration: 10 };
  const wish = (over: Partial<Parameters<typeof chooseFormat>[1]> = {}) => ({ quality: 'best' as const, codecPreference: DEFAULT_CODEC_PREFERENCE, ...over });

  it('offers each video the engine can save (WebM too) with the best audio, and each audio', async () => {
    const info = await new PageProvider({ http }).resolve('https://site.example/watch', { media: clicked });
    expect(info.formats.map((f) => [f.kind, f.height, f.videoCodec, f.audioCodec])).toEqual([
      ['video+audio', 2160, 'vp9', 'mp4a.40.2'],
      ['video+audio', 720, 'avc1.64001f', 'mp4a.40.2'],
      ['video+audio', 1080, 'avc1.640028', 'mp4a.40.2'],
      ['video+audio', 1080, 'av01.0.08M.08', 'mp4a.40.2'],
      ['audio', null, null, 'mp4a.40.5'],
      ['audio', null, null, 'mp4a.40.2'],
    ]);
    expect(info.formats[0]!.language).toBe('en');
    expect(info.formats.map((f) => f.sourceContainer)).toEqual(['webm', 'mp4', 'mp4', 'mp4', 'mp4', 'mp4']);
  });

  it('the same chooser as every provider: height cap, then the user’s codec order, then bitrate', async () => {
    const info = await new PageProvider({ http }).resolve('https://site.example/watch', { media: clicked });
    const pick = (w: Parameters<typeof chooseFormat>[1]) => { const f = chooseFormat(info, w); return [f.height, f.videoCodec ?? f.audioCodec]; };
    // Best is the tallest: the 4K VP9 (served as WebM, with the AAC beside it: saved as MP4).
    expect(pick(wish())).toEqual([2160, 'vp9']);
    expect(pick(wish({ quality: '1080' }))).toEqual([1080, 'avc1.640028']);
    expect(pick(wish({ quality: '1080', codecPreference: ['av1', 'avc', 'vp9', 'hevc'] }))).toEqual([1080, 'av01.0.08M.08']);
    expect(pick(wish({ quality: '720' }))).toEqual([720, 'avc1.64001f']);
    expect(pick(wish({ quality: 'audio' }))).toEqual([null, 'mp4a.40.2']);
  });

  it('says which codecs it found when none can be saved', async () => {
    const theoraOnly = MPD.replace(/<AdaptationSet mimeType="(video|audio)\/mp4"[\s\S]*?<\/AdaptationSet>/g, '').replace('codecs="vp9"', 'codecs="theora"');
    const only = new HttpClient({ fetch: (async () => new Response(theoraOnly, { headers: { 'content-type': 'application/dash+xml' } })) as typeof fetch });
    await expect(new PageProvider({ http: only }).resolve('https://site.example/watch', { media: clicked })).rejects.toMatchObject({ code: 'unsupported', message: /codecs: theora/ });
  });
});

describe('PageProvider: a DASH stream served as WebM (as YouTube-style players load it)', () => {
  /** VP9 video and Opus audio, each one WebM file (SegmentBase), as a single-file DASH manifest lists them. */
  const mpd = (vp9: string, opus: string) => `<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT2S" profiles="urn:mpeg:dash:profile:webm-on-demand:2012">
 <Period>
  <AdaptationSet mimeType="video/webm"><Representation id="vp9" codecs="vp9" bandwidth="200000" width="160" height="120"><BaseURL>${vp9}</BaseURL><SegmentBase indexRange="0-1"/></Representation></AdaptationSet>
  <AdaptationSet mimeType="audio/webm" lang="en"><Representation id="opus" codecs="opus" bandwidth="64000"><BaseURL>${opus}</BaseURL><SegmentBase indexRange="0-1"/></Representation></AdaptationSet>
 </Period>
</MPD>`;
  let webmSite: DemoSite;
  let files: { video: string; audio: string };
  beforeAll(async () => {
    files = { video: await webmInputs.vp9Only(), audio: await webmInputs.opusOnly() };
    const manifest = join(out, 'webm-manifest.mpd');
    writeFileSync(manifest, mpd('v.webm', 'a.webm'));
    webmSite = await startDemoSite({ 'webm/manifest.mpd': manifest, 'webm/v.webm': files.video, 'webm/a.webm': files.audio });
  });
  afterAll(() => webmSite?.close());

  const packets = async (file: string, map: string) =>
    (await ffmpeg(['-copyts', '-i', file, '-map', map, '-c', 'copy', '-f', 'framemd5', '-'])).split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(',')[5]!.trim());

  /** Downloads what the wish picks, through the registry (which hands the planned container to the muxer). */
  async function save(path: string, wish: Parameters<typeof chooseFormat>[1]) {
    const page = new PageProvider();
    return downloadWithFallback(`${webmSite.url}/media/webm/manifest.mpd`, [page], (info) => {
      const format = chooseFormat(info, wish);
      const plan = planFormat(info, format, wish);
      return { format: { ...format, container: plan.container }, audio: plan.audio, mux: plan.mux, subtitles: [] };
    }, downloadContext({ target: target(path) }));
  }

  it('saves the VP9 + Opus as one MP4 by default, packets unchanged', async () => {
    const path = join(out, 'dash-webm.mp4');
    const { selection } = await save(path, { quality: 'best' });
    expect(selection.format).toMatchObject({ videoCodec: 'vp9', audioCodec: 'opus', sourceContainer: 'webm', container: 'mp4' });
    const probe = await ffprobeJson(path);
    expect(probe.format.format_name).toContain('mp4');
    expect(probe.streams.map((s: { codec_name: string }) => s.codec_name)).toEqual(['vp9', 'opus']);
    expect(await packets(path, '0:v')).toEqual(await packets(files.video, '0:v'));
    expect(await packets(path, '0:a')).toEqual(await packets(files.audio, '0:a'));
  });

  it('keeps WebM when the user asks to keep WebM', async () => {
    const path = join(out, 'dash-webm.webm');
    const { selection } = await save(path, { quality: 'best', container: 'webm' });
    expect(selection.format.container).toBe('webm');
    const probe = await ffprobeJson(path);
    expect(probe.format.format_name).toBe('matroska,webm');
    expect(await packets(path, '0:v')).toEqual(await packets(files.video, '0:v'));
  });
});

describe('PageProvider: a page on the internet may not make it fetch local addresses', () => {
  let local: MediaServer;
  let redirector: Server;
  beforeAll(async () => {
    local = await startMediaServer();
    await local.addFile('sample.mp4', { path: media.sample });
    // A server that sends every request on to the local file (a redirect fetch follows).
    redirector = createServer((_req, res) => res.writeHead(302, { location: local.fileUrl('sample.mp4') }).end());
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await local?.close();
    await new Promise((resolve) => redirector?.close(resolve));
  });

  const clicked = (src: string, kind: 'file' | 'manifest' = 'file') => ({ id: 'v1', kind, src, mimeType: kind === 'file' ? 'video/mp4' : null, width: 640, height: 360, duration: 4 });
  /** Resolves the clicked video on the page at `pageUrl` and saves the format `pick` chooses (the first by default). */
  async function save(provider: PageProvider, pageUrl: string, media: ReturnType<typeof clicked>, name: string, pick: (info: MediaInfo) => Format = (i) => i.formats[0]!) {
    const info = await provider.resolve(pageUrl, { media });
    const path = join(out, name);
    await provider.download(info, { format: pick(info), subtitles: [] }, downloadContext({ target: target(path) }));
    return path;
  }
  const refused = (host: string) => ({
    code: 'forbidden',
    provider: 'page',
    privateNetworkSite: 'public.example',
    message: expect.stringMatching(new RegExp(`^public\\.example asks for ${host.replace(/[.[\]]/g, '\\$&')}, .*Allow public\\.example to use local addresses`)),
  });

  it('a public page’s video on this computer: refused before any request, naming the address and how to allow it', async () => {
    local.resetStats();
    const src = local.fileUrl('sample.mp4');
    await expect(save(new PageProvider(), 'https://public.example/watch', clicked(src), 'refused.mp4')).rejects.toMatchObject(refused(new URL(src).host));
    expect(local.requests).toEqual([]);
    // Another site allowed is not this one.
    await expect(save(new PageProvider({ privateNetworkSites: ['other.example'] }), 'https://public.example/watch', clicked(src), 'refused.mp4')).rejects.toMatchObject({ code: 'forbidden' });
    expect(local.requests).toEqual([]);
  });

  it('saved once the user allowed the site; a page that is itself local needs nothing', async () => {
    const src = local.fileUrl('sample.mp4');
    const allowed = await save(new PageProvider({ privateNetworkSites: ['public.example'] }), 'https://public.example/watch', clicked(src), 'allowed.mp4');
    expect(sha256(allowed)).toBe(sha256(media.sample));
    const localPage = await save(new PageProvider(), `${local.origin}/watch`, clicked(src), 'local-page.mp4');
    expect(sha256(localPage)).toBe(sha256(media.sample));
  });

  it('a local address as the target itself (a link or video from the context menu) is judged by the page it is on', async () => {
    local.resetStats();
    const src = local.fileUrl('sample.mp4');
    const provider = new PageProvider();
    const info = await provider.resolve(src, { media: clicked(src), pageUrl: 'https://public.example/watch' });
    await expect(provider.download(info, { format: info.formats[0]!, subtitles: [] }, downloadContext({ target: target(join(out, 'link.mp4')) }))).rejects.toMatchObject(refused(new URL(src).host));
    await expect(provider.resolve(`${local.origin}/watch`, { pageUrl: 'https://public.example/watch' })).rejects.toMatchObject({ code: 'forbidden' });
    expect(local.requests).toEqual([]);
  });

  it('the same through the registry and a job’s provider setup (the factory hands the allowed sites over)', async () => {
    const src = local.fileUrl('sample.mp4');
    const choose = (info: MediaInfo) => ({ format: info.formats[0]!, subtitles: [] });
    const run = (sites: string[] | undefined) =>
      downloadWithFallback('https://public.example/watch', createProviders([{ id: 'page', apiKey: null, baseUrl: null, ...(sites ? { privateNetworkSites: sites } : {}) }], { http: new HttpClient() }), choose, downloadContext({ target: target(join(out, 'registry.mp4')) }), { media: clicked(src) });
    await expect(run(undefined)).rejects.toMatchObject({ code: 'forbidden', privateNetworkSite: 'public.example' });
    await expect(run(['public.example'])).resolves.toMatchObject({ provider: { id: 'page' } });
  });

  it('a redirect to a local address: its answer is refused', async () => {
    const port = (redirector.address() as AddressInfo).port;
    // The CDN stand-in: a public name whose answer is the redirecting server's.
    const http = new HttpClient({ fetch: ((input: RequestInfo | URL, init?: RequestInit) => fetch(String(input).replace('https://cdn.public.example', `http://127.0.0.1:${port}`), init)) as typeof fetch });
    await expect(save(new PageProvider({ http }), 'https://public.example/watch', clicked('https://cdn.public.example/clip.mp4'), 'redirected.mp4')).rejects.toMatchObject(refused(new URL(local.origin).host));
  });

  describe('every request of a stream: manifest, segments, AES keys, subtitles', () => {
    const CDN = 'https://cdn.public.example';
    const media = (segment: string, key = '') => `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n${key}#EXTINF:2,\n${segment}\n#EXT-X-ENDLIST\n`;
    const FILES: Record<string, string> = {
      [`${CDN}/master.m3u8`]: `#EXTM3U
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",URI="http://nas.local/subs/en.m3u8"
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Deutsch",LANGUAGE="de",URI="${CDN}/subs/de.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",SUBTITLES="subs"
${CDN}/v/local-segments.m3u8
`,
      [`${CDN}/v/local-segments.m3u8`]: media('http://192.168.1.1/seg0.ts'),
      [`${CDN}/v/local-key.m3u8`]: media(`${CDN}/v/seg0.ts`, '#EXT-X-KEY:METHOD=AES-128,URI="http://[fd00::1]/key"\n'),
      [`${CDN}/v/seg0.ts`]: 'x'.repeat(32),
      [`${CDN}/subs/de.m3u8`]: media('http://10.0.0.7/subs/de0.vtt'),
    };
    const asked: string[] = [];
    const http = new HttpClient({
      fetch: (async (input: RequestInfo | URL) => {
        const url = String(input);
        asked.push(url);
        return FILES[url] === undefined ? new Response('', { status: 404 }) : new Response(FILES[url]);
      }) as typeof fetch,
    });
    const provider = new PageProvider({ http });
    const PAGE = 'https://public.example/watch';

    it('a manifest on the local network: refused at the resolve', async () => {
      asked.length = 0;
      await expect(provider.resolve(PAGE, { media: clicked('http://10.0.0.5/live/index.m3u8', 'manifest') })).rejects.toMatchObject(refused('10.0.0.5'));
      expect(asked).toEqual([]);
    });

    it('segments, keys and subtitles on local addresses: each refused, none fetched', async () => {
      asked.length = 0;
      const master = clicked(`${CDN}/master.m3u8`, 'manifest');
      await expect(save(provider, PAGE, master, 'segments.mp4')).rejects.toMatchObject(refused('192.168.1.1'));
      await expect(save(provider, PAGE, clicked(`${CDN}/v/local-key.m3u8`, 'manifest'), 'key.mp4')).rejects.toMatchObject(refused('[fd00::1]'));
      const subtitle = (language: string) => (info: MediaInfo) => info.subtitles.find((s) => s.language === language)!;
      await expect(save(provider, PAGE, master, 'en.vtt', subtitle('en'))).rejects.toMatchObject(refused('nas.local'));
      await expect(save(provider, PAGE, master, 'de.vtt', subtitle('de'))).rejects.toMatchObject(refused('10.0.0.7'));
      expect(asked.filter((u) => !u.startsWith(CDN))).toEqual([]);
    });
  });
});
