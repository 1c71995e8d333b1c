/**
 * File names for saved media: a template with tokens, each token's value sanitized so that no page
 * title (hostile or not) can escape the downloads folder, hide its real extension or hit a name the
 * OS refuses. Written by hand because the rules are a union of Chrome's, Windows', macOS' and
 * Linux' limits, which no small library covers in full.
 */

import { DEFAULT_FILENAME_TEMPLATE, templateProblem, type FilenameToken } from './schemas/filename-template';

export type FilenameValues = Partial<Record<FilenameToken, string | number | null | undefined>>;

/** Extensions we ever write; anything else falls back to the container's default. */
const MEDIA_EXTENSIONS = new Set(['mp4', 'm4v', 'm4a', 'mov', 'webm', 'mkv', 'ogv', 'ogg', 'mp3', 'opus', 'aac', 'srt', 'vtt', 'txt']);

/** Names Windows reserves regardless of extension. */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])$/i;

/** Longest stem we write, in UTF-8 bytes: leaves room for " (12)" uniquifying and the extension. */
const MAX_STEM_BYTES = 150;

/**
 * Makes one path segment safe: no separators, no control or bidi-override characters, no leading
 * dots, no reserved device names, at most 150 UTF-8 bytes. Returns `fallback` if nothing is left.
 */
export function sanitizeSegment(raw: string, fallback = 'video'): string {
  let s = raw.normalize('NFC');
  s = s
    // Bidi controls and zero-width characters can disguise "gpj.exe" as "exe.jpg".
    .replace(/[\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/g, '')
    .replace(/[\u0000-\u001F\u007F-\u009F]/g, ' ')
    .replace(/\s*:\s*/g, ' - ')
    .replace(/[\\/|]/g, '-')
    .replace(/"/g, "'")
    .replace(/[<>?*]/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    // Leading dots hide files (and ".."), trailing dots and spaces are dropped by Windows.
    .replace(/^[.\s-]+/, '')
    .replace(/[.\s]+$/, '');
  s = truncateUtf8(s, MAX_STEM_BYTES).replace(/[.\s]+$/, '');
  if (!s) return fallback;
  if (WINDOWS_RESERVED.test(s.split('.')[0] ?? '')) s = `_${s}`;
  return s;
}

/** Cuts `s` to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateUtf8(s: string, maxBytes: number): string {
  const enc = new TextEncoder();
  if (enc.encode(s).length <= maxBytes) return s;
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const n = enc.encode(ch).length;
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out.trimEnd();
}

/** A lower-case media extension we know, or `fallback`. */
export function safeExtension(ext: string | null | undefined, fallback = 'mp4'): string {
  const e = (ext ?? '').toLowerCase().replace(/^\./, '');
  return MEDIA_EXTENSIONS.has(e) ? e : fallback;
}

/** Strips the site suffix browsers show in titles ("... - YouTube"). */
export function cleanTitle(title: string): string {
  return title.replace(/\s+[-–|]\s+YouTube$/i, '').trim();
}

/**
 * Renders a template into a relative path for `downloads.download`. Every token value is sanitized
 * on its own (a title can never add a folder); the template's own "/" makes sub-folders. The result
 * always ends in exactly one known extension.
 */
export function renderFilename(template: string, values: FilenameValues): string {
  const tpl = templateProblem(template) ? DEFAULT_FILENAME_TEMPLATE : template;
  const ext = safeExtension(values.ext === undefined || values.ext === null ? undefined : String(values.ext));
  const body = tpl.replace(/\.\{ext\}$/, '').replace(/\{ext\}/g, ext);
  const segments = body.split(/[\\/]/).map((segment) =>
    segment.replace(/\{([a-z]+)\}/g, (_m, name: string) => {
      const v = values[name as FilenameToken];
      return v === undefined || v === null ? '' : sanitizeSegment(String(v), '');
    }),
  );
  // An empty token leaves its decoration behind ("{title} - {id}" with no id): drop it.
  const tidied = segments.map((s) => s.replace(/\(\s*\)|\[\s*\]/g, '').replace(/(\s+[-_–])+\s*$/, '').replace(/^\s*([-_–]\s+)+/, ''));
  const clean = tidied.map((s, i) => sanitizeSegment(s, i === tidied.length - 1 ? 'video' : '')).filter(Boolean);
  const stem = clean.pop() ?? 'video';
  return [...clean, `${stem}.${ext}`].join('/');
}

/** Today's date as YYYY-MM-DD (local time), the `{date}` token. */
export function isoDate(d = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
