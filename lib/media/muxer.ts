/**
 * The one module that knows mp4-muxer (swap the muxer here and nowhere else).
 *
 * mp4-muxer runs with `fastStart: false` and a `StreamTarget`: sample data is written once,
 * sequentially, as each track's 0.5 s chunk completes, and the `moov` goes at the end. Never
 * `'in-memory'` (it holds the whole output). Around it we:
 * - keep each track in its input timescale (video `frameRate` and audio `sampleRate` are what
 *   mp4-muxer uses as the media timescale), so every tick survives the microsecond API exactly;
 * - hold back the file header (ftyp + mdat header) until the end: mp4-muxer patches the mdat size
 *   there at finalize, and the sink contract has no overlapping writes. A file whose header was
 *   never written is also never mistaken for a finished one;
 * - catch the `moov` at finalize and hand it to {@link patchMoov} (edit lists, verbatim stsd, ...);
 * - apply backpressure: mp4-muxer calls `onData` synchronously, we queue sink writes and let the
 *   caller await {@link Mp4MuxWriter.drain} when too much is in flight.
 */
import { Muxer, StreamTarget } from 'mp4-muxer';
import type { ByteSink } from '../io';
import type { DemuxedTrackInfo, Packet } from './demux';
import { patchMoov, type MoovPatch } from './moov-patch';

/**
 * A sample view whose `slice()` returns itself. mp4-muxer's stream writer defensively copies every
 * sample (`data.slice()`) before copying it again into the chunk it flushes; our packet bytes are
 * never reused or mutated (each read gets a fresh buffer), so that first copy was pure overhead:
 * ~18% of the engine's CPU time on the 1 GB benchmark.
 */
class ImmutableSampleView extends Uint8Array {
  override slice(): this {
    return this;
  }
}

/** Keeps PTS non-negative for mp4-muxer even with negative composition offsets; removed again by its 'offset' mode. */
const BIAS_US = 10_000_000;

/** Streams packets of up to one video and one audio track into an MP4 on a {@link ByteSink}. */
export class Mp4MuxWriter {
  private readonly muxer: Muxer<StreamTarget>;
  private header: Uint8Array | null = null;
  private moovParts: Uint8Array[] = [];
  private finalizing = false;
  private sampleBytes = 0;
  private inflight = new Set<Promise<void>>();
  private inflightBytes = 0;
  private writeError: unknown = null;
  private videoConfigured = false;
  private audioConfigured = false;

  constructor(
    private readonly sink: ByteSink,
    private readonly tracks: { video?: DemuxedTrackInfo; audio?: DemuxedTrackInfo },
  ) {
    const { video, audio } = tracks;
    this.muxer = new Muxer({
      target: new StreamTarget({ onData: (data, position) => this.onData(data, position) }),
      fastStart: false,
      // Per-track: the caller's first DTS is already 0; 'offset' also removes BIAS_US.
      firstTimestampBehavior: 'offset',
      ...(video
        ? {
            video: {
              codec: video.family as 'avc' | 'hevc' | 'vp9' | 'av1',
              width: Math.max(1, video.width),
              height: Math.max(1, video.height),
              frameRate: video.timescale,
            },
          }
        : {}),
      ...(audio
        ? {
            audio: {
              codec: audio.family as 'aac' | 'opus',
              numberOfChannels: Math.max(1, audio.channels),
              sampleRate: audio.timescale,
            },
          }
        : {}),
    });
  }

  /** Bytes handed to the sink and not yet confirmed written. */
  get queuedBytes(): number {
    return this.inflightBytes;
  }

  /**
   * Adds one packet (times already shifted so the track's first DTS is 0). Packets of one track
   * must come in decode order; interleave tracks by decode time.
   */
  add(kind: 'video' | 'audio', p: Packet, timescale: number): void {
    if (this.writeError) throw this.writeError;
    const toUs = 1e6 / timescale;
    const ptsUs = p.cts * toUs + BIAS_US;
    const durationUs = p.duration * toUs;
    const type = p.sync ? 'key' : 'delta';
    const data = new ImmutableSampleView(p.data.buffer as ArrayBuffer, p.data.byteOffset, p.data.byteLength);
    if (kind === 'video') {
      const meta = this.videoConfigured ? undefined : { decoderConfig: placeholderVideoConfig(this.tracks.video!) };
      this.videoConfigured = true;
      this.muxer.addVideoChunkRaw(data, type, ptsUs, durationUs, meta, (p.cts - p.dts) * toUs);
    } else {
      const meta = this.audioConfigured ? undefined : { decoderConfig: placeholderAudioConfig(this.tracks.audio!) };
      this.audioConfigured = true;
      this.muxer.addAudioChunkRaw(data, type, ptsUs, durationUs, meta);
    }
    this.sampleBytes += p.data.length;
  }

  /** Resolves when every queued sink write has completed (rejects with the first write error). */
  async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.race(this.inflight);
    if (this.writeError) throw this.writeError;
  }

  /**
   * Finalises: mp4-muxer writes its last chunks and its moov; the moov is patched and written,
   * then the held-back header. Returns the total file size. Does not close the sink.
   */
  async finish(patch: MoovPatch): Promise<number> {
    this.finalizing = true;
    this.muxer.finalize();
    await this.drain();
    if (!this.header) throw new Error('mp4-muxer wrote no header');
    const moov = concatMoov(this.moovParts);
    const patched = patchMoov(moov, patch);
    const moovAt = this.header.length + this.sampleBytes;
    await this.sink.write(moovAt, patched);
    await this.sink.write(0, this.header);
    return moovAt + patched.length;
  }

  private onData(data: Uint8Array, position: number): void {
    if (this.header === null) {
      // The first flush is the header written by the constructor: ftyp + mdat header.
      this.header = data.slice();
      return;
    }
    let chunk = data;
    let at = position;
    if (at < this.header.length) {
      // mp4-muxer patching the mdat size inside the header we hold back.
      const n = Math.min(chunk.length, this.header.length - at);
      this.header.set(chunk.subarray(0, n), at);
      chunk = chunk.subarray(n);
      at += n;
      if (chunk.length === 0) return;
    }
    if (this.finalizing) {
      // Everything from the end of the sample data on is the moov (mp4-muxer writes it last).
      const moovAt = this.header.length + this.sampleBytes;
      if (at + chunk.length > moovAt) {
        const split = Math.max(0, moovAt - at);
        this.moovParts.push(chunk.slice(split));
        chunk = chunk.subarray(0, split);
        if (chunk.length === 0) return;
      }
    }
    this.queueWrite(at, chunk);
  }

  private queueWrite(position: number, data: Uint8Array): void {
    const size = data.length;
    this.inflightBytes += size;
    const p: Promise<void> = this.sink.write(position, data).then(
      () => {
        this.inflightBytes -= size;
        this.inflight.delete(p);
      },
      (err: unknown) => {
        this.inflightBytes -= size;
        this.inflight.delete(p);
        this.writeError ??= err;
      },
    );
    this.inflight.add(p);
  }
}

function concatMoov(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/**
 * mp4-muxer builds its own sample descriptions from a decoder config at finalize; ours replace them
 * (see moov-patch), but it still needs something well-formed to build from: VP9 requires a colour
 * space, Opus an OpusHead-sized description.
 */
function placeholderVideoConfig(info: DemuxedTrackInfo): VideoDecoderConfig {
  return {
    codec: info.family === 'vp9' ? 'vp09.00.10.08' : info.codec,
    codedWidth: info.width,
    codedHeight: info.height,
    description: new Uint8Array(0),
    colorSpace: { primaries: 'bt709', transfer: 'bt709', matrix: 'bt709', fullRange: false },
  };
}

/** Opus needs an 18-byte OpusHead-like description to be accepted; AAC anything. */
function placeholderAudioConfig(info: DemuxedTrackInfo): AudioDecoderConfig {
  return { codec: info.codec, numberOfChannels: info.channels, sampleRate: info.sampleRate, description: new Uint8Array(19) };
}
