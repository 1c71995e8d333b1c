/** What a page's `<video>` plays, told from its URL, and why what is not a file cannot be saved. */
import { MAX_STREAMS, type MediaCandidate, type MediaKind } from './schemas/media';
import { manifestKind, manifestMimeType } from './sites';

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
  return manifestKind(src, mimeType) ? 'manifest' : 'file';
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

/**
 * Why the page's own media cannot save `media`, or null when it can (a file, an HLS or DASH
 * manifest). Asked before any job exists, so what cannot work is refused at the click.
 */
export function pageMediaProblem(media: MediaCandidate): { code: 'not_a_file' | 'unsupported'; message: string } | null {
  if (media.kind === 'file' || media.kind === 'manifest') return null;
  return { code: 'not_a_file', message: notAFileReason(media.kind) };
}

/**
 * `media` with more manifests its frame's players loaded (`urls`, oldest first, e.g. the ones the
 * browser saw): a MediaSource video that named none now plays one of them.
 */
export function withStreams(media: MediaCandidate, urls: readonly string[]): MediaCandidate {
  if (!urls.length || (media.kind !== 'mediasource' && media.kind !== 'manifest' && media.kind !== 'none')) return media;
  const streams = [...new Set([...(media.streams ?? []), ...urls])].slice(-MAX_STREAMS);
  if (media.kind === 'manifest' && !media.streams) return media; // a <video src="…m3u8">: it says what it plays
  const newest = streams.at(-1)!;
  const kind = manifestKind(newest);
  return { ...media, kind: 'manifest', src: newest, mimeType: kind ? manifestMimeType(kind) : media.mimeType, streams };
}
