/**
 * From PES payloads to MP4 samples, for one elementary stream of an MPEG-TS input.
 *
 * Bytes: each stream's payload bytes are copied once, out of the 188-byte transport packets, into
 * a slab ({@link EsBuffer}); samples are views into it. Access units are converted to
 * length-prefixed NAL units in place where the start codes are 4 bytes long (x264, ffmpeg and most
 * encoders), and ADTS headers are squeezed out by moving each AAC frame down over the previous
 * header, so a track's samples lie back to back in the slab and the muxer writes them in long
 * runs (one write per run of contiguous samples, not one per sample). Slabs come from a pool and
 * go back once no sample in them is queued or being written.
 *
 * Times: video keeps the 90 kHz PTS/DTS of each PES (unwrapped by the caller), one access unit per
 * PES (a PES without PTS continues the previous one: some muxers split large frames). Audio runs
 * on its own sample clock: frame after frame at exactly 1024 (AAC), 1152/576 (MP3), 1536 (AC-3,
 * E-AC-3) samples, with the PES PTS used to find gaps; the 90 kHz PTS are rounded, so recomputing
 * every frame's time from them would put ±1 tick of jitter into a perfectly regular track.
 */
import { VidmuxError } from '../../errors';
import type { BufferPool } from '../../io';
import { leaseBuffer, releaseBuffer } from '../byte-reader';
import type { Packet } from '../demux';
import { NO_SYNC, parseAudioFrame, type AudioCodec, type AudioFrame } from './audio';
import {
  AVC_PPS,
  AVC_SPS,
  avcPpsId,
  convertibleInPlace,
  findNalUnits,
  HEVC_PPS,
  HEVC_SPS,
  HEVC_VPS,
  hevcPpsId,
  hevcVpsId,
  isParameterSet,
  isSyncAccessUnit,
  lengthPrefixedSize,
  nalType,
  parseAvcSps,
  parseHevcSps,
  startsAccessUnit,
  writeLengthPrefixed,
  writeLengthsInPlace,
  type VideoCodec,
} from './nal';
import {
  aacSampleDescription,
  ac3SampleDescription,
  avcCodecString,
  avcSampleDescription,
  eac3SampleDescription,
  hevcCodecString,
  hevcSampleDescription,
  mp3SampleDescription,
  mpegAudioObjectType,
} from './sample-entries';

/** 90 kHz: the MPEG-TS clock. */
export const TS_CLOCK = 90000;
/** A forward jump in timestamps larger than this is a discontinuity (a splice), not a gap to keep. */
export const MAX_GAP_SECONDS = 30;

/** Larger than any real coded picture (an 8K intra frame is a few MB). */
const MAX_ACCESS_UNIT_BYTES = 64 * 1024 * 1024;

/** How an elementary stream hands over its samples and names itself in errors. */
export interface EsContext {
  /** The input as error messages name it ("input", "video input"). */
  label: string;
  emit(p: Packet): void;
}

/** Why timestamps stop making sense: always named a discontinuity. */
export function discontinuity(label: string, kind: string, what: string): VidmuxError {
  return new VidmuxError(
    'corrupt_media',
    `The ${label}'s ${kind} ${what}: a discontinuity (e.g. an ad break or a spliced stream), which one MP4 track can't hold.`,
  );
}

/** A stream's payload bytes in pooled slabs; positions are absolute (bytes since the stream began). */
export class EsBuffer {
  bytes: Uint8Array;
  /** Absolute position of `bytes[0]`. */
  base = 0;
  /** Bytes of `bytes` in use. */
  end = 0;

  constructor(private readonly pool: BufferPool) {
    this.bytes = this.take(0);
  }

  get endAbs(): number {
    return this.base + this.end;
  }

  /** Makes room for `n` more bytes; when the slab is full, the bytes from `keepAbs` on move to a fresh one. */
  reserve(n: number, keepAbs: number): void {
    if (this.end + n <= this.bytes.length) return;
    const keep = Math.max(0, Math.min(keepAbs - this.base, this.end));
    const live = this.end - keep;
    const next = this.take(live + n);
    next.set(this.bytes.subarray(keep, this.end), 0);
    releaseBuffer(this.bytes.buffer);
    this.bytes = next;
    this.base += keep;
    this.end = live;
  }

  append(src: Uint8Array, from: number, to: number, keepAbs: number): void {
    const n = to - from;
    if (n <= 0) return;
    if (this.end + n > this.bytes.length) this.reserve(n, keepAbs);
    this.bytes.set(src.subarray(from, to), this.end);
    this.end += n;
  }

  close(): void {
    releaseBuffer(this.bytes.buffer);
  }

  /** A pooled slab, or a larger one-off buffer for what doesn't fit one. */
  private take(atLeast: number): Uint8Array {
    if (atLeast <= this.pool.size) {
      const buffer = this.pool.take();
      leaseBuffer(this.pool, buffer);
      return new Uint8Array(buffer);
    }
    return new Uint8Array(atLeast * 2);
  }
}

/** What the sample entry and the track need from a video stream. */
export interface VideoConfig {
  codec: string;
  width: number;
  height: number;
  stsd: Uint8Array;
}

/** An H.264 or HEVC stream: access units from PES packets. */
export class VideoStream {
  readonly buf: EsBuffer;
  /** The access unit being collected. */
  private au: { startAbs: number; pts: number; dts: number } | null = null;
  /** Whether payload bytes go into `au` (false while skipping a PES we can't place). */
  private collecting = false;
  private readonly nals: number[] = [];
  private scratch = new Uint8Array(0);
  private lastDuration = 0;
  /** Parameter sets seen before the configuration was made, by NAL type then id. */
  private readonly params = new Map<number, Map<number, Uint8Array>>();
  config: VideoConfig | null = null;
  /** PTS of the first PES (the stream's start for the timeline origin). */
  firstPts: number | null = null;
  /** PTS of the first access unit kept (the first sync sample with its parameter sets). */
  firstKeptPts: number | null = null;
  /** Access units dropped before the first sync sample. */
  dropped = 0;

  constructor(
    readonly codec: VideoCodec,
    private readonly ctx: EsContext,
    pool: BufferPool,
  ) {
    this.buf = new EsBuffer(pool);
  }

  /** Whether the track can be described (its first kept sample is known). */
  get ready(): boolean {
    return this.firstKeptPts !== null;
  }

  /** A PES starts; `head` holds its first payload bytes (to tell a continuation from a new frame). */
  pesStart(pts: number | null, dts: number | null, head: Uint8Array): void {
    if (pts === null) {
      if (!this.au) {
        this.collecting = false;
        return;
      }
      if (startsAccessUnit(this.codec, head)) {
        throw new VidmuxError('corrupt_media', `The ${this.ctx.label}'s video has a frame without a timestamp (a PES without PTS).`);
      }
      this.collecting = true;
      return;
    }
    if (this.firstPts === null) this.firstPts = pts;
    const d = dts ?? pts;
    this.finishAccessUnit(d);
    this.au = { startAbs: this.buf.endAbs, pts, dts: d };
    this.collecting = true;
  }

  payload(b: Uint8Array, from: number, to: number): void {
    if (!this.collecting) return;
    const start = this.au!.startAbs;
    this.buf.append(b, from, to, start);
    // A frame that never ends is a broken stream, not a reason to hold the file in memory.
    if (this.buf.endAbs - start > MAX_ACCESS_UNIT_BYTES) {
      throw new VidmuxError('corrupt_media', `The ${this.ctx.label}'s video has a frame of over ${MAX_ACCESS_UNIT_BYTES / 2 ** 20} MB (no next frame starts).`);
    }
  }

  /** The end of the input: the last access unit lasts as long as the one before. */
  end(): void {
    this.finishAccessUnit(null);
    this.collecting = false;
  }

  close(): void {
    this.buf.close();
  }

  /** Converts the collected access unit and emits it, now that the next one's DTS (its end) is known. */
  private finishAccessUnit(nextDts: number | null): void {
    const au = this.au;
    if (!au) return;
    this.au = null;
    let duration = this.lastDuration;
    if (nextDts !== null) {
      duration = nextDts - au.dts;
      if (duration <= 0) throw discontinuity(this.ctx.label, 'video', `timestamps jump back by ${((au.dts - nextDts) / TS_CLOCK).toFixed(3)} s`);
      if (duration > MAX_GAP_SECONDS * TS_CLOCK) throw discontinuity(this.ctx.label, 'video', `timestamps jump ahead by ${(duration / TS_CLOCK).toFixed(1)} s`);
      this.lastDuration = duration;
    }
    const buf = this.buf;
    const from = au.startAbs - buf.base;
    const to = buf.end;
    const nals = this.nals;
    findNalUnits(buf.bytes, from, to, nals);
    if (nals.length === 0) {
      buf.end = from;
      return;
    }
    const sync = isSyncAccessUnit(this.codec, buf.bytes, nals);
    if (!this.config) {
      this.collectParameterSets(buf.bytes, nals);
      this.config = sync ? this.configure() : null;
      if (!this.config) {
        // Before the first sync sample nothing decodes (ffmpeg -c copy drops these too).
        buf.end = from;
        this.dropped++;
        return;
      }
      this.firstKeptPts = au.pts;
    }
    let data: Uint8Array;
    if (convertibleInPlace(buf.bytes, nals, from, to)) {
      writeLengthsInPlace(buf.bytes, nals);
      data = buf.bytes.subarray(from, to);
    } else {
      // 3-byte start codes or stray zeros: rebuild the unit from a copy, in the same place.
      const size = lengthPrefixedSize(nals);
      if (this.scratch.length < to - from) this.scratch = new Uint8Array(Math.max(to - from, this.scratch.length * 2));
      this.scratch.set(buf.bytes.subarray(from, to));
      for (let k = 0; k < nals.length; k++) nals[k]! -= from;
      buf.end = from;
      buf.reserve(size, au.startAbs);
      const at = au.startAbs - buf.base;
      writeLengthPrefixed(this.scratch, nals, buf.bytes, at);
      buf.end = at + size;
      data = buf.bytes.subarray(at, at + size);
    }
    this.ctx.emit({ data, dts: au.dts, cts: au.pts, duration, sync });
  }

  private collectParameterSets(b: Uint8Array, nals: readonly number[]): void {
    for (let k = 0; k < nals.length; k += 2) {
      const type = nalType(this.codec, b[nals[k]!]!);
      if (!isParameterSet(this.codec, type)) continue;
      const nal = b.slice(nals[k]!, nals[k + 1]!);
      let id: number;
      try {
        id = this.parameterSetId(type, nal);
      } catch {
        continue; // cut short: not usable
      }
      let byId = this.params.get(type);
      if (!byId) this.params.set(type, (byId = new Map()));
      byId.set(id, nal);
    }
  }

  private parameterSetId(type: number, nal: Uint8Array): number {
    if (this.codec === 'h264') return type === AVC_SPS ? parseAvcSps(nal).id : avcPpsId(nal);
    if (type === HEVC_VPS) return hevcVpsId(nal);
    return type === HEVC_SPS ? parseHevcSps(nal).id : hevcPpsId(nal);
  }

  /** The sample entry from the parameter sets seen so far, or null while some are missing. */
  private configure(): VideoConfig | null {
    const list = (type: number) => [...(this.params.get(type)?.entries() ?? [])].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
    try {
      if (this.codec === 'h264') {
        const sps = list(AVC_SPS);
        const pps = list(AVC_PPS);
        if (!sps.length || !pps.length) return null;
        const info = parseAvcSps(sps[0]!);
        return { codec: avcCodecString(info), width: info.width, height: info.height, stsd: avcSampleDescription(info, sps, pps) };
      }
      const vps = list(HEVC_VPS);
      const sps = list(HEVC_SPS);
      const pps = list(HEVC_PPS);
      if (!vps.length || !sps.length || !pps.length) return null;
      const info = parseHevcSps(sps[0]!);
      const arrays = [
        { type: HEVC_VPS, nals: vps },
        { type: HEVC_SPS, nals: sps },
        { type: HEVC_PPS, nals: pps },
      ];
      return { codec: hevcCodecString(info), width: info.width, height: info.height, stsd: hevcSampleDescription(info, arrays) };
    } catch (err) {
      throw new VidmuxError('corrupt_media', `The ${this.ctx.label}'s video parameter sets (SPS) can't be read.`, { cause: err });
    }
  }
}

/** What the sample entry and the track need from an audio stream. */
export interface AudioConfig {
  codec: string;
  sampleRate: number;
  channels: number;
  stsd: Uint8Array;
}

/** Consecutive bytes without a frame sync beyond which the audio is not what its PMT says. */
const MAX_JUNK_BYTES = 64 * 1024;

/** An audio stream: frames from PES payloads, timed on the sample clock. */
export class AudioStream {
  readonly buf: EsBuffer;
  /** PES timestamps and where their payload starts (absolute), not yet matched to a frame. */
  private readonly marks: Array<{ at: number; pts: number }> = [];
  /** Next unparsed byte (absolute). */
  private cursor = 0;
  /** Where the next sample's bytes go (absolute): samples lie back to back from here down. */
  private out = 0;
  private junk = 0;
  /** Next sample's time in samples since `origin`, or null before the first timed frame. */
  private tick: number | null = null;
  /** The next frame's time by the input's own timestamps, in samples since `origin`. */
  private sourceTick = 0;
  /** Frames left out because they repeated time already written. */
  overlapped = 0;
  /** PTS (90 kHz) of the first timed frame: sample time 0. */
  origin: number | null = null;
  /** PTS of the first PES. */
  firstPts: number | null = null;
  config: AudioConfig | null = null;
  private first: AudioFrame | null = null;
  /** E-AC-3 frames of fewer than 6 blocks are joined into 1536-sample samples, as in MP4 they must. */
  private joined: { startAbs: number; dts: number; samples: number } | null = null;

  constructor(
    readonly codec: AudioCodec,
    private readonly ctx: EsContext,
    pool: BufferPool,
  ) {
    this.buf = new EsBuffer(pool);
  }

  get ready(): boolean {
    return this.config !== null;
  }

  pesStart(pts: number | null): void {
    if (pts === null) return;
    if (this.firstPts === null) this.firstPts = pts;
    this.marks.push({ at: this.buf.endAbs, pts });
  }

  payload(b: Uint8Array, from: number, to: number): void {
    const keep = this.joined ? this.joined.startAbs : this.cursor;
    this.buf.append(b, from, to, keep);
    if (this.out < this.buf.base) this.out = this.buf.base;
    this.parse();
  }

  end(): void {
    this.parse();
    this.flushJoined();
  }

  close(): void {
    this.buf.close();
  }

  private parse(): void {
    const buf = this.buf;
    for (;;) {
      const at = this.cursor - buf.base;
      if (at >= buf.end) return;
      const f = parseAudioFrame(this.codec, buf.bytes, at, buf.end);
      if (f === null) return;
      if (f === NO_SYNC) {
        this.cursor++;
        if (++this.junk > MAX_JUNK_BYTES) {
          throw new VidmuxError('corrupt_media', `The ${this.ctx.label}'s audio has no ${this.codec.toUpperCase()} frame in ${MAX_JUNK_BYTES} bytes (at stream byte ${this.cursor}).`);
        }
        continue;
      }
      this.junk = 0;
      const startAbs = this.cursor;
      this.cursor += f.length;
      this.frame(f, startAbs);
    }
  }

  private frame(f: AudioFrame, startAbs: number): void {
    let mark: { at: number; pts: number } | undefined;
    while (this.marks.length > 0 && this.marks[0]!.at <= startAbs) mark = this.marks.shift();
    if (this.tick === null || this.origin === null) {
      // Audio before the first timestamp can't be placed.
      if (!mark) return;
      this.configure(f);
      this.origin = mark.pts;
      this.tick = 0;
      this.sourceTick = 0;
    } else {
      this.checkFormat(f);
      if (mark) this.sourceTick = Math.round(((mark.pts - this.origin) * f.sampleRate) / TS_CLOCK);
      if (!this.place(f)) return;
    }
    const buf = this.buf;
    const dataAbs = startAbs + f.dataOffset;
    const size = f.length - f.dataOffset;
    if (dataAbs !== this.out) buf.bytes.copyWithin(this.out - buf.base, dataAbs - buf.base, dataAbs - buf.base + size);
    const sampleAbs = this.out;
    this.out += size;
    if (this.codec === 'eac3' && f.samples < 1536) {
      this.joined ??= { startAbs: sampleAbs, dts: this.tick, samples: 0 };
      this.joined.samples += f.samples;
      this.tick += f.samples;
      this.sourceTick += f.samples;
      if (this.joined.samples >= 1536) this.flushJoined();
      return;
    }
    const at = sampleAbs - buf.base;
    this.ctx.emit({ data: buf.bytes.subarray(at, at + size), dts: this.tick, cts: this.tick, duration: f.samples, sync: true });
    this.tick += f.samples;
    this.sourceTick += f.samples;
  }

  private flushJoined(): void {
    const j = this.joined;
    if (!j) return;
    this.joined = null;
    const buf = this.buf;
    const at = j.startAbs - buf.base;
    this.ctx.emit({ data: buf.bytes.subarray(at, this.out - buf.base), dts: j.dts, cts: j.dts, duration: j.samples, sync: true });
  }

  /**
   * Where the input's timestamps put this frame (`sourceTick`) against where the sample clock is
   * (`tick`): within half a frame it stays on the clock (PTS rounding and jitter); further ahead is
   * a gap, which the clock jumps over; further behind, the frame repeats time already written
   * (segments joined with an overlap) and is left out. Returns whether to keep the frame.
   * A jump back of more than a second, or ahead of more than {@link MAX_GAP_SECONDS}, is a
   * discontinuity.
   */
  private place(f: AudioFrame): boolean {
    const rate = f.sampleRate;
    const diff = this.sourceTick - this.tick!;
    if (diff > f.samples / 2) {
      if (diff > MAX_GAP_SECONDS * rate) throw discontinuity(this.ctx.label, 'audio', `timestamps jump ahead by ${(diff / rate).toFixed(1)} s`);
      this.flushJoined();
      this.tick = this.sourceTick;
    } else if (diff < -f.samples / 2) {
      if (diff < -rate) throw discontinuity(this.ctx.label, 'audio', `timestamps jump back by ${(-diff / rate).toFixed(3)} s`);
      this.sourceTick += f.samples;
      this.overlapped++;
      return false;
    }
    return true;
  }

  private configure(f: AudioFrame): void {
    const h = f.header;
    const unsupported = (what: string) =>
      new VidmuxError('unsupported', `The ${this.ctx.label}'s audio is ${what}; it can't be saved into MP4 without re-encoding.`);
    let codec: string;
    let stsd: Uint8Array;
    switch (h.codec) {
      case 'aac':
        if (h.channelConfig === 0) throw unsupported('AAC with its channel layout in the stream (channel configuration 0)');
        if (f.samples !== 1024) throw unsupported('AAC with several raw data blocks per ADTS frame');
        codec = `mp4a.40.${h.objectType}`;
        stsd = aacSampleDescription(h, f.channels, f.sampleRate, 0, f.length);
        break;
      case 'mp3':
        if (h.layer !== 3) throw unsupported(`MPEG audio layer ${h.layer === 2 ? 'II (MP2)' : 'I (MP1)'}`);
        codec = `mp4a.${mpegAudioObjectType(h).toString(16).toUpperCase()}`;
        stsd = mp3SampleDescription(h, f.channels, f.sampleRate, f.length);
        break;
      case 'ac3':
        codec = 'ac-3';
        stsd = ac3SampleDescription(h, f.sampleRate);
        break;
      case 'eac3':
        if (h.strmtyp === 1 || h.substreamid !== 0) throw unsupported('E-AC-3 with several substreams (e.g. 7.1)');
        codec = 'ec-3';
        stsd = eac3SampleDescription(h, f.sampleRate);
        break;
    }
    this.first = f;
    this.config = { codec, sampleRate: f.sampleRate, channels: f.channels, stsd };
  }

  /** One MP4 track has one sample entry: a stream that changes format midway can't be copied. */
  private checkFormat(f: AudioFrame): void {
    const a = this.first!;
    const same =
      f.sampleRate === a.sampleRate &&
      f.channels === a.channels &&
      (f.header.codec !== 'aac' || a.header.codec !== 'aac' || f.header.objectType === a.header.objectType) &&
      (f.header.codec !== 'mp3' || a.header.codec !== 'mp3' || (f.header.layer === a.header.layer && f.header.version === a.header.version)) &&
      (f.header.codec !== 'eac3' || (f.header.strmtyp !== 1 && f.header.substreamid === 0));
    if (!same) {
      throw new VidmuxError(
        'unsupported',
        `The ${this.ctx.label}'s audio changes format midway (${a.sampleRate} Hz, ${a.channels} channels to ${f.sampleRate} Hz, ${f.channels} channels); one MP4 track can't hold both.`,
      );
    }
  }
}
