import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTornadoFake, TORNADO_TEST_KEY, type TornadoFake } from '../../test/fakes/tornado-server';
import { HttpClient } from '../net/http';
import { createProviders } from '../providers';
import type { Provider } from '../providers/types';
import type { KeyedProvider } from '../schemas/ids';
import type { JobSpec } from '../schemas/job-spec';
import type { MediaInfo } from '../schemas/media';
import { DEFAULT_SETTINGS, type Settings } from '../schemas/settings';
import { DownloadRequests } from './download-requests';
import { DownloadService, type DownloadBackend, type EngineHost } from './downloads';
import { JobStore } from './job';

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

function setup(keys: Partial<Record<KeyedProvider, string>>, settings: Partial<Settings> = {}, opts: { providers?: (setups: Parameters<typeof createProviders>[0]) => Provider[] } = {}) {
  const started: JobSpec[] = [];
  const engine: EngineHost = { start: async (s) => void started.push(s), cancel: async () => undefined, finish: async () => undefined, choose: async () => undefined, release: async () => undefined };
  const store = new JobStore();
  let n = 0;
  const http = new HttpClient();
  const downloads = new DownloadService(store, browserDownloads, engine, { pollMs: 60_000, newId: () => `j${++n}` });
  const requests = new DownloadRequests({
    loadSettings: async () => ({ ...DEFAULT_SETTINGS, baseUrls: { tornado: tornado.baseUrl }, ...settings }),
    getApiKey: async (p) => keys[p] ?? null,
    getTornadoStorage: async () => null,
    createProviders: (setups, tornadoStorage) => opts.providers?.(setups) ?? createProviders(setups, { http, tornadoStorage }),
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
    const spec = started[0]!;
    expect(spec).toMatchObject({ url: yt.url, media: video, wish: { quality: 'audio', audioFormat: 'mp3', codecPreference: DEFAULT_SETTINGS.codecPreference } });
    expect(spec.providers.map((p) => p.id)).toEqual(['renderio', 'page', 'vidpickr']);
    expect(store.get(job.id)).toMatchObject({ tabId: 7, title: 'A clip', request: { page: yt, choice: { quality: 'audio', audioFormat: 'mp3' } } });
  });

  it('a link to a file (context menu) is saved as the page’s media', async () => {
    const { requests, started } = setup({});
    await requests.start({ page: { title: 'Files', url: 'https://example.com/list' }, media: null, url: 'https://cdn.example.com/a/clip.mp4' }, 3);
    expect(started[0]).toMatchObject({ url: 'https://cdn.example.com/a/clip.mp4', media: { kind: 'file', src: 'https://cdn.example.com/a/clip.mp4' }, providers: [{ id: 'page' }] });
  });

  it('a link to a YouTube video goes through the providers even from another site', async () => {
    const { requests, started } = setup({ vidpickr: 'vpk_live_x0000000' });
    await requests.start({ page: { title: 'Blog', url: 'https://blog.example.com/' }, media: null, url: 'https://youtu.be/dQw4w9WgXcQ' }, 3);
    expect(started[0]).toMatchObject({ url: 'https://youtu.be/dQw4w9WgXcQ', providers: [{ id: 'vidpickr' }, { id: 'page' }] });
  });

  it('a Tornado playlist becomes one queue entry per video', async () => {
    const { requests, started, store } = setup({ tornado: TORNADO_TEST_KEY });
    await requests.start({ page: { title: 'Mix - YouTube', url: 'https://www.youtube.com/playlist?list=PLx' }, media: null }, 5);
    expect(started).toHaveLength(3);
    expect(started.map((s) => [s.providers.map((p) => p.id), s.entry?.provider, s.entry?.index])).toEqual([
      [['tornado'], 'tornado', 0],
      [['tornado'], 'tornado', 1],
      [['tornado'], 'tornado', 2],
    ]);
    expect(new Set(started.map((s) => s.entry?.ref)).size).toBe(3);
    expect(store.list(5).map((j) => j.title).sort()).toEqual(['Mix (1 of 3)', 'Mix (2 of 3)', 'Mix (3 of 3)']);
  });

  it('a page with nothing to save says so', async () => {
    const { requests } = setup({});
    await expect(requests.start({ page: { title: 't', url: 'https://example.com/' }, media: null }, 1)).rejects.toMatchObject({ code: 'not_a_file' });
  });

  it('a page’s own video: the user’s quality and codec preference travel with it (the page provider honours them)', async () => {
    const { requests, started } = setup({}, { quality: '720', codecPreference: ['av1', 'avc', 'vp9', 'hevc'], connections: 6 });
    const dash = { id: 'v2', kind: 'manifest' as const, src: 'https://cdn.example.com/m.mpd', mimeType: 'application/dash+xml', width: 1280, height: 720, duration: 10 };
    await requests.start({ page: { title: 'Player', url: 'https://site.example/watch' }, media: dash }, 2);
    expect(started[0]).toMatchObject({ url: 'https://site.example/watch', media: dash, wish: { quality: '720', codecPreference: ['av1', 'avc', 'vp9', 'hevc'] }, providers: [{ id: 'page' }], connections: 6 });
  });

  it('what the page’s own media cannot save is refused before any job exists, saying why', async () => {
    const { requests, started, store } = setup({});
    const page = { title: 'p', url: 'https://site.example/watch' };
    const at = (kind: 'mediasource' | 'blob' | 'manifest', src: string) => requests.start({ page, media: { id: 'v', kind, src, mimeType: null, width: 1, height: 1, duration: null } }, 1);
    await expect(at('mediasource', 'blob:https://site.example/1')).rejects.toMatchObject({ code: 'not_a_file', message: /MediaSource/ });
    await expect(at('blob', 'blob:https://site.example/2')).rejects.toMatchObject({ code: 'not_a_file' });
    expect(started).toEqual([]);
    expect(store.list()).toEqual([]);
    // An HLS or DASH manifest is a stream the page provider saves: it is not refused at the click.
    await at('manifest', 'https://site.example/master.m3u8');
    expect(started).toHaveLength(1);
  });

  it('a format picked in the popup is downloaded with the picker’s resolve, not a second one', async () => {
    let resolves = 0;
    const info: MediaInfo = { provider: 'vidpickr', url: yt.url, title: 'A clip', durationSeconds: 1, thumbnail: null, formats: [], subtitles: [], resolved: { at: 1, state: { tokens: 'private' } } };
    const fakeVidPickr = { id: 'vidpickr', displayName: 'VidPickr', needsKey: true, supports: () => true, resolve: async () => (resolves++, info) } as unknown as Provider;
    const { requests, started } = setup({ vidpickr: 'vpk_live_x0000000' }, {}, { providers: () => [fakeVidPickr] });
    const shown = await requests.resolve(yt.url);
    expect(resolves).toBe(1);
    expect(shown.info).not.toHaveProperty('resolved'); // the provider's state is not shown to the popup
    await requests.start({ page: yt, media: null, choice: { formatId: 'vidpickr:video:720:avc1', formatProvider: 'vidpickr', quality: '720' } }, 1);
    expect(started[0]!.resolved).toEqual(info);
    // Without a picked format (a plain click) the engine resolves as usual.
    await requests.start({ page: yt, media: null }, 1);
    expect(started[1]!.resolved).toBeNull();
  });
});
