/**
 * The one module that imports mp4-muxer (swap the movie-skeleton writer here and nowhere else).
 *
 * What mp4-muxer does for us: it stamps the movie skeleton, i.e. the `ftyp` (plus a 64-bit `mdat`
 * header) and, at the end, a `moov` with `mvhd` and per track `trak`/`tkhd`/`mdia`/`mdhd`/`hdlr`/
 * `minf` with its media header (`vmhd`/`smhd`) and `dinf`, for the declared tracks. To make it
 * write a `trak` at all it is given one zero-length placeholder sample per track, with a
 * placeholder decoder config, just before it finalizes.
 *
 * Everything else in the output is ours: the sample bytes, their placement and the sample tables
 * (muxer.ts), and what moov-patch.ts puts into the skeleton's `moov` (our tables in place of the
 * placeholder's, the input's verbatim `stsd` and `hdlr`, edit lists, durations, languages, the
 * title). mp4-muxer runs with `fastStart: false` and a `StreamTarget`, so it never holds sample
 * data: {@link Mp4Skeleton} captures its two outputs, the header and the `moov`.
 */
import { Muxer, StreamTarget } from 'mp4-muxer';
import type { MuxableVideo as VideoCodecFamily } from '../codecs';
import type { DemuxedTrackInfo } from './demux';

/** What the skeleton needs to know about a track. */
export type SkeletonTrack = Pick<DemuxedTrackInfo, 'codec' | 'family' | 'width' | 'height' | 'channels' | 'sampleRate' | 'timescale'>;

/** A zero-length sample payload for the placeholder samples. */
const EMPTY = new Uint8Array(0);

/**
 * mp4-muxer's movie skeleton for up to one video and one audio track. Create it before placing
 * any sample (the header fixes where the sample data starts), call {@link finalize} once after.
 */
export class Mp4Skeleton {
  /**
   * The file header: `ftyp` + a 16-byte (64-bit) `mdat` header whose size is left for the caller
   * to write. The caller owns these bytes.
   */
  readonly header: Uint8Array;
  private readonly muxer: Muxer<StreamTarget>;
  private captured: Uint8Array | null = null;
  private finalizing = false;
  private moovParts: Array<{ at: number; bytes: Uint8Array }> = [];

  constructor(private readonly tracks: { video?: SkeletonTrack | undefined; audio?: SkeletonTrack | undefined }) {
    const { video, audio } = tracks;
    this.muxer = new Muxer({
      target: new StreamTarget({ onData: (data, position) => this.onData(data, position) }),
      fastStart: false,
      ...(video
        ? {
            video: {
              // The family names are mp4-muxer's (see codecs.ts).
              codec: video.family as VideoCodecFamily,
              width: Math.max(1, video.width),
              height: Math.max(1, video.height),
              frameRate: video.timescale,
            },
          }
        : {}),
      ...(audio
        ? {
            audio: {
              // MP3, AC-3 and E-AC-3 get an AAC skeleton: its stsd is replaced (moov-patch.ts)
              // and everything else mp4-muxer writes for an audio track is the same for them.
              codec: audio.family === 'opus' ? 'opus' : 'aac',
              numberOfChannels: Math.max(1, audio.channels),
              sampleRate: audio.timescale,
            },
          }
        : {}),
    });
    // mp4-muxer writes (and flushes) ftyp + a 16-byte mdat header in its constructor: we know
    // where the sample data starts before the first packet.
    if (!this.captured) throw new Error('mp4-muxer wrote no header');
    this.header = this.captured;
  }

  /**
   * Adds the placeholder samples, lets mp4-muxer finalize and returns its `moov` (whose sample
   * tables describe only the placeholders: moov-patch.ts replaces them).
   */
  finalize(): Uint8Array {
    // Everything mp4-muxer derives from these samples is replaced by patchMoov.
    if (this.tracks.video) {
      this.muxer.addVideoChunkRaw(EMPTY, 'key', 0, 1, { decoderConfig: placeholderVideoConfig(this.tracks.video) });
    }
    if (this.tracks.audio) {
      this.muxer.addAudioChunkRaw(EMPTY, 'key', 0, 1, { decoderConfig: placeholderAudioConfig(this.tracks.audio) });
    }
    this.finalizing = true;
    this.muxer.finalize();
    return concatAt(this.moovParts);
  }

  /** mp4-muxer's output: the header (in its constructor), empty sample chunks, then at finalize the mdat size and the moov. */
  private onData(data: Uint8Array, position: number): void {
    if (this.captured === null) {
      const t = data.slice();
      if (t.length < 16 || t[t.length - 12] !== 0x6d || t[t.length - 11] !== 0x64 || t[t.length - 10] !== 0x61 || t[t.length - 9] !== 0x74) {
        throw new Error('mp4-muxer header does not end with a 64-bit mdat header');
      }
      this.captured = t;
      return;
    }
    // Everything at or after the header's end is the moov (no sample bytes go through mp4-muxer);
    // writes inside the header are its mdat size patch, which the caller writes itself.
    if (!this.finalizing) return;
    const headerLength = this.captured.length;
    const skip = Math.max(0, headerLength - position);
    if (data.length <= skip) return;
    this.moovParts.push({ at: position + skip - headerLength, bytes: data.slice(skip) });
  }
}

/** Joins positioned pieces (mp4-muxer may write its moov in several) into one buffer. */
function concatAt(parts: Array<{ at: number; bytes: Uint8Array }>): Uint8Array {
  const size = parts.reduce((m, p) => Math.max(m, p.at + p.bytes.length), 0);
  const out = new Uint8Array(size);
  for (const p of parts) out.set(p.bytes, p.at);
  return out;
}

/**
 * mp4-muxer builds its own sample descriptions from a decoder config at finalize; ours replace them
 * (see moov-patch), but it still needs something well-formed to build from: VP9 requires a colour
 * space, Opus an OpusHead-sized description.
 */
function placeholderVideoConfig(info: SkeletonTrack): VideoDecoderConfig {
  return {
    codec: info.family === 'vp9' ? 'vp09.00.10.08' : info.codec,
    codedWidth: info.width,
    codedHeight: info.height,
    description: new Uint8Array(0),
    colorSpace: { primaries: 'bt709', transfer: 'bt709', matrix: 'bt709', fullRange: false },
  };
}

/** Opus needs an 18-byte OpusHead-like description to be accepted; AAC anything. */
function placeholderAudioConfig(info: SkeletonTrack): AudioDecoderConfig {
  const codec = info.family === 'opus' || info.family === 'aac' ? info.codec : 'mp4a.40.2';
  return { codec, numberOfChannels: info.channels, sampleRate: info.sampleRate, description: new Uint8Array(19) };
}
