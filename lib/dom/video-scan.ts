/**
 * Reads what a `<video>` element plays. DOM-only (runs in the content script), no extension APIs.
 */
import { looksLive } from './live-video';
import { classifyUrl } from '../page-media';
import { MAX_STREAMS, type MediaCandidate, type MediaKind } from '../schemas/media';
import { manifestKind, manifestMimeType } from '../sites';

const ids = new WeakMap<HTMLVideoElement, string>();
let nextId = 1;

/** A stable id for an element, for as long as it lives. */
export function videoId(video: HTMLVideoElement): string {
  let id = ids.get(video);
  if (!id) ids.set(video, (id = `v${nextId++}`));
  return id;
}

/** The source URL and type a video plays or would play: `currentSrc`, `src`, else its first `<source>`. */
export function videoSource(video: HTMLVideoElement): { src: string; mimeType: string | null } {
  const sources = [...video.querySelectorAll('source')];
  if (video.currentSrc) {
    const match = sources.find((s) => s.src === video.currentSrc);
    return { src: video.currentSrc, mimeType: match?.type || null };
  }
  if (video.src) return { src: video.src, mimeType: null };
  const playable = sources.find((s) => s.src && (!s.type || video.canPlayType(s.type) !== '')) ?? sources.find((s) => s.src);
  return { src: playable?.src ?? '', mimeType: playable?.type || null };
}

const blobKinds = new Map<string, Promise<MediaKind>>();

/**
 * Tells a blob: URL of a real Blob (fetchable) from one of a MediaSource (fetch fails).
 * Only the headers are read: the body is cancelled at once.
 */
function probeBlob(src: string): Promise<MediaKind> {
  let kind = blobKinds.get(src);
  if (!kind) {
    kind = fetch(src)
      .then((res) => {
        void res.body?.cancel();
        return 'blob' as const;
      })
      .catch(() => 'mediasource' as const);
    blobKinds.set(src, kind);
  }
  return kind;
}

/**
 * Describes a video element as a media candidate. A video fed by MediaSource on a page whose
 * players loaded manifests (`sniffed`, oldest first) is described by them: it plays one of them
 * (the page provider tells which stream they make).
 */
export async function describeVideo(video: HTMLVideoElement, sniffed: readonly string[] = []): Promise<MediaCandidate> {
  let { src, mimeType } = videoSource(video);
  let kind = video.srcObject ? ('mediasource' as const) : classifyUrl(src, mimeType);
  if (kind === 'blob') kind = await probeBlob(src);
  const newest = sniffed.at(-1);
  const sniffedKind = newest ? manifestKind(newest) : null;
  let streams: string[] | undefined;
  // A player that has not attached its MediaSource yet (or failed to: DRM) plays nothing so far; the
  // stream it loaded is what it is about.
  if ((kind === 'mediasource' || kind === 'none') && newest && sniffedKind) {
    src = newest;
    mimeType = manifestMimeType(sniffedKind);
    kind = 'manifest';
    streams = sniffed.slice(-MAX_STREAMS).map((u) => u.slice(0, 8192));
  }
  return {
    ...(streams ? { streams } : {}),
    ...(looksLive(video) ? { live: true } : {}),
    id: videoId(video),
    kind,
    src: src.slice(0, 8192),
    mimeType: mimeType?.slice(0, 200) ?? null,
    width: video.videoWidth || Math.round(video.getBoundingClientRect().width),
    height: video.videoHeight || Math.round(video.getBoundingClientRect().height),
    duration: Number.isFinite(video.duration) ? video.duration : null,
  };
}
