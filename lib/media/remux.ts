/**
 * The engine's entry point: stream-copy video and audio (from MP4, MPEG-TS or WebM inputs: separate
 * files, or one file holding both) into one MP4 (muxer.ts) or WebM (webm-writer.ts).
 * Web-standard APIs only, so the same code runs in Node, the offscreen document and workers.
 */
import { familyFits, type OutputContainer } from '../codecs';
import { toVidmuxError, VidmuxError } from '../errors';
import type { ByteSink, ByteSource } from '../io';
import { ProgressMeter, type Progress } from '../progress';
import { openTrack, openTracks, type DemuxedTrack, type DemuxedTrackInfo, type OpenedTracks, type OpenTrackOptions, type Packet } from './demux';
import type { OutputEdit, TrackPatch } from './moov-patch';
import { CHUNK_SECONDS, Mp4MuxWriter } from './muxer';
import { WebmMuxWriter } from './webm-writer';

/** Input and output of {@link remux}. */
export interface RemuxOptions {
  /**
   * MP4 or MPEG-TS whose first video track is copied. Given the same object as `audio`, the file is
   * read once for both (as `input` with `inputKinds: ['video', 'audio']`).
   */
  video?: ByteSource;
  /** MP4 or MPEG-TS whose first audio track is copied. */
  audio?: ByteSource;
  /**
   * One file holding both video and audio (an HLS stream's MPEG-TS or fragmented-MP4 segments
   * joined as they download, or any MP4): its first video and first audio track are copied,
   * reading it once. It supplies the kinds not given as `video`/`audio` (see `inputKinds`), so
   * `{ input, audio }` takes the video from `input` and the audio from a separate rendition, whose
   * track then replaces `input`'s own audio (which is not read).
   */
  input?: ByteSource;
  /**
   * Which kinds to take from `input`. By default every kind not given separately, each only if
   * `input` has it (an audio-only or video-only stream is fine; one with neither is `bad_input`).
   * When listed here, a kind must be in `input` (`bad_input` otherwise) and must not also be given
   * as `video`/`audio` (`bad_input`): e.g. `['video']` saves only the video of a stream that also
   * has audio.
   */
  inputKinds?: ReadonlyArray<'video' | 'audio'>;
  /** Where the output goes; closed on success, aborted on any failure or cancel. */
  sink: ByteSink;
  /**
   * The output container: `mp4` (default) or `webm`. WebM holds only VP8, VP9, AV1, Opus and
   * Vorbis (codecs.ts `familyFits`); any other track is `unsupported` before anything is written.
   */
  container?: OutputContainer;
  /** Title to store; defaults to the video input's title, then the audio input's. */
  title?: string;
  signal?: AbortSignal;
  /** Progress over input bytes read, at most 10 times a second and once at the end. */
  onProgress?: (progress: Progress) => void;
}

/** One stream of the output. */
export interface StreamSummary {
  kind: 'video' | 'audio';
  /** RFC 6381 codec string, e.g. `avc1.64001f`. */
  codec: string;
  language: string;
  packets: number;
  /**
   * Presentation start (after the edit list), seconds. WebM: of the first audible sample (after
   * Opus's pre-skip).
   */
  startSeconds: number;
  /**
   * Presentation duration (the edit list's), seconds. WebM has no edit lists: up to the end of
   * the last packet.
   */
  durationSeconds: number;
  width?: number;
  height?: number;
  channels?: number;
  sampleRate?: number;
}

/** What {@link remux} made. */
export interface RemuxSummary {
  container: OutputContainer;
  /** Output size in bytes. */
  bytes: number;
  /** Longest stream end, seconds. */
  durationSeconds: number;
  title?: string;
  streams: StreamSummary[];
}

/**
 * Queued sink writes above this make the muxing loop wait until half of it is written. In-flight
 * writes keep their input read buffers alive, so this bounds that memory too.
 */
const MAX_QUEUED_WRITE_BYTES = 4 * 1024 * 1024;

/** Per-track bookkeeping while packets flow. */
interface TrackState {
  kind: 'video' | 'audio';
  track: DemuxedTrack;
  info: DemuxedTrackInfo;
  head: Packet | null;
  /** Input DTS of the first packet: the output's media time 0. */
  firstDts: number;
  /** Input DTS just after the last packet. */
  endDts: number;
  /** Earliest composition time seen (the first presented sample). */
  minCts: number;
  /** Latest presentation end (cts + duration) seen. */
  endCts: number;
  packets: number;
  signedOffsets: boolean;
  /** Seconds added to DTS to place this track on the shared timeline when interleaving. */
  timelineOffset: number;
  /** Seconds of empty edit put in front of the track to line it up with a track of another input (clockOrigin). */
  leadIn: number;
}

/**
 * Two inputs' clock origins farther apart than this are on unrelated clocks (not renditions of one
 * stream): each then starts at its own time 0, as ffmpeg starts every input.
 */
const MAX_CLOCK_ALIGN_SECONDS = 30;
/** MPEG-TS timestamps wrap every 2^33 ticks of 90 kHz. */
const CLOCK_WRAP_SECONDS = 2 ** 33 / 90000;

/** Display names of the codec families, for refusals. */
const FAMILY_NAMES: Record<DemuxedTrackInfo['family'], string> = {
  avc: 'H.264',
  hevc: 'H.265',
  av1: 'AV1',
  vp9: 'VP9',
  vp8: 'VP8',
  aac: 'AAC',
  opus: 'Opus',
  mp3: 'MP3',
  ac3: 'AC-3',
  eac3: 'E-AC-3',
  vorbis: 'Vorbis',
};

/**
 * Remuxes `video` and/or `audio` (and/or the tracks of `input`) into one MP4 (or WebM, see
 * `container`) on `sink`, packet for packet, keeping presentation timing (B-frame offsets, AAC
 * priming, per-track start offsets), title and languages. MPEG-TS inputs start like
 * `ffmpeg -i in.ts -c copy out.mp4` starts them (time 0 at the earliest stream start); two MPEG-TS
 * inputs on one clock (HLS renditions) keep their offset to each other.
 * Memory does not grow with the file size. On failure or cancel the sink is aborted and a
 * {@link VidmuxError} is thrown (`cancelled`, `corrupt_media`, `truncated`, `unsupported`, ...).
 */
export async function remux(opts: RemuxOptions): Promise<RemuxSummary> {
  const { sink, signal } = opts;
  const container = opts.container ?? 'mp4';
  const states: TrackState[] = [];
  try {
    if (container !== 'mp4' && container !== 'webm') throw new VidmuxError('bad_input', `Unknown output container ${String(container)}.`);
    if (!opts.video && !opts.audio && !opts.input) throw new VidmuxError('bad_input', 'Nothing to mux: give a video input, an audio input or both.');
    const sources = [...new Set([opts.input, opts.video, opts.audio].filter((s): s is ByteSource => !!s))];
    const sizes = sources.map((s) => s.size);
    // ../progress is zod-free: the schemas would cost a CLI run ~35 ms of start-up.
    const meter = opts.onProgress ? new ProgressMeter(sizes.every((s) => s !== null) ? sizes.reduce<number>((a, b) => a + (b ?? 0), 0) : null) : null;
    const emit = (force = false) => {
      const p = meter?.throttled(force);
      if (p) opts.onProgress!(p);
    };
    const onBytes = meter
      ? (n: number) => {
          meter!.add(n);
          emit();
        }
      : undefined;

    const opened = await openInputs(opts, { ...(signal ? { signal } : {}), ...(onBytes ? { onBytes } : {}) });
    for (const track of [opened.video, opened.audio]) {
      if (!track) continue;
      states.push({
        kind: track.info.kind,
        track,
        info: track.info,
        head: null,
        firstDts: 0,
        endDts: 0,
        minCts: Infinity,
        endCts: -Infinity,
        packets: 0,
        signedOffsets: false,
        timelineOffset: timelineOffset(track.info),
        leadIn: 0,
      });
    }
    // Before anything is written: a track WebM can't hold is refused, naming the way out (MP4's
    // refusals of WebM-only codecs are Mp4MuxWriter's).
    for (const s of states) {
      if (container !== 'webm' || familyFits(s.info.family, 'webm')) continue;
      throw new VidmuxError('unsupported', `${FAMILY_NAMES[s.info.family]} ${s.kind} can't be saved as WebM without re-encoding; choose MP4.`);
    }
    alignClocks(states);
    const video = states.find((s) => s.kind === 'video');
    const audio = states.find((s) => s.kind === 'audio');
    const title = opts.title ?? video?.info.title ?? audio?.info.title;
    const mp4 = container === 'mp4' ? new Mp4MuxWriter(sink, { ...(video ? { video: video.info } : {}), ...(audio ? { audio: audio.info } : {}) }) : null;

    for (const s of states) {
      s.head = await nextPacket(s);
      if (!s.head) throw new VidmuxError('corrupt_media', `The ${s.kind} input has no samples.`);
      s.firstDts = s.head.dts;
    }
    const webmTrack = (s: TrackState) => ({ info: s.info, offsetSeconds: s.timelineOffset, firstSeconds: s.head!.cts / s.info.timescale + s.timelineOffset });
    // The WebM writer places blocks by presentation time, so it needs the first packets' times.
    const writer = mp4 ?? new WebmMuxWriter(sink, { ...(video ? { video: webmTrack(video) } : {}), ...(audio ? { audio: webmTrack(audio) } : {}) }, { title });
    // MP4: runs of CHUNK_SECONDS per track (each run is one output chunk). WebM: packet by packet,
    // so each cluster holds every track's blocks of its time span (what ffmpeg writes).
    const runSeconds = container === 'webm' ? 0 : CHUNK_SECONDS;

    // Interleave by decode time on the shared timeline, in runs of `runSeconds` per track, so the
    // file plays while it streams and neither input runs far ahead of the other.
    let s: TrackState | undefined;
    let runEnd = 0;
    for (;;) {
      if (signal?.aborted) throw new VidmuxError('cancelled', 'Cancelled.');
      if (!s || !s.head || s.head.dts >= runEnd) {
        s = undefined;
        let best = Infinity;
        for (const t of states) {
          if (!t.head) continue;
          const key = t.head.dts / t.info.timescale + t.timelineOffset;
          if (key < best) {
            best = key;
            s = t;
          }
        }
        if (!s) break;
        runEnd = s.head!.dts + runSeconds * s.info.timescale;
      }
      const p = s.head!;
      if (p.cts < p.dts) s.signedOffsets = true;
      writer.add(s.kind, p, s.firstDts, s.info.timescale);
      s.packets++;
      s.endDts = p.dts + p.duration;
      if (p.cts + p.duration > s.endCts) s.endCts = p.cts + p.duration;
      if (p.cts < s.minCts) s.minCts = p.cts;
      if (writer.queuedBytes > MAX_QUEUED_WRITE_BYTES) await writer.waitForRoom(MAX_QUEUED_WRITE_BYTES / 2);
      const next = nextPacket(s);
      s.head = next instanceof Promise ? await next : next;
      if (s.head && s.head.dts < p.dts) {
        throw new VidmuxError('corrupt_media', `The ${s.kind} input's decode times go backwards at packet ${s.packets}.`);
      }
    }

    // Before the output's header is written (nothing is presented as done before it): every
    // packet the input's index lists was read, and every packet read was written.
    for (const t of states) {
      const expected = t.track.expectedPackets;
      if (expected !== undefined && t.packets !== expected) {
        throw new VidmuxError('corrupt_media', `The ${t.kind} input gave ${t.packets} of the ${expected} samples its tables list.`);
      }
      const written = writer.samplesWritten(t.kind);
      if (written !== t.packets) {
        throw new VidmuxError('internal', `The output's ${t.kind} track holds ${written} samples but ${t.packets} were read; it was not saved.`);
      }
    }

    const patches: TrackPatch[] = states.map((s) => ({
      stsd: s.info.stsd,
      hdlr: s.info.hdlr,
      language: s.info.language,
      edits: outputEdits(s),
      mediaDuration: s.endDts - s.firstDts,
      signedCompositionOffsets: s.signedOffsets,
    }));
    // A fine movie timescale (the first track's own) keeps edit lists exact rather than rounded to ms.
    const bytes =
      writer instanceof WebmMuxWriter ? await writer.finish() : await writer.finish({ tracks: patches, title, movieTimescale: states[0]!.info.timescale });
    if (signal?.aborted) throw new VidmuxError('cancelled', 'Cancelled.');
    await sink.close();
    meter?.setTotal(meter.snapshot().bytesDone);
    emit(true);

    const streams = states.map((s, i): StreamSummary => {
      const edits = patches[i]!.edits;
      const start = edits.filter((e) => e.mediaTime === -1).reduce((a, e) => a + e.seconds, 0);
      const timing =
        writer instanceof WebmMuxWriter ? writer.timing(s.kind) : { startSeconds: start, durationSeconds: edits.reduce((a, e) => a + e.seconds, 0) - start };
      return {
        kind: s.kind,
        codec: s.info.codec,
        language: s.info.language,
        packets: s.packets,
        startSeconds: round6(timing.startSeconds),
        durationSeconds: round6(timing.durationSeconds),
        ...(s.kind === 'video'
          ? { width: s.info.width, height: s.info.height }
          : { channels: s.info.channels, sampleRate: s.info.sampleRate }),
      };
    });
    return {
      container,
      bytes,
      durationSeconds: round6(Math.max(...streams.map((s) => s.startSeconds + s.durationSeconds))),
      ...(title ? { title } : {}),
      streams,
    };
  } catch (err) {
    for (const s of states) s.track.close();
    const error = signal?.aborted && !(err instanceof VidmuxError && err.code !== 'cancelled')
      ? new VidmuxError('cancelled', 'Cancelled.', { cause: err })
      : toVidmuxError(err, 'internal');
    await sink.abort(error).catch(() => undefined);
    throw error;
  }
}

function nextPacket(s: TrackState): Packet | null | Promise<Packet | null> {
  return s.track.next();
}

/**
 * Opens what `opts` asks for (see {@link RemuxOptions}): `input` in one pass for the kinds it
 * supplies, `video`/`audio` on their own (one pass for both when they are the same source).
 * If one open fails, the others are closed.
 */
async function openInputs(opts: RemuxOptions, common: OpenTrackOptions): Promise<OpenedTracks> {
  const { input, video, audio, inputKinds } = opts;
  if (inputKinds && !input) throw new VidmuxError('bad_input', 'inputKinds needs an input.');
  let fromInput: Promise<OpenedTracks> | null = null;
  if (input) {
    const kinds = inputKinds ?? (['video', 'audio'] as const).filter((k) => !opts[k]);
    const both = (k: 'video' | 'audio') => (k === 'video' ? video : audio);
    const twice = kinds.find((k) => both(k));
    if (twice) throw new VidmuxError('bad_input', `The ${twice} is given twice: as ${twice} and in inputKinds.`);
    if (kinds.length === 0) throw new VidmuxError('bad_input', 'Nothing to take from the input: video and audio are both given separately.');
    const mode = inputKinds ? true : 'optional';
    fromInput = openTracks(input, { video: kinds.includes('video') && mode, audio: kinds.includes('audio') && mode }, { ...common, label: 'input' });
  } else if (video && video === audio) {
    fromInput = openTracks(video, { video: true, audio: true }, { ...common, label: 'input' });
  }
  const separate = (kind: 'video' | 'audio', source: ByteSource | undefined) =>
    source && !(source === video && source === audio && !input) ? openTrack(source, kind, { ...common, label: `${kind} input` }) : null;
  const results = await Promise.allSettled([fromInput, separate('video', video), separate('audio', audio)]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  const [shared, v, a] = results.map((r) => (r.status === 'fulfilled' ? r.value : null)) as [OpenedTracks | null, DemuxedTrack | null, DemuxedTrack | null];
  if (failed) {
    for (const t of [shared?.video, shared?.audio, v, a]) t?.close();
    throw failed.reason;
  }
  return { video: v ?? shared?.video ?? null, audio: a ?? shared?.audio ?? null };
}

/**
 * Tracks from different MPEG-TS inputs (an HLS stream's video and its separate audio rendition)
 * run on one program clock: each input's own time 0 is its earliest start, so without this the
 * later-starting input would be pulled forward by the difference. Lines them up by `clockOrigin`
 * unless the clocks are unrelated (see {@link MAX_CLOCK_ALIGN_SECONDS}).
 */
function alignClocks(states: TrackState[]): void {
  const origins = states.map((s) => s.info.clockOrigin);
  if (states.length < 2 || origins.some((o) => o === undefined)) return;
  const base = origins[0]!;
  // Differences modulo the 33-bit wrap, so inputs on either side of it still line up.
  const diffs = origins.map((o) => {
    const d = (o! - base) % CLOCK_WRAP_SECONDS;
    return d > CLOCK_WRAP_SECONDS / 2 ? d - CLOCK_WRAP_SECONDS : d < -CLOCK_WRAP_SECONDS / 2 ? d + CLOCK_WRAP_SECONDS : d;
  });
  const min = Math.min(...diffs);
  if (Math.max(...diffs) - min > MAX_CLOCK_ALIGN_SECONDS) return;
  states.forEach((s, i) => {
    s.leadIn = diffs[i]! - min;
    s.timelineOffset += s.leadIn;
  });
}

/** Where the input's edit list puts media time 0 on the presentation timeline, in seconds (for interleaving only). */
function timelineOffset(info: DemuxedTrackInfo): number {
  let empty = 0;
  for (const e of info.edits) {
    if (e.mediaTime === -1) empty += e.segmentDuration / info.movieTimescale;
    else return empty - e.mediaTime / info.timescale;
  }
  return 0;
}

/**
 * The output edit list: the input's presentation timeline, re-expressed for output media times
 * (which start at the input's first DTS). Without an input edit list the input's composition
 * times are its presentation times (what ffmpeg -copyts keeps): the output then gets an empty edit
 * up to the first presented sample and an edit starting at that sample, the form ffmpeg itself
 * writes (an edit at media time 0 with a composition delay is read back by ffmpeg as starting at 0).
 */
function outputEdits(s: TrackState): OutputEdit[] {
  const edits = inputEdits(s);
  if (s.leadIn <= 0) return edits;
  if (edits[0]?.mediaTime === -1) return [{ seconds: edits[0].seconds + s.leadIn, mediaTime: -1 }, ...edits.slice(1)];
  return [{ seconds: s.leadIn, mediaTime: -1 }, ...edits];
}

/** The input's own presentation timeline as output edits (see {@link outputEdits}). */
function inputEdits(s: TrackState): OutputEdit[] {
  const { info } = s;
  const ts = info.timescale;
  const out: OutputEdit[] = [];
  if (info.edits.length === 0) {
    if (s.minCts > 0) out.push({ seconds: s.minCts / ts, mediaTime: -1 });
    out.push({ seconds: (s.endCts - s.minCts) / ts, mediaTime: s.minCts - s.firstDts });
    return out;
  }
  for (const e of info.edits) {
    if (e.mediaTime === -1) {
      out.push({ seconds: e.segmentDuration / info.movieTimescale, mediaTime: -1 });
      continue;
    }
    // A zero duration means "the rest of the media" (fragmented files don't know their length).
    let seconds = e.segmentDuration > 0 ? e.segmentDuration / info.movieTimescale : (s.endCts - e.mediaTime) / ts;
    let mediaTime = e.mediaTime - s.firstDts;
    if (mediaTime < 0) {
      // The edit starts before the first sample we have: the gap up to the first presented
      // sample becomes an empty edit.
      const gap = (s.minCts - e.mediaTime) / ts;
      out.push({ seconds: gap, mediaTime: -1 });
      seconds -= gap;
      mediaTime = s.minCts - s.firstDts;
    }
    out.push({ seconds: Math.max(0, seconds), mediaTime });
  }
  return out;
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
