/**
 * The {@link DownloadContext} a provider downloads with: where its bytes go, progress,
 * cancellation, and the engine's muxer for formats that come as separate video and audio. Here,
 * and not in the providers, because joining tracks is the media engine's job.
 */
import { remux } from '../media';
import type { JobProgress } from '../progress';
import type { DownloadContext, DownloadTarget } from '../providers/types';

export function downloadContext(opts: { target: DownloadTarget; signal?: AbortSignal; finish?: AbortSignal; onProgress?: (progress: JobProgress) => void }): DownloadContext {
  return {
    target: opts.target,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.finish ? { finish: opts.finish } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    mux: async (tracks) => {
      const sink = await opts.target.media();
      const summary = await remux({
        ...(tracks.video ? { video: tracks.video } : {}),
        ...(tracks.audio ? { audio: tracks.audio } : {}),
        ...(tracks.input ? { input: tracks.input } : {}),
        ...(tracks.title ? { title: tracks.title } : {}),
        ...(tracks.container ? { container: tracks.container } : {}),
        sink,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      return { bytes: summary.bytes };
    },
  };
}
