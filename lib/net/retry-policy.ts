/**
 * The retry policy of the network engine, written as data: one row per kind of failure says whether
 * to retry, re-resolve the URL or fail, how many times, and how long to wait. The HTTP client and the
 * ranged fetcher only classify failures and follow this table.
 */
import { VidmuxError, type ErrorCode } from '../errors';

/** What went wrong with one attempt, as far as retrying is concerned. */
export type FailureKind =
  /** 429 Too Many Requests. */
  | 'rate_limited'
  /** 502 Bad Gateway. */
  | 'bad_gateway'
  /** Any other 5xx. */
  | 'server_error'
  /** Connection refused or reset, DNS failure, body cut off by the transport. */
  | 'network'
  /** No response headers within the headers timeout. */
  | 'timeout'
  /** The body stopped delivering bytes for longer than the stall timeout. */
  | 'stalled'
  /** The body ended cleanly but short of what Content-Range / Content-Length promised. */
  | 'truncated'
  /** The response contradicts the request (wrong Content-Range, a 200 to a mid-file range, ...). */
  | 'bad_response'
  /** 403/410 on a media URL that can be re-resolved: the signed link expired. */
  | 'expired'
  /** Any other 4xx, or 403/410 with no way to get a fresh URL. */
  | 'client_error';

/** How long to wait before the n-th retry (n counts from 0). */
export type WaitRule =
  | { readonly kind: 'none' }
  /** Wait `delaysMs[n]`; the last entry repeats if there are more retries than entries. */
  | { readonly kind: 'delays'; readonly delaysMs: readonly number[] }
  /**
   * Wait what the server asked for in Retry-After (or `defaultSeconds` when it did not say), plus up
   * to `jitterMs` so clients that were refused together do not come back together. A server asking
   * for more than `maxSeconds` is treated as a refusal: we fail rather than hang for an hour.
   */
  | { readonly kind: 'retry-after'; readonly defaultSeconds: number; readonly maxSeconds: number; readonly jitterMs: number };

/** One row of the retry table. */
export interface RetryRule {
  /** `retry` the same URL, `refresh` (ask the caller for a fresh URL, then retry), or `fail` at once. */
  readonly action: 'retry' | 'refresh' | 'fail';
  /** Retries allowed in a row (attempts = retries + 1). Counters reset once bytes flow again. */
  readonly maxRetries: number;
  readonly wait: WaitRule;
}

/** The whole table: a rule for every failure kind. */
export type RetryPolicy = Readonly<Record<FailureKind, RetryRule>>;

/** Back-off for transient failures: 1 s, 4 s, 16 s, then give up. */
const TRANSIENT: RetryRule = { action: 'retry', maxRetries: 3, wait: { kind: 'delays', delaysMs: [1000, 4000, 16000] } };

/** The policy every request uses unless a caller (a test) passes another one. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  rate_limited: { action: 'retry', maxRetries: 5, wait: { kind: 'retry-after', defaultSeconds: 1, maxSeconds: 120, jitterMs: 500 } },
  bad_gateway: { action: 'retry', maxRetries: 1, wait: { kind: 'delays', delaysMs: [2000] } },
  server_error: TRANSIENT,
  network: TRANSIENT,
  timeout: TRANSIENT,
  stalled: TRANSIENT,
  truncated: TRANSIENT,
  bad_response: TRANSIENT,
  // A fresh URL needs no waiting; three fresh URLs refused in a row means re-resolving does not help.
  expired: { action: 'refresh', maxRetries: 3, wait: { kind: 'none' } },
  client_error: { action: 'fail', maxRetries: 0, wait: { kind: 'none' } },
};

/**
 * A classified failure of one attempt. It is a {@link VidmuxError} (code, status, provider, human
 * message) that also says how to retry it.
 */
export class HttpFailure extends VidmuxError {
  readonly kind: FailureKind;
  /** Seconds from Retry-After, when the server sent one. */
  readonly retryAfterSeconds: number | undefined;
  /** The error answer's body, when there was one (at most 64 KB). */
  readonly body: string | undefined;

  constructor(
    kind: FailureKind,
    code: ErrorCode,
    message: string,
    opts: { provider?: string; status?: number; cause?: unknown; retryAfterSeconds?: number; body?: string } = {},
  ) {
    super(code, message, opts);
    this.kind = kind;
    this.retryAfterSeconds = opts.retryAfterSeconds;
    this.body = opts.body;
  }
}

/** The outcome of looking a failure up in the table. */
export type RetryDecision =
  | { readonly action: 'fail'; readonly reason: string }
  | { readonly action: 'retry' | 'refresh'; readonly delayMs: number };

/**
 * Looks up what to do about a failure of `kind` after `retriesSoFar` retries in a row.
 * Pure: `random` supplies the jitter so tests can pin it.
 */
export function decideRetry(
  policy: RetryPolicy,
  kind: FailureKind,
  retriesSoFar: number,
  retryAfterSeconds: number | undefined,
  random: () => number = Math.random,
): RetryDecision {
  const rule = policy[kind];
  if (rule.action === 'fail') return { action: 'fail', reason: 'not retryable' };
  if (retriesSoFar >= rule.maxRetries) {
    return { action: 'fail', reason: `gave up after ${retriesSoFar} ${retriesSoFar === 1 ? 'retry' : 'retries'}` };
  }
  const wait = rule.wait;
  let delayMs = 0;
  if (wait.kind === 'delays') {
    delayMs = wait.delaysMs[Math.min(retriesSoFar, wait.delaysMs.length - 1)] ?? 0;
  } else if (wait.kind === 'retry-after') {
    const seconds = retryAfterSeconds ?? wait.defaultSeconds;
    if (seconds > wait.maxSeconds) return { action: 'fail', reason: `server asked to wait ${Math.round(seconds)} s` };
    delayMs = seconds * 1000 + random() * wait.jitterMs;
  }
  return { action: rule.action, delayMs };
}

/** Waits `ms`, rejecting early with the signal's reason when it aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** The real sleep: a timer that an AbortSignal cancels. */
export const realSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(cancelledError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelledError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** The error for work stopped by an AbortSignal: its reason if that is already a VidmuxError. */
export function cancelledError(signal: AbortSignal): VidmuxError {
  const reason: unknown = signal.reason;
  if (reason instanceof VidmuxError) return reason;
  return new VidmuxError('cancelled', 'Cancelled.', { cause: reason });
}

/** Limits a transfer gives up by, whatever the table still allows (curl's --speed-limit/--speed-time and a total). */
export interface TransferLimits {
  /**
   * A transfer that got no meaningful data for this long in all (failures, waits, the next
   * attempt's own time limit counted) is given up: a dead server or API ends within it. 429
   * waits and expired links are not counted (a server that answers is not dead).
   */
  giveUpMs: number;
  /** Bytes that count as meaningful progress: they clear earlier failures (a trickle does not). */
  progressBytes: number;
  /** The longest one attempt may take to fail (the client's headers, stall and low-speed limits). */
  attemptMs: number;
}

/** Default limits: given up within 90 s; 1 MiB of data forgives earlier failures. */
export const DEFAULT_TRANSFER_LIMITS: TransferLimits = { giveUpMs: 90_000, progressBytes: 1024 * 1024, attemptMs: 30_000 };

/** Failures that mean "nothing is coming": they count toward {@link TransferLimits.giveUpMs}. */
const DEAD_KINDS: ReadonlySet<FailureKind> = new Set(['network', 'timeout', 'stalled', 'server_error', 'bad_gateway', 'truncated']);

/**
 * Counts retries for one logical transfer (a request, or one chunk of a ranged download) and
 * applies the table: waits, then says `retry` or `refresh`, or throws the final error. Counters
 * reset only after meaningful progress, so a server that sends a little and stalls every time
 * runs out of retries; and past {@link TransferLimits.giveUpMs} without progress it gives up.
 */
export class RetryTracker {
  private readonly counts = new Map<FailureKind, number>();
  private quietSince: number;
  private bytesSinceFailure = 0;

  constructor(
    private readonly policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    private readonly sleep: Sleep = realSleep,
    private readonly random: () => number = Math.random,
    private readonly limits: TransferLimits = DEFAULT_TRANSFER_LIMITS,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.quietSince = now();
  }

  /** Waits as the table says and returns the action, or throws a VidmuxError explaining the failure. */
  async handle(failure: HttpFailure, signal?: AbortSignal): Promise<'retry' | 'refresh'> {
    const n = this.counts.get(failure.kind) ?? 0;
    let decision = decideRetry(this.policy, failure.kind, n, failure.retryAfterSeconds, this.random);
    this.bytesSinceFailure = 0;
    if (decision.action !== 'fail' && DEAD_KINDS.has(failure.kind)) {
      const quiet = this.now() - this.quietSince;
      const { giveUpMs, attemptMs } = this.limits;
      if (quiet + decision.delayMs + attemptMs > giveUpMs) {
        decision = { action: 'fail', reason: `no data for ${Math.round(quiet / 1000)} s, and another try would pass the ${Math.round(giveUpMs / 1000)} s limit` };
      }
    }
    if (decision.action === 'fail') {
      const suffix = decision.reason === 'not retryable' ? '' : ` (${decision.reason})`;
      throw new VidmuxError(failure.code, `${failure.message}${suffix}`, {
        ...(failure.provider === undefined ? {} : { provider: failure.provider }),
        ...(failure.status === undefined ? {} : { status: failure.status }),
        cause: failure,
      });
    }
    this.counts.set(failure.kind, n + 1);
    if (decision.delayMs > 0) await this.sleep(decision.delayMs, signal);
    else if (signal?.aborted) throw cancelledError(signal);
    return decision.action;
  }

  /**
   * `bytes` arrived. Once enough have since the last failure ({@link TransferLimits.progressBytes};
   * a whole small answer counts with `complete`), earlier failures no longer count as "in a row".
   */
  progressed(bytes: number, complete = false): void {
    this.bytesSinceFailure += bytes;
    if (!complete && this.bytesSinceFailure < this.limits.progressBytes) return;
    this.quietSince = this.now();
    this.bytesSinceFailure = 0;
    if (this.counts.size > 0) this.counts.clear();
  }
}
