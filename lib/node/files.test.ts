/** NodeFileSink: a file is either done under its name, or gone (no `.part` left on any failure). */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeFileSink } from './files';

const dir = mkdtempSync(join(tmpdir(), 'vidmux-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bytes = (s: string) => new TextEncoder().encode(s);

describe('NodeFileSink', () => {
  it('writes to <path>.part and renames it on close; abort after close keeps the file', async () => {
    const path = join(dir, 'done.bin');
    const sink = new NodeFileSink(path, { sync: true });
    await sink.write(5, bytes('world'));
    await sink.write(0, bytes('hello'));
    expect(existsSync(sink.partPath)).toBe(true);
    await sink.close();
    expect(readFileSync(path, 'utf8')).toBe('helloworld');
    expect(existsSync(sink.partPath)).toBe(false);
    await sink.abort();
    expect(existsSync(path)).toBe(true);
  });

  it('a failed final rename (the path is a directory) removes the part file', async () => {
    const path = join(dir, 'a-folder');
    mkdirSync(join(path, 'inside'), { recursive: true });
    const sink = new NodeFileSink(path);
    await sink.write(0, bytes('all of it'));
    await expect(sink.close()).rejects.toThrow();
    expect(existsSync(sink.partPath)).toBe(false);
    expect(statSync(path).isDirectory()).toBe(true);
    expect(readdirSync(path)).toEqual(['inside']);
    // What callers do next (remux aborts its sink on any failure) is harmless.
    await sink.abort();
    expect(existsSync(sink.partPath)).toBe(false);
  });

  it('a failed open (the folder is missing) leaves nothing', async () => {
    const sink = new NodeFileSink(join(dir, 'no-such-folder', 'x.bin'));
    await expect(sink.close()).rejects.toThrow(/ENOENT/);
    expect(existsSync(join(dir, 'no-such-folder'))).toBe(false);
  });

  it('after an abort, neither a write nor a close makes the part file again', async () => {
    const path = join(dir, 'aborted.bin');
    const sink = new NodeFileSink(path);
    await sink.abort();
    await expect(sink.write(0, bytes('late'))).rejects.toThrow(/already aborted/);
    await expect(sink.close()).rejects.toThrow(/already aborted/);
    expect(existsSync(sink.partPath)).toBe(false);
    expect(existsSync(path)).toBe(false);
  });

  it('an abort while the part file is open deletes it', async () => {
    const path = join(dir, 'half.bin');
    const sink = new NodeFileSink(path);
    await sink.write(0, bytes('half'));
    await sink.abort();
    await sink.abort();
    expect(existsSync(sink.partPath)).toBe(false);
    expect(existsSync(path)).toBe(false);
  });
});
