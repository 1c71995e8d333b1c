/**
 * Recording a live stream: a {@link ByteSource} of one track that starts at the live edge (the
 * newest segment of the playlist or manifest, and the initialization before it) and follows it as
 * it grows, segment after segment, until the recording is finished (the user's Stop), the stream
 * ends (HLS EXT-X-ENDLIST, a DASH manifest turned static) or it stops growing. It always ends on a
 * segment boundary, so what was recorded is a whole stream the muxer turns into a playable file.
 * HLS and DASH each say what they list now as a {@link LiveWindow}.
 */
import { VidmuxError } from '../errors';
import type { ByteSource } from '../io';
import type { ManifestTrack, ParsedManifest } from '../manifests/dash';
import { trackSegments, type HlsMedia } from '../manifests/hls';
import type { HttpClient } from '../net/http';
import { realSleep, type Sleep } from '../net/retry-policy';
import { SegmentedSource } from '../net/segment-source';
import type { Progress } from '../progress';
import { Aes128Keys } from './aes-128';
import type { StreamSegment } from './track-source';

/** What a live playlist or manifest lists now, for one track. */
export interface LiveWindow {
  /** Its segments, oldest first; `position` grows along the stream (a sequence number, a start time). */
  segments: Array<StreamSegment & { position: number }>;
  /** The initialization of the newest segment (fMP4), or null (MPEG-TS). */
  init: StreamSegment | null;
  /** Whether the initialization changes within the window (the segments do not make one stream). */
  initChanges: boolean;
  /** Whether it still grows. */
  live: boolean;
  /** Seconds to wait before reading it again. */
  reloadSeconds: number;
  /** About how long a segment is, seconds (to tell a stream that stopped growing). */
  segmentSeconds: number;
}

/** An HLS media playlist as a live window. */
export function hlsWindow(m: HlsMedia): LiveWindow {
  const target = m.targetDuration || 2;
  const edge = m.segments.at(-1);
  return {
    segments: m.segments.map((s) => ({ url: s.url, range: s.range, key: s.key, position: s.sequence })),
    init: edge?.map ? { url: edge.map.url, range: edge.map.range, key: edge.map.key } : null,
    initChanges: trackSegments(m).initChanges,
    live: m.live,
    // Half a target duration between reloads, as players do.
    reloadSeconds: target / 2,
    segmentSeconds: target,
  };
}

/** A track of a DASH manifest as a live window. */
export function dashWindow(m: ParsedManifest, track: ManifestTrack): LiveWindow {
  const media = track.segments.slice(track.segments.length - track.times.length);
  const init = track.segments.length > track.times.length ? track.segments[0]! : null;
  const lengths = track.times.slice(1).map((t, i) => t - track.times[i]!);
  const segmentSeconds = lengths.length ? Math.max(...lengths) : 2;
  const segments = media.map((s, i) => ({ url: s.url, range: s.range, position: track.times[i]! }));
  // A live manifest lists its newest segment from its start time on, while the origin may still
  // be making it (a 404 until then): a recording takes each segment once the next one is listed.
  if (m.live) segments.pop();
  return {
    segments,
    init,
    initChanges: track.initChanges,
    live: m.live,
    reloadSeconds: Math.max(m.updateSeconds ?? 0, segmentSeconds / 2, 0.5),
    segmentSeconds,
  };
}

/** Options of {@link LiveRecording}. */
export interface LiveRecordingOptions {
  client: HttpClient;
  /** Reads the playlist or manifest again (it grows). */
  load: (signal?: AbortSignal) => Promise<LiveWindow>;
  /** Cancels: the recording fails (nothing is kept). */
  signal?: AbortSignal;
  /** Finishes: the recording ends after the segment under way, and what was recorded is kept. */
  finish?: AbortSignal;
  onProgress?: (progress: Progress) => void;
  /** Segments fetched at once when the recording falls behind. Default 4. */
  concurrency?: number;
  /** The stream is taken as ended when its playlist has not grown for this many target durations. Default 6. */
  stallTargets?: number;
  sleep?: Sleep;
  now?: () => number;
}

/** One track of a live stream, recorded from the live edge on. Read once, front to back. */
export class LiveRecording implements ByteSource {
  readonly size = null;
  private used = false;

  constructor(
    private readonly first: LiveWindow,
    private readonly opts: LiveRecordingOptions,
  ) {
    if (!first.segments.length) throw new VidmuxError('bad_response', 'The live stream lists no segment yet; try again in a moment.');
    if (first.initChanges) throw new VidmuxError('unsupported', 'This live stream changes its encoding midway, so its parts do not make one file.');
  }

  stream(start = 0, _end?: number, signal?: AbortSignal): ReadableStream<Uint8Array> {
    if (this.used || start !== 0) throw new VidmuxError('internal', 'A live recording is read once, from its start.');
    this.used = true;
    const run = new Follow(this.first, this.opts, signal);
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          const bytes = await run.next();
          if (bytes) controller.enqueue(bytes);
          else controller.close();
        },
        cancel: () => run.stop(),
      },
      { highWaterMark: 0 },
    );
  }
}

/** The following of one playlist: batches of new segments, fetched by SegmentedSource. */
class Follow {
  private readonly keys: Aes128Keys;
  private readonly sleep: Sleep;
  private readonly now: () => number;
  /** Where the next segment to take starts (its `position`). */
  private nextPosition: number;
  private reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  private pendingInit: StreamSegment | null;
  private ended = false;
  private lastGrowth: number;
  private window: LiveWindow;
  private readonly ctrl = new AbortController();
  private segmentsDone = 0;
  private segmentsKnown = 0;
  private bytesDone = 0;

  constructor(
    private readonly first: LiveWindow,
    private readonly opts: LiveRecordingOptions,
    signal?: AbortSignal,
  ) {
    this.keys = new Aes128Keys(opts.client, this.ctrl.signal);
    this.sleep = opts.sleep ?? realSleep;
    this.now = opts.now ?? (() => Date.now());
    for (const s of [signal, opts.signal]) {
      if (s?.aborted) this.ctrl.abort(s.reason);
      else s?.addEventListener('abort', () => this.ctrl.abort(s.reason), { once: true });
    }
    // The live edge: the newest segment (a player starts a few back to buffer; a recording starts now).
    this.nextPosition = first.segments.at(-1)!.position;
    this.pendingInit = first.init;
    this.lastGrowth = this.now();
    this.window = first;
    this.ended = !first.live;
  }

  /** The next segment's bytes (whole), or null when the recording is over. */
  async next(): Promise<Uint8Array | null> {
    for (;;) {
      if (this.ctrl.signal.aborted) throw new VidmuxError('cancelled', 'Cancelled.');
      if (this.reader && this.opts.finish?.aborted && this.segmentsDone > 0) {
        // Stopped: end on the boundary of the segments handed on so far.
        void this.reader.cancel().catch(() => undefined);
        this.reader = null;
      }
      if (this.reader) {
        const { done, value } = await this.reader.read();
        if (!done) {
          this.bytesDone += value.length;
          this.segmentsDone++;
          this.report();
          return value;
        }
        this.reader = null;
      }
      if (this.opts.finish?.aborted) return this.end();
      const batch = await this.newSegments();
      if (batch === null) return this.end();
      if (batch.length) this.reader = this.open(batch).getReader();
    }
  }

  stop(): void {
    this.ctrl.abort(new VidmuxError('cancelled', 'Cancelled.'));
    void this.reader?.cancel().catch(() => undefined);
  }

  private end(): null {
    this.report(true);
    return null;
  }

  /** Segments from `nextPosition` on, waiting for the stream to grow; null when it is over. */
  private async newSegments(): Promise<StreamSegment[] | null> {
    let window: LiveWindow | null = this.segmentsKnown === 0 ? this.first : null;
    for (;;) {
      if (window) {
        this.window = window;
        const fresh = window.segments.filter((s) => s.position >= this.nextPosition);
        if (fresh.length) {
          this.lastGrowth = this.now();
          const last = fresh.at(-1)!.position;
          this.nextPosition = last + Math.max(1e-6, Math.abs(last) * 1e-12); // just past it
          this.segmentsKnown += fresh.length;
          const init = this.pendingInit;
          this.pendingInit = null;
          const list: StreamSegment[] = fresh.map((s) => ({ url: s.url, range: s.range, ...(s.key ? { key: s.key } : {}) }));
          if (init) {
            this.segmentsKnown++;
            list.unshift(init);
          }
          this.report();
          return list;
        }
        if (!window.live) return null;
      }
      if (this.ended) return null;
      if (this.now() - this.lastGrowth > (this.opts.stallTargets ?? 6) * this.window.segmentSeconds * 1000) return null; // it stopped growing
      await this.wait(this.window.reloadSeconds * 1000);
      if (this.opts.finish?.aborted || this.ctrl.signal.aborted) return null;
      window = await this.opts.load(this.ctrl.signal);
      if (!window.live) this.ended = true;
    }
  }

  /** Sleeps, waking early when the recording is finished. */
  private async wait(ms: number): Promise<void> {
    const finish = this.opts.finish;
    if (!finish) return this.sleep(ms, this.ctrl.signal);
    const woken = new AbortController();
    const wake = () => woken.abort();
    finish.addEventListener('abort', wake, { once: true });
    this.ctrl.signal.addEventListener('abort', wake, { once: true });
    try {
      await this.sleep(ms, woken.signal);
    } catch {
      /* woken: the caller looks at why */
    } finally {
      finish.removeEventListener('abort', wake);
      this.ctrl.signal.removeEventListener('abort', wake);
    }
  }

  private open(batch: StreamSegment[]): ReadableStream<Uint8Array> {
    const keyed = batch.some((s) => s.key);
    return new SegmentedSource(
      batch.map((s) => ({ url: s.url, range: s.range })),
      {
        client: this.opts.client,
        concurrency: this.opts.concurrency ?? 4,
        signal: this.ctrl.signal,
        ...(keyed
          ? {
              transform: (bytes: Uint8Array, i: number) => {
                const key = batch[i]!.key;
                return key ? this.keys.decrypt(bytes, key, `Live segment ${this.segmentsDone + i + 1}`) : bytes;
              },
            }
          : {}),
      },
    ).stream();
  }

  private lastReport = 0;

  private report(force = false): void {
    const t = this.now();
    if (!force && t - this.lastReport < 100) return;
    this.lastReport = t;
    this.opts.onProgress?.({
      bytesDone: this.bytesDone,
      bytesTotal: null,
      speedBps: 0,
      etaSeconds: null,
      segments: { done: this.segmentsDone, total: this.segmentsKnown },
    });
  }
}
