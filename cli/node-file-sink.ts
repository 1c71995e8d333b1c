/**
 * A {@link ByteSink} writing to a file in Node: bytes go to a temporary name next to the target,
 * which is renamed into place on `close()` and deleted on `abort()`, so a failed or cancelled
 * download never leaves a file that looks finished.
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ByteSink } from '../lib/io';

/** A file sink; see the module comment. */
export class NodeFileSink implements ByteSink {
  /** Where bytes are written until the download is complete. */
  readonly tempPath: string;
  private handle: FileHandle | null = null;
  private opening: Promise<FileHandle> | null = null;
  private ended = false;

  constructor(readonly path: string) {
    this.tempPath = join(dirname(path), `.${basename(path)}.part-${process.pid}`);
  }

  async write(position: number, data: Uint8Array): Promise<void> {
    const fh = await this.file();
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
      done += bytesWritten;
    }
  }

  async close(): Promise<void> {
    const fh = await this.file(); // an empty download still makes an (empty) file
    await fh.sync();
    await fh.close();
    this.handle = null;
    this.ended = true;
    await rename(this.tempPath, this.path);
  }

  async abort(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    const fh = this.handle ?? (await this.opening?.catch(() => null)) ?? null;
    await fh?.close().catch(() => {});
    this.handle = null;
    await rm(this.tempPath, { force: true });
  }

  private async file(): Promise<FileHandle> {
    if (this.handle) return this.handle;
    this.opening ??= open(this.tempPath, 'w');
    this.handle = await this.opening;
    return this.handle;
  }
}
