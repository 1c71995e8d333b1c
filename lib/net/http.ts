/**
 * The one HTTP client of the engine: every provider call and every media fetch goes through it.
 * It adds headers/stall timeouts, AbortSignal cancellation, a per-host connection cap and the
 * retry table of ./retry-policy. Web-standard only (fetch, ReadableStream, AbortController) so it
 * runs in Node, the offscreen document and workers alike.
 *
 * One client per context (the background, the offscreen document, the CLI) is built by the
 * composition root and injected everywhere, so the per-host cap holds across jobs. Callers that
 * need more (a provider's key on its own origin, a rate window, a provider's error wording) derive
 * a client with {@link HttpClient.with} and documented {@link RequestHooks}: the derived client
 * shares the connection limiter and the retry table with its parent. No subclassing, no patching.
 */
import { ProviderError, VidmuxError } from '../errors';
import {
  DEFAULT_RETRY_POLICY,
  DEFAULT_TRANSFER_LIMITS,
  HttpFailure,
  RetryTracker,
  cancelledError,
  realSleep,
  type FailureKind,
  type RetryPolicy,
  type TransferLimits,
  type Sleep,
} from './retry-policy';
import { joinBytes } from './bytes';

/** Never more than this many connections to one host, whatever a caller asks for. */
export const MAX_CONNECTIONS_PER_HOST = 10;

/** One attempt of a request, as hooks see it. A fresh object per attempt: hooks may key state on it. */
export interface AttemptInfo {
  /** The URL of this attempt (a refreshed link has a new one). */
  readonly url: string;
  readonly method: string;
  readonly signal: AbortSignal | undefined;
}

/** An answer's status line and headers, before its body is read. */
export interface ResponseHead {
  readonly status: number;
  readonly headers: Headers;
  readonly url: string;
  /** Where the redirects fetch followed led, when they did (the answer is from there). */
  readonly redirectedTo?: string;
}

/** What the client knew of the last failed attempt, for {@link RequestHooks.mapError}. */
export interface FailureDetail {
  kind: FailureKind | undefined;
  /** HTTP status of the last answer, when there was one. */
  status: number | undefined;
  /** Body of the last error answer (at most 64 KB). */
  body: string | undefined;
  /** Seconds the server asked to wait (Retry-After), when it did. */
  retryAfterSeconds: number | undefined;
}

/**
 * Extension points of a client ({@link HttpClient.with}). For each attempt they run in this order:
 * `beforeAttempt` (before a connection slot is taken), `headers` (for the attempt's actual URL),
 * the request, `afterResponse`, then for an answer the caller did not accept `classify`; when the
 * client finally gives up, `mapError`. Modelled on ky's hooks and mediabunny's `UrlSourceOptions`.
 */
export interface RequestHooks {
  /**
   * Extra headers for this URL, e.g. an API key that `keyHeaders` only hands out for the
   * provider's own origin. Runs per attempt, so a refreshed URL is checked again. Throwing (a
   * VidmuxError) stops the request at once, without a retry.
   */
  headers?(url: string): Record<string, string>;
  /** Waits before each attempt if it must (e.g. for the next rate window); may throw to stop. */
  beforeAttempt?(attempt: AttemptInfo): void | Promise<void>;
  /**
   * Sees the status and headers of every answer (e.g. `X-RateLimit-Remaining`). Throwing (a
   * VidmuxError) refuses the answer: its body is dropped and the request stops, without a retry.
   */
  afterResponse?(attempt: AttemptInfo, response: ResponseHead): void;
  /**
   * Classifies an answer the caller did not accept, from its status and body, when the status
   * alone says too little: e.g. VidPickr's `400 {"error":{"message":"token expired"}}` is
   * `expired` (a fresh URL fixes it). Undefined: the client's own reading of the status.
   */
  classify?(status: number, body: string, url: string): FailureKind | undefined;
  /**
   * Rewords the error the client finally gives up with, in the caller's voice (a provider's error
   * table). Never called for cancellation.
   */
  mapError?(error: VidmuxError, detail: FailureDetail): VidmuxError;
}

/** Most of an error answer's body that is read (for hooks and for the errors that quote it). */
const ERROR_BODY_LIMIT = 64 * 1024;

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
  /**
   * The low-speed limit (curl's --speed-limit / --speed-time): a body slower than
   * `bytesPerSecond` on average over `windowMs` of waiting for the network counts as stalled.
   * Default 1000 B/s over 30 s. Time the consumer takes is not counted.
   */
  lowSpeed?: { bytesPerSecond: number; windowMs: number };
  /** A transfer with no meaningful data for this long in all is given up. Default 90 s. */
  giveUpMs?: number;
  /** Clock for the give-up limit (tests drive it). */
  now?: () => number;
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
  /**
   * The body. A byte stream where the platform's is one (browsers, Node): a reader in `byob` mode
   * then reads straight into the caller's buffer (no chunk allocated per read).
   */
  readonly body: ReadableStream<Uint8Array>;
  /** Drops the body and frees the connection. */
  cancel(): Promise<void>;
  /** Reads the whole body as text. */
  text(): Promise<string>;
  /** Reads the whole body; more than `max` bytes fails with `bad_response` (the body is dropped). */
  bytes(max?: number): Promise<Uint8Array>;
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

/** What a client and the clients derived from it share: one connection cap, one retry table. */
interface SharedState {
  readonly fetchImpl: typeof fetch;
  readonly policy: RetryPolicy;
  readonly sleep: Sleep;
  readonly random: () => number;
  readonly headersTimeoutMs: number;
  readonly stallTimeoutMs: number;
  readonly lowSpeed: { bytesPerSecond: number; windowMs: number };
  readonly limits: TransferLimits;
  readonly now: () => number;
  readonly maxConnectionsPerHost: number;
  readonly limiter: HostLimiter;
}

/** The engine's HTTP client. One per context, shared; derive with {@link HttpClient.with}. */
export class HttpClient {
  readonly provider: string;
  readonly maxConnectionsPerHost: number;
  private readonly shared: SharedState;
  private readonly hooks: RequestHooks;

  /** `derived` is internal: how {@link HttpClient.with} shares its parent's state. */
  constructor(opts: HttpClientOptions = {}, derived?: { shared: SharedState; hooks: RequestHooks }) {
    this.provider = opts.provider ?? 'http';
    if (derived) {
      this.shared = derived.shared;
      this.hooks = derived.hooks;
      this.maxConnectionsPerHost = derived.shared.maxConnectionsPerHost;
      return;
    }
    const maxConnectionsPerHost = Math.max(1, Math.min(opts.maxConnectionsPerHost ?? MAX_CONNECTIONS_PER_HOST, MAX_CONNECTIONS_PER_HOST));
    const headersTimeoutMs = opts.headersTimeoutMs ?? 30_000;
    const stallTimeoutMs = opts.stallTimeoutMs ?? 20_000;
    const lowSpeed = opts.lowSpeed ?? { bytesPerSecond: 1000, windowMs: 30_000 };
    this.shared = {
      fetchImpl: opts.fetch ?? ((input, init) => globalThis.fetch(input, init)),
      policy: opts.policy ?? DEFAULT_RETRY_POLICY,
      sleep: opts.sleep ?? realSleep,
      random: opts.random ?? Math.random,
      headersTimeoutMs,
      stallTimeoutMs,
      lowSpeed,
      limits: {
        ...DEFAULT_TRANSFER_LIMITS,
        giveUpMs: opts.giveUpMs ?? DEFAULT_TRANSFER_LIMITS.giveUpMs,
        attemptMs: Math.max(headersTimeoutMs, stallTimeoutMs, lowSpeed.windowMs),
      },
      now: opts.now ?? (() => Date.now()),
      maxConnectionsPerHost,
      limiter: new HostLimiter(maxConnectionsPerHost),
    };
    this.maxConnectionsPerHost = maxConnectionsPerHost;
    this.hooks = {};
  }

  /**
   * A client with more hooks (composed after this client's own) that shares this client's
   * connection limiter, retry table, fetch and sleep: the per-host cap counts both. `provider`
   * names the new client in errors ("vidpickr" rather than "http").
   */
  with(hooks: RequestHooks, opts: { provider?: string } = {}): HttpClient {
    return new HttpClient({ provider: opts.provider ?? this.provider }, { shared: this.shared, hooks: composeHooks(this.hooks, hooks) });
  }

  /**
   * A client with other time limits (the user's: {@link TransferLimits} settings) that shares
   * everything else with this one, the per-host connection cap included.
   */
  withLimits(limits: { lowSpeedBytesPerSecond: number; lowSpeedSeconds: number; giveUpSeconds: number }): HttpClient {
    const lowSpeed = { bytesPerSecond: limits.lowSpeedBytesPerSecond, windowMs: limits.lowSpeedSeconds * 1000 };
    const shared: SharedState = {
      ...this.shared,
      lowSpeed,
      limits: { ...this.shared.limits, giveUpMs: limits.giveUpSeconds * 1000, attemptMs: Math.max(this.shared.headersTimeoutMs, this.shared.stallTimeoutMs, lowSpeed.windowMs) },
    };
    return new HttpClient({ provider: this.provider }, { shared, hooks: this.hooks });
  }

  /** The sleep this client's retries wait with (tests inject one that does not wait). */
  get sleep(): Sleep {
    return this.shared.sleep;
  }

  /** A fresh retry counter following this client's policy. */
  tracker(): RetryTracker {
    return new RetryTracker(this.shared.policy, this.shared.sleep, this.shared.random, this.shared.limits, this.shared.now);
  }

  /**
   * Sends a request, retrying as the policy says until a 2xx (or an accepted status) arrives.
   * Throws a {@link VidmuxError} when it gives up (reworded by {@link RequestHooks.mapError}) or
   * `signal` aborts.
   */
  async request(target: string | MediaUrl, opts: RequestOptions = {}): Promise<HttpResponse> {
    const media = typeof target === 'string' ? new MediaUrl(target) : target;
    const tracker = opts.retry ?? this.tracker();
    for (;;) {
      const url = media.current;
      try {
        return await this.attempt(url, media.refreshable, opts);
      } catch (err) {
        if (!(err instanceof HttpFailure)) throw this.reword(err);
        await this.recover(err, { tracker, media, url, ...(opts.signal ? { signal: opts.signal } : {}) });
      }
    }
  }

  /**
   * What every transfer does after a failed attempt (a request here, a chunk of a ranged download):
   * follows the retry table (waits, then returns to retry; refreshes an expired link first), or
   * throws the final error, reworded by the hooks. An `expired` failure of a link that cannot be
   * refreshed is final at once.
   */
  async recover(failure: HttpFailure, ctx: { tracker: RetryTracker; media: MediaUrl; url: string; signal?: AbortSignal }): Promise<void> {
    if (failure.kind === 'expired' && !ctx.media.refreshable) {
      throw this.reword(
        new VidmuxError(failure.code, failure.message, {
          ...(failure.provider === undefined ? {} : { provider: failure.provider }),
          ...(failure.status === undefined ? {} : { status: failure.status }),
          cause: failure,
        }),
      );
    }
    let action: 'retry' | 'refresh';
    try {
      action = await ctx.tracker.handle(failure, ctx.signal);
    } catch (err) {
      throw this.reword(err);
    }
    // A refresher's own failure (the provider re-resolving) is already in its words: passed as is.
    if (action === 'refresh') await ctx.media.refresh(ctx.url, ctx.signal);
  }

  /** Applies {@link RequestHooks.mapError} to a final error (cancellation and errors already worded pass untouched). */
  reword(err: unknown): unknown {
    if (!this.hooks.mapError || !(err instanceof VidmuxError) || err instanceof ProviderError || err.code === 'cancelled') return err;
    return this.hooks.mapError(err, failureDetail(err));
  }

  /** Turns a failure seen while reading a body into an {@link HttpFailure} (or passes others through). */
  classifyBodyError(err: unknown, url: string): unknown {
    return err instanceof VidmuxError ? err : this.failure('network', 'network', `The connection to ${describeUrl(url)} broke: ${errorText(err)}.`, { cause: err });
  }

  /** Builds an {@link HttpFailure} naming this client's provider. */
  failure(kind: FailureKind, code: HttpFailure['code'], message: string, extra: { status?: number; cause?: unknown; retryAfterSeconds?: number; body?: string } = {}): HttpFailure {
    return new HttpFailure(kind, code, message, { provider: this.provider, ...extra });
  }

  /** One attempt: runs the hooks, waits for a host slot, sends, checks the status, wraps the body. */
  private async attempt(url: string, refreshable: boolean, opts: RequestOptions): Promise<HttpResponse> {
    const signal = opts.signal;
    if (signal?.aborted) throw cancelledError(signal);
    const info: AttemptInfo = { url, method: opts.method ?? 'GET', signal };
    await this.hooks.beforeAttempt?.(info);
    if (signal?.aborted) throw cancelledError(signal);
    const hooked = this.hooks.headers?.(url);
    const headers = hooked ? { ...opts.headers, ...hooked } : opts.headers;
    // fetch keeps custom headers (an API key) on a redirect to another host: a request that
    // carries headers a hook added for this URL is never redirected.
    const followRedirects = !hooked || Object.keys(hooked).length === 0;
    const { limiter, headersTimeoutMs, stallTimeoutMs: stallMs, fetchImpl } = this.shared;
    const release = await limiter.acquire(hostOf(url), signal);
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
    }, headersTimeoutMs);
    try {
      res = await fetchImpl(url, {
        method: info.method,
        ...(headers ? { headers } : {}),
        ...(opts.body === undefined ? {} : { body: opts.body }),
        signal: fetchSignal.signal,
        redirect: followRedirects ? 'follow' : 'manual',
        // Nothing we fetch is read twice: a CDN's cacheable segments would otherwise be written
        // into the browser's HTTP cache as they pass (a second copy of the video on disk, and
        // the user's cached pages evicted for it).
        cache: 'no-store',
      });
    } catch (err) {
      finish();
      if (signal?.aborted) throw cancelledError(signal);
      if (why === 'timeout') {
        throw this.failure('timeout', 'timeout', `${describeUrl(url)} sent no answer within ${Math.round(headersTimeoutMs / 1000)} s.`, { cause: err });
      }
      throw this.failure('network', 'network', `Could not reach ${describeUrl(url)}: ${errorText(err)}.`, { cause: err });
    } finally {
      clearTimeout(timer);
    }

    try {
      this.hooks.afterResponse?.(info, { status: res.status, headers: res.headers, url, ...(res.redirected && res.url ? { redirectedTo: res.url } : {}) });
    } catch (err) {
      await res.body?.cancel().catch(() => {});
      finish();
      throw err;
    }
    if (!followRedirects && (res.type === 'opaqueredirect' || (res.status >= 300 && res.status < 400))) {
      await res.body?.cancel().catch(() => {});
      finish();
      const where = describeUrl(url);
      throw this.failure('client_error', 'forbidden', `${where} answered with a redirect; Vidmux does not follow it with the key it sent there.`, res.status ? { status: res.status } : {});
    }
    if (!(res.status >= 200 && res.status < 300) && !opts.acceptStatus?.(res.status)) {
      // The body of an error answer says more than its status (a provider's error code). A body
      // that stalls is given up after the stall timeout, like any other.
      const stall = setTimeout(() => ctrl.abort(), stallMs);
      const body = await readLimited(res, ERROR_BODY_LIMIT).finally(() => clearTimeout(stall));
      finish();
      if (signal?.aborted) throw cancelledError(signal);
      const kind = this.hooks.classify?.(res.status, body, url);
      throw this.statusFailure(res, url, refreshable, kind, body);
    }

    const source = res.body;
    // The platform's body as a byte stream, when it is one: a BYOB read of ours is passed on to it.
    const bytes = source !== null && isByteStream(source);
    let reader: ReadableStreamDefaultReader<Uint8Array> | ReadableStreamBYOBReader | undefined;
    const stallTimeoutMs = stallMs;
    const slow = new LowSpeedWatch(this.shared.lowSpeed);
    let tooSlow = false;
    const classifyBodyError = (err: unknown): unknown => {
      if (signal?.aborted) return cancelledError(signal);
      if (why === 'stalled') {
        return this.failure('stalled', 'timeout', `${describeUrl(url)} stopped sending data for ${fmtSeconds(stallTimeoutMs)} (the stall limit).`, { cause: err });
      }
      if (tooSlow) {
        const { bytesPerSecond, windowMs } = this.shared.lowSpeed;
        return this.failure('stalled', 'timeout', `${describeUrl(url)} sent less than ${bytesPerSecond} bytes/s for ${fmtSeconds(windowMs)} (the low-speed limit).`, { cause: err });
      }
      return this.classifyBodyError(err, url);
    };
    // One stall timer per body, not one per read (a read is often one 16 KB packet: tens of
    // thousands a GB, and a timer set and cleared for each cost the engine's thread 0.3 s a GB in
    // bench:browser's HLS). It fires when the read under way would be stalled; if another read
    // is under way by then, it waits for that one's deadline.
    let readSince: number | null = null;
    let stallTimer: ReturnType<typeof setTimeout> | undefined;
    const watchStall = () => {
      stallTimer = undefined;
      if (readSince === null || finished) return;
      const waited = performance.now() - readSince;
      if (waited < stallTimeoutMs) {
        stallTimer = setTimeout(watchStall, stallTimeoutMs - waited);
        return;
      }
      why = 'stalled';
      ctrl.abort();
    };
    const stopWatch = () => {
      clearTimeout(stallTimer);
      stallTimer = undefined;
    };
    const pull = async (controller: ReadableStreamDefaultController<Uint8Array> | ReadableByteStreamController) => {
      if (!source) {
        finish();
        controller.close();
        return;
      }
      const asked = performance.now();
      readSince = asked;
      stallTimer ??= setTimeout(watchStall, stallTimeoutMs);
      try {
        // A BYOB read of ours goes to the platform's stream as one (the reader's mode is fixed by
        // the first read); any other read is a chunk enqueued (a byte stream copies it into a
        // pending BYOB read).
        const into = bytes ? (controller as ReadableByteStreamController).byobRequest : null;
        reader ??= into ? source.getReader({ mode: 'byob' }) : source.getReader();
        const { done, value } =
          reader instanceof ReadableStreamBYOBReader
            ? // A plain read after BYOB ones: the platform's reader needs a buffer all the same.
              await reader.read((into?.view as Uint8Array<ArrayBuffer> | undefined) ?? new Uint8Array(PLAIN_READ_BYTES))
            : await reader.read();
        if (done) {
          finish();
          stopWatch();
          controller.close();
          // A BYOB read still waiting is answered with nothing (the stream is done): with the
          // view the platform gave back when ours went to it (ours is detached), else ours.
          if (into && value && reader instanceof ReadableStreamBYOBReader) into.respondWithNewView(value as Uint8Array<ArrayBuffer>);
          else into?.respond(0);
        } else {
          if (slow.add(performance.now() - asked, value.length)) {
            tooSlow = true;
            ctrl.abort();
            throw new Error('too slow');
          }
          if (into && reader instanceof ReadableStreamBYOBReader) into.respondWithNewView(value as Uint8Array<ArrayBuffer>);
          else controller.enqueue(value as Uint8Array<ArrayBuffer>);
        }
      } catch (err) {
        finish();
        stopWatch();
        controller.error(classifyBodyError(err));
      } finally {
        readSince = null;
      }
    };
    const cancel = async (reason: unknown) => {
      finish();
      stopWatch();
      ctrl.abort();
      await (reader ?? source)?.cancel(reason).catch(() => {});
    };
    // highWaterMark 0: read from the network only when our consumer asks, so a slow consumer
    // is not mistaken for a stalled server and nothing piles up here.
    const body: ReadableStream<Uint8Array> = bytes
      ? (new ReadableStream({ type: 'bytes', pull, cancel }, { highWaterMark: 0 }) as ReadableStream<Uint8Array>)
      : new ReadableStream<Uint8Array>({ pull, cancel }, { highWaterMark: 0 });

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
      bytes: async (max = Infinity) => {
        const chunks: Uint8Array[] = [];
        let n = 0;
        const r = body.getReader();
        for (;;) {
          const { done, value } = await r.read();
          if (done) break;
          n += value.length;
          if (n > max) {
            await r.cancel().catch(() => {});
            throw new VidmuxError('bad_response', `${describeUrl(url)} sent more than the ${max} bytes expected.`);
          }
          chunks.push(value);
        }
        return joinBytes(chunks, n);
      },
    };
  }

  /**
   * Maps a non-2xx status to a failure with a stable code and a message a person understands;
   * `kind` is a hook's reading of the answer, when it had one.
   */
  private statusFailure(res: Response, url: string, refreshable: boolean, kind: FailureKind | undefined, body: string | undefined): HttpFailure {
    const s = res.status;
    const where = describeUrl(url);
    const what = `${s}${res.statusText ? ` ${res.statusText}` : ''}`;
    const extra = { status: s, ...(body === undefined ? {} : { body }) };
    if (kind === 'expired' || (kind === undefined && (s === 403 || s === 410) && refreshable)) {
      return this.failure('expired', 'expired', `The link to ${where} expired or was refused (${what}).`, extra);
    }
    if (kind === undefined && s === 429) {
      const retryAfterSeconds = parseRetryAfter(res.headers.get('retry-after'));
      return this.failure('rate_limited', 'rate_limited', `${where} is rate limiting us (${what}).`, {
        ...extra,
        ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
      });
    }
    if (kind === undefined && s === 502) return this.failure('bad_gateway', 'http_error', `${where} failed with a gateway error (${what}).`, extra);
    if (kind === undefined && s >= 500) return this.failure('server_error', 'http_error', `${where} had a server error (${what}).`, extra);
    const code = s === 401 ? 'unauthorized' : s === 403 ? 'forbidden' : s === 404 ? 'not_found' : s === 410 ? 'expired' : s === 429 ? 'rate_limited' : 'http_error';
    const meaning =
      s === 401 ? 'needs authorization' : s === 403 ? 'refused access' : s === 404 ? 'has no such file' : s === 410 ? 'says the link is gone' : 'rejected the request';
    return this.failure(kind ?? 'client_error', code, `${where} ${meaning} (${what}).`, extra);
  }
}

/** Hooks of a derived client: the parent's first, then the child's (the child's words win). */
function composeHooks(parent: RequestHooks, child: RequestHooks): RequestHooks {
  const out: RequestHooks = {};
  if (parent.headers || child.headers) out.headers = (url) => ({ ...parent.headers?.(url), ...child.headers?.(url) });
  if (parent.beforeAttempt || child.beforeAttempt) {
    out.beforeAttempt = async (a) => {
      await parent.beforeAttempt?.(a);
      await child.beforeAttempt?.(a);
    };
  }
  if (parent.afterResponse || child.afterResponse) {
    out.afterResponse = (a, r) => {
      parent.afterResponse?.(a, r);
      child.afterResponse?.(a, r);
    };
  }
  if (parent.classify || child.classify) out.classify = (s, b, u) => child.classify?.(s, b, u) ?? parent.classify?.(s, b, u);
  if (parent.mapError || child.mapError) {
    out.mapError = (e, d) => {
      const first = parent.mapError ? parent.mapError(e, d) : e;
      return child.mapError ? child.mapError(first, d) : first;
    };
  }
  return out;
}

/**
 * Up to `limit` bytes of a body as text. By default the rest is dropped and a body that breaks off
 * gives what came (an error body is only context); with `tooBig`, a longer body fails with that
 * error and a broken one with its own (an answer that is the result).
 */
export async function readLimited(res: Response, limit: number, strict?: { tooBig(): Error }): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const decoder = new TextDecoder();
  let text = '';
  let n = 0;
  try {
    while (strict || n < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      n += value.length;
      if (strict && n > limit) throw strict.tooBig();
      text += decoder.decode(value, { stream: true });
    }
  } catch (err) {
    if (strict) throw err;
    /* a broken error body: what we have is all there is */
  } finally {
    await reader.cancel().catch(() => {});
  }
  return (text + decoder.decode()).slice(0, strict ? undefined : limit);
}

/** The status, body and kind of the HTTP failure behind a final error, when there was one. */
export function failureDetail(err: unknown): FailureDetail {
  const e = err instanceof VidmuxError ? err : undefined;
  const failure = err instanceof HttpFailure ? err : e?.cause instanceof HttpFailure ? e.cause : undefined;
  return { kind: failure?.kind, status: e?.status ?? failure?.status, body: failure?.body, retryAfterSeconds: failure?.retryAfterSeconds };
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

/**
 * The low-speed limit of one response body: the bytes that came over the last `windowMs` of time
 * spent waiting on the network (not on our consumer). Says "too slow" once a whole window has
 * passed with less than `bytesPerSecond` on average in it.
 */
class LowSpeedWatch {
  private waited = 0;
  private received = 0;
  /** [waited, received] after each read, oldest first; trimmed to the window. */
  private readonly marks: Array<[number, number]> = [[0, 0]];

  constructor(private readonly limit: { bytesPerSecond: number; windowMs: number }) {}

  add(waitedMs: number, bytes: number): boolean {
    this.waited += waitedMs;
    this.received += bytes;
    this.marks.push([this.waited, this.received]);
    const from = this.waited - this.limit.windowMs;
    if (from < 0) return false;
    // The newest mark at or before the window's start: the bytes since it are the window's.
    while (this.marks.length > 1 && this.marks[1]![0] <= from) this.marks.shift();
    const [, before] = this.marks[0]!;
    return this.received - before < (this.limit.bytesPerSecond * this.limit.windowMs) / 1000;
  }
}

/** A signal that aborts when either does, with a way to detach from `outer` when done. */
export function anySignal(outer: AbortSignal, inner: AbortSignal): { signal: AbortSignal; dispose(): void } {
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
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause : undefined;
  const code = (cause as { code?: string } | undefined)?.code;
  return cause ? `${cause.message}${code ? ` (${code})` : ''}` : err.message;
}

/** A plain read's buffer once the platform's body is read in `byob` mode. */
const PLAIN_READ_BYTES = 64 * 1024;

/** A `byob` reader of `stream`, or null when it is not a byte stream. */
export function byobReader(stream: ReadableStream<Uint8Array>): ReadableStreamBYOBReader | null {
  try {
    return stream.getReader({ mode: 'byob' });
  } catch {
    return null;
  }
}

/** Whether `stream` is a byte stream (nothing is left locked). */
function isByteStream(stream: ReadableStream<Uint8Array>): boolean {
  const reader = byobReader(stream);
  reader?.releaseLock();
  return reader !== null;
}
