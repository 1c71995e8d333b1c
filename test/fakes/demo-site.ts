/**
 * The demo site: pages that play video, served from 127.0.0.1 with Range support. Used by the e2e
 * tests, `npm run demo`, and every later issue that needs a page with media.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveFile } from './static-range';

export interface DemoSite {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  server: Server;
  close(): Promise<void>;
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
<li><a href="/novideo.html">A page with no video</a></li></ul>`,
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
  '/novideo.html': {
    title: 'No video here',
    html: () => page('No video here', `<p>Just text, and an image-free page.</p>`, `setTimeout(() => document.body.append(Object.assign(document.createElement('p'), { textContent: 'Added later, still no video.' })), 300);`),
  },
};

/**
 * Starts the demo site on 127.0.0.1. `media` maps names under /media/ to files on disk.
 */
export async function startDemoSite(media: Record<string, string>, port = 0): Promise<DemoSite> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
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
  return {
    url: `http://127.0.0.1:${actual}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
