import { z } from 'zod';

/**
 * What a page's `<video>` plays, as the content script reports it. `kind` says whether it is a
 * file we can save as is, or something that is not a file (yet): an in-memory blob, a MediaSource
 * stream fed by the page's player, or an HLS/DASH manifest.
 */
export const MediaKindSchema = z.enum(['file', 'blob', 'mediasource', 'manifest', 'none']);
export type MediaKind = z.infer<typeof MediaKindSchema>;

export const MediaCandidateSchema = z.object({
  /** Stable for the element's lifetime on the page. */
  id: z.string().min(1).max(64),
  kind: MediaKindSchema,
  /** The URL the element plays (`currentSrc`, else `src`, else the first playable `<source>`). */
  src: z.string().max(8192),
  mimeType: z.string().max(200).nullable(),
  width: z.number().int().nonnegative(),
  height: z.number().int().nonnegative(),
  duration: z.number().nonnegative().nullable(),
});
export type MediaCandidate = z.infer<typeof MediaCandidateSchema>;

const MANIFEST_TYPES = /mpegurl|dash\+xml/i;
const MANIFEST_EXT = /\.(m3u8|mpd)(\?|#|$)/i;

/** Classifies a media URL by scheme and type; `blob:` URLs need a probe to tell blob from MediaSource. */
export function classifyUrl(src: string, mimeType: string | null = null): MediaKind {
  if (!src) return 'none';
  let url: URL;
  try {
    url = new URL(src);
  } catch {
    return 'none';
  }
  if (url.protocol === 'blob:') return 'blob';
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'none';
  if ((mimeType && MANIFEST_TYPES.test(mimeType)) || MANIFEST_EXT.test(url.pathname)) return 'manifest';
  return 'file';
}

/** Guesses the file extension from the URL path, then the MIME type; MP4 when neither says. */
export function extensionFor(src: string, mimeType: string | null): string {
  try {
    const m = /\.([a-z0-9]{2,5})$/i.exec(new URL(src).pathname);
    if (m) return m[1]!.toLowerCase();
  } catch {
    /* not a URL: fall through */
  }
  const t = (mimeType ?? '').toLowerCase();
  if (t.includes('webm')) return 'webm';
  if (t.includes('quicktime')) return 'mov';
  if (t.includes('ogg')) return 'ogv';
  if (t.startsWith('audio/mp4')) return 'm4a';
  return 'mp4';
}

/** Why a candidate can't be saved as a file, in words a person understands. */
export function notAFileReason(kind: MediaKind): string {
  switch (kind) {
    case 'blob':
      return 'This video is held in the page’s memory (blob:), a stream, not a file: Vidmux cannot save it yet.';
    case 'mediasource':
      return 'This video is a stream the page’s player assembles (MediaSource), not a file: Vidmux cannot save it yet.';
    case 'manifest':
      return 'This video is an HLS/DASH stream, not a file: Vidmux cannot save it yet.';
    case 'none':
      return 'This video has no source to save.';
    case 'file':
      return '';
  }
}
