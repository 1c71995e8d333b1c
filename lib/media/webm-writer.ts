/**
 * Writing the output WebM: an EBML header, one Segment with SeekHead, Info, Tracks, Clusters of
 * SimpleBlocks and Cues, streamed to a {@link ByteSink} with the same shape and backpressure as
 * {@link Mp4MuxWriter} (muxer.ts), so remux's one interleaving loop drives either.
 *
 * Why our own writer and not mediabunny's (`Output` + `WebMOutputFormat` + `StreamTarget`):
 * - size: a minified ESM bundle of just mediabunny's WebM output path (packet sources, output,
 *   stream target; esbuild --bundle --minify) is 88 KB (23 KB gzipped); this module adds 9.6 KB
 *   (3.8 KB gzipped) to the engine it joins;
 * - timing: mediabunny takes packet times as float seconds and interleaves and clusters by them
 *   itself; we place blocks by the input's exact ticks (rounded once, to the ms WebM stores) in the
 *   order remux's loop hands them over, and apply the edit list / Opus pre-skip ourselves;
 * - memory and copies: its writer copies every packet into its own chunks and keeps the current
 *   cluster's bookkeeping; here packets go out as they come (below);
 * - it would need a second, differently shaped, sink adapter and interleaver next to remux's.
 * The format is small: what we write is listed below, and every byte of it is ours to test.
 *
 * Layout (TimestampScale 1 ms, as ffmpeg and browsers write WebM):
 * - EBML header (DocType webm, DocTypeVersion 4, DocTypeReadVersion 2);
 * - Segment with an 8-byte size; SeekHead (Info, Tracks, Cues, positions as fixed 8-byte uints),
 *   Info (TimestampScale, MuxingApp/WritingApp, Title, Duration as a 64-bit float), Tracks.
 *   All of that has a fixed size known up front, so, like the MP4 header, it is held back and
 *   written last, once the sizes and positions are known: a file whose header was never written
 *   is never mistaken for a finished one;
 * - Clusters: a new one on a video keyframe once the current one holds >= 1 s (>= 5 s or 5 MB
 *   for audio-only, or for video without a keyframe that long), or when a block's 16-bit relative
 *   timestamp would overflow. A cluster's header (ID, 8-byte size, Timestamp) is left as a hole and
 *   written when the cluster ends, so no byte is ever written twice and no cluster is held;
 * - SimpleBlocks: 4-9 bytes of header, then the packet bytes as they are. Small packets are copied
 *   with their headers into a pooled staging buffer, so the sink sees few large writes (a block
 *   header between every two packets would otherwise mean two writes per packet, each an IPC round
 *   trip on an OPFS writable); packets of {@link COPY_MAX_BYTES} or more go to the sink as zero-copy
 *   views of the input's read buffers, held ({@link retainBuffer}) until written;
 * - Cues at the end: a CuePoint for the first video block of a cluster when it is a keyframe (for
 *   audio-only, every cluster's first block): CueTime, CueTrack, CueClusterPosition (relative to
 *   the Segment's data) and CueRelativePosition.
 *
 * Timing: a block's time is its presentation time in ms, the time the MP4 output's edit list
 * gives it ({@link WebmTrack.offsetSeconds}: the edit list's offset and clock alignment from
 * remux), plus the track's CodecDelay (Matroska subtracts CodecDelay from block times; the
 * decoder then drops the pre-skip, so an MP4 Opus track whose edit list starts at its pre-skip
 * has its first block at 0 with CodecDelay = pre-skip, and its first audible sample at 0, as in
 * the MP4). If any track's first block would still be negative, every track is shifted by the
 * same amount (ffmpeg's avoid_negative_ts=make_non_negative), keeping them in sync.
 *
 * ffmpeg 4.1 differs here: it writes Opus blocks without adding CodecDelay (its reader subtracts
 * it), then shifts every stream to make the audio non-negative, so its own VP9/AV1 + Opus WebM
 * has the video one pre-skip (7 ms) late; alone, each stream's times agree with ours within 1 ms.
 *
 * Codec data: `info.matroska` (WebM inputs) as it is; from an MP4 `stsd`: AV1's CodecPrivate is
 * the `av1C` body, Opus's the OpusHead rebuilt from `dOps` with CodecDelay = pre-skip and
 * SeekPreRoll 80 ms (what ffmpeg writes); VP9 has none (ffmpeg writes none either).
 *
 * Limits: block times are whole ms (packets under 1 ms apart share a time, as in ffmpeg's WebM);
 * an edit list's end (MP4 end trimming) is not carried (no DiscardPadding), so the last Opus
 * packet decodes whole, as ffmpeg -c copy does; of several edits only where the first non-empty
 * one puts media time 0 is used.
 */
import { VidmuxError } from '../errors';
import type { ByteSink } from '../io';
import { findBox, fourcc, readU32 } from './boxes';
import { releaseBuffer, retainBuffer } from './byte-reader';
import type { DemuxedTrackInfo, Packet } from './demux';

/** One track of a {@link WebmMuxWriter}. */
export interface WebmTrack {
  info: DemuxedTrackInfo;
  /**
   * Seconds from `cts / timescale` to the packet's presentation time: where the input's edit
   * list (and clock alignment) puts media time 0 (remux's `timelineOffset`).
   */
  offsetSeconds: number;
  /**
   * Presentation time in seconds of the track's first packet (the earliest one: the codecs WebM
   * holds are not reordered by the container).
   */
  firstSeconds: number;
}

/** What one output track became: audible start and duration in seconds. */
export interface WebmTrackTiming {
  startSeconds: number;
  durationSeconds: number;
}

/** Packets smaller than this are copied into the staging buffer with their block header; larger ones are written in place. */
const COPY_MAX_BYTES = 64 * 1024;
/** Size of one staging buffer (one sink write when full). */
const STAGING_BYTES = 512 * 1024;
/** Staging buffers kept for reuse once written. */
const MAX_FREE_STAGING = 4;
/** With video: a keyframe starts a new cluster once the current one holds this much. */
const MIN_CLUSTER_MS = 1000;
/** Any track: a new cluster after this long or this many bytes (audio-only files, long GOPs). */
const MAX_CLUSTER_MS = 5000;
const MAX_CLUSTER_BYTES = 5 * 1024 * 1024;
/** Opus SeekPreRoll when the input has none: 80 ms, as ffmpeg and libwebm write. */
const OPUS_SEEK_PRE_ROLL_NS = 80_000_000;

/** Element IDs (with their length-marker bits, as written). */
const ID = {
  EBML: 0x1a45dfa3,
  EBMLVersion: 0x4286,
  EBMLReadVersion: 0x42f7,
  EBMLMaxIDLength: 0x42f2,
  EBMLMaxSizeLength: 0x42f3,
  DocType: 0x4282,
  DocTypeVersion: 0x4287,
  DocTypeReadVersion: 0x4285,
  Segment: 0x18538067,
  SeekHead: 0x114d9b74,
  Seek: 0x4dbb,
  SeekID: 0x53ab,
  SeekPosition: 0x53ac,
  Info: 0x1549a966,
  TimestampScale: 0x2ad7b1,
  MuxingApp: 0x4d80,
  WritingApp: 0x5741,
  Duration: 0x4489,
  Title: 0x7ba9,
  Tracks: 0x1654ae6b,
  TrackEntry: 0xae,
  TrackNumber: 0xd7,
  TrackUID: 0x73c5,
  TrackType: 0x83,
  FlagLacing: 0x9c,
  Language: 0x22b59c,
  CodecID: 0x86,
  CodecPrivate: 0x63a2,
  CodecDelay: 0x56aa,
  SeekPreRoll: 0x56bb,
  Video: 0xe0,
  PixelWidth: 0xb0,
  PixelHeight: 0xba,
  Audio: 0xe1,
  SamplingFrequency: 0xb5,
  Channels: 0x9f,
  Cluster: 0x1f43b675,
  Timestamp: 0xe7,
  SimpleBlock: 0xa3,
  Cues: 0x1c53bb6b,
  CuePoint: 0xbb,
  CueTime: 0xb3,
  CueTrackPositions: 0xb7,
  CueTrack: 0xf7,
  CueClusterPosition: 0xf1,
  CueRelativePosition: 0xf0,
} as const;

const CODEC_IDS: Partial<Record<DemuxedTrackInfo['family'], string>> = {
  vp8: 'V_VP8',
  vp9: 'V_VP9',
  av1: 'V_AV1',
  opus: 'A_OPUS',
  vorbis: 'A_VORBIS',
};

/**
 * ISO 639-2/T codes (what MP4 stores) whose bibliographic form (what Matroska's Language holds)
 * differs.
 */
const LANGUAGE_T_TO_B: Record<string, string> = {
  sqi: 'alb', hye: 'arm', eus: 'baq', mya: 'bur', zho: 'chi', ces: 'cze', nld: 'dut', fra: 'fre', kat: 'geo', deu: 'ger',
  ell: 'gre', isl: 'ice', mkd: 'mac', mri: 'mao', msa: 'may', fas: 'per', ron: 'rum', slk: 'slo', bod: 'tib', cym: 'wel',
};

// ---------------------------------------------------------------------------------------------
// EBML encoding.
// ---------------------------------------------------------------------------------------------

function idBytes(id: number): number[] {
  const out: number[] = [];
  for (let v = id; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return out;
}

/** Bytes of the shortest EBML size for `n` (all-ones values are reserved for "unknown"). */
function sizeLength(n: number): number {
  let len = 1;
  while (n >= 2 ** (7 * len) - 1) len++;
  if (len > 8) throw new RangeError(`EBML size ${n} too large`);
  return len;
}

/** Writes `n` as an EBML size of `len` bytes at `out[at]`; returns the end. */
function putSize(out: Uint8Array, at: number, n: number, len = sizeLength(n)): number {
  for (let i = len - 1; i >= 0; i--) {
    out[at + i] = n % 256;
    n = Math.floor(n / 256);
  }
  out[at] = out[at]! | (0x80 >> (len - 1));
  return at + len;
}

/** `v` big-endian in `len` bytes (default: the fewest, at least one). */
function uintBytes(v: number, len?: number): Uint8Array {
  let n = len ?? 1;
  if (len === undefined) while (v >= 2 ** (8 * n)) n++;
  const out = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

/** An element: ID, shortest size, body. */
function el(id: number, ...body: Uint8Array[]): Uint8Array {
  const idb = idBytes(id);
  const size = body.reduce((s, b) => s + b.length, 0);
  const out = new Uint8Array(idb.length + sizeLength(size) + size);
  out.set(idb, 0);
  let at = putSize(out, idb.length, size);
  for (const b of body) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

const uint = (id: number, v: number, len?: number) => el(id, uintBytes(v, len));
const str = (id: number, s: string) => el(id, new TextEncoder().encode(s));
function f64(id: number, v: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, v);
  return el(id, b);
}

// ---------------------------------------------------------------------------------------------
// Codec data.
// ---------------------------------------------------------------------------------------------

/** What a track entry says about its codec. */
interface CodecSetup {
  codecId: string;
  codecPrivate: Uint8Array | null;
  codecDelayNs: number;
  seekPreRollNs: number;
}

const corrupt = (what: string) => new VidmuxError('corrupt_media', `The input's ${what}; it can't be saved as WebM.`);

/** The body of child box `type` of the first sample entry of an MP4 `stsd`. */
function sampleEntryChild(stsd: Uint8Array, kind: 'video' | 'audio', type: string): Uint8Array | null {
  // stsd: 8-byte header, version/flags, entry count; then the sample entry.
  const entry = 16;
  if (stsd.length < entry + 8) return null;
  const entryEnd = Math.min(stsd.length, entry + readU32(stsd, entry));
  let children: number;
  if (kind === 'video') {
    children = entry + 86; // SampleEntry (8 + 8) + VisualSampleEntry fields (70)
  } else {
    // AudioSampleEntry: 8 + 8 + 20; QuickTime sound description versions 1 and 2 add 16 and 36.
    const version = (stsd[entry + 16]! << 8) | stsd[entry + 17]!;
    children = entry + 36 + (version === 1 ? 16 : version === 2 ? 36 : 0);
  }
  try {
    const box = findBox(stsd, type, children, entryEnd);
    return box ? stsd.subarray(box.body, box.end) : null;
  } catch {
    return null;
  }
}

/** OpusHead (RFC 7845, little-endian, with magic) from an MP4 `dOps` body (big-endian, no magic). */
export function opusHeadFromDops(dops: Uint8Array): Uint8Array {
  if (dops.length < 11 || dops[0] !== 0) throw corrupt('Opus configuration (dOps) is not readable');
  const family = dops[10]!;
  const channels = dops[1]!;
  const mappingBytes = family === 0 ? 0 : 2 + channels;
  if (dops.length < 11 + mappingBytes) throw corrupt('Opus configuration (dOps) is cut short');
  const head = new Uint8Array(19 + mappingBytes);
  head.set(new TextEncoder().encode('OpusHead'), 0);
  head[8] = 1; // version
  head[9] = channels;
  head[10] = dops[3]!; // pre-skip
  head[11] = dops[2]!;
  for (let i = 0; i < 4; i++) head[12 + i] = dops[7 - i]!; // input sample rate
  head[16] = dops[9]!; // output gain
  head[17] = dops[8]!;
  head[18] = family;
  head.set(dops.subarray(11, 11 + mappingBytes), 19);
  return head;
}

function codecSetup(info: DemuxedTrackInfo): CodecSetup {
  const codecId = CODEC_IDS[info.family];
  if (!codecId) throw new VidmuxError('unsupported', `${info.codec} can't be saved as WebM without re-encoding; choose MP4.`);
  const mk = info.matroska;
  if (mk) {
    if (mk.codecId !== codecId) throw new VidmuxError('unsupported', `The input's codec ${mk.codecId} can't be saved as WebM.`);
    if ((codecId === 'A_VORBIS' || codecId === 'V_AV1') && !mk.codecPrivate) throw corrupt(`${codecId} track has no CodecPrivate`);
    const seekPreRollNs = mk.seekPreRollNs || (codecId === 'A_OPUS' ? OPUS_SEEK_PRE_ROLL_NS : 0);
    return { codecId, codecPrivate: mk.codecPrivate, codecDelayNs: mk.codecDelayNs, seekPreRollNs };
  }
  switch (codecId) {
    case 'V_VP9':
      return { codecId, codecPrivate: null, codecDelayNs: 0, seekPreRollNs: 0 };
    case 'V_AV1': {
      const av1c = sampleEntryChild(info.stsd, 'video', 'av1C');
      if (!av1c || av1c.length < 4) throw corrupt('AV1 track has no configuration (av1C)');
      return { codecId, codecPrivate: av1c.slice(), codecDelayNs: 0, seekPreRollNs: 0 };
    }
    case 'A_OPUS': {
      const dops = sampleEntryChild(info.stsd, 'audio', 'dOps');
      if (!dops) throw corrupt('Opus track has no configuration (dOps)');
      const head = opusHeadFromDops(dops);
      const preSkip = head[10]! | (head[11]! << 8);
      return { codecId, codecPrivate: head, codecDelayNs: Math.round((preSkip * 1e9) / 48000), seekPreRollNs: OPUS_SEEK_PRE_ROLL_NS };
    }
    default:
      // VP8 and Vorbis exist only in WebM inputs, which carry `matroska`.
      throw corrupt(`${codecId} track has no Matroska codec data`);
  }
}

function trackEntry(number: number, info: DemuxedTrackInfo, codec: CodecSetup): Uint8Array {
  const lang = /^[a-z]{3}$/.test(info.language) ? (LANGUAGE_T_TO_B[info.language] ?? info.language) : 'und';
  const parts = [
    uint(ID.TrackNumber, number),
    uint(ID.TrackUID, number),
    uint(ID.TrackType, info.kind === 'video' ? 1 : 2),
    uint(ID.FlagLacing, 0),
    // Matroska's default language is English: "und" must be written.
    str(ID.Language, lang),
    str(ID.CodecID, codec.codecId),
  ];
  if (codec.codecPrivate) parts.push(el(ID.CodecPrivate, codec.codecPrivate));
  if (codec.codecDelayNs > 0) parts.push(uint(ID.CodecDelay, codec.codecDelayNs));
  if (codec.seekPreRollNs > 0) parts.push(uint(ID.SeekPreRoll, codec.seekPreRollNs));
  if (info.kind === 'video') {
    parts.push(el(ID.Video, ...(info.width > 0 ? [uint(ID.PixelWidth, info.width)] : []), ...(info.height > 0 ? [uint(ID.PixelHeight, info.height)] : [])));
  } else {
    parts.push(el(ID.Audio, ...(info.sampleRate > 0 ? [f64(ID.SamplingFrequency, info.sampleRate)] : []), ...(info.channels > 0 ? [uint(ID.Channels, info.channels)] : [])));
  }
  return el(ID.TrackEntry, ...parts);
}

/** `ms` rounded to the microsecond. */
function toMicros(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

// ---------------------------------------------------------------------------------------------
// The writer.
// ---------------------------------------------------------------------------------------------

/** Where a CuePoint points: a block's time and track, its cluster (from the Segment's data) and its place in it. */
interface CuePosition {
  time: number;
  track: number;
  cluster: number;
  relative: number;
}

/** Per-track state while packets flow. */
interface TrackOut {
  number: number;
  /** Added to `cts * 1000 / timescale` to get the block time in ms (presentation offset + CodecDelay + shift). */
  offsetMs: number;
  codecDelayMs: number;
  /** Earliest block time (ms, unrounded) and latest presentation end (ms) seen. */
  startMs: number;
  endMs: number;
  /** Blocks written. */
  blocks: number;
}

/** Streams packets of up to one video and one audio track into a WebM on a {@link ByteSink}. */
export class WebmMuxWriter {
  private readonly tracks: { video?: TrackOut; audio?: TrackOut } = {};
  private readonly entries: Uint8Array[] = [];
  private readonly title: string | undefined;
  /** File offset of the Segment's data (what SeekPosition and CueClusterPosition count from). */
  private readonly segmentData: number;
  private readonly headerLength: number;
  /** File offset of the next byte. */
  private pos: number;

  private clusterAt = -1;
  private clusterTs = 0;
  private clusterHeaderLength = 0;
  private clusterHasVideo = false;
  private clusterHasCue = false;
  private readonly cues: CuePosition[] = [];
  /** The file's first block, the cue of last resort (Cues may not be empty). */
  private firstBlock: CuePosition | null = null;

  private staging: Uint8Array | null = null;
  private stagingLength = 0;
  private stagingAt = 0;
  private readonly freeStaging: Uint8Array[] = [];

  private readonly inflight = new Set<Promise<void>>();
  private inflightBytes = 0;
  private writeError: unknown = null;

  /**
   * Checks the tracks and builds their entries, so a track WebM can't hold fails here, before
   * anything is written (`unsupported`, or `corrupt_media` for missing codec data).
   */
  constructor(
    private readonly sink: ByteSink,
    tracks: { video?: WebmTrack; audio?: WebmTrack },
    opts: { title?: string | undefined } = {},
  ) {
    this.title = opts.title || undefined;
    const given = (['video', 'audio'] as const).filter((k) => tracks[k]);
    if (given.length === 0) throw new VidmuxError('bad_input', 'Nothing to mux: no tracks.');
    const setups = given.map((k) => codecSetup(tracks[k]!.info));
    // Block times before CodecDelay is added, in ms; the earliest block must not be negative.
    const firstBlockMs = given.map((k, i) => (tracks[k]!.firstSeconds * 1e9 + setups[i]!.codecDelayNs) / 1e6);
    const shiftMs = Math.max(0, -Math.min(...firstBlockMs));
    given.forEach((k, i) => {
      const { info, offsetSeconds } = tracks[k]!;
      const setup = setups[i]!;
      const codecDelayMs = setup.codecDelayNs / 1e6;
      this.tracks[k] = { number: i + 1, offsetMs: offsetSeconds * 1000 + codecDelayMs + shiftMs, codecDelayMs, startMs: Infinity, endMs: -Infinity, blocks: 0 };
      this.entries.push(trackEntry(i + 1, info, setup));
    });
    const header = this.buildHeader(0, 0, 0);
    this.headerLength = header.bytes.length;
    this.segmentData = header.segmentData;
    this.pos = this.headerLength;
  }

  /** Bytes handed to the sink and not yet confirmed written. */
  get queuedBytes(): number {
    return this.inflightBytes;
  }

  /**
   * Adds one packet of `kind` (times in the track's `timescale`). `firstDts` is unused: WebM
   * block times are presentation times, placed by the track's {@link WebmTrack.offsetSeconds}.
   * Packets of one track must come in decode order, the tracks interleaved by time.
   */
  add(kind: 'video' | 'audio', p: Packet, _firstDts: number, timescale: number): void {
    if (this.writeError) throw this.writeError;
    const t = this.tracks[kind];
    if (!t) throw new VidmuxError('internal', `No ${kind} track was declared.`);
    const ms = (p.cts * 1000) / timescale + t.offsetMs;
    // Rounded to the µs first, so float noise never tips a .5 ms the other way.
    const exact = toMicros(ms);
    const time = Math.max(0, Math.round(exact));
    if (exact < t.startMs) t.startMs = exact;
    const end = toMicros(ms - t.codecDelayMs + (p.duration * 1000) / timescale);
    if (end > t.endMs) t.endMs = end;

    const key = kind === 'video' && p.sync;
    const hasVideo = this.tracks.video !== undefined;
    const rel = time - this.clusterTs;
    if (
      this.clusterAt < 0 ||
      rel > 32767 ||
      rel < -32768 ||
      (hasVideo && key && rel >= MIN_CLUSTER_MS) ||
      rel >= MAX_CLUSTER_MS ||
      this.pos - this.clusterAt >= MAX_CLUSTER_BYTES
    ) {
      this.startCluster(time);
    }
    // A cue for the cluster's first video block when it is a keyframe; audio-only: its first block.
    const cue = !this.clusterHasCue && (hasVideo ? kind === 'video' && !this.clusterHasVideo && key : true);
    if (cue || !this.firstBlock) {
      const here = { time, track: t.number, cluster: this.clusterAt - this.segmentData, relative: this.pos - this.clusterAt - 12 };
      this.firstBlock ??= here;
      if (cue) this.cues.push(here);
      this.clusterHasCue ||= cue;
    }
    if (kind === 'video') this.clusterHasVideo = true;
    this.writeBlock(t.number, time - this.clusterTs, p.sync, p.data);
    t.blocks++;
  }

  /** How many packets of `kind` went into the file (one block each). */
  samplesWritten(kind: 'video' | 'audio'): number {
    return this.tracks[kind]?.blocks ?? 0;
  }

  /** Hands staged bytes to the sink, then resolves once at most `maxBytes` are in flight (rejects with the first write error). */
  async waitForRoom(maxBytes: number): Promise<void> {
    this.flushStaging();
    while (this.inflightBytes > maxBytes && this.inflight.size > 0) await Promise.race(this.inflight);
    if (this.writeError) throw this.writeError;
  }

  /**
   * Ends the last cluster, writes the Cues after it and then the held-back header. Returns the
   * file size. Does not close the sink.
   */
  async finish(): Promise<number> {
    if (this.writeError) throw this.writeError;
    if (this.clusterAt < 0) throw new VidmuxError('corrupt_media', 'Nothing to write: no packets.');
    this.endCluster();
    this.flushStaging();
    if (this.cues.length === 0) this.cues.push(this.firstBlock!);
    const cues = el(
      ID.Cues,
      ...this.cues.map((c) =>
        el(
          ID.CuePoint,
          uint(ID.CueTime, c.time),
          el(ID.CueTrackPositions, uint(ID.CueTrack, c.track), uint(ID.CueClusterPosition, c.cluster), uint(ID.CueRelativePosition, c.relative)),
        ),
      ),
    );
    const cuesAt = this.pos;
    const end = cuesAt + cues.length;
    const duration = Math.max(...Object.values(this.tracks).map((t) => t.endMs), 0);
    const header = this.buildHeader(duration, cuesAt - this.segmentData, end - this.segmentData).bytes;
    if (header.length !== this.headerLength) throw new VidmuxError('internal', 'WebM header size changed.');
    await this.waitForRoom(0);
    await this.sink.write(cuesAt, cues);
    await this.sink.write(0, header);
    return end;
  }

  /** The audible start and duration of `kind` as written (seconds), once finished. */
  timing(kind: 'video' | 'audio'): WebmTrackTiming {
    const t = this.tracks[kind];
    if (!t || t.startMs === Infinity) return { startSeconds: 0, durationSeconds: 0 };
    return { startSeconds: t.startMs / 1000, durationSeconds: Math.max(0, t.endMs - t.startMs) / 1000 };
  }

  /** EBML header + Segment header + SeekHead + Info + Tracks; the same length whatever the values. */
  private buildHeader(durationMs: number, cuesPosition: number, segmentSize: number): { bytes: Uint8Array; segmentData: number } {
    const ebml = el(
      ID.EBML,
      uint(ID.EBMLVersion, 1),
      uint(ID.EBMLReadVersion, 1),
      uint(ID.EBMLMaxIDLength, 4),
      uint(ID.EBMLMaxSizeLength, 8),
      str(ID.DocType, 'webm'),
      uint(ID.DocTypeVersion, 4),
      uint(ID.DocTypeReadVersion, 2),
    );
    const info = el(
      ID.Info,
      uint(ID.TimestampScale, 1_000_000),
      str(ID.MuxingApp, 'Vidmux'),
      str(ID.WritingApp, 'Vidmux'),
      ...(this.title ? [str(ID.Title, this.title)] : []),
      f64(ID.Duration, durationMs),
    );
    const tracks = el(ID.Tracks, ...this.entries);
    const seek = (id: number, position: number) => el(ID.Seek, el(ID.SeekID, new Uint8Array(idBytes(id))), uint(ID.SeekPosition, position, 8));
    const seekLength = el(ID.SeekHead, seek(ID.Info, 0), seek(ID.Tracks, 0), seek(ID.Cues, 0)).length;
    const seekHead = el(ID.SeekHead, seek(ID.Info, seekLength), seek(ID.Tracks, seekLength + info.length), seek(ID.Cues, cuesPosition));
    const segment = new Uint8Array(12);
    segment.set(idBytes(ID.Segment), 0);
    putSize(segment, 4, segmentSize, 8);
    const parts = [ebml, segment, seekHead, info, tracks];
    const bytes = new Uint8Array(parts.reduce((s, b) => s + b.length, 0));
    let at = 0;
    for (const b of parts) {
      bytes.set(b, at);
      at += b.length;
    }
    return { bytes, segmentData: ebml.length + segment.length };
  }

  private clusterTimestampLength(): number {
    return uintBytes(this.clusterTs).length;
  }

  /** Ends the current cluster and leaves a hole for the next one's header at the current position. */
  private startCluster(time: number): void {
    this.endCluster();
    this.flushStaging();
    this.clusterAt = this.pos;
    this.clusterTs = time;
    // ID (4) + 8-byte size + Timestamp element (ID, 1-byte size, value).
    this.clusterHeaderLength = 12 + 2 + this.clusterTimestampLength();
    this.clusterHasVideo = false;
    this.clusterHasCue = false;
    this.pos += this.clusterHeaderLength;
    this.stagingAt = this.pos;
  }

  /** Writes the current cluster's header into its hole, now that its size is known. */
  private endCluster(): void {
    if (this.clusterAt < 0) return;
    const header = new Uint8Array(this.clusterHeaderLength);
    header.set(idBytes(ID.Cluster), 0);
    putSize(header, 4, this.pos - this.clusterAt - 12, 8);
    header.set(uint(ID.Timestamp, this.clusterTs), 12);
    this.queueWrite(this.clusterAt, header, null);
  }

  private writeBlock(track: number, rel: number, keyframe: boolean, data: Uint8Array): void {
    const size = data.byteLength;
    const bodySize = 4 + size; // track number (1 byte), relative time (2), flags (1)
    const headerSize = 1 + sizeLength(bodySize) + 4;
    const copy = size < COPY_MAX_BYTES;
    const staging = this.room(headerSize + (copy ? size : 0));
    let at = this.stagingLength;
    staging[at++] = ID.SimpleBlock;
    at = putSize(staging, at, bodySize);
    staging[at++] = 0x80 | track;
    staging[at++] = (rel >> 8) & 0xff;
    staging[at++] = rel & 0xff;
    staging[at++] = keyframe ? 0x80 : 0;
    if (copy) {
      staging.set(data, at);
      at += size;
    }
    this.stagingLength = at;
    this.pos += headerSize + size;
    if (copy) return;
    this.flushStaging();
    // The input's read buffer must not be reused until this write completes.
    retainBuffer(data.buffer);
    this.queueWrite(this.pos - size, data, data.buffer);
    this.stagingAt = this.pos;
  }

  /** The staging buffer, with room for `n` more bytes (flushing it first when full). */
  private room(n: number): Uint8Array {
    if (this.staging && this.stagingLength + n > this.staging.length) this.flushStaging();
    if (!this.staging) {
      this.staging = this.freeStaging.pop() ?? new Uint8Array(STAGING_BYTES);
      this.stagingLength = 0;
      this.stagingAt = this.pos;
    }
    return this.staging;
  }

  private flushStaging(): void {
    const staging = this.staging;
    if (!staging) return;
    this.staging = null;
    if (this.stagingLength === 0) {
      this.freeStaging.push(staging);
      return;
    }
    this.queueWrite(this.stagingAt, staging.subarray(0, this.stagingLength), null, () => {
      if (this.freeStaging.length < MAX_FREE_STAGING) this.freeStaging.push(staging);
    });
    this.stagingLength = 0;
  }

  private queueWrite(position: number, data: Uint8Array, buffer: ArrayBufferLike | null, recycle?: () => void): void {
    const size = data.length;
    this.inflightBytes += size;
    const done = () => {
      this.inflightBytes -= size;
      this.inflight.delete(p);
      if (buffer) releaseBuffer(buffer);
      recycle?.();
    };
    const p: Promise<void> = this.sink.write(position, data).then(done, (err: unknown) => {
      done();
      this.writeError ??= err;
    });
    this.inflight.add(p);
  }
}
