import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMediaServer, type MediaServer } from '../../test/fakes/media-server';
import { ProviderError, VidmuxError } from '../errors';
import { HttpClient, MediaUrl, describeUrl, parseRetryAfter } from './http';

let server: MediaServer;
const DATA = new TextEncoder().encode('{"hello":"world"}');

beforeAll(async () => {
  server = await startMediaServer();
  await server.addFile('doc.json', DATA);
});
afterAll(() => server.close());

/** GETs and parses JSON (the tests' document is JSON). */
async function json(c: HttpClient, target: string | MediaUrl): Promise<unknown> {
  return JSON.parse(await (await c.request(target)).text());
}

/** A client whose retries are recorded instead of waited for. */
function client(extra: ConstructorParameters<typeof HttpClient>[0] = {}) {
  const sleeps: number[] = [];
  const c = new HttpClient({ provider: 'fake', sleep: async (ms) => void sleeps.push(ms), random: () => 0.5, ...extra });
  return { c, sleeps };
}

describe('HttpClient', () => {
  it('429 with Retry-After: waits what the server asked plus jitter, then succeeds', async () => {
    const { c, sleeps } = client();
    const res = await json(c, server.fileUrl('doc.json', { status: 429, retryAfter: 3, times: 2 }));
    expect(res).toEqual({ hello: 'world' });
    expect(sleeps).toEqual([3250, 3250]);
  });

  it('429 that never ends: fails after 5 retries with code rate_limited', async () => {
    const { c, sleeps } = client();
    const err = await c.request(server.fileUrl('doc.json', { status: 429, retryAfter: 1 })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'rate_limited', status: 429, provider: 'fake' });
    expect((err as Error).message).toMatch(/rate limiting.*gave up after 5 retries/);
    expect(sleeps).toHaveLength(5);
  });

  it('502 once is retried after 2 s; a second 502 in a row fails', async () => {
    const { c, sleeps } = client();
    await expect(json(c, server.fileUrl('doc.json', { status: 502, times: 1 }))).resolves.toEqual({ hello: 'world' });
    expect(sleeps).toEqual([2000]);
    const again = client();
    const url = server.fileUrl('doc.json', { status: 502 });
    await expect(again.c.request(url)).rejects.toMatchObject({ code: 'http_error', status: 502 });
    expect(again.sleeps).toEqual([2000]);
  });

  it('other 5xx back off 1 s, 4 s, 16 s and then fail with the status', async () => {
    const { c, sleeps } = client();
    await expect(c.request(server.fileUrl('doc.json', { status: 503 }))).rejects.toMatchObject({ code: 'http_error', status: 503 });
    expect(sleeps).toEqual([1000, 4000, 16000]);
    const ok = client();
    await expect(json(ok.c, server.fileUrl('doc.json', { status: 500, times: 3 }))).resolves.toEqual({ hello: 'world' });
  });

  it('other 4xx fail at once, with a stable code and a message a person understands', async () => {
    const { c, sleeps } = client();
    server.resetStats();
    const err = await c.request(`${server.origin}/files/missing.bin`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VidmuxError);
    expect(err).toMatchObject({ code: 'not_found', status: 404, provider: 'fake' });
    expect((err as Error).message).toBe('127.0.0.1:' + new URL(server.origin).port + '/files/missing.bin has no such file (404 Not Found).');
    expect(sleeps).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('403 without a way to refresh is final (forbidden); with one it re-resolves', async () => {
    const stale = server.expiringUrl('doc.json', 0);
    const { c } = client();
    await expect(c.request(stale)).rejects.toMatchObject({ code: 'forbidden', status: 403 });
    let refreshes = 0;
    const media = new MediaUrl(stale, async (u) => {
      refreshes++;
      return server.refreshUrl(u);
    });
    // Lifetime 0 makes every token expire at once, so each refresh is refused again: 3 refreshes, then explicit failure.
    await expect(c.request(media)).rejects.toMatchObject({ code: 'expired', status: 403 });
    expect(refreshes).toBe(3);
    const good = new MediaUrl(server.expiringUrl('doc.json', 0), async () => server.expiringUrl('doc.json', 60_000));
    await expect(json(c, good)).resolves.toEqual({ hello: 'world' });
  });

  it('connection refused is a network error after the back-off', async () => {
    const { c, sleeps } = client();
    const closed = await startMediaServer();
    const url = `${closed.origin}/files/x`;
    await closed.close();
    await expect(c.request(url)).rejects.toMatchObject({ code: 'network' });
    expect(sleeps).toEqual([1000, 4000, 16000]);
  });

  it('a server that sends no headers times out (and is retried)', async () => {
    const { c, sleeps } = client({ headersTimeoutMs: 200 });
    const { createServer } = await import('node:http');
    const silent = createServer(() => {}); // never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const started = Date.now();
    await expect(c.request(`http://127.0.0.1:${port}/x`)).rejects.toMatchObject({ code: 'timeout' });
    expect(sleeps).toEqual([1000, 4000, 16000]);
    expect(Date.now() - started).toBeLessThan(3000);
    silent.closeAllConnections();
    silent.close();
  });

  it('asks the platform not to keep what it fetches (no second copy of a video in the HTTP cache)', async () => {
    const modes: Array<RequestCache | undefined> = [];
    const fetch: typeof globalThis.fetch = (input, init) => {
      modes.push(init?.cache);
      return globalThis.fetch(input, init);
    };
    const c = new HttpClient({ fetch });
    expect(await json(c, server.fileUrl('doc.json'))).toEqual({ hello: 'world' });
    await (await c.request(server.fileUrl('doc.json'), { headers: { range: 'bytes=0-3' } })).cancel();
    expect(modes).toEqual(['no-store', 'no-store']);
  });

  it('a body takes BYOB reads into the caller’s buffer, and plain reads after them', async () => {
    const res = await new HttpClient().request(server.fileUrl('doc.json'));
    const byob = res.body.getReader({ mode: 'byob' });
    const first = await byob.read(new Uint8Array(4));
    expect(first.value).toEqual(DATA.subarray(0, 4));
    byob.releaseLock();
    const plain = res.body.getReader();
    const rest: number[] = [];
    for (let r = await plain.read(); !r.done; r = await plain.read()) rest.push(...r.value);
    expect(new Uint8Array(rest)).toEqual(DATA.subarray(4));
  });

  it('cancels at once through AbortSignal', async () => {
    const c = new HttpClient(); // real sleeps: cancellation must cut the 16 s wait short
    const ctrl = new AbortController();
    const p = c.request(server.fileUrl('doc.json', { status: 500 }), { signal: ctrl.signal });
    setTimeout(() => ctrl.abort(), 100);
    const started = Date.now();
    await expect(p).rejects.toMatchObject({ code: 'cancelled' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('never puts a key or a signature in a message', async () => {
    const { c } = client();
    const key = 'vpk_live_0123456789abcdefghijklmnopqrstuv';
    const err = (await c.request(`${server.origin}/files/missing.bin?key=${key}&sig=abcdef0123456789abcdef0123456789`).catch((e: unknown) => e)) as Error;
    expect(err.message).not.toContain('0123456789abcdef');
    expect(JSON.stringify(err)).not.toContain('0123456789abcdef');
    expect(describeUrl(`https://cdn.example/v.mp4?key=${key}`)).toBe('cdn.example/v.mp4');
  });

  it('parses Retry-After as seconds or as a date', () => {
    expect(parseRetryAfter('7')).toBe(7);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('HttpClient hooks (derived clients)', () => {
  /** A network stand-in: `answer` decides each response; every request is recorded. */
  function net(answer: (url: string, n: number) => Response | Promise<Response>) {
    const sent: Array<{ url: string; headers: Record<string, string> }> = [];
    const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      sent.push({ url: String(input), headers: { ...(init?.headers as Record<string, string>) } });
      return answer(String(input), sent.length);
    }) as typeof globalThis.fetch;
    return { fetch, sent };
  }

  it('headers come from the hook for each attempt’s actual URL, after a refresh too', async () => {
    const n = net((url) => new Response(url.includes('fresh') ? 'ok' : 'gone', { status: url.includes('fresh') ? 200 : 403 }));
    const seen: string[] = [];
    const c = new HttpClient({ fetch: n.fetch, sleep: async () => undefined }).with({ headers: (url) => (seen.push(url), { 'x-key': `for ${new URL(url).pathname}` }) });
    const media = new MediaUrl('https://api.example/stale', async () => 'https://api.example/fresh');
    expect(await (await c.request(media, { headers: { accept: '*/*' } })).text()).toBe('ok');
    expect(seen).toEqual(['https://api.example/stale', 'https://api.example/fresh']);
    expect(n.sent.map((s) => s.headers)).toEqual([
      { accept: '*/*', 'x-key': 'for /stale' },
      { accept: '*/*', 'x-key': 'for /fresh' },
    ]);
  });

  it('a headers hook that throws stops the request before anything is sent', async () => {
    const n = net(() => new Response('ok'));
    const c = new HttpClient({ fetch: n.fetch }).with({
      headers: () => {
        throw new VidmuxError('forbidden', 'Refusing to send the key there.');
      },
    });
    await expect(c.request('https://elsewhere.example/x')).rejects.toMatchObject({ code: 'forbidden' });
    expect(n.sent).toEqual([]);
  });

  it('classify reads the body: "400 token expired" refreshes a refreshable link, and is final (expired) otherwise', async () => {
    const n = net((url) => (url.endsWith('/new') ? new Response('ok') : new Response('{"error":{"message":"token expired"}}', { status: 400 })));
    const sleeps: number[] = [];
    const c = new HttpClient({ fetch: n.fetch, sleep: async (ms) => void sleeps.push(ms) }).with({
      classify: (status, body) => (status === 400 && /expired/.test(body) ? 'expired' : undefined),
    });
    const media = new MediaUrl('https://api.example/old', async () => 'https://api.example/new');
    expect(await (await c.request(media)).text()).toBe('ok');
    expect(n.sent.map((s) => s.url)).toEqual(['https://api.example/old', 'https://api.example/new']);
    n.sent.length = 0;
    await expect(c.request('https://api.example/old')).rejects.toMatchObject({ code: 'expired', status: 400 });
    expect(n.sent).toHaveLength(1); // no retries: only a fresh link could help
    expect(sleeps).toEqual([]);
    // Without the hook the same answer is a plain client error.
    const plain = new HttpClient({ fetch: n.fetch });
    await expect(plain.request('https://api.example/old')).rejects.toMatchObject({ code: 'http_error', status: 400 });
  });

  it('mapError rewords the final error with the last status and body; cancellation passes untouched', async () => {
    const n = net(() => new Response('{"error":{"code":"plus_required"}}', { status: 402 }));
    const details: unknown[] = [];
    const c = new HttpClient({ fetch: n.fetch, provider: 'http' }).with(
      {
        mapError: (err, d) => {
          details.push(d);
          return new VidmuxError('forbidden', `Words of the provider (${err.code}).`, { provider: 'acme', status: d.status ?? 0 });
        },
      },
      { provider: 'acme' },
    );
    await expect(c.request('https://api.example/x')).rejects.toMatchObject({ code: 'forbidden', message: 'Words of the provider (http_error).', provider: 'acme' });
    expect(details).toEqual([{ kind: 'client_error', status: 402, body: '{"error":{"code":"plus_required"}}' }]);
    const ctrl = new AbortController();
    ctrl.abort();
    await expect(c.request('https://api.example/x', { signal: ctrl.signal })).rejects.toMatchObject({ code: 'cancelled' });
    expect(details).toHaveLength(1);
  });

  it('beforeAttempt and afterResponse run for every attempt, retries included', async () => {
    const n = net((_url, i) => new Response(i < 3 ? 'busy' : 'ok', { status: i < 3 ? 503 : 200, headers: { 'x-n': String(i) } }));
    const events: string[] = [];
    const c = new HttpClient({ fetch: n.fetch, sleep: async () => undefined }).with({
      beforeAttempt: (a) => void events.push(`before ${a.method} ${new URL(a.url).pathname}`),
      afterResponse: (_a, r) => void events.push(`after ${r.status} #${r.headers.get('x-n')}`),
    });
    await c.request('https://api.example/job');
    expect(events).toEqual(['before GET /job', 'after 503 #1', 'before GET /job', 'after 503 #2', 'before GET /job', 'after 200 #3']);
  });

  it('afterResponse may refuse an answer: the request stops at once, unretried, and frees its connection', async () => {
    let cancelled = false;
    const n = net(() => new Response(new ReadableStream({ pull: () => undefined, cancel: () => void (cancelled = true) })));
    const c = new HttpClient({ fetch: n.fetch, maxConnectionsPerHost: 1, sleep: async () => undefined }).with({
      afterResponse: (a) => {
        if (a.url.endsWith('/refused')) throw new ProviderError('forbidden', 'Not from there.');
      },
    });
    await expect(c.request('https://cdn.example/refused')).rejects.toMatchObject({ code: 'forbidden', message: 'Not from there.' });
    expect(n.sent).toHaveLength(1);
    expect(cancelled).toBe(true);
    // The one slot to the host is free again.
    await (await c.request('https://cdn.example/next')).cancel();
  });

  it('a derived client shares its parent’s per-host connection cap', async () => {
    const n = net(() => new Response(new ReadableStream({ start: () => undefined })));
    const parent = new HttpClient({ fetch: n.fetch, maxConnectionsPerHost: 2 });
    const child = parent.with({}, { provider: 'acme' });
    const a = await parent.request('https://cdn.example/a');
    const b = await child.request('https://cdn.example/b');
    let third = false;
    const pending = child.request('https://cdn.example/c').then((r) => ((third = true), r));
    await new Promise((r) => setTimeout(r, 50));
    expect(third).toBe(false); // two open bodies hold both slots, whichever client opened them
    await a.cancel();
    const c = await pending;
    expect(third).toBe(true);
    await Promise.all([b.cancel(), c.cancel()]);
    expect(child.provider).toBe('acme');
  });

  it('a refresher’s own failure is not reworded again (it is already in the provider’s words)', async () => {
    const n = net(() => new Response('{"error":{"message":"token expired"}}', { status: 400 }));
    const worded: string[] = [];
    const c = new HttpClient({ fetch: n.fetch, sleep: async () => undefined }).with({
      classify: (status, body) => (status === 400 && /expired/.test(body) ? 'expired' : undefined),
      mapError: (err) => (worded.push(err.message), new VidmuxError('http_error', 'generic words')),
    });
    const media = new MediaUrl('https://api.example/stream', async () => {
      throw new ProviderError('unauthorized', 'Acme does not accept the key ab...cdef: create a new one.');
    });
    await expect(c.request(media)).rejects.toMatchObject({ code: 'unauthorized', message: 'Acme does not accept the key ab...cdef: create a new one.' });
    expect(worded).toEqual([]);
  });

  it('a request that carries a hook’s key is never redirected to another host; others follow redirects', async () => {
    const seenByOther: IncomingHttpHeaders[] = [];
    const other = createServer((req, res) => (seenByOther.push(req.headers), res.end('elsewhere')));
    const api = createServer((_req, res) => res.writeHead(302, { location: `http://localhost:${(other.address() as AddressInfo).port}/steal` }).end());
    await Promise.all([new Promise<void>((r) => other.listen(0, '127.0.0.1', r)), new Promise<void>((r) => api.listen(0, '127.0.0.1', r))]);
    try {
      const url = `http://127.0.0.1:${(api.address() as AddressInfo).port}/v1/info`;
      const keyed = new HttpClient().with({ headers: () => ({ 'x-api-key': 'vpk_live_secret_0000000000' }) });
      await expect(keyed.request(url)).rejects.toMatchObject({ code: 'forbidden', status: 302, message: expect.stringMatching(/answered with a redirect/) });
      expect(seenByOther).toEqual([]);
      // Without a key, a redirect is just followed (media CDNs do it all the time).
      expect(await (await new HttpClient().request(url)).text()).toBe('elsewhere');
      expect(seenByOther).toHaveLength(1);
      expect(seenByOther[0]!['x-api-key']).toBeUndefined();
    } finally {
      await Promise.all([new Promise((r) => other.close(r)), new Promise((r) => api.close(r))]);
    }
  });
});
