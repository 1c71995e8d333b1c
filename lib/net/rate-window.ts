/**
 * A per-minute request quota seen through `X-RateLimit-Remaining`: when an answer says no request
 * is left in the current window, the next request waits for the next window instead of running
 * into a 429. Plugs into a client as {@link RequestHooks} (`beforeAttempt` waits, `afterResponse`
 * reads the header), so every request of a provider, API calls and media streams alike, counts.
 */
import type { AttemptInfo, RequestHooks, ResponseHead } from './http';
import { realSleep, type Sleep } from './retry-policy';

/** Options of {@link RateWindow}. */
export interface RateWindowOptions {
  /**
   * Length of the window. When it started is not said, so a window seen exhausted is waited out
   * in full from the moment it was seen. Default 60 s.
   */
  windowMs?: number;
  /** Which quota a URL counts against (e.g. its endpoint); default: one quota for everything. */
  keyOf?: (url: string) => string;
  /** The header that says how many requests are left. Default `x-ratelimit-remaining`. */
  header?: string;
  /** Whether to wait when the window is used up (false: only remember what was said). Default true. */
  wait?: boolean;
  now?: () => number;
  sleep?: Sleep;
}

/** Remembers what the server said of each quota and holds requests back when one is used up. */
export class RateWindow {
  private readonly windowMs: number;
  private readonly keyOf: (url: string) => string;
  private readonly header: string;
  private readonly wait: boolean;
  private readonly now: () => number;
  private readonly sleep: Sleep;
  /** Requests started so far: tells answers to requests sent before a window ran out from later ones. */
  private seq = 0;
  private readonly started = new WeakMap<AttemptInfo, number>();
  private readonly left = new Map<string, { value: number; at: number }>();
  private readonly exhausted = new Map<string, { at: number; seq: number }>();

  constructor(opts: RateWindowOptions = {}) {
    this.windowMs = opts.windowMs ?? 60_000;
    this.keyOf = opts.keyOf ?? (() => '');
    this.header = (opts.header ?? 'x-ratelimit-remaining').toLowerCase();
    this.wait = opts.wait ?? true;
    this.now = opts.now ?? (() => Date.now());
    this.sleep = opts.sleep ?? realSleep;
  }

  /** The hooks that make a client honour this window. */
  hooks(): RequestHooks {
    return {
      beforeAttempt: (attempt) => this.before(attempt),
      afterResponse: (attempt, res) => this.after(attempt, res),
    };
  }

  /** Requests left in the current window of `key`, as last said (null: never said). */
  remaining(key = ''): number | null {
    return this.left.get(key)?.value ?? null;
  }

  private async before(attempt: AttemptInfo): Promise<void> {
    const key = this.keyOf(attempt.url);
    const seen = this.exhausted.get(key);
    if (seen && this.wait) {
      const wait = this.windowMs - (this.now() - seen.at);
      if (wait > 0) await this.sleep(wait, attempt.signal);
      if (this.exhausted.get(key) === seen) this.exhausted.delete(key);
    }
    this.started.set(attempt, ++this.seq);
  }

  private after(attempt: AttemptInfo, res: ResponseHead): void {
    const raw = res.headers.get(this.header);
    const value = Number.parseInt(raw ?? '', 10);
    if (raw === null || !Number.isFinite(value)) return;
    const key = this.keyOf(attempt.url);
    const seq = this.started.get(attempt) ?? this.seq;
    this.left.set(key, { value, at: this.now() });
    const ex = this.exhausted.get(key);
    // Answers to requests that began before the window ran out say nothing about the next one.
    if (value <= 0) this.exhausted.set(key, { at: this.now(), seq: this.seq });
    else if (ex && seq > ex.seq) this.exhausted.delete(key);
  }
}
