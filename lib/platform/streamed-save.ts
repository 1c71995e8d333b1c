/**
 * Chrome: a job's file saved by the browser while the engine writes it, instead of copied into
 * the downloads folder once it is complete. Measured with bench:browser: that copy of a finished
 * 2.2 GB file took Chromium 9.3 s after the last byte arrived (about 12% of the whole save); a
 * streamed save ends within a piece of the last byte.
 *
 * How: the engine writes a plain copy in order, as committed OPFS pieces (`OpfsPiecesSink`), and
 * says how far (`committed`). The service worker answers a request for `/save/<token>` with a
 * stream that reads those pieces from OPFS as they are committed and ends once the job is `ready`
 * (so a job that fails after its last byte still fails its download: nothing half-made is left
 * looking done). The request must be a navigation: Chrome's `downloads.download()` of a URL our
 * service worker serves fails without calling it (../shared/recipes.md), so the offscreen
 * document opens it in a hidden iframe ({@link openSaveFrame}); the download's name comes from
 * `downloads.onDeterminingFilename`, the only way to give one with folders to such a download.
 * The bytes are read from disk as the download takes them: memory stays flat whatever the size.
 * This is the one place Chrome's service worker touches media bytes (it only relays them; only a
 * service worker can answer the frame's request). If Chrome stops the worker mid-save, the
 * download breaks and the background saves the finished file instead (lib/jobs/downloads.ts).
 *
 * Firefox keeps saving the finished file (its background page has no fetch events to serve from).
 */
import { browser } from 'wxt/browser';
import type { StreamedSaves } from '../jobs/downloads';
import { PIECE_BYTES, pieceName } from './opfs-outputs';

/** Path of the URLs the service worker serves saves at. */
const SAVE_PATH = '/save/';
/** How long the browser may take to turn the iframe's navigation into a download. */
const CREATED_TIMEOUT_MS = 20_000;

interface Save {
  jobId: string;
  /** The OPFS output (its pieces: `<file>.p00000`, ...). */
  file: string;
  filename: string;
  mimeType: string;
  committed: number;
  /** Where the file ends, once the job is ready. */
  end: number | null;
  abandoned: boolean;
  /** Whether a request took it already (a save is served once). */
  served: boolean;
  /** Wakes the stream waiting for more bytes. */
  wake: (() => void) | null;
}

/** The parts of Chrome's downloads API used here that the polyfill's types lack. */
interface ChromeDownloads {
  downloads: {
    onCreated: { addListener(fn: (item: DownloadItemLike) => void): void; removeListener(fn: (item: DownloadItemLike) => void): void };
    onDeterminingFilename?: {
      addListener(fn: (item: DownloadItemLike, suggest: (s?: { filename: string; conflictAction: string }) => void) => boolean | void): void;
      removeListener(fn: (item: DownloadItemLike, suggest: (s?: { filename: string; conflictAction: string }) => void) => boolean | void): void;
    };
  };
}
interface DownloadItemLike {
  id: number;
  url: string;
  finalUrl?: string;
}

/** The service worker's side: the saves it serves, and the browser downloads they become. */
export class ServiceWorkerSaves implements StreamedSaves {
  private readonly saves = new Map<string, Save>();

  /** `open`: has the engine's document navigate a hidden iframe to the save's URL. */
  constructor(private readonly open: (token: string) => Promise<void>) {}

  async start(jobId: string, file: string, filename: string, mimeType: string): Promise<number> {
    this.abandon(jobId);
    const token = crypto.randomUUID();
    const url = browser.runtime.getURL(`${SAVE_PATH}${token}` as '/');
    this.saves.set(token, { jobId, file, filename, mimeType, committed: 0, end: null, abandoned: false, served: false, wake: null });
    const chrome = browser as unknown as ChromeDownloads;
    const isOurs = (item: DownloadItemLike) => item.url === url || item.finalUrl === url;
    // The name, with its folders (a response's Content-Disposition cannot carry those). Chrome
    // asks every listener about every download: others' get no suggestion (theirs stands).
    const name = (item: DownloadItemLike, suggest: (s?: { filename: string; conflictAction: string }) => void) => {
      if (!isOurs(item)) return;
      suggest({ filename, conflictAction: 'uniquify' });
      unname();
    };
    const unname = () => chrome.downloads.onDeterminingFilename?.removeListener(name);
    chrome.downloads.onDeterminingFilename?.addListener(name);
    setTimeout(unname, 2 * CREATED_TIMEOUT_MS);
    let onCreated: ((item: DownloadItemLike) => void) | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const created = new Promise<number>((resolve, reject) => {
        onCreated = (item) => {
          if (isOurs(item)) resolve(item.id);
        };
        chrome.downloads.onCreated.addListener(onCreated);
        timer = setTimeout(() => reject(new Error('the browser did not start the download')), CREATED_TIMEOUT_MS);
      });
      await this.open(token);
      return await created;
    } catch (err) {
      this.abandon(jobId);
      unname();
      throw err;
    } finally {
      clearTimeout(timer);
      if (onCreated) chrome.downloads.onCreated.removeListener(onCreated);
    }
  }

  committed(jobId: string, bytes: number): void {
    for (const save of this.of(jobId)) {
      save.committed = Math.max(save.committed, bytes);
      save.wake?.();
    }
  }

  end(jobId: string, bytes: number | null): void {
    if (bytes === null) return this.abandon(jobId);
    for (const save of this.of(jobId)) {
      save.committed = Math.max(save.committed, bytes);
      save.end = bytes;
      save.wake?.();
    }
  }

  /**
   * The answer to a request for one of our saves (null: not a save URL, left to the browser). An
   * unknown or already served token gets a 404: a save is read once, by the download it started.
   */
  respond(request: Request): Response | null {
    const url = new URL(request.url);
    if (url.origin !== new URL(browser.runtime.getURL('/')).origin || !url.pathname.startsWith(SAVE_PATH)) return null;
    const save = this.saves.get(url.pathname.slice(SAVE_PATH.length));
    if (!save || save.served || save.abandoned) return new Response('No such save.', { status: 404 });
    save.served = true;
    const basename = save.filename.split('/').pop()!;
    return new Response(this.body(save), {
      headers: {
        'content-type': save.mimeType,
        'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(basename)}`,
        'cache-control': 'no-store',
      },
    });
  }

  private body(save: Save): ReadableStream<Uint8Array> {
    let position = 0;
    let root: FileSystemDirectoryHandle | null = null;
    // The committed part of one piece being read (a Blob's stream: read from disk as the
    // download takes it, in the browser's own chunk size), and where it ends.
    let reading: { reader: ReadableStreamDefaultReader<Uint8Array>; end: number } | null = null;
    const forget = () => {
      for (const [token, s] of this.saves) if (s === save) this.saves.delete(token);
      void reading?.reader.cancel().catch(() => undefined);
    };
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          for (;;) {
            if (save.abandoned) {
              forget();
              controller.error(new Error('The save was abandoned.'));
              return;
            }
            if (reading) {
              const { done, value } = await reading.reader.read();
              if (!done) {
                position += value.length;
                controller.enqueue(value);
                return;
              }
              if (position !== reading.end) throw new Error(`a piece of the save ended at ${position}, short of ${reading.end}`);
              reading = null;
              continue;
            }
            if (position < save.committed) {
              const index = Math.floor(position / PIECE_BYTES);
              const end = Math.min(save.committed, (index + 1) * PIECE_BYTES);
              root ??= await navigator.storage.getDirectory();
              const piece = await (await root.getFileHandle(pieceName(save.file, index))).getFile();
              const from = position - index * PIECE_BYTES;
              reading = { reader: piece.slice(from, from + (end - position)).stream().getReader(), end };
              continue;
            }
            if (save.end !== null && position >= save.end) {
              forget();
              controller.close();
              return;
            }
            await new Promise<void>((resolve) => (save.wake = resolve));
            save.wake = null;
          }
        },
        cancel: () => {
          // The download was cancelled or failed: the background sees it in the downloads' events.
          save.abandoned = true;
          forget();
        },
      },
      { highWaterMark: 0 },
    );
  }

  private of(jobId: string): Save[] {
    return [...this.saves.values()].filter((s) => s.jobId === jobId);
  }

  private abandon(jobId: string): void {
    for (const [token, save] of this.saves) {
      if (save.jobId !== jobId) continue;
      save.abandoned = true;
      save.wake?.();
      if (!save.served) this.saves.delete(token);
    }
  }
}

/** Serves `saves` on the service worker's fetch events (Chrome). */
export function serveSaves(saves: ServiceWorkerSaves): void {
  const scope = globalThis as unknown as { addEventListener(type: 'fetch', fn: (e: { request: Request; respondWith(r: Response): void }) => void): void };
  scope.addEventListener('fetch', (event) => {
    const response = saves.respond(event.request);
    if (response) event.respondWith(response);
  });
}

/**
 * The offscreen document's side: navigates a hidden iframe to save `token`, so the service worker's
 * answer becomes a download. The frame goes once the download has surely begun.
 */
export function openSaveFrame(token: string): void {
  const frame = document.createElement('iframe');
  frame.hidden = true;
  frame.src = browser.runtime.getURL(`${SAVE_PATH}${token}` as '/');
  document.body.append(frame);
  setTimeout(() => frame.remove(), 2 * CREATED_TIMEOUT_MS);
}
