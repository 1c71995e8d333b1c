/**
 * H.264 / HEVC elementary streams as MPEG-TS carries them (Annex B: NAL units behind 00 00 01
 * start codes) and what MP4 needs from them: NAL units behind 4-byte lengths, which access units
 * are sync samples, and the parameter sets (SPS/PPS/VPS) with the few fields the sample entry
 * needs (profile, level, size, chroma format, bit depth, pixel aspect).
 */
import { BitReader, unescapeRbsp } from './bits';

export type VideoCodec = 'h264' | 'hevc';

/** H.264 nal_unit_type values we act on. */
const AVC_IDR = 5;
const AVC_SEI = 6;
export const AVC_SPS = 7;
export const AVC_PPS = 8;
export const AVC_AUD = 9;
/** HEVC nal_unit_type values we act on (IRAP pictures are 16..23). */
export const HEVC_VPS = 32;
export const HEVC_SPS = 33;
export const HEVC_PPS = 34;
export const HEVC_AUD = 35;

/** The nal_unit_type of a NAL unit whose first byte is `b`. */
export function nalType(codec: VideoCodec, b: number): number {
  return codec === 'h264' ? b & 0x1f : (b >> 1) & 0x3f;
}

/** Whether `type` is a parameter set of `codec` (what goes into avcC/hvcC). */
export function isParameterSet(codec: VideoCodec, type: number): boolean {
  return codec === 'h264' ? type === AVC_SPS || type === AVC_PPS : type === HEVC_VPS || type === HEVC_SPS || type === HEVC_PPS;
}

/**
 * Finds the NAL units of the Annex B bytes `buf[from, to)`: fills `out` with (start, end) pairs, each
 * unit after its start code and without trailing zero bytes (a NAL unit never ends in 0x00, so
 * zeros before a start code are the 4-byte start code's first byte or trailing_zero_8bits).
 * Bytes before the first start code are not a NAL unit and are dropped.
 */
export function findNalUnits(buf: Uint8Array, from: number, to: number, out: number[]): void {
  out.length = 0;
  let start = -1;
  // Looks at i as the 01 of a start code 00 00 01, skipping as ffmpeg's start code search does: a
  // byte above 1 is no byte of a start code whose 01 is at i, i + 1 or i + 2, and neither is a 01
  // at i (the next 01 needs two zeros after it). Most bytes of a slice are above 1, so the scan
  // reads about a third of them: 0.10 s a GB in Node, against 0.60 s for indexOf(1) over every
  // byte (a CPU profile of a remux of bench:browser's HLS segments).
  for (let i = from + 2; i < to; ) {
    const b = buf[i]!;
    if (b > 1) {
      i += 3;
    } else if (b === 0) {
      i++;
    } else {
      if (buf[i - 1] === 0 && buf[i - 2] === 0) {
        if (start >= 0) push(buf, start, i - 2, out);
        start = i + 1;
      }
      i += 3;
    }
  }
  if (start >= 0) push(buf, start, to, out);
}

function push(buf: Uint8Array, start: number, end: number, out: number[]): void {
  while (end > start && buf[end - 1] === 0) end--;
  if (end > start) out.push(start, end);
}

/** Output size of the units in `nals` as length-prefixed NAL units (4-byte lengths). */
export function lengthPrefixedSize(nals: readonly number[]): number {
  let size = 0;
  for (let k = 0; k < nals.length; k += 2) size += 4 + nals[k + 1]! - nals[k]!;
  return size;
}

/**
 * Whether the units fill `[from, to)` exactly, each behind a 4-byte start code: then writing each
 * length over its start code converts the access unit in place (x264, ffmpeg and most encoders).
 */
export function convertibleInPlace(buf: Uint8Array, nals: readonly number[], from: number, to: number): boolean {
  let at = from;
  for (let k = 0; k < nals.length; k += 2) {
    if (nals[k] !== at + 4 || buf[at] !== 0) return false;
    at = nals[k + 1]!;
  }
  return at === to && nals.length > 0;
}

/** Writes each unit's length over its 4-byte start code (see {@link convertibleInPlace}). */
export function writeLengthsInPlace(buf: Uint8Array, nals: readonly number[]): void {
  for (let k = 0; k < nals.length; k += 2) {
    const at = nals[k]! - 4;
    const len = nals[k + 1]! - nals[k]!;
    buf[at] = len >>> 24;
    buf[at + 1] = (len >>> 16) & 0xff;
    buf[at + 2] = (len >>> 8) & 0xff;
    buf[at + 3] = len & 0xff;
  }
}

/** Writes the units of `src` as length-prefixed NAL units into `dest` at `at`; returns the end. */
export function writeLengthPrefixed(src: Uint8Array, nals: readonly number[], dest: Uint8Array, at: number): number {
  for (let k = 0; k < nals.length; k += 2) {
    const s = nals[k]!;
    const len = nals[k + 1]! - s;
    dest[at] = len >>> 24;
    dest[at + 1] = (len >>> 16) & 0xff;
    dest[at + 2] = (len >>> 8) & 0xff;
    dest[at + 3] = len & 0xff;
    dest.set(src.subarray(s, s + len), at + 4);
    at += 4 + len;
  }
  return at;
}

/**
 * Whether the access unit is a sync sample, as ffmpeg's parsers decide it (and so its `-c copy`
 * marks it): H.264 IDR pictures or pictures with a recovery point SEI (open-GOP and intra-refresh
 * streams have no IDR after the first); HEVC IRAP pictures (IDR, CRA, BLA).
 */
export function isSyncAccessUnit(codec: VideoCodec, buf: Uint8Array, nals: readonly number[]): boolean {
  let sei = -1;
  for (let k = 0; k < nals.length; k += 2) {
    const type = nalType(codec, buf[nals[k]!]!);
    if (codec === 'hevc') {
      if (type >= 16 && type <= 23) return true;
      continue;
    }
    if (type === AVC_IDR) return true;
    if (type === AVC_SEI && sei < 0) sei = k;
  }
  if (codec === 'h264') {
    for (let k = sei; k >= 0 && k < nals.length; k += 2) {
      if (nalType(codec, buf[nals[k]!]!) === AVC_SEI && seiHasRecoveryPoint(buf.subarray(nals[k]! + 1, nals[k + 1]))) return true;
    }
  }
  return false;
}

/** Whether an H.264 SEI payload (after the NAL header) holds a recovery point message (type 6). */
function seiHasRecoveryPoint(payload: Uint8Array): boolean {
  const rbsp = unescapeRbsp(payload);
  let p = 0;
  while (p < rbsp.length && !(rbsp[p] === 0x80 && p === rbsp.length - 1)) {
    let type = 0;
    while (rbsp[p] === 0xff) {
      type += 255;
      p++;
    }
    type += rbsp[p++] ?? 0;
    let size = 0;
    while (rbsp[p] === 0xff) {
      size += 255;
      p++;
    }
    size += rbsp[p++] ?? 0;
    if (type === 6) return true;
    p += size;
  }
  return false;
}

/**
 * Whether the Annex B bytes begin a new access unit: an access unit delimiter, a parameter set or
 * the first slice of a picture comes first. Tells a PES without a timestamp that starts a frame
 * (which can't be timed) from one that continues the previous frame (some muxers split big frames).
 */
export function startsAccessUnit(codec: VideoCodec, bytes: Uint8Array): boolean {
  const nals: number[] = [];
  findNalUnits(bytes, 0, bytes.length, nals);
  if (nals.length === 0 || nals[0]! > 4) return false;
  const first = nals[0]!;
  const type = nalType(codec, bytes[first]!);
  if (codec === 'h264') {
    if (type === AVC_AUD || type === AVC_SPS || type === AVC_PPS || type === AVC_SEI) return true;
    // first_mb_in_slice == 0 (ue(v) "1") is the first slice of a picture.
    return (type === 1 || type === AVC_IDR) && ((bytes[first + 1] ?? 0) & 0x80) !== 0;
  }
  if (type === HEVC_AUD || type === HEVC_VPS || type === HEVC_SPS || type === HEVC_PPS || type === 39) return true;
  // first_slice_segment_in_pic_flag
  return type <= 31 && ((bytes[first + 2] ?? 0) & 0x80) !== 0;
}

/** What the sample entry needs from a sequence parameter set. */
export interface SpsInfo {
  id: number;
  /** Cropped (displayed) size in pixels. */
  width: number;
  height: number;
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  /** Pixel aspect ratio (1:1 when the SPS doesn't say). */
  sarWidth: number;
  sarHeight: number;
}

/** H.264 SPS facts: profile, constraint flags and level bytes (for avcC and the codec string). */
export interface AvcSps extends SpsInfo {
  profileIdc: number;
  constraintFlags: number;
  levelIdc: number;
}

/** HEVC SPS facts, with the general profile_tier_level for hvcC and the codec string. */
export interface HevcSps extends SpsInfo {
  profileSpace: number;
  tierFlag: number;
  profileIdc: number;
  /** general_profile_compatibility_flags, 32 bits. */
  compatibilityFlags: number;
  /** general_constraint_indicator_flags, 6 bytes. */
  constraintFlags: Uint8Array;
  levelIdc: number;
  maxSubLayers: number;
  temporalIdNesting: boolean;
}

const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);
/** Table E-1 sample aspect ratios by aspect_ratio_idc. */
const SAR_TABLE: ReadonlyArray<readonly [number, number]> = [
  [0, 0], [1, 1], [12, 11], [10, 11], [16, 11], [40, 33], [24, 11], [20, 11], [32, 11], [80, 33],
  [18, 11], [15, 11], [64, 33], [160, 99], [4, 3], [3, 2], [2, 1],
];

/** Parses an H.264 SPS NAL unit (header byte included). Throws RangeError when it is cut short. */
export function parseAvcSps(nal: Uint8Array): AvcSps {
  const r = new BitReader(unescapeRbsp(nal.subarray(1)));
  const profileIdc = r.u(8);
  const constraintFlags = r.u(8);
  const levelIdc = r.u(8);
  const id = r.ue();
  let chromaFormatIdc = 1;
  let bitDepthLuma = 8;
  let bitDepthChroma = 8;
  let separateColourPlane = false;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.ue();
    if (chromaFormatIdc === 3) separateColourPlane = r.flag();
    bitDepthLuma = r.ue() + 8;
    bitDepthChroma = r.ue() + 8;
    r.skip(1); // qpprime_y_zero_transform_bypass_flag
    if (r.flag()) {
      for (let i = 0; i < (chromaFormatIdc === 3 ? 12 : 8); i++) if (r.flag()) skipScalingList(r, i < 6 ? 16 : 64);
    }
  }
  r.ue(); // log2_max_frame_num_minus4
  const pocType = r.ue();
  if (pocType === 0) r.ue();
  else if (pocType === 1) {
    r.skip(1);
    r.se();
    r.se();
    const cycle = r.ue();
    for (let i = 0; i < cycle; i++) r.se();
  }
  r.ue(); // max_num_ref_frames
  r.skip(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  const frameMbsOnly = r.u(1);
  if (!frameMbsOnly) r.skip(1);
  r.skip(1); // direct_8x8_inference_flag
  let crop = [0, 0, 0, 0];
  if (r.flag()) crop = [r.ue(), r.ue(), r.ue(), r.ue()];
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidth = chromaFormatIdc === 1 || chromaFormatIdc === 2 ? 2 : 1;
  const subHeight = chromaFormatIdc === 1 ? 2 : 1;
  const cropX = chromaArrayType === 0 ? 1 : subWidth;
  const cropY = (2 - frameMbsOnly) * (chromaArrayType === 0 ? 1 : subHeight);
  const width = widthMbs * 16 - cropX * (crop[0]! + crop[1]!);
  const height = (2 - frameMbsOnly) * heightMapUnits * 16 - cropY * (crop[2]! + crop[3]!);
  let sar: readonly [number, number] = [1, 1];
  try {
    if (r.flag() && r.flag()) sar = readSar(r);
  } catch {
    // A VUI cut short leaves the pixel aspect at 1:1.
  }
  return { id, profileIdc, constraintFlags, levelIdc, chromaFormatIdc, bitDepthLuma, bitDepthChroma, width, height, sarWidth: sar[0], sarHeight: sar[1] };
}

function readSar(r: BitReader): readonly [number, number] {
  const idc = r.u(8);
  const sar = idc === 255 ? ([r.u(16), r.u(16)] as const) : (SAR_TABLE[idc] ?? ([0, 0] as const));
  return sar[0] > 0 && sar[1] > 0 ? sar : [1, 1];
}

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/** The id of an H.264 PPS (header byte included). */
export function avcPpsId(nal: Uint8Array): number {
  return new BitReader(unescapeRbsp(nal.subarray(1, 8))).ue();
}

/** Parses an HEVC SPS NAL unit (2-byte header included) up to the bit depths. */
export function parseHevcSps(nal: Uint8Array): HevcSps {
  const rbsp = unescapeRbsp(nal.subarray(2));
  const r = new BitReader(rbsp);
  r.skip(4); // sps_video_parameter_set_id
  const maxSubLayersMinus1 = r.u(3);
  const temporalIdNesting = r.flag();
  // general_profile_tier_level: 12 bytes, then the sub-layer flags and entries.
  const profileSpace = r.u(2);
  const tierFlag = r.u(1);
  const profileIdc = r.u(5);
  const compatibilityFlags = r.u(32);
  const constraintFlags = new Uint8Array(6);
  for (let i = 0; i < 6; i++) constraintFlags[i] = r.u(8);
  const levelIdc = r.u(8);
  const subProfile: boolean[] = [];
  const subLevel: boolean[] = [];
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    subProfile.push(r.flag());
    subLevel.push(r.flag());
  }
  if (maxSubLayersMinus1 > 0) for (let i = maxSubLayersMinus1; i < 8; i++) r.skip(2);
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (subProfile[i]) r.skip(88);
    if (subLevel[i]) r.skip(8);
  }
  const id = r.ue();
  const chromaFormatIdc = r.ue();
  if (chromaFormatIdc === 3) r.skip(1); // separate_colour_plane_flag
  let width = r.ue();
  let height = r.ue();
  if (r.flag()) {
    const subWidth = chromaFormatIdc === 1 || chromaFormatIdc === 2 ? 2 : 1;
    const subHeight = chromaFormatIdc === 1 ? 2 : 1;
    const [left, right, top, bottom] = [r.ue(), r.ue(), r.ue(), r.ue()];
    width -= subWidth * (left + right);
    height -= subHeight * (top + bottom);
  }
  const bitDepthLuma = r.ue() + 8;
  const bitDepthChroma = r.ue() + 8;
  return {
    id,
    width,
    height,
    chromaFormatIdc,
    bitDepthLuma,
    bitDepthChroma,
    // The VUI (and its aspect ratio) sits behind the reference picture sets; left at 1:1.
    sarWidth: 1,
    sarHeight: 1,
    profileSpace,
    tierFlag,
    profileIdc,
    compatibilityFlags,
    constraintFlags,
    levelIdc,
    maxSubLayers: maxSubLayersMinus1 + 1,
    temporalIdNesting,
  };
}

/** The id of an HEVC VPS (2-byte header included). */
export function hevcVpsId(nal: Uint8Array): number {
  return (nal[2] ?? 0) >> 4;
}

/** The id of an HEVC PPS (2-byte header included). */
export function hevcPpsId(nal: Uint8Array): number {
  return new BitReader(unescapeRbsp(nal.subarray(2, 10))).ue();
}
