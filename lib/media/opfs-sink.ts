/**
 * A {@link ByteSink} on an OPFS file, for the offscreen document or a worker.
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
 */
import type { ByteSink } from '../io';

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
