/**
 * Building the one format model: every provider describes its formats with {@link makeFormat};
 * unknown facts stay null and the label a person sees is made the same way for all.
 */
import { codecDisplayName } from '../../codecs';
import type { Format } from '../../schemas/media';

/** "1080p · AV1 · MP4", "Audio · AAC 128 kbps · M4A", "Subtitles · en (auto) · SRT". */
export function formatLabel(f: Omit<Format, 'label' | 'id' | 'provider'>): string {
  const container = f.container.toUpperCase();
  if (f.kind === 'subtitle') return ['Subtitles', `${f.language ?? '?'}${f.isAuto ? ' (auto)' : ''}`, container].join(' · ');
  if (f.kind === 'audio') return ['Audio', [codecDisplayName(f.audioCodec), f.bitrateKbps ? `${f.bitrateKbps} kbps` : ''].filter(Boolean).join(' '), container].filter(Boolean).join(' · ');
  return [f.height ? `${f.height}p` : 'Video', codecDisplayName(f.videoCodec), container].filter(Boolean).join(' · ');
}

/** What a provider says about one format; everything it leaves out is unknown (null). */
export type FormatFields = Pick<Format, 'kind' | 'container' | 'delivery'> & Partial<Omit<Format, 'id' | 'provider' | 'label' | 'kind' | 'container' | 'delivery'>>;

/** A complete {@link Format}: unknown facts null, the label made by {@link formatLabel} unless given. */
export function makeFormat(provider: Format['provider'], id: string, fields: FormatFields, label?: string): Format {
  const base = { videoCodec: null, audioCodec: null, width: null, height: null, fps: null, bitrateKbps: null, approxBytes: null, language: null, ...fields };
  return { ...base, id, provider, label: label ?? formatLabel(base) };
}
