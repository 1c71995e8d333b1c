/**
 * One track of a stream (HLS or DASH) as a {@link ByteSource} the media engine reads: its
 * initialization and media segments, fetched several at once and handed on in order, decrypted
 * when the playlist says AES-128, with links that expired fetched again from the playlist. A
 * track that is one plain file (single-file DASH, or an HLS byte-range playlist over one clear
 * file) is fetched as a file instead: parallel ranged requests, no per-segment overhead.
 */
import type { ByteSource } from '../io';
import { singleFile, type TrackSegment } from '../manifests/dash';
import type { SegmentKey } from '../manifests/hls';
import { ForwardSource } from '../net/forward-source';
import type { HttpClient } from '../net/http';
import { openRangedSource } from '../net/ranged-fetch';
import { SegmentedSource } from '../net/segment-source';
import type { Progress } from '../progress';
import { Aes128Keys } from './aes-128';

/** A segment of a stream track: where it is, and its AES-128 key if it is encrypted. */
export interface StreamSegment extends TrackSegment {
  key?: SegmentKey | null;
}

/** Options of {@link openStreamTrack}. */
export interface StreamTrackOptions {
  /** The context's client: its retry table and per-host cap hold for every segment. */
  client: HttpClient;
  /** Segments (or ranged requests) in flight at once. Default 4. */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
  /**
   * The same track's segments read from the playlist again, for links that expired (signed
   * segment URLs). Called at most once per burst of expired links.
   */
  reload?: (signal?: AbortSignal) => Promise<readonly StreamSegment[]>;
}

/** Opens `segments` (initialization first) as one source. */
export async function openStreamTrack(segments: readonly StreamSegment[], opts: StreamTrackOptions): Promise<ByteSource> {
  const concurrency = opts.concurrency ?? 4;
  const file = segments.some((s) => s.key) ? null : singleFile(segments);
  if (file) {
    return openRangedSource(file, {
      client: opts.client,
      connections: concurrency,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
  }
  const keys = segments.some((s) => s.key) ? new Aes128Keys(opts.client, opts.signal) : null;
  const reload = opts.reload ? once(opts.reload) : null;
  const source = new SegmentedSource(
    segments.map((s) => ({ url: s.url, range: s.range })),
    {
      client: opts.client,
      concurrency,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(keys
        ? {
            transform: (bytes: Uint8Array, index: number) => {
              const key = segments[index]!.key;
              return key ? keys.decrypt(bytes, key, `Segment ${index + 1}`) : bytes;
            },
          }
        : {}),
      ...(reload
        ? {
            refresh: async (index: number, stale: string, signal?: AbortSignal) => {
              const fresh = (await reload(signal))[index];
              return fresh && fresh.url !== stale ? fresh.url : stale;
            },
          }
        : {}),
    },
  );
  return new ForwardSource(source, opts.signal ? { signal: opts.signal } : {});
}

/**
 * `load` shared by the callers of one burst: many segments expire together, and the playlist is
 * fetched once for all of them; a later burst (after the first settled) fetches it again.
 */
function once<T>(load: (signal?: AbortSignal) => Promise<T>): (signal?: AbortSignal) => Promise<T> {
  let current: Promise<T> | null = null;
  return (signal) => {
    current ??= load(signal).finally(() => {
      setTimeout(() => (current = null), 1000);
    });
    return current;
  };
}
