/**
 * What a URL is: which site it is on, which YouTube page it shows, whether it is a streaming
 * manifest. The one place that knows hosts and URL shapes; the content script, the providers
 * (through lib/providers/coverage.ts), the jobs and the CLI all ask here. Pure: no DOM, no zod.
 */

/** Parses an http(s) URL; null for anything else (other schemes, not a URL). */
export function parseHttpUrl(url: string): URL | null {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u : null;
  } catch {
    return null;
  }
}

/** The hostname of a URL, or '' when it is not one. */
export function hostnameOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

// ---- sites -----------------------------------------------------------------------------------

/** A site video comes from, by the hosts it is served on. */
export interface Site {
  readonly id: string;
  /** How people call it ("YouTube", "X"). */
  readonly name: string;
  /** Matches the site's hostnames (lower case), including subdomains where they exist. */
  readonly host: RegExp;
}

/** Sites the keyed providers download from (yt-dlp knows many more; these are the ones we offer). */
export const SITES: readonly Site[] = [
  { id: 'youtube', name: 'YouTube', host: /(^|\.)(youtube\.com|youtu\.be|youtube-nocookie\.com)$/ },
  { id: 'tiktok', name: 'TikTok', host: /(^|\.)tiktok\.com$/ },
  { id: 'vimeo', name: 'Vimeo', host: /(^|\.)vimeo\.com$/ },
  { id: 'x', name: 'X', host: /(^|\.)(x\.com|twitter\.com)$/ },
  { id: 'instagram', name: 'Instagram', host: /(^|\.)instagram\.com$/ },
  { id: 'reddit', name: 'Reddit', host: /(^|\.)(reddit\.com|redd\.it)$/ },
  { id: 'twitch', name: 'Twitch', host: /(^|\.)twitch\.tv$/ },
  { id: 'facebook', name: 'Facebook', host: /(^|\.)(facebook\.com|fb\.watch)$/ },
  { id: 'dailymotion', name: 'Dailymotion', host: /(^|\.)(dailymotion\.com|dai\.ly)$/ },
  { id: 'soundcloud', name: 'SoundCloud', host: /(^|\.)soundcloud\.com$/ },
  { id: 'spotify', name: 'Spotify', host: /^open\.spotify\.com$/ },
  { id: 'streamable', name: 'Streamable', host: /(^|\.)streamable\.com$/ },
  { id: 'bilibili', name: 'Bilibili', host: /(^|\.)bilibili\.com$/ },
  { id: 'rumble', name: 'Rumble', host: /(^|\.)rumble\.com$/ },
  { id: 'kick', name: 'Kick', host: /(^|\.)kick\.com$/ },
  { id: 'loom', name: 'Loom', host: /(^|\.)loom\.com$/ },
  { id: 'threads', name: 'Threads', host: /(^|\.)threads\.net$/ },
  { id: 'bluesky', name: 'Bluesky', host: /(^|\.)bsky\.app$/ },
  { id: 'linkedin', name: 'LinkedIn', host: /(^|\.)linkedin\.com$/ },
  { id: 'pinterest', name: 'Pinterest', host: /(^|\.)pinterest\.com$/ },
];

/** The site an http(s) URL is on, or null. */
export function siteOf(url: string): Site | null {
  const u = parseHttpUrl(url);
  if (!u) return null;
  const host = u.hostname.toLowerCase();
  return SITES.find((s) => s.host.test(host)) ?? null;
}

// ---- YouTube ---------------------------------------------------------------------------------

/** YouTube's own hosts, where its pages (and so the YouTube button) live. */
const YOUTUBE_HOSTS = new Set(['youtube.com', 'www.youtube.com', 'm.youtube.com', 'music.youtube.com', 'youtu.be']);
const VIDEO_ID = /^[\w-]{6,20}$/;

/** Whether `url` is on one of YouTube's own hosts. */
export function isYouTubeUrl(url: string): boolean {
  const u = parseHttpUrl(url);
  return !!u && YOUTUBE_HOSTS.has(u.hostname.toLowerCase());
}

export type YouTubePageKind = 'watch' | 'shorts' | 'other';

export interface YouTubeVideoPage {
  kind: Exclude<YouTubePageKind, 'other'>;
  videoId: string;
}

/**
 * The video a YouTube page shows: `/watch?v=ID`, `/shorts/ID`, `/live/ID`, `youtu.be/ID`; null for
 * any other page (home, channel, playlist, search, embeds) and for other sites.
 */
export function youtubeVideoPage(url: string): YouTubeVideoPage | null {
  if (!isYouTubeUrl(url)) return null;
  const u = new URL(url);
  const path = u.pathname.replace(/\/+$/, '');
  let id: string | null = null;
  let kind: YouTubeVideoPage['kind'] = 'watch';
  if (u.hostname.toLowerCase() === 'youtu.be') id = path.slice(1);
  else if (path === '/watch') id = u.searchParams.get('v');
  else if (path.startsWith('/shorts/')) {
    id = path.slice('/shorts/'.length);
    kind = 'shorts';
  } else if (path.startsWith('/live/')) id = path.slice('/live/'.length);
  return id && VIDEO_ID.test(id) ? { kind, videoId: id } : null;
}

/**
 * The video id of any YouTube link that names one video (a watch page, shorts, live, an embed,
 * youtu.be), or null. What providers that only handle single YouTube videos accept.
 */
export function youtubeVideoId(url: string): string | null {
  const page = youtubeVideoPage(url);
  if (page) return page.videoId;
  if (!isYouTubeUrl(url)) return null;
  const m = /^\/embed\/([\w-]{6,20})\/?$/.exec(new URL(url).pathname);
  return m ? m[1]! : null;
}

/** The kind of YouTube page `url` is, or null when it is not YouTube. */
export function youtubePageKind(url: string): YouTubePageKind | null {
  if (!isYouTubeUrl(url)) return null;
  return youtubeVideoPage(url)?.kind ?? 'other';
}

/**
 * A key for "the same video page": it changes when the user navigates to another video (a new
 * button, no state carried over) and stays put across other URL changes (`&t=42s`, playlists).
 */
export function youtubeVideoKey(url: string): string | null {
  const page = youtubeVideoPage(url);
  return page ? `${page.kind}:${page.videoId}` : null;
}

/** Whether a YouTube URL is a playlist page (`/playlist?list=`). */
export function isYouTubePlaylistPage(url: string): boolean {
  if (!isYouTubeUrl(url)) return false;
  const u = new URL(url);
  return u.pathname === '/playlist' && u.searchParams.has('list');
}

// ---- streaming manifests ---------------------------------------------------------------------

export type ManifestKind = 'dash' | 'hls';

const MANIFEST_PATH: Record<ManifestKind, RegExp> = { dash: /\.mpd$/i, hls: /\.m3u8$/i };
const MANIFEST_TYPE: Record<ManifestKind, RegExp> = { dash: /dash\+xml/i, hls: /mpegurl/i };

/** Whether a URL (by its path) or a MIME type names a DASH or HLS manifest; null when neither does. */
export function manifestKind(url: string, mimeType: string | null = null): ManifestKind | null {
  for (const kind of ['dash', 'hls'] as const) if (mimeType && MANIFEST_TYPE[kind].test(mimeType)) return kind;
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return null;
  }
  for (const kind of ['dash', 'hls'] as const) if (MANIFEST_PATH[kind].test(path)) return kind;
  return null;
}

/** The MIME type a manifest of `kind` is served as. */
export function manifestMimeType(kind: ManifestKind): string {
  return kind === 'dash' ? 'application/dash+xml' : 'application/vnd.apple.mpegurl';
}
