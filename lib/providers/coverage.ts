/**
 * Which URLs each provider handles, without building one: the background asks this on every popup
 * open and every click, so it must be cheap (no keys read, no provider made) and light (no engine
 * code). Host knowledge is lib/sites.ts; the paths each service accepts are here.
 */
import type { ProviderId } from '../schemas/ids';
import { parseHttpUrl, siteOf, youtubeVideoId } from '../sites';

/** Sites RenderIO's yt-dlp handles that Vidmux offers it for (any page on them but the home page). */
const RENDERIO_SITES = new Set(['youtube', 'tiktok', 'vimeo', 'x', 'instagram', 'reddit', 'twitch', 'facebook', 'dailymotion', 'soundcloud', 'streamable', 'bilibili', 'rumble', 'kick', 'loom', 'threads', 'bluesky', 'linkedin', 'pinterest']);

/** Tornado's sites and the page paths it accepts on each (providers.md 3.2); null: any path. */
const TORNADO_PATHS: Record<string, RegExp | null> = {
  youtube: null,
  tiktok: null,
  vimeo: null,
  x: /^\/[^/]+\/status\//,
  instagram: /^\/(?:p|reel|reels|tv)\//,
  spotify: /^\/(?:show|episode)\//,
  facebook: /\/videos?\//,
  twitch: null,
  dailymotion: /^\/video\//,
  reddit: /^\/r\/[^/]+\/comments\//,
  soundcloud: null,
};

/** Whether `provider` handles `url` at all (its sites and URL shapes). */
export function providerHandles(provider: ProviderId, url: string): boolean {
  const u = parseHttpUrl(url);
  if (!u) return false;
  switch (provider) {
    case 'page':
      // YouTube never serves its videos as plain files or open manifests: the page's own media is
      // a dead end there, and only the keyed providers help.
      return youtubeVideoId(url) === null;
    case 'vidpickr':
      return youtubeVideoId(url) !== null;
    case 'renderio': {
      const site = siteOf(url);
      return !!site && RENDERIO_SITES.has(site.id) && u.pathname.length > 1;
    }
    case 'tornado': {
      const site = siteOf(url);
      if (!site || !(site.id in TORNADO_PATHS)) return false;
      if (site.id === 'facebook' && u.hostname.toLowerCase().endsWith('fb.watch')) return u.pathname.length > 1;
      const path = TORNADO_PATHS[site.id];
      return path ? path.test(u.pathname) : u.pathname.length >= 1;
    }
  }
}

/** Whether `url` is a playlist Tornado turns into one job per video (the URL has `?list=`), or a Spotify show. */
export function isTornadoPlaylistUrl(url: string): boolean {
  return url.includes('?list=') || /^https?:\/\/open\.spotify\.com\/show\//i.test(url);
}
