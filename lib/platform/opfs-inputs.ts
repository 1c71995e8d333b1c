/**
 * The browser's {@link InputStore}: a user's files for a job (the videos of a highlight reel) are
 * copied by the reel page into OPFS (`reel-inputs/`), which the engine (offscreen document or
 * Firefox's background page, the same origin) reads as Blobs from disk, and deletes once read.
 * A `File` cannot cross contexts through messages; an OPFS file can be named in one.
 */
import { VidmuxError } from '../errors';
import type { ByteSource } from '../io';
import type { InputStore } from '../jobs/inputs';

const DIR = 'reel-inputs';

/** The inputs' directory; made only to store a file (null when there is none yet). */
async function inputsDir(create = false): Promise<FileSystemDirectoryHandle | null> {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle(DIR, { create }).catch(() => null);
}

/** Copies `file` into the store (streamed to disk); returns the id a job names it by. */
export async function storeInput(file: File): Promise<{ id: string; name: string; size: number }> {
  const id = `in-${crypto.randomUUID()}`;
  const dir = (await inputsDir(true))!;
  const handle = await dir.getFileHandle(id, { create: true });
  try {
    const writable = await handle.createWritable({ keepExistingData: false });
    // pipeTo closes the writable when done and aborts it (the swap file is dropped) on failure.
    await file.stream().pipeTo(writable);
  } catch (err) {
    await dir.removeEntry(id).catch(() => undefined);
    throw err;
  }
  return { id, name: file.name || 'video', size: file.size };
}

/** Deletes stored inputs a job will not read (its start failed). */
export async function removeInputs(ids: readonly string[]): Promise<void> {
  const store = new OpfsInputs();
  await Promise.all(ids.map((id) => store.remove(id)));
}

/** Inputs older than this belong to no live job (a browser closed mid-reel): the engine sweeps them. */
const STALE_INPUT_MS = 6 * 60 * 60_000;

/** A Blob as a {@link ByteSource} that also hands out the Blob itself (uploads send it as is). */
export function blobSource(blob: Blob): ByteSource & { blob: Blob } {
  return {
    size: blob.size,
    blob,
    stream: (start = 0, end = blob.size) => blob.slice(start, end).stream(),
  };
}

export class OpfsInputs implements InputStore {
  async open(id: string): Promise<ByteSource & { blob: Blob }> {
    if (!/^[\w-]{1,80}$/.test(id)) throw new Error(`bad input id ${id}`);
    const handle = (await (await inputsDir())?.getFileHandle(id).catch(() => null)) ?? null;
    if (!handle) throw new VidmuxError('not_found', 'The file for this reel is no longer here; choose it again on the reel page.');
    return blobSource(await handle.getFile());
  }

  async remove(id: string): Promise<void> {
    if (!/^[\w-]{1,80}$/.test(id)) return;
    await (await inputsDir())?.removeEntry(id).catch(() => undefined);
  }

  /**
   * Deletes inputs left by jobs that never ended (the browser closed during a reel). Only old
   * ones: a reel page may have just stored the videos of a job that is about to start.
   */
  async sweep(now = Date.now()): Promise<void> {
    const dir = await inputsDir();
    if (!dir) return;
    for await (const [name, handle] of (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
      if (handle.kind !== 'file') continue;
      const file = await (handle as FileSystemFileHandle).getFile().catch(() => null);
      if (!file || now - file.lastModified > STALE_INPUT_MS) await dir.removeEntry(name).catch(() => undefined);
    }
  }
}
