/**
 * What a YouTube page is and where the Download button goes on it. The URL helpers are pure (unit
 * tested in Node); the finders take a document and use only standard DOM APIs.
 */

const YOUTUBE_HOSTS = new Set(['youtube.com', 'www.youtube.com', 'm.youtube.com', 'music.youtube.com', 'youtu.be']);
const VIDEO_ID = /^[\w-]{6,20}$/;

/** Whether `url` is on one of YouTube's own hosts. */
export function isYouTubeUrl(url: string): boolean {
  const u = parse(url);
  return !!u && (u.protocol === 'https:' || u.protocol === 'http:') && YOUTUBE_HOSTS.has(u.hostname.toLowerCase());
}

export type YouTubePageKind = 'watch' | 'shorts' | 'other';

export interface YouTubeVideoPage {
  kind: Exclude<YouTubePageKind, 'other'>;
  videoId: string;
}

/**
 * The video a YouTube URL shows: `/watch?v=ID`, `/shorts/ID`, `/live/ID`, `youtu.be/ID`; null for
 * any other page (home, channel, playlist, search) and for other sites.
 */
export function youtubeVideoPage(url: string): YouTubeVideoPage | null {
  if (!isYouTubeUrl(url)) return null;
  const u = parse(url)!;
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

/**
 * The row of YouTube's own buttons (Like, Share, ...) under the player: the button goes inside it.
 * YouTube keeps inactive watch metadata around; the active one is preferred.
 */
export function findActionsAnchor(doc: Document): HTMLElement | null {
  const candidates = [
    ...doc.querySelectorAll<HTMLElement>('ytd-watch-metadata.watch-active-metadata #top-level-buttons-computed'),
    ...doc.querySelectorAll<HTMLElement>('ytd-watch-metadata #top-level-buttons-computed'),
    ...doc.querySelectorAll<HTMLElement>('ytd-watch-flexy #top-level-buttons-computed'),
  ];
  return candidates.find((el) => el.isConnected && !el.closest('[hidden]')) ?? null;
}

/** The player the floating button sits over when the actions row is missing. */
export function findPlayer(doc: Document): HTMLElement | null {
  return doc.querySelector<HTMLElement>('#movie_player') ?? doc.querySelector<HTMLElement>('#shorts-player');
}

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/**
 * Which Download button a page gets: on YouTube's video pages the YouTube button (in YouTube's row
 * of buttons), on a YouTube playlist and on every other site the button over each video; on other
 * YouTube pages (home, search, channel: hover previews, not the video being watched) none.
 */
export function buttonKind(url: string): 'youtube' | 'over-video' | 'none' {
  if (!isYouTubeUrl(url)) return 'over-video';
  if (youtubeVideoPage(url)) return 'youtube';
  const u = parse(url)!;
  return u.pathname === '/playlist' && u.searchParams.has('list') ? 'over-video' : 'none';
}
