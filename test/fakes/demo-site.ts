/**
 * The demo site: pages that play video, served from 127.0.0.1 with Range support. Used by the e2e
 * tests, `npm run demo`, and every later issue that needs a page with media.
 *
 * Streams: the site embeds a stream server (test/fakes/stream-server.ts) at `/streams/<mount>/`
 * and `/live/<name>/`, with the fixtures of test/fixtures/streams.ts mounted lazily (each is built,
 * or taken from the cache, on its first request), and pages that play them through real players
 * (hls.js, dash.js, Shaka) served from node_modules at `/vendor/`. Nothing loads from the internet.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { dashMultiPeriod, dashNumber, dashSegmentList, dashTime, hlsByteRange, hlsFmp4WithAudio, hlsTs, hlsTsAes, liveHls, protectedStreams } from '../fixtures/streams';
import { serveFile } from './static-range';
import { createStreamServer, type StreamServer } from './stream-server';

export interface DemoSite {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  server: Server;
  /** The embedded stream server: mounts, faults, request log, live control. */
  streams: StreamServer;
  close(): Promise<void>;
}

const NODE_MODULES = resolve(import.meta.dirname, '../../node_modules');

/** Player bundles served at /vendor/<name>, from the installed devDependencies. */
export const VENDOR: Record<string, string> = {
  'hls.min.js': `${NODE_MODULES}/hls.js/dist/hls.min.js`,
  'dash.all.min.js': `${NODE_MODULES}/dashjs/dist/modern/umd/dash.all.min.js`,
  'shaka-player.compiled.js': `${NODE_MODULES}/shaka-player/dist/shaka-player.compiled.js`,
};

export type DemoPlayer = 'hls.js' | 'dash.js' | 'shaka';
const PLAYER_SCRIPT: Record<DemoPlayer, string> = { 'hls.js': '/vendor/hls.min.js', 'dash.js': '/vendor/dash.all.min.js', shaka: '/vendor/shaka-player.compiled.js' };

/** Stream mounts of the demo site: name under /streams/ -> the fixture that fills it. */
export const STREAM_MOUNTS = {
  'hls-ts': hlsTs,
  'hls-aes': hlsTsAes,
  'hls-fmp4': hlsFmp4WithAudio,
  'hls-byterange': hlsByteRange,
  'dash-number': dashNumber,
  'dash-time': dashTime,
  'dash-list': dashSegmentList,
  'dash-multi-period': dashMultiPeriod,
  protected: protectedStreams,
} as const;

/** The demo site's live stream: /live/demo/index.m3u8 (liveHls segments, looping, 1 s each). */
export const DEMO_LIVE = 'demo';

/**
 * The pages that play streams: path -> player and manifest (a path on the site). Every player page
 * takes `?src=<manifest path>` and `?player=hls.js|dash.js|shaka` to play something else, and
 * `?lang=<code>` to pick the audio language. `window.demo` holds { src, player, errors, playing }
 * and `window.player` the player object. Note: hls.js and dash.js set `video.src` to a blob: URL;
 * Shaka 5 leaves `video.src` empty and adds a `<source src="blob:...">` child (see `currentSrc`).
 */
export const STREAM_PAGES: Record<string, { title: string; player: DemoPlayer; manifest: string; note: string }> = {
  '/watch/hls-ts.html': { title: 'HLS: MPEG-TS, two variants', player: 'hls.js', manifest: '/streams/hls-ts/master.m3u8', note: 'hls.js; master playlist with 640x360 and 320x180 variants, audio muxed in the TS segments.' },
  '/watch/hls-aes.html': { title: 'HLS: AES-128, rotating keys', player: 'hls.js', manifest: '/streams/hls-aes/rotate/index.m3u8', note: 'hls.js; AES-128 segments, two keys, IV from the sequence number then an explicit IV.' },
  '/watch/hls-fmp4.html': { title: 'HLS: fMP4 with separate audio', player: 'hls.js', manifest: '/streams/hls-fmp4/master.m3u8', note: 'hls.js; CMAF segments, video-only variants and English / French audio renditions (?lang=fr).' },
  '/watch/hls-byterange.html': { title: 'HLS: byte ranges of one file', player: 'hls.js', manifest: '/streams/hls-byterange/index.m3u8', note: 'hls.js; EXT-X-BYTERANGE segments of a single .ts file.' },
  '/watch/dash-number.html': { title: 'DASH: $Number$ template', player: 'dash.js', manifest: '/streams/dash-number/manifest.mpd', note: 'dash.js; SegmentTemplate with $Number$, separate video and audio.' },
  '/watch/dash-time.html': { title: 'DASH: $Time$ timeline', player: 'shaka', manifest: '/streams/dash-time/manifest.mpd', note: 'Shaka Player; SegmentTemplate with $Time$ and a SegmentTimeline.' },
  '/watch/dash-list.html': { title: 'DASH: SegmentList', player: 'dash.js', manifest: '/streams/dash-list/manifest.mpd', note: 'dash.js; a SegmentList of SegmentURLs.' },
  '/watch/dash-multi-period.html': { title: 'DASH: two periods', player: 'shaka', manifest: '/streams/dash-multi-period/continuous.mpd', note: 'Shaka Player; two periods whose representations continue.' },
  '/watch/hls-live.html': { title: 'HLS: live', player: 'hls.js', manifest: `/live/${DEMO_LIVE}/index.m3u8`, note: 'hls.js; a sliding-window live playlist, a new 1 s segment every second.' },
  '/watch/protected.html': { title: 'DASH: DRM-protected', player: 'shaka', manifest: '/streams/protected/dash/manifest.mpd', note: 'Shaka Player given a Widevine-protected MPD: it does not play here, by design.' },
};

/** The script of a player page: loads the player bundle, plays `src` through MediaSource. */
function playerScript(player: DemoPlayer, manifest: string): string {
  return `(async () => {
  const q = new URLSearchParams(location.search);
  const src = q.get('src') || ${JSON.stringify(manifest)};
  const kind = q.get('player') || ${JSON.stringify(player)};
  const lang = q.get('lang') || '';
  const v = document.getElementById('v');
  const status = document.getElementById('status');
  const demo = (window.demo = { src, player: kind, errors: [], playing: false });
  const fail = (m) => { demo.errors.push(String(m)); status.textContent = 'Player error: ' + m; };
  v.addEventListener('playing', () => { demo.playing = true; status.textContent = 'Playing with ' + kind + '.'; });
  const bundle = ${JSON.stringify(PLAYER_SCRIPT)}[kind];
  if (!bundle) return fail('unknown player ' + kind);
  await new Promise((ok, ko) => {
    const s = document.createElement('script');
    s.src = bundle; s.onload = ok; s.onerror = () => ko(new Error('could not load ' + bundle));
    document.head.append(s);
  });
  const play = () => v.play().catch(() => {});
  if (kind === 'hls.js') {
    if (!Hls.isSupported()) return fail('hls.js: no MediaSource');
    const hls = (window.player = new Hls(lang ? { audioPreference: { lang } } : {}));
    hls.on(Hls.Events.ERROR, (_, d) => { if (d.fatal) fail('hls.js ' + d.type + ': ' + d.details); });
    hls.on(Hls.Events.MANIFEST_PARSED, play);
    hls.attachMedia(v);
    hls.loadSource(src);
  } else if (kind === 'dash.js') {
    const p = (window.player = dashjs.MediaPlayer().create());
    p.on(dashjs.MediaPlayer.events.ERROR, (e) => fail('dash.js ' + ((e.error && (e.error.message || e.error.code)) || 'error')));
    if (lang) p.setInitialMediaSettingsFor('audio', { lang });
    p.initialize(v, src, true);
  } else {
    shaka.polyfill.installAll();
    if (!shaka.Player.isBrowserSupported()) return fail('shaka: browser not supported');
    const p = (window.player = new shaka.Player());
    p.addEventListener('error', (e) => fail('shaka ' + e.detail.code));
    await p.attach(v);
    if (lang) p.configure({ preferredAudio: [{ language: lang }] });
    try { await p.load(src); play(); } catch (e) { fail('shaka ' + (e.code || e.message)); }
  }
})().catch((e) => {
  (window.demo ??= { errors: [] }).errors.push(String(e));
  document.getElementById('status').textContent = 'Player error: ' + e;
});`;
}

function streamPage(path: string): { title: string; html: () => string } {
  const p = STREAM_PAGES[path]!;
  return {
    title: p.title,
    html: () =>
      page(
        p.title,
        `<video id="v" controls muted playsinline></video><p id="status">Loading the player…</p><p>${escapeHtml(p.note)} Manifest: <code>${escapeHtml(p.manifest)}</code></p>`,
        playerScript(p.player, p.manifest),
      ),
  };
}

/** Title of the plain video page: it carries characters no file name may have. */
export const PLAIN_PAGE_TITLE = 'Sample clip: "demo" <1/2> | Vidmux';

const page = (title: string, body: string, script = '') => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:15px system-ui,sans-serif;margin:24px;background:#fafafa}video{width:640px;height:360px;background:#000;display:block}nav a{margin-right:12px}</style>
</head><body><nav><a href="/">Demo home</a></nav><h1>${escapeHtml(title)}</h1>${body}${script ? `<script>${script}</script>` : ''}</body></html>`;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** The pages, by path. Each names what it exercises. */
export const PAGES: Record<string, { title: string; html: () => string }> = {
  '/': {
    title: 'Vidmux demo',
    html: () =>
      page(
        'Vidmux demo',
        `<p>Pages that play video, for trying Vidmux.</p><ul>
<li><a href="/watch/plain.html">A plain MP4 (&lt;video src&gt;)</a></li>
<li><a href="/watch/source.html">An MP4 through &lt;source&gt;</a></li>
<li><a href="/watch/spa.html">A single-page app that adds its video later</a></li>
<li><a href="/watch/dash.html">A DASH player: separate video and audio tracks</a></li>
<li><a href="/watch/mse.html">A MediaSource stream (not a file)</a></li>
<li><a href="/watch/broken.html">A video whose file is missing (404)</a></li>
<li><a href="/novideo.html">A page with no video</a></li></ul>
<h2>Streams through real players</h2><ul>
${Object.entries(STREAM_PAGES)
  .map(([path, p]) => `<li><a href="${path}">${escapeHtml(p.title)}</a> (${p.player})</li>`)
  .join('\n')}
<li><a href="/watch/iframe-hls.html">An hls.js player inside an iframe</a></li></ul>`,
      ),
  },
  '/watch/plain.html': {
    title: PLAIN_PAGE_TITLE,
    html: () => page(PLAIN_PAGE_TITLE, `<video src="/media/sample.mp4" controls preload="metadata"></video><p>A 4-second H.264 + AAC clip.</p>`),
  },
  '/watch/source.html': {
    title: 'Source element clip',
    html: () =>
      page(
        'Source element clip',
        `<video controls preload="metadata"><source src="/media/sample.webm" type="video/webm; codecs=vp9"><source src="/media/sample.mp4?via=source" type="video/mp4"></video>`,
      ),
  },
  '/watch/spa.html': {
    title: 'SPA home',
    html: () =>
      page(
        'SPA home',
        `<div id="app"><p>Loading…</p></div><button id="go">Open the video</button>`,
        `document.getElementById('go').addEventListener('click', () => {
  history.pushState({}, '', '/watch/spa.html?v=late');
  document.title = 'Late video';
  const v = document.createElement('video');
  v.controls = true; v.preload = 'metadata'; v.src = '/media/sample.mp4?via=spa';
  document.getElementById('app').replaceChildren(v);
});`,
      ),
  },
  '/watch/dash.html': {
    title: 'DASH demo: separate tracks',
    html: () =>
      page(
        'DASH demo: separate tracks',
        `<video id="v" controls muted></video><p id="status">Loading the manifest…</p>`,
        // A small DASH player as sites have them: it reads the MPD, then feeds both single-file
        // tracks into MediaSource. The <video> only ever shows a blob: URL.
        `(async () => {
  const status = document.getElementById('status');
  try {
    const base = '/media/dash/';
    const mpd = new DOMParser().parseFromString(await (await fetch(base + 'manifest.mpd')).text(), 'application/xml');
    const reps = [...mpd.querySelectorAll('Representation')].map((r) => ({
      type: r.getAttribute('mimeType') + '; codecs="' + r.getAttribute('codecs') + '"',
      url: base + r.querySelector('BaseURL').textContent.trim(),
    }));
    const ms = new MediaSource();
    document.getElementById('v').src = URL.createObjectURL(ms);
    await new Promise((r) => ms.addEventListener('sourceopen', r, { once: true }));
    await Promise.all(reps.map(async (rep) => {
      if (!MediaSource.isTypeSupported(rep.type)) throw new Error('unsupported ' + rep.type);
      const sb = ms.addSourceBuffer(rep.type);
      const data = await (await fetch(rep.url)).arrayBuffer();
      await new Promise((r, j) => { sb.addEventListener('updateend', r, { once: true }); sb.addEventListener('error', j, { once: true }); sb.appendBuffer(data); });
    }));
    ms.endOfStream();
    status.textContent = 'Playing from MediaSource (' + reps.length + ' tracks).';
  } catch (e) { status.textContent = 'Player error: ' + e.message; }
})();`,
      ),
  },
  '/watch/broken.html': {
    title: 'Broken video',
    html: () => page('Broken video', `<video src="/media/missing.mp4" controls></video><p>The server has no such file (404).</p>`),
  },
  '/watch/mse.html': {
    title: 'MediaSource stream',
    html: () =>
      page(
        'MediaSource stream',
        `<video id="v" controls></video>`,
        `const v = document.getElementById('v'); v.src = URL.createObjectURL(new MediaSource());`,
      ),
  },
  ...Object.fromEntries(Object.keys(STREAM_PAGES).map((path) => [path, streamPage(path)])),
  '/watch/iframe-hls.html': {
    title: 'HLS in an iframe',
    html: () =>
      page(
        'HLS in an iframe',
        `<iframe id="player" src="/watch/hls-ts.html" width="700" height="560" allow="autoplay; fullscreen" style="border:1px solid #ccc"></iframe><p>The video plays in the frame (hls.js, MPEG-TS).</p>`,
      ),
  },
  '/novideo.html': {
    title: 'No video here',
    html: () => page('No video here', `<p>Just text, and an image-free page.</p>`, `setTimeout(() => document.body.append(Object.assign(document.createElement('p'), { textContent: 'Added later, still no video.' })), 300);`),
  },
};

/**
 * Starts the demo site on 127.0.0.1. `media` maps names under /media/ to files on disk.
 */
export async function startDemoSite(media: Record<string, string>, port = 0): Promise<DemoSite> {
  const streams = createStreamServer();
  for (const [name, make] of Object.entries(STREAM_MOUNTS)) streams.mount(name, make);
  streams.live(DEMO_LIVE, liveHls, { loop: true });
  const server = createServer((req, res) => {
    if (streams.handle(req, res)) return;
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname.startsWith('/vendor/')) {
      const file = VENDOR[url.pathname.slice('/vendor/'.length)];
      if (!file) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('no such script');
      return serveFile(req, res, file, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
    }
    if (url.pathname.startsWith('/media/')) {
      const file = media[decodeURIComponent(url.pathname.slice('/media/'.length))];
      if (!file) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('no such media');
      return serveFile(req, res, file, { 'cache-control': 'no-store' });
    }
    const p = PAGES[url.pathname];
    if (!p) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(p.html());
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: actual } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${actual}`;
  streams.useOrigin(url);
  return {
    url,
    server,
    streams,
    close: async () => {
      await streams.close();
      await new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      });
    },
  };
}
