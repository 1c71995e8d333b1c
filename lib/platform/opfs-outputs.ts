/**
 * The browser's {@link OutputStore}: job outputs are OPFS files (disk-backed: a 1 GB file is not
 * held in memory), handed to `downloads.download` as blob URLs of those files, and deleted with
 * their blob URLs revoked when the browser has them. Used by the offscreen document (Chrome) and
 * the background page (Firefox).
 *
 * Each file is written through an {@link OpfsSink}, a {@link ByteSink} on an OPFS file.
 *
 * Uses `FileSystemFileHandle.createWritable()` rather than `createSyncAccessHandle()`:
 * - it works in windows (the offscreen document) as well as workers; sync access handles exist
 *   only in dedicated workers;
 * - writes land in a swap file that replaces the real file only on `close()`, and `abort()`
 *   discards them: a failed or cancelled mux can never leave a partial file that looks finished;
 * - it takes positional writes (`{ type: 'write', position, data }`), which the muxer needs to
 *   write the header last.
 * The cost is one extra copy of the file when the swap file is committed on close. Not testable
 * in Node; the extension's e2e test covers it.
 *
 * A job's files are also found by name ({@link removeJobFiles}), so a context that did not make
 * them can delete them: Chrome's service worker, once the offscreen document that wrote them is gone.
 */
import type { ByteSink } from '../io';
import type { OutputFile, OutputStore } from '../jobs/outputs';
import { keepAsInput } from './opfs-inputs';

const FILE_PREFIX = 'vidmux-job-';
/** Every file of a job is named with this first. */
const jobPrefix = (jobId: string) => `${FILE_PREFIX}${jobId.replace(/[^\w-]/g, '')}-`;
/** A job's main output (the video), as opposed to its subtitles. */
const MAIN_FILE = /-main\d+$/;
/** How often a job's files are tried again should a dead engine's write lock outlast its port. */
const REMOVE_TRIES = 8;
const REMOVE_RETRY_MS = 250;

/** Names in `dir` (`keys()` is in every browser with OPFS but not yet in TypeScript's DOM types). */
async function namesIn(dir: FileSystemDirectoryHandle): Promise<string[]> {
  const names: string[] = [];
  for await (const name of (dir as FileSystemDirectoryHandle & { keys(): AsyncIterable<string> }).keys()) names.push(name);
  return names;
}

/**
 * Deletes a job's files from the OPFS root, found by name; with `keepMainAs`, its main file is kept
 * as that reel input instead. Works in any context of the extension's origin, Chrome's service
 * worker included, so a job whose engine died (the offscreen document closed or crashed) leaves
 * nothing behind: Chrome drops the dead document's swap files (`.crswap`) itself. `removeEntry`
 * refuses a file an open writer locks; in Chromium the lock is gone by the time the worker sees the
 * document's port end, but should one outlast it, what remains is tried again, briefly.
 */
export async function removeJobFiles(jobId: string, keepMainAs?: string): Promise<void> {
  const root = await navigator.storage.getDirectory();
  const prefix = jobPrefix(jobId);
  let keep = keepMainAs;
  for (let attempt = 0; attempt < REMOVE_TRIES; attempt++) {
    if (attempt) await new Promise((r) => setTimeout(r, REMOVE_RETRY_MS));
    const names = (await namesIn(root)).filter((n) => n.startsWith(prefix));
    const main = names.find((n) => MAIN_FILE.test(n));
    if (keep && main) {
      const handle = await root.getFileHandle(main).catch(() => null);
      if (handle && (await keepAsInput(handle, keep).catch(() => false))) names.splice(names.indexOf(main), 1);
      keep = undefined;
    }
    const left = await Promise.all(names.map((n) => root.removeEntry(n).then(() => false, () => true)));
    if (!left.includes(true)) return;
  }
}

/** An OPFS file being written. Create with {@link OpfsSink.create}. */
export class OpfsSink implements ByteSink {
  private constructor(
    /** The file's name in its directory. */
    readonly name: string,
    private readonly dir: FileSystemDirectoryHandle,
    /** The file handle, for `getFile()` once closed (to make a blob URL for the download). */
    readonly handle: FileSystemFileHandle,
    private readonly writable: FileSystemWritableFileStream,
  ) {}

  /** Creates (or truncates) `name` in `dir` (default: the OPFS root). */
  static async create(name: string, dir?: FileSystemDirectoryHandle): Promise<OpfsSink> {
    const root = dir ?? (await navigator.storage.getDirectory());
    const handle = await root.getFileHandle(name, { create: true });
    const writable = await handle.createWritable({ keepExistingData: false });
    return new OpfsSink(name, root, handle, writable);
  }

  write(position: number, data: Uint8Array): Promise<void> {
    return this.writable.write({ type: 'write', position, data: data as Uint8Array<ArrayBuffer> });
  }

  close(): Promise<void> {
    return this.writable.close();
  }

  async abort(reason?: unknown): Promise<void> {
    await this.writable.abort(reason).catch(() => undefined);
    await this.dir.removeEntry(this.name).catch(() => undefined);
  }
}

/** Job outputs as OPFS files in the origin's root directory. */
export class OpfsOutputs implements OutputStore {
  private readonly jobs = new Map<string, { files: Set<string>; blobUrls: string[] }>();

  async create(jobId: string, name: string): Promise<OutputFile> {
    const fileName = `${jobPrefix(jobId)}${name.replace(/[^\w-]/g, '')}`;
    const job = this.job(jobId);
    job.files.add(fileName);
    const sink = await OpfsSink.create(fileName);
    return {
      sink,
      publish: async (mimeType) => {
        const file = await sink.handle.getFile();
        // A Blob of an OPFS File reads from disk: nothing is copied into memory.
        const url = URL.createObjectURL(new Blob([file], { type: mimeType }));
        job.blobUrls.push(url);
        return url;
      },
      discard: async () => {
        job.files.delete(fileName);
        await sink.abort().catch(() => undefined);
      },
    };
  }

  async release(jobId: string, keepMainAs?: string): Promise<void> {
    const job = this.jobs.get(jobId);
    // A job this document never ran: an earlier engine's (it died before the browser had the file).
    if (!job) return removeJobFiles(jobId, keepMainAs);
    this.jobs.delete(jobId);
    for (const url of job.blobUrls) URL.revokeObjectURL(url);
    const root = await navigator.storage.getDirectory();
    const main = [...job.files].find((n) => MAIN_FILE.test(n));
    if (keepMainAs && main) {
      const handle = await root.getFileHandle(main).catch(() => null);
      if (handle && (await keepAsInput(handle, keepMainAs).catch(() => false))) job.files.delete(main);
    }
    await Promise.all([...job.files].map((n) => root.removeEntry(n).catch(() => undefined)));
  }

  async sweep(): Promise<void> {
    const root = await navigator.storage.getDirectory();
    const inUse = new Set([...this.jobs.values()].flatMap((j) => [...j.files]));
    const names = (await namesIn(root)).filter((n) => n.startsWith(FILE_PREFIX) && !inUse.has(n));
    await Promise.all(names.map((n) => root.removeEntry(n).catch(() => undefined)));
  }

  private job(jobId: string) {
    let job = this.jobs.get(jobId);
    if (!job) this.jobs.set(jobId, (job = { files: new Set(), blobUrls: [] }));
    return job;
  }
}
