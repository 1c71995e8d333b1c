/**
 * Minimal ISO-BMFF (MP4) box reading and writing on raw bytes.
 *
 * Why our own and not mp4box's writer: the engine only needs to walk box headers (to find `moov`,
 * skip `mdat`, step through fragments) and to rebuild a handful of container boxes around
 * verbatim copies of their children. Doing that on bytes keeps every untouched box byte-identical
 * and avoids a parse/serialise round trip through mp4box's object model.
 */

/** A box header: `size` is the whole box (header included); `size` is null when it runs to the end. */
export interface BoxHeader {
  type: string;
  /** Whole box size in bytes, or null for a box that extends to the end of the file (size field 0). */
  size: number | null;
  headerSize: number;
}

/** Reads the four ASCII characters at `offset`. */
export function fourcc(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(bytes[offset]!, bytes[offset + 1]!, bytes[offset + 2]!, bytes[offset + 3]!);
}

/** Big-endian unsigned 32-bit read. */
export function readU32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) >>> 0) + (bytes[offset + 1]! << 16) + (bytes[offset + 2]! << 8) + bytes[offset + 3]!;
}

/** Big-endian unsigned 64-bit read as a number (exact below 2^53, far beyond any real file). */
export function readU64(bytes: Uint8Array, offset: number): number {
  return readU32(bytes, offset) * 2 ** 32 + readU32(bytes, offset + 4);
}

/** Big-endian signed 32-bit read. */
export function readI32(bytes: Uint8Array, offset: number): number {
  return readU32(bytes, offset) | 0;
}

/** Big-endian unsigned 32-bit write. */
export function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = (value >>> 24) & 0xff;
  bytes[offset + 1] = (value >>> 16) & 0xff;
  bytes[offset + 2] = (value >>> 8) & 0xff;
  bytes[offset + 3] = value & 0xff;
}

/** Big-endian unsigned 64-bit write from a non-negative safe integer. */
export function writeU64(bytes: Uint8Array, offset: number, value: number): void {
  writeU32(bytes, offset, Math.floor(value / 2 ** 32));
  writeU32(bytes, offset + 4, value >>> 0);
}

/**
 * Parses the box header at `offset`, or returns null if fewer than the header's bytes are available.
 * Throws on a size that cannot be a box (smaller than its own header).
 */
export function readBoxHeader(bytes: Uint8Array, offset: number, end = bytes.length): BoxHeader | null {
  if (end - offset < 8) return null;
  const size32 = readU32(bytes, offset);
  const type = fourcc(bytes, offset + 4);
  if (size32 === 1) {
    if (end - offset < 16) return null;
    const size = readU64(bytes, offset + 8);
    if (size < 16) throw new RangeError(`box '${printable(type)}' has an invalid 64-bit size ${size}`);
    return { type, size, headerSize: 16 };
  }
  if (size32 === 0) return { type, size: null, headerSize: 8 };
  if (size32 < 8) throw new RangeError(`box '${printable(type)}' has an invalid size ${size32}`);
  return { type, size: size32, headerSize: 8 };
}

/** A child box found inside a parent's bytes: `start`/`end` include the header, `body` starts after it. */
export interface BoxRef {
  type: string;
  start: number;
  body: number;
  end: number;
}

/** Lists the boxes in `bytes[start, end)`; throws if a box overruns its parent. */
export function listBoxes(bytes: Uint8Array, start = 0, end = bytes.length): BoxRef[] {
  const out: BoxRef[] = [];
  let pos = start;
  while (pos + 8 <= end) {
    const h = readBoxHeader(bytes, pos, end);
    if (!h) break;
    const boxEnd = h.size === null ? end : pos + h.size;
    if (boxEnd > end) throw new RangeError(`box '${printable(h.type)}' overruns its parent`);
    out.push({ type: h.type, start: pos, body: pos + h.headerSize, end: boxEnd });
    pos = boxEnd;
  }
  return out;
}

/** Finds the first child of type `type` in `bytes[start, end)`. */
export function findBox(bytes: Uint8Array, type: string, start = 0, end = bytes.length): BoxRef | undefined {
  return listBoxes(bytes, start, end).find((b) => b.type === type);
}

/** Builds a box of `type` around `parts` (a 32-bit size header; boxes here are all small). */
export function makeBox(type: string, ...parts: Uint8Array[]): Uint8Array {
  const size = 8 + parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(size);
  writeU32(out, 0, size);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  let pos = 8;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** Concatenates byte arrays. */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** Renders a four-character code for an error message even when it is binary junk. */
export function printable(type: string): string {
  return /^[\x20-\x7e]{4}$/.test(type) ? type : JSON.stringify(type);
}
