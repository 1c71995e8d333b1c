/**
 * The background, built from in-memory ports (the browser's APIs are lib/platform's, driven by the
 * e2e tests): messages go through the real protocol (`dispatch`), handlers through the real
 * services.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { maskKey, VidmuxError } from '../errors';
import type { DownloadBackend, DownloadState, EngineHost } from '../jobs/downloads';
import { dispatch, makeMessage, type MessageType, type Request, type SenderInfo } from '../messages';
import type { Provider } from '../providers/types';
import { ApiKeySchema } from '../schemas/keys';
import type { Job } from '../schemas/job';
import type { JobSpec, ProviderSetup } from '../schemas/job-spec';
import { DEFAULT_SETTINGS, SettingsSchema, type Settings } from '../schemas/settings';
import { TornadoStorageSchema, type TornadoStorage } from '../schemas/tornado-storage';
import { createBackground, type Background } from './app';
import type { KeyStore, Messenger, SessionStore, Surfaces } from './ports';

class MemoryKeys implements KeyStore {
  readonly keys = new Map<string, string>();
  reads = 0;
  storage: TornadoStorage | null = null;
  async get(p: string) {
    this.reads++;
    return this.keys.get(p) ?? null;
  }
  async set(p: string, key: string) {
    const clean = ApiKeySchema.parse(key);
    this.keys.set(p, clean);
    return maskKey(clean);
  }
  async remove(p: string) {
    this.keys.delete(p);
  }
  async getTornadoStorage() {
    return this.storage;
  }
  async setTornadoStorage(config: unknown) {
    return (this.storage = TornadoStorageSchema.parse(config));
  }
  async removeTornadoStorage() {
    this.storage = null;
  }
}

class MemorySession implements SessionStore {
  state: { jobs: unknown; tabs: unknown } = { jobs: undefined, tabs: undefined };
  async load() {
    return structuredClone(this.state);
  }
  async save(s: { jobs: unknown; tabs: unknown }) {
    this.state = structuredClone(s);
  }
  /** Local storage: what outlives a browser restart. */
  lasting: unknown = undefined;
  async loadLasting() {
    return structuredClone(this.lasting);
  }
  async saveLasting(jobs: unknown) {
    this.lasting = structuredClone(jobs);
  }
}

/** The browser's downloads API, as a stand-in (not our code). */
class BrowserDownloads implements DownloadBackend {
  items = new Map<number, DownloadState>();
  started: Array<{ url: string; filename: string }> = [];
  async start(url: string, filename: string) {
    this.started.push({ url, filename });
    this.items.set(this.started.length, { state: 'in_progress', bytesReceived: 0, totalBytes: 10, filename: `/dl/${filename}`, error: null });
    return this.started.length;
  }
  async get(id: number) {
    return this.items.get(id) ?? null;
  }
  async cancel() {}
  describeInterrupt(r: string | null) {
    return String(r);
  }
}

function setup(opts: { keys?: Record<string, string>; session?: MemorySession; providers?: Provider[]; engineAlive?: boolean; orphans?: Array<ReadonlySet<string>> } = {}) {
  const keys = new MemoryKeys();
  for (const [p, k] of Object.entries(opts.keys ?? {})) keys.keys.set(p, k);
  const session = opts.session ?? new MemorySession();
  const surfaces = { badges: [] as string[][], notified: [] as string[], problems: [] as string[], optionsOpened: 0 };
  const surfacePort: Surfaces = {
    updateBadge: async (jobs) => void surfaces.badges.push(jobs.map((j) => j.progress.stage)),
    notifyFinished: async (job) => void surfaces.notified.push(`${job.progress.stage}: ${job.filename}`),
    notifyProblem: async (_t, m) => void surfaces.problems.push(m),
    openOptions: async () => void surfaces.optionsOpened++,
    showInFolder: async () => undefined,
  };
  const pushed: Array<{ to: string; type: string; payload: unknown }> = [];
  const messenger: Messenger = {
    toTab: async (tabId, type, payload) => void pushed.push({ to: `tab ${tabId}`, type, payload }),
    toPages: async (type, payload) => void pushed.push({ to: 'pages', type, payload }),
  };
  const engine = { started: [] as JobSpec[], released: [] as string[], kept: [] as string[], finished: [] as string[], chosen: [] as Array<[string, number]> };
  const enginePort: EngineHost = {
    start: async (s) => void engine.started.push(s),
    cancel: async () => undefined,
    finish: async (id) => void engine.finished.push(id),
    choose: async (id, index) => void engine.chosen.push([id, index]),
    release: async (id, keepAs) => {
      engine.released.push(id);
      if (keepAs) engine.kept.push(keepAs);
    },
    ...(opts.engineAlive === undefined ? {} : { alive: async () => opts.engineAlive! }),
  };
  const downloads = new BrowserDownloads();
  const built: ProviderSetup[][] = [];
  const settings = { current: DEFAULT_SETTINGS as Settings };
  const app = createBackground({
    loadSettings: async () => settings.current,
    saveSettings: async (next) => (settings.current = SettingsSchema.parse(next)),
    keys,
    session,
    surfaces: surfacePort,
    messenger,
    downloads,
    engine: enginePort,
    ...(opts.orphans ? { removeOrphanOutputs: async (keep: ReadonlySet<string>) => void opts.orphans!.push(keep) } : {}),
    createProviders: (setups) => (built.push(setups), opts.providers ?? []),
    createReelService: () => ({ checkKey: async () => ({ summary: 'Key works', details: {} }) }),
  });
  apps.push(app);
  const send = <T extends MessageType>(type: T, payload: Request<T>, sender: SenderInfo) => dispatch(app.handlers, makeMessage(type, payload), sender);
  return { app, keys, session, surfaces, pushed, engine, downloads, built, send, settings };
}
const apps: Background[] = [];
afterEach(async () => {
  // Let debounced writes land before the next test.
  await new Promise((r) => setTimeout(r, 250));
  apps.length = 0;
});

const TAB: SenderInfo = { kind: 'tab', tabId: 4 };
const PAGE: SenderInfo = { kind: 'page', tabId: null };
const YT = { title: 'Song - YouTube', url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ' };
const file = { id: 'v1', kind: 'file' as const, src: 'https://cdn.example.com/a.mp4', mimeType: 'video/mp4', width: 640, height: 360, duration: 3 };

describe('background', () => {
  it('a tab reports its media; the popup reads it, and whether a provider handles the page, without building a provider', async () => {
    const { send, built, keys, pushed } = setup({ keys: { vidpickr: 'vpk_live_0000000000000000' } });
    expect(await send('media.found', { page: YT, media: [file] }, TAB)).toEqual({ ok: true, value: {} });
    expect(pushed).toContainEqual({ to: 'pages', type: 'tab.changed', payload: { tabId: 4 } });
    const before = keys.reads;
    const state = await send('tab.state', { tabId: 4 }, PAGE);
    expect(state).toMatchObject({ ok: true, value: { page: YT, media: [file], jobs: [], providerPage: true } });
    expect(built).toEqual([]);
    expect(keys.reads - before).toBe(1); // only VidPickr's key: it handles the page, so the others are not asked
    expect(await send('tab.state', { tabId: 99 }, PAGE)).toMatchObject({ ok: true, value: { page: null, providerPage: false } });
  });

  it('a content script starts downloads for its own tab only; an extension page for the tab it names', async () => {
    const { send, engine } = setup();
    const fromTab = await send('download.start', { page: { title: 'Clip', url: 'https://site.example/w' }, media: file, tabId: 99 }, TAB);
    expect(fromTab).toMatchObject({ ok: true, value: { job: { tabId: 4, provider: 'page', filename: 'Clip.mp4' } } });
    const fromPage = await send('download.start', { page: { title: 'Clip', url: 'https://site.example/w' }, media: file, tabId: 7 }, PAGE);
    expect(fromPage).toMatchObject({ ok: true, value: { job: { tabId: 7 } } });
    expect(engine.started.map((s) => s.media?.src)).toEqual([file.src, file.src]);
  });

  it('every job change is pushed to its tab and to the open pages; the end is notified once; the badge follows', async () => {
    const { app, send, pushed, surfaces, downloads } = setup();
    const started = await send('download.start', { page: { title: 'Clip', url: 'https://site.example/w' }, media: file }, TAB);
    const job = (started as { value: { job: Job } }).value.job;
    await app.onEngineEvent(job.id, { type: 'ready', url: 'blob:x', bytes: 10, made: { provider: 'page', title: 'a', container: 'mp4', height: 360, mediaId: null, attempts: [], subtitles: [] } });
    downloads.items.set(1, { state: 'complete', bytesReceived: 10, totalBytes: 10, filename: '/dl/Clip.mp4', error: null });
    await app.onBrowserDownloadChanged(1);
    await app.onBrowserDownloadChanged(1);
    const updates = pushed.filter((p) => p.type === 'job.update');
    const stages = (to: string) => updates.filter((u) => u.to === to).map((u) => (u.payload as { job: Job }).job.progress.stage);
    expect([...new Set(stages('tab 4'))]).toEqual(['queued', 'resolving', 'saving', 'done']);
    expect(stages('pages')).toEqual(stages('tab 4'));
    expect(surfaces.notified).toEqual(['done: Clip.mp4']);
    expect(surfaces.badges.at(-1)).toEqual(['done']);
  });

  it('a restarted worker finds its jobs and its tabs again', async () => {
    const first = setup();
    await first.send('media.found', { page: YT, media: [file] }, TAB);
    await first.send('download.start', { page: { title: 'Clip', url: 'https://site.example/w' }, media: file }, TAB);
    await new Promise((r) => setTimeout(r, 250));
    const again = setup({ session: first.session });
    const state = await again.send('tab.state', { tabId: 4 }, PAGE);
    expect(state).toMatchObject({ ok: true, value: { page: YT, media: [file], jobs: [{ filename: 'Clip.mp4' }] } });
  });

  it('after a browser restart a running job is interrupted (Resume runs the same job id again, tabless; Discard drops it and its files); orphan outputs are swept', async () => {
    const first = setup();
    const started = await first.send('download.start', { page: { title: 'Clip', url: 'https://site.example/w' }, media: file }, TAB);
    const id = (started as { value: { job: Job } }).value.job.id;
    await first.app.onEngineEvent(id, { type: 'progress', progress: { stage: 'downloading', tracks: {}, overall: { bytesDone: 400, bytesTotal: 1000, speedBps: 1, etaSeconds: 1 } } });
    await new Promise((r) => setTimeout(r, 250));
    // The browser restarts: the session's storage is empty, the local one is not.
    const restarted = new MemorySession();
    restarted.lasting = first.session.lasting;
    const orphans: Array<ReadonlySet<string>> = [];
    const again = setup({ session: restarted, orphans });
    await again.app.ready;
    // Shown with the downloads of any tab (its own is gone), not as history.
    const shown = ((await again.send('tab.state', { tabId: 12 }, PAGE)) as { value: { jobs: Job[]; history: Job[] } }).value;
    expect(shown.history).toEqual([]);
    expect(shown.jobs).toMatchObject([{ id, progress: { stage: 'interrupted' }, error: { message: 'Interrupted when the browser closed at 40%. Resume continues from what was saved.' } }]);
    expect([...orphans[0]!]).toEqual([id]); // its files are kept; anything else in OPFS goes
    expect(await again.send('download.resume', { jobId: id }, TAB)).toMatchObject({ ok: false }); // pages only
    const resumed = await again.send('download.resume', { jobId: id }, PAGE);
    expect(resumed).toMatchObject({ ok: true, value: { job: { id, tabId: null, progress: { stage: 'resolving' } } } });
    expect(again.engine.started.map((s) => s.jobId)).toEqual([id]);
    // Shown in any tab's popup while it runs.
    expect(await again.send('tab.state', { tabId: 12 }, PAGE)).toMatchObject({ ok: true, value: { jobs: [{ id }] } });

    // Discard: another restart, this time the job is dropped with its files.
    await new Promise((r) => setTimeout(r, 250));
    const third = new MemorySession();
    third.lasting = again.session.lasting;
    const last = setup({ session: third });
    await last.app.ready;
    expect(await last.send('download.discard', { jobId: id }, PAGE)).toEqual({ ok: true, value: {} });
    expect(last.engine.released).toEqual([id]);
    expect(await last.send('tab.state', { tabId: 4 }, PAGE)).toMatchObject({ ok: true, value: { jobs: [], history: [] } });
    await new Promise((r) => setTimeout(r, 250));
    expect(third.lasting).toEqual([]);
  });

  it('the engine’s end fails its jobs, told to the tab and the pages; an end no worker saw is found when the next one starts', async () => {
    const first = setup({ engineAlive: true });
    const started = await first.send('download.start', { page: { title: 'Clip', url: 'https://site.example/w' }, media: file }, TAB);
    const job = (started as { value: { job: Job } }).value.job;
    await first.app.onEngineLost();
    const last = first.pushed.filter((p) => p.type === 'job.update' && p.to === 'tab 4').at(-1)!.payload as { job: Job };
    expect(last.job).toMatchObject({ id: job.id, progress: { stage: 'failed' }, error: { code: 'internal', message: expect.stringMatching(/^The download engine stopped/) } });
    expect(first.engine.released).toEqual([job.id]);

    await first.send('download.start', { page: { title: 'Clip', url: 'https://site.example/w' }, media: file }, TAB);
    await new Promise((r) => setTimeout(r, 250));
    const stillThere = setup({ session: first.session, engineAlive: true });
    await stillThere.app.ready;
    expect((await stillThere.send('tab.state', { tabId: 4 }, PAGE) as { value: { jobs: Job[] } }).value.jobs.map((j) => j.progress.stage)).toEqual(['resolving', 'failed']);
    const gone = setup({ session: first.session, engineAlive: false });
    await gone.app.ready;
    expect((await gone.send('tab.state', { tabId: 4 }, PAGE) as { value: { jobs: Job[] } }).value.jobs.map((j) => j.progress.stage)).toEqual(['failed', 'failed']);
  });

  it('streams: the manifests the browser saw a frame load go with its MediaSource videos, in the popup and at the click; a new document forgets them', async () => {
    const { app, send, engine, session } = setup();
    const page = { title: 'Player', url: 'https://site.example/watch' };
    const mse = { id: 'v1', kind: 'mediasource' as const, src: 'blob:https://site.example/1', mimeType: null, width: 640, height: 360, duration: null };
    app.onManifestRequest(4, 0, 'https://cdn.example/vod/master.m3u8');
    app.onManifestRequest(4, 0, 'https://cdn.example/vod/v720.m3u8');
    app.onManifestRequest(4, 0, 'https://cdn.example/vod/v720.m3u8'); // again (a live reload): one entry
    app.onManifestRequest(4, 3, 'https://embed.example/e/stream.mpd');
    await send('media.found', { page, media: [mse] }, TAB);
    await send('media.found', { page: { title: 'Embed', url: 'https://embed.example/e' }, media: [mse] }, { ...TAB, frameId: 3 });
    const state = await send('tab.state', { tabId: 4 }, PAGE);
    expect(state).toMatchObject({
      ok: true,
      value: {
        page,
        media: [
          { id: 'v1', kind: 'manifest', src: 'https://cdn.example/vod/v720.m3u8', streams: ['https://cdn.example/vod/master.m3u8', 'https://cdn.example/vod/v720.m3u8'] },
          { id: 'v1@3', kind: 'manifest', src: 'https://embed.example/e/stream.mpd', streams: ['https://embed.example/e/stream.mpd'] },
        ],
      },
    });
    // The button in the iframe: its own frame's manifests, not the top frame's.
    await send('download.start', { page, media: mse }, { ...TAB, frameId: 3 });
    expect(engine.started[0]!.media).toMatchObject({ kind: 'manifest', streams: ['https://embed.example/e/stream.mpd'] });
    // A restarted worker still knows them.
    await new Promise((r) => setTimeout(r, 250));
    const again = setup({ session });
    expect(await again.send('tab.state', { tabId: 4 }, PAGE)).toMatchObject({ ok: true, value: { media: [{ streams: ['https://cdn.example/vod/master.m3u8', 'https://cdn.example/vod/v720.m3u8'] }, {}] } });
    // The iframe loads another document: its report and its manifests are gone; the top frame's stay.
    app.onFrameNavigated(4, 3);
    await new Promise((r) => setTimeout(r, 0));
    const after = (await send('tab.state', { tabId: 4 }, PAGE)) as { value: { media: unknown[] } };
    expect(after.value.media).toHaveLength(1);
    app.onFrameNavigated(4, 0);
    await new Promise((r) => setTimeout(r, 0));
    expect(await send('tab.state', { tabId: 4 }, PAGE)).toMatchObject({ ok: true, value: { page: null, media: [] } });
  });

  it('retry runs the request as it was asked', async () => {
    const { app, send, engine } = setup();
    const r = (await send('download.start', { page: { title: 'Clip', url: 'https://site.example/w' }, media: file, choice: { quality: '720' } }, TAB)) as { value: { job: Job } };
    await app.onEngineEvent(r.value.job.id, { type: 'failed', error: { code: 'network', message: 'down' } });
    const again = await send('download.retry', { jobId: r.value.job.id }, PAGE);
    expect(again).toMatchObject({ ok: true, value: { job: { tabId: 4, title: 'Clip' } } });
    expect(engine.started.map((s) => s.wish.quality)).toEqual(['720', '720']);
    expect(await send('download.retry', { jobId: 'gone' }, PAGE)).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('a site refused a local address is allowed from its failed job only, and the job runs again with it', async () => {
    const { app, send, engine, settings } = setup();
    const page = { title: 'Clip', url: 'https://public.example/w' };
    const local = { ...file, src: 'http://192.168.1.20/a.mp4' };
    const r = (await send('download.start', { page, media: local }, TAB)) as { value: { job: Job } };
    const pageSetup = (spec: JobSpec) => spec.providers.find((p) => p.id === 'page');
    expect(pageSetup(engine.started[0]!)).toEqual({ id: 'page', apiKey: null, baseUrl: null, privateNetworkSites: [] });
    // Not refused for a local address (yet): nothing to allow.
    expect(await send('privateNetwork.allow', { jobId: r.value.job.id }, PAGE)).toMatchObject({ ok: false, error: { code: 'bad_input' } });
    await app.onEngineEvent(r.value.job.id, { type: 'failed', error: { code: 'forbidden', message: 'public.example asks for 192.168.1.20…', privateNetworkSite: 'public.example' } });

    // A web page may not allow itself.
    expect(await send('privateNetwork.allow', { jobId: r.value.job.id }, TAB)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(settings.current.privateNetworkSites).toEqual([]);

    const again = await send('privateNetwork.allow', { jobId: r.value.job.id }, PAGE);
    expect(again).toMatchObject({ ok: true, value: { job: { tabId: 4, title: 'Clip', progress: { stage: 'resolving' } } } });
    expect(settings.current.privateNetworkSites).toEqual(['public.example']);
    expect(pageSetup(engine.started[1]!)).toEqual({ id: 'page', apiKey: null, baseUrl: null, privateNetworkSites: ['public.example'] });
    expect(engine.started[1]!.media?.src).toBe(local.src);
    // Asked twice: the site is kept once.
    expect(await send('privateNetwork.allow', { jobId: r.value.job.id }, PAGE)).toMatchObject({ ok: true });
    expect(settings.current.privateNetworkSites).toEqual(['public.example']);
    expect(await send('privateNetwork.allow', { jobId: 'gone' }, PAGE)).toMatchObject({ ok: false, error: { code: 'not_found' } });

    // The context menu on that video: its own address is the target, judged by the page it is on.
    await app.onContextMenu({ srcUrl: local.src, pageUrl: page.url }, { id: 4, title: page.title, url: page.url });
    expect(engine.started.at(-1)).toMatchObject({ url: local.src, pageUrl: page.url });
    expect(engine.started[0]!.pageUrl).toBeNull();
  });

  it('keys: set and listed only masked; tested with the provider; removed', async () => {
    const checked: string[] = [];
    const provider = { id: 'renderio', checkKey: async () => (checked.push('renderio'), { summary: 'Key works', details: {} }) } as unknown as Provider;
    const { send, keys } = setup({ providers: [provider] });
    expect(await send('keys.set', { provider: 'renderio', key: 'ffsk_0123456789abcdefWXYZ' }, PAGE)).toEqual({ ok: true, value: { masked: 'ffsk_...WXYZ' } });
    const list = await send('keys.list', {}, PAGE);
    expect(list).toEqual({
      ok: true,
      value: { keys: [{ provider: 'vidpickr', masked: null }, { provider: 'renderio', masked: 'ffsk_...WXYZ' }, { provider: 'tornado', masked: null }, { provider: 'vidio', masked: null }] },
    });
    expect(JSON.stringify(list)).not.toContain('0123456789abcdef');
    expect(await send('keys.test', { provider: 'renderio' }, PAGE)).toEqual({ ok: true, value: { summary: 'Key works', details: {} } });
    expect(checked).toEqual(['renderio']);
    // VIDIO (reels, not a download provider) is tested by its own client; without a key it says so.
    expect(await send('keys.test', { provider: 'vidio' }, PAGE)).toMatchObject({ ok: false, error: { code: 'unauthorized', message: 'No key is set for VIDIO.' } });
    await send('keys.set', { provider: 'vidio', key: 'vidio_test_k3y_studio_0001' }, PAGE);
    expect(await send('keys.test', { provider: 'vidio' }, PAGE)).toEqual({ ok: true, value: { summary: 'Key works', details: {} } });
    expect(checked).toEqual(['renderio']);
    expect(await send('keys.set', { provider: 'renderio', key: 'short' }, PAGE)).toMatchObject({ ok: false });
    await send('keys.remove', { provider: 'renderio' }, PAGE);
    expect(keys.keys.has('renderio')).toBe(false);
    // A web page can do none of it.
    expect(await send('keys.list', {}, TAB)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('Tornado storage: described with its secrets masked; rejected settings name the field', async () => {
    const { send } = setup();
    const s3 = { provider: 's3', endpoint: 'https://s3.example.com', bucket: 'b', region: 'r', access_key: 'AKIA0123456789ABCDEF', secret_key: 'x'.repeat(40) };
    expect(await send('storage.set', { config: s3 }, PAGE)).toEqual({ ok: true, value: { summary: 'S3-compatible bucket "b" at https://s3.example.com (r), key ...CDEF, folder videos' } });
    expect(await send('storage.get', {}, PAGE)).toMatchObject({ ok: true, value: { summary: expect.stringContaining('...CDEF') } });
    expect(await send('storage.set', { config: { provider: 's3' } }, PAGE)).toMatchObject({ ok: false });
  });

  it('the context menu: a link is the target; a blob video is the page; what cannot start is a notification', async () => {
    const { app, engine, surfaces } = setup();
    await app.onContextMenu({ linkUrl: 'https://cdn.example.com/b.mp4' }, { id: 3, title: 'Files', url: 'https://site.example/list' });
    expect(engine.started[0]).toMatchObject({ url: 'https://cdn.example.com/b.mp4', media: { kind: 'file' } });
    await app.onContextMenu({ srcUrl: 'blob:https://site.example/1' }, { id: 3, title: 'Player', url: 'https://site.example/watch' });
    expect(surfaces.problems).toEqual(['There is no video to save here.']);
    await app.onContextMenu({ srcUrl: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ' }, { id: 3, title: 'Video', url: 'https://blog.example/' });
    expect(surfaces.problems.at(-1)).toMatch(/needs a provider/);
  });

  it('options.open is the one thing besides downloads a web page may ask', async () => {
    const { send, surfaces } = setup();
    expect(await send('options.open', {}, TAB)).toEqual({ ok: true, value: {} });
    expect(surfaces.optionsOpened).toBe(1);
    expect(await send('history.clear', {}, TAB)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('an error a handler throws reaches the sender as data', async () => {
    const { send } = setup();
    const r = await send('download.start', { page: { title: 'p', url: 'https://site.example/' }, media: null }, TAB);
    expect(r).toEqual({ ok: false, error: { code: 'not_a_file', message: 'There is no video to save here.' } });
    expect(new VidmuxError('not_a_file', 'x').code).toBe('not_a_file');
  });
});
