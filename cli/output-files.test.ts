/** Placing the CLI's finished files: never over another file; a failed move leaves nothing behind. */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { moveTo, Placement } from './output-files';

const root = mkdtempSync(join(tmpdir(), 'vidmux-output-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dir: string;
let n = 0;
beforeEach(() => {
  dir = join(root, String(n++));
  mkdirSync(dir);
});

/** A finished file under a temporary name, as NodeOutputs leaves it. */
function finished(name: string, text = name): string {
  const path = join(dir, `.vidmux-job-${name}`);
  writeFileSync(path, text);
  return path;
}

/** A name the file system refuses (longer than 255 bytes), so the final rename fails. */
const TOO_LONG = `${'x'.repeat(300)}.mp4`;

describe('moveTo', () => {
  it('moves to the name, making its folders; a taken name gets " (1)"', async () => {
    expect(await moveTo(finished('a'), dir, 'clips/My clip.mp4')).toBe(join(dir, 'clips', 'My clip.mp4'));
    expect(await moveTo(finished('b'), dir, 'clips/My clip.mp4')).toBe(join(dir, 'clips', 'My clip (1).mp4'));
    expect(readFileSync(join(dir, 'clips', 'My clip (1).mp4'), 'utf8')).toBe('b');
    expect(readdirSync(dir)).toEqual(['clips']);
  });

  it('a failed final rename leaves neither the file (under either name) nor the folders made for it', async () => {
    mkdirSync(join(dir, 'existing'));
    const from = finished('c');
    await expect(moveTo(from, dir, `existing/new/deeper/${TOO_LONG}`)).rejects.toThrow(/ENAMETOOLONG/);
    expect(readdirSync(dir)).toEqual(['existing']);
    expect(readdirSync(join(dir, 'existing'))).toEqual([]);
  });

  it('a failed rename into --out itself leaves nothing either', async () => {
    await expect(moveTo(finished('d'), dir, TOO_LONG)).rejects.toThrow(/ENAMETOOLONG/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('Placement', () => {
  it('undo takes back every file placed, and the folders made for them, leaving what was there', async () => {
    writeFileSync(join(dir, 'before.txt'), 'mine');
    const placement = new Placement();
    await placement.move(finished('video'), dir, 'sub/folder/Clip.mp4');
    await placement.move(finished('subs'), dir, 'sub/folder/Clip.en.vtt');
    await expect(placement.move(finished('more'), dir, `sub/folder/${TOO_LONG}`)).rejects.toThrow(/ENAMETOOLONG/);
    await placement.undo();
    expect(readdirSync(dir)).toEqual(['before.txt']);
    expect(readFileSync(join(dir, 'before.txt'), 'utf8')).toBe('mine');
  });

  it('undo keeps a folder that holds something else', async () => {
    mkdirSync(join(dir, 'shared'));
    const placement = new Placement();
    await placement.move(finished('video'), dir, 'shared/new/Clip.mp4');
    writeFileSync(join(dir, 'shared', 'new', 'other.txt'), 'not ours');
    await placement.undo();
    expect(readdirSync(join(dir, 'shared', 'new'))).toEqual(['other.txt']);
  });
});
