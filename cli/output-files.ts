/**
 * Where the CLI puts finished files: their final name in --out, never over an existing file. A
 * command's files are placed all or none: a move that fails, or a failure after some were placed,
 * leaves neither the files (under their temporary or their final names) nor the folders made for
 * them.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, rmdir } from 'node:fs/promises';
import { dirname, join, relative as relativePath, sep } from 'node:path';

/**
 * Moves a finished file to `dir/relative` (or `name (1).ext`... when taken); returns the path.
 * If the move fails, `from` is deleted and so are the folders made for it, and the error is
 * rethrown.
 */
export async function moveTo(from: string, dir: string, relative: string): Promise<string> {
  return (await place(from, dir, relative)).path;
}

/**
 * The files one command placed, so that a failure after some of them were placed (a subtitle
 * file that can't be moved beside its video) takes them all back: the command then fails with
 * nothing saved, rather than exit 1 with half of what was asked on disk.
 */
export class Placement {
  private readonly placed: Array<{ path: string; dir: string; made: string | undefined }> = [];

  /** {@link moveTo}, remembered for {@link undo}. */
  async move(from: string, dir: string, relative: string): Promise<string> {
    const p = await place(from, dir, relative);
    this.placed.push({ ...p, dir });
    return p.path;
  }

  /** Deletes every file placed so far and the folders made for them (those left empty). */
  async undo(): Promise<void> {
    for (const p of this.placed.splice(0).reverse()) {
      await rm(p.path, { force: true }).catch(() => undefined);
      if (p.made) await removeEmptyFolders(dirname(p.path), p.made);
    }
  }
}

async function place(from: string, dir: string, relative: string): Promise<{ path: string; made: string | undefined }> {
  const target = freeName(join(dir, relative));
  let made: string | undefined;
  try {
    made = await mkdir(dirname(target), { recursive: true });
    await rename(from, target);
    return { path: target, made };
  } catch (err) {
    await rm(from, { force: true }).catch(() => undefined);
    if (made) await removeEmptyFolders(dirname(target), made);
    throw err;
  }
}

/** Removes `folder` and its parents up to `top` (the first folder mkdir made), stopping at one that isn't empty. */
async function removeEmptyFolders(folder: string, top: string): Promise<void> {
  const rel = relativePath(top, folder);
  if (rel.startsWith('..')) return;
  const depth = rel === '' ? 0 : rel.split(sep).length;
  let current = folder;
  for (let i = 0; i <= depth; i++) {
    try {
      await rmdir(current);
    } catch {
      return;
    }
    current = dirname(current);
  }
}

function freeName(path: string): string {
  const dot = path.lastIndexOf('.');
  const [stem, ext] = dot > path.lastIndexOf('/') ? [path.slice(0, dot), path.slice(dot)] : [path, ''];
  for (let i = 0; ; i++) {
    const candidate = i === 0 ? path : `${stem} (${i})${ext}`;
    if (!existsSync(candidate)) return candidate;
  }
}
