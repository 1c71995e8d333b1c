/**
 * Runs a {@link SaveSpec}: fetch each track with the network engine, then copy (one file) or remux
 * (video + audio) with the media engine into a sink. Runs wherever bytes may live: the offscreen
 * document (OPFS sink), Firefox's background page, or Node (file sink) for tests and the CLI.
 */
import { toVidmuxError } from '../errors';
import type { ByteSink } from '../io';
import { remux } from '../media';
import { copyToSink } from '../net/save';
import { openRangedSource } from '../net/ranged-fetch';
import { HttpClient } from '../net/http';
import { combineProgress, EMPTY_PROGRESS, type JobProgress, type Progress } from '../progress';
import type { UrlSaveSpec } from '../schemas/save-spec';

export interface RunSaveOptions {
  /** Creates the sink the output is written to. */
  createSink: () => Promise<ByteSink>;
  /** Receives progress, at most about 10 times a second per track. */
  onProgress?: (progress: JobProgress) => void;
  signal?: AbortSignal;
  /** Shared client, so the per-host connection cap holds across jobs. */
  client?: HttpClient;
  /** Bytes per ranged request (the network engine's default otherwise). */
  chunkSize?: number;
}

/** Runs the spec; returns the output size. The sink is closed on success and aborted on failure. */
export async function runSave(spec: UrlSaveSpec, opts: RunSaveOptions): Promise<{ bytes: number }> {
  const client = opts.client ?? new HttpClient();
  const tracks: Record<string, Progress> = Object.fromEntries(spec.tracks.map((t) => [t.kind, EMPTY_PROGRESS]));
  const emit = () => opts.onProgress?.({ stage: 'downloading', tracks: { ...tracks }, overall: combineProgress(Object.values(tracks)) });
  const sink = await opts.createSink();
  try {
    const sources = await Promise.all(
      spec.tracks.map((t) =>
        openRangedSource(t.url, {
          client,
          connections: spec.connections,
          ...(opts.chunkSize ? { chunkSize: opts.chunkSize } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
          onProgress: (p) => {
            tracks[t.kind] = p;
            emit();
          },
        }),
      ),
    );
    emit();
    if (spec.mode === 'copy') {
      const bytes = await copyToSink(sources[0]!, sink, opts.signal ? { signal: opts.signal } : {});
      return { bytes };
    }
    const video = sources[spec.tracks.findIndex((t) => t.kind === 'video')];
    const audio = sources[spec.tracks.findIndex((t) => t.kind === 'audio')];
    const summary = await remux({
      ...(video ? { video } : {}),
      ...(audio ? { audio } : {}),
      sink,
      title: spec.title,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return { bytes: summary.bytes };
  } catch (err) {
    // copyToSink and remux abort the sink themselves; this covers failures before they started.
    await sink.abort(err).catch(() => undefined);
    throw toVidmuxError(err, 'download_failed');
  }
}
