/**
 * The browser's {@link InputStore}: a user's files for a job (the videos of a highlight reel) are
 * copied by the reel page into OPFS (`reel-inputs/`), which the engine (offscreen document or
 * Firefox's background page, the same origin) reads as Blobs from disk, and deletes once read.
 * A `File` cannot cross contexts through messages; an OPFS file can be named in one. A finished
 * download may also be kept here for a reel ({@link keepAsInput}).
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
/** A finished download kept for a reel ({@link keepAsInput}) is deleted after this if no reel read it. */
const KEPT_INPUT_MS = 60 * 60_000;
/** Ids of finished downloads kept for a reel (lib/jobs/downloads.ts keptInputId). */
const KEPT_PREFIX = 'saved-';

/**
 * Keeps a finished job's output as reel input `id` (moved on disk, not copied): one file, or the
 * pieces of a resumable output (moved into a folder `id`, read back as one Blob), so the reel
 * page can offer it without a file picker. Only the latest one is kept: any earlier one is
 * deleted, so at most one saved video waits on disk. False when the browser cannot move OPFS
 * files (the caller deletes them then).
 */
export async function keepAsInput(files: FileSystemFileHandle[], id: string): Promise<boolean> {
  type Movable = FileSystemFileHandle & { move?(dir: FileSystemDirectoryHandle, name: string): Promise<void> };
  const movable = files as Movable[];
  if (!id.startsWith(KEPT_PREFIX) || !/^[\w-]{1,90}$/.test(id) || !movable.length || movable.some((f) => typeof f.move !== 'function')) return false;
  const dir = (await inputsDir(true))!;
  for await (const name of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) {
    if (name.startsWith(KEPT_PREFIX)) await dir.removeEntry(name, { recursive: true }).catch(() => undefined);
  }
  if (movable.length === 1) {
    await movable[0]!.move!(dir, id);
    return true;
  }
  const folder = await dir.getDirectoryHandle(id, { create: true });
  for (const [i, f] of movable.entries()) await f.move!(folder, `p${String(i).padStart(5, '0')}`);
  return true;
}

/** Input `id` as one Blob: a file, or a folder of pieces in name order. Null when it is not there. */
async function readInput(dir: FileSystemDirectoryHandle, id: string): Promise<Blob | null> {
  const file = await dir.getFileHandle(id).then((h) => h.getFile(), () => null);
  if (file) return file;
  const folder = await dir.getDirectoryHandle(id).catch(() => null);
  if (!folder) return null;
  const names: string[] = [];
  for await (const name of (folder as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
  const parts = await Promise.all(names.sort().map((n) => folder.getFileHandle(n).then((h) => h.getFile())));
  return new Blob(parts);
}

/** A finished download kept for a reel ({@link keepAsInput}), if it is still there. */
export async function keptInput(id: string): Promise<{ id: string; size: number } | null> {
  if (!id.startsWith(KEPT_PREFIX) || !/^[\w-]{1,90}$/.test(id)) return null;
  const dir = await inputsDir();
  const blob = dir ? await readInput(dir, id).catch(() => null) : null;
  return blob ? { id, size: blob.size } : null;
}

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
    if (!/^[\w-]{1,90}$/.test(id)) throw new Error(`bad input id ${id}`);
    const dir = await inputsDir();
    const blob = dir ? await readInput(dir, id).catch(() => null) : null;
    if (!blob) throw new VidmuxError('not_found', 'The file for this reel is no longer here; choose it again on the reel page.');
    return blobSource(blob);
  }

  async remove(id: string): Promise<void> {
    if (!/^[\w-]{1,90}$/.test(id)) return;
    await (await inputsDir())?.removeEntry(id, { recursive: true }).catch(() => undefined);
  }

  /**
   * Deletes inputs left by jobs that never ended (the browser closed during a reel). Only old
   * ones: a reel page may have just stored the videos of a job that is about to start.
   */
  async sweep(now = Date.now()): Promise<void> {
    const dir = await inputsDir();
    if (!dir) return;
    for await (const [name, handle] of (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
      const file = handle.kind === 'file' ? await (handle as FileSystemFileHandle).getFile().catch(() => null) : await firstFileIn(handle as FileSystemDirectoryHandle);
      const maxAge = name.startsWith(KEPT_PREFIX) ? KEPT_INPUT_MS : STALE_INPUT_MS;
      if (!file || now - file.lastModified > maxAge) await dir.removeEntry(name, { recursive: true }).catch(() => undefined);
    }
  }
}

/** The first file of a kept folder of pieces (its age is the folder's). */
async function firstFileIn(folder: FileSystemDirectoryHandle): Promise<File | null> {
  for await (const [, h] of (folder as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
    if (h.kind === 'file') return (h as FileSystemFileHandle).getFile().catch(() => null);
  }
  return null;
}
