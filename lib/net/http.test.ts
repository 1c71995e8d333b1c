import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMediaServer, type MediaServer } from '../../test/fakes/media-server';
import { VidmuxError } from '../errors';
import { HttpClient, MediaUrl, describeUrl, parseRetryAfter } from './http';

let server: MediaServer;
const DATA = new TextEncoder().encode('{"hello":"world"}');

beforeAll(async () => {
  server = await startMediaServer();
  await server.addFile('doc.json', DATA);
});
afterAll(() => server.close());

/** A client whose retries are recorded instead of waited for. */
function client(extra: ConstructorParameters<typeof HttpClient>[0] = {}) {
  const sleeps: number[] = [];
  const c = new HttpClient({ provider: 'fake', sleep: async (ms) => void sleeps.push(ms), random: () => 0.5, ...extra });
  return { c, sleeps };
}

describe('HttpClient', () => {
  it('429 with Retry-After: waits what the server asked plus jitter, then succeeds', async () => {
    const { c, sleeps } = client();
    const res = await c.json(server.fileUrl('doc.json', { status: 429, retryAfter: 3, times: 2 }), (d) => d);
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
    await expect(c.json(server.fileUrl('doc.json', { status: 502, times: 1 }), (d) => d)).resolves.toEqual({ hello: 'world' });
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
    await expect(ok.c.json(server.fileUrl('doc.json', { status: 500, times: 3 }), (d) => d)).resolves.toEqual({ hello: 'world' });
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
    await expect(c.json(good, (d) => d)).resolves.toEqual({ hello: 'world' });
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
