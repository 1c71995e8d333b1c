import { describe, expect, it } from 'vitest';
import { VidmuxError } from '../errors';
import { DEFAULT_RETRY_POLICY, HttpFailure, RetryTracker, decideRetry, type FailureKind } from './retry-policy';

const P = DEFAULT_RETRY_POLICY;
const noJitter = () => 0;

/** Runs the table for `kind` until it fails; returns the delays it asked for. */
function delaysUntilFail(kind: FailureKind, retryAfter?: number, random = noJitter): number[] {
  const delays: number[] = [];
  for (let n = 0; n < 50; n++) {
    const d = decideRetry(P, kind, n, retryAfter, random);
    if (d.action === 'fail') return delays;
    delays.push(d.delayMs);
  }
  throw new Error('never failed');
}

describe('retry table', () => {
  it('429: waits Retry-After plus up to 0.5 s jitter, at most 5 retries', () => {
    expect(delaysUntilFail('rate_limited', 3)).toEqual([3000, 3000, 3000, 3000, 3000]);
    const jittered = delaysUntilFail('rate_limited', 2, () => 0.999);
    expect(jittered.every((d) => d >= 2000 && d < 2500)).toBe(true);
    // No Retry-After: one second; an absurd Retry-After is a failure, not an hour of hanging.
    expect(delaysUntilFail('rate_limited')).toEqual([1000, 1000, 1000, 1000, 1000]);
    expect(decideRetry(P, 'rate_limited', 0, 3600).action).toBe('fail');
  });

  it('502: one retry after 2 s; a second 502 in a row fails', () => {
    expect(delaysUntilFail('bad_gateway')).toEqual([2000]);
  });

  it('other 5xx, network errors, stalls, truncation: 1 s, 4 s, 16 s, then fail', () => {
    for (const kind of ['server_error', 'network', 'timeout', 'stalled', 'truncated', 'bad_response'] as const) {
      expect(delaysUntilFail(kind)).toEqual([1000, 4000, 16000]);
    }
  });

  it('403/410 on a media URL: refresh at once, at most 3 times in a row', () => {
    const d = decideRetry(P, 'expired', 0, undefined);
    expect(d).toEqual({ action: 'refresh', delayMs: 0 });
    expect(delaysUntilFail('expired')).toEqual([0, 0, 0]);
  });

  it('other 4xx: fail at once', () => {
    expect(decideRetry(P, 'client_error', 0, undefined).action).toBe('fail');
  });
});

describe('RetryTracker', () => {
  const failure = (kind: FailureKind, status?: number) =>
    new HttpFailure(kind, 'http_error', 'host/x had a server error (500).', { provider: 'http', ...(status ? { status } : {}) });

  it('waits through the injected sleep and throws a VidmuxError with provider, code and status when it gives up', async () => {
    const waits: number[] = [];
    const t = new RetryTracker(P, async (ms) => void waits.push(ms), noJitter);
    for (let i = 0; i < 3; i++) expect(await t.handle(failure('server_error', 500))).toBe('retry');
    const err = await t.handle(failure('server_error', 500)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VidmuxError);
    expect(err).toMatchObject({ code: 'http_error', status: 500, provider: 'http' });
    expect((err as Error).message).toMatch(/gave up after 3 retries/);
    expect(waits).toEqual([1000, 4000, 16000]);
  });

  it('counts failures in a row only: meaningful progress (1 MiB, or a whole answer) resets the counters', async () => {
    const t = new RetryTracker(P, async () => {}, noJitter);
    await t.handle(failure('bad_gateway', 502));
    t.progressed(1024 * 1024);
    await t.handle(failure('bad_gateway', 502)); // not "in a row" any more
    await expect(t.handle(failure('bad_gateway', 502))).rejects.toMatchObject({ status: 502 });
    const whole = new RetryTracker(P, async () => {}, noJitter);
    await whole.handle(failure('bad_gateway', 502));
    whole.progressed(10, true);
    await whole.handle(failure('bad_gateway', 502));
  });

  it('a trickle between failures does not reset them: 64 KB then a stall, every time, runs out of retries', async () => {
    const t = new RetryTracker(P, async () => {}, noJitter);
    for (let i = 0; i < 3; i++) {
      t.progressed(64 * 1024);
      await t.handle(failure('stalled', 0));
    }
    t.progressed(64 * 1024);
    await expect(t.handle(failure('stalled', 0))).rejects.toThrow(/gave up after 3 retries/);
  });

  it('a dead server is given up within the limit in all: no try starts that would end past it', async () => {
    let clock = 0;
    const waits: number[] = [];
    // Attempts that each take their whole 20 s limit (a stall), the table's waits in between.
    const t = new RetryTracker(P, async (ms) => void (waits.push(ms), (clock += ms)), noJitter, { giveUpMs: 90_000, progressBytes: 1 << 20, attemptMs: 20_000 }, () => clock);
    const attempt = async () => {
      clock += 20_000;
      return t.handle(failure('stalled', 0));
    };
    await attempt(); // at 20 s: wait 1 s
    await attempt(); // at 41 s: wait 4 s
    await expect(attempt()).rejects.toThrow(/\(no data for 65 s, and another try would pass the 90 s limit\)$/); // at 65 s
    expect(waits).toEqual([1000, 4000]);
    expect(clock).toBeLessThanOrEqual(90_000);
    // A server that answers 429 is not dead: its waits do not count.
    const limited = new RetryTracker(P, async (ms) => void (clock += ms), noJitter, { giveUpMs: 90_000, progressBytes: 1 << 20, attemptMs: 20_000 }, () => clock);
    clock = 0;
    const r = failure('rate_limited', 429);
    Object.assign(r, { retryAfterSeconds: 60 });
    expect(await limited.handle(r)).toBe('retry');
    expect(await limited.handle(r)).toBe('retry');
  });

  it('stops waiting when cancelled', async () => {
    const t = new RetryTracker(P); // real sleep: 16 s would time the test out
    const ctrl = new AbortController();
    const p = t.handle(failure('server_error', 500), ctrl.signal);
    setTimeout(() => ctrl.abort(), 20);
    await expect(p).rejects.toMatchObject({ code: 'cancelled' });
  });
});
