/**
 * Draws the toolbar icons (public/icon/{16,32,48,128}.png): a red rounded square with a white
 * download arrow. Run once with `npx tsx scripts/make-icons.ts`; the PNGs are committed.
 * A tiny PNG writer by hand because it is ~20 lines and avoids an image library for four files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { deflateSync } from 'node:zlib';

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

function png(size: number, pixel: (x: number, y: number) => [number, number, number, number]): Buffer {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) raw.set(pixel(x, y), y * (size * 4 + 1) + 1 + x * 4);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** Coverage of the icon shape at a point in unit coordinates (0..1), with 4x4 supersampling. */
function shade(size: number, x: number, y: number): [number, number, number, number] {
  let bg = 0;
  let fg = 0;
  for (let i = 0; i < 4; i++)
    for (let j = 0; j < 4; j++) {
      const u = (x + (i + 0.5) / 4) / size;
      const v = (y + (j + 0.5) / 4) / size;
      const r = 0.2;
      const dx = Math.max(0, Math.abs(u - 0.5) - (0.5 - r));
      const dy = Math.max(0, Math.abs(v - 0.5) - (0.5 - r));
      if (dx * dx + dy * dy > r * r) continue;
      bg++;
      const shaft = Math.abs(u - 0.5) < 0.09 && v > 0.18 && v < 0.55;
      const head = v >= 0.45 && v < 0.7 && Math.abs(u - 0.5) < 0.7 - v;
      const base = v > 0.76 && v < 0.86 && Math.abs(u - 0.5) < 0.3;
      if (shaft || head || base) fg++;
    }
  const a = bg / 16;
  const f = bg ? fg / bg : 0;
  const mix = (c1: number, c2: number) => Math.round(c1 * (1 - f) + c2 * f);
  return [mix(0xc4, 0xff), mix(0x30, 0xff), mix(0x2b, 0xff), Math.round(a * 255)];
}

const dir = resolve(import.meta.dirname, '../public/icon');
mkdirSync(dir, { recursive: true });
for (const size of [16, 32, 48, 128]) writeFileSync(`${dir}/${size}.png`, png(size, (x, y) => shade(size, x, y)));
console.log(`icons written to ${dir}`);
