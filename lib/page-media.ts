/** What a page's `<video>` plays, told from its URL, and why what is not a file cannot be saved. */
import type { MediaCandidate, MediaKind } from './schemas/media';
import { manifestKind } from './sites';

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
 * Why the page's own media cannot save `media`, or null when it can (a file, a DASH manifest).
 * Asked before any job exists, so what cannot work is refused at the click.
 */
export function pageMediaProblem(media: MediaCandidate): { code: 'not_a_file' | 'unsupported'; message: string } | null {
  if (media.kind === 'file') return null;
  if (media.kind === 'manifest') {
    return manifestKind(media.src, media.mimeType) === 'hls' ? { code: 'unsupported', message: 'This video is an HLS stream: Vidmux cannot save HLS yet.' } : null;
  }
  return { code: 'not_a_file', message: notAFileReason(media.kind) };
}
