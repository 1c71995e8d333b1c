import { afterEach, describe, expect, it } from 'vitest';
import { JobStore } from './job';
import { keptInputId } from '../schemas/reel';
import { DownloadService, type DownloadBackend, type DownloadState, type EngineHost, type StreamedSaves } from './downloads';
import type { JobSpec, Made } from '../schemas/job-spec';

/** A stand-in for the browser's downloads API (an external API, not our code). */
class FakeBrowserDownloads implements DownloadBackend {
  items = new Map<number, DownloadState>();
  cancelled: number[] = [];
  started: Array<{ url: string; filename: string }> = [];
  refuse: string | null = null;
  streamed?: StreamedSaves;
  private next = 1;
  async start(url: string, filename: string) {
    if (this.refuse) throw new Error(this.refuse);
    this.started.push({ url, filename });
    const id = this.next++;
    this.items.set(id, { state: 'in_progress', bytesReceived: 0, totalBytes: 1000, filename: `/dl/${filename}`, error: null });
    return id;
  }
  async get(id: number) {
    return this.items.get(id) ?? null;
  }
  async cancel(id: number) {
    this.cancelled.push(id);
    const it = this.items.get(id);
    if (it) this.items.set(id, { ...it, state: 'interrupted', error: 'USER_CANCELED' });
  }
  describeInterrupt(r: string | null) {
    return r === 'FILE_NO_SPACE' ? 'the disk is full' : String(r);
  }
  set(id: number, patch: Partial<DownloadState>) {
    this.items.set(id, { ...this.items.get(id)!, ...patch });
  }
}

/** Records what the service asks of the byte-handling context; the test plays its events. */
class RecordingEngine implements EngineHost {
  started: JobSpec[] = [];
  cancelled: string[] = [];
  released: string[] = [];
  async start(spec: JobSpec) {
    this.started.push(spec);
  }
  async cancel(id: string) {
    this.cancelled.push(id);
  }
  finished: string[] = [];
  async finish(id: string) {
    this.finished.push(id);
  }
  chosen: Array<[string, number]> = [];
  async choose(id: string, index: number) {
    this.chosen.push([id, index]);
  }
  kept: Array<[string, string]> = [];
  async release(id: string, keepAs?: string) {
    this.released.push(id);
    if (keepAs) this.kept.push([id, keepAs]);
  }
}

const media = { id: 'v1', kind: 'file' as const, src: 'https://a.com/x.mp4', mimeType: 'video/mp4', width: 640, height: 360, duration: 4 };
const page = { title: 'Clip: one', url: 'https://a.com/w' };
const req = { spec: { url: page.url, media, wish: { quality: 'best' as const }, providers: [{ id: 'page' as const, apiKey: null, baseUrl: null }] }, page, tabId: 7, filenameTemplate: '{title}.{ext}' };
/** What the engine made of a page's file. */
const made = (over: Partial<Made> = {}): Made => ({ provider: 'page', title: 'x', container: 'mp4', height: 360, mediaId: null, attempts: [{ provider: 'page', error: null }], subtitles: [], ...over });
const ready = (url: string, bytes: number, over: Partial<Made> = {}) => ({ type: 'ready' as const, url, bytes, made: made(over) });
const progress = (done: number) => ({ stage: 'downloading' as const, tracks: { file: { bytesDone: done, bytesTotal: 1000, speedBps: 10, etaSeconds: 1 } }, overall: { bytesDone: done, bytesTotal: 1000, speedBps: 10, etaSeconds: 1 } });

let services: DownloadService[] = [];
afterEach(async () => {
  // End every job so no poll timer outlives its test.
  for (const s of services) for (const j of (s as unknown as { store: JobStore }).store.list()) await s.cancel(j.id);
  services = [];
});

function setup() {
  const store = new JobStore();
  const browser = new FakeBrowserDownloads();
  const engine = new RecordingEngine();
  let n = 0;
  const service = new DownloadService(store, browser, engine, { pollMs: 60_000, newId: () => `job${++n}` });
  services.push(service);
  return { store, browser, engine, service };
}

describe('DownloadService', () => {
  it('runs a file through the engine, then the browser saves the finished blob; done only when on disk', async () => {
    const { store, browser, engine, service } = setup();
    const job = await service.start(req);
    expect(engine.started).toEqual([
      { jobId: 'job1', url: 'https://a.com/w', pageUrl: null, media, wish: expect.objectContaining({ quality: 'best', formatId: null }), providers: req.spec.providers, tornadoStorage: null, connections: 4, limits: null, resolved: null, entry: null, reel: null },
    ]);
    expect(job).toMatchObject({ filename: 'Clip - one.mp4', tabId: 7, sourceUrl: 'https://a.com/x.mp4', progress: { stage: 'resolving' } });

    await service.onEngineEvent('job1', { type: 'progress', progress: progress(400) });
    expect(store.get('job1')!.progress.overall.bytesDone).toBe(400);

    await service.onEngineEvent('job1', ready('blob:chrome-extension://x/1', 1000));
    expect(browser.started).toEqual([{ url: 'blob:chrome-extension://x/1', filename: 'Clip - one.mp4' }]);
    expect(store.get('job1')!.progress.stage).toBe('saving');
    expect(engine.released).toEqual([]); // the browser still reads the blob

    browser.set(1, { bytesReceived: 1000, state: 'complete' });
    await service.refresh();
    const done = store.get('job1')!;
    expect(done.progress.stage).toBe('done');
    expect(done.file).toBe('/dl/Clip - one.mp4');
    expect(done.progress.overall).toMatchObject({ bytesDone: 1000, bytesTotal: 1000, etaSeconds: 0 });
    expect(engine.released).toEqual(['job1']);
  });

  it('with keepForReel, a saved video stays in the engine as a reel input; without it (or for other files) it is released', async () => {
    const store = new JobStore();
    const browser = new FakeBrowserDownloads();
    const engine = new RecordingEngine();
    let n = 0;
    const asked: string[] = [];
    const service = new DownloadService(store, browser, engine, {
      pollMs: 60_000,
      newId: () => `job${++n}`,
      keepForReel: async (job) => (asked.push(job.filename), job.filename.endsWith('.mp4')),
    });
    services.push(service);
    await service.start(req);
    await service.onEngineEvent('job1', ready('blob:chrome-extension://x/1', 1000));
    expect(engine.kept).toEqual([]); // not before the browser has it
    browser.set(1, { bytesReceived: 1000, state: 'complete' });
    await service.refresh();
    expect(store.get('job1')!.progress.stage).toBe('done');
    expect(engine.kept).toEqual([['job1', keptInputId('job1')]]);
    expect(keptInputId('job1')).toBe('saved-job1');
    // A failed save is never kept.
    await service.start(req);
    await service.onEngineEvent('job2', ready('blob:chrome-extension://x/2', 1000));
    browser.set(2, { bytesReceived: 10, state: 'interrupted', error: 'FILE_FAILED' });
    await service.refresh();
    expect(engine.kept).toHaveLength(1);
    expect(engine.released).toEqual(['job1', 'job2']);
    expect(asked).toEqual(['Clip - one.mp4']);
  });

  it('two refreshes that see the download complete at once finish the job once: kept as a reel input once, released once', async () => {
    const store = new JobStore();
    const browser = new FakeBrowserDownloads();
    const engine = new RecordingEngine();
    const service = new DownloadService(store, browser, engine, { pollMs: 60_000, newId: () => 'job1', keepForReel: async () => true });
    services.push(service);
    await service.start(req);
    await service.onEngineEvent('job1', ready('blob:chrome-extension://x/1', 1000));
    browser.set(1, { bytesReceived: 1000, state: 'complete' });
    await Promise.all([service.refresh('job1'), service.refresh('job1'), service.refresh()]);
    expect(store.get('job1')!.progress.stage).toBe('done');
    expect(engine.kept).toEqual([['job1', 'saved-job1']]);
    expect(engine.released).toEqual(['job1']);
  });

  it('a job waiting on choices goes on with the one picked; a pick it did not offer, or a job not waiting, is refused', async () => {
    const { store, engine, service } = setup();
    await service.start(req);
    await expect(service.choose('job1', 0)).rejects.toThrow('This download is not waiting for a choice.');
    const choices = [0, 1].map((index) => ({ index, durationSeconds: 15.2, thumbnail: null }));
    await service.onEngineEvent('job1', { type: 'progress', progress: { stage: 'resolving', tracks: {}, overall: progress(0).overall, words: 'Choose one', choices } });
    expect(store.get('job1')!.progress.choices).toEqual(choices);
    await expect(service.choose('job1', 5)).rejects.toThrow('There is no choice 5 (there are 2).');
    await service.choose('job1', 1);
    expect(engine.chosen).toEqual([['job1', 1]]);
    // The next progress no longer offers them.
    await service.onEngineEvent('job1', { type: 'progress', progress: progress(10) });
    expect(store.get('job1')!.progress.choices).toBeUndefined();
    expect(await service.choose('nope', 0)).toBeNull();
  });

  it('a provider reporting "done" in its progress does not end the job; the remote result does', async () => {
    const { store, engine, service } = setup();
    await service.start({
      page: { title: 'A video - YouTube', url: 'https://www.youtube.com/watch?v=x' },
      tabId: 1,
      filenameTemplate: '{title}.{ext}',
      spec: { url: 'https://www.youtube.com/watch?v=x', wish: { quality: 'best' }, providers: [{ id: 'tornado', apiKey: 'sk_x', baseUrl: null }] },
    });
    expect(engine.started[0]).toMatchObject({ url: 'https://www.youtube.com/watch?v=x', providers: [{ id: 'tornado' }] });
    await service.onEngineEvent('job1', { type: 'progress', progress: { ...progress(0), stage: 'done' } });
    expect(store.get('job1')!.progress.stage).not.toBe('done');
    await service.onEngineEvent('job1', { type: 'remote', location: 's3://bucket/videos/x.mp4', provider: 'tornado', attempts: [{ provider: 'tornado', error: null }] });
    expect(store.get('job1')).toMatchObject({ remoteLocation: 's3://bucket/videos/x.mp4', progress: { stage: 'done' }, provider: 'tornado' });
    expect(engine.released).toEqual(['job1']);
  });

  it('names a provider job once the engine says what it made, with subtitles beside it', async () => {
    const { store, browser, service } = setup();
    await service.start({
      page: { title: 'Trip: day 1 - YouTube', url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ' },
      tabId: 1,
      filenameTemplate: '{title} [{provider} {height}p {id}].{ext}',
      spec: { url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ', wish: { quality: 'best', subtitleLanguages: ['en'] }, providers: [{ id: 'vidpickr', apiKey: 'vpk_live_x', baseUrl: null }] },
    });
    await service.onEngineEvent('job1', { type: 'provider', provider: 'vidpickr', attempts: [] });
    await service.onEngineEvent('job1', ready('blob:x', 1000, { provider: 'vidpickr', title: 'Provider title', height: 720, attempts: [{ provider: 'vidpickr', error: null }], subtitles: [{ url: 'blob:s', bytes: 10, language: 'en', container: 'srt' }] }));
    expect(browser.started).toEqual([
      { url: 'blob:s', filename: 'Trip - day 1 [vidpickr 720p dQw4w9WgXcQ].en.srt' },
      { url: 'blob:x', filename: 'Trip - day 1 [vidpickr 720p dQw4w9WgXcQ].mp4' },
    ]);
    // Done only when both files are on disk.
    browser.set(2, { bytesReceived: 1000, state: 'complete' });
    await service.refresh('job1');
    expect(store.get('job1')!.progress.stage).toBe('saving');
    browser.set(1, { state: 'complete' });
    await service.refresh('job1');
    expect(store.get('job1')).toMatchObject({ progress: { stage: 'done' }, extraFiles: ['/dl/Trip - day 1 [vidpickr 720p dQw4w9WgXcQ].en.srt'] });
  });

  it('fails with the engine error and frees what the job made', async () => {
    const { store, browser, engine, service } = setup();
    await service.start(req);
    await service.onEngineEvent('job1', { type: 'failed', error: { code: 'truncated', message: 'The server closed the connection early.' } });
    expect(store.get('job1')).toMatchObject({ progress: { stage: 'failed' }, error: { code: 'truncated' } });
    expect(browser.started).toEqual([]);
    expect(engine.released).toEqual(['job1']);
  });

  it('fails with the browser reason when saving is interrupted; a late event changes nothing', async () => {
    const { store, browser, engine, service } = setup();
    await service.start(req);
    await service.onEngineEvent('job1', ready('blob:x', 1000));
    browser.set(1, { state: 'interrupted', error: 'FILE_NO_SPACE' });
    await service.refresh('job1');
    expect(store.get('job1')!.error).toEqual({ code: 'download_failed', message: 'Saving failed: the disk is full.' });
    await service.onEngineEvent('job1', { type: 'progress', progress: progress(5) });
    expect(store.get('job1')!.progress.stage).toBe('failed');
    expect(engine.released).toContain('job1');
  });

  it('fails (does not throw) when the browser refuses the file, or forgets the download', async () => {
    const { store, browser, service } = setup();
    await service.start(req);
    browser.refuse = 'Invalid filename';
    await service.onEngineEvent('job1', ready('blob:x', 1));
    expect(store.get('job1')!.error?.message).toMatch(/Invalid filename/);
    browser.refuse = null;
    await service.start(req);
    await service.onEngineEvent('job2', ready('blob:y', 1));
    browser.items.clear();
    await service.refresh();
    expect(store.get('job2')!.error?.message).toMatch(/no longer knows/);
  });

  it('names a page’s file after the page title, and takes the provider’s title only when the page had none', async () => {
    const { browser, service } = setup();
    await service.start({ ...req, filenameTemplate: '{title} {height}p.{ext}' });
    await service.onEngineEvent('job1', ready('blob:a', 10, { title: 'file stem', container: 'webm', height: 720 }));
    await service.start({ ...req, page: { title: '', url: 'https://a.com/w' } });
    await service.onEngineEvent('job2', ready('blob:b', 10, { title: 'file stem' }));
    expect(browser.started.map((d) => d.filename)).toEqual(['Clip - one 720p.webm', 'file stem.mp4']);
  });

  it('hands the browser only blob URLs of the engine: anything else fails the job', async () => {
    const { store, browser, engine, service } = setup();
    await service.start(req);
    await service.onEngineEvent('job1', ready('file:///etc/passwd', 10));
    expect(store.get('job1')).toMatchObject({ progress: { stage: 'failed' }, error: { code: 'internal' } });
    expect(browser.started).toEqual([]);
    expect(engine.released).toEqual(['job1']);
  });

  it('cancels in the engine or in the browser, and the job stays cancelled', async () => {
    const { store, browser, engine, service } = setup();
    await service.start(req);
    await service.cancel('job1');
    expect(engine.cancelled).toEqual(['job1']);
    expect(store.get('job1')!.progress.stage).toBe('cancelled');
    await service.onEngineEvent('job1', ready('blob:late', 1));
    expect(browser.started).toEqual([]); // a file that arrives after cancel is not saved
    expect(engine.released.filter((j) => j === 'job1').length).toBeGreaterThanOrEqual(1);

    await service.start(req);
    await service.onEngineEvent('job2', ready('blob:z', 1));
    await service.cancel('job2');
    expect(browser.cancelled).toEqual([1]);
    browser.set(1, { state: 'complete' });
    await service.refresh('job2');
    expect(store.get('job2')!.progress.stage).toBe('cancelled');
  });

  it('when the engine goes, every job in it fails saying why and where, its files freed; a saving job goes on to done', async () => {
    const { store, browser, engine, service } = setup();
    await service.start(req); // job1: resolving
    await service.start(req); // job2: downloading, 3%
    await service.onEngineEvent('job2', { type: 'progress', progress: progress(34) });
    await service.start(req); // job3: joining video and audio
    await service.onEngineEvent('job3', { type: 'progress', progress: { ...progress(500), stage: 'muxing' } });
    await service.start(req); // job4: recording a live stream
    await service.onEngineEvent('job4', { type: 'progress', progress: { ...progress(0), stage: 'recording' } });
    await service.start(req); // job5: the browser is saving it
    await service.onEngineEvent('job5', ready('blob:chrome-extension://x/5', 1000));
    await service.start(req); // job6: done
    await service.onEngineEvent('job6', ready('blob:chrome-extension://x/6', 1000));
    browser.set(2, { bytesReceived: 1000, state: 'complete' });
    await service.refresh('job6');
    engine.released = [];

    await service.onEngineLost();
    const error = (id: string) => store.get(id)!.error;
    const stopped = 'The download engine stopped (its page was closed or crashed)';
    expect(error('job1')).toEqual({ code: 'internal', message: `${stopped} before it began; nothing was saved. Retry to start again.` });
    expect(error('job2')).toEqual({ code: 'internal', message: `${stopped} at 3%; nothing was saved. Retry to start again.` });
    expect(error('job3')!.message).toBe(`${stopped} while joining video and audio; nothing was saved. Retry to start again.`);
    expect(error('job4')!.message).toBe(`${stopped} while recording; nothing was saved. Retry to start again.`);
    for (const id of ['job1', 'job2', 'job3', 'job4']) expect(store.get(id)!.progress.stage).toBe('failed');
    expect(engine.released.sort()).toEqual(['job1', 'job2', 'job3', 'job4']);
    expect(store.get('job5')!.progress.stage).toBe('saving');
    expect(store.get('job6')).toMatchObject({ progress: { stage: 'done' }, error: null });

    // The browser has the saving job's file: it ends by the browser's word, then its file is freed.
    browser.set(1, { bytesReceived: 1000, state: 'complete' });
    await service.refresh('job5');
    expect(store.get('job5')!.progress.stage).toBe('done');
    expect(engine.released).toContain('job5');
    // A late word from the dead engine changes nothing; an engine lost again finds nothing to fail.
    await service.onEngineEvent('job2', ready('blob:chrome-extension://x/late', 1000));
    expect(store.get('job2')!.progress.stage).toBe('failed');
    expect(browser.started).toHaveLength(2);
    await service.onEngineLost();
    expect(error('job2')!.message).toContain('at 3%');
  });

  it('after a worker restart, jobs of an engine that went meanwhile fail; with the engine there, or a host that cannot lose it, nothing changes', async () => {
    const { store, browser, engine, service } = setup();
    await service.start(req);
    await service.onEngineEvent('job1', { type: 'progress', progress: progress(500) });
    const restart = (alive?: boolean | Error) => {
      const restored = new JobStore();
      restored.fromJSON(JSON.parse(JSON.stringify(store.toJSON())));
      const host = Object.assign(new RecordingEngine(), alive === undefined ? {} : { alive: async () => (alive instanceof Error ? Promise.reject(alive) : alive) });
      const again = new DownloadService(restored, browser, host, { pollMs: 60_000 });
      services.push(again);
      return { restored, again, host };
    };
    for (const alive of [undefined, true, new Error('no answer')]) {
      const { restored, again } = restart(alive);
      await again.checkEngine();
      expect(restored.get('job1')!.progress.stage, String(alive)).toBe('downloading');
    }
    const { restored, again, host } = restart(false);
    await again.checkEngine();
    expect(restored.get('job1')).toMatchObject({ progress: { stage: 'failed' }, error: { code: 'internal', message: expect.stringContaining('at 50%') } });
    expect(host.released).toEqual(['job1']);
    expect(engine.released).toEqual([]);
  });

  it('survives a worker restart: jobs persist and saving is followed again', async () => {
    const { store, browser, engine } = setup();
    const first = services[0]!;
    await first.start(req);
    await first.onEngineEvent('job1', ready('blob:x', 1000));
    const restored = new JobStore();
    restored.fromJSON(JSON.parse(JSON.stringify(store.toJSON())));
    const again = new DownloadService(restored, browser, engine, { pollMs: 60_000 });
    services.push(again);
    browser.set(1, { bytesReceived: 1000, state: 'complete' });
    again.resume();
    await again.refresh();
    expect(restored.get('job1')!.progress.stage).toBe('done');
  });
});

/** A stand-in for Chrome's streamed saves: each start is a browser download of the engine's file. */
class FakeStreamedSaves implements StreamedSaves {
  calls: string[] = [];
  refuse = false;
  constructor(private readonly downloads: FakeBrowserDownloads) {}
  async start(jobId: string, file: string, filename: string, mimeType: string) {
    this.calls.push(`start ${jobId} ${file} ${filename} ${mimeType}`);
    if (this.refuse) throw new Error('the browser did not start the download');
    await this.gate;
    return this.downloads.start(`chrome-extension://x/save/${jobId}`, filename);
  }
  /** When set, `start` waits for it (the browser is slow to begin the download). */
  gate: Promise<void> | null = null;
  committed(jobId: string, bytes: number) {
    this.calls.push(`committed ${jobId} ${bytes}`);
  }
  end(jobId: string, bytes: number | null) {
    this.calls.push(`end ${jobId} ${bytes}`);
  }
}

function streamedSetup() {
  const s = setup();
  const saves = new FakeStreamedSaves(s.browser);
  s.browser.streamed = saves;
  return { ...s, saves };
}
const stream = (over: Partial<Made> = {}) => {
  const { subtitles: _, ...m } = made(over);
  return { type: 'stream' as const, file: 'vidmux-job-job1-main0', made: m };
};

describe('DownloadService: saves streamed while the engine writes (Chrome)', () => {
  it('the browser download starts at `stream`, named then, takes what is committed, and ends with `ready`: no second download', async () => {
    const { store, browser, engine, service, saves } = streamedSetup();
    await service.start({ ...req, filenameTemplate: '{title} {height}p.{ext}' });
    await service.onEngineEvent('job1', stream());
    expect(saves.calls).toEqual(['start job1 vidmux-job-job1-main0 Clip - one 360p.mp4 video/mp4']);
    expect(store.get('job1')).toMatchObject({ filename: 'Clip - one 360p.mp4', downloadId: null, progress: { stage: 'resolving' } });
    await service.onEngineEvent('job1', { type: 'committed', bytes: 16 });
    await service.onEngineEvent('job1', { type: 'progress', progress: progress(400) });
    // The engine's progress is the job's while it downloads, not the browser's.
    expect(store.get('job1')!.progress).toMatchObject({ stage: 'downloading', overall: { bytesDone: 400 } });
    // The made file's height differs from what was announced: the name given at the start stays.
    await service.onEngineEvent('job1', ready('blob:chrome-extension://x/1', 1000, { height: 720 }));
    expect(saves.calls.slice(1)).toEqual(['committed job1 16', 'end job1 1000']);
    expect(browser.started).toEqual([{ url: 'chrome-extension://x/save/job1', filename: 'Clip - one 360p.mp4' }]);
    expect(store.get('job1')).toMatchObject({ downloadId: 1, filename: 'Clip - one 360p.mp4', progress: { stage: 'saving' } });
    browser.set(1, { bytesReceived: 1000, state: 'complete' });
    await service.refresh();
    expect(store.get('job1')).toMatchObject({ file: '/dl/Clip - one 360p.mp4', progress: { stage: 'done' } });
    expect(engine.released).toEqual(['job1']);
  });

  it('a job that fails, is cancelled, or loses its engine cancels its streamed download (nothing partial stays)', async () => {
    const { store, browser, service, saves } = streamedSetup();
    await service.start(req);
    await service.onEngineEvent('job1', stream());
    await service.onEngineEvent('job1', { type: 'failed', error: { code: 'network', message: 'The server went away.' } });
    expect(browser.cancelled).toEqual([1]);
    expect(saves.calls.at(-1)).toBe('end job1 null');
    expect(store.get('job1')!.error?.message).toBe('The server went away.');

    await service.start(req);
    await service.onEngineEvent('job2', stream());
    await service.cancel('job2');
    expect(browser.cancelled).toEqual([1, 2]);

    await service.start(req);
    await service.onEngineEvent('job3', stream());
    await service.onEngineLost();
    expect(browser.cancelled).toEqual([1, 2, 3]);
    expect(store.get('job3')!.progress.stage).toBe('failed');
  });

  it('another provider taking over starts a new streamed download and cancels the first one', async () => {
    const { browser, service, saves } = streamedSetup();
    await service.start(req);
    await service.onEngineEvent('job1', stream());
    await service.onEngineEvent('job1', stream({ provider: 'vidpickr' }));
    expect(browser.cancelled).toEqual([1]);
    expect(saves.calls.filter((c) => c.startsWith('start'))).toHaveLength(2);
    await service.onEngineEvent('job1', ready('blob:b', 10));
    expect(browser.started.map((d) => d.url)).toEqual(['chrome-extension://x/save/job1', 'chrome-extension://x/save/job1']);
  });

  it('the user cancelling the streamed download in the browser cancels the job in the engine', async () => {
    const { store, browser, engine, service } = streamedSetup();
    await service.start(req);
    await service.onEngineEvent('job1', stream());
    browser.set(1, { state: 'interrupted', error: 'USER_CANCELED' });
    expect(service.jobForDownload(1)?.id).toBe('job1');
    await service.refresh('job1');
    expect(engine.cancelled).toEqual(['job1']);
    expect(store.get('job1')!.progress.stage).toBe('cancelled');
  });

  it('a small file ready before the browser began its streamed download is saved by that download (no second one)', async () => {
    const { store, browser, service, saves } = streamedSetup();
    let open = () => {};
    saves.gate = new Promise<void>((r) => (open = r));
    await service.start(req);
    const announced = service.onEngineEvent('job1', stream());
    const readyHandled = service.onEngineEvent('job1', ready('blob:chrome-extension://x/1', 10));
    open();
    await Promise.all([announced, readyHandled]);
    expect(browser.started).toEqual([{ url: 'chrome-extension://x/save/job1', filename: 'Clip - one.mp4' }]);
    expect(browser.cancelled).toEqual([]);
    expect(saves.calls.at(-1)).toBe('end job1 10');
    expect(store.get('job1')).toMatchObject({ downloadId: 1, progress: { stage: 'saving' } });
  });

  it('a streamed download that broke, or never started, falls back to saving the finished file', async () => {
    const { store, browser, service, saves } = streamedSetup();
    await service.start(req);
    await service.onEngineEvent('job1', stream());
    browser.set(1, { state: 'interrupted', error: 'NETWORK_FAILED' });
    await service.refresh('job1');
    expect(store.get('job1')!.progress.stage).toBe('resolving'); // the job goes on
    await service.onEngineEvent('job1', ready('blob:chrome-extension://x/2', 10));
    expect(browser.started.at(-1)).toEqual({ url: 'blob:chrome-extension://x/2', filename: 'Clip - one.mp4' });
    expect(store.get('job1')!.downloadId).toBe(2);

    saves.refuse = true;
    await service.start(req);
    await service.onEngineEvent('job2', stream());
    await service.onEngineEvent('job2', ready('blob:chrome-extension://x/3', 10));
    expect(browser.started.at(-1)).toEqual({ url: 'blob:chrome-extension://x/3', filename: 'Clip - one.mp4' });
  });
});

describe('JobStore', () => {
  it('drops unparseable persisted jobs', () => {
    const s = new JobStore(1);
    s.fromJSON([{ id: 'bad' }, 42]);
    expect(s.list()).toEqual([]);
    s.fromJSON('garbage');
    expect(s.list()).toEqual([]);
  });
});
