/**
 * Waiting for a provider's remote job: poll its state at an interval until it is final, with a
 * time limit, tolerated hiccups and cancellation that tells the provider. The one poller for
 * every provider that renders files on its side (RenderIO, Tornado, VIDIO).
 */
import { VidmuxError } from '../../errors';
import { cancelledError, realSleep, type Sleep } from '../../net/retry-policy';

/** Options of {@link pollJob}. */
export interface PollOptions<T> {
  /** Fetches the job's current state. */
  get(signal: AbortSignal | undefined): Promise<T>;
  /** Whether a state is final (done or failed): the poller returns it. */
  isFinal(state: T): boolean;
  intervalMs: number;
  /** How long a job may stay unfinished. */
  timeoutMs: number;
  /** The error when the time is up (`last`: the last state seen). */
  timeoutError(last: T | null): VidmuxError;
  /** Wait one interval before the first poll (a job is never done the moment it is accepted). */
  waitFirst?: boolean;
  /** Each state seen, final ones included. */
  onState?(state: T): void;
  /** A failed poll to shrug off and poll again (e.g. a 404 right after creation); else it is thrown. */
  tolerate?(error: VidmuxError, last: T | null, elapsedMs: number): boolean;
  /** The user cancelled: stop the remote job if it can be; may return the error to throw instead. */
  onCancel?(last: T | null): Promise<VidmuxError | void>;
  signal?: AbortSignal;
  now?: () => number;
  sleep?: Sleep;
}

/** Polls until the job is final and returns that state; throws on time-out, failure or cancel. */
export async function pollJob<T>(opts: PollOptions<T>): Promise<T> {
  const now = opts.now ?? (() => Date.now());
  const sleep = opts.sleep ?? realSleep;
  const started = now();
  let last: T | null = null;
  const cancel = async (): Promise<never> => {
    const said = await opts.onCancel?.(last).catch(() => undefined);
    throw said ?? cancelledError(opts.signal!);
  };
  const wait = async () => {
    try {
      await sleep(opts.intervalMs, opts.signal);
    } catch (err) {
      if (opts.signal?.aborted) return cancel();
      throw err;
    }
    if (opts.signal?.aborted) return cancel();
  };
  if (opts.waitFirst) await wait();
  for (;;) {
    if (opts.signal?.aborted) return cancel();
    let state: T;
    try {
      state = await opts.get(opts.signal);
    } catch (err) {
      if (opts.signal?.aborted || (err instanceof VidmuxError && err.code === 'cancelled')) return cancel();
      if (err instanceof VidmuxError && opts.tolerate?.(err, last, now() - started)) {
        await wait();
        continue;
      }
      throw err;
    }
    last = state;
    opts.onState?.(state);
    if (opts.isFinal(state)) return state;
    if (now() - started >= opts.timeoutMs) throw opts.timeoutError(state);
    await wait();
  }
}
