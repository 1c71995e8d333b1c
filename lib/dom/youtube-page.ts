/**
 * Where the Download button goes on a YouTube page, and which button a page gets. The finders take
 * a document and use only standard DOM APIs; what a URL is comes from lib/sites.ts.
 */
import { isYouTubePlaylistPage, isYouTubeUrl, youtubeVideoPage } from '../sites';

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

/**
 * Which Download button a page gets: on YouTube's video pages the YouTube button (in YouTube's row
 * of buttons), on a YouTube playlist and on every other site the button over each video; on other
 * YouTube pages (home, search, channel: hover previews, not the video being watched) none.
 */
export function buttonKind(url: string): 'youtube' | 'over-video' | 'none' {
  if (!isYouTubeUrl(url)) return 'over-video';
  if (youtubeVideoPage(url)) return 'youtube';
  return isYouTubePlaylistPage(url) ? 'over-video' : 'none';
}
