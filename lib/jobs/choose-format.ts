/**
 * The one chooser: which of a provider's formats a request gets, by quality and codec preference
 * (never by the order the provider listed them in), or the exact format picked in the popup. The
 * engine, the CLI and the popup's preselection all call it.
 */
import { codecRank } from '../codecs';
import { VidmuxError } from '../errors';
import { DEFAULT_CODEC_PREFERENCE, QUALITIES, type AudioFormat, type CodecPreference, type Quality } from '../schemas/ids';
import type { Format } from '../schemas/media';

/**
 * Picks the format for a quality: `audio` the best audio-only format (bitrate, then m4a over
 * others); a height the tallest video at or below it (else the lowest there is); `best` the
 * tallest. Ties go to the preferred codec, then video+audio files over tracks, then bitrate.
 */
export function pickFormat(formats: Format[], quality: Quality, pref: CodecPreference = DEFAULT_CODEC_PREFERENCE): Format {
  if (quality === 'audio') {
    const audio = formats.filter((f) => f.kind === 'audio');
    audio.sort((a, b) => (b.bitrateKbps ?? 0) - (a.bitrateKbps ?? 0) || Number(b.container === 'm4a') - Number(a.container === 'm4a'));
    if (!audio[0]) throw new VidmuxError('unsupported', 'No audio-only format is offered for this video.');
    return audio[0];
  }
  const video = formats.filter((f) => f.kind === 'video+audio');
  if (!video.length) throw new VidmuxError('unsupported', 'No video format is offered for this video.');
  const cap = quality === 'best' ? Infinity : Number(quality);
  const heights = [...new Set(video.map((f) => f.height ?? 0))].sort((a, b) => b - a);
  const height = heights.find((h) => h <= cap) ?? heights.at(-1)!;
  const candidates = video.filter((f) => (f.height ?? 0) === height);
  candidates.sort(
    (a, b) =>
      codecRank(a.videoCodec, pref) - codecRank(b.videoCodec, pref) ||
      Number(a.delivery === 'tracks') - Number(b.delivery === 'tracks') ||
      (b.bitrateKbps ?? 0) - (a.bitrateKbps ?? 0),
  );
  return candidates[0]!;
}

/** What the user asked for, however they asked (preset, quick choice, or an exact format). */
export interface FormatWish {
  quality: Quality;
  audioFormat?: AudioFormat;
  codecPreference?: CodecPreference;
  /** An exact format from the picker, valid only for the provider that offered it. */
  formatId?: string | null;
  formatProvider?: string | null;
  /** Only a subtitle, in one of these languages (SRT preferred). */
  subtitlesOnly?: boolean;
  subtitleLanguages?: string[];
}

/**
 * The format to download from a provider's list: the exact one picked when this provider offered it,
 * else by quality; for MP3 only an MP3 format will do (a provider without one fails, so the next
 * provider is tried).
 */
export function chooseFormat(info: { provider: string; formats: Format[]; subtitles?: Format[] }, wish: FormatWish): Format {
  if (wish.subtitlesOnly) {
    const langs = wish.subtitleLanguages?.length ? wish.subtitleLanguages : ['en'];
    const subs = (info as { subtitles?: Format[] }).subtitles ?? [];
    const srtFirst = [...subs].sort((a, b) => Number(b.container === 'srt') - Number(a.container === 'srt'));
    const [sub] = pickSubtitles(srtFirst, langs);
    if (!sub) throw new VidmuxError('not_found', `${info.provider} has no ${langs.join('/')} subtitles for this video.`);
    return sub;
  }
  if (wish.formatId && wish.formatProvider === info.provider) {
    const exact = info.formats.find((f) => f.id === wish.formatId);
    if (exact) return exact;
  }
  if (wish.quality === 'audio' && wish.audioFormat === 'mp3') {
    const mp3 = info.formats.filter((f) => f.kind === 'audio' && f.container === 'mp3');
    if (!mp3.length) throw new VidmuxError('unsupported', `${info.provider} offers no MP3 for this video.`);
    return pickFormat(mp3, 'audio');
  }
  return pickFormat(info.formats, wish.quality, wish.codecPreference);
}

/** Subtitle formats for the wanted languages (manual tracks before automatic ones). */
export function pickSubtitles(subtitles: Format[], languages: string[]): Format[] {
  const out: Format[] = [];
  for (const lang of languages) {
    const matches = subtitles.filter((s) => (s.language ?? '').toLowerCase() === lang.toLowerCase() || (s.language ?? '').toLowerCase().startsWith(`${lang.toLowerCase()}-`));
    matches.sort((a, b) => Number(a.isAuto ?? false) - Number(b.isAuto ?? false));
    if (matches[0]) out.push(matches[0]);
  }
  return out;
}

/**
 * The quality a picked format stands for, should another provider have to take over: the largest
 * height step at or below it (the smallest step for anything lower); `best` when the height is unknown.
 */
export function qualityOf(format: Pick<Format, 'kind' | 'height'>): Quality {
  if (format.kind === 'audio') return 'audio';
  if (!format.height) return 'best';
  const steps = QUALITIES.filter((q) => /^\d+$/.test(q)).map(Number).sort((a, b) => b - a);
  const step = steps.find((h) => h <= format.height!) ?? steps.at(-1)!;
  return String(step) as Quality;
}
