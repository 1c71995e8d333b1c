/**
 * The vendors' own words for the contract tests of the fakes.
 *
 * The vendor docs live in the team's shared folder next to the repo (`../shared/seeds/*.txt`,
 * `../shared/providers.md`), which a fresh clone (CI) does not have. So the excerpts the tests
 * need are copied VERBATIM into `seeds/*.txt` here, one file per source:
 *
 *     // source: seeds/001_42d6745df29d0753.txt      <- path under the shared folder
 *     // ...any comment lines...
 *     //== excerpt: info-response                     <- each excerpt, byte for byte
 *     {
 *     "title": ...
 *
 * The tests read the copies; seeds.contract.test.ts checks, whenever the shared folder exists,
 * that every excerpt still appears byte for byte in its source.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The repository's root. */
export const REPO_ROOT = resolve(HERE, '../../..');
/** The team's shared folder (`../shared` next to the repo; VIDMUX_SHARED_DIR overrides). Absent on CI. */
export const SHARED_DIR = process.env.VIDMUX_SHARED_DIR ?? resolve(REPO_ROOT, '../shared');
/** Where the verbatim copies live. */
export const COPY_DIR = join(HERE, 'seeds');

export interface SeedCopy {
  /** File name under {@link COPY_DIR}. */
  name: string;
  /** Path of the source under {@link SHARED_DIR}, e.g. `seeds/001_42d6745df29d0753.txt`. */
  source: string;
  /** Excerpts by name, in file order. */
  excerpts: Map<string, string>;
}

/** Every copy in {@link COPY_DIR}. */
export function seedCopies(): SeedCopy[] {
  return readdirSync(COPY_DIR)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map(readSeedCopy);
}

/** Reads one copy (`vidpickr-001.txt`). */
export function readSeedCopy(name: string): SeedCopy {
  const lines = readFileSync(join(COPY_DIR, name), 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  let source = '';
  const excerpts = new Map<string, string>();
  let current: string | null = null;
  let body: string[] = [];
  const close = () => {
    if (current !== null) excerpts.set(current, body.join('\n'));
  };
  for (const line of lines) {
    const m = /^\/\/== excerpt: (\S+)$/.exec(line);
    if (m) {
      close();
      current = m[1]!;
      body = [];
    } else if (current === null) {
      const s = /^\/\/ source: (\S+)$/.exec(line);
      if (s) source = s[1]!;
      else if (!line.startsWith('//')) throw new Error(`${name}: text before the first excerpt must be // comments: ${line}`);
    } else {
      body.push(line);
    }
  }
  close();
  if (!source) throw new Error(`${name}: no "// source:" line`);
  return { name, source, excerpts };
}

/** One excerpt of one copy; throws when it is not there. */
export function excerpt(copy: string, key: string): string {
  const text = readSeedCopy(copy).excerpts.get(key);
  if (text === undefined) throw new Error(`${copy} has no excerpt "${key}"`);
  return text;
}

/** The source of a copy in the shared folder, or null when the folder is not there (CI). */
export function sharedSource(copy: SeedCopy): string | null {
  const path = join(SHARED_DIR, copy.source);
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}

/** A vendor's JSON example, `/* ... *\/` elisions (seed 001 writes `[ /* ... *\/ ]`) removed. */
export function parseExample(text: string): unknown {
  return JSON.parse(text.replace(/\/\*[\s\S]*?\*\//g, ''));
}

/** Rows of a markdown table `| name | type | ... |` as string cells (header and rule rows dropped). */
export function tableRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|\s*-/.test(l))
    .map((l) =>
      l
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
}

// ---- shape comparison -----------------------------------------------------------------------

const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

export interface ShapeOptions {
  /**
   * For an array the example elides (`[ /* ... *\/ ]`, so empty after parsing): the example entry
   * each actual entry must look like, by path (`resolutions[1].video_only`). The actual array must
   * then not be empty (the example says there are entries).
   */
  elided?: (path: string) => unknown;
}

/**
 * Differences between `actual` and the vendor's `example`, as readable lines (none: same shape).
 * Objects: the same field names in the same order; arrays: the same length and each entry like
 * the example's entry at that index; values: the same JSON type (null only where the example has
 * null).
 */
export function shapeDiff(actual: unknown, example: unknown, opts: ShapeOptions = {}, path = '$'): string[] {
  const ka = kind(actual);
  const ke = kind(example);
  if (ka !== ke) return [`${path}: ${ka} where the example has ${ke}`];
  if (ke === 'array') {
    const a = actual as unknown[];
    const e = example as unknown[];
    if (e.length === 0) {
      const template = opts.elided?.(path);
      if (template === undefined) return a.length ? [`${path}: ${a.length} entries where the example has none`] : [];
      if (!a.length) return [`${path}: empty where the example elides entries`];
      return a.flatMap((x, i) => shapeDiff(x, template, opts, `${path}[${i}]`));
    }
    if (a.length !== e.length) return [`${path}: ${a.length} entries where the example has ${e.length}`];
    return a.flatMap((x, i) => shapeDiff(x, e[i], opts, `${path}[${i}]`));
  }
  if (ke === 'object') {
    const a = actual as Record<string, unknown>;
    const e = example as Record<string, unknown>;
    const out: string[] = [];
    if (Object.keys(a).join(',') !== Object.keys(e).join(',')) out.push(`${path}: fields ${Object.keys(a).join(', ')} where the example has ${Object.keys(e).join(', ')}`);
    for (const k of Object.keys(e)) if (k in a) out.push(...shapeDiff(a[k], e[k], opts, `${path}.${k}`));
    return out;
  }
  return [];
}

/** Whether `names` appear in `keys` in the same relative order (other keys may sit between them). */
export function inOrder(keys: string[], names: string[]): boolean {
  const at = names.map((n) => keys.indexOf(n));
  return at.every((i, n) => i >= 0 && (n === 0 || i > at[n - 1]!));
}
