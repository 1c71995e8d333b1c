/** Fallback across real providers talking to their fakes. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RENDERIO_TEST_KEY, startRenderIoFake, type RenderIoFake } from '../../test/fakes/renderio-server';
import { startVidPickrFake, VIDPICKR_TEST_KEY, type VidPickrFake } from '../../test/fakes/vidpickr-server';
import { NodeFileSink } from '../node/files';
import { HttpClient } from '../net/http';
import { createProviders } from '.';
import { AllProvidersFailedError, downloadWithFallback, resolveWithFallback } from './registry';
import { downloadContext } from '../jobs/download-context';
import { pickFormat } from '../jobs/choose-format';
import { RenderIoProvider } from './renderio';
import { VidPickrProvider } from './vidpickr';

const YT = 'https://youtu.be/dQw4w9WgXcQ';
let vidpickr: VidPickrFake;
let renderio: RenderIoFake;
const out = mkdtempSync(join(tmpdir(), 'vidmux-registry-'));

beforeAll(async () => {
  [vidpickr, renderio] = await Promise.all([startVidPickrFake(), startRenderIoFake()]);
});
afterAll(async () => {
  await Promise.all([vidpickr?.close(), renderio?.close()]);
});

/** Providers whose HTTP clients do not really wait between retries. */
function providers(vpKey = VIDPICKR_TEST_KEY) {
  const http = () => new HttpClient({ sleep: async () => undefined });
  return [
    new VidPickrProvider({ apiKey: vpKey, baseUrl: vidpickr.baseUrl, http: http() }),
    new RenderIoProvider({ apiKey: RENDERIO_TEST_KEY, baseUrl: renderio.baseUrl, http: http() }),
  ];
}

describe('resolveWithFallback', () => {
  it('uses the first provider that resolves and records the ones before it', async () => {
    const r = await resolveWithFallback(YT, providers('vpk_live_revoked_key_000000'));
    expect(r.provider.id).toBe('renderio');
    expect(r.attempts).toEqual([
      { provider: 'vidpickr', error: expect.objectContaining({ code: 'unauthorized' }) },
      { provider: 'renderio', error: null },
    ]);
  });

  it('skips providers that do not handle the site, and says all failed with each reason', async () => {
    const vp = providers()[0]!;
    await expect(resolveWithFallback('https://example.com/video', [vp])).rejects.toThrow(AllProvidersFailedError);
    await expect(resolveWithFallback('https://example.com/video', [vp])).rejects.toThrow(/vidpickr: .*does not handle this site/);
  });
});

describe('downloadWithFallback', () => {
  it('falls back when a provider fails mid-way and the next one delivers a whole file', async () => {
    vidpickr.fault('stream', { kind: 'lookup_failed' }, 100);
    try {
      const path = join(out, 'fallback.mp4');
      const turns: Array<[string, string[]]> = [];
      const r = await downloadWithFallback(
        YT,
        providers(),
        (info) => ({ format: pickFormat(info.formats, 'best'), subtitles: [] }),
        downloadContext({ target: { media: async () => new NodeFileSink(path), subtitle: async () => new NodeFileSink(`${path}.srt`) } }),
        { onAttempt: (p, earlier) => turns.push([p.id, earlier.map((a) => a.provider)]) },
      );
      expect(r.provider.id).toBe('renderio');
      expect(turns).toEqual([
        ['vidpickr', []],
        ['renderio', ['vidpickr']],
      ]);
      expect(r.attempts.map((a) => [a.provider, a.error?.code ?? null])).toEqual([
        ['vidpickr', expect.any(String)],
        ['renderio', null],
      ]);
    } finally {
      vidpickr.clearFaults();
    }
  });

  it('does not fall back when the user cancels', async () => {
    const ctrl = new AbortController();
    ctrl.abort();
    const path = join(out, 'cancelled.mp4');
    await expect(
      downloadWithFallback(
        YT,
        providers(),
        (info) => ({ format: pickFormat(info.formats, 'best'), subtitles: [] }),
        downloadContext({ signal: ctrl.signal, target: { media: async () => new NodeFileSink(path), subtitle: async () => new NodeFileSink(`${path}.srt`) } }),
      ),
    ).rejects.toMatchObject({ code: 'cancelled' });
  });
});

describe('createProviders', () => {
  it('keeps the order, skips keyed providers without a key, always has the page', () => {
    const list = createProviders(
      [
        { id: 'tornado', apiKey: null, baseUrl: null },
        { id: 'page', apiKey: null, baseUrl: null },
        { id: 'vidpickr', apiKey: VIDPICKR_TEST_KEY, baseUrl: null },
      ],
      { http: new HttpClient() },
    );
    expect(list.map((p) => p.id)).toEqual(['page', 'vidpickr']);
  });

  it('every provider sends through the context’s one client (its connection cap, its retry table)', async () => {
    const sent: string[] = [];
    const http = new HttpClient({ sleep: async () => undefined, fetch: ((input: RequestInfo | URL, init?: RequestInit) => (sent.push(new URL(String(input)).pathname), fetch(input, init))) as typeof fetch });
    const [vp, page] = createProviders(
      [
        { id: 'vidpickr', apiKey: VIDPICKR_TEST_KEY, baseUrl: vidpickr.baseUrl },
        { id: 'page', apiKey: null, baseUrl: null },
      ],
      { http },
    );
    await vp!.resolve(YT);
    await page!.resolve(`${vidpickr.url}/api/v1/no-such-page`).catch(() => undefined);
    expect(sent).toEqual(['/v1/info', '/api/v1/no-such-page']);
  });
});
