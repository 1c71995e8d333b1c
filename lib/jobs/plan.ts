/**
 * Turns what the user clicked into a plan: the file name and the {@link SaveSpec} the engine runs.
 * A page's plain file is copied; a DASH manifest is resolved into its best video and audio tracks,
 * which are muxed into one MP4.
 */
import { VidmuxError } from '../errors';
import { cleanTitle, isoDate, renderFilename } from '../filename';
import { parseDashManifest, pickTracks, type ManifestTrack, type TrackPreferences } from '../manifests/dash';
import { extensionFor, mimeTypeFor } from '../media-types';
import { notAFileReason } from '../page-media';
import type { MediaCandidate } from '../schemas/media';
import type { UrlSaveSpec } from '../schemas/save-spec';
import { hostnameOf, manifestKind } from '../sites';

export interface SavePlan {
  title: string;
  filename: string;
  sourceUrl: string;
  spec: Omit<UrlSaveSpec, 'jobId'>;
}

export interface PlanContext {
  filenameTemplate: string;
  /** Fetches a manifest's text (through the network engine). */
  fetchText: (url: string) => Promise<string>;
  preferences?: TrackPreferences;
  connections?: number;
  now?: Date;
}

/** Plans saving `media` found on `page`; throws a VidmuxError saying why when it cannot be saved. */
export async function planSave(media: MediaCandidate, page: { title: string; url: string }, ctx: PlanContext): Promise<SavePlan> {
  const title = cleanTitle(page.title) || fileStem(media.src) || 'video';
  const name = (ext: string, height: number | null) =>
    renderFilename(ctx.filenameTemplate, { title, ext, host: hostnameOf(page.url), date: isoDate(ctx.now), provider: 'page', height });
  const connections = ctx.connections ?? 4;

  if (media.kind === 'file') {
    return {
      title,
      filename: name(extensionFor(media.src, media.mimeType), media.height || null),
      sourceUrl: media.src,
      spec: { mode: 'copy', title, mimeType: mimeTypeFor(extensionFor(media.src, media.mimeType)), tracks: [{ kind: 'file', url: media.src }], connections },
    };
  }
  if (media.kind === 'manifest' && manifestKind(media.src, media.mimeType) === 'dash') {
    const manifest = parseDashManifest(await ctx.fetchText(media.src), media.src);
    const { video, audio } = pickTracks(manifest, ctx.preferences);
    const tracks = [video, audio].filter((t): t is ManifestTrack => t !== null).map((t) => ({ kind: t.kind, url: singleFileUrl(t) }));
    return {
      title,
      filename: name(video ? 'mp4' : 'm4a', video?.height ?? null),
      sourceUrl: media.src,
      spec: { mode: 'mux', title, mimeType: video ? 'video/mp4' : 'audio/mp4', tracks, connections },
    };
  }
  if (media.kind === 'manifest') {
    throw new VidmuxError('unsupported', 'This video is an HLS stream: Vidmux cannot save HLS yet.', { provider: 'page' });
  }
  throw new VidmuxError('not_a_file', notAFileReason(media.kind), { provider: 'page' });
}

function singleFileUrl(t: ManifestTrack): string {
  if (t.singleFileUrl) return t.singleFileUrl;
  throw new VidmuxError('unsupported', `This DASH stream's ${t.kind} is split into ${t.segments.length} separate files; Vidmux saves single-file DASH tracks only for now.`, {
    provider: 'page',
  });
}


function fileStem(src: string): string {
  try {
    const last = new URL(src).pathname.split('/').pop() ?? '';
    return decodeURIComponent(last).replace(/\.[a-z0-9]{2,5}$/i, '');
  } catch {
    return '';
  }
}
