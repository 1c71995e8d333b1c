/**
 * Reads a web page's own media from its HTML: `<video src>`, `<video><source>`, `<audio>`,
 * Open Graph video tags, and the title. htmlparser2 is a forgiving streaming parser that runs in
 * Node and browsers alike (the CLI has no DOM).
 */
import { Parser } from 'htmlparser2';

export interface PageMediaRef {
  url: string;
  mimeType: string | null;
  /**
   * Where it was found, for ordering: a <video> element beats og:video, which beats a manifest URL
   * named in the page's scripts (a player such as hls.js loads it).
   */
  via: 'video' | 'source' | 'audio' | 'og:video' | 'script';
}

/** Manifest URLs taken from a page's scripts at most. */
const MAX_SCRIPT_MANIFESTS = 8;

export interface PageScan {
  title: string;
  media: PageMediaRef[];
}

/** Parses `html` (from `pageUrl`) for media URLs, resolved against the page (and any <base>). */
export function scanPageHtml(html: string, pageUrl: string): PageScan {
  let base = pageUrl;
  let title = '';
  let ogTitle = '';
  let inTitle = false;
  const media: PageMediaRef[] = [];
  const stack: string[] = [];
  const scripts: string[] = [];
  const add = (raw: string | undefined, mimeType: string | null, via: PageMediaRef['via']) => {
    if (!raw) return;
    let url: string;
    try {
      url = new URL(raw.trim(), base).href;
    } catch {
      return;
    }
    if (!/^https?:/.test(url) || media.some((m) => m.url === url)) return;
    media.push({ url, mimeType, via });
  };
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        stack.push(name);
        if (name === 'base' && attrs.href) {
          try {
            base = new URL(attrs.href, pageUrl).href;
          } catch {
            /* keep the page URL */
          }
        } else if (name === 'title') inTitle = true;
        else if (name === 'video' || name === 'audio') add(attrs.src, null, name);
        else if (name === 'source' && (stack.includes('video') || stack.includes('audio'))) add(attrs.src, attrs.type ?? null, 'source');
        else if (name === 'meta') {
          const prop = (attrs.property ?? attrs.name ?? '').toLowerCase();
          if (prop === 'og:title' && attrs.content) ogTitle = attrs.content;
          if ((prop === 'og:video' || prop === 'og:video:url' || prop === 'og:video:secure_url') && attrs.content) add(attrs.content, null, 'og:video');
        }
      },
      ontext(text) {
        if (inTitle) title += text;
        else if (stack.at(-1) === 'script') scripts.push(text);
      },
      onclosetag(name) {
        stack.pop();
        if (name === 'title') inTitle = false;
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  // Players are handed their manifest in script: quoted URLs ending in .m3u8 or .mpd (a query
  // string allowed). A page names only a few; more than MAX_SCRIPT_MANIFESTS is not a video page.
  const quoted = /["'`]((?:https?:)?[^"'`\s<>]*?\.(?:m3u8|mpd)(?:\?[^"'`\s<>]*)?)["'`]/gi;
  let found = 0;
  for (const text of scripts) {
    for (const m of text.matchAll(quoted)) {
      if (found++ >= MAX_SCRIPT_MANIFESTS) break;
      add(m[1]!.replace(/\\\//g, '/'), null, 'script');
    }
  }
  const order: Record<PageMediaRef['via'], number> = { video: 0, source: 1, audio: 2, 'og:video': 3, script: 4 };
  media.sort((a, b) => order[a.via] - order[b.via]);
  return { title: (title.trim() || ogTitle.trim()).replace(/\s+/g, ' '), media };
}
