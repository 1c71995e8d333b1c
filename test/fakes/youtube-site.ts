/**
 * A fake YouTube for the browser tests: watch, shorts and youtu.be pages built like YouTube's own
 * (the same custom elements and ids the button anchors to: #movie_player, ytd-watch-metadata,
 * #top-level-buttons-computed), a player fed through MediaSource (so the <video> only ever shows
 * a blob: URL, as on YouTube), and single-page navigation between videos (history.pushState and
 * yt-navigate-finish). Served over https at www.youtube.com through Chromium's host rules.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface FakeVideo {
  id: string;
  title: string;
  channel: string;
}

export const FAKE_VIDEOS: FakeVideo[] = [
  { id: 'dQw4w9WgXcQ', title: 'Fake Clip: Night Drive (4K)', channel: 'Vidmux Test Channel' },
  { id: 'M7lc1UVf-VE', title: 'Second Fake Clip / Sunrise', channel: 'Vidmux Test Channel' },
];

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

function watchPage(video: FakeVideo, shorts = false): string {
  const others = FAKE_VIDEOS.filter((v) => v.id !== video.id);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(video.title)} - YouTube</title>
<style>body{margin:0;font:14px Roboto,Arial,sans-serif;background:#fff;color:#0f0f0f}
#movie_player{width:854px;height:480px;background:#000;position:relative}video{width:100%;height:100%}
#top-row{display:flex;justify-content:space-between;align-items:center;width:854px}
#top-level-buttons-computed{display:flex;gap:8px}
#top-level-buttons-computed>*{display:inline-flex;align-items:center;height:36px;padding:0 16px;border-radius:18px;background:#f2f2f2}
ytd-watch-metadata h1{font-size:20px}
#top-level-buttons-computed button{all:unset;cursor:pointer;font:500 14px Roboto,Arial,sans-serif}
html[dark] body{background:#0f0f0f;color:#f1f1f1}html[dark] a{color:#3ea6ff}
html[dark] #top-level-buttons-computed>*{background:rgba(255,255,255,.1)}</style>
<script>/* YouTube's "device theme": html[dark] follows the system's color scheme. */
const scheme = matchMedia('(prefers-color-scheme: dark)');
const applyTheme = () => document.documentElement.toggleAttribute('dark', scheme.matches);
applyTheme(); scheme.addEventListener('change', applyTheme);</script></head>
<body><ytd-app><div id="content"><ytd-page-manager id="page-manager">
<ytd-watch-flexy video-id="${video.id}" ${shorts ? 'is-shorts' : ''}>
  <div id="player"><div id="movie_player" class="html5-video-player"><div class="html5-video-container">
    <video class="video-stream html5-main-video" tabindex="-1"></video></div></div></div>
  <div id="below"><ytd-watch-metadata class="watch-active-metadata">
    <div id="title"><h1><yt-formatted-string class="ytd-watch-metadata">${escapeHtml(video.title)}</yt-formatted-string></h1></div>
    <div id="top-row"><div id="owner"><ytd-video-owner-renderer><a href="/@vidmux">${escapeHtml(video.channel)}</a></ytd-video-owner-renderer></div>
      <div id="actions"><div id="actions-inner"><div id="menu"><ytd-menu-renderer class="ytd-watch-metadata">
        <div id="top-level-buttons-computed" class="top-level-buttons">
          <segmented-like-dislike-button-view-model><button>Like</button></segmented-like-dislike-button-view-model>
          <yt-button-view-model><button>Share</button></yt-button-view-model>
        </div></ytd-menu-renderer></div></div></div></div>
  </ytd-watch-metadata></div>
  <div id="related">${others.map((o) => `<a class="yt-simple-endpoint" href="/watch?v=${o.id}" data-title="${escapeHtml(o.title)}">${escapeHtml(o.title)}</a>`).join('')}</div>
</ytd-watch-flexy></ytd-page-manager></div></ytd-app>
<script>
  const player = () => document.querySelector('#movie_player video');
  const feed = () => { player().src = URL.createObjectURL(new MediaSource()); };
  feed();
  // YouTube navigates between videos without loading a page: same here.
  document.addEventListener('click', (e) => {
    const a = e.target.closest('a.yt-simple-endpoint');
    if (!a) return;
    e.preventDefault();
    const id = new URL(a.href).searchParams.get('v');
    history.pushState({}, '', a.href);
    document.title = a.dataset.title + ' - YouTube';
    document.querySelector('ytd-watch-flexy').setAttribute('video-id', id);
    document.querySelector('ytd-watch-metadata yt-formatted-string').textContent = a.dataset.title;
    // YouTube re-renders the actions row on navigation.
    const buttons = document.getElementById('top-level-buttons-computed');
    buttons.replaceWith(buttons.cloneNode(true));
    feed();
    document.dispatchEvent(new CustomEvent('yt-navigate-finish'));
  });
</script></body></html>`;
}

/** A playlist page: a header with a preview player, as YouTube shows for a playlist. */
function playlistPage(list: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Fake Playlist ${escapeHtml(list)} - YouTube</title></head>
<body><ytd-app><ytd-browse page-subtype="playlist"><ytd-playlist-header-renderer>
<h1 id="title">Fake Playlist</h1><div id="player"><video class="video-stream html5-main-video" style="width:640px;height:360px;background:#000"></video></div>
</ytd-playlist-header-renderer></ytd-browse></ytd-app>
<script>document.querySelector('video').src = URL.createObjectURL(new MediaSource());</script></body></html>`;
}

export interface FakeYouTube {
  /** Local origin (http or https, 127.0.0.1:port). */
  url: string;
  port: number;
  close(): Promise<void>;
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'https://www.youtube.com');
  const host = (req.headers.host ?? '').split(':')[0];
  let id: string | null = null;
  let shorts = false;
  if (host === 'youtu.be') id = url.pathname.slice(1);
  else if (url.pathname === '/watch') id = url.searchParams.get('v');
  else if (url.pathname.startsWith('/shorts/')) {
    id = url.pathname.slice('/shorts/'.length);
    shorts = true;
  }
  if (url.pathname === '/playlist' && url.searchParams.get('list')) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(playlistPage(url.searchParams.get('list')!));
    return;
  }
  if (host === 'youtu.be' && id) {
    res.writeHead(303, { location: `https://www.youtube.com/watch?v=${id}` }).end();
    return;
  }
  const video = FAKE_VIDEOS.find((v) => v.id === id);
  if (!video) {
    res.writeHead(404, { 'content-type': 'text/html' }).end('<title>404 Not Found</title>This video isn’t available anymore');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(watchPage(video, shorts));
}

/** Starts the fake YouTube on 127.0.0.1, over https when `tls` is given. */
export async function startFakeYouTube(opts: { tls?: { key: string; cert: string }; port?: number } = {}): Promise<FakeYouTube> {
  const server = opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, handle) : createHttpServer(handle);
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
