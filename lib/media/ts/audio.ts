/**
 * Audio frame headers as MPEG-TS carries them: AAC in ADTS, MPEG audio (MP3), AC-3 and E-AC-3.
 * A frame's header says how long the frame is, so the demuxer cuts the PES payloads into frames
 * (one MP4 sample each) without decoding anything, and takes the sample entry's fields from it.
 */

export type AudioCodec = 'aac' | 'mp3' | 'ac3' | 'eac3';

/** ADTS header fields (the AudioSpecificConfig is built from them). */
export interface AdtsHeader {
  codec: 'aac';
  /** MPEG-4 audio object type (profile + 1: 2 = AAC LC). */
  objectType: number;
  samplingIndex: number;
  channelConfig: number;
}

/** MPEG audio (MP1/MP2/MP3) header fields. */
export interface MpegAudioHeader {
  codec: 'mp3';
  /** 1 for MPEG-1, 2 for MPEG-2 LSF, 2.5 for MPEG-2.5. */
  version: 1 | 2 | 2.5;
  layer: 1 | 2 | 3;
  bitrateKbps: number;
}

/** AC-3 header fields (for `dac3`). */
export interface Ac3Header {
  codec: 'ac3';
  fscod: number;
  bsid: number;
  bsmod: number;
  acmod: number;
  lfeon: number;
  bitRateCode: number;
}

/** E-AC-3 header fields (for `dec3`). */
export interface Eac3Header {
  codec: 'eac3';
  /** 0 independent, 1 dependent, 2 independent converted from AC-3. */
  strmtyp: number;
  substreamid: number;
  fscod: number;
  bsid: number;
  acmod: number;
  lfeon: number;
  /** Audio blocks (of 256 samples) in this frame. */
  blocks: number;
  /** Bit rate of this frame, kbit/s. */
  dataRateKbps: number;
}

/** One parsed frame header. */
export interface AudioFrame {
  /** Bytes of the whole frame, header included. */
  length: number;
  /** Where the MP4 sample data starts within the frame: after the ADTS header for AAC, 0 otherwise. */
  dataOffset: number;
  /** Samples per channel the frame decodes to. */
  samples: number;
  sampleRate: number;
  channels: number;
  header: AdtsHeader | MpegAudioHeader | Ac3Header | Eac3Header;
}

/** No frame starts here: the demuxer skips ahead to the next sync word. */
export const NO_SYNC = 'nosync';

const ADTS_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/**
 * Parses the header of the `codec` frame at `buf[pos]` (bytes up to `end` are available). Returns
 * null when more bytes are needed to know, {@link NO_SYNC} when no valid frame starts at `pos`.
 * A frame is only returned once all of its bytes are there.
 */
export function parseAudioFrame(codec: AudioCodec, buf: Uint8Array, pos: number, end: number): AudioFrame | null | typeof NO_SYNC {
  const frame = codec === 'aac' ? adts(buf, pos, end) : codec === 'mp3' ? mpegAudio(buf, pos, end) : ac3Family(buf, pos, end);
  if (frame === null || frame === NO_SYNC) return frame;
  return pos + frame.length <= end ? frame : null;
}

function adts(b: Uint8Array, p: number, end: number): AudioFrame | null | typeof NO_SYNC {
  if (end - p < 7) return end - p >= 2 && !(b[p] === 0xff && (b[p + 1]! & 0xf6) === 0xf0) ? NO_SYNC : null;
  if (b[p] !== 0xff || (b[p + 1]! & 0xf6) !== 0xf0) return NO_SYNC;
  const headerLength = b[p + 1]! & 1 ? 7 : 9;
  const objectType = (b[p + 2]! >> 6) + 1;
  const samplingIndex = (b[p + 2]! >> 2) & 0xf;
  const channelConfig = ((b[p + 2]! & 1) << 2) | (b[p + 3]! >> 6);
  const length = ((b[p + 3]! & 3) << 11) | (b[p + 4]! << 3) | (b[p + 5]! >> 5);
  const rawBlocks = b[p + 6]! & 3;
  const sampleRate = ADTS_RATES[samplingIndex];
  if (!sampleRate || length < headerLength) return NO_SYNC;
  return {
    length,
    dataOffset: headerLength,
    samples: 1024 * (rawBlocks + 1),
    sampleRate,
    channels: channelConfig === 7 ? 8 : channelConfig,
    header: { codec: 'aac', objectType, samplingIndex, channelConfig },
  };
}

const MPEG_RATES: Record<string, readonly number[]> = { '1': [44100, 48000, 32000], '2': [22050, 24000, 16000], '2.5': [11025, 12000, 8000] };
const MPEG_BITRATES: Record<string, readonly number[]> = {
  '1-1': [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  '1-2': [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  '1-3': [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  '2-1': [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  '2-2': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};

function mpegAudio(b: Uint8Array, p: number, end: number): AudioFrame | null | typeof NO_SYNC {
  if (end - p < 4) return end - p >= 2 && !(b[p] === 0xff && (b[p + 1]! & 0xe0) === 0xe0) ? NO_SYNC : null;
  if (b[p] !== 0xff || (b[p + 1]! & 0xe0) !== 0xe0) return NO_SYNC;
  const v = (b[p + 1]! >> 3) & 3;
  const l = (b[p + 1]! >> 1) & 3;
  const bitrateIndex = b[p + 2]! >> 4;
  const rateIndex = (b[p + 2]! >> 2) & 3;
  // Reserved version/layer/rate, and "free format" (no bitrate: the frame length can't be known).
  if (v === 1 || l === 0 || rateIndex === 3 || bitrateIndex === 0 || bitrateIndex === 15) return NO_SYNC;
  const version = v === 3 ? 1 : v === 2 ? 2 : 2.5;
  const layer = (4 - l) as 1 | 2 | 3;
  const padding = (b[p + 2]! >> 1) & 1;
  const sampleRate = MPEG_RATES[String(version)]![rateIndex]!;
  const bitrateKbps = MPEG_BITRATES[`${version === 1 ? 1 : 2}-${version === 1 ? layer : Math.min(layer, 2)}`]![bitrateIndex]!;
  const bps = bitrateKbps * 1000;
  let length: number;
  let samples: number;
  if (layer === 1) {
    length = (Math.floor((12 * bps) / sampleRate) + padding) * 4;
    samples = 384;
  } else if (layer === 2 || version === 1) {
    length = Math.floor((144 * bps) / sampleRate) + padding;
    samples = 1152;
  } else {
    length = Math.floor((72 * bps) / sampleRate) + padding;
    samples = 576;
  }
  return {
    length,
    dataOffset: 0,
    samples,
    sampleRate,
    channels: b[p + 3]! >> 6 === 3 ? 1 : 2,
    header: { codec: 'mp3', version, layer, bitrateKbps },
  };
}

/** AC-3 frame sizes in 16-bit words by frmsizecod >> 1, for 48, 44.1 and 32 kHz (44.1 kHz adds one word for odd codes). */
const AC3_WORDS = [
  [64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896, 1024, 1152, 1280],
  [69, 87, 104, 121, 139, 174, 208, 243, 278, 348, 417, 487, 557, 696, 835, 975, 1114, 1253, 1393],
  [96, 120, 144, 168, 192, 240, 288, 336, 384, 480, 576, 672, 768, 960, 1152, 1344, 1536, 1728, 1920],
];
const AC3_RATES = [48000, 44100, 32000];
const ACMOD_CHANNELS = [2, 1, 2, 3, 3, 4, 4, 5];

function ac3Family(b: Uint8Array, p: number, end: number): AudioFrame | null | typeof NO_SYNC {
  if (end - p < 8) return end - p >= 2 && !(b[p] === 0x0b && b[p + 1] === 0x77) ? NO_SYNC : null;
  if (b[p] !== 0x0b || b[p + 1] !== 0x77) return NO_SYNC;
  const bsid = b[p + 5]! >> 3;
  if (bsid <= 10) {
    const fscod = b[p + 4]! >> 6;
    const frmsizecod = b[p + 4]! & 0x3f;
    if (fscod === 3 || frmsizecod > 37) return NO_SYNC;
    const words = AC3_WORDS[fscod]![frmsizecod >> 1]! + (fscod === 1 ? frmsizecod & 1 : 0);
    const bsmod = b[p + 5]! & 7;
    // acmod, then the optional mix levels, then lfeon.
    const bits = (b[p + 6]! << 8) | b[p + 7]!;
    const acmod = bits >> 13;
    let at = 3;
    if (acmod & 1 && acmod !== 1) at += 2;
    if (acmod & 4) at += 2;
    if (acmod === 2) at += 2;
    const lfeon = (bits >> (15 - at)) & 1;
    return {
      length: words * 2,
      dataOffset: 0,
      samples: 1536,
      sampleRate: AC3_RATES[fscod]!,
      channels: ACMOD_CHANNELS[acmod]! + lfeon,
      header: { codec: 'ac3', fscod, bsid, bsmod, acmod, lfeon, bitRateCode: frmsizecod >> 1 },
    };
  }
  if (bsid > 16) return NO_SYNC;
  const strmtyp = b[p + 2]! >> 6;
  const substreamid = (b[p + 2]! >> 3) & 7;
  const length = ((((b[p + 2]! & 7) << 8) | b[p + 3]!) + 1) * 2;
  const fscod = b[p + 4]! >> 6;
  const code2 = (b[p + 4]! >> 4) & 3;
  let sampleRate: number;
  let blocks: number;
  if (fscod === 3) {
    if (code2 === 3) return NO_SYNC;
    sampleRate = AC3_RATES[code2]! / 2;
    blocks = 6;
  } else {
    sampleRate = AC3_RATES[fscod]!;
    blocks = [1, 2, 3, 6][code2]!;
  }
  const acmod = (b[p + 4]! >> 1) & 7;
  const lfeon = b[p + 4]! & 1;
  if (strmtyp === 3 || length < 8) return NO_SYNC;
  return {
    length,
    dataOffset: 0,
    samples: blocks * 256,
    sampleRate,
    channels: ACMOD_CHANNELS[acmod]! + lfeon,
    header: {
      codec: 'eac3',
      strmtyp,
      substreamid,
      fscod,
      bsid,
      acmod,
      lfeon,
      blocks,
      dataRateKbps: Math.round((length * 8 * sampleRate) / (blocks * 256) / 1000),
    },
  };
}
