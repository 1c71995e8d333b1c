/**
 * A fake media host for tests and benchmarks: serves files with Range support like a real CDN,
 * with an optional per-connection bandwidth cap and faults switched on per request through the
 * query string. It is no kinder than real servers: resets are TCP resets, stalls keep the socket
 * open forever, expired links answer 403.
 *
 * Query parameters (all optional; build them with {@link MediaServer.fileUrl}):
 * - `cap=<bytes/s>`       bandwidth cap per connection (overrides the server-wide cap)
 * - `status=<code>`       answer with this status instead (e.g. 500, 502, 503, 429)
 * - `retryAfter=<s>`      with `status=429`: the Retry-After header
 * - `reset=<bytes>`       reset the connection (TCP RST) after sending this many body bytes
 * - `truncate=<bytes>`    send this many body bytes, then end. A 206 ends cleanly in chunked
 *                         encoding (no Content-Length), as proxies that re-chunk do, so only
 *                         Content-Range reveals the loss; a 200 keeps Content-Length and the
 *                         connection closes early
 * - `stall=<bytes>`       send this many body bytes, then nothing more (socket stays open)
 * - `drip=<bytes/s>`      send the body at this rate in small pieces (10 a second), never stalling
 * - `ignoreRange=1`       answer every request 200 with the whole file, no Accept-Ranges
 * - `noLength=1`          with ignoreRange: no Content-Length either (size unknown to the client)
 * - `badRange=1`          answer ranges with a Content-Range that starts one byte off
 * - `html=1`              answer 200 with a web page (text/html), as a server's error or login page
 * - `htmlAsVideo=1`       the same page, typed video/mp4
 * - `empty=1`             answer 200 with an empty body (Content-Length: 0)
 * - `changeAfter=<n>`     from request n+1 on the file is a new version (other bytes, other ETag and
 *                         Last-Modified; bytes from 64 on differ); `If-Range` is honoured (a stale one gets the whole new
 *                         file, 200). Not subject to after/times.
 * - `grow=<bytes>`        with changeAfter: the new version is this much longer
 * - `noValidators=1`      no ETag nor Last-Modified
 * - `after=<n>`, `times=<k>` the fault applies to requests n+1..n+k of this URL (default: all;
 *                         the probe is the first request)
 * Expiring links carry `token=`; once expired they answer 403, and {@link MediaServer.refreshUrl}
 * issues a new one.
 */
import { parseRange } from './static-range';
import { open as openFile, readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** Faults and limits for one URL; see the module comment. */
export interface FaultSpec {
  cap?: number;
  status?: number;
  retryAfter?: number;
  reset?: number;
  truncate?: number;
  stall?: number;
  drip?: number;
  ignoreRange?: boolean;
  noLength?: boolean;
  badRange?: boolean;
  html?: boolean;
  htmlAsVideo?: boolean;
  empty?: boolean;
  changeAfter?: number;
  grow?: number;
  noValidators?: boolean;
  after?: number;
  times?: number;
}

/** The web page a failing server sends instead of the file. */
export const ERROR_PAGE = '<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head><body><h1>Service Unavailable</h1><p>Please try again later.</p></body></html>\n';

/** One request as the server saw it. */
export interface RequestRecord {
  path: string;
  method: string;
  range: string | null;
  ifRange: string | null;
  status: number;
  /** Range asked for, parsed (null without a Range header). */
  start: number | null;
  end: number | null;
  /** Body bytes actually written. */
  bytesSent: number;
  /** Whether the fault of this URL applied. */
  faulted: boolean;
}

/** Options of {@link startMediaServer}. */
export interface MediaServerOptions {
  /** Default bandwidth cap per connection, bytes per second. */
  bytesPerSecond?: number;
}

/** A running fake. */
export interface MediaServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Adds a file served at `/files/<name>`, from memory or from disk. */
  addFile(name: string, data: Uint8Array | { path: string }): Promise<void>;
  /** A URL of `name` with `faults`. Each call gets its own fault counter. */
  fileUrl(name: string, faults?: FaultSpec): string;
  /** A signed URL of `name` that answers 403 from `lifetimeMs` after now. */
  expiringUrl(name: string, lifetimeMs: number, faults?: FaultSpec): string;
  /** A fresh signed URL to replace an expired one (same file, faults and lifetime). */
  refreshUrl(staleUrl: string): string;
  /** Every request so far, in arrival order. */
  readonly requests: RequestRecord[];
  /** Requests being answered right now. */
  readonly active: number;
  /** Highest number of requests answered at once. */
  readonly maxActive: number;
  /** Forgets requests and the concurrency high-water mark. */
  resetStats(): void;
  close(): Promise<void>;
}

type Stored = { size: number; memory?: Buffer; path?: string };

const SLICE = 16 * 1024;

/** Starts the fake on 127.0.0.1 and a free port. */
export async function startMediaServer(opts: MediaServerOptions = {}): Promise<MediaServer> {
  const files = new Map<string, Stored>();
  const tokens = new Map<string, { expires: number; lifetimeMs: number }>();
  const hits = new Map<string, number>();
  const requests: RequestRecord[] = [];
  const sockets = new Set<Socket>();
  let active = 0;
  let maxActive = 0;
  let urlCounter = 0;

  const server = createServer((req, res) => {
    active++;
    maxActive = Math.max(maxActive, active);
    let counted = true;
    const done = () => {
      if (counted) {
        counted = false;
        active--;
      }
    };
    res.on('close', done);
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const q = url.searchParams;
    const record: RequestRecord = {
      path: url.pathname,
      method: req.method ?? 'GET',
      range: req.headers.range ?? null,
      ifRange: (req.headers['if-range'] as string | undefined) ?? null,
      status: 0,
      start: null,
      end: null,
      bytesSent: 0,
      faulted: false,
    };
    requests.push(record);
    const reply = (status: number, headers: Record<string, string | number> = {}, body = '') => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };

    const name = decodeURIComponent(url.pathname.replace(/^\/files\//, ''));
    let file = url.pathname.startsWith('/files/') ? files.get(name) : undefined;
    if (!file) return reply(404, {}, 'not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, { allow: 'GET, HEAD' });

    const token = q.get('token');
    if (token !== null) {
      const t = tokens.get(token);
      if (!t || Date.now() >= t.expires) return reply(403, {}, 'Forbidden: link expired\n');
    }

    // The fault counter is per URL without the token, so a refreshed link keeps its place.
    const key = `${url.pathname}?k=${q.get('k') ?? ''}`;
    const n = (hits.get(key) ?? 0) + 1;
    hits.set(key, n);
    const after = num(q.get('after')) ?? 0;
    const times = num(q.get('times'));
    const faulty = n > after && (times === undefined || n <= after + times);
    record.faulted = faulty && hasFault(q);
    const f = (k: string) => (faulty ? q.get(k) : null);

    const changeAfter = num(q.get('changeAfter'));
    const changed = changeAfter !== undefined && n > changeAfter;
    if (changed) file = await newVersion(name, file, num(q.get('grow')) ?? 0);

    if (f('html') === '1' || f('htmlAsVideo') === '1') {
      record.status = 200;
      res.writeHead(200, { 'content-type': f('html') === '1' ? 'text/html; charset=utf-8' : 'video/mp4', 'content-length': Buffer.byteLength(ERROR_PAGE) });
      res.end(req.method === 'HEAD' ? undefined : ERROR_PAGE);
      return;
    }
    if (f('empty') === '1') return reply(200, { 'content-type': 'video/mp4' });

    const status = num(f('status'));
    if (status !== undefined) {
      const retryAfter = f('retryAfter');
      return reply(status, retryAfter === null ? {} : { 'retry-after': retryAfter }, `fault: status ${status}\n`);
    }

    const ignoreRange = f('ignoreRange') === '1';
    const noLength = f('noLength') === '1';
    const etag = `"${file.size.toString(16)}-${name.length}${changed ? '-v2' : ''}"`;
    const lastModified = new Date(changed ? 86_400_000 : 0).toUTCString();
    const headers: Record<string, string | number> = {
      'content-type': name.endsWith('.mp4') ? 'video/mp4' : 'application/octet-stream',
      ...(q.get('noValidators') === '1' ? {} : { etag, 'last-modified': lastModified }),
      'cache-control': 'private, max-age=0',
    };
    if (!ignoreRange) headers['accept-ranges'] = 'bytes';

    let start = 0;
    let end = file.size; // exclusive
    let code = 200;
    // If-Range (RFC 9110 13.1.5): a range only of the version the client names; else the whole file.
    const ifRange = req.headers['if-range'];
    const stale = ifRange !== undefined && ifRange !== etag && ifRange !== lastModified;
    const rangeHeader = ignoreRange || stale ? undefined : req.headers.range;
    if (rangeHeader !== undefined) {
      const r = parseRange(rangeHeader, file.size);
      if (r === 'unsatisfiable') return reply(416, { 'content-range': `bytes */${file.size}` });
      if (r !== null) {
        start = r.start;
        end = r.end + 1; // the shared parser's end is inclusive
        code = 206;
        record.start = start;
        record.end = end;
        const shift = f('badRange') === '1' ? 1 : 0;
        headers['content-range'] = `bytes ${start + shift}-${end - 1 + shift}/${file.size}`;
      }
    }
    const truncate = num(f('truncate'));
    // A truncated 206 is chunked (no Content-Length), so only Content-Range reveals the loss; a
    // truncated 200 keeps its Content-Length and the connection closes early, as a dying origin's would.
    const chunkedTruncation = truncate !== undefined && code === 206;
    if (!chunkedTruncation && !noLength) headers['content-length'] = end - start;
    record.status = code;
    res.writeHead(code, headers);
    if (req.method === 'HEAD') return void res.end();
    res.flushHeaders(); // headers go out now, as real servers do, even if the body then stalls

    const drip = num(f('drip'));
    const cap = drip ?? num(q.get('cap')) ?? opts.bytesPerSecond;
    const reset = num(f('reset'));
    const stall = num(f('stall'));
    const limit = Math.min(end - start, truncate ?? Infinity, reset ?? Infinity, stall ?? Infinity);
    await sendBody(res, file, start, start + limit, cap, (n) => (record.bytesSent += n), drip ? Math.max(1, Math.floor(drip / 10)) : SLICE);
    if (res.destroyed) return;
    if (reset !== undefined && limit === reset) {
      const socket = res.socket;
      if (socket && 'resetAndDestroy' in socket) (socket as Socket & { resetAndDestroy(): void }).resetAndDestroy();
      else res.destroy();
      return;
    }
    if (stall !== undefined && limit === stall) return; // keep the socket open and silent
    if (truncate !== undefined && limit === truncate && !chunkedTruncation && headers['content-length'] !== undefined) {
      res.socket?.end(); // FIN after a short body: the client sees fewer bytes than Content-Length
      return;
    }
    res.end();
  }

  /** The file's next version (cached): every byte different, optionally longer. */
  const versions = new Map<string, Stored>();
  async function newVersion(name: string, file: Stored, grow: number): Promise<Stored> {
    const key = `${name}+${grow}`;
    let v = versions.get(key);
    if (!v) {
      const old = file.memory ?? (await readFile(file.path!));
      const memory = Buffer.alloc(old.length + grow, 0x5a);
      // Other bytes from 64 on: the new version still starts like the same kind of file.
      for (let i = 0; i < old.length; i++) memory[i] = i < 64 ? old[i]! : old[i]! ^ 0x5a;
      versions.set(key, (v = { size: memory.length, memory }));
    }
    return v;
  }

  /** Writes `[start, end)` of a file, paced to `cap` bytes/s, honouring socket backpressure. */
  async function sendBody(res: ServerResponse, file: Stored, start: number, end: number, cap: number | undefined, sent: (n: number) => void, slice = SLICE) {
    const t0 = performance.now();
    let written = 0;
    const handle = file.path ? await openFile(file.path, 'r') : null;
    const buf = handle ? Buffer.allocUnsafe(256 * 1024) : null;
    try {
      let pos = start;
      while (pos < end && !res.destroyed) {
        let data: Buffer;
        if (handle && buf) {
          const want = Math.min(buf.length, end - pos);
          const { bytesRead } = await handle.read(buf, 0, want, pos);
          if (bytesRead === 0) break;
          data = Buffer.from(buf.subarray(0, bytesRead)); // a copy: the socket may hold on to it
        } else {
          data = file.memory!.subarray(pos, Math.min(end, pos + 256 * 1024));
        }
        for (let off = 0; off < data.length && !res.destroyed; off += slice) {
          const part = data.subarray(off, off + slice);
          if (cap) {
            const due = t0 + (written / cap) * 1000;
            const wait = due - performance.now();
            if (wait > 1) await delay(wait);
          }
          if (res.destroyed) return;
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

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  function buildUrl(name: string, faults: FaultSpec, extra: Record<string, string> = {}, k = String(++urlCounter)): string {
    const u = new URL(`/files/${encodeURIComponent(name)}`, origin);
    u.searchParams.set('k', k);
    for (const [key, value] of Object.entries(faults)) {
      if (value === undefined || value === false) continue;
      u.searchParams.set(key, value === true ? '1' : String(value));
    }
    for (const [key, value] of Object.entries(extra)) u.searchParams.set(key, value);
    return u.toString();
  }

  function newToken(lifetimeMs: number): string {
    const token = `t${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    tokens.set(token, { expires: Date.now() + lifetimeMs, lifetimeMs });
    return token;
  }

  return {
    origin,
    async addFile(name, data) {
      if (data instanceof Uint8Array) files.set(name, { size: data.length, memory: Buffer.from(data.buffer, data.byteOffset, data.length) });
      else files.set(name, { size: (await stat(data.path)).size, path: data.path });
    },
    fileUrl: (name, faults = {}) => buildUrl(name, faults),
    expiringUrl: (name, lifetimeMs, faults = {}) => buildUrl(name, faults, { token: newToken(lifetimeMs) }),
    refreshUrl(staleUrl) {
      const u = new URL(staleUrl);
      const old = tokens.get(u.searchParams.get('token') ?? '');
      if (!old) throw new Error('not an expiring URL of this server');
      u.searchParams.set('token', newToken(old.lifetimeMs));
      return u.toString();
    },
    requests,
    get active() {
      return active;
    },
    get maxActive() {
      return maxActive;
    },
    resetStats() {
      requests.length = 0;
      maxActive = active;
    },
    async close() {
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Resolves when the socket can take more data or the response is gone. */
function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function num(v: string | null): number | undefined {
  if (v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function hasFault(q: URLSearchParams): boolean {
  return ['status', 'reset', 'truncate', 'stall', 'drip', 'ignoreRange', 'noLength', 'badRange', 'html', 'htmlAsVideo', 'empty'].some((k) => q.has(k));
}
