/**
 * MP4 sample descriptions for tracks read from WebM: the `stsd` the muxer copies into the output
 * (moov-patch.ts) and the RFC 6381 codec string, built from what WebM carries.
 * - VP9: `vp09` + `vpcC` (VP Codec ISO Media File Format Binding): profile and bit depth from the
 *   first keyframe's uncompressed header, chroma subsampling and range from it too unless the
 *   track's `Colour` says otherwise, colour primaries/transfer/matrix from `Colour` (the matrix
 *   falls back to the header's colour space), level from the picture size: what ffmpeg 4.1 writes
 *   for the same input.
 * - AV1: `av01` + `av1C`: WebM's CodecPrivate is the av1C payload; when it carries no
 *   configOBUs, the first keyframe's sequence header OBU is added (as ffmpeg does); without a
 *   CodecPrivate the av1C is built from that sequence header.
 * - Opus: `Opus` + `dOps` (Encapsulation of Opus in ISO BMFF, 4.3.2) from the OpusHead in
 *   CodecPrivate: the same fields, big-endian instead of little-endian, version 0.
 */
import { concatBytes, makeBox, writeU32 } from '../boxes';
import { audioEntry, fullBox, stsd, u16, u32, visualEntry } from '../sample-entry-boxes';
import { BitReader } from '../ts/bits';
import type { TrackColour } from './tracks';

/** `pasp` when the display size says the pixels aren't square. */
function pasp(width: number, height: number, displayWidth: number | null, displayHeight: number | null): Uint8Array[] {
  if (!displayWidth || !displayHeight || !width || !height) return [];
  let h = displayWidth * height;
  let v = displayHeight * width;
  if (h === v) return [];
  const g = gcd(h, v);
  h /= g;
  v /= g;
  return h > 0xffffffff || v > 0xffffffff ? [] : [makeBox('pasp', u32(h), u32(v))];
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

const two = (v: number) => String(v).padStart(2, '0');

/** What a VP9 frame's uncompressed header says (RFC-less: VP9 bitstream spec 6.2). */
export interface Vp9Header {
  profile: number;
  keyframe: boolean;
  /** From a keyframe (or intra-only frame) only; null otherwise. */
  bitDepth: number | null;
  /** 0 unknown, 1 BT.601, 2 BT.709, 3 SMPTE-170, 4 SMPTE-240, 5 BT.2020, 6 reserved, 7 sRGB. */
  colorSpace: number | null;
  fullRange: boolean | null;
  subsamplingX: boolean | null;
  subsamplingY: boolean | null;
}

/** Parses the start of a VP9 frame (the first frame of a superframe); null when it isn't one. */
export function parseVp9Header(frame: Uint8Array): Vp9Header | null {
  try {
    const r = new BitReader(frame);
    if (r.u(2) !== 2) return null; // frame_marker
    const low = r.u(1);
    const profile = (r.u(1) << 1) | low;
    if (profile === 3) r.skip(1);
    const none: Vp9Header = { profile, keyframe: false, bitDepth: null, colorSpace: null, fullRange: null, subsamplingX: null, subsamplingY: null };
    if (r.flag()) return none; // show_existing_frame
    const keyframe = r.u(1) === 0;
    const showFrame = r.flag();
    const errorResilient = r.flag();
    if (!keyframe) {
      const intraOnly = showFrame ? false : r.flag();
      if (!intraOnly) return none;
      if (!errorResilient) r.skip(2); // reset_frame_context
      if (r.u(24) !== 0x498342) return null;
      if (profile === 0) return { ...none, bitDepth: 8, colorSpace: 1, fullRange: false, subsamplingX: true, subsamplingY: true };
    } else if (r.u(24) !== 0x498342) {
      return null;
    }
    const bitDepth = profile >= 2 ? (r.flag() ? 12 : 10) : 8;
    const colorSpace = r.u(3);
    let fullRange = true;
    let ssx = false;
    let ssy = false;
    if (colorSpace !== 7) {
      fullRange = r.flag();
      if (profile === 1 || profile === 3) {
        ssx = r.flag();
        ssy = r.flag();
      } else {
        ssx = true;
        ssy = true;
      }
    }
    return { profile, keyframe, bitDepth, colorSpace, fullRange, subsamplingX: ssx, subsamplingY: ssy };
  } catch {
    return null;
  }
}

/** ffmpeg's VP9 level from the picture size alone (what its MP4 muxer computes: no frame rate there). */
function vp9Level(width: number, height: number): number {
  const size = width * height;
  if (size <= 0) return 0;
  const limits: Array<[number, number]> = [
    [36864, 10], [73728, 11], [122880, 20], [245760, 21], [552960, 30], [983040, 31], [2228224, 40], [8912896, 50], [35651584, 60],
  ];
  for (const [max, level] of limits) if (size <= max) return level;
  return 0;
}

/** The vp09 description and codec string of a VP9 track. */
export function vp9SampleDescription(
  track: { width: number; height: number; displayWidth: number | null; displayHeight: number | null; colour: TrackColour | null },
  first: Vp9Header | null,
): { stsd: Uint8Array; codec: string } {
  const c = track.colour;
  const bitDepth = first?.bitDepth ?? (c?.bitsPerChannel || null) ?? ((first?.profile ?? 0) >= 2 ? 10 : 8);
  const profile = first?.profile ?? (bitDepth > 8 ? 2 : 0);
  const ssx = first?.subsamplingX ?? true;
  const ssy = first?.subsamplingY ?? true;
  // 0: 4:2:0 with chroma beside the left luma sample (Matroska siting: left, half); 1: collocated with it.
  let chroma = ssx && ssy ? (c?.chromaSitingHorz === 1 && c.chromaSitingVert === 2 ? 0 : 1) : ssx ? 2 : 3;
  if (!ssx && ssy) chroma = 1; // 4:4:0 has no vpcC code; call it 4:2:0
  const fullRange = c?.range === 2 ? 1 : c?.range === 1 ? 0 : first?.fullRange ? 1 : 0;
  // The VP9 header's colour space as ISO/IEC 23091-2 matrix coefficients (what ffmpeg's decoder reports).
  const headerMatrix = first?.colorSpace === null || first?.colorSpace === undefined ? 2 : [2, 5, 1, 6, 7, 9, 2, 0][first.colorSpace]!;
  const level = vp9Level(track.width, track.height);
  const vpcC = makeBox(
    'vpcC',
    new Uint8Array([1, 0, 0, 0]), // version 1, flags 0
    new Uint8Array([profile, level, (bitDepth << 4) | (chroma << 1) | fullRange, c?.primaries ?? 2, c?.transfer ?? 2, c?.matrix ?? headerMatrix]),
    u16(0), // codecIntializationDataSize
  );
  const entry = visualEntry('vp09', track.width, track.height, vpcC, ...pasp(track.width, track.height, track.displayWidth, track.displayHeight));
  return { stsd: stsd(entry), codec: `vp09.${two(profile)}.${two(level)}.${two(bitDepth)}` };
}

/** Reads an unsigned LEB128 (AV1 OBU sizes); null when it runs past `end`. */
function leb128(b: Uint8Array, pos: number, end: number): { value: number; length: number } | null {
  let value = 0;
  for (let i = 0; i < 8; i++) {
    if (pos + i >= end) return null;
    const byte = b[pos + i]!;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if (!(byte & 0x80)) return { value, length: i + 1 };
  }
  return null;
}

function writeLeb128(value: number): Uint8Array {
  const out: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return new Uint8Array(out);
}

/**
 * The sequence header OBU of an AV1 temporal unit (Low Overhead Bitstream Format), with its size
 * field (added when the OBU has none), and its payload; null when there is none.
 */
export function av1SequenceHeader(tu: Uint8Array): { obu: Uint8Array; payload: Uint8Array } | null {
  let pos = 0;
  while (pos < tu.length) {
    const header = tu[pos]!;
    const type = (header >> 3) & 0x0f;
    const ext = (header >> 2) & 1;
    const hasSize = (header >> 1) & 1;
    const headerBytes = 1 + ext;
    let size: number;
    let sizeBytes = 0;
    if (hasSize) {
      const s = leb128(tu, pos + headerBytes, tu.length);
      if (!s) return null;
      size = s.value;
      sizeBytes = s.length;
    } else {
      size = tu.length - pos - headerBytes;
    }
    const payloadAt = pos + headerBytes + sizeBytes;
    if (payloadAt + size > tu.length) return null;
    if (type === 1) {
      const payload = tu.subarray(payloadAt, payloadAt + size);
      if (hasSize) return { obu: tu.slice(pos, payloadAt + size), payload };
      const head = tu.subarray(pos, pos + headerBytes).slice();
      head[0] = head[0]! | 0x02;
      const len = writeLeb128(size);
      const obu = new Uint8Array(head.length + len.length + size);
      obu.set(head);
      obu.set(len, head.length);
      obu.set(payload, head.length + len.length);
      return { obu, payload };
    }
    pos = payloadAt + size;
  }
  return null;
}

/** The av1C fields (its bytes 1-2) a sequence header gives (AV1 spec 5.5). */
export interface Av1Config {
  profile: number;
  level: number;
  tier: number;
  highBitdepth: boolean;
  twelveBit: boolean;
  monochrome: boolean;
  subsamplingX: boolean;
  subsamplingY: boolean;
  chromaSamplePosition: number;
}

/** Parses a sequence header OBU payload; null when it can't be read. */
export function parseAv1SequenceHeader(payload: Uint8Array): Av1Config | null {
  try {
    const r = new BitReader(payload);
    const profile = r.u(3);
    r.skip(1); // still_picture
    const reduced = r.flag();
    let level = 0;
    let tier = 0;
    if (reduced) {
      level = r.u(5);
    } else {
      let decoderModel = false;
      let bufferDelayBits = 0;
      if (r.flag()) {
        // timing_info
        r.skip(64);
        if (r.flag()) {
          // num_ticks_per_picture_minus_1 as uvlc
          let zeros = 0;
          while (r.u(1) === 0) if (++zeros > 32) return null;
          if (zeros < 32) r.skip(zeros);
        }
        decoderModel = r.flag();
        if (decoderModel) {
          bufferDelayBits = r.u(5) + 1;
          r.skip(32 + 5 + 5);
        }
      }
      const initialDisplayDelay = r.flag();
      const points = r.u(5) + 1;
      for (let i = 0; i < points; i++) {
        r.skip(12); // operating_point_idc
        const l = r.u(5);
        const t = l > 7 ? r.u(1) : 0;
        if (i === 0) {
          level = l;
          tier = t;
        }
        if (decoderModel && r.flag()) r.skip(2 * bufferDelayBits + 1);
        if (initialDisplayDelay && r.flag()) r.skip(4);
      }
    }
    const widthBits = r.u(4) + 1;
    const heightBits = r.u(4) + 1;
    r.skip(widthBits + heightBits);
    if (!reduced && r.flag()) r.skip(4 + 3); // frame_id_numbers_present
    r.skip(3); // 128x128 superblocks, filter intra, intra edge filter
    if (!reduced) {
      r.skip(4); // interintra compound, masked compound, warped motion, dual filter
      const orderHint = r.flag();
      if (orderHint) r.skip(2);
      let forceScreenContent = 2;
      if (!r.flag()) forceScreenContent = r.u(1);
      if (forceScreenContent > 0 && !r.flag()) r.skip(1);
      if (orderHint) r.skip(3);
    }
    r.skip(3); // superres, cdef, restoration
    const highBitdepth = r.flag();
    const twelveBit = profile === 2 && highBitdepth ? r.flag() : false;
    const monochrome = profile === 1 ? false : r.flag();
    let primaries = 2;
    let transfer = 2;
    let matrix = 2;
    if (r.flag()) {
      primaries = r.u(8);
      transfer = r.u(8);
      matrix = r.u(8);
    }
    let ssx = true;
    let ssy = true;
    let csp = 0;
    if (monochrome) {
      // color_range only
    } else if (primaries === 1 && transfer === 13 && matrix === 0) {
      ssx = false;
      ssy = false;
    } else {
      r.skip(1); // color_range
      if (profile === 1) {
        ssx = false;
        ssy = false;
      } else if (profile === 2) {
        if (twelveBit) {
          ssx = r.flag();
          ssy = ssx ? r.flag() : false;
        } else {
          ssx = true;
          ssy = false;
        }
      }
      if (ssx && ssy) csp = r.u(2);
    }
    return { profile, level, tier, highBitdepth, twelveBit, monochrome, subsamplingX: ssx, subsamplingY: ssy, chromaSamplePosition: csp };
  } catch {
    return null;
  }
}

/** The av1C's 4-byte header for `c` (no initial presentation delay). */
function av1ConfigHeader(c: Av1Config): Uint8Array {
  return new Uint8Array([
    0x81, // marker 1, version 1
    (c.profile << 5) | c.level,
    (c.tier << 7) | (+c.highBitdepth << 6) | (+c.twelveBit << 5) | (+c.monochrome << 4) | (+c.subsamplingX << 3) | (+c.subsamplingY << 2) | c.chromaSamplePosition,
    0,
  ]);
}

/**
 * The av01 description and codec string of an AV1 track from its CodecPrivate (the av1C payload)
 * and/or the first keyframe; null when neither describes the stream.
 */
export function av1SampleDescription(
  track: { width: number; height: number; displayWidth: number | null; displayHeight: number | null },
  codecPrivate: Uint8Array | null,
  firstKeyframe: Uint8Array | null,
): { stsd: Uint8Array; codec: string } | null {
  const seq = firstKeyframe ? av1SequenceHeader(firstKeyframe) : null;
  let av1C: Uint8Array;
  if (codecPrivate && codecPrivate.length >= 4 && codecPrivate[0] === 0x81) {
    av1C = codecPrivate.length === 4 && seq ? concatBytes([codecPrivate, seq.obu]) : codecPrivate;
  } else {
    const config = seq ? parseAv1SequenceHeader(seq.payload) : null;
    if (!seq || !config) return null;
    av1C = concatBytes([av1ConfigHeader(config), seq.obu]);
  }
  const profile = av1C[1]! >> 5;
  const level = av1C[1]! & 0x1f;
  const tier = av1C[2]! >> 7 ? 'H' : 'M';
  const bitDepth = (av1C[2]! >> 6) & 1 ? ((av1C[2]! >> 5) & 1 ? 12 : 10) : 8;
  const entry = visualEntry('av01', track.width, track.height, makeBox('av1C', av1C), ...pasp(track.width, track.height, track.displayWidth, track.displayHeight));
  return { stsd: stsd(entry), codec: `av01.${profile}.${two(level)}${tier}.${two(bitDepth)}` };
}



/** What an OpusHead (RFC 7845 5.1) says. */
export interface OpusHead {
  channels: number;
  preSkip: number;
  inputSampleRate: number;
  outputGain: number;
  mappingFamily: number;
  /** Stream count, coupled count and channel mapping (mapping families other than 0). */
  mapping: Uint8Array | null;
}

/** Parses an OpusHead; null when it isn't a valid one. */
export function parseOpusHead(b: Uint8Array): OpusHead | null {
  if (b.length < 19 || new TextDecoder().decode(b.subarray(0, 8)) !== 'OpusHead' || b[8]! >> 4 !== 0) return null;
  const channels = b[9]!;
  const mappingFamily = b[18]!;
  if (channels === 0 || (mappingFamily !== 0 && b.length < 21 + channels)) return null;
  const view = new DataView(b.buffer, b.byteOffset, b.length);
  return {
    channels,
    preSkip: view.getUint16(10, true),
    inputSampleRate: view.getUint32(12, true),
    outputGain: view.getInt16(16, true),
    mappingFamily,
    mapping: mappingFamily === 0 ? null : b.slice(19, 21 + channels),
  };
}

/** The Opus description (`Opus` + `dOps`) of an OpusHead. */
export function opusSampleDescription(head: OpusHead): Uint8Array {
  const fixed = new Uint8Array(11);
  const view = new DataView(fixed.buffer);
  fixed[0] = 0; // version
  fixed[1] = head.channels;
  view.setUint16(2, head.preSkip);
  view.setUint32(4, head.inputSampleRate);
  view.setInt16(8, head.outputGain);
  fixed[10] = head.mappingFamily;
  const dOps = makeBox('dOps', fixed, ...(head.mapping ? [head.mapping] : []));
  return stsd(audioEntry('Opus', head.channels, 48000, dOps));
}
