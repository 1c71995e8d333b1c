/** Where the CLI puts finished files: their final name in --out, never over an existing file. */
import { existsSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Moves a finished file to `dir/relative` (or `name (1).ext`... when taken); returns the path. */
export async function moveTo(from: string, dir: string, relative: string): Promise<string> {
  const target = freeName(join(dir, relative));
  await mkdir(dirname(target), { recursive: true });
  await rename(from, target);
  return target;
}

function freeName(path: string): string {
  const dot = path.lastIndexOf('.');
  const [stem, ext] = dot > path.lastIndexOf('/') ? [path.slice(0, dot), path.slice(dot)] : [path, ''];
  for (let i = 0; ; i++) {
    const candidate = i === 0 ? path : `${stem} (${i})${ext}`;
    if (!existsSync(candidate)) return candidate;
  }
}
