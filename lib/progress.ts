/**
 * Progress arithmetic: speed and ETA from byte counts, tracks summed into a job's progress. The
 * shape and its schema are in ./schemas/progress.ts; this module needs only their types, so the
 * media and network engines load it without zod.
 */
import type { JobProgress, JobStage, Progress } from './schemas/progress';

export type { JobProgress, JobStage, Progress };

export const EMPTY_PROGRESS: Progress = { bytesDone: 0, bytesTotal: null, speedBps: 0, etaSeconds: null };

/**
 * How far along, 0 to 1: by bytes when the total is known, else by segments (a stream's size is
 * known only at its end); null when neither says.
 */
export function progressFraction(p: Progress): number | null {
  if (p.bytesTotal) return Math.min(1, p.bytesDone / p.bytesTotal);
  if (p.segments?.total) return Math.min(1, p.segments.done / p.segments.total);
  return null;
}

/** Length of the window that speed and ETA are measured over. */
export const SPEED_WINDOW_MS = 2000;
/** Progress is emitted at most this often (10 times a second). */
export const MIN_EMIT_INTERVAL_MS = 100;

/**
 * Turns a stream of byte counts into {@link Progress} snapshots: speed over a sliding 2 s window,
 * ETA from that speed. Time is injected so tests can drive it.
 */
export class ProgressMeter {
  private samples: Array<{ t: number; bytes: number }> = [];
  private bytesDone = 0;
  private lastEmit = -Infinity;

  constructor(
    private bytesTotal: number | null = null,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.samples.push({ t: this.now(), bytes: 0 });
  }

  /** Sets (or corrects) the total once it becomes known. */
  setTotal(total: number | null): void {
    this.bytesTotal = total;
  }

  /** Records `n` more bytes done. */
  add(n: number): void {
    this.set(this.bytesDone + n);
  }

  /** Records the absolute number of bytes done (e.g. from a browser download item). */
  set(bytesDone: number): void {
    this.bytesDone = bytesDone;
    const t = this.now();
    this.samples.push({ t, bytes: bytesDone });
    // Keep one sample older than the window so the window is always fully covered.
    while (this.samples.length > 2 && this.samples[1]!.t <= t - SPEED_WINDOW_MS) this.samples.shift();
  }

  /** The current snapshot. */
  snapshot(): Progress {
    const t = this.now();
    const first = this.samples[0]!;
    const elapsed = (t - first.t) / 1000;
    const speedBps = elapsed > 0 ? Math.max(0, (this.bytesDone - first.bytes) / elapsed) : 0;
    const remaining = this.bytesTotal === null ? null : Math.max(0, this.bytesTotal - this.bytesDone);
    const etaSeconds = remaining === null ? null : remaining === 0 ? 0 : speedBps > 0 ? remaining / speedBps : null;
    return { bytesDone: this.bytesDone, bytesTotal: this.bytesTotal, speedBps, etaSeconds };
  }

  /** The snapshot if at least 100 ms passed since the last one handed out (or `force`), else null. */
  throttled(force = false): Progress | null {
    const t = this.now();
    if (!force && t - this.lastEmit < MIN_EMIT_INTERVAL_MS) return null;
    this.lastEmit = t;
    return this.snapshot();
  }
}

/**
 * Sums track progresses into one overall progress (total is null if any track's total is unknown;
 * segments are summed when every track counts them).
 */
export function combineProgress(parts: Progress[]): Progress {
  const bytesDone = parts.reduce((s, p) => s + p.bytesDone, 0);
  const speedBps = parts.reduce((s, p) => s + p.speedBps, 0);
  const bytesTotal = parts.every((p) => p.bytesTotal !== null)
    ? parts.reduce((s, p) => s + (p.bytesTotal ?? 0), 0)
    : null;
  const remaining = bytesTotal === null ? null : Math.max(0, bytesTotal - bytesDone);
  const etaSeconds = remaining === null ? null : remaining === 0 ? 0 : speedBps > 0 ? remaining / speedBps : null;
  const counted = parts.length > 0 && parts.every((p) => p.segments) ? parts.map((p) => p.segments!) : null;
  const segments = counted ? { done: counted.reduce((s, c) => s + c.done, 0), total: counted.reduce((s, c) => s + c.total, 0) } : null;
  return { bytesDone, bytesTotal, speedBps, etaSeconds, ...(segments ? { segments } : {}) };
}

/**
 * A job's progress built from its tracks ("video", "audio", "file", "subtitle"): each track reports
 * its own {@link Progress}; every change is summed and handed on as one {@link JobProgress}. The
 * one place that assembles a job's progress, for the engine and every provider.
 */
export class TrackProgress {
  private readonly tracks: Record<string, Progress> = {};

  constructor(
    private readonly onProgress: ((progress: JobProgress) => void) | undefined,
    tracks: readonly string[] = [],
    private stage: JobStage = 'downloading',
  ) {
    for (const t of tracks) this.tracks[t] = EMPTY_PROGRESS;
  }

  /** Records a track's progress (a new track joins the sum) and reports. */
  set(track: string, progress: Progress): void {
    this.tracks[track] = progress;
    this.emit();
  }

  /** Moves the job to another stage (e.g. muxing once every track is in) and reports. */
  setStage(stage: JobStage): void {
    this.stage = stage;
    this.emit();
  }

  get current(): JobProgress {
    return { stage: this.stage, tracks: { ...this.tracks }, overall: combineProgress(Object.values(this.tracks)) };
  }

  /** Reports the current progress. */
  emit(): void {
    this.onProgress?.(this.current);
  }
}
