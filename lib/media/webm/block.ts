/**
 * Matroska blocks (the payload of a SimpleBlock or a BlockGroup's Block): the header (track
 * number, timestamp relative to the cluster, flags) and the frames it holds, unlaced or laced
 * three ways (Xiph, EBML, fixed-size), as RFC 9559 section 10 lays them out. Plus the Opus packet
 * duration (RFC 6716 section 3.1), which times Opus frames exactly.
 */
import { EbmlError, readVint } from './ebml';

/** A block's header. */
export interface BlockHeader {
  track: number;
  /** Timestamp relative to the cluster's, in TimestampScale units (signed 16-bit). */
  relative: number;
  /** SimpleBlock: 0x80 keyframe, 0x08 invisible, 0x06 lacing, 0x01 discardable. */
  flags: number;
  /** Bytes of the header (track number, timestamp, flags). */
  length: number;
}

/** The SimpleBlock keyframe flag. */
export const KEYFRAME_FLAG = 0x80;
const LACING_MASK = 0x06;
const XIPH_LACING = 0x02;
const FIXED_LACING = 0x04;
const EBML_LACING = 0x06;

/** A block's header at `b[pos]`, or null when fewer bytes are there than it needs. */
export function blockHeader(b: Uint8Array, pos: number, end = b.length): BlockHeader | null {
  const track = readVint(b, pos, end);
  if (!track) {
    if (pos < end && b[pos] === 0) throw new EbmlError('invalid track number in a block', pos);
    return null;
  }
  const at = pos + track.length;
  if (at + 3 > end) return null;
  const relative = ((b[at]! << 24) >> 16) | b[at + 1]!;
  return { track: track.value, relative, flags: b[at + 2]!, length: track.length + 3 };
}

/**
 * Where the frames of a block lie: `[start, end)` pairs in `b`, for the block data after its
 * header (`b[start, end)`) and its `flags`. One frame when unlaced. Throws {@link EbmlError} (at
 * offsets relative to `b`, plus `base`) on lace sizes that don't fit.
 */
export function blockFrames(b: Uint8Array, start: number, end: number, flags: number, base = 0): Array<[number, number]> {
  const lacing = flags & LACING_MASK;
  if (lacing === 0) return [[start, end]];
  if (start >= end) throw new EbmlError('laced block without its frame count', base + start);
  const count = b[start]! + 1;
  let pos = start + 1;
  const sizes: number[] = [];
  if (lacing === XIPH_LACING) {
    for (let i = 0; i < count - 1; i++) {
      let size = 0;
      for (;;) {
        if (pos >= end) throw new EbmlError('Xiph lace sizes run past the block', base + pos);
        const byte = b[pos++]!;
        size += byte;
        if (byte !== 255) break;
      }
      sizes.push(size);
    }
  } else if (lacing === EBML_LACING) {
    let size = 0;
    for (let i = 0; i < count - 1; i++) {
      const v = readVint(b, pos, end);
      if (!v) throw new EbmlError('EBML lace sizes run past the block', base + pos);
      pos += v.length;
      // The first size is unsigned; the others are signed differences to the one before.
      size = i === 0 ? v.value : size + v.value - (2 ** (7 * v.length - 1) - 1);
      if (size < 0) throw new EbmlError('negative EBML lace size', base + pos);
      sizes.push(size);
    }
  } else if (lacing === FIXED_LACING) {
    const total = end - pos;
    if (total % count !== 0) throw new EbmlError(`${total} bytes don't split into ${count} equal laced frames`, base + pos);
    for (let i = 0; i < count - 1; i++) sizes.push(total / count);
  }
  const used = sizes.reduce((a, s) => a + s, 0);
  if (pos + used > end) throw new EbmlError(`laced frames (${used} bytes) overrun the block`, base + pos);
  sizes.push(end - pos - used);
  const frames: Array<[number, number]> = [];
  for (const size of sizes) {
    frames.push([pos, pos + size]);
    pos += size;
  }
  return frames;
}

/**
 * Samples (at 48 kHz) of an Opus packet from its TOC byte and frame count (RFC 6716 3.1, what
 * libopus's opus_packet_get_nb_samples computes); null for an empty or invalid packet.
 */
export function opusPacketSamples(packet: Uint8Array): number | null {
  if (packet.length === 0) return null;
  const toc = packet[0]!;
  let frames: number;
  switch (toc & 3) {
    case 0:
      frames = 1;
      break;
    case 3:
      if (packet.length < 2) return null;
      frames = packet[1]! & 0x3f;
      break;
    default:
      frames = 2;
  }
  let perFrame: number;
  if (toc & 0x80) perFrame = 120 << ((toc >> 3) & 3); // CELT: 2.5, 5, 10, 20 ms
  else if ((toc & 0x60) === 0x60) perFrame = toc & 0x08 ? 960 : 480; // hybrid: 10, 20 ms
  else {
    const size = (toc >> 3) & 3; // SILK: 10, 20, 40, 60 ms
    perFrame = size === 3 ? 2880 : 480 << size;
  }
  const samples = frames * perFrame;
  // A packet holds at most 120 ms.
  return samples === 0 || samples > 5760 ? null : samples;
}
