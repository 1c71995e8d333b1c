/**
 * Rewrites the `moov` that mp4-muxer produces so the file carries what stream copy must keep and
 * mp4-muxer doesn't write:
 * - an edit list per track (`edts/elst`): mp4-muxer writes none, which turns AAC priming into
 *   audible time, delays B-frame video by its composition shift and loses each track's start offset;
 * - the input's own sample description (`stsd`, verbatim): mp4-muxer regenerates it from a WebCodecs
 *   config and in doing so drops or simplifies boxes (av1C without its sequence header, vpcC colour
 *   info, dOps channel mapping, colr/pasp/btrt); copying it keeps the decoder config byte-identical;
 * - the input's handler (`hdlr`, keeps the handler name), the track language (`mdhd`) and the title
 *   (`udta/meta/ilst/©nam`, where ffmpeg puts it);
 * - the sample tables (`stts`, `ctts`, `stss`, `stsc`, `stsz`, `stco`/`co64`), which the muxer
 *   module builds itself (see muxer.ts);
 * - `tkhd`/`mvhd` durations equal to the edit lists, `mdhd` duration equal to the sample durations,
 *   and a signed `ctts` (version 1) when composition offsets are negative.
 * The moov is written last (mp4-muxer with `fastStart: false`), so growing it never moves a sample:
 * chunk offsets stay valid. Untouched boxes are copied byte for byte.
 */
import { listBoxes, makeBox, readBoxHeader, readU32, readU64, writeU32, writeU64, type BoxRef } from './boxes';

/** One output edit. */
export interface OutputEdit {
  /** Length of this edit on the presentation timeline, in seconds. */
  seconds: number;
  /** Start in the track's media timescale, or -1 for an empty edit (a gap). */
  mediaTime: number;
}

/** What to put into one `trak` (in the order mp4-muxer writes them: video, then audio). */
export interface TrackPatch {
  stsd: Uint8Array;
  hdlr: Uint8Array;
  /** ISO 639-2/T code, e.g. `eng`, `und`. */
  language: string;
  edits: OutputEdit[];
  /** Sum of sample durations, in the media timescale (`mdhd` duration). */
  mediaDuration: number;
  /** Set when some composition offset is negative: `ctts` must be read as signed. */
  signedCompositionOffsets: boolean;
  /**
   * The sample tables (`stts`, `ctts`, `stss`, `stsc`, `stsz`, `stco`/`co64`, whole boxes), when the
   * muxer writes them itself: they then replace every table in the muxer's `stbl` but `stsd`.
   */
  sampleTables?: Uint8Array[];
}

/** Everything {@link patchMoov} changes. */
export interface MoovPatch {
  tracks: TrackPatch[];
  title?: string | undefined;
  /** New `mvhd` timescale (edit durations are converted to it); default: keep mp4-muxer's (1000). */
  movieTimescale?: number;
}

/** Returns a new `moov` with `patch` applied (see the module comment). */
export function patchMoov(moov: Uint8Array, patch: MoovPatch): Uint8Array {
  const header = readBoxHeader(moov, 0);
  if (!header || header.type !== 'moov') throw new Error('patchMoov: not a moov box');
  const children = listBoxes(moov, header.headerSize, header.size ?? moov.length);
  const mvhd = children.find((b) => b.type === 'mvhd');
  if (!mvhd) throw new Error('patchMoov: moov without mvhd');
  const movieTimescale = patch.movieTimescale ?? readTimescale(moov, mvhd);

  let trackIndex = 0;
  let movieDuration = 0;
  const parts: Uint8Array[] = [];
  for (const child of children) {
    if (child.type === 'trak') {
      const tp = patch.tracks[trackIndex++];
      if (!tp) throw new Error('patchMoov: more tracks than patches');
      const { bytes, duration } = patchTrak(moov, child, tp, movieTimescale);
      movieDuration = Math.max(movieDuration, duration);
      parts.push(bytes);
    } else if (child.type !== 'mvhd' && child.type !== 'udta') {
      parts.push(moov.subarray(child.start, child.end));
    }
  }
  if (trackIndex !== patch.tracks.length) throw new Error('patchMoov: fewer tracks than patches');
  const newMvhd = setTimeBox(moov.subarray(mvhd.start, mvhd.end), 4, movieDuration, null, movieTimescale);
  const udta = patch.title ? [titleUdta(patch.title)] : [];
  return makeBox('moov', newMvhd, ...parts, ...udta);
}

function patchTrak(moov: Uint8Array, trak: BoxRef, tp: TrackPatch, movieTimescale: number): { bytes: Uint8Array; duration: number } {
  const elst = editList(tp.edits, movieTimescale);
  const parts: Uint8Array[] = [];
  for (const child of listBoxes(moov, trak.body, trak.end)) {
    const bytes = moov.subarray(child.start, child.end);
    if (child.type === 'tkhd') {
      // tkhd v0 has track_ID and a reserved word between modification time and duration.
      parts.push(setTimeBox(bytes, 8, elst.totalDuration, null), makeBox('edts', elst.box));
    } else if (child.type === 'edts') {
      // replaced above
    } else if (child.type === 'mdia') {
      parts.push(patchMdia(moov, child, tp));
    } else {
      parts.push(bytes);
    }
  }
  return { bytes: makeBox('trak', ...parts), duration: elst.totalDuration };
}

function patchMdia(moov: Uint8Array, mdia: BoxRef, tp: TrackPatch): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const child of listBoxes(moov, mdia.body, mdia.end)) {
    const bytes = moov.subarray(child.start, child.end);
    if (child.type === 'mdhd') parts.push(setTimeBox(bytes, 4, tp.mediaDuration, packLanguage(tp.language)));
    else if (child.type === 'hdlr') parts.push(tp.hdlr);
    else if (child.type === 'minf') parts.push(rebuild(moov, child, 'stbl', (stbl) => patchStbl(moov, stbl, tp)));
    else parts.push(bytes);
  }
  return makeBox('mdia', ...parts);
}

function patchStbl(moov: Uint8Array, stbl: BoxRef, tp: TrackPatch): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const child of listBoxes(moov, stbl.body, stbl.end)) {
    if (child.type === 'stsd') {
      parts.push(tp.stsd);
      if (tp.sampleTables) parts.push(...tp.sampleTables);
    } else if (tp.sampleTables) {
      // replaced by ours (after stsd)
    } else if (child.type === 'ctts' && tp.signedCompositionOffsets) {
      // mp4-muxer writes offsets with setUint32, i.e. two's complement: version 1 reads them as signed.
      const ctts = moov.slice(child.start, child.end);
      ctts[8] = 1;
      parts.push(ctts);
    } else {
      parts.push(moov.subarray(child.start, child.end));
    }
  }
  return makeBox('stbl', ...parts);
}

/** Rebuilds container `box` with its child of type `childType` replaced by `replace(child)`. */
function rebuild(moov: Uint8Array, box: BoxRef, childType: string, replace: (child: BoxRef) => Uint8Array): Uint8Array {
  const parts = listBoxes(moov, box.body, box.end).map((c) => (c.type === childType ? replace(c) : moov.subarray(c.start, c.end)));
  return makeBox(box.type, ...parts);
}

/**
 * mvhd, tkhd and mdhd share a layout: version/flags, creation and modification time (32 or 64 bit),
 * a middle part (mvhd/mdhd: the 32-bit timescale; tkhd: track_ID + reserved), duration (32 or 64
 * bit), then the rest. Reads the timescale of an `mvhd` or `mdhd` box.
 */
function readTimescale(bytes: Uint8Array, box: BoxRef): number {
  const version = bytes[box.body]!;
  return readU32(bytes, box.body + 4 + (version === 1 ? 16 : 8));
}

/**
 * Returns a copy of time box `src` with its duration (for mdhd also its language; for mvhd
 * optionally its timescale) set, widened to version 1 when the duration needs 64 bits.
 */
function setTimeBox(
  src: Uint8Array,
  middleSize: number,
  duration: number,
  language: number | null,
  timescale?: number,
): Uint8Array {
  const h = readBoxHeader(src, 0)!;
  const body = h.headerSize;
  const version = src[body]!;
  const timeSize = version === 1 ? 8 : 4;
  const created = version === 1 ? readU64(src, body + 4) : readU32(src, body + 4);
  const modified = version === 1 ? readU64(src, body + 12) : readU32(src, body + 8);
  const middle = src.subarray(body + 4 + 2 * timeSize, body + 4 + 2 * timeSize + middleSize);
  const rest = src.subarray(body + 4 + 2 * timeSize + middleSize + timeSize, src.length);
  const v1 = version === 1 || duration > 0xffffffff;
  const n = v1 ? 8 : 4;
  const out = new Uint8Array(4 + 3 * n + middleSize + rest.length);
  out.set(src.subarray(body, body + 4), 0);
  out[0] = v1 ? 1 : 0;
  const put = (at: number, v: number) => (v1 ? writeU64(out, at, v) : writeU32(out, at, v));
  put(4, created);
  put(4 + n, modified);
  out.set(middle, 4 + 2 * n);
  if (timescale !== undefined) writeU32(out, 4 + 2 * n, timescale);
  put(4 + 2 * n + middleSize, Math.round(duration));
  out.set(rest, 4 + 3 * n + middleSize);
  if (language !== null) {
    // mdhd: language is the first 16 bits after the duration.
    const at = 4 + 3 * n + middleSize;
    out[at] = (language >> 8) & 0xff;
    out[at + 1] = language & 0xff;
  }
  return makeBox(h.type, out);
}

/** Builds an `elst` (version 0, or 1 when a value needs 64 bits) and the total edit duration. */
function editList(edits: OutputEdit[], movieTimescale: number): { box: Uint8Array; totalDuration: number } {
  const rows = edits.map((e) => ({ duration: Math.round(e.seconds * movieTimescale), mediaTime: Math.round(e.mediaTime) }));
  const v1 = rows.some((r) => r.duration > 0xffffffff || r.mediaTime > 0x7fffffff);
  const rowSize = v1 ? 20 : 12;
  const body = new Uint8Array(8 + rows.length * rowSize);
  body[0] = v1 ? 1 : 0;
  writeU32(body, 4, rows.length);
  let p = 8;
  for (const r of rows) {
    if (v1) {
      writeU64(body, p, r.duration);
      // -1 (empty edit) as a 64-bit two's complement.
      if (r.mediaTime < 0) {
        writeU32(body, p + 8, 0xffffffff);
        writeU32(body, p + 12, 0xffffffff);
      } else writeU64(body, p + 8, r.mediaTime);
      p += 16;
    } else {
      writeU32(body, p, r.duration);
      writeU32(body, p + 4, r.mediaTime < 0 ? 0xffffffff : r.mediaTime);
      p += 8;
    }
    // media_rate_integer = 1, media_rate_fraction = 0
    body[p + 1] = 1;
    p += 4;
  }
  return { box: makeBox('elst', body), totalDuration: rows.reduce((s, r) => s + r.duration, 0) };
}

/** Packs an ISO 639-2/T code into mdhd's 15 bits (three 5-bit letters, 'a' = 1). */
export function packLanguage(code: string): number {
  const c = /^[a-z]{3}$/.test(code) ? code : 'und';
  return ((c.charCodeAt(0) - 0x60) << 10) | ((c.charCodeAt(1) - 0x60) << 5) | (c.charCodeAt(2) - 0x60);
}

/** `udta/meta/ilst/©nam` with the title as UTF-8, the layout ffmpeg and iTunes write. */
function titleUdta(title: string): Uint8Array {
  const text = new TextEncoder().encode(title);
  const dataHeader = new Uint8Array(8);
  writeU32(dataHeader, 0, 1); // type 1: UTF-8
  const nam = makeBox('\xa9nam', makeBox('data', dataHeader, text));
  const hdlrBody = new Uint8Array(4 + 4 + 4 + 12 + 1);
  hdlrBody.set([0x6d, 0x64, 0x69, 0x72], 8); // 'mdir'
  hdlrBody.set([0x61, 0x70, 0x70, 0x6c], 12); // 'appl'
  const meta = makeBox('meta', new Uint8Array(4), makeBox('hdlr', hdlrBody), makeBox('ilst', nam));
  return makeBox('udta', meta);
}
