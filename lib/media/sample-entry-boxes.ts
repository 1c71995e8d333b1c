/**
 * Building blocks of MP4 sample descriptions, shared by the demuxers that build an `stsd` from
 * in-band data (MPEG-TS: ts/sample-entries.ts; WebM: webm/sample-entries.ts) and the `hdlr` they
 * give their tracks.
 */
import { makeBox, writeU32 } from './boxes';

/** A full box (version 0, flags 0) around `parts`. */
export function fullBox(type: string, ...parts: Uint8Array[]): Uint8Array {
  return makeBox(type, new Uint8Array(4), ...parts);
}

export function u16(v: number): Uint8Array {
  return new Uint8Array([(v >> 8) & 0xff, v & 0xff]);
}

export function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  writeU32(b, 0, v >>> 0);
  return b;
}

/** `stsd` with one entry. */
export function stsd(entry: Uint8Array): Uint8Array {
  return fullBox('stsd', u32(1), entry);
}

/** The `hdlr` ffmpeg writes for a track of `kind`. */
export function handlerBox(kind: 'video' | 'audio'): Uint8Array {
  const name = new TextEncoder().encode(kind === 'video' ? 'VideoHandler\0' : 'SoundHandler\0');
  return fullBox('hdlr', u32(0), new TextEncoder().encode(kind === 'video' ? 'vide' : 'soun'), new Uint8Array(12), name);
}

/** VisualSampleEntry of `type` around its configuration boxes. */
export function visualEntry(type: string, width: number, height: number, ...boxes: Uint8Array[]): Uint8Array {
  const fields = new Uint8Array(78);
  fields[7] = 1; // data_reference_index
  fields[24] = (width >> 8) & 0xff;
  fields[25] = width & 0xff;
  fields[26] = (height >> 8) & 0xff;
  fields[27] = height & 0xff;
  writeU32(fields, 28, 0x00480000); // 72 dpi
  writeU32(fields, 32, 0x00480000);
  fields[41] = 1; // frame_count
  fields[75] = 0x18; // depth
  fields[76] = 0xff; // pre_defined = -1
  fields[77] = 0xff;
  return makeBox(type, fields, ...boxes);
}

/** AudioSampleEntry of `type` around its configuration box. */
export function audioEntry(type: string, channels: number, sampleRate: number, config: Uint8Array): Uint8Array {
  const fields = new Uint8Array(28);
  fields[7] = 1; // data_reference_index
  fields[16] = (channels >> 8) & 0xff;
  fields[17] = channels & 0xff;
  fields[19] = 16; // samplesize
  // samplerate is 16.16 fixed point; rates above 65535 Hz don't fit (the mdhd timescale has them).
  writeU32(fields, 24, sampleRate < 0x10000 ? sampleRate * 0x10000 : 0);
  return makeBox(type, fields, config);
}
