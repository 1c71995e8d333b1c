/**
 * What served bytes really are, for the contract tests of the fakes: the container from the first
 * bytes and the top-level layout, the codec from ffprobe, and what a codec string (RFC 6381, as
 * VidPickr's `vcodec` / `acodec`) says ffprobe must find.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffprobeJson } from '../../fixtures/ffmpeg';

const EBML_MAGIC = '1a45dfa3';

/** `webm` (EBML magic 1A45DFA3), `mp4` (`ftyp` box first), or null. */
export function sniffContainer(bytes: Uint8Array): 'webm' | 'mp4' | null {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.subarray(0, 4).toString('hex') === EBML_MAGIC) return 'webm';
  if (b.subarray(4, 8).toString('latin1') === 'ftyp') return 'mp4';
  return null;
}

/** Top-level MP4 box types, in order. */
export function mp4Boxes(bytes: Uint8Array): string[] {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  for (let i = 0; i + 8 <= b.length; ) {
    let size = b.readUInt32BE(i);
    const type = b.subarray(i + 4, i + 8).toString('latin1');
    if (size === 1) size = Number(b.readBigUInt64BE(i + 8));
    else if (size === 0) size = b.length - i;
    out.push(type);
    if (size < 8) break;
    i += size;
  }
  return out;
}

const EBML_NAMES: Record<number, string> = {
  0x1a45dfa3: 'EBML',
  0x18538067: 'Segment',
  0x114d9b74: 'SeekHead',
  0x1549a966: 'Info',
  0x1654ae6b: 'Tracks',
  0x1c53bb6b: 'Cues',
  0x1f43b675: 'Cluster',
  0x1254c367: 'Tags',
  0x1043a770: 'Chapters',
  0x1941a469: 'Attachments',
  0xec: 'Void',
  0xbf: 'CRC-32',
};

function vint(b: Buffer, i: number, keepMarker: boolean): { value: number; length: number } {
  const first = b[i]!;
  let length = 1;
  while (length <= 8 && !(first & (0x80 >> (length - 1)))) length++;
  let value = keepMarker ? first : first & ((0x80 >> (length - 1)) - 1);
  let allOnes = value === (0x80 >> (length - 1)) - 1;
  for (let k = 1; k < length; k++) {
    value = value * 256 + b[i + k]!;
    if (b[i + k] !== 0xff) allOnes = false;
  }
  return { value: !keepMarker && allOnes ? -1 : value, length };
}

/** The WebM Segment's children, in order (`Cues` before the first `Cluster` is YouTube's DASH layout). */
export function webmSegmentChildren(bytes: Uint8Array): string[] {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let i = 0;
  const header = (at: number) => {
    const id = vint(b, at, true);
    const size = vint(b, at + id.length, false);
    return { id: id.value, size: size.value, data: at + id.length + size.length };
  };
  const ebml = header(i);
  i = ebml.data + ebml.size;
  const segment = header(i);
  if (segment.id !== 0x18538067) return [];
  const end = segment.size < 0 ? b.length : Math.min(b.length, segment.data + segment.size);
  const out: string[] = [];
  for (i = segment.data; i < end; ) {
    const el = header(i);
    out.push(EBML_NAMES[el.id] ?? `0x${el.id.toString(16)}`);
    if (el.size < 0) break;
    i = el.data + el.size;
  }
  return out;
}

/** ffprobe of in-memory bytes (written to a temp file). */
export async function probeBytes(bytes: Uint8Array, ext: string): Promise<any> {
  const dir = mkdtempSync(join(tmpdir(), 'contract-probe-'));
  try {
    const file = join(dir, `track.${ext}`);
    writeFileSync(file, bytes);
    return await ffprobeJson(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What ffprobe reports of one stream that a codec string pins down. */
export interface ExpectedStream {
  codec_name: string;
  profile?: string;
  level?: number;
  pix_fmt?: string;
}

const AVC_PROFILES: Record<number, string> = { 0x42: 'Baseline', 0x4d: 'Main', 0x58: 'Extended', 0x64: 'High' };

/**
 * What a codec string says ffprobe must find: `av01.P.LLT.DD`, `vp09.PP.LL.DD`, `avc1.PPCCLL`,
 * `mp4a.40.2`, `opus`. VP9's level is not checked (ffprobe cannot read it from WebM).
 */
export function expectedStream(codec: string): ExpectedStream {
  const bitDepthFmt = (dd: string) => (dd === '08' ? 'yuv420p' : `yuv420p${Number(dd)}le`);
  let m = /^av01\.(\d)\.(\d\d)([MH])\.(\d\d)/.exec(codec);
  if (m) return { codec_name: 'av1', profile: ['Main', 'High', 'Professional'][Number(m[1])]!, level: Number(m[2]), pix_fmt: bitDepthFmt(m[4]!) };
  m = /^vp09\.(\d\d)\.(\d\d)\.(\d\d)/.exec(codec);
  if (m) return { codec_name: 'vp9', profile: `Profile ${Number(m[1])}`, pix_fmt: bitDepthFmt(m[3]!) };
  m = /^avc1\.([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(codec);
  if (m) return { codec_name: 'h264', profile: AVC_PROFILES[parseInt(m[1]!, 16)] ?? `idc ${parseInt(m[1]!, 16)}`, level: parseInt(m[3]!, 16), pix_fmt: 'yuv420p' };
  if (codec === 'mp4a.40.2') return { codec_name: 'aac', profile: 'LC' };
  if (codec === 'opus') return { codec_name: 'opus' };
  throw new Error(`no expectation for codec string ${codec}`);
}
