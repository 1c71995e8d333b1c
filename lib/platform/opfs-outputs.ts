/**
 * The browser's {@link OutputStore}: job outputs are OPFS files (disk-backed: a 1 GB file is not
 * held in memory), handed to `downloads.download` as blob URLs of those files, and deleted with
 * their blob URLs revoked when the browser has them. Used by the offscreen document (Chrome) and
 * the background page (Firefox).
 *
 * Each file is written through an {@link OpfsSink}, a {@link ByteSink} on an OPFS file.
 *
 * Files are written through an {@link OpfsWriter}: where the engine runs in a dedicated worker
 * (Chrome: the offscreen document's engine worker), a `FileSystemSyncAccessHandle`, whose writes
 * are plain file writes in that process (measured here: 1 GB in 0.6-2.9 s, against 10-16 s of the
 * browser process's time for `createWritable()`, which ships every write to the browser process
 * and into a swap file); elsewhere (Firefox's background page, any window) `createWritable()`,
 * the only way there. A sync handle writes in place, so every path that fails or is cancelled
 * removes the file (`abort`), and nothing is published before `close`. Not testable in Node; the
 * extension's e2e tests cover both.

 * A job's files are also found by name ({@link removeJobFiles}), so a context that did not make
 * them can delete them: Chrome's service worker, once the offscreen document that wrote them is gone.
 */
import type { ByteSink, ResumableSink, SourceVersion } from '../io';
import type { CreateOutputOptions, OutputFile, OutputStore } from '../jobs/outputs';
import { keepAsInput } from './opfs-inputs';

const FILE_PREFIX = 'vidmux-job-';
/** Every file of a job is named with this first. */
const jobPrefix = (jobId: string) => `${FILE_PREFIX}${jobId.replace(/[^\w-]/g, '')}-`;
/** A job's main output (the video), as opposed to its subtitles: one file, or its pieces. */
const MAIN_FILE = /-main\d+(\.p\d{5})?$/;
/** A resumable output's record ({@link OpfsPiecesSink}). */
const RECORD_SUFFIX = '.json';
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
    let names = (await namesIn(root)).filter((n) => n.startsWith(prefix));
    if (keep) {
      const main = names.filter((n) => MAIN_FILE.test(n)).sort();
      if (main.length && (await keepFilesAsInput(root, main, keep))) names = names.filter((n) => !main.includes(n));
      keep = undefined;
    }
    const left = await Promise.all(names.map((n) => root.removeEntry(n).then(() => false, () => true)));
    if (!left.includes(true)) return;
  }
}

/** Moves a job's main output (a file, or its pieces in order) into the reel inputs as `id`. */
async function keepFilesAsInput(root: FileSystemDirectoryHandle, names: string[], id: string): Promise<boolean> {
  const handles = await Promise.all(names.map((n) => root.getFileHandle(n).catch(() => null)));
  if (handles.some((h) => !h)) return false;
  return keepAsInput(handles as FileSystemFileHandle[], id).catch(() => false);
}

/** An OPFS file being written. Create with {@link OpfsSink.create}. */
/** Positional writes into one OPFS file, emptied first. */
export interface OpfsWriter {
  write(position: number, data: Uint8Array): Promise<void>;
  close(): Promise<void>;
  /** Stops writing; the caller removes the file. */
  abort(reason?: unknown): Promise<void>;
}

interface SyncAccessHandle {
  write(data: Uint8Array, opts: { at: number }): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}

/**
 * Opens `handle` for writing (emptied): a sync access handle where there is one (a dedicated
 * worker), else a writable. `durable`: closing flushes the file to disk first (a sync handle's
 * writes are otherwise only in the OS's cache, where every reader sees them). A resumable
 * output's committed pieces and record must survive a crash; a job's plain output need not (the
 * browser reads it at once, then it is deleted; a crash fails the job anyway), and its flush at
 * close was the last 0.3 s of a 1 GB HLS save in bench:browser, spent writing to disk what the
 * download then read back from the cache.
 */
export async function openWriter(handle: FileSystemFileHandle, opts: { durable: boolean }): Promise<OpfsWriter> {
  const createSync = (handle as FileSystemFileHandle & { createSyncAccessHandle?: () => Promise<SyncAccessHandle> }).createSyncAccessHandle;
  if (typeof createSync === 'function') {
    const sync = await createSync.call(handle);
    let open = true;
    const end = () => {
      if (open) {
        open = false;
        sync.close();
      }
    };
    try {
      sync.truncate(0);
    } catch (e) {
      end();
      throw e;
    }
    return {
      // Async like the writable's, so a full disk rejects the write instead of throwing at the caller.
      async write(position, data) {
        for (let at = 0; at < data.length; ) at += sync.write(data.subarray(at), { at: position + at });
      },
      async close() {
        if (opts.durable) sync.flush();
        end();
      },
      async abort() {
        end();
      },
    };
  }
  const writable = await handle.createWritable({ keepExistingData: false });
  return {
    write: (position, data) => writable.write({ type: 'write', position, data: data as Uint8Array<ArrayBuffer> }),
    close: () => writable.close(),
    abort: (reason) => writable.abort(reason).catch(() => undefined),
  };
}

export class OpfsSink implements ByteSink {
  private constructor(
    /** The file's name in its directory. */
    readonly name: string,
    private readonly dir: FileSystemDirectoryHandle,
    /** The file handle, for `getFile()` once closed (to make a blob URL for the download). */
    readonly handle: FileSystemFileHandle,
    private readonly writer: OpfsWriter,
  ) {}

  /** Creates (or truncates) `name` in `dir` (default: the OPFS root). */
  static async create(name: string, dir?: FileSystemDirectoryHandle): Promise<OpfsSink> {
    const root = dir ?? (await navigator.storage.getDirectory());
    const handle = await root.getFileHandle(name, { create: true });
    return new OpfsSink(name, root, handle, await openWriter(handle, { durable: false }));
  }

  write(position: number, data: Uint8Array): Promise<void> {
    return this.writer.write(position, data);
  }

  close(): Promise<void> {
    return this.writer.close();
  }

  async abort(reason?: unknown): Promise<void> {
    await this.writer.abort(reason).catch(() => undefined);
    await this.dir.removeEntry(this.name).catch(() => undefined);
  }
}

/** Job outputs as OPFS files in the origin's root directory. */
export class OpfsOutputs implements OutputStore {
  private readonly jobs = new Map<string, { files: Set<string>; blobUrls: string[] }>();

  async create(jobId: string, name: string, opts: CreateOutputOptions = {}): Promise<OutputFile> {
    const fileName = `${jobPrefix(jobId)}${name.replace(/[^\w-]/g, '')}`;
    const job = this.job(jobId);
    if (opts.resumable) return this.createPieces(job, fileName, opts.onCommitted);
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

  /** A resumable output: an {@link OpfsPiecesSink}, published as one Blob of its pieces. */
  private async createPieces(job: { files: Set<string>; blobUrls: string[] }, fileName: string, onCommitted?: (bytes: number) => void): Promise<OutputFile> {
    const sink = await OpfsPiecesSink.open(fileName, (piece) => job.files.add(piece), onCommitted);
    job.files.add(`${fileName}${RECORD_SUFFIX}`);
    return {
      sink,
      stream: fileName,
      publish: async (mimeType) => {
        const url = URL.createObjectURL(new Blob(await sink.files(), { type: mimeType }));
        job.blobUrls.push(url);
        return url;
      },
      discard: async () => {
        await sink.abort().catch(() => undefined);
        for (const n of [...job.files]) if (n.startsWith(fileName)) job.files.delete(n);
      },
    };
  }

  async release(jobId: string, keepMainAs?: string): Promise<void> {
    const job = this.jobs.get(jobId);
    this.jobs.delete(jobId);
    for (const url of job?.blobUrls ?? []) URL.revokeObjectURL(url);
    // By name: also a job this document never ran (an earlier engine's, or one interrupted by a
    // browser restart and discarded).
    await removeJobFiles(jobId, keepMainAs);
  }

  /**
   * Removes outputs no job owns: not this document's, and not a resumable output an interrupted
   * job may continue (it has a record; the background removes those of jobs it no longer knows:
   * {@link removeOrphans}).
   */
  async sweep(): Promise<void> {
    const root = await navigator.storage.getDirectory();
    const inUse = new Set([...this.jobs.values()].flatMap((j) => [...j.files]));
    const all = (await namesIn(root)).filter((n) => n.startsWith(FILE_PREFIX));
    const resumable = new Set(all.filter((n) => n.endsWith(RECORD_SUFFIX)).map((n) => jobIdOf(n)));
    const names = all.filter((n) => !inUse.has(n) && !resumable.has(jobIdOf(n)));
    await Promise.all(names.map((n) => root.removeEntry(n).catch(() => undefined)));
  }

  private job(jobId: string) {
    let job = this.jobs.get(jobId);
    if (!job) this.jobs.set(jobId, (job = { files: new Set(), blobUrls: [] }));
    return job;
  }
}

/** The job id in an output's file name (`vidmux-job-<id>-main0...`). */
function jobIdOf(name: string): string {
  return name.slice(FILE_PREFIX.length).replace(/-(main|sub)\d+.*$/, '');
}

/**
 * Removes every job output in OPFS whose job is not in `keep` (the jobs the background knows:
 * running, saving, or interrupted and waiting for Resume). Run by the background at startup, so
 * nothing stays in OPFS that no job owns.
 */
export async function removeOrphans(keep: ReadonlySet<string>): Promise<void> {
  const root = await navigator.storage.getDirectory();
  const names = (await namesIn(root)).filter((n) => n.startsWith(FILE_PREFIX) && !keep.has(jobIdOf(n).replace(/[^\w-]/g, '')));
  await Promise.all(names.map((n) => root.removeEntry(n).catch(() => undefined)));
}

/** Bytes per piece of a resumable output: the most a browser restart can lose of a download. */
export const PIECE_BYTES = 16 * 1024 * 1024;

/** The name of piece `index` of resumable output `name`. */
export const pieceName = (name: string, index: number) => `${name}.p${String(index).padStart(5, '0')}`;

/** The record beside a resumable output's pieces. */
interface PiecesRecord {
  v: 1;
  /** Bytes from 0 in committed pieces. */
  bytes: number;
  pieceBytes: number;
  size: number | null;
  etag: string | null;
  lastModified: string | null;
}

/** Whether OPFS files can be written in place here (a dedicated worker's sync access handles). */
const writesInPlace = () => typeof FileSystemFileHandle !== 'undefined' && 'createSyncAccessHandle' in FileSystemFileHandle.prototype;

/**
 * A resumable output in OPFS: the file in pieces of {@link PIECE_BYTES} (`<name>.p00000`, ...),
 * each committed to disk when full, and a record (`<name>.json`) of how many bytes from 0 are in
 * committed pieces and of which version of the resource (size, ETag, Last-Modified). A writable's
 * swap file dies with the browser; committed pieces do not, so a download the browser's restart
 * interrupted continues from its last piece. The finished file is one Blob of the pieces: the
 * browser saves it without a copy. Writes must come in order (a plain copy: lib/net/save.ts).
 */
export class OpfsPiecesSink implements ResumableSink {
  private end = 0;
  /** Chunks written as they came: with sync access handles each is a plain file write, no join needed. */
  readonly writeParts?: (position: number, parts: readonly Uint8Array[]) => Promise<void>;
  private piece: { index: number; writer: OpfsWriter; written: number } | null = null;
  private record: PiecesRecord | null = null;
  private closed = false;

  private constructor(
    private readonly root: FileSystemDirectoryHandle,
    private readonly name: string,
    private readonly onPiece: (name: string) => void,
    private readonly onCommitted: (bytes: number) => void,
  ) {
    if (writesInPlace()) {
      this.writeParts = async (position, parts) => {
        for (const part of parts) {
          await this.write(position, part);
          position += part.length;
        }
      };
    }
  }

  /** `onCommitted`: bytes from 0 in committed pieces, after each commit (a reader may take them). */
  static async open(name: string, onPiece: (name: string) => void, onCommitted: (bytes: number) => void = () => undefined): Promise<OpfsPiecesSink> {
    return new OpfsPiecesSink(await navigator.storage.getDirectory(), name, onPiece, onCommitted);
  }

  private pieceName(index: number): string {
    return pieceName(this.name, index);
  }

  /** The committed pieces, in order (once closed: the whole file). */
  async files(): Promise<File[]> {
    const count = Math.ceil(this.end / PIECE_BYTES) || 1;
    return Promise.all(Array.from({ length: count }, async (_, i) => (await this.root.getFileHandle(this.pieceName(i))).getFile()));
  }

  async resumeFrom(version: SourceVersion): Promise<{ offset: number; unverified: boolean }> {
    const record = await this.readRecord();
    const validated = version.etag !== null || version.lastModified !== null;
    const same = record && validated && record.pieceBytes === PIECE_BYTES && record.size === version.size && record.etag === version.etag && record.lastModified === version.lastModified;
    let offset = same ? record.bytes : 0;
    // Only whole pieces that are really there count.
    for (let i = 0; i * PIECE_BYTES < offset; i++) {
      const file = await this.root.getFileHandle(this.pieceName(i)).then((h) => h.getFile(), () => null);
      if (!file || file.size !== PIECE_BYTES) {
        offset = i * PIECE_BYTES;
        break;
      }
    }
    await this.dropFrom(offset / PIECE_BYTES);
    for (let i = 0; i < offset / PIECE_BYTES; i++) this.onPiece(this.pieceName(i));
    this.end = offset;
    this.record = { v: 1, bytes: offset, pieceBytes: PIECE_BYTES, size: version.size, etag: version.etag, lastModified: version.lastModified };
    await this.writeRecord();
    if (offset) this.onCommitted(offset);
    return { offset, unverified: false };
  }

  async write(position: number, data: Uint8Array): Promise<void> {
    if (this.closed) throw new Error(`${this.name} is closed`);
    if (position !== this.end) throw new Error(`${this.name} takes writes in order (at ${this.end}, not ${position})`);
    let at = 0;
    while (at < data.length) {
      if (!this.piece) {
        const index = this.end / PIECE_BYTES;
        const handle = await this.root.getFileHandle(this.pieceName(index), { create: true });
        this.onPiece(this.pieceName(index));
        this.piece = { index, writer: await openWriter(handle, { durable: true }), written: 0 };
      }
      const take = Math.min(data.length - at, PIECE_BYTES - this.piece.written);
      await this.piece.writer.write(this.piece.written, data.subarray(at, at + take));
      this.piece.written += take;
      this.end += take;
      at += take;
      if (this.piece.written === PIECE_BYTES) await this.commitPiece();
    }
  }

  /** The record follows the committed pieces; `n` (what the copy wrote) may be ahead of them. */
  async checkpoint(_n: number, version: SourceVersion): Promise<void> {
    const committed = this.end - (this.piece?.written ?? 0);
    this.record = { v: 1, bytes: committed, pieceBytes: PIECE_BYTES, size: version.size, etag: version.etag, lastModified: version.lastModified };
    await this.writeRecord();
  }

  async close(): Promise<void> {
    if (this.piece) await this.commitPiece();
    if (this.end === 0) {
      // An empty output is still one (empty) piece.
      const handle = await this.root.getFileHandle(this.pieceName(0), { create: true });
      this.onPiece(this.pieceName(0));
      await (await openWriter(handle, { durable: true })).close();
    }
    this.closed = true;
    await this.root.removeEntry(`${this.name}${RECORD_SUFFIX}`).catch(() => undefined);
    this.onCommitted(this.end);
  }

  async abort(reason?: unknown): Promise<void> {
    this.closed = true;
    await this.piece?.writer.abort(reason).catch(() => undefined);
    this.piece = null;
    const names = (await namesIn(this.root)).filter((n) => n === `${this.name}${RECORD_SUFFIX}` || n.startsWith(`${this.name}.p`));
    await Promise.all(names.map((n) => this.root.removeEntry(n).catch(() => undefined)));
  }

  private async commitPiece(): Promise<void> {
    const piece = this.piece!;
    this.piece = null;
    await piece.writer.close();
    if (this.record) {
      this.record.bytes = this.end;
      await this.writeRecord();
    }
    this.onCommitted(this.end);
  }

  /** Deletes pieces from `index` on (left by a run that got further than its record says). */
  private async dropFrom(index: number): Promise<void> {
    const names = (await namesIn(this.root)).filter((n) => n.startsWith(`${this.name}.p`) && Number(n.slice(-5)) >= index);
    await Promise.all(names.map((n) => this.root.removeEntry(n).catch(() => undefined)));
  }

  private async readRecord(): Promise<PiecesRecord | null> {
    try {
      const file = await (await this.root.getFileHandle(`${this.name}${RECORD_SUFFIX}`)).getFile();
      const r = JSON.parse(await file.text()) as PiecesRecord;
      return r?.v === 1 && Number.isInteger(r.bytes) && r.bytes >= 0 && r.bytes % PIECE_BYTES === 0 ? r : null;
    } catch {
      return null;
    }
  }

  private async writeRecord(): Promise<void> {
    const handle = await this.root.getFileHandle(`${this.name}${RECORD_SUFFIX}`, { create: true });
    const w = await openWriter(handle, { durable: true });
    await w.write(0, new TextEncoder().encode(JSON.stringify(this.record)));
    await w.close();
  }
}
