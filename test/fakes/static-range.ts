/**
 * Serving a file over HTTP the way real media servers do: HEAD, single byte ranges (206 with
 * Content-Range), 416 for unsatisfiable ranges, whole file (200) otherwise. Shared by the fakes.
 */
import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname } from 'node:path';

const TYPES: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.m4a': 'audio/mp4',
  '.webm': 'video/webm',
  '.mp3': 'audio/mpeg',
  '.vtt': 'text/vtt',
  '.srt': 'application/x-subrip',
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mpd': 'application/dash+xml',
  '.html': 'text/html; charset=utf-8',
};

/** The Content-Type for a file name. */
export function contentType(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** Parses a single `bytes=` range against a size; null = no/unsupported range, 'unsatisfiable' = 416. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'unsatisfiable' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return null; // multiple ranges or garbage: serve the whole file, as many servers do
  const [, a, b] = m;
  let start: number;
  let end: number;
  if (a === '') {
    if (b === '') return null;
    const suffix = Number(b);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

/** Serves `path` answering Range requests; `extraHeaders` are added to every answer. */
export function serveFile(req: IncomingMessage, res: ServerResponse, path: string, extraHeaders: Record<string, string> = {}): void {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  const base = { 'accept-ranges': 'bytes', 'content-type': contentType(path), ...extraHeaders };
  const range = parseRange(req.headers.range, size);
  if (range === 'unsatisfiable') {
    res.writeHead(416, { ...base, 'content-range': `bytes */${size}` }).end();
    return;
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  const headers = { ...base, 'content-length': String(end - start + 1), ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}) };
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(path, { start, end });
  stream.pipe(res);
  res.on('close', () => stream.destroy());
}
