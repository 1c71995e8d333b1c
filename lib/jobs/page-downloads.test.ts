import { afterEach, describe, expect, it } from 'vitest';
import { JobStore } from './job';
import { PageDownloads, type DownloadBackend, type DownloadState } from './page-downloads';

/** A stand-in for the browser's downloads API (an external API, not our code). */
class FakeBrowserDownloads implements DownloadBackend {
  items = new Map<number, DownloadState>();
  cancelled: number[] = [];
  started: Array<{ url: string; filename: string }> = [];
  refuse: string | null = null;
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
    return r === 'NETWORK_FAILED' ? 'the network connection failed' : String(r);
  }
}

const media = { id: 'v1', kind: 'file' as const, src: 'https://a.com/x.mp4', mimeType: 'video/mp4', width: 640, height: 360, duration: 4 };
const req = { media, page: { title: 'Clip: one', url: 'https://a.com/w' }, tabId: 7, filenameTemplate: '{title}.{ext}' };

let service: PageDownloads | undefined;
afterEach(async () => {
  // Stop the poll timer: end every job.
  for (const j of store?.list() ?? []) await service?.cancel(j.id);
});
let store: JobStore | undefined;

function setup() {
  store = new JobStore();
  const browser = new FakeBrowserDownloads();
  service = new PageDownloads(store, browser, { pollMs: 10_000 });
  return { store, browser, service };
}

describe('PageDownloads', () => {
  it('starts a browser download with the planned name and follows it to done', async () => {
    const { store, browser, service } = setup();
    const job = await service.start(req);
    expect(browser.started).toEqual([{ url: 'https://a.com/x.mp4', filename: 'Clip - one.mp4' }]);
    expect(job.progress.stage).toBe('downloading');
    expect(job.tabId).toBe(7);

    browser.items.set(1, { ...browser.items.get(1)!, bytesReceived: 400 });
    await service.refresh(job.id);
    expect(store.get(job.id)!.progress.overall).toMatchObject({ bytesDone: 400, bytesTotal: 1000 });

    browser.items.set(1, { ...browser.items.get(1)!, bytesReceived: 1000, state: 'complete' });
    await service.refresh();
    const done = store.get(job.id)!;
    expect(done.progress.stage).toBe('done');
    expect(done.file).toBe('/dl/Clip - one.mp4');
    expect(done.finishedAt).not.toBeNull();
    expect(done.progress.overall.etaSeconds).toBe(0);
  });

  it('fails with the reason when the browser interrupts the download', async () => {
    const { store, browser, service } = setup();
    const job = await service.start(req);
    browser.items.set(1, { ...browser.items.get(1)!, state: 'interrupted', error: 'NETWORK_FAILED' });
    await service.refresh();
    expect(store.get(job.id)!.progress.stage).toBe('failed');
    expect(store.get(job.id)!.error).toEqual({ code: 'download_failed', message: 'Download failed: the network connection failed.' });
  });

  it('fails (does not throw) when the browser refuses to start, and when it forgets the download', async () => {
    const { store, browser, service } = setup();
    browser.refuse = 'Invalid filename';
    const job = await service.start(req);
    expect(job.progress.stage).toBe('failed');
    expect(job.error?.message).toMatch(/refused.*Invalid filename|Invalid filename/);
    browser.refuse = null;
    const job2 = await service.start(req);
    browser.items.clear();
    await service.refresh();
    expect(store.get(job2.id)!.error?.message).toMatch(/no longer knows/);
  });

  it('rejects a stream that is not a file without starting anything', async () => {
    const { browser, service } = setup();
    await expect(service.start({ ...req, media: { ...media, kind: 'mediasource' } })).rejects.toMatchObject({ code: 'not_a_file' });
    expect(browser.started).toEqual([]);
  });

  it('cancels: the browser download is cancelled and the job ends as cancelled, once', async () => {
    const { store, browser, service } = setup();
    const job = await service.start(req);
    await service.cancel(job.id);
    expect(browser.cancelled).toEqual([1]);
    expect(store.get(job.id)!.progress.stage).toBe('cancelled');
    // A finished job never changes again.
    browser.items.set(1, { ...browser.items.get(1)!, state: 'complete' });
    await service.refresh(job.id);
    expect(store.get(job.id)!.progress.stage).toBe('cancelled');
  });

  it('survives a worker restart: jobs persist and are followed again', async () => {
    const { store, browser, service } = setup();
    const job = await service.start(req);
    const restored = new JobStore();
    restored.fromJSON(JSON.parse(JSON.stringify(store.toJSON())));
    const again = new PageDownloads(restored, browser, { pollMs: 10_000 });
    browser.items.set(1, { ...browser.items.get(1)!, bytesReceived: 1000, state: 'complete' });
    await again.refresh();
    expect(restored.get(job.id)!.progress.stage).toBe('done');
    await service.refresh();
  });
});

describe('JobStore', () => {
  it('drops unparseable persisted jobs and keeps at most N finished ones', () => {
    const s = new JobStore(1);
    s.fromJSON([{ id: 'bad' }, 42]);
    expect(s.list()).toEqual([]);
    s.fromJSON('garbage');
    expect(s.list()).toEqual([]);
  });
});
