/**
 * Writing the output MP4: sample layout, sample tables, backpressure. The movie skeleton comes from
 * mp4-muxer, through mp4-muxer-adapter.ts (the only module that imports it).
 *
 * Division of labour, and why:
 * - **We write the sample bytes.** mp4-muxer can only place a sample by passing it through its
 *   writer, which copies it (`data.slice()`) and then copies it again into each flushed chunk.
 *   On the 1 GB benchmark those copies (and the garbage they made) were most of the engine's
 *   remaining CPU time and memory. Instead, the packets' zero-copy views into the input's read
 *   buffers go straight to the sink, coalesced into one write per contiguous run of input bytes.
 * - **We write the sample tables** (`stts`, `ctts`, `stss`, `stsz`, `stsc`, `stco`/`co64`), from
 *   typed arrays filled as packets pass. Once mp4-muxer no longer places the bytes it can't write
 *   `stsz`/`stsc`/`stco`; and feeding it every packet just for `stts`/`ctts`/`stss` cost a
 *   JS object per sample kept until the end (tens of thousands of survivors: old-generation growth,
 *   GC time, peak RSS) plus a microsecond round trip, for tables that are simple run-length
 *   encodings of ticks we already have exactly.
 * - **mp4-muxer builds the movie skeleton** ({@link Mp4Skeleton}): `ftyp`, `mvhd`, `trak`/`tkhd`,
 *   `mdia`/`mdhd`/`hdlr`, `minf` with its media header and `dinf`, for the declared tracks. It sees
 *   one placeholder sample per track, at the end; {@link patchMoov} then puts in our tables, the
 *   input's verbatim `stsd`/`hdlr`, edit lists, durations, languages and the title. It never holds
 *   sample data.
 * Around that we:
 * - hold back the file header (ftyp + a 64-bit mdat header) until the end, and write the mdat size
 *   into it ourselves; a file whose header was never written is never mistaken for a finished one;
 * - apply backpressure: writes are queued and the caller awaits {@link Mp4MuxWriter.waitForRoom}
 *   when too many bytes are in flight (in-flight writes keep their input read buffers alive).
 */
import { familyFits, type EngineAudio, type EngineVideo } from '../codecs';
import { VidmuxError } from '../errors';
import type { ByteSink } from '../io';
import { writeU32, writeU64 } from './boxes';
import { releaseBuffer, retainBuffer } from './byte-reader';
import type { DemuxedTrackInfo, Packet } from './demux';
import { patchMoov, type MoovPatch } from './moov-patch';
import { Mp4Skeleton } from './mp4-muxer-adapter';

/**
 * Output chunk length: the caller interleaves the tracks in runs of this much decode time, and each
 * run becomes one chunk (what mp4-muxer itself does), so players read the file in large pieces.
 */
export const CHUNK_SECONDS = 0.5;

/** Where one track's samples went and their timing, in the track's media timescale. */
class TrackLayout {
  sizes = new Uint32Array(4096);
  dts = new Float64Array(4096);
  /** Composition offset (cts - dts), may be negative. */
  cto = new Float64Array(4096);
  sync = new Uint8Array(4096);
  samples = 0;
  lastDuration = 0;
  chunkOffsets = new Float64Array(256);
  chunkSamples = new Uint32Array(256);
  chunks = 0;
  chunkStartDts = 0;

  addSample(size: number, dts: number, cto: number, sync: boolean, duration: number): void {
    if (this.samples === this.sizes.length) {
      this.sizes = grow(this.sizes);
      this.dts = grow(this.dts);
      this.cto = grow(this.cto);
      this.sync = grow(this.sync);
    }
    const i = this.samples++;
    this.sizes[i] = size;
    this.dts[i] = dts;
    this.cto[i] = cto;
    this.sync[i] = sync ? 1 : 0;
    this.lastDuration = duration;
    this.chunkSamples[this.chunks - 1]!++;
  }

  startChunk(offset: number, dts: number): void {
    if (this.chunks === this.chunkOffsets.length) {
      this.chunkOffsets = grow(this.chunkOffsets);
      this.chunkSamples = grow(this.chunkSamples);
    }
    this.chunkOffsets[this.chunks] = offset;
    this.chunkSamples[this.chunks++] = 0;
    this.chunkStartDts = dts;
  }

  /** This track's `stbl` tables, in the order ffmpeg writes them. */
  tables(): Uint8Array[] {
    const n = this.samples;
    // stts: sample i lasts until sample i+1's DTS; the last one its own duration.
    const delta = (i: number) => (i + 1 < n ? this.dts[i + 1]! - this.dts[i]! : this.lastDuration);
    const stts = runLengthBox('stts', n, delta, false);

    let keys = 0;
    for (let i = 0; i < n; i++) keys += this.sync[i]!;
    let stss: Uint8Array | null = null;
    if (keys < n) {
      stss = fullBox('stss', 4 + 4 * keys);
      writeU32(stss, 12, keys);
      for (let i = 0, p = 16; i < n; i++) {
        if (this.sync[i] === 0) continue;
        writeU32(stss, p, i + 1);
        p += 4;
      }
    }

    let needsCtts = false;
    let signed = false;
    for (let i = 0; i < n; i++) {
      if (this.cto[i] !== 0) needsCtts = true;
      if (this.cto[i]! < 0) signed = true;
    }
    // Version 1 reads the offsets as signed (written as two's complement either way).
    const ctts = needsCtts ? runLengthBox('ctts', n, (i) => this.cto[i]!, signed) : null;

    let entries = 0;
    let chunked = 0;
    for (let c = 0; c < this.chunks; c++) {
      if (c === 0 || this.chunkSamples[c] !== this.chunkSamples[c - 1]) entries++;
      chunked += this.chunkSamples[c]!;
    }
    // The same check as on an input's tables (demux.ts): stsc/stco must place every sample of stsz.
    if (chunked !== n) throw new VidmuxError('internal', `The output's chunks hold ${chunked} samples, its sample sizes ${n}; it was not saved.`);
    const stsc = fullBox('stsc', 4 + 12 * entries);
    writeU32(stsc, 12, entries);
    for (let c = 0, p = 16; c < this.chunks; c++) {
      if (c > 0 && this.chunkSamples[c] === this.chunkSamples[c - 1]) continue;
      writeU32(stsc, p, c + 1);
      writeU32(stsc, p + 4, this.chunkSamples[c]!);
      writeU32(stsc, p + 8, 1);
      p += 12;
    }

    const stsz = fullBox('stsz', 8 + 4 * n);
    writeU32(stsz, 16, n);
    for (let i = 0; i < n; i++) writeU32(stsz, 20 + 4 * i, this.sizes[i]!);

    const wide = this.chunks > 0 && this.chunkOffsets[this.chunks - 1]! > 0xffffffff;
    const stco = fullBox(wide ? 'co64' : 'stco', 4 + (wide ? 8 : 4) * this.chunks);
    writeU32(stco, 12, this.chunks);
    for (let c = 0; c < this.chunks; c++) {
      if (wide) writeU64(stco, 16 + 8 * c, this.chunkOffsets[c]!);
      else writeU32(stco, 16 + 4 * c, this.chunkOffsets[c]!);
    }
    return [stts, ...(stss ? [stss] : []), ...(ctts ? [ctts] : []), stsc, stsz, stco];
  }
}

/** An `stts`/`ctts`-style box: runs of (count, value) over `n` samples. */
function runLengthBox(type: string, n: number, value: (i: number) => number, version1: boolean): Uint8Array {
  let runs = 0;
  for (let i = 0; i < n; i++) if (i === 0 || value(i) !== value(i - 1)) runs++;
  const box = fullBox(type, 4 + 8 * runs);
  if (version1) box[8] = 1;
  writeU32(box, 12, runs);
  let p = 16;
  for (let i = 0; i < n; ) {
    const v = value(i);
    let j = i + 1;
    while (j < n && value(j) === v) j++;
    writeU32(box, p, j - i);
    writeU32(box, p + 4, v >>> 0);
    p += 8;
    i = j;
  }
  return box;
}

/** Display names of the families MP4 can't hold. */
const FAMILY_NAMES: Partial<Record<EngineVideo | EngineAudio, string>> = { vp8: 'VP8', vorbis: 'Vorbis' };

/**
 * Streams packets of up to one video and one audio track into an MP4 on a {@link ByteSink}.
 * Refuses (`unsupported`) a track whose family MP4 doesn't hold (WebM's VP8 and Vorbis).
 */
export class Mp4MuxWriter {
  private readonly skeleton: Mp4Skeleton;
  /** ftyp + 16-byte mdat header, written last. */
  private readonly header: Uint8Array;
  /** Sample bytes placed so far (the mdat payload). */
  private sampleBytes = 0;
  private readonly layouts: { video: TrackLayout; audio: TrackLayout } = { video: new TrackLayout(), audio: new TrackLayout() };
  private lastKind: 'video' | 'audio' | null = null;
  /** The contiguous run of input bytes not yet handed to the sink: `[runStart, runEnd)` of `runBuffer`, at file offset `runAt`. */
  private runBuffer: ArrayBufferLike | null = null;
  private runStart = 0;
  private runEnd = 0;
  private runAt = 0;
  private inflight = new Set<Promise<void>>();
  private inflightBytes = 0;
  private writeError: unknown = null;

  constructor(
    private readonly sink: ByteSink,
    private readonly tracks: { video?: DemuxedTrackInfo; audio?: DemuxedTrackInfo },
  ) {
    for (const info of [tracks.video, tracks.audio]) {
      if (info && !familyFits(info.family, 'mp4')) {
        throw new VidmuxError(
          'unsupported',
          `${FAMILY_NAMES[info.family] ?? info.family} ${info.kind} can only be saved as WebM: MP4 can't hold it without re-encoding.`,
        );
      }
    }
    // The header is known before the first packet: it fixes where the sample data starts.
    this.skeleton = new Mp4Skeleton(tracks);
    this.header = this.skeleton.header;
  }

  /** Bytes handed to the sink and not yet confirmed written. */
  get queuedBytes(): number {
    return this.inflightBytes;
  }

  /**
   * Adds one packet of a track whose first DTS is `firstDts` (the output's media time 0); times
   * are in the track's media timescale (`timescale`, the input's, kept as is).
   * Packets of one track must come in decode order. A new chunk starts whenever the track changes
   * or the current chunk holds {@link CHUNK_SECONDS} of decode time, so interleave the tracks in
   * runs of that length. The packet's bytes must stay unchanged until the write completes.
   */
  add(kind: 'video' | 'audio', p: Packet, firstDts: number, timescale: number): void {
    if (this.writeError) throw this.writeError;
    const dts = p.dts - firstDts;
    const at = this.header.length + this.sampleBytes;
    const layout = this.layouts[kind];
    if (kind !== this.lastKind || layout.chunks === 0 || dts - layout.chunkStartDts >= CHUNK_SECONDS * timescale) {
      layout.startChunk(at, dts);
      this.lastKind = kind;
    }
    const data = p.data;
    const size = data.byteLength;
    layout.addSample(size, dts, p.cts - p.dts, p.sync, p.duration);
    this.sampleBytes += size;
    if (size === 0) return;
    if (data.buffer === this.runBuffer && data.byteOffset === this.runEnd) {
      this.runEnd += size;
    } else {
      this.flushRun();
      // The input's read buffer must not be reused until this run's write completes.
      retainBuffer(data.buffer);
      this.runBuffer = data.buffer;
      this.runStart = data.byteOffset;
      this.runEnd = data.byteOffset + size;
      this.runAt = at;
    }
  }

  /** How many packets of `kind` the output's sample tables list (every one {@link add}ed). */
  samplesWritten(kind: 'video' | 'audio'): number {
    return this.layouts[kind].samples;
  }

  /**
   * Hands the pending run to the sink, then resolves once at most `maxBytes` are in flight
   * (rejects with the first write error).
   */
  async waitForRoom(maxBytes: number): Promise<void> {
    this.flushRun();
    while (this.inflightBytes > maxBytes && this.inflight.size > 0) await Promise.race(this.inflight);
    if (this.writeError) throw this.writeError;
  }

  /**
   * Finalises: the skeleton's moov gets our sample tables and the caller's patch; the moov is
   * written after the samples, then the held-back header. Returns the total file size.
   * Does not close the sink.
   */
  async finish(patch: MoovPatch): Promise<number> {
    this.flushRun();
    const moov = this.skeleton.finalize();
    await this.waitForRoom(0);
    const header = this.header;
    const kinds = [...(this.tracks.video ? ['video' as const] : []), ...(this.tracks.audio ? ['audio' as const] : [])];
    const patched = patchMoov(moov, {
      ...patch,
      tracks: patch.tracks.map((t, i) => ({ ...t, sampleTables: this.layouts[kinds[i]!].tables() })),
    });
    const moovAt = header.length + this.sampleBytes;
    // The mdat: a 64-bit size header (16 bytes) at the end of the held-back header.
    const mdatAt = header.length - 16;
    writeU32(header, mdatAt, 1);
    writeU64(header, mdatAt + 8, 16 + this.sampleBytes);
    await this.sink.write(moovAt, patched);
    await this.sink.write(0, header);
    return moovAt + patched.length;
  }

  private flushRun(): void {
    if (this.runBuffer === null) return;
    const buffer = this.runBuffer;
    const view = new Uint8Array(buffer, this.runStart, this.runEnd - this.runStart);
    this.runBuffer = null;
    this.queueWrite(this.runAt, view, buffer);
  }

  private queueWrite(position: number, data: Uint8Array, buffer: ArrayBufferLike): void {
    const size = data.length;
    this.inflightBytes += size;
    const done = () => {
      this.inflightBytes -= size;
      this.inflight.delete(p);
      releaseBuffer(buffer);
    };
    const p: Promise<void> = this.sink.write(position, data).then(done, (err: unknown) => {
      done();
      this.writeError ??= err;
    });
    this.inflight.add(p);
  }
}

function grow<T extends Uint8Array | Uint32Array | Float64Array>(a: T): T {
  const b = new (a.constructor as new (n: number) => T)(a.length * 2);
  b.set(a);
  return b;
}

/** A full box (version 0, flags 0) of `type` with `bodySize` bytes after version/flags, zero-filled. */
function fullBox(type: string, bodySize: number): Uint8Array {
  const out = new Uint8Array(12 + bodySize);
  writeU32(out, 0, out.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  return out;
}
