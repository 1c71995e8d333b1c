/**
 * One client for a keyed provider's API: the base URL, the key on every request to the provider's
 * own origin (and nowhere else: {@link keyHeaders}), JSON in and out validated with the provider's
 * zod schema, and every failure put in the provider's own words. Built on the context's shared
 * HttpClient, so the per-host connection cap and the retry table hold across providers and jobs.
 */
import type { z } from 'zod';
import { ProviderError, toVidmuxError, type VidmuxError } from '../../errors';
import { failureDetail, HttpClient, type FailureDetail, type RequestHooks } from '../../net/http';
import type { RetryTracker, Sleep } from '../../net/retry-policy';
import type { KeyedProvider } from '../../schemas/ids';
import { assertSafeBaseUrl, DEFAULT_BASE_URLS, keyHeaders } from './auth';

/** One call, as the provider's wording sees it. */
export interface CallInfo {
  method: string;
  path: string;
  /** What the call does, in the provider's words ("start the download", "/info"). */
  what: string;
  /** Extra words a provider's wording may use for this call (e.g. what "not found" means here). */
  notFound?: string;
}

/**
 * A provider's words for a failure: an error answer (`detail.status`, `detail.body`: 4xx at once,
 * 429 and 5xx after the retry table gave up) or a transport failure (no status: network, timeout).
 */
export type ProviderWording = (error: VidmuxError, detail: FailureDetail, call: CallInfo) => VidmuxError;

/** Options of {@link ProviderApi}. */
export interface ProviderApiOptions {
  provider: KeyedProvider;
  /** The provider's name in messages ("VidPickr"). */
  name: string;
  apiKey: string | null;
  /** Default: the provider's real API. */
  baseUrl?: string | null;
  /** The context's client; a new one (waiting with `sleep`) when not given: tests, scripts. */
  http?: HttpClient;
  sleep?: Sleep;
  /** How the key travels: the header and its value. Default `X-API-Key: <key>`. */
  auth?: (key: string) => { header: string; value: string };
  /** More hooks for every request of this provider (e.g. its rate window). */
  hooks?: RequestHooks;
  wording: ProviderWording;
}

/** Call options of {@link ProviderApi.call}. */
export interface CallOptions {
  what: string;
  notFound?: string;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
  /** A retry counter with its own policy (e.g. a submit that must not be sent twice). */
  retry?: RetryTracker;
  /** Answer statuses a caller reads itself (besides 2xx). */
  accept?: (status: number) => boolean;
}

export { ProviderError };

export class ProviderApi {
  readonly provider: KeyedProvider;
  readonly name: string;
  readonly baseUrl: string;
  readonly apiKey: string | null;
  /**
   * The provider's client: its key on its own origin, its hooks. Also for streams the provider
   * serves from its API origin (VidPickr). Never for storage links: those go through the context's
   * plain client, which carries no key.
   */
  readonly http: HttpClient;
  /** The context's plain client, which carries no key: for storage links and other hosts. */
  readonly plain: HttpClient;
  private readonly wording: ProviderWording;

  constructor(opts: ProviderApiOptions) {
    this.provider = opts.provider;
    this.name = opts.name;
    this.apiKey = opts.apiKey;
    this.baseUrl = (opts.baseUrl ?? DEFAULT_BASE_URLS[opts.provider]).replace(/\/+$/, '');
    this.wording = opts.wording;
    const auth = opts.auth ?? ((key: string) => ({ header: 'X-API-Key', value: key }));
    this.plain = opts.http ?? new HttpClient(opts.sleep ? { sleep: opts.sleep } : {});
    this.http = this.plain.with(
      {
        ...opts.hooks,
        headers: (url) => {
          const a = this.apiKey ? auth(this.apiKey) : { header: 'X-API-Key', value: null };
          return { ...opts.hooks?.headers?.(url), ...keyHeaders(url, this.baseUrl, a.header, a.value, this.provider) };
        },
      },
      { provider: opts.provider },
    );
  }

  /** The absolute URL of an API path (`/info?url=...`); checks the base URL is safe for the key. */
  url(path: string): string {
    assertSafeBaseUrl(this.baseUrl, this.provider);
    return `${this.baseUrl}${path}`;
  }

  /** Fails early (no key, unsafe base URL) without sending anything. */
  assertUsable(): void {
    keyHeaders(this.url('/'), this.baseUrl, 'x-check', this.apiKey, this.provider);
  }

  /** One call; the answer's status, headers and text. Failures in the provider's words. */
  async call(method: string, path: string, opts: CallOptions): Promise<{ status: number; headers: Headers; text: string }> {
    const info: CallInfo = { method, path, what: opts.what, ...(opts.notFound ? { notFound: opts.notFound } : {}) };
    try {
      const res = await this.http.request(this.url(path), {
        method,
        headers: { accept: 'application/json', ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }), ...opts.headers },
        ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.retry ? { retry: opts.retry } : {}),
        ...(opts.accept ? { acceptStatus: opts.accept } : {}),
      });
      return { status: res.status, headers: res.headers, text: await res.text() };
    } catch (err) {
      throw this.reword(err, info);
    }
  }

  /** One JSON call, its answer validated with `schema`. */
  async json<S extends z.ZodType>(method: string, path: string, schema: S, opts: CallOptions): Promise<z.infer<S>> {
    const res = await this.call(method, path, opts);
    let data: unknown;
    try {
      data = JSON.parse(res.text);
    } catch (err) {
      throw new ProviderError('bad_response', `${this.name} did not answer ${opts.what} with JSON.`, { provider: this.provider, status: res.status, cause: err });
    }
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
      throw new ProviderError('bad_response', `${this.name}'s answer to ${opts.what} is not what its API documents (${where}${issue?.message ?? 'invalid'}).`, {
        provider: this.provider,
        status: res.status,
        cause: parsed.error,
      });
    }
    return parsed.data;
  }

  /** A failure in the provider's words (cancellation and errors already worded pass through). */
  reword(err: unknown, call: CallInfo): VidmuxError {
    const e = toVidmuxError(err, 'network');
    if (e instanceof ProviderError || e.code === 'cancelled') return e;
    return this.wording(e, failureDetail(e), call);
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  408: 'Request Timeout', 409: 'Conflict', 410: 'Gone', 413: 'Payload Too Large', 418: "I'm a teapot", 422: 'Unprocessable Entity',
  429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

/** "HTTP 404 Not Found": a status in words, for an error answer whose body said nothing. */
export function httpStatusText(status: number): string {
  return `HTTP ${status} ${REASONS[status] ?? ''}`.trim();
}

/** What a provider said, quoted for a message (`: "token expired"`), tidied and cut; '' when it said nothing. */
export function quoteSaid(text: string, max = 200): string {
  const m = text.replace(/\s+/g, ' ').trim().slice(0, max);
  return m ? `: "${m}"` : '';
}
