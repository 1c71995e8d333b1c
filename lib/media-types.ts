/** File extensions and MIME types of saved media (the browser names a file by its MIME type). */

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

const MIME_TYPES: Record<string, string> = {
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  m4a: 'audio/mp4',
  mov: 'video/quicktime',
  webm: 'video/webm',
  mkv: 'video/x-matroska',
  ogv: 'video/ogg',
  ogg: 'audio/ogg',
  mp3: 'audio/mpeg',
  opus: 'audio/ogg',
  aac: 'audio/aac',
  srt: 'application/x-subrip',
  vtt: 'text/vtt',
  txt: 'text/plain',
};

/** The MIME type for a saved file's extension (video/mp4 when unknown). */
export function mimeTypeFor(ext: string): string {
  return MIME_TYPES[ext.toLowerCase()] ?? 'video/mp4';
}
