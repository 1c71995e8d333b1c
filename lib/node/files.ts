/**
 * Node-only file source and sink for the engine (CLI, tests, benchmarks). Never imported by code
 * that runs in the browser (a lint rule: only lib/node/ uses `node:*`); the browser's outputs are
 * OPFS files (lib/platform/opfs-outputs.ts).
 */
import { writeSync } from 'node:fs';
import { open, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import type { ByteSink, ResumableSink, SourceVersion } from '../io';
import type { RandomAccess, RandomAccessSource } from '../media/byte-reader';

/**
 * Bytes per read of `stream()` (the engine reads sample data through {@link NodeFileSource.openRandomAccess}
 * instead, into its own reused buffers; `stream()` serves the small header and moov reads).
 */
const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * A local file as a {@link ByteSource} (and a {@link RandomAccessSource}: the engine reads it with
 * positional reads into its own buffers). Create with {@link NodeFileSource.open} (learns the size).
 */
export class NodeFileSource implements RandomAccessSource {
  private constructor(
    readonly path: string,
    readonly size: number,
  ) {}

  /** Opens `path`; throws the fs error if it doesn't exist. */
  static async open(path: string): Promise<NodeFileSource> {
    const s = await stat(path);
    if (!s.isFile()) throw new Error(`${path} is not a file`);
    return new NodeFileSource(path, s.size);
  }

  openRandomAccess(signal?: AbortSignal): RandomAccess {
    const opening = open(this.path, 'r');
    opening.catch(() => undefined);
    let closed = false;
    return {
      read: async (position, target) => {
        if (signal?.aborted) throw signal.reason ?? new DOMException('Aborted', 'AbortError');
        const fh = await opening;
        let filled = 0;
        while (filled < target.length && !closed) {
          const { bytesRead } = await fh.read(target, filled, target.length - filled, position + filled);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        return filled;
      },
      close: () => {
        closed = true;
        // (FileHandle.close waits for reads still in flight.)
        opening.then((fh) => fh.close().catch(() => undefined), () => undefined);
      },
    };
  }

  stream(start = 0, end = this.size, signal?: AbortSignal): ReadableStream<Uint8Array> {
    let fh: FileHandle | null = null;
    let pos = start;
    const stop = Math.min(end, this.size);
    const closeFile = async () => {
      const f = fh;
      fh = null;
      await f?.close().catch(() => undefined);
    };
    return new ReadableStream<Uint8Array>(
      {
        start: async () => {
          fh = await open(this.path, 'r');
        },
        pull: async (controller) => {
          if (signal?.aborted) {
            await closeFile();
            controller.error(signal.reason ?? new DOMException('Aborted', 'AbortError'));
            return;
          }
          const n = Math.min(READ_CHUNK_BYTES, stop - pos);
          if (n <= 0 || !fh) {
            await closeFile();
            controller.close();
            return;
          }
          // A fresh buffer per read: consumers keep zero-copy views into it.
          const buf = new Uint8Array(n);
          const { bytesRead } = await fh.read(buf, 0, n, pos);
          if (bytesRead === 0) {
            await closeFile();
            controller.close();
            return;
          }
          pos += bytesRead;
          controller.enqueue(bytesRead === n ? buf : buf.subarray(0, bytesRead));
        },
        cancel: closeFile,
      },
      // One chunk read ahead: overlaps disk reads with muxing.
      { highWaterMark: 1 },
    );
  }
}

/**
 * A local file as a {@link ByteSink}. Writes go to `<path>.part`, renamed to `path` only by
 * `close()`; `abort()` deletes the part file, so a failed mux never leaves a file that looks done.
 * A `close()` that fails (the flush, or the final rename: `path` is a directory, its folder is
 * gone...) deletes the part file too before it rejects: the output is then neither done nor left
 * half-way under another name.
 */
export class NodeFileSink implements ByteSink {
  private fh: FileHandle | null = null;
  private opening: Promise<FileHandle> | null = null;
  private ended = false;
  /** `close()` renamed the part file to `path`. */
  private renamed = false;
  readonly partPath: string;

  /** `sync`: flush to disk before the rename, so a crash can never leave a named but empty file. */
  constructor(
    readonly path: string,
    private readonly opts: { sync?: boolean } = {},
  ) {
    this.partPath = `${path}.part`;
  }

  protected handle(): Promise<FileHandle> {
    this.opening ??= this.openPart().then((fh) => (this.fh = fh));
    return this.opening;
  }

  /** Opens the part file for writing (a new one here; see {@link ResumableFileSink}). */
  protected openPart(): Promise<FileHandle> {
    return open(this.partPath, 'w');
  }

  /** What `abort()` removes (the part file; a resumable sink also its record). */
  protected async removePart(): Promise<void> {
    await rm(this.partPath, { force: true });
  }

  /**
   * Writes synchronously (the promise is for the ByteSink contract). A positional write of up to
   * ~1 MB to a local file is a copy into the page cache; through the libuv thread pool each one
   * cost a thread hop, and several in flight at once contended on the file's lock: on the 1 GB
   * benchmark that was ~40% more system time and ~10% more wall time than writing in place.
   */
  async write(position: number, data: Uint8Array): Promise<void> {
    // (After an abort a first write would make the part file anew, and leave it.)
    if (this.ended) throw new Error(`${this.path} was already ${this.renamed ? 'closed' : 'aborted'}.`);
    const fh = await this.handle();
    let done = 0;
    while (done < data.length) done += writeSync(fh.fd, data, done, data.length - done, position + done);
  }

  async close(): Promise<void> {
    // Never again after an abort: that would make the part file anew and present it as done.
    if (this.ended) throw new Error(`${this.path} was already ${this.renamed ? 'closed' : 'aborted'}.`);
    try {
      const fh = await this.handle(); // an empty output still makes an (empty) file
      if (this.opts.sync) await fh.sync();
      this.fh = null;
      await fh.close();
      this.ended = true;
      await rename(this.partPath, this.path);
      this.renamed = true;
    } catch (err) {
      this.ended = false;
      await this.abort().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Removes the part file; safe to call twice, or while the file is still being opened. After a
   * successful `close()` it does nothing: the file is done.
   */
  async abort(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    const fh = this.fh ?? (await this.opening?.catch(() => null)) ?? null;
    await fh?.close().catch(() => undefined);
    this.fh = null;
    await this.removePart();
  }
}

/** The record beside a resumable part file: how much of which version of the resource is in it. */
interface PartRecord {
  v: 1;
  bytes: number;
  size: number | null;
  etag: string | null;
  lastModified: string | null;
}

/**
 * A {@link NodeFileSink} whose part file outlives a run that was killed or interrupted (the CLI's
 * downloads): beside `<path>.part` a small record (`<path>.part.json`, written after the part
 * file is synced) says how many bytes from 0 are in it and of which version of the resource
 * (size, ETag, Last-Modified). Running the same job again continues from there if the resource
 * is the same; otherwise it starts over. `keep()` says, when the sink is aborted, whether the
 * run was interrupted (keep the part file to resume) or failed (remove it: nothing left behind).
 */
export class ResumableFileSink extends NodeFileSink implements ResumableSink {
  readonly recordPath: string;

  constructor(
    path: string,
    private readonly resume: {
      keep(): boolean;
      sync?: boolean;
      /** Told when a run continues an earlier one's bytes (how many; whether the version was checked). */
      onResume?(offset: number, unverified: boolean): void;
    },
  ) {
    super(path, resume.sync ? { sync: true } : {});
    this.recordPath = `${this.partPath}.json`;
  }

  /** An existing part file is opened as it is (`r+`: positional writes, no truncation). */
  protected override async openPart(): Promise<FileHandle> {
    return open(this.partPath, 'r+').catch(() => open(this.partPath, 'w'));
  }

  protected override async removePart(): Promise<void> {
    if (this.resume.keep()) return;
    await Promise.all([rm(this.partPath, { force: true }), rm(this.recordPath, { force: true })]);
  }

  async resumeFrom(version: SourceVersion): Promise<{ offset: number; unverified: boolean }> {
    const fh = await this.handle();
    const record = await readFile(this.recordPath, 'utf8')
      .then((t) => JSON.parse(t) as PartRecord)
      .catch(() => null);
    const onDisk = (await fh.stat()).size;
    const same =
      record?.v === 1 &&
      record.size === version.size &&
      (record.etag ?? null) === version.etag &&
      (record.lastModified ?? null) === version.lastModified &&
      Number.isInteger(record.bytes) &&
      record.bytes > 0;
    if (!same) {
      // Another version (or no record): the old bytes are not this file's.
      if (onDisk > 0) await fh.truncate(0);
      await rm(this.recordPath, { force: true });
      return { offset: 0, unverified: false };
    }
    const resumed = { offset: Math.min(record.bytes, onDisk), unverified: version.etag === null && version.lastModified === null };
    this.resume.onResume?.(resumed.offset, resumed.unverified);
    return resumed;
  }

  async checkpoint(n: number, version: SourceVersion): Promise<void> {
    const fh = await this.handle();
    // The record never claims bytes that a crash could still lose.
    await fh.sync();
    const record: PartRecord = { v: 1, bytes: n, size: version.size, etag: version.etag, lastModified: version.lastModified };
    const tmp = `${this.recordPath}.tmp`;
    await writeFile(tmp, JSON.stringify(record));
    await rename(tmp, this.recordPath);
  }

  override async close(): Promise<void> {
    await super.close();
    await rm(this.recordPath, { force: true });
  }
}
