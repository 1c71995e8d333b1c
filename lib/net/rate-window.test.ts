import { describe, expect, it } from 'vitest';
import { HttpClient } from './http';
import { RateWindow } from './rate-window';

/** A server stand-in: answers with the remaining counts given, one per request, and records when. */
function server(remaining: Array<number | null>, clock: { t: number }) {
  const seen: Array<{ url: string; at: number }> = [];
  const fetch = async (input: RequestInfo | URL): Promise<Response> => {
    seen.push({ url: String(input), at: clock.t });
    const left = remaining.shift();
    return new Response('ok', { status: 200, headers: left === null || left === undefined ? {} : { 'x-ratelimit-remaining': String(left) } });
  };
  return { fetch: fetch as typeof globalThis.fetch, seen };
}

function setup(remaining: Array<number | null>, opts: { keyOf?: (url: string) => string; wait?: boolean } = {}) {
  const clock = { t: 0 };
  const sleeps: number[] = [];
  const sleep = async (ms: number) => {
    sleeps.push(ms);
    clock.t += ms;
  };
  const srv = server(remaining, clock);
  const window = new RateWindow({ now: () => clock.t, sleep, ...opts });
  const client = new HttpClient({ fetch: srv.fetch, sleep }).with(window.hooks());
  const get = async (path: string) => (await client.request(`https://api.example${path}`)).text();
  return { clock, sleeps, window, get, seen: srv.seen };
}

describe('RateWindow', () => {
  it('waits out the rest of the window when the last answer said no request is left', async () => {
    const { clock, sleeps, window, get, seen } = setup([1, 0, 59]);
    await get('/a');
    expect(window.remaining()).toBe(1);
    clock.t += 10_000;
    await get('/b'); // this one takes the last slot
    expect(window.remaining()).toBe(0);
    clock.t += 5_000;
    await get('/c'); // must wait for the next window: 60 s after the exhausted answer was seen
    expect(sleeps).toEqual([55_000]);
    expect(seen.map((s) => s.at)).toEqual([0, 10_000, 70_000]);
    expect(window.remaining()).toBe(59);
  });

  it('does not wait while slots are left, or when the server says nothing', async () => {
    const { sleeps, get } = setup([5, null, 3]);
    await get('/a');
    await get('/b');
    await get('/c');
    expect(sleeps).toEqual([]);
  });

  it('keeps one quota per key (e.g. per endpoint)', async () => {
    const { sleeps, get, window } = setup([0, 10, 9], { keyOf: (u) => new URL(u).pathname.split('/')[1]! });
    await get('/info?x=1');
    await get('/stream?t=1'); // another quota: no wait
    expect(sleeps).toEqual([]);
    await get('/info?x=2'); // the exhausted one waits
    expect(sleeps).toEqual([60_000]);
    expect([window.remaining('info'), window.remaining('stream')]).toEqual([9, 10]);
  });

  it('an answer to a request sent before the window ran out does not reopen it', async () => {
    const clock = { t: 0 };
    const sleeps: number[] = [];
    const window = new RateWindow({ now: () => clock.t, sleep: async (ms) => void sleeps.push(ms) });
    const hooks = window.hooks();
    const early = { url: 'https://api.example/a', method: 'GET', signal: undefined };
    const late = { url: 'https://api.example/b', method: 'GET', signal: undefined };
    const head = (left: number) => ({ status: 200, url: '', headers: new Headers({ 'x-ratelimit-remaining': String(left) }) });
    await hooks.beforeAttempt!(early);
    await hooks.beforeAttempt!(late);
    hooks.afterResponse!(late, head(0)); // the later request used up the window
    hooks.afterResponse!(early, head(3)); // a slow answer from before: says nothing of now
    await hooks.beforeAttempt!({ url: 'https://api.example/c', method: 'GET', signal: undefined });
    expect(sleeps).toEqual([60_000]);
  });

  it('with wait: false only remembers what was said', async () => {
    const { sleeps, get, window } = setup([0, 0], { wait: false });
    await get('/a');
    await get('/b');
    expect(sleeps).toEqual([]);
    expect(window.remaining()).toBe(0);
  });
});
