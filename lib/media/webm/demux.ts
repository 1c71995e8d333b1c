/**
 * WebM/Matroska to tracks, stream copy, one forward pass: VP8, VP9 and AV1 video, Opus and Vorbis
 * audio (codecs.ts `engineCodec`; VP8 and Vorbis fit only WebM output, `familyFits`).
 *
 * Why our own reader and not mediabunny's Matroska demuxer (which would also be a second media
 * library in the bundle): it must read through our {@link SequentialReader} front to back with
 * bounded memory (block by block: nothing but the element being parsed and one pending block per
 * track is held, whatever the cluster size), serve both tracks of one file from that one pass
 * through a {@link SharedPass} (as the MPEG-TS and fragmented-MP4 readers do), and give packets on
 * the exact clocks MP4 output needs. A 500 MB VP9 + Opus WebM remuxes to MP4 at the same peak RSS
 * as the same streams from an MP4 (~40 MB over the process's baseline) and reads (demux only) in
 * ~0.3 s.
 *
 * How it reads: the EBML header, then the Segment's children up to the first Cluster (Info and
 * Tracks are read whole and parsed; SeekHead, Cues, Tags, Chapters, Attachments, Void, CRC-32 and
 * anything unknown are skipped, so inputs without Cues are fine), then the Clusters: Timestamp,
 * SimpleBlocks and BlockGroups (Block, BlockDuration, ReferenceBlock) with all three lacings.
 * Segment and Clusters may have unknown sizes (live WebM, MediaRecorder): such a cluster ends
 * where the next Segment-level element starts.
 *
 * Timing: a block's time is its cluster's Timestamp plus its signed 16-bit offset, in
 * TimestampScale units; it is a presentation time, and none of these codecs reorders, so dts = cts.
 * - video and Vorbis: ticks of the segment's clock (1e9 / TimestampScale per second: 1000 for the
 *   usual 1 ms scale), exactly the block times;
 * - Opus: 48 kHz samples. Block times are whole milliseconds; Opus packets are 2.5-60 ms of
 *   48 kHz samples. The packets follow a sample clock started at the first block (each lasts what
 *   its TOC byte says) that keeps to the block times within half a packet and jumps over gaps, as
 *   the MPEG-TS audio does. The pre-skip (OpusHead, same as CodecDelay) becomes the edit list's
 *   media time, the way MP4 stores Opus: the output starts at the first decoded sample.
 * A packet lasts until the next one of its track; the last one as its BlockDuration, the track's
 * DefaultDuration, its Opus TOC, the Segment's Duration or the packet before says (first that
 * applies). Frames of a lace without times of their own share the block's duration evenly.
 * Time 0 of the output is the earliest start of the file's video and audio (whether or not both
 * are copied), so a cut or a live recording doesn't start with a long empty edit; for files that
 * start at 0 (what every muxer writes) the times are those of `ffmpeg -copyts`. `clockOrigin` lets
 * remux line up separate WebM renditions of one stream (DASH).
 *
 * What we refuse, with the reason: codecs other than those above (`unsupported`, naming the
 * CodecID), encrypted or compressed tracks (header stripping is undone), a second file joined
 * after the first, a missing wanted kind (`bad_input`), bad EBML (`corrupt_media` with the byte
 * offset) and a file cut short (`truncated`). Elements read whole have caps: Info/Tracks 16 MB,
 * CodecPrivate 1 MB, a block 64 MB.
 */
import { engineCodec } from '../../codecs';
import { VidmuxError } from '../../errors';
import type { ByteSource } from '../../io';
import { releaseBuffer, retainBuffer, SequentialReader } from '../byte-reader';
import type { DemuxedTrack, DemuxedTrackInfo, EditEntry, OpenTrackOptions, TrackWant } from '../demux';
import { SharedPass, type PassProducer, type TrackKind } from '../shared-pass';
import { handlerBox } from '../sample-entry-boxes';
import { blockFrames, blockHeader, KEYFRAME_FLAG, opusPacketSamples } from './block';
import { child, children, EbmlError, ID, readString, readUint, SEGMENT_CHILDREN, UNKNOWN_SIZE, vintLength } from './ebml';
import { av1SampleDescription, opusSampleDescription, parseOpusHead, parseVp9Header, vp9SampleDescription, type OpusHead } from './sample-entries';
import { parseInfo, parseTracks, type SegmentInfo, type WebmTrackEntry } from './tracks';

/** Whether `head` starts with the EBML magic (WebM, Matroska). */
export function isEbml(head: Uint8Array): boolean {
  return head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3;
}

const MAX_HEADER_ELEMENT_BYTES = 16 * 1024 * 1024;
/** A block (or block group) larger than this is not one we hold in memory. */
export const MAX_BLOCK_BYTES = 64 * 1024 * 1024;
/** Elements handled per producer step (each step is a promise round trip). */
const STEP_ELEMENTS = 64;
/** How much stream time the probe reads looking for a track's first block before calling it absent. */
const PROBE_SECONDS = 30;
const PROBE_QUEUE_BYTES = 32 * 1024 * 1024;

/** Cluster children we know (others are skipped only if they fit their cluster). */
const CLUSTER_CHILDREN: ReadonlySet<number> = new Set([ID.Timestamp, ID.SimpleBlock, ID.BlockGroup, ID.EncryptedBlock, ID.Void, ID.CRC32, 0x5854, 0xa7, 0xab]);
const KNOWN_SEGMENT_CHILDREN: ReadonlySet<number> = new Set([...SEGMENT_CHILDREN, ID.Void, ID.CRC32]);

/** The codecs we read, by CodecID: the name {@link engineCodec} knows them by. */
const CODECS: Record<string, { kind: TrackKind; name: string }> = {
  V_VP8: { kind: 'video', name: 'vp8' },
  V_VP9: { kind: 'video', name: 'vp9' },
  V_AV1: { kind: 'video', name: 'av1' },
  A_OPUS: { kind: 'audio', name: 'opus' },
  A_VORBIS: { kind: 'audio', name: 'vorbis' },
};

const corrupt = (label: string, what: string) => new VidmuxError('corrupt_media', `The ${label} is not a readable WebM: ${what}.`);

/** A frame waiting for its duration (the next frame's time). */
interface HeldFrame {
  data: Uint8Array;
  /** Time in the track's ticks; null for laced frames timed once the next block's time is known. */
  tick: number | null;
  sync: boolean;
}

/** One selected track and its clock. */
class TrackState {
  readonly timescale: number;
  /** Track ticks per TimestampScale unit (Opus: converted per value instead). */
  private readonly unitTicks: number;
  readonly opus: OpusHead | null;
  /** First block time (TimestampScale units), null before it. */
  firstUnits: number | null = null;
  /** Copy of the first frame (video: its header describes the stream). */
  firstFrame: Uint8Array | null = null;
  /** Frames of the latest block, waiting for the next block's time. */
  private held: HeldFrame[] = [];
  /** Where a lace without frame times ends, when its block says (BlockDuration, DefaultDuration). */
  private heldEnd: number | null = null;
  private heldStart = 0;
  private lastDuration = 0;
  /** The last Opus packet placed on the sample clock. */
  private lastPlaced: number | null = null;
  /** Opus sample clock: where the next packet goes. */
  private clock: number | null = null;

  constructor(
    readonly kind: TrackKind,
    readonly entry: WebmTrackEntry,
    readonly wanted: boolean,
    private readonly info: SegmentInfo,
    private readonly push: (kind: TrackKind, data: Uint8Array, tick: number, duration: number, sync: boolean) => void,
  ) {
    this.opus = entry.codecId === 'A_OPUS' ? opusHead(entry) : null;
    const scale = info.timestampScale;
    if (this.opus) {
      this.timescale = 48000;
      this.unitTicks = (scale * 48000) / 1e9;
    } else if (1e9 % scale === 0) {
      this.timescale = 1e9 / scale;
      this.unitTicks = 1;
    } else {
      this.timescale = 1e9;
      this.unitTicks = scale;
    }
  }

  /** A block time (TimestampScale units) in this track's ticks. */
  ticks(units: number): number {
    return Math.round(units * this.unitTicks);
  }

  /** Ticks of a duration in nanoseconds. */
  private nsTicks(ns: number): number {
    return Math.round((ns * this.timescale) / 1e9);
  }

  /** Presentation start in ns (Opus: its first decoded sample), once the first block is known. */
  get startNs(): number | null {
    if (this.firstUnits === null) return null;
    if (!this.opus) return this.firstUnits * this.info.timestampScale;
    const m0 = this.ticks(this.firstUnits);
    return ((m0 + this.opus.preSkip - this.codecDelayTicks) * 1e9) / 48000;
  }

  /** CodecDelay in this track's ticks (Opus). */
  get codecDelayTicks(): number {
    return this.nsTicks(this.entry.codecDelayNs);
  }

  /**
   * The frames of one block at `units` (TimestampScale units): finishes the frames held before
   * (now that their end is known) and holds these. `blockDuration` is the BlockGroup's, in units.
   */
  block(units: number, frames: Uint8Array[], key: boolean, blockDuration: number | null): void {
    const start = this.ticks(units);
    const video = this.kind === 'video';
    if (this.opus) {
      // Each frame on the sample clock, timed by its TOC from the block's time on.
      const placed: number[] = [];
      let source = start;
      for (const data of frames) {
        const samples = opusPacketSamples(data);
        const tick = this.place(source, samples);
        placed.push(tick);
        this.lastPlaced = tick;
        if (samples !== null) {
          source += samples;
          this.clock = tick + samples;
        }
      }
      this.release(placed[0]!);
      this.heldStart = placed[0]!;
      this.heldEnd = null;
      frames.forEach((data, i) => this.hold(data, placed[i]!, true));
      return;
    }
    this.release(start);
    this.heldStart = start;
    this.heldEnd = null;
    const defaultDuration = this.entry.defaultDurationNs === null ? null : this.nsTicks(this.entry.defaultDurationNs);
    const durationTicks = blockDuration === null ? null : this.ticks(blockDuration);
    if (frames.length === 1) {
      this.hold(frames[0]!, start, key);
      if (durationTicks !== null) this.heldEnd = start + durationTicks;
      return;
    }
    // A lace: frames share the block's duration when it is known, else the time up to the next block.
    const each = durationTicks !== null ? durationTicks / frames.length : defaultDuration;
    frames.forEach((data, i) => this.hold(data, each === null ? null : start + Math.round(i * each), video ? key && i === 0 : true));
    if (each !== null) this.heldEnd = start + Math.round(frames.length * each);
  }

  /** Places an Opus packet whose block time says `source` on the sample clock (see the module comment). */
  private place(source: number, samples: number | null): number {
    if (this.clock === null) this.clock = source;
    const diff = source - this.clock;
    const tolerance = Math.max((samples ?? 0) / 2, this.unitTicks);
    if (diff > tolerance || samples === null) this.clock = source;
    else if (diff < -tolerance && (this.lastPlaced === null || source > this.lastPlaced)) this.clock = source;
    return this.clock;
  }

  /** Holds a frame (and the read buffer it is a view of) until its duration is known. */
  private hold(data: Uint8Array, tick: number | null, sync: boolean): void {
    if (this.firstFrame === null) this.firstFrame = data.slice();
    retainBuffer(data.buffer);
    this.held.push({ data, tick, sync });
  }

  /** Pushes the held frames, the next frame being at `next` ticks (null at the end of the input). */
  release(next: number | null): void {
    const held = this.held;
    if (held.length === 0) return;
    this.held = [];
    let end = next;
    if (end === null) end = this.endOfLast(held);
    if (held.some((f) => f.tick === null)) {
      const each = (Math.max(end, this.heldStart) - this.heldStart) / held.length;
      held.forEach((f, i) => (f.tick = this.heldStart + Math.round(i * each)));
    }
    try {
      for (let i = 0; i < held.length; i++) {
        const f = held[i]!;
        const tick = f.tick!;
        const after = i + 1 < held.length ? held[i + 1]!.tick! : end;
        const duration = Math.max(0, after - tick);
        // (The pass holds the buffer from here on.)
        this.push(this.kind, f.data, tick, duration, f.sync);
        this.lastDuration = duration;
      }
    } finally {
      for (const f of held) releaseBuffer(f.data.buffer);
    }
  }

  /** Where the last held frames end: their block's or the track's duration, the Opus TOC, the segment's end, or the last packet's duration. */
  private endOfLast(held: HeldFrame[]): number {
    if (this.heldEnd !== null) return this.heldEnd;
    const last = held[held.length - 1]!;
    if (this.opus && last.tick !== null) {
      const samples = opusPacketSamples(last.data);
      if (samples !== null) return last.tick + samples;
    }
    if (this.entry.defaultDurationNs !== null && last.tick !== null) return last.tick + this.nsTicks(this.entry.defaultDurationNs);
    const from = last.tick ?? this.heldStart;
    if (this.info.duration !== null) {
      const segmentEnd = this.ticks(this.info.duration);
      if (segmentEnd > from) return segmentEnd;
    }
    return from + (last.tick === null ? this.lastDuration * held.length : this.lastDuration);
  }

  /** Drops held frames (on close). */
  discard(): void {
    for (const f of this.held) releaseBuffer(f.data.buffer);
    this.held = [];
  }
}

/** The OpusHead of an Opus track (CodecPrivate), or one made from the track's channels and CodecDelay. */
function opusHead(entry: WebmTrackEntry): OpusHead | null {
  if (entry.codecPrivate) return parseOpusHead(entry.codecPrivate);
  if (entry.channels > 2) return null;
  return {
    channels: entry.channels,
    preSkip: Math.round((entry.codecDelayNs * 48000) / 1e9),
    inputSampleRate: entry.sampleRate,
    outputGain: 0,
    mappingFamily: 0,
    mapping: null,
  };
}

/** The state of a cluster being read. */
interface ClusterState {
  /** End offset, Infinity for an unknown size. */
  end: number;
  /** Its Timestamp, null until read. */
  time: number | null;
}

/** One pass over a WebM/Matroska input; see the module comment. */
class WebmDemuxer implements PassProducer {
  readonly pass: SharedPass;
  private readonly reader: SequentialReader;
  private pos = 0;
  private segmentEnd = Infinity;
  private cluster: ClusterState | null = null;
  info: SegmentInfo = { timestampScale: 1_000_000, duration: null, title: undefined };
  entries: WebmTrackEntry[] = [];
  readonly tracks = new Map<number, TrackState>();
  selected: { video: WebmTrackEntry | null; audio: WebmTrackEntry | null } = { video: null, audio: null };
  private minUnits = Infinity;
  private maxUnits = -Infinity;
  private ended = false;

  constructor(
    private readonly source: ByteSource,
    private readonly want: { video: boolean; audio: boolean },
    readonly label: string,
    opts: OpenTrackOptions,
  ) {
    this.reader = new SequentialReader(source, opts.signal, opts.onBytes);
    this.pass = new SharedPass((['video', 'audio'] as const).filter((k) => want[k]), label);
    this.pass.attach(this);
  }

  /** Stream time seen so far, in seconds (for the probe's patience). */
  get secondsSeen(): number {
    return this.maxUnits > this.minUnits ? ((this.maxUnits - this.minUnits) * this.info.timestampScale) / 1e9 : 0;
  }

  /** Reads `length` bytes at `offset` (fewer only at the end when `allowShort`). */
  private async bytes(offset: number, length: number, allowShort = false): Promise<Uint8Array> {
    const got = this.reader.read(offset, length, allowShort);
    return got instanceof Uint8Array ? got : await got;
  }

  private truncated(what: string): VidmuxError {
    return new VidmuxError('truncated', `The ${this.label} ends early: ${what}.`);
  }

  /** The element header at `at`: ID, size (UNKNOWN_SIZE when unknown), payload offset; null at the end of the input. */
  private async header(at: number): Promise<{ id: number; size: number; data: number } | null> {
    const first = await this.bytes(at, 1, true);
    if (first.length === 0) return null;
    const idLength = vintLength(first[0]!);
    if (idLength === 0 || idLength > 4) throw corrupt(this.label, `invalid element ID 0x${first[0]!.toString(16).padStart(2, '0')} at byte ${at}`);
    let id = first[0]!;
    // The rest of the ID and the size's first byte.
    const rest = await this.bytes(at + 1, idLength, true);
    if (rest.length < idLength) throw this.truncated(`inside an element header at byte ${at}`);
    for (let i = 0; i < idLength - 1; i++) id = id * 256 + rest[i]!;
    const sizeFirst = rest[idLength - 1]!;
    const sizeLength = vintLength(sizeFirst);
    if (sizeLength === 0) throw corrupt(this.label, `invalid element size at byte ${at + idLength}`);
    let size = sizeFirst & (0xff >> sizeLength);
    let allOnes = size === 0xff >> sizeLength;
    if (sizeLength > 1) {
      const more = await this.bytes(at + 1 + idLength, sizeLength - 1, true);
      if (more.length < sizeLength - 1) throw this.truncated(`inside an element header at byte ${at}`);
      for (const b of more) {
        if (b !== 0xff) allOnes = false;
        size = size * 256 + b;
      }
    }
    if (!allOnes && size > Number.MAX_SAFE_INTEGER) throw corrupt(this.label, `element size ${size} at byte ${at} is beyond any file`);
    return { id, size: allOnes ? UNKNOWN_SIZE : size, data: at + idLength + sizeLength };
  }

  /** Reads an element's payload whole (at most `max` bytes). */
  private async payload(h: { id: number; size: number; data: number }, at: number, max: number, what: string): Promise<Uint8Array> {
    if (h.size === UNKNOWN_SIZE) throw corrupt(this.label, `its ${what} at byte ${at} has an unknown size`);
    if (h.size > max) throw corrupt(this.label, `its ${what} at byte ${at} is implausibly large (${h.size} bytes)`);
    const got = await this.bytes(h.data, h.size, true);
    if (got.length < h.size) throw this.truncated(`inside its ${what} at byte ${at}`);
    return got;
  }

  /** Turns bad EBML inside an element read whole into `corrupt_media`. */
  private parse<T>(what: string, f: () => T): T {
    try {
      return f();
    } catch (err) {
      if (err instanceof EbmlError) throw corrupt(this.label, `bad ${what}: ${err.message} at byte ${err.offset}`);
      throw err;
    }
  }

  /** The EBML header and the Segment's children up to the first Cluster. */
  async readHeaders(): Promise<void> {
    const ebml = await this.header(0);
    if (!ebml || ebml.id !== ID.EBML) throw corrupt(this.label, 'no EBML header');
    const ebmlBody = await this.payload(ebml, 0, 4096, 'EBML header');
    const docType = this.parse('EBML header', () => {
      const e = child(children(ebmlBody, 0, ebmlBody.length, ebml.data), ID.DocType);
      return e ? readString(ebmlBody, e) : 'matroska';
    });
    if (docType !== 'webm' && docType !== 'matroska') throw corrupt(this.label, `it is EBML of type "${docType}", not WebM or Matroska`);
    let at = ebml.data + ebml.size;
    // The Segment (Void or CRC-32 may come first).
    for (;;) {
      const h = await this.header(at);
      if (!h) throw this.truncated(`at byte ${at}, before its Segment`);
      if (h.id === ID.Segment) {
        this.segmentEnd = h.size === UNKNOWN_SIZE ? Infinity : h.data + h.size;
        at = h.data;
        break;
      }
      if ((h.id !== ID.Void && h.id !== ID.CRC32) || h.size === UNKNOWN_SIZE) throw corrupt(this.label, `element 0x${h.id.toString(16)} at byte ${at} where its Segment should start`);
      at = h.data + h.size;
    }
    let tracks = false;
    for (;;) {
      if (at >= this.segmentEnd) break;
      const h = await this.header(at);
      if (!h) {
        if (this.segmentEnd !== Infinity) throw this.truncated(`at byte ${at}, inside its Segment (which says it ends at byte ${this.segmentEnd})`);
        break;
      }
      if (h.id === ID.Cluster) break;
      this.checkFits(h, at, this.segmentEnd, 'Segment', KNOWN_SEGMENT_CHILDREN.has(h.id));
      if (h.id === ID.Info) {
        const b = await this.payload(h, at, MAX_HEADER_ELEMENT_BYTES, 'segment info');
        this.info = this.parse('segment info', () => parseInfo(b, 0, b.length, h.data));
      } else if (h.id === ID.Tracks) {
        const b = await this.payload(h, at, MAX_HEADER_ELEMENT_BYTES, 'track list');
        this.entries = this.parse('track list', () => parseTracks(b, 0, b.length, h.data));
        tracks = true;
      } else if (h.id === ID.EBML || h.id === ID.Segment) {
        throw corrupt(this.label, `a new EBML file starts at byte ${at} before any cluster`);
      }
      at = h.data + h.size;
    }
    if (!tracks) throw corrupt(this.label, 'it has no track list (Tracks) before its first cluster');
    this.pos = at;
  }

  /** Throws unless an element of known size fits its parent and (when `known`) the input. */
  private checkFits(h: { id: number; size: number; data: number }, at: number, parentEnd: number, parent: string, known: boolean): void {
    const name = `element 0x${h.id.toString(16)}`;
    if (h.size === UNKNOWN_SIZE) throw corrupt(this.label, `${name} at byte ${at} has an unknown size`);
    const end = h.data + h.size;
    if (end > parentEnd) throw corrupt(this.label, `${name} at byte ${at} (${h.size} bytes) overruns its ${parent}`);
    if (this.source.size !== null && end > this.source.size) {
      // A known element cut by the end of the file is a truncated file; an unknown one that claims
      // more than the file holds is more likely garbage.
      if (known) throw this.truncated(`inside ${name} at byte ${at} (it needs ${end} bytes, the file has ${this.source.size})`);
      throw corrupt(this.label, `${name} at byte ${at} claims ${h.size} bytes, past the end of the file`);
    }
  }

  /** Picks the first video and first audio track (the first we can read, else the first, to name it). */
  select(): void {
    for (const kind of ['video', 'audio'] as const) {
      const type = kind === 'video' ? 1 : 2;
      const of = this.entries.filter((e) => e.type === type).sort((a, b) => +b.enabled - +a.enabled);
      const pick = of.find((e) => CODECS[e.codecId]?.kind === kind) ?? of[0] ?? null;
      this.selected[kind] = pick;
      if (!pick) continue;
      const state = new TrackState(kind, pick, this.want[kind] && CODECS[pick.codecId] !== undefined, this.info, (k, data, tick, duration, sync) =>
        this.pass.push(k, { data, dts: tick, cts: tick, duration, sync }),
      );
      this.tracks.set(pick.number, state);
    }
  }

  /** Stops reading a track the caller won't get (an optional one that has no blocks). */
  stopTrack(kind: TrackKind): void {
    for (const [n, t] of this.tracks) {
      if (t.kind !== kind) continue;
      t.discard();
      this.tracks.delete(n);
    }
    this.pass.drop(kind);
  }

  async step(): Promise<boolean> {
    for (let n = 0; n < STEP_ELEMENTS; n++) {
      if (this.ended) return false;
      if (!(await this.element())) {
        this.finish();
        return false;
      }
    }
    return true;
  }

  close(): void {
    this.reader.close();
    for (const t of this.tracks.values()) t.discard();
  }

  /** After the last element: the held frames go with their last durations. */
  private finish(): void {
    this.ended = true;
    for (const t of this.tracks.values()) t.release(null);
  }

  /** Handles the element at `pos`; false at the end of the segment. */
  private async element(): Promise<boolean> {
    const at = this.pos;
    if (this.cluster && at >= this.cluster.end) this.cluster = null;
    if (at >= this.segmentEnd) return false;
    const h = await this.header(at);
    if (!h) {
      if (this.cluster && this.cluster.end !== Infinity) throw this.truncated(`at byte ${at}, inside a cluster (which says it ends at byte ${this.cluster.end})`);
      if (this.segmentEnd !== Infinity) throw this.truncated(`at byte ${at}, inside its Segment (which says it ends at byte ${this.segmentEnd})`);
      return false;
    }
    const cluster = this.cluster;
    if (cluster) {
      if (cluster.end === Infinity && (SEGMENT_CHILDREN.has(h.id) || h.id === ID.EBML || h.id === ID.Segment)) {
        // The end of a cluster of unknown size: handle this element at the Segment's level.
        this.cluster = null;
        return true;
      }
      this.checkFits(h, at, Math.min(cluster.end, this.segmentEnd), 'cluster', CLUSTER_CHILDREN.has(h.id));
      const end = h.data + h.size;
      switch (h.id) {
        case ID.Timestamp: {
          const b = await this.payload(h, at, 8, 'cluster timestamp');
          cluster.time = this.parse('cluster timestamp', () => readUint(b, { id: h.id, start: 0, data: 0, end: b.length }, h.data));
          break;
        }
        case ID.SimpleBlock:
          await this.simpleBlock(h.data, end, at);
          break;
        case ID.BlockGroup:
          await this.blockGroup(h, at);
          break;
        case ID.EncryptedBlock:
          throw new VidmuxError('unsupported', `The ${this.label} is encrypted (EncryptedBlock at byte ${at}); it can't be saved.`);
        default:
      }
      this.pos = end;
      return true;
    }
    if (h.id === ID.EBML || h.id === ID.Segment) {
      throw new VidmuxError('unsupported', `The ${this.label} holds several WebM files joined one after another (a new one starts at byte ${at}); save each on its own.`);
    }
    if (h.id === ID.Cluster) {
      const end = h.size === UNKNOWN_SIZE ? Infinity : h.data + h.size;
      if (end !== Infinity && end > this.segmentEnd) throw corrupt(this.label, `the cluster at byte ${at} (${h.size} bytes) overruns its Segment`);
      this.cluster = { end, time: null };
      this.pos = h.data;
      return true;
    }
    this.checkFits(h, at, this.segmentEnd, 'Segment', KNOWN_SEGMENT_CHILDREN.has(h.id));
    this.pos = h.data + h.size;
    return true;
  }

  /** The absolute time (TimestampScale units) of a block in the current cluster. */
  private blockUnits(relative: number, at: number): number {
    const time = this.cluster!.time;
    if (time === null) throw corrupt(this.label, `the block at byte ${at} comes before its cluster's Timestamp`);
    const units = time + relative;
    if (units < this.minUnits) this.minUnits = units;
    if (units > this.maxUnits) this.maxUnits = units;
    return units;
  }

  private async simpleBlock(data: number, end: number, at: number): Promise<void> {
    // The track number's length, then the rest of the header.
    const first = await this.bytes(data, 1);
    const numberLength = vintLength(first[0]!);
    if (numberLength === 0 || data + numberLength + 3 > end) throw corrupt(this.label, `bad block header at byte ${at}`);
    let number = first[0]! & (0xff >> numberLength);
    const rest = await this.bytes(data + 1, numberLength + 2);
    for (let i = 0; i < numberLength - 1; i++) number = number * 256 + rest[i]!;
    const relative = ((rest[numberLength - 1]! << 24) >> 16) | rest[numberLength]!;
    const flags = rest[numberLength + 1]!;
    const track = this.tracks.get(number);
    if (!track) return;
    const units = this.blockUnits(relative, at);
    track.firstUnits ??= units;
    // Blocks of a track we don't copy are skipped unread (its first one still placed the timeline).
    if (!track.wanted) return;
    const bodyAt = data + numberLength + 3;
    if (end - bodyAt > MAX_BLOCK_BYTES) throw corrupt(this.label, `the block at byte ${at} is implausibly large (${end - bodyAt} bytes)`);
    const body = await this.bytes(bodyAt, end - bodyAt);
    const frames = this.parse('block', () => blockFrames(body, 0, body.length, flags, bodyAt));
    this.deliver(track, units, frames.map(([s, e]) => body.subarray(s, e)), (flags & KEYFRAME_FLAG) !== 0, null);
  }

  private async blockGroup(h: { id: number; size: number; data: number }, at: number): Promise<void> {
    const b = await this.payload(h, at, MAX_BLOCK_BYTES + 1024 * 1024, 'block group');
    const { block, duration, reference } = this.parse('block group', () => {
      const list = children(b, 0, b.length, h.data);
      const d = child(list, ID.BlockDuration);
      return {
        block: child(list, ID.Block),
        duration: d ? readUint(b, d, h.data) : null,
        reference: list.some((e) => e.id === ID.ReferenceBlock),
      };
    });
    if (!block) return;
    const head = this.parse('block', () => blockHeader(b, block.data, block.end));
    if (!head) throw corrupt(this.label, `bad block header at byte ${h.data + block.data}`);
    const track = this.tracks.get(head.track);
    if (!track) return;
    const units = this.blockUnits(head.relative, at);
    track.firstUnits ??= units;
    if (!track.wanted) return;
    const frames = this.parse('block', () => blockFrames(b, block.data + head.length, block.end, head.flags, h.data));
    this.deliver(track, units, frames.map(([s, e]) => b.subarray(s, e)), !reference, duration);
  }

  private deliver(track: TrackState, units: number, frames: Uint8Array[], key: boolean, duration: number | null): void {
    const strip = track.entry.strippedHeader;
    if (strip) {
      frames = frames.map((f) => {
        const out = new Uint8Array(strip.length + f.length);
        out.set(strip);
        out.set(f, strip.length);
        return out;
      });
    }
    track.block(units, frames, key, duration);
  }
}

/**
 * Opens the wanted tracks of a WebM/Matroska `source` (see {@link isEbml}), reading it once for
 * all of them; see the module comment and `openTracks` in demux.ts.
 */
export async function openWebmTracks(
  source: ByteSource,
  want: { video?: TrackWant; audio?: TrackWant },
  opts: OpenTrackOptions & { label: string },
): Promise<{ video: DemuxedTrack | null; audio: DemuxedTrack | null }> {
  const label = opts.label;
  const d = new WebmDemuxer(source, { video: !!want.video, audio: !!want.audio }, label, opts);
  try {
    await d.readHeaders();
    d.select();
    const has = d.entries.filter((e) => e.type === 1 || e.type === 2).map((e) => e.codecId || '?').join(', ') || 'no audio or video';
    for (const kind of ['video', 'audio'] as const) {
      const e = d.selected[kind];
      if (!want[kind]) continue;
      if (!e) {
        if (want[kind] === true) throw new VidmuxError('bad_input', `The ${label} has no ${kind} track (it has ${has}).`);
        continue;
      }
      if (!CODECS[e.codecId]) {
        throw new VidmuxError(
          'unsupported',
          `The ${label}'s ${kind} is ${e.codecId || 'of no codec'} in Matroska; only VP8, VP9 and AV1 video and Opus and Vorbis audio are read from WebM/Matroska without re-encoding.`,
        );
      }
      if (e.encoding) throw new VidmuxError('unsupported', `The ${label}'s ${kind} is ${e.encoding} (Matroska content encoding); it can't be saved.`);
      if (e.codecId === 'A_OPUS' && !opusHead(e)) throw corrupt(label, `its Opus track has no valid OpusHead (CodecPrivate)`);
    }
    // Until each selected track's first block is known (the timeline's origin).
    const tracks = [...d.tracks.values()];
    const started = () => tracks.every((t) => t.firstUnits !== null);
    await d.pass.pumpUntil(() => started() || d.secondsSeen > PROBE_SECONDS || d.pass.maxQueued > PROBE_QUEUE_BYTES);
    for (const t of tracks) {
      if (!t.wanted || t.firstUnits !== null) continue;
      if (want[t.kind] === true) {
        throw new VidmuxError('corrupt_media', `The ${label}'s ${t.kind} track has no blocks ${d.pass.exhausted ? 'at all' : `in its first ${PROBE_SECONDS} s`}.`);
      }
      d.stopTrack(t.kind);
    }
    return describe(d);
  } catch (err) {
    d.pass.close();
    throw err;
  }
}

/** Track infos and readers once the first blocks are known. */
function describe(d: WebmDemuxer): { video: DemuxedTrack | null; audio: DemuxedTrack | null } {
  const tracks = [...d.tracks.values()];
  const starts = tracks.map((t) => t.startNs).filter((s): s is number => s !== null);
  const originNs = starts.length > 0 ? Math.min(...starts) : 0;
  const out: { video: DemuxedTrack | null; audio: DemuxedTrack | null } = { video: null, audio: null };
  for (const t of tracks) {
    if (!t.wanted || t.firstUnits === null) continue;
    const e = t.entry;
    const codec = CODECS[e.codecId]!;
    const family = engineCodec(codec.name)!.family;
    const ts = t.timescale;
    const first = t.ticks(t.firstUnits);
    const origin = Math.round((originNs * ts) / 1e9);
    /** An empty edit up to the track's start, then the track from `mediaTime` to its end. */
    const edits = (start: number, mediaTime: number): EditEntry[] => [
      ...(start > origin ? [{ segmentDuration: start - origin, mediaTime: -1 }] : []),
      { segmentDuration: 0, mediaTime },
    ];
    const base = {
      family,
      timescale: ts,
      movieTimescale: ts,
      hdlr: handlerBox(t.kind),
      language: e.language,
      title: d.info.title,
      fragmented: false,
      clockOrigin: originNs / 1e9,
      matroska: { codecId: e.codecId, codecPrivate: e.codecPrivate, codecDelayNs: e.codecDelayNs, seekPreRollNs: e.seekPreRollNs },
    };
    let info: DemuxedTrackInfo;
    if (t.kind === 'video') {
      let described: { stsd: Uint8Array; codec: string };
      if (e.codecId === 'V_VP9') described = vp9SampleDescription(e, t.firstFrame ? parseVp9Header(t.firstFrame) : null);
      else if (e.codecId === 'V_AV1') {
        const av1 = av1SampleDescription(e, e.codecPrivate, t.firstFrame);
        if (!av1) throw corrupt(d.label, 'its AV1 track has neither a configuration (CodecPrivate) nor a sequence header in its first frame');
        described = av1;
      } else described = { stsd: new Uint8Array(0), codec: 'vp8' };
      info = { ...base, kind: 'video', codec: described.codec, stsd: described.stsd, edits: edits(first, first), width: e.width, height: e.height, channels: 0, sampleRate: 0 };
    } else if (t.opus) {
      const head = t.opus;
      const start = first + head.preSkip - t.codecDelayTicks;
      info = {
        ...base,
        kind: 'audio',
        codec: 'opus',
        stsd: opusSampleDescription(head),
        edits: edits(start, first + head.preSkip),
        width: 0,
        height: 0,
        channels: head.channels,
        sampleRate: 48000,
      };
    } else {
      info = { ...base, kind: 'audio', codec: 'vorbis', stsd: new Uint8Array(0), edits: edits(first, first), width: 0, height: 0, channels: e.channels, sampleRate: Math.round(e.sampleRate) };
    }
    out[t.kind] = d.pass.track(t.kind, info);
  }
  if (!out.video && !out.audio) {
    d.pass.close();
    throw new VidmuxError('bad_input', `The ${d.label} has no video or audio track that can be saved.`);
  }
  return out;
}
