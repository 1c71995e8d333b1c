/**
 * EBML (the binary format under Matroska and WebM, RFC 8794) on bytes in memory: variable-size
 * integers, element headers, walking a master element's children, reading values. The demuxer
 * (demux.ts) reads element headers from the input itself, a few bytes at a time, and hands
 * small masters (Info, Tracks, a BlockGroup) read whole to these helpers.
 */

/** Element IDs we read (with their length marker bits, as written in the file). */
export const ID = {
  EBML: 0x1a45dfa3,
  DocType: 0x4282,
  Segment: 0x18538067,
  SeekHead: 0x114d9b74,
  Info: 0x1549a966,
  TimestampScale: 0x2ad7b1,
  Duration: 0x4489,
  Title: 0x7ba9,
  Tracks: 0x1654ae6b,
  TrackEntry: 0xae,
  TrackNumber: 0xd7,
  TrackType: 0x83,
  FlagEnabled: 0xb9,
  CodecID: 0x86,
  CodecPrivate: 0x63a2,
  DefaultDuration: 0x23e383,
  CodecDelay: 0x56aa,
  SeekPreRoll: 0x56bb,
  Language: 0x22b59c,
  LanguageBCP47: 0x22b59d,
  Video: 0xe0,
  PixelWidth: 0xb0,
  PixelHeight: 0xba,
  DisplayWidth: 0x54b0,
  DisplayHeight: 0x54ba,
  DisplayUnit: 0x54b2,
  Colour: 0x55b0,
  MatrixCoefficients: 0x55b1,
  BitsPerChannel: 0x55b2,
  ChromaSitingHorz: 0x55b7,
  ChromaSitingVert: 0x55b8,
  Range: 0x55b9,
  TransferCharacteristics: 0x55ba,
  Primaries: 0x55bb,
  Audio: 0xe1,
  SamplingFrequency: 0xb5,
  Channels: 0x9f,
  ContentEncodings: 0x6d80,
  ContentEncoding: 0x6240,
  ContentEncodingScope: 0x5032,
  ContentEncodingType: 0x5033,
  ContentCompression: 0x5034,
  ContentCompAlgo: 0x4254,
  ContentCompSettings: 0x4255,
  ContentEncryption: 0x5035,
  Cluster: 0x1f43b675,
  Timestamp: 0xe7,
  SimpleBlock: 0xa3,
  BlockGroup: 0xa0,
  Block: 0xa1,
  BlockDuration: 0x9b,
  ReferenceBlock: 0xfb,
  EncryptedBlock: 0xaf,
  Cues: 0x1c53bb6b,
  Tags: 0x1254c367,
  Chapters: 0x1043a770,
  Attachments: 0x1941a469,
  Void: 0xec,
  CRC32: 0xbf,
} as const;

/** Children of a Segment (level 1): where a Cluster of unknown size ends. */
export const SEGMENT_CHILDREN: ReadonlySet<number> = new Set([
  ID.SeekHead,
  ID.Info,
  ID.Tracks,
  ID.Cluster,
  ID.Cues,
  ID.Tags,
  ID.Chapters,
  ID.Attachments,
]);

/** A size field of all ones: the element runs until its parent's end or a sibling the parent can't hold. */
export const UNKNOWN_SIZE = -1;

/** Bad EBML at a file offset (the demuxer turns it into `corrupt_media`). */
export class EbmlError extends Error {
  constructor(
    message: string,
    /** Absolute byte offset of the problem. */
    readonly offset: number,
  ) {
    super(message);
  }
}

/** Length in bytes (1-8) of a variable-size integer from its first byte; 0 for the invalid 0x00. */
export function vintLength(first: number): number {
  if (first === 0) return 0;
  return Math.clz32(first) - 23;
}

/**
 * The element ID at `b[pos]` (length marker kept, as IDs are written), or null when the bytes end
 * first. Throws on an ID longer than 4 bytes. `base` is `b[0]`'s file offset, for errors.
 */
export function readId(b: Uint8Array, pos: number, end = b.length, base = 0): { id: number; length: number } | null {
  if (pos >= end) return null;
  const length = vintLength(b[pos]!);
  if (length === 0 || length > 4) throw new EbmlError(`invalid element ID (first byte 0x${b[pos]!.toString(16).padStart(2, '0')})`, base + pos);
  if (pos + length > end) return null;
  let id = 0;
  for (let i = 0; i < length; i++) id = id * 256 + b[pos + i]!;
  return { id, length };
}

/**
 * The element size at `b[pos]` ({@link UNKNOWN_SIZE} for all ones), or null when the bytes end
 * first. Throws on the invalid first byte 0x00 and on sizes past 2^53.
 */
export function readSize(b: Uint8Array, pos: number, end = b.length, base = 0): { size: number; length: number } | null {
  if (pos >= end) return null;
  const length = vintLength(b[pos]!);
  if (length === 0) throw new EbmlError('invalid element size (first byte 0x00)', base + pos);
  if (pos + length > end) return null;
  let value = b[pos]! & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    const byte = b[pos + i]!;
    if (byte !== 0xff) allOnes = false;
    value = value * 256 + byte;
  }
  if (allOnes) return { size: UNKNOWN_SIZE, length };
  if (value > Number.MAX_SAFE_INTEGER) throw new EbmlError(`element size ${value} is beyond any file`, base + pos);
  return { size: value, length };
}

/** A variable-size integer as used inside blocks (track numbers, EBML lace sizes): value without marker. */
export function readVint(b: Uint8Array, pos: number, end = b.length): { value: number; length: number } | null {
  if (pos >= end) return null;
  const length = vintLength(b[pos]!);
  if (length === 0 || pos + length > end) return null;
  let value = b[pos]! & (0xff >> length);
  for (let i = 1; i < length; i++) value = value * 256 + b[pos + i]!;
  return { value, length };
}

/** One element found in bytes: `start` (its ID), `data` (its payload) and `end`, relative to the array. */
export interface Element {
  id: number;
  start: number;
  data: number;
  end: number;
}

/**
 * The children of the master element whose payload is `b[start, end)`. Children of unknown size
 * are not allowed here (the caller read the master whole). Throws {@link EbmlError} on a child that
 * overruns its parent. `base` is `b[0]`'s file offset, for errors.
 */
export function children(b: Uint8Array, start: number, end: number, base = 0): Element[] {
  const out: Element[] = [];
  let pos = start;
  while (pos < end) {
    const id = readId(b, pos, end, base);
    const size = id && readSize(b, pos + id.length, end, base);
    if (!id || !size) throw new EbmlError('element header runs past its parent', base + pos);
    if (size.size === UNKNOWN_SIZE) throw new EbmlError(`element 0x${id.id.toString(16)} has an unknown size inside a sized parent`, base + pos);
    const data = pos + id.length + size.length;
    if (data + size.size > end) throw new EbmlError(`element 0x${id.id.toString(16)} (${size.size} bytes) overruns its parent`, base + pos);
    out.push({ id: id.id, start: pos, data, end: data + size.size });
    pos = data + size.size;
  }
  return out;
}

/** The first child with `id`, if any. */
export function child(list: readonly Element[], id: number): Element | undefined {
  return list.find((e) => e.id === id);
}

/** An unsigned integer element (up to 8 bytes; exact below 2^53). */
export function readUint(b: Uint8Array, e: Element, base = 0): number {
  if (e.end - e.data > 8) throw new EbmlError(`integer element 0x${e.id.toString(16)} is ${e.end - e.data} bytes long`, base + e.start);
  let v = 0;
  for (let i = e.data; i < e.end; i++) v = v * 256 + b[i]!;
  return v;
}

/** A signed integer element (two's complement, up to 8 bytes). */
export function readInt(b: Uint8Array, e: Element, base = 0): number {
  const n = e.end - e.data;
  if (n === 0) return 0;
  const u = readUint(b, e, base);
  return b[e.data]! & 0x80 ? u - 2 ** (8 * n) : u;
}

/** A float element (0, 4 or 8 bytes). */
export function readFloat(b: Uint8Array, e: Element, base = 0): number {
  const n = e.end - e.data;
  if (n === 0) return 0;
  const view = new DataView(b.buffer, b.byteOffset + e.data, n);
  if (n === 4) return view.getFloat32(0);
  if (n === 8) return view.getFloat64(0);
  throw new EbmlError(`float element 0x${e.id.toString(16)} is ${n} bytes long`, base + e.start);
}

/** A string element (ASCII or UTF-8), up to the zero padding it may carry. */
export function readString(b: Uint8Array, e: Element): string {
  const zero = b.subarray(e.data, e.end).indexOf(0);
  return new TextDecoder().decode(b.subarray(e.data, zero < 0 ? e.end : e.data + zero));
}
