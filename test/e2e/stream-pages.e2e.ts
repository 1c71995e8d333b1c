/**
 * The stream fixtures, the stream server and the demo site's player pages: proof that each page
 * really plays its fixture through a real player (hls.js, dash.js, Shaka) in Debian's Chromium,
 * that every HLS rendition decodes to its reference, and that the server's ranges, CORS, faults and
 * live mode behave. Plain Chromium, no extension: it needs no build.
 */
import { chromium, type Browser, type BrowserContext, type Frame, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoSite, STREAM_PAGES, type DemoSite } from '../fakes/demo-site';
import { startStreamServer, type StreamServer } from '../fakes/stream-server';
import { allStreams, decodedMd5s, describeStreams, referenceMd5s, type StreamFixture } from '../fixtures/streams';
import { hostResolverRules } from '../harness/tls';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let streams: Awaited<ReturnType<typeof allStreams>>;
let site: DemoSite;
let browser: Browser;
let context: BrowserContext;
/** Requests that left loopback (there must be none). */
const outside: string[] = [];

beforeAll(async () => {
  const t0 = performance.now();
  streams = await allStreams();
  console.info(`stream fixtures ready in ${Math.round(performance.now() - t0)} ms`);
  site = await startDemoSite({});
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      '--autoplay-policy=no-user-gesture-required',
      hostResolverRules(),
    ],
  });
  context = await browser.newContext();
  context.on('request', (r) => {
    const u = new URL(r.url());
    if (!['blob:', 'data:'].includes(u.protocol) && u.hostname !== '127.0.0.1') outside.push(r.url());
  });
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

/** Opens a demo page; collects uncaught page errors. */
async function open(path: string): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(site.url + path);
  return { page, errors };
}

/**
 * Waits until the page's <video> plays from a blob: URL past `seconds`; returns its state. hls.js
 * and dash.js set `video.src`; Shaka 5 leaves it empty and adds a `<source src="blob:...">`, so the
 * test reads `currentSrc` (the URL the element actually plays).
 */
async function playsPast(target: Page | Frame, seconds: number, timeout = 20_000) {
  await target
    .waitForFunction(
      (s) => {
        const v = document.querySelector('video');
        return !!v && v.currentSrc.startsWith('blob:') && v.currentTime > s;
      },
      seconds,
      { timeout, polling: 100 },
    )
    .catch(async (e: unknown) => {
      const state = await target.evaluate(() => ({ demo: (window as unknown as { demo?: unknown }).demo, status: document.getElementById('status')?.textContent }));
      throw new Error(`${(e as Error).message}\npage state: ${JSON.stringify(state)}`);
    });
  return target.evaluate(() => {
    const v = document.querySelector('video')!;
    return { src: v.src, currentSrc: v.currentSrc, source: v.querySelector('source')?.src ?? null, currentTime: v.currentTime, errors: (window as unknown as { demo: { errors: string[] } }).demo.errors, w: v.videoWidth, h: v.videoHeight };
  });
}

describe('Chromium (Debian) media support', () => {
  it('plays H.264 and AAC through MediaSource, as the fixtures need', async () => {
    const page = await context.newPage();
    await page.goto(`${site.url}/novideo.html`);
    const types = [
      'video/mp4; codecs="avc1.4d401e"',
      'video/mp4; codecs="avc1.64001e"',
      'audio/mp4; codecs="mp4a.40.2"',
      'video/mp2t; codecs="avc1.4d401e,mp4a.40.2"',
      'video/mp4; codecs="hvc1.1.6.L93.B0"',
      'video/mp4; codecs="vp09.00.10.08"',
      'video/webm; codecs="vp9"',
      'audio/mp4; codecs="opus"',
      'audio/webm; codecs="opus"',
      'video/mp4; codecs="av01.0.04M.08"',
    ];
    const support = await page.evaluate((ts) => Object.fromEntries(ts.map((t) => [t, MediaSource.isTypeSupported(t)])), types);
    console.info('MediaSource.isTypeSupported:', support);
    expect(support['video/mp4; codecs="avc1.4d401e"']).toBe(true);
    expect(support['video/mp4; codecs="avc1.64001e"']).toBe(true);
    expect(support['audio/mp4; codecs="mp4a.40.2"']).toBe(true);
    await page.close();
  });
});

// Pages play side by side (up to vitest's maxConcurrency at a time), each checked on its own
// requests: no test here resets the shared log.
describe.concurrent('demo pages play through real players', () => {
  const vod = Object.entries(STREAM_PAGES).filter(([, p]) => !p.manifest.startsWith('/live/') && !p.manifest.includes('/protected/'));

  it.for(vod)('%s', async ([path, info], { expect }) => {
    const t0 = performance.now();
    const { page, errors } = await open(path);
    const state = await playsPast(page, 1.1);
    if (info.player === 'shaka') {
      expect(state.src).toBe('');
      expect(state.source).toBe(state.currentSrc);
    } else expect(state.src).toBe(state.currentSrc);
    expect(state.currentSrc).toMatch(/^blob:/);
    expect(state.errors).toEqual([]);
    expect(errors).toEqual([]);
    expect(state.w).toBeGreaterThan(0);
    expect(site.streams.requestsFor(info.manifest).length).toBeGreaterThan(0);
    // Segments came from this page's stream mount.
    const mount = `${info.manifest.split('/').slice(0, 3).join('/')}/`;
    expect(site.streams.requestsFor(mount).filter((r) => /\.(ts|m4s)$/.test(r.path) && r.status < 300).length).toBeGreaterThan(0);
    console.info(`${path} (${info.player}) plays: ${state.w}x${state.h} at ${state.currentTime.toFixed(2)} s after ${Math.round(performance.now() - t0)} ms`);
    await page.close();
  });

  it('hls.js picks the French audio rendition on request (?lang=fr)', async ({ expect }) => {
    const { page, errors } = await open('/watch/hls-fmp4.html?lang=fr');
    await playsPast(page, 1.1);
    expect(errors).toEqual([]);
    const lang = await page.evaluate(() => {
      const hls = (window as unknown as { player: { audioTracks: { lang: string }[]; audioTrack: number } }).player;
      return hls.audioTracks[hls.audioTrack]?.lang;
    });
    expect(lang).toBe('fr');
    expect(site.streams.requestsFor('/streams/hls-fmp4/audio-fr/').some((r) => r.path.endsWith('.m4s'))).toBe(true);
    await page.close();
  });

  it.for([
    ['iv', 'an explicit IV'],
    ['seq', 'the IV from sequence numbers 7-10'],
  ])('plays the AES-128 playlist %s (%s)', async ([rendition], { expect }) => {
    const { page, errors } = await open(`/watch/hls-aes.html?src=/streams/hls-aes/${rendition}/index.m3u8`);
    await playsPast(page, 1.1);
    expect(errors).toEqual([]);
    expect(site.streams.requestsFor(`/streams/hls-aes/${rendition}/key.key`).length).toBeGreaterThan(0);
    await page.close();
  });

  it('plays an HLS player inside an iframe', async ({ expect }) => {
    const { page, errors } = await open('/watch/iframe-hls.html');
    let frame: Frame | undefined;
    await expect.poll(() => (frame = page.frames().find((f) => f.url().endsWith('/watch/hls-ts.html')))).toBeTruthy();
    const state = await playsPast(frame!, 1.1);
    expect(state.currentSrc).toMatch(/^blob:/);
    expect(state.errors).toEqual([]);
    expect(errors).toEqual([]);
    expect(await page.evaluate(() => document.querySelector('video'))).toBeNull(); // the top page itself has none
    await page.close();
  });

  it('plays the live stream: time advances, the playlist is polled, segments keep coming', async ({ expect }) => {
    const { page, errors } = await open('/watch/hls-live.html');
    const first = await playsPast(page, 0);
    const later = await playsPast(page, first.currentTime + 1.5);
    expect(later.currentSrc).toMatch(/^blob:/);
    expect(later.errors).toEqual([]);
    expect(errors).toEqual([]);
    expect(site.streams.requestsFor('/live/demo/index.m3u8').length).toBeGreaterThan(1);
    const state = site.streams.liveState('demo');
    expect(state.started).toBe(true);
    expect(state.firstSequence).toBeGreaterThan(100);
    await page.close();
  });

  it('a live stream ended by the test plays to its end', async ({ expect }) => {
    site.streams.live('ending', streams.live, { window: 3 });
    const { page, errors } = await open(`/watch/hls-live.html?src=${encodeURIComponent('/live/ending/index.m3u8')}`);
    await playsPast(page, 0.5);
    site.streams.endLive('ending');
    await page.waitForFunction(() => document.querySelector('video')!.ended, undefined, { timeout: 15_000 });
    expect(errors).toEqual([]);
    const state = site.streams.liveState('ending');
    expect(state.ended).toBe(true);
    expect(state.segmentPath(state.lastSequence)).toMatch(/seg\d{3}\.ts$/);
    await page.close();
  });

  it('the protected page has a video and asks for its manifest (it need not play)', async ({ expect }) => {
    const { page, errors } = await open('/watch/protected.html');
    await expect.poll(() => site.streams.requestsFor('/streams/protected/dash/manifest.mpd').length, { timeout: 10_000 }).toBeGreaterThan(0);
    await expect.poll(() => page.evaluate(() => (window as unknown as { demo?: { errors: string[] } }).demo?.errors.length ?? 0), { timeout: 10_000 }).toBeGreaterThan(0);
    const state = await page.evaluate(() => ({ hasVideo: !!document.querySelector('video'), errors: (window as unknown as { demo: { errors: string[] } }).demo.errors }));
    console.info('protected page:', state); // Shaka: 6001 REQUESTED_KEY_SYSTEM_CONFIG_UNAVAILABLE
    expect(state.hasVideo).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('the pages', () => {
  it('loaded nothing from outside 127.0.0.1', () => {
    expect(outside).toEqual([]);
  });
});

describe('stream fixtures', () => {
  const hls = (): [string, StreamFixture][] => [
    ['hlsTs', streams.ts],
    ['hlsTsAes', streams.aes],
    ['hlsFmp4WithAudio', streams.fmp4],
    ['hlsByteRange', streams.byteRange],
  ];

  it('every HLS rendition decodes (ffmpeg reading its playlists) to its reference', async () => {
    const checks = hls().flatMap(([label, f]) =>
      Object.values(f.renditions).map(async (r) => {
        const [videoPl, audioPl] = r.playlists!.map((p) => f.files[p]!);
        expect(await decodedMd5s(videoPl!, '0:v'), `${label} ${r.id} video`).toEqual(await referenceMd5s(f, r.id, 'video'));
        expect(await decodedMd5s(audioPl ?? videoPl!, '0:a'), `${label} ${r.id} audio`).toEqual(await referenceMd5s(f, r.id, 'audio'));
      }),
    );
    await Promise.all(checks);
  });

  it('references are H.264 with B-frames + AAC of the intended length', async () => {
    const all: [string, StreamFixture][] = [...hls(), ['dashNumber', streams.number], ['dashTime', streams.time], ['dashSegmentList', streams.list], ['dashMultiPeriod', streams.multiPeriod]];
    for (const [label, f] of all) {
      for (const r of Object.values(f.renditions)) {
        const d = await describeStreams(r.reference);
        expect(d.streams, `${label} ${r.id}`).toEqual(['video:h264', 'audio:aac']);
        expect(d.bFrames, `${label} ${r.id} B-frames`).toBe(true);
        expect(d.duration, `${label} ${r.id} duration`).toBeGreaterThan(5.9);
        expect(d.duration).toBeLessThan(8.2);
      }
    }
  });

  it('the three DASH layouts carry the same media; the AES playlists all decode alike', async () => {
    const v = (f: StreamFixture, id: string) => referenceMd5s(f, id, 'video');
    expect(await v(streams.time, '360p')).toEqual(await v(streams.number, '360p'));
    expect(await v(streams.list, '180p')).toEqual(await v(streams.number, '180p'));
    expect(await v(streams.aes, 'seq')).toEqual(await v(streams.aes, 'rotate'));
    expect(await v(streams.aes, 'iv')).toEqual(await v(streams.aes, 'rotate'));
    expect(await referenceMd5s(streams.fmp4, '360p-fr', 'audio')).not.toEqual(await referenceMd5s(streams.fmp4, '360p-en', 'audio'));
  });

  it('ffmpeg reads an AES playlist over http (keys fetched from the stream server)', async () => {
    const url = `${site.url}/streams/hls-aes/rotate/index.m3u8`;
    expect(await decodedMd5s(url, '0:v')).toEqual(await referenceMd5s(streams.aes, 'rotate', 'video'));
    expect(site.streams.requestsFor('/streams/hls-aes/rotate/key-b.key').length).toBeGreaterThan(0);
  });
});

describe('stream server', () => {
  let s: StreamServer;
  const seg = '/streams/ts/v0/seg001.ts';
  beforeAll(async () => {
    s = await startStreamServer();
    s.mount('ts', streams.ts);
    s.mount('dash', () => Promise.resolve(streams.time));
  });
  afterAll(() => s?.close());
  const get = async (path: string, init?: RequestInit) => {
    const r = await fetch(s.origin + path, init);
    return { status: r.status, headers: r.headers, body: Buffer.from(await r.arrayBuffer()) };
  };

  it('serves ranges, CORS and content types', async () => {
    s.reset();
    const whole = await get(seg);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('video/mp2t');
    expect(whole.headers.get('access-control-allow-origin')).toBe('*');
    expect(whole.headers.get('access-control-expose-headers')).toMatch(/Content-Range/);
    const part = await get(seg, { headers: { range: 'bytes=188-375' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 188-375/${whole.body.length}`);
    expect(part.body.equals(whole.body.subarray(188, 376))).toBe(true);
    expect((await get(seg, { headers: { range: `bytes=${whole.body.length}-` } })).status).toBe(416);
    const pre = await get(seg, { method: 'OPTIONS', headers: { origin: 'http://a.test', 'access-control-request-method': 'GET', 'access-control-request-headers': 'range' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-headers')).toBe('range');
    expect((await get('/streams/ts/master.m3u8')).headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect((await get('/streams/dash/manifest.mpd')).headers.get('content-type')).toBe('application/dash+xml');
    expect((await get('/streams/dash/init-0.mp4')).headers.get('content-type')).toBe('video/mp4');
    expect((await get('/streams/dash/chunk-0-1024.m4s')).headers.get('content-type')).toBe('video/mp4');
    expect((await get('/streams/ts/nope.ts')).status).toBe(404);
    expect(s.requests.find((r) => r.range === 'bytes=188-375')).toMatchObject({ status: 206, start: 188, end: 375, bytesSent: 188 });
  });

  it('injects statuses a given number of times, drops and delays', async () => {
    s.reset();
    const f = s.fault({ path: /seg001/, times: 2, status: 503 });
    expect((await get(seg)).status).toBe(503);
    expect((await get(seg)).status).toBe(503);
    expect((await get(seg)).status).toBe(200);
    expect(f.hits).toBe(2);
    s.clearFaults();
    s.fault({ path: 'seg002', drop: 1000 });
    await expect(get('/streams/ts/v0/seg002.ts')).rejects.toThrow();
    expect(s.requestsFor('seg002')[0]).toMatchObject({ fault: 'drop', bytesSent: 1000 });
    s.clearFaults();
    s.fault({ path: /\.ts$/, delayMs: 150 });
    s.resetLog();
    await Promise.all([0, 1, 2].map((i) => get(`/streams/ts/v1/seg00${i}.ts`)));
    expect(s.maxConcurrent).toBe(3);
    expect(s.concurrency(/v1\/seg/)).toBe(3);
  });

  it('expiring links: tokens in playlists, 403 once old, a fresh playlist works again', async () => {
    s.reset();
    s.fault({ path: /\.ts$/, expire: 300 });
    const pl = (await get('/streams/ts/v0/index.m3u8')).body.toString();
    const first = pl.split('\n').find((l) => l.startsWith('seg000.ts?token='))!;
    expect(first).toBeTruthy();
    expect((await get(`/streams/ts/v0/${first}`)).status).toBe(200);
    expect((await get('/streams/ts/v0/seg000.ts')).status).toBe(403);
    await new Promise((r) => setTimeout(r, 350));
    expect((await get(`/streams/ts/v0/${first}`)).status).toBe(403);
    const again = (await get('/streams/ts/v0/index.m3u8')).body.toString().split('\n').find((l) => l.startsWith('seg000.ts?token='))!;
    expect((await get(`/streams/ts/v0/${again}`)).status).toBe(200);
    s.reset();
    s.fault({ path: /\.m4s$/, expire: 1000 });
    const mpd = (await get('/streams/dash/manifest.mpd')).body.toString();
    expect(mpd).toMatch(/media="chunk-\$RepresentationID\$-\$Time\$\.m4s\?token=t\w+"/);
    expect(mpd).toMatch(/initialization="init-\$RepresentationID\$\.mp4"/);
  });

  it('caps bandwidth per connection', async () => {
    s.reset();
    s.setBandwidth(400_000);
    const t0 = performance.now();
    const [a, b] = await Promise.all([get('/streams/ts/v0/seg000.ts'), get('/streams/ts/v0/seg001.ts')]);
    const ms = performance.now() - t0;
    const slowest = (Math.max(a.body.length, b.body.length) / 400_000) * 1000;
    expect(ms).toBeGreaterThan(slowest * 0.8);
    expect(ms).toBeLessThan(slowest * 1.8); // each connection has its own cap: they do not add up
    s.setBandwidth(undefined);
  });

  it('live: a sliding window that grows in real time, loops with a discontinuity, ends on request', async () => {
    s.live('fast', streams.live, { window: 10, startSequence: 7, loop: true, segmentMs: 60 });
    const playlist = async () => (await get('/live/fast/index.m3u8')).body.toString();
    const p1 = await playlist();
    expect(p1).toMatch(/#EXT-X-MEDIA-SEQUENCE:7\n/);
    expect(p1).not.toMatch(/#EXT-X-ENDLIST/);
    expect(p1.match(/^s\d+\.ts$/gm)).toEqual(Array.from({ length: 10 }, (_, i) => `s${7 + i}.ts`));
    expect((await get('/live/fast/s8.ts')).status).toBe(200);
    expect((await get('/live/fast/s30.ts')).status).toBe(404); // not yet published
    // 40 source segments, a window of 10: 35 published after ~1.5 s, the loop at 40 in view until 50.
    await new Promise((r) => setTimeout(r, 35 * 60));
    const p2 = await playlist();
    expect(p2).toMatch(/#EXT-X-DISCONTINUITY-SEQUENCE:0\n[\s\S]*#EXT-X-DISCONTINUITY\n#EXTINF:1.000000,\ns47.ts\n/);
    expect(Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(p2)![1])).toBeGreaterThan(7 + 30);
    const state = s.liveState('fast');
    expect(state.segmentPath(7 + 40)).toBe(state.segmentPath(7)); // sequence 47 is source segment 0 again
    s.endLive('fast');
    const p3 = await playlist();
    expect(p3).toMatch(/#EXT-X-ENDLIST\n$/);
    await new Promise((r) => setTimeout(r, 150));
    expect(await playlist()).toBe(p3); // frozen
  });
});
