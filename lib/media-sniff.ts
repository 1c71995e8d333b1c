/**
 * What the first bytes of a downloaded file say it is: a media container, a web page, or neither.
 * A copied file is called done only if it starts like media (issue: an HTML error page saved as
 * `clip.mp4`). Magic numbers, not a library: a few fixed signatures, checked on the first bytes.
 */

/** What a file's head looks like. */
export type Sniffed =
  | { kind: 'media'; container: 'mp4' | 'webm' | 'mpegts' | 'mp3' | 'aac' | 'ogg' | 'flac' | 'wav' | 'flv' }
  | { kind: 'html' }
  | { kind: 'unknown' };

/** Bytes the sniffer wants to see when the file is that long (two MPEG-TS packets and a bit). */
export const SNIFF_BYTES = 512;

/** ISO-BMFF top-level boxes a media file may start with. */
const ISO_BOXES = new Set(['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'styp', 'sidx', 'moof', 'pdin', 'uuid', 'emsg', 'prft']);

const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));

/** Classifies `head` (the first {@link SNIFF_BYTES} bytes, or all of a shorter file). */
export function sniffMedia(head: Uint8Array): Sniffed {
  const b = head;
  if (b.length >= 8 && ISO_BOXES.has(ascii(b, 4, 4))) return { kind: 'media', container: 'mp4' };
  if (b.length >= 4 && b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) return { kind: 'media', container: 'webm' };
  // MPEG-TS: sync bytes every 188 bytes (or 192 for M2TS, after a 4-byte timecode).
  if (b[0] === 0x47 && (b.length < 189 || b[188] === 0x47)) return { kind: 'media', container: 'mpegts' };
  if (b.length > 196 && b[4] === 0x47 && b[196] === 0x47) return { kind: 'media', container: 'mpegts' };
  if (ascii(b, 0, 3) === 'ID3') return { kind: 'media', container: 'mp3' };
  if (b[0] === 0xff && b.length > 1) {
    if ((b[1]! & 0xf6) === 0xf0) return { kind: 'media', container: 'aac' }; // ADTS
    if ((b[1]! & 0xe0) === 0xe0) return { kind: 'media', container: 'mp3' }; // MPEG audio frame
  }
  if (ascii(b, 0, 4) === 'OggS') return { kind: 'media', container: 'ogg' };
  if (ascii(b, 0, 4) === 'fLaC') return { kind: 'media', container: 'flac' };
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WAVE') return { kind: 'media', container: 'wav' };
  if (ascii(b, 0, 3) === 'FLV') return { kind: 'media', container: 'flv' };
  if (looksLikeHtml(b)) return { kind: 'html' };
  return { kind: 'unknown' };
}

/** A web page (or XML/JSON error answer) rather than bytes of media: text that opens with markup. */
function looksLikeHtml(b: Uint8Array): boolean {
  let text = new TextDecoder('utf-8', { fatal: false }).decode(b.subarray(0, 256));
  text = text.replace(/^\uFEFF/, '').trimStart().toLowerCase();
  return text.startsWith('<!doctype') || text.startsWith('<html') || text.startsWith('<?xml') || text.startsWith('<head') || text.startsWith('<body') || text.startsWith('<!--');
}

/** Whether a MIME type is a web page's (a server's error or login page, never media). */
export function isWebPageType(contentType: string | null | undefined): boolean {
  return /^\s*(text\/html|application\/xhtml\+xml)\b/i.test(contentType ?? '');
}
