import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTornadoFake, TORNADO_TEST_KEY, type TornadoFake } from '../../test/fakes/tornado-server';
import type { KeyedProvider } from '../schemas/ids';
import { DEFAULT_SETTINGS, type Settings } from '../schemas/settings';
import { DownloadRequests } from './download-requests';
import { DownloadService, type DownloadBackend, type EngineHost } from './downloads';
import { JobStore } from './job';
import type { ProviderSaveSpec, SaveSpec } from '../schemas/save-spec';

/** The browser's downloads API stand-in (not our code). */
const browserDownloads: DownloadBackend = {
  start: async () => 1,
  get: async () => null,
  cancel: async () => undefined,
  describeInterrupt: (r) => String(r),
};

let tornado: TornadoFake;
beforeAll(async () => {
  tornado = await startTornadoFake();
});
afterAll(() => tornado?.close());

function setup(keys: Partial<Record<KeyedProvider, string>>, settings: Partial<Settings> = {}) {
  const started: SaveSpec[] = [];
  const engine: EngineHost = { start: async (s) => void started.push(s), cancel: async () => undefined, release: async () => undefined };
  const store = new JobStore();
  let n = 0;
  const downloads = new DownloadService(store, browserDownloads, engine, { fetchText: async () => '', pollMs: 60_000, newId: () => `j${++n}` });
  const requests = new DownloadRequests({
    loadSettings: async () => ({ ...DEFAULT_SETTINGS, baseUrls: { tornado: tornado.baseUrl }, ...settings }),
    getApiKey: async (p) => keys[p] ?? null,
    getTornadoStorage: async () => null,
    downloads,
  });
  return { requests, started, store };
}

const yt = { title: 'A clip - YouTube', url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ' };
const video = { id: 'v1', kind: 'mediasource' as const, src: 'blob:https://www.youtube.com/x', mimeType: null, width: 1, height: 1, duration: null };

describe('DownloadRequests', () => {
  it('YouTube with no key: says to add one (the button turns it into "Add a key")', async () => {
    const { requests, started } = setup({});
    await expect(requests.start({ page: yt, media: video }, 1)).rejects.toMatchObject({ code: 'needs_key', message: /add a VidPickr, RenderIO or Tornado key/ });
    expect(started).toEqual([]);
  });

  it('YouTube with keys: one provider job, keyed providers in the user’s order, the quick choice applied', async () => {
    const { requests, started, store } = setup({ renderio: 'ffsk_x0000000', vidpickr: 'vpk_live_x0000000' }, { providerOrder: ['renderio', 'page', 'vidpickr', 'tornado'] });
    const job = await requests.start({ page: yt, media: video, choice: { quality: 'audio', audioFormat: 'mp3' } }, 7);
    const spec = started[0] as ProviderSaveSpec;
    expect(spec).toMatchObject({ mode: 'provider', url: yt.url, quality: 'audio', audioFormat: 'mp3' });
    expect(spec.providers.map((p) => p.id)).toEqual(['renderio', 'page', 'vidpickr']);
    expect(store.get(job.id)).toMatchObject({ tabId: 7, title: 'A clip', request: { page: yt, choice: { quality: 'audio', audioFormat: 'mp3' } } });
  });

  it('a link to a file (context menu) is saved as the page’s media', async () => {
    const { requests, started } = setup({});
    await requests.start({ page: { title: 'Files', url: 'https://example.com/list' }, media: null, url: 'https://cdn.example.com/a/clip.mp4' }, 3);
    expect(started[0]).toMatchObject({ mode: 'copy', tracks: [{ kind: 'file', url: 'https://cdn.example.com/a/clip.mp4' }] });
  });

  it('a link to a YouTube video goes through the providers even from another site', async () => {
    const { requests, started } = setup({ vidpickr: 'vpk_live_x0000000' });
    await requests.start({ page: { title: 'Blog', url: 'https://blog.example.com/' }, media: null, url: 'https://youtu.be/dQw4w9WgXcQ' }, 3);
    expect(started[0]).toMatchObject({ mode: 'provider', url: 'https://youtu.be/dQw4w9WgXcQ' });
  });

  it('a Tornado playlist becomes one queue entry per video', async () => {
    const { requests, started, store } = setup({ tornado: TORNADO_TEST_KEY });
    await requests.start({ page: { title: 'Mix - YouTube', url: 'https://www.youtube.com/playlist?list=PLx' }, media: null }, 5);
    expect(started).toHaveLength(3);
    expect(new Set(started.map((s) => (s as ProviderSaveSpec).tornadoJobId)).size).toBe(3);
    expect(store.list(5).map((j) => j.title).sort()).toEqual(['Mix (1 of 3)', 'Mix (2 of 3)', 'Mix (3 of 3)']);
  });

  it('a page with nothing to save says so', async () => {
    const { requests } = setup({});
    await expect(requests.start({ page: { title: 't', url: 'https://example.com/' }, media: null }, 1)).rejects.toMatchObject({ code: 'not_a_file' });
  });
});
