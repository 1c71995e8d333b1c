/**
 * A stream host for HLS and DASH tests, benchmarks and the demo site: serves fixture folders (see
 * test/fixtures/streams.ts) the way CDNs do, with faults injected per test, and simulates a live
 * HLS stream.
 *
 * - `/streams/<name>/<path>`: the files of the folder mounted as `name` (a folder, a fixture, or a
 *   function building one on first request). GET and HEAD with single byte ranges (206 +
 *   Content-Range, 416 when unsatisfiable), CORS (`Access-Control-Allow-Origin: *`, Content-Length,
 *   Content-Range and Accept-Ranges exposed, OPTIONS answered), content types by extension,
 *   `Cache-Control: no-store` (so a browser asks again and the log sees it).
 * - `/live/<name>/index.m3u8`: a sliding-window media playlist (no EXT-X-ENDLIST) over the
 *   segments of a VOD media playlist. A new segment appears every target duration in real time,
 *   with EXT-X-MEDIA-SEQUENCE increasing; {@link StreamServer.endLive} appends EXT-X-ENDLIST.
 *   Segments are `/live/<name>/s<sequence>.<ext>`; other files of the folder are served as they are.
 * - Faults ({@link StreamServer.fault}): a status, a connection cut mid-body (`drop`), a stall,
 *   a delay, a bandwidth cap, or expiring links (`expire`): playlists and MPDs served while an
 *   expire fault exists carry a fresh `?token=` on each URL the fault matches, and a request for
 *   such a path answers 403 when its token is missing or older than the lifetime. So a client that
 *   fetches the playlist again gets working links.
 * - A request log ({@link StreamServer.requests}) with ranges, statuses, bytes, times and the
 *   number of requests in flight, and the highest concurrency seen: the product must bound it.
 * - A bandwidth cap per connection (bytes/s, each response paced on its own) for benchmarks.
 *
 * Run it on its own port ({@link startStreamServer}) or inside another server: `handle(req, res)`
 * answers `/streams/...` and `/live/...` and returns false for anything else (the demo site does this).
 */
import { open as openFile, readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseRange } from './static-range';

/** Content types by extension. */
export const STREAM_TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mpd': 'application/dash+xml',
  '.ts': 'video/mp2t',
  '.m4s': 'video/mp4',
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.m4a': 'audio/mp4',
  '.aac': 'audio/aac',
  '.vtt': 'text/vtt',
  '.key': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.xml': 'application/xml',
};

/** What a mount serves: a folder, something with a `dir` (a fixture), or a builder of either. */
export type MountSource = string | { dir: string } | (() => Promise<string | { dir: string }>);

/** A live source: a folder and the VOD media playlist in it whose segments go live (a LiveHlsFixture fits). */
export type LiveSource = { dir: string; manifest: string } | (() => Promise<{ dir: string; manifest: string }>);

export interface LiveOptions {
  /** Segments in the playlist at once (default 5; the stream starts with this many). */
  window?: number;
  /** EXT-X-MEDIA-SEQUENCE of the first segment (default 100, so 0 is never assumed). */
  startSequence?: number;
  /** After the last source segment, start again after an EXT-X-DISCONTINUITY (default false: the playlist stops growing). */
  loop?: boolean;
  /** Milliseconds between new segments (default: the source's target duration). */
  segmentMs?: number;
  /** The clock starts at the first playlist request (default true) or now. */
  startOnFirstRequest?: boolean;
}

export interface LiveState {
  /** Sequence numbers of the first and last segment in the current playlist. */
  firstSequence: number;
  lastSequence: number;
  /** Segments published so far (the first window counts). */
  published: number;
  ended: boolean;
  started: boolean;
  /** The file behind a sequence number (for references), or null if never published. */
  segmentPath(sequence: number): string | null;
}

/** A fault, applied to the requests whose path (without query) it matches. */
export interface StreamFault {
  /** A RegExp tested against the path (e.g. /seg003\.ts$/), or a substring of it. */
  path: RegExp | string;
  /** Only requests with this method (default: any but OPTIONS). */
  method?: string;
  /** Leave the first `after` matching requests alone (default 0). */
  after?: number;
  /** Then fault this many (default: all that follow). Ignored by `expire`. */
  times?: number;
  /** Answer with this status (e.g. 503, 500, 404, 429) and a short text body. */
  status?: number;
  /** With `status`: the Retry-After header, seconds. */
  retryAfter?: number;
  /** Cut the connection mid-body: after half the body (true) or after this many bytes. */
  drop?: true | number;
  /** Send half the body (true) or this many bytes, then nothing more; the socket stays open. */
  stall?: true | number;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Pace the body at this many bytes per second. */
  bytesPerSecond?: number;
  /** Expiring links: lifetime in ms of the tokens handed out in playlists (true: 1000 ms). */
  expire?: true | number;
}

export interface FaultHandle {
  readonly fault: StreamFault;
  /** Requests this fault acted on (for `expire`: the 403s). */
  readonly hits: number;
  /** Matching requests seen (acted on or not). */
  readonly seen: number;
  remove(): void;
}

/** One request as the server saw it. */
export interface StreamRequest {
  /** Path without the query, e.g. '/streams/hls-ts/v0/seg001.ts'. */
  path: string;
  /** The query string without '?', '' when none. */
  query: string;
  method: string;
  /** The Range header, or null. */
  range: string | null;
  /** The range served: start and end (inclusive), null without a Range or when it was not served. */
  start: number | null;
  end: number | null;
  status: number;
  /** Body bytes written. */
  bytesSent: number;
  /** Which fault acted: 'status', 'drop', 'stall', 'delay', 'slow', 'expired' (joined by '+'), or null. */
  fault: string | null;
  /** Requests in flight when this one arrived, itself included. */
  concurrent: number;
  /** performance.now() at arrival and when the response closed (null while open). */
  startedAt: number;
  endedAt: number | null;
}

export interface StreamServerOptions {
  /** Bandwidth cap for every response, bytes per second per connection. */
  bytesPerSecond?: number;
}

export interface StreamServer {
  /** `http://127.0.0.1:<port>` once listening (or the embedding server's origin), else ''. */
  readonly origin: string;
  /** Serves `source` at `/streams/<name>/`. A builder runs once, on the first request (or {@link ready}). */
  mount(name: string, source: MountSource): void;
  /** The folder of a mount, building it if needed. */
  ready(name: string): Promise<string>;
  /** Absolute URL (or path when not listening) of `rel` in mount `name`. */
  url(name: string, rel?: string): string;
  /** Serves a live stream at `/live/<name>/index.m3u8`. */
  live(name: string, source: LiveSource, opts?: LiveOptions): void;
  /** Absolute URL (or path) of a live stream's playlist. */
  liveUrl(name: string): string;
  /** Ends a live stream: the playlist stops growing and gets EXT-X-ENDLIST. */
  endLive(name: string): void;
  /** Starts a live stream again from its first segment (clock, sequence, end). */
  restartLive(name: string): void;
  liveState(name: string): LiveState;
  /** Adds a fault; it holds until removed, `clearFaults` or `reset`. */
  fault(f: StreamFault): FaultHandle;
  clearFaults(): void;
  /** Sets (or clears) the server-wide per-connection bandwidth cap. */
  setBandwidth(bytesPerSecond: number | undefined): void;
  /** Every request since the last reset, in arrival order. */
  readonly requests: StreamRequest[];
  /** Requests whose path matches (RegExp or substring). */
  requestsFor(path: RegExp | string): StreamRequest[];
  /** Requests in flight now. */
  readonly active: number;
  /** Highest number of requests in flight at once since the last reset. */
  readonly maxConcurrent: number;
  /** Highest number of matching requests in flight at once, from the log (e.g. only segments). */
  concurrency(path?: RegExp | string): number;
  /** Forgets the log and the concurrency high-water mark. */
  resetLog(): void;
  /** resetLog + clearFaults + bandwidth back to the option's value. */
  reset(): void;
  /** Answers `/streams/...` and `/live/...`; returns false (and does nothing) for other paths. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** For an embedding server: the origin its URLs should use. */
  useOrigin(origin: string): void;
  /** Listens on 127.0.0.1 (port 0: a free one); returns the origin. */
  listen(port?: number): Promise<string>;
  /** Closes the own listener, if any, and every open response. */
  close(): Promise<void>;
}

interface Mount {
  source: MountSource;
  dir?: string;
  building?: Promise<string>;
}

interface Live {
  source: LiveSource;
  opts: Required<Omit<LiveOptions, 'segmentMs'>> & { segmentMs?: number };
  loaded?: { dir: string; segments: { uri: string; duration: number }[]; targetDuration: number; head: string[] };
  loading?: Promise<NonNullable<Live['loaded']>>;
  startedAt: number | null;
  /** Published count frozen at the end. */
  endedAt: number | null;
}

interface ActiveFault {
  f: StreamFault;
  seen: number;
  hits: number;
}

const SLICE = 16 * 1024;
const CORS: Record<string, string> = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'Content-Length, Content-Range, Accept-Ranges, Content-Type, ETag',
};

function matches(p: RegExp | string, path: string): boolean {
  if (typeof p === 'string') return path.includes(p);
  p.lastIndex = 0; // a /g or /y RegExp keeps state between tests
  return p.test(path);
}

/** A stream server not yet listening: mount it in another server with `handle`, or call `listen`. */
export function createStreamServer(opts: StreamServerOptions = {}): StreamServer {
  const mounts = new Map<string, Mount>();
  const lives = new Map<string, Live>();
  const faults: ActiveFault[] = [];
  const tokens = new Map<string, number>(); // token -> issued at (ms)
  const open = new Set<ServerResponse>();
  let requests: StreamRequest[] = [];
  let active = 0;
  let maxConcurrent = 0;
  let bandwidth = opts.bytesPerSecond;
  let origin = '';
  let own: Server | null = null;
  const sockets = new Set<Socket>();

  function mountDir(name: string): Promise<string> {
    const m = mounts.get(name);
    if (!m) return Promise.reject(new Error(`no mount ${name}`));
    if (m.dir) return Promise.resolve(m.dir);
    if (!m.building) {
      const src = m.source;
      m.building = (async () => {
        const got = typeof src === 'function' ? await src() : src;
        const dir = resolve(typeof got === 'string' ? got : got.dir);
        m.dir = dir;
        return dir;
      })();
      m.building.catch(() => (m.building = undefined));
    }
    return m.building;
  }

  async function loadLive(l: Live): Promise<NonNullable<Live['loaded']>> {
    if (l.loaded) return l.loaded;
    if (!l.loading) {
      l.loading = (async () => {
        const src = typeof l.source === 'function' ? await l.source() : l.source;
        const text = await readFile(join(src.dir, src.manifest), 'utf8');
        const lines = text.split(/\r?\n/);
        const segments: { uri: string; duration: number }[] = [];
        const head: string[] = [];
        let duration = 0;
        let seenSegment = false;
        for (const line of lines) {
          if (line.startsWith('#EXTINF:')) {
            duration = Number(/^#EXTINF:([\d.]+)/.exec(line)?.[1] ?? 0);
            seenSegment = true;
          } else if (line && !line.startsWith('#')) {
            segments.push({ uri: line, duration });
          } else if (!seenSegment && /^#EXT-X-(MAP|VERSION|INDEPENDENT-SEGMENTS)/.test(line)) {
            head.push(line);
          } else if (/^#EXT-X-(KEY|BYTERANGE)/.test(line)) {
            throw new Error('live mode supports plain segments only (no keys, no byte ranges)');
          }
        }
        const td = Number(/#EXT-X-TARGETDURATION:(\d+)/.exec(text)?.[1] ?? Math.ceil(Math.max(...segments.map((s) => s.duration))));
        const dir = resolve(join(src.dir, src.manifest, '..'));
        l.loaded = { dir, segments, targetDuration: td, head };
        return l.loaded;
      })();
      l.loading.catch(() => (l.loading = undefined));
    }
    return l.loading;
  }

  /** How many segments a live stream has published at `now`. */
  function published(l: Live, now: number): number {
    const loaded = l.loaded!;
    const n = loaded.segments.length;
    const segMs = l.opts.segmentMs ?? loaded.targetDuration * 1000;
    const at = l.endedAt ?? now;
    const elapsed = l.startedAt === null ? 0 : Math.max(0, at - l.startedAt);
    const count = l.opts.window + Math.floor(elapsed / segMs);
    return l.opts.loop ? count : Math.min(count, n);
  }

  function livePlaylist(l: Live, now: number): string {
    const { segments, targetDuration, head } = l.loaded!;
    const n = segments.length;
    const count = published(l, now);
    const first = Math.max(0, count - l.opts.window);
    const out = ['#EXTM3U', ...(head.some((h) => h.startsWith('#EXT-X-VERSION')) ? [] : ['#EXT-X-VERSION:3'])];
    out.push(...head, `#EXT-X-TARGETDURATION:${targetDuration}`, `#EXT-X-MEDIA-SEQUENCE:${l.opts.startSequence + first}`);
    if (l.opts.loop) out.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${Math.floor(first / n)}`);
    for (let k = first; k < count; k++) {
      const seg = segments[k % n]!;
      if (k > first && k % n === 0) out.push('#EXT-X-DISCONTINUITY');
      out.push(`#EXTINF:${seg.duration.toFixed(6)},`, `s${l.opts.startSequence + k}${extname(seg.uri.split('?')[0]!)}`);
    }
    if (l.endedAt !== null) out.push('#EXT-X-ENDLIST');
    return `${out.join('\n')}\n`;
  }

  function liveOf(name: string): Live {
    const l = lives.get(name);
    if (!l) throw new Error(`no live stream ${name}`);
    return l;
  }

  // ---------------------------------------------------------------------------------------------

  function newToken(): string {
    const t = `t${Math.random().toString(36).slice(2, 10)}${Date.now().toString(36)}`;
    tokens.set(t, Date.now());
    return t;
  }

  /** Adds a fresh token to every URL in a manifest whose path an expire fault matches. */
  function tokenize(text: string, base: URL, isMpd: boolean): string {
    const expiring = faults.filter((a) => a.f.expire);
    if (!expiring.length) return text;
    const add = (uri: string) => {
      let path: string;
      try {
        path = new URL(uri, base).pathname;
      } catch {
        return uri;
      }
      if (!expiring.some((a) => matches(a.f.path, path))) return uri;
      return `${uri}${uri.includes('?') ? '&' : '?'}token=${newToken()}`;
    };
    if (isMpd) {
      return text
        .replace(/\b(media|initialization|sourceURL)="([^"]+)"/g, (_, k: string, v: string) => `${k}="${add(v).replace(/&(?!amp;)/g, '&amp;')}"`)
        .replace(/<BaseURL>([^<]+)<\/BaseURL>/g, (_, v: string) => `<BaseURL>${add(v.trim()).replace(/&(?!amp;)/g, '&amp;')}</BaseURL>`);
    }
    return text
      .split('\n')
      .map((line) => {
        if (line && !line.startsWith('#')) return add(line.trim());
        if (/^#EXT-X-(MAP|MEDIA|KEY|SESSION-KEY|I-FRAME-STREAM-INF):/.test(line)) return line.replace(/URI="([^"]+)"/, (_, v: string) => `URI="${add(v)}"`);
        return line;
      })
      .join('\n');
  }

  // ---------------------------------------------------------------------------------------------

  function handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    const kind = url.pathname.startsWith('/streams/') ? 'streams' : url.pathname.startsWith('/live/') ? 'live' : null;
    if (!kind) return false;
    active++;
    maxConcurrent = Math.max(maxConcurrent, active);
    const record: StreamRequest = {
      path: url.pathname,
      query: url.search.slice(1),
      method: req.method ?? 'GET',
      range: req.headers.range ?? null,
      start: null,
      end: null,
      status: 0,
      bytesSent: 0,
      fault: null,
      concurrent: active,
      startedAt: performance.now(),
      endedAt: null,
    };
    requests.push(record);
    open.add(res);
    res.on('close', () => {
      active--;
      open.delete(res);
      record.endedAt = performance.now();
    });
    answer(kind, url, req, res, record).catch((err: unknown) => {
      if (!res.headersSent) {
        record.status = 500;
        res.writeHead(500, { ...CORS, 'content-type': 'text/plain' }).end(`stream server: ${err instanceof Error ? err.message : String(err)}\n`);
      } else res.destroy();
    });
    return true;
  }

  async function answer(kind: 'streams' | 'live', url: URL, req: IncomingMessage, res: ServerResponse, record: StreamRequest): Promise<void> {
    const method = req.method ?? 'GET';
    const text = (status: number, body: string, headers: Record<string, string> = {}) => {
      record.status = status;
      res.writeHead(status, { ...CORS, 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store', ...headers });
      res.end(method === 'HEAD' ? undefined : body);
      record.bytesSent = method === 'HEAD' ? 0 : Buffer.byteLength(body);
    };
    if (method === 'OPTIONS') {
      record.status = 204;
      res
        .writeHead(204, {
          ...CORS,
          'access-control-allow-methods': 'GET, HEAD, OPTIONS',
          'access-control-allow-headers': req.headers['access-control-request-headers'] ?? 'Range',
          'access-control-max-age': '600',
          'content-length': '0',
        })
        .end();
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') return text(405, 'method not allowed\n', { allow: 'GET, HEAD, OPTIONS' });

    // Faults that apply to this request.
    const acting: string[] = [];
    const effect: StreamFault = { path: '' };
    let expired = false;
    for (const a of faults) {
      if (!matches(a.f.path, url.pathname)) continue;
      if (a.f.method && a.f.method !== method) continue;
      a.seen++;
      if (a.f.expire) {
        const lifetime = a.f.expire === true ? 1000 : a.f.expire;
        const issued = tokens.get(url.searchParams.get('token') ?? '');
        if (issued === undefined || Date.now() - issued > lifetime) {
          expired = true;
          a.hits++;
        }
        continue;
      }
      const after = a.f.after ?? 0;
      const live = a.seen > after && (a.f.times === undefined || a.seen <= after + a.f.times);
      if (!live) continue;
      a.hits++;
      Object.assign(effect, a.f);
    }
    if (effect.delayMs) {
      acting.push('delay');
      await delay(effect.delayMs);
    }
    if (expired) {
      record.fault = [...acting, 'expired'].join('+');
      return text(403, 'Forbidden: link expired\n');
    }
    if (effect.status !== undefined) {
      record.fault = [...acting, 'status'].join('+');
      return text(effect.status, `fault: status ${effect.status}\n`, effect.retryAfter !== undefined ? { 'retry-after': String(effect.retryAfter) } : {});
    }

    // What the path is.
    const parts = url.pathname.split('/').slice(2).map((p) => decodeURIComponent(p));
    const name = parts.shift() ?? '';
    const rel = parts.join('/');
    let file: string | null = null;
    let body: Buffer | null = null;
    if (kind === 'streams') {
      if (!mounts.has(name)) return text(404, `no stream ${name}\n`);
      const dir = await mountDir(name);
      file = safeJoin(dir, rel);
    } else {
      const l = lives.get(name);
      if (!l) return text(404, `no live stream ${name}\n`);
      const loaded = await loadLive(l);
      const now = performance.now();
      if (rel === 'index.m3u8') {
        if (l.startedAt === null) l.startedAt = now;
        body = Buffer.from(livePlaylist(l, now));
      } else {
        const seg = /^s(\d+)(\.\w+)$/.exec(rel);
        if (seg) {
          const k = Number(seg[1]) - l.opts.startSequence;
          if (k < 0 || k >= published(l, now)) return text(404, 'segment not (yet) published\n');
          file = join(loaded.dir, loaded.segments[k % loaded.segments.length]!.uri);
        } else file = safeJoin(loaded.dir, rel);
      }
    }
    if (!body && !file) return text(404, 'not found\n');
    const type = STREAM_TYPES[extname(file ?? rel).toLowerCase()] ?? 'application/octet-stream';
    const isManifest = /\.(m3u8|mpd)$/i.test(file ?? rel);
    let size: number;
    if (!body) {
      try {
        const st = await stat(file!);
        if (!st.isFile()) return text(404, 'not found\n');
        size = st.size;
      } catch {
        return text(404, 'not found\n');
      }
      if (isManifest) body = await readFile(file!);
    }
    if (body && isManifest) body = Buffer.from(tokenize(body.toString('utf8'), url, /\.mpd$/i.test(file ?? rel)));
    size = body ? body.length : size!;

    const headers: Record<string, string> = { ...CORS, 'content-type': type, 'accept-ranges': 'bytes', 'cache-control': 'no-store' };
    let start = 0;
    let end = size - 1;
    let code = 200;
    const range = parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
      record.status = 416;
      res.writeHead(416, { ...headers, 'content-range': `bytes */${size}`, 'content-length': '0' }).end();
      return;
    }
    if (range) {
      ({ start, end } = range);
      code = 206;
      headers['content-range'] = `bytes ${start}-${end}/${size}`;
      record.start = start;
      record.end = end;
    }
    const length = end - start + 1;
    headers['content-length'] = String(length);
    record.status = code;
    res.writeHead(code, headers);
    if (method === 'HEAD') return void res.end();
    res.flushHeaders();

    const cut = effect.drop !== undefined ? (effect.drop === true ? Math.floor(length / 2) : Math.min(effect.drop, length)) : undefined;
    const stall = effect.stall !== undefined ? (effect.stall === true ? Math.floor(length / 2) : Math.min(effect.stall, length)) : undefined;
    const cap = effect.bytesPerSecond ?? bandwidth;
    if (cut !== undefined) acting.push('drop');
    if (stall !== undefined) acting.push('stall');
    if (effect.bytesPerSecond) acting.push('slow');
    record.fault = acting.length ? acting.join('+') : null;
    const limit = Math.min(length, cut ?? Infinity, stall ?? Infinity);
    await sendBody(res, body ?? file!, start, start + limit, cap, (n) => (record.bytesSent += n));
    if (res.destroyed) return;
    if (cut !== undefined) {
      const socket = res.socket as (Socket & { resetAndDestroy?: () => void }) | null;
      if (socket?.resetAndDestroy) socket.resetAndDestroy();
      else res.destroy();
      return;
    }
    if (stall !== undefined) return; // silent until the client or close() gives up
    res.end();
  }

  /** Writes bytes [start, end) of a file or buffer, paced to `cap` bytes/s, honouring backpressure. */
  async function sendBody(res: ServerResponse, from: string | Buffer, start: number, end: number, cap: number | undefined, sent: (n: number) => void): Promise<void> {
    const t0 = performance.now();
    let written = 0;
    const handle = typeof from === 'string' ? await openFile(from, 'r') : null;
    const buf = handle ? Buffer.allocUnsafe(256 * 1024) : null;
    try {
      let pos = start;
      while (pos < end && !res.destroyed) {
        let data: Buffer;
        if (handle && buf) {
          const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, end - pos), pos);
          if (bytesRead === 0) break;
          data = Buffer.from(buf.subarray(0, bytesRead));
        } else data = (from as Buffer).subarray(pos, Math.min(end, pos + 256 * 1024));
        for (let off = 0; off < data.length && !res.destroyed; off += SLICE) {
          const part = data.subarray(off, off + SLICE);
          if (cap) {
            const wait = t0 + (written / cap) * 1000 - performance.now();
            if (wait > 1) await delay(wait);
            if (res.destroyed) return;
          }
          const ok = res.write(part);
          written += part.length;
          sent(part.length);
          if (!ok) await drainOrClose(res);
        }
        pos += data.length;
      }
    } finally {
      await handle?.close();
    }
  }

  const path = (name: string, rel = '') => `/streams/${encodeURIComponent(name)}/${rel.split('/').map(encodeURIComponent).join('/')}`;

  const server: StreamServer = {
    get origin() {
      return origin;
    },
    mount(name, source) {
      mounts.set(name, { source });
    },
    ready: mountDir,
    url: (name, rel = '') => `${origin}${path(name, rel)}`,
    live(name, source, o = {}) {
      lives.set(name, {
        source,
        opts: { window: o.window ?? 5, startSequence: o.startSequence ?? 100, loop: o.loop ?? false, segmentMs: o.segmentMs, startOnFirstRequest: o.startOnFirstRequest ?? true },
        startedAt: o.startOnFirstRequest === false ? performance.now() : null,
        endedAt: null,
      });
      if (o.startOnFirstRequest === false) void loadLive(lives.get(name)!);
    },
    liveUrl: (name) => `${origin}/live/${encodeURIComponent(name)}/index.m3u8`,
    endLive(name) {
      const l = liveOf(name);
      if (l.endedAt === null) l.endedAt = performance.now();
      if (l.startedAt === null) l.startedAt = l.endedAt;
    },
    restartLive(name) {
      const l = liveOf(name);
      l.startedAt = l.opts.startOnFirstRequest ? null : performance.now();
      l.endedAt = null;
    },
    liveState(name) {
      const l = liveOf(name);
      const loaded = l.loaded;
      const count = loaded ? published(l, performance.now()) : 0;
      const first = Math.max(0, count - l.opts.window);
      return {
        firstSequence: l.opts.startSequence + first,
        lastSequence: l.opts.startSequence + count - 1,
        published: count,
        ended: l.endedAt !== null,
        started: l.startedAt !== null,
        segmentPath: (sequence: number) => {
          const k = sequence - l.opts.startSequence;
          if (!loaded || k < 0 || k >= count) return null;
          return join(loaded.dir, loaded.segments[k % loaded.segments.length]!.uri);
        },
      };
    },
    fault(f) {
      const a: ActiveFault = { f, seen: 0, hits: 0 };
      faults.push(a);
      return {
        fault: f,
        get hits() {
          return a.hits;
        },
        get seen() {
          return a.seen;
        },
        remove() {
          const i = faults.indexOf(a);
          if (i >= 0) faults.splice(i, 1);
        },
      };
    },
    clearFaults() {
      faults.length = 0;
    },
    setBandwidth(bps) {
      bandwidth = bps;
    },
    get requests() {
      return requests;
    },
    requestsFor: (p) => requests.filter((r) => matches(p, r.path)),
    get active() {
      return active;
    },
    get maxConcurrent() {
      return maxConcurrent;
    },
    concurrency(p) {
      const rs = p === undefined ? requests : requests.filter((r) => matches(p, r.path));
      const events = rs.flatMap((r) => [
        [r.startedAt, 1],
        [r.endedAt ?? Infinity, -1],
      ]);
      events.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
      let now = 0;
      let max = 0;
      for (const [, d] of events) max = Math.max(max, (now += d!));
      return max;
    },
    resetLog() {
      requests = [];
      maxConcurrent = active;
    },
    reset() {
      server.resetLog();
      faults.length = 0;
      bandwidth = opts.bytesPerSecond;
    },
    handle,
    useOrigin(o) {
      origin = o.replace(/\/$/, '');
    },
    async listen(port = 0) {
      if (own) return origin;
      own = createServer((req, res) => {
        if (!handle(req, res)) res.writeHead(404, { ...CORS, 'content-type': 'text/plain' }).end('not found\n');
      });
      own.keepAliveTimeout = 5000;
      own.on('connection', (s) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
      });
      await new Promise<void>((r) => own!.listen(port, '127.0.0.1', r));
      origin = `http://127.0.0.1:${(own.address() as AddressInfo).port}`;
      return origin;
    },
    async close() {
      for (const res of open) res.destroy();
      if (own) {
        own.closeAllConnections();
        for (const s of sockets) s.destroy();
        await new Promise<void>((r) => own!.close(() => r()));
        own = null;
      }
    },
  };
  return server;
}

/** A stream server listening on 127.0.0.1 and a free port. */
export async function startStreamServer(opts: StreamServerOptions = {}): Promise<StreamServer> {
  const s = createStreamServer(opts);
  await s.listen();
  return s;
}

/** `dir/rel`, or null if `rel` climbs out of `dir`. */
function safeJoin(dir: string, rel: string): string | null {
  if (!rel || rel.includes('\0')) return null;
  const abs = resolve(dir, rel);
  return abs.startsWith(dir + sep) ? abs : null;
}

function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise((done) => {
    const end = () => {
      res.off('drain', end);
      res.off('close', end);
      done();
    };
    res.on('drain', end);
    res.on('close', end);
  });
}
