/**
 * MPEG-TS program tables (ISO/IEC 13818-1 2.4.4): the PAT says where a program's map is, the PMT
 * lists its elementary streams with their stream types and descriptors, from which we tell what
 * each stream is (and whether we can copy it).
 */
import type { AudioCodec } from './audio';
import { crc32Mpeg } from './bits';
import type { VideoCodec } from './nal';

export type TsCodec = VideoCodec | AudioCodec;

/** One elementary stream of a program. */
export interface TsStream {
  pid: number;
  streamType: number;
  kind: 'video' | 'audio' | 'other';
  /** The codec we copy, or null when we can't (see `name`). */
  codec: TsCodec | null;
  /** What it is, for messages: "MPEG-2 video (stream type 0x02)". */
  name: string;
  /** SAMPLE-AES (HLS encryption) or another scrambling scheme. */
  protected: boolean;
  /** ISO 639 language from the stream's descriptor, if any. */
  language: string | undefined;
}

/** A parsed PMT. */
export interface ProgramMap {
  programNumber: number;
  version: number;
  streams: TsStream[];
}

/** Collects PSI sections of one PID from transport packet payloads. */
export class SectionAssembler {
  private buf = new Uint8Array(1024);
  private len = 0;
  private collecting = false;

  /** Feeds one packet's payload; calls `onSection` with each complete section whose CRC checks. */
  push(b: Uint8Array, from: number, to: number, unitStart: boolean, onSection: (s: Uint8Array) => void): void {
    if (unitStart) {
      const pointer = b[from]!;
      // The bytes before the pointed-to section finish the section in progress.
      if (this.collecting) this.append(b, from + 1, Math.min(to, from + 1 + pointer));
      this.drain(onSection);
      this.len = 0;
      this.collecting = true;
      this.append(b, from + 1 + pointer, to);
    } else if (this.collecting) {
      this.append(b, from, to);
    }
    this.drain(onSection);
  }

  private append(b: Uint8Array, from: number, to: number): void {
    if (to <= from) return;
    if (this.len + to - from > this.buf.length) {
      if (this.len + to - from > 4096 + 188) {
        // No PSI section is larger than 4 KB: this is junk; wait for the next unit start.
        this.collecting = false;
        this.len = 0;
        return;
      }
      const bigger = new Uint8Array(4096 + 188);
      bigger.set(this.buf.subarray(0, this.len));
      this.buf = bigger;
    }
    this.buf.set(b.subarray(from, to), this.len);
    this.len += to - from;
  }

  /** Hands out complete sections at the front of the buffer (several may share one packet). */
  private drain(onSection: (s: Uint8Array) => void): void {
    let at = 0;
    while (this.collecting && this.len - at >= 3) {
      if (this.buf[at] === 0xff) {
        // Stuffing: nothing more in this unit.
        this.collecting = false;
        break;
      }
      const size = 3 + (((this.buf[at + 1]! & 0x0f) << 8) | this.buf[at + 2]!);
      if (this.len - at < size) break;
      if (size >= 12 && crc32Mpeg(this.buf, at, at + size) === 0) onSection(this.buf.slice(at, at + size));
      at += size;
    }
    if (at > 0) {
      this.buf.copyWithin(0, at, this.len);
      this.len -= at;
    }
  }
}

/** PMT PIDs of a PAT section, by program number (program 0, the network PID, left out). */
export function parsePat(s: Uint8Array): Array<{ program: number; pid: number }> | null {
  if (s[0] !== 0x00) return null;
  const end = s.length - 4;
  const out: Array<{ program: number; pid: number }> = [];
  for (let p = 8; p + 4 <= end; p += 4) {
    const program = (s[p]! << 8) | s[p + 1]!;
    const pid = ((s[p + 2]! & 0x1f) << 8) | s[p + 3]!;
    if (program !== 0) out.push({ program, pid });
  }
  return out;
}

/** A PMT section, or null when `s` isn't one. */
export function parsePmt(s: Uint8Array): ProgramMap | null {
  if (s[0] !== 0x02 || s.length < 16) return null;
  const programNumber = (s[3]! << 8) | s[4]!;
  const version = (s[5]! >> 1) & 0x1f;
  const end = s.length - 4;
  const programInfoLength = ((s[10]! & 0x0f) << 8) | s[11]!;
  const programDescriptors = descriptors(s, 12, Math.min(end, 12 + programInfoLength));
  const streams: TsStream[] = [];
  for (let p = 12 + programInfoLength; p + 5 <= end; ) {
    const streamType = s[p]!;
    const pid = ((s[p + 1]! & 0x1f) << 8) | s[p + 2]!;
    const infoLength = ((s[p + 3]! & 0x0f) << 8) | s[p + 4]!;
    const desc = descriptors(s, p + 5, Math.min(end, p + 5 + infoLength));
    streams.push(classify(pid, streamType, desc, programDescriptors));
    p += 5 + infoLength;
  }
  return { programNumber, version, streams };
}

interface Descriptor {
  tag: number;
  body: Uint8Array;
}

function descriptors(s: Uint8Array, from: number, to: number): Descriptor[] {
  const out: Descriptor[] = [];
  for (let p = from; p + 2 <= to; ) {
    const len = s[p + 1]!;
    out.push({ tag: s[p]!, body: s.subarray(p + 2, Math.min(to, p + 2 + len)) });
    p += 2 + len;
  }
  return out;
}

const fourcc = (b: Uint8Array) => String.fromCharCode(b[0] ?? 0, b[1] ?? 0, b[2] ?? 0, b[3] ?? 0);
const hex = (t: number) => `0x${t.toString(16).padStart(2, '0')}`;

/** What stream types mean (without descriptors). */
const STREAM_TYPES: Record<number, { kind: TsStream['kind']; codec: TsCodec | null; name: string; protected?: boolean }> = {
  0x01: { kind: 'video', codec: null, name: 'MPEG-1 video' },
  0x02: { kind: 'video', codec: null, name: 'MPEG-2 video' },
  0x03: { kind: 'audio', codec: 'mp3', name: 'MPEG-1 audio' },
  0x04: { kind: 'audio', codec: 'mp3', name: 'MPEG-2 audio' },
  0x0f: { kind: 'audio', codec: 'aac', name: 'AAC (ADTS)' },
  0x10: { kind: 'video', codec: null, name: 'MPEG-4 Part 2 video' },
  0x11: { kind: 'audio', codec: null, name: 'AAC in LATM' },
  0x1b: { kind: 'video', codec: 'h264', name: 'H.264' },
  0x1c: { kind: 'audio', codec: null, name: 'MPEG-4 audio without transport syntax' },
  0x24: { kind: 'video', codec: 'hevc', name: 'H.265' },
  0x2d: { kind: 'audio', codec: null, name: 'MPEG-H 3D audio' },
  0x33: { kind: 'video', codec: null, name: 'H.266 (VVC)' },
  0x42: { kind: 'video', codec: null, name: 'AVS video' },
  0x81: { kind: 'audio', codec: 'ac3', name: 'AC-3' },
  // ffmpeg's and Blu-ray's types for DTS and TrueHD (so they are named, not taken for data).
  0x82: { kind: 'audio', codec: null, name: 'DTS audio' },
  0x83: { kind: 'audio', codec: null, name: 'Dolby TrueHD audio' },
  0x85: { kind: 'audio', codec: null, name: 'DTS-HD audio' },
  0x86: { kind: 'audio', codec: null, name: 'DTS-HD audio' },
  0x87: { kind: 'audio', codec: 'eac3', name: 'E-AC-3' },
  0xd1: { kind: 'video', codec: null, name: 'Dirac video' },
  0xea: { kind: 'video', codec: null, name: 'VC-1 video' },
  // HLS SAMPLE-AES (Apple's stream types for encrypted elementary streams).
  0xdb: { kind: 'video', codec: null, name: 'H.264 encrypted with SAMPLE-AES', protected: true },
  0xcf: { kind: 'audio', codec: null, name: 'AAC encrypted with SAMPLE-AES', protected: true },
  0xc1: { kind: 'audio', codec: null, name: 'AC-3 encrypted with SAMPLE-AES', protected: true },
  0xc2: { kind: 'audio', codec: null, name: 'E-AC-3 encrypted with SAMPLE-AES', protected: true },
};

/** Private data (stream type 0x06) named by its descriptors, as DVB and ATSC signal it. */
function classifyPrivate(desc: Descriptor[], registration: string | undefined): { kind: TsStream['kind']; codec: TsCodec | null; name: string } {
  const tags = new Set(desc.map((d) => d.tag));
  if (tags.has(0x6a) || registration === 'AC-3') return { kind: 'audio', codec: 'ac3', name: 'AC-3' };
  if (tags.has(0x7a) || registration === 'EAC3') return { kind: 'audio', codec: 'eac3', name: 'E-AC-3' };
  if (tags.has(0x7b) || /^DTS[123H]$/.test(registration ?? '')) return { kind: 'audio', codec: null, name: 'DTS audio' };
  if (tags.has(0x7c)) return { kind: 'audio', codec: 'aac', name: 'AAC (ADTS)' };
  if (registration === 'Opus') return { kind: 'audio', codec: null, name: 'Opus (in MPEG-TS)' };
  if (registration === 'BSSD') return { kind: 'audio', codec: null, name: 'SMPTE 302M PCM audio' };
  if (registration === 'HEVC') return { kind: 'video', codec: 'hevc', name: 'H.265' };
  return { kind: 'other', codec: null, name: 'private data' };
}

function classify(pid: number, streamType: number, desc: Descriptor[], programDesc: Descriptor[]): TsStream {
  const registration = [...desc, ...programDesc].filter((d) => d.tag === 0x05 && d.body.length >= 4).map((d) => fourcc(d.body))[0];
  const known = streamType === 0x06 ? classifyPrivate(desc, registration) : STREAM_TYPES[streamType];
  const base = known ?? { kind: 'other' as const, codec: null, name: 'an unknown stream' };
  // HLS SAMPLE-AES also marks streams with a private data indicator ('zavc', 'aacd', 'ac3d', 'ec3d').
  const indicator = desc.filter((d) => d.tag === 0x0f && d.body.length >= 4).map((d) => fourcc(d.body))[0];
  const isProtected = ('protected' in base && base.protected === true) || (indicator !== undefined && /^(zavc|aacd|ac3d|ec3d|zach|zecd)$/.test(indicator));
  const lang = desc.find((d) => d.tag === 0x0a && d.body.length >= 3);
  const language = lang ? String.fromCharCode(lang.body[0]!, lang.body[1]!, lang.body[2]!).toLowerCase() : undefined;
  return {
    pid,
    streamType,
    kind: base.kind,
    codec: isProtected ? null : base.codec,
    name: `${base.name}${isProtected && !base.name.includes('SAMPLE-AES') ? ' (encrypted)' : ''} (stream type ${hex(streamType)})`,
    protected: isProtected,
    language: language && /^[a-z]{3}$/.test(language) ? language : undefined,
  };
}
