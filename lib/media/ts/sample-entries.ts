/**
 * MP4 sample descriptions for streams read from MPEG-TS: the `stsd` (one sample entry with its
 * decoder configuration) and `hdlr` that the muxer copies verbatim into the output (moov-patch.ts),
 * plus the RFC 6381 codec strings. Layouts follow ISO/IEC 14496-12 (sample entries), 14496-15
 * (avcC, hvcC), 14496-1/-14 (esds) and ETSI TS 102 366 Annex F (dac3, dec3).
 */
import { makeBox, writeU32 } from '../boxes';
import { audioEntry, fullBox, stsd, u16, u32, visualEntry } from '../sample-entry-boxes';
import type { Ac3Header, AdtsHeader, Eac3Header, MpegAudioHeader } from './audio';
import type { AvcSps, HevcSps } from './nal';

/** `pasp` when the pixels aren't square. */
function pasp(sps: { sarWidth: number; sarHeight: number }): Uint8Array[] {
  return sps.sarWidth === sps.sarHeight ? [] : [makeBox('pasp', u32(sps.sarWidth), u32(sps.sarHeight))];
}

function hex2(v: number): string {
  return v.toString(16).padStart(2, '0');
}

/** `avc1.PPCCLL` from the SPS's profile, constraint flags and level. */
export function avcCodecString(sps: AvcSps): string {
  return `avc1.${hex2(sps.profileIdc)}${hex2(sps.constraintFlags)}${hex2(sps.levelIdc)}`;
}

/** `stsd` with an `avc1` entry: the avcC holds the parameter sets in the order given. */
export function avcSampleDescription(sps: AvcSps, spsNals: Uint8Array[], ppsNals: Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [
    new Uint8Array([1, sps.profileIdc, sps.constraintFlags, sps.levelIdc, 0xff, 0xe0 | spsNals.length]),
  ];
  for (const n of spsNals) parts.push(u16(n.length), n);
  parts.push(new Uint8Array([ppsNals.length]));
  for (const n of ppsNals) parts.push(u16(n.length), n);
  if (sps.profileIdc !== 66 && sps.profileIdc !== 77 && sps.profileIdc !== 88) {
    // High profiles carry chroma format and bit depths (14496-15 5.3.3.1.2); no SPS extensions.
    parts.push(new Uint8Array([0xfc | sps.chromaFormatIdc, 0xf8 | (sps.bitDepthLuma - 8), 0xf8 | (sps.bitDepthChroma - 8), 0]));
  }
  return stsd(visualEntry('avc1', sps.width, sps.height, makeBox('avcC', ...parts), ...pasp(sps)));
}

/** `hvc1.<space><profile>.<compat>.<tier><level>.<constraints>` (14496-15 Annex E). */
export function hevcCodecString(sps: HevcSps): string {
  let compat = 0;
  for (let i = 0; i < 32; i++) if (sps.compatibilityFlags & (1 << i)) compat |= 1 << (31 - i);
  const bytes = [...sps.constraintFlags];
  while (bytes.length > 0 && bytes[bytes.length - 1] === 0) bytes.pop();
  const space = ['', 'A', 'B', 'C'][sps.profileSpace]!;
  return [
    'hvc1',
    `${space}${sps.profileIdc}`,
    (compat >>> 0).toString(16).toUpperCase(),
    `${sps.tierFlag ? 'H' : 'L'}${sps.levelIdc}`,
    ...bytes.map((b) => b.toString(16).toUpperCase()),
  ].join('.');
}

/**
 * `stsd` with an `hvc1` entry. Arrays are complete (every parameter set is in the entry, as hvc1
 * requires); min_spatial_segmentation_idc and parallelismType are written as 0 ("unknown"), which
 * spares parsing the VUI and PPS for hints no decoder needs.
 */
export function hevcSampleDescription(sps: HevcSps, arrays: Array<{ type: number; nals: Uint8Array[] }>): Uint8Array {
  const head = new Uint8Array(23);
  head[0] = 1;
  head[1] = (sps.profileSpace << 6) | (sps.tierFlag << 5) | sps.profileIdc;
  writeU32(head, 2, sps.compatibilityFlags >>> 0);
  head.set(sps.constraintFlags, 6);
  head[12] = sps.levelIdc;
  head[13] = 0xf0; // min_spatial_segmentation_idc = 0
  head[14] = 0x00;
  head[15] = 0xfc; // parallelismType = 0
  head[16] = 0xfc | sps.chromaFormatIdc;
  head[17] = 0xf8 | (sps.bitDepthLuma - 8);
  head[18] = 0xf8 | (sps.bitDepthChroma - 8);
  // avgFrameRate (2 bytes) = 0; constantFrameRate 0, numTemporalLayers, temporalIdNested, lengthSizeMinusOne 3.
  head[21] = (sps.maxSubLayers << 3) | ((sps.temporalIdNesting ? 1 : 0) << 2) | 3;
  const used = arrays.filter((a) => a.nals.length > 0);
  head[22] = used.length;
  const parts: Uint8Array[] = [head];
  for (const a of used) {
    parts.push(new Uint8Array([0x80 | a.type]), u16(a.nals.length));
    for (const n of a.nals) parts.push(u16(n.length), n);
  }
  return stsd(visualEntry('hvc1', sps.width, sps.height, makeBox('hvcC', ...parts), ...pasp(sps)));
}

/** An MPEG-4 descriptor: tag, size (one byte while it fits, else four), body. */
function descriptor(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const size = parts.reduce((s, p) => s + p.length, 0);
  const sizeBytes = size < 0x80 ? [size] : [0x80 | ((size >> 21) & 0x7f), 0x80 | ((size >> 14) & 0x7f), 0x80 | ((size >> 7) & 0x7f), size & 0x7f];
  const out = new Uint8Array(1 + sizeBytes.length + size);
  out[0] = tag;
  out.set(sizeBytes, 1);
  let at = 1 + sizeBytes.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `esds` for `objectType` (0x40 MPEG-4 audio, 0x6B MPEG-1 audio, 0x69 MPEG-2 audio). */
function esds(objectType: number, bitrate: number, maxFrameBytes: number, specificInfo: Uint8Array | null): Uint8Array {
  const config = new Uint8Array(13);
  config[0] = objectType;
  config[1] = 0x15; // streamType audio (5) << 2 | upStream 0 | reserved 1
  config[2] = (maxFrameBytes >> 16) & 0xff; // bufferSizeDB
  config[3] = (maxFrameBytes >> 8) & 0xff;
  config[4] = maxFrameBytes & 0xff;
  writeU32(config, 5, bitrate); // maxBitrate
  writeU32(config, 9, bitrate); // avgBitrate
  const decoderConfig = descriptor(0x04, config, ...(specificInfo ? [descriptor(0x05, specificInfo)] : []));
  const es = descriptor(0x03, new Uint8Array([0, 1, 0]), decoderConfig, descriptor(0x06, new Uint8Array([2])));
  return fullBox('esds', es);
}

/** The AudioSpecificConfig an ADTS header describes (what ffmpeg's aac_adtstoasc writes). */
export function audioSpecificConfig(h: AdtsHeader): Uint8Array {
  return new Uint8Array([(h.objectType << 3) | (h.samplingIndex >> 1), ((h.samplingIndex & 1) << 7) | (h.channelConfig << 3)]);
}

/** `stsd` with an `mp4a` entry for AAC from ADTS. */
export function aacSampleDescription(h: AdtsHeader, channels: number, sampleRate: number, bitrate: number, maxFrameBytes: number): Uint8Array {
  return stsd(audioEntry('mp4a', channels, sampleRate, esds(0x40, bitrate, maxFrameBytes, audioSpecificConfig(h))));
}

/** The object type MP4 gives MPEG audio: 0x6B (11172-3) for MPEG-1 rates, 0x69 (13818-3) below, as ffmpeg does. */
export function mpegAudioObjectType(h: MpegAudioHeader): number {
  return h.version === 1 ? 0x6b : 0x69;
}

/** `stsd` with an `mp4a` entry for MP3 (no decoder specific info: every frame has its header). */
export function mp3SampleDescription(h: MpegAudioHeader, channels: number, sampleRate: number, maxFrameBytes: number): Uint8Array {
  return stsd(audioEntry('mp4a', channels, sampleRate, esds(mpegAudioObjectType(h), h.bitrateKbps * 1000, maxFrameBytes, null)));
}

/** `stsd` with an `ac-3` entry and its `dac3`. ChannelCount is 2 as Annex F says (dac3 has the layout). */
export function ac3SampleDescription(h: Ac3Header, sampleRate: number): Uint8Array {
  const bits = (h.fscod << 22) | (h.bsid << 17) | (h.bsmod << 14) | (h.acmod << 11) | (h.lfeon << 10) | (h.bitRateCode << 5);
  const dac3 = makeBox('dac3', new Uint8Array([(bits >> 16) & 0xff, (bits >> 8) & 0xff, bits & 0xff]));
  return stsd(audioEntry('ac-3', 2, sampleRate, dac3));
}

/** `stsd` with an `ec-3` entry and its `dec3` (one independent substream, no dependent ones). */
export function eac3SampleDescription(h: Eac3Header, sampleRate: number): Uint8Array {
  const dec3 = new Uint8Array(5);
  const rate = Math.min(h.dataRateKbps, 0x1fff);
  dec3[0] = rate >> 5;
  dec3[1] = (rate & 0x1f) << 3; // num_ind_sub = 0 (one substream)
  dec3[2] = (h.fscod << 6) | (h.bsid << 1); // reserved 0
  dec3[3] = (h.acmod << 1) | h.lfeon; // asvc 0, bsmod 0
  dec3[4] = 0; // reserved, num_dep_sub 0, reserved
  return stsd(audioEntry('ec-3', 2, sampleRate, makeBox('dec3', dec3)));
}
