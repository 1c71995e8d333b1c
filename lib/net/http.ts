/**
 * The one HTTP client of the engine: every provider call and every media fetch goes through it.
 * It adds headers/stall timeouts, AbortSignal cancellation, a per-host connection cap and the
 * retry table of ./retry-policy. Web-standard only (fetch, ReadableStream, AbortController) so it
 * runs in Node, the offscreen document and workers alike.
 */
import { VidmuxError } from '../errors';
import {
  DEFAULT_RETRY_POLICY,
  HttpFailure,
  RetryTracker,
  cancelledError,
  realSleep,
  type FailureKind,
  type RetryPolicy,
  type Sleep,
} from './retry-policy';

/** Never more than this many connections to one host, whatever a caller asks for. */
export const MAX_CONNECTIONS_PER_HOST = 10;

/** Options of {@link HttpClient}. Everything has a real default; tests inject the rest. */
export interface HttpClientOptions {
  /** Named in errors ("youtube", "http", ...). Default `http`. */
  provider?: string;
  /** The fetch to use. Default: the global one. */
  fetch?: typeof fetch;
  policy?: RetryPolicy;
  /** How retries wait. Tests pass a recorder that does not really wait. */
  sleep?: Sleep;
  /** Source of jitter, in [0, 1). */
  random?: () => number;
  /** Give up an attempt when no response headers came within this. Default 30 s. */
  headersTimeoutMs?: number;
  /** Give up an attempt when the body delivered nothing for this long. Default 20 s. */
  stallTimeoutMs?: number;
  /** Connections per host across everything this client does; capped at {@link MAX_CONNECTIONS_PER_HOST}. */
  maxConnectionsPerHost?: number;
}

/**
 * A URL that may expire (signed media links). `refresh` re-resolves it; concurrent callers that saw
 * the same stale URL share one refresh.
 */
export class MediaUrl {
  private url: string;
  private pending: Promise<string> | null = null;

  constructor(
    url: string,
    private readonly refresher?: (staleUrl: string, signal?: AbortSignal) => Promise<string>,
  ) {
    this.url = url;
  }

  /** The URL to use now. */
  get current(): string {
    return this.url;
  }

  /** Whether a 403/410 can be answered by asking for a fresh URL. */
  get refreshable(): boolean {
    return this.refresher !== undefined;
  }

  /** A fresh URL to replace `staleUrl` (already fresh if someone else refreshed meanwhile). */
  async refresh(staleUrl: string, signal?: AbortSignal): Promise<string> {
    if (staleUrl !== this.url) return this.url;
    if (!this.refresher) throw new VidmuxError('expired', 'The link expired and cannot be renewed.');
    this.pending ??= this.refresher(staleUrl, signal)
      .then((fresh) => (this.url = fresh))
      .finally(() => (this.pending = null));
    try {
      return await this.pending;
    } catch (err) {
      if (err instanceof VidmuxError) throw err;
      throw new VidmuxError('expired', `The link expired and could not be renewed: ${errorText(err)}`, { cause: err });
    }
  }
}

/** Per-request options of {@link HttpClient.request}. */
export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Non-2xx statuses the caller handles itself instead of them being failures (e.g. 416). */
  acceptStatus?: (status: number) => boolean;
  /** Shares retry counts with a longer transfer (a chunk that re-requests after a body failure). */
  retry?: RetryTracker;
}

/**
 * A response whose body is guarded: it fails with an {@link HttpFailure} when it stalls or the
 * connection breaks, and frees the host connection slot when read to the end or cancelled.
 */
export interface HttpResponse {
  readonly status: number;
  readonly headers: Headers;
  /** The URL that was actually requested (after refreshes). */
  readonly url: string;
  readonly body: ReadableStream<Uint8Array>;
  /** Drops the body and frees the connection. */
  cancel(): Promise<void>;
  /** Reads the whole body as text. */
  text(): Promise<string>;
}

/** Counts connections per host and makes extra callers wait their turn. */
class HostLimiter {
  private readonly active = new Map<string, number>();
  private readonly queues = new Map<string, Array<() => void>>();

  constructor(private readonly limit: number) {}

  async acquire(host: string, signal?: AbortSignal): Promise<() => void> {
    if ((this.active.get(host) ?? 0) >= this.limit) {
      await new Promise<void>((resolve, reject) => {
        const queue = this.queues.get(host) ?? [];
        this.queues.set(host, queue);
        const onAbort = () => {
          const i = queue.indexOf(grant);
          if (i >= 0) queue.splice(i, 1);
          reject(cancelledError(signal!));
        };
        const grant = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        queue.push(grant);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    } else {
      this.active.set(host, (this.active.get(host) ?? 0) + 1);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queues.get(host)?.shift();
      if (next) next(); // the slot passes straight to the next waiter
      else this.active.set(host, (this.active.get(host) ?? 1) - 1);
    };
  }
}

/** The engine's HTTP client. Create one per provider (or one shared) and reuse it. */
export class HttpClient {
  readonly provider: string;
  readonly maxConnectionsPerHost: number;
  private readonly fetchImpl: typeof fetch;
  private readonly policy: RetryPolicy;
  private readonly sleep: Sleep;
  private readonly random: () => number;
  private readonly headersTimeoutMs: number;
  private readonly stallTimeoutMs: number;
  private readonly limiter: HostLimiter;

  constructor(opts: HttpClientOptions = {}) {
    this.provider = opts.provider ?? 'http';
    this.fetchImpl = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.policy = opts.policy ?? DEFAULT_RETRY_POLICY;
    this.sleep = opts.sleep ?? realSleep;
    this.random = opts.random ?? Math.random;
    this.headersTimeoutMs = opts.headersTimeoutMs ?? 30_000;
    this.stallTimeoutMs = opts.stallTimeoutMs ?? 20_000;
    this.maxConnectionsPerHost = Math.max(1, Math.min(opts.maxConnectionsPerHost ?? MAX_CONNECTIONS_PER_HOST, MAX_CONNECTIONS_PER_HOST));
    this.limiter = new HostLimiter(this.maxConnectionsPerHost);
  }

  /** A fresh retry counter following this client's policy. */
  tracker(): RetryTracker {
    return new RetryTracker(this.policy, this.sleep, this.random);
  }

  /**
   * Sends a request, retrying as the policy says until a 2xx (or an accepted status) arrives.
   * Throws a {@link VidmuxError} when it gives up or `signal` aborts.
   */
  async request(target: string | MediaUrl, opts: RequestOptions = {}): Promise<HttpResponse> {
    const media = typeof target === 'string' ? new MediaUrl(target) : target;
    const tracker = opts.retry ?? this.tracker();
    for (;;) {
      const url = media.current;
      try {
        return await this.attempt(url, media.refreshable, opts);
      } catch (err) {
        if (!(err instanceof HttpFailure)) throw err;
        const action = await tracker.handle(err, opts.signal);
        if (action === 'refresh') await media.refresh(url, opts.signal);
      }
    }
  }

  /** GETs JSON with retries; `parse` validates it (e.g. a zod schema's `parse`). */
  async json<T>(target: string | MediaUrl, parse: (data: unknown) => T, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(target, { ...opts, headers: { accept: 'application/json', ...opts.headers } });
    const text = await res.text();
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new VidmuxError('bad_response', `${describeUrl(res.url)} did not answer with JSON.`, { provider: this.provider, cause: err });
    }
    return parse(data);
  }

  /** Turns a failure seen while reading a body into an {@link HttpFailure} (or passes others through). */
  classifyBodyError(err: unknown, url: string): unknown {
    return err instanceof VidmuxError ? err : this.failure('network', 'network', `The connection to ${describeUrl(url)} broke: ${errorText(err)}.`, { cause: err });
  }

  /** Builds an {@link HttpFailure} naming this client's provider. */
  failure(kind: FailureKind, code: HttpFailure['code'], message: string, extra: { status?: number; cause?: unknown; retryAfterSeconds?: number } = {}): HttpFailure {
    return new HttpFailure(kind, code, message, { provider: this.provider, ...extra });
  }

  /** One attempt: waits for a host slot, sends, checks the status, wraps the body. */
  private async attempt(url: string, refreshable: boolean, opts: RequestOptions): Promise<HttpResponse> {
    const signal = opts.signal;
    if (signal?.aborted) throw cancelledError(signal);
    const release = await this.limiter.acquire(hostOf(url), signal);
    // Our own controller stops this attempt on a timeout or stall; the caller's signal stops it too.
    // AbortSignal.any adds no listener to the caller's signal, which many attempts share.
    const ctrl = new AbortController();
    let why: 'timeout' | 'stalled' | null = null;
    const fetchSignal = signal ? anySignal(signal, ctrl.signal) : { signal: ctrl.signal, dispose: () => {} };
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      fetchSignal.dispose();
      release();
    };

    let res: Response;
    const timer = setTimeout(() => {
      why = 'timeout';
      ctrl.abort();
    }, this.headersTimeoutMs);
    try {
      res = await this.fetchImpl(url, {
        method: opts.method ?? 'GET',
        ...(opts.headers ? { headers: opts.headers } : {}),
        ...(opts.body === undefined ? {} : { body: opts.body }),
        signal: fetchSignal.signal,
        redirect: 'follow',
      });
    } catch (err) {
      finish();
      if (signal?.aborted) throw cancelledError(signal);
      if (why === 'timeout') {
        throw this.failure('timeout', 'timeout', `${describeUrl(url)} sent no answer within ${Math.round(this.headersTimeoutMs / 1000)} s.`, { cause: err });
      }
      throw this.failure('network', 'network', `Could not reach ${describeUrl(url)}: ${errorText(err)}.`, { cause: err });
    } finally {
      clearTimeout(timer);
    }

    if (!(res.status >= 200 && res.status < 300) && !opts.acceptStatus?.(res.status)) {
      await res.body?.cancel().catch(() => {});
      finish();
      throw this.statusFailure(res, url, refreshable);
    }

    const source = res.body;
    const reader = source?.getReader();
    const stallTimeoutMs = this.stallTimeoutMs;
    const classifyBodyError = (err: unknown): unknown => {
      if (signal?.aborted) return cancelledError(signal);
      if (why === 'stalled') {
        return this.failure('stalled', 'timeout', `${describeUrl(url)} stopped sending data for ${fmtSeconds(stallTimeoutMs)}.`, { cause: err });
      }
      return this.classifyBodyError(err, url);
    };
    // highWaterMark 0: read from the network only when our consumer asks, so a slow consumer
    // is not mistaken for a stalled server and nothing piles up here.
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          if (!reader) {
            finish();
            controller.close();
            return;
          }
          const stallTimer = setTimeout(() => {
            why = 'stalled';
            ctrl.abort();
          }, stallTimeoutMs);
          try {
            const { done, value } = await reader.read();
            if (done) {
              finish();
              controller.close();
            } else {
              controller.enqueue(value);
            }
          } catch (err) {
            finish();
            controller.error(classifyBodyError(err));
          } finally {
            clearTimeout(stallTimer);
          }
        },
        async cancel(reason) {
          finish();
          ctrl.abort();
          await reader?.cancel(reason).catch(() => {});
        },
      },
      { highWaterMark: 0 },
    );

    return {
      status: res.status,
      headers: res.headers,
      url,
      body,
      cancel: () => body.cancel().catch(() => {}),
      text: async () => {
        const chunks: Uint8Array[] = [];
        const r = body.getReader();
        for (;;) {
          const { done, value } = await r.read();
          if (done) break;
          chunks.push(value);
        }
        const decoder = new TextDecoder();
        return chunks.map((c) => decoder.decode(c, { stream: true })).join('') + decoder.decode();
      },
    };
  }

  /** Maps a non-2xx status to a failure with a stable code and a message a person understands. */
  private statusFailure(res: Response, url: string, refreshable: boolean): HttpFailure {
    const s = res.status;
    const where = describeUrl(url);
    const what = `${s}${res.statusText ? ` ${res.statusText}` : ''}`;
    if (s === 429) {
      const retryAfterSeconds = parseRetryAfter(res.headers.get('retry-after'));
      return this.failure('rate_limited', 'rate_limited', `${where} is rate limiting us (${what}).`, {
        status: s,
        ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
      });
    }
    if (s === 502) return this.failure('bad_gateway', 'http_error', `${where} failed with a gateway error (${what}).`, { status: s });
    if (s >= 500) return this.failure('server_error', 'http_error', `${where} had a server error (${what}).`, { status: s });
    if ((s === 403 || s === 410) && refreshable) {
      return this.failure('expired', 'expired', `The link to ${where} expired or was refused (${what}).`, { status: s });
    }
    const code = s === 401 ? 'unauthorized' : s === 403 ? 'forbidden' : s === 404 ? 'not_found' : s === 410 ? 'expired' : 'http_error';
    const meaning =
      s === 401 ? 'needs authorization' : s === 403 ? 'refused access' : s === 404 ? 'has no such file' : s === 410 ? 'says the link is gone' : 'rejected the request';
    return this.failure('client_error', code, `${where} ${meaning} (${what}).`, { status: s });
  }
}

/** Parses Retry-After: delta seconds or an HTTP date. Undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - now) / 1000);
}

/**
 * A URL as errors show it: host and path only. Query strings carry signatures and keys, so they
 * never appear in a message.
 */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    const text = `${u.host}${u.pathname}`;
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return 'the server';
  }
}

/** A signal that aborts when either does, with a way to detach from `outer` when done. */
function anySignal(outer: AbortSignal, inner: AbortSignal): { signal: AbortSignal; dispose(): void } {
  const any = (AbortSignal as { any?: (signals: AbortSignal[]) => AbortSignal }).any;
  if (any) return { signal: any([outer, inner]), dispose: () => {} };
  // Older browsers: forward by hand.
  const ctrl = new AbortController();
  const forward = () => ctrl.abort(outer.aborted ? outer.reason : inner.reason);
  outer.addEventListener('abort', forward, { once: true });
  inner.addEventListener('abort', forward, { once: true });
  return { signal: ctrl.signal, dispose: () => outer.removeEventListener('abort', forward) };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function fmtSeconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}

/** The most telling text of an error, following `cause` (Node's fetch hides the reason there). */
function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause : undefined;
  const code = (cause as { code?: string } | undefined)?.code;
  return cause ? `${cause.message}${code ? ` (${code})` : ''}` : err.message;
}
