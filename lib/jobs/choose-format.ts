/**
 * The one chooser: which of a provider's formats a request gets, by quality and codec preference
 * (never by the order the provider listed them in), or the exact format picked in the popup. The
 * engine, the CLI and the popup's preselection all call it.
 */
import { codecDisplayName, codecRank, engineCodec, familyFits, type EngineAudio, type EngineVideo, type OutputContainer } from '../codecs';
import { VidmuxError } from '../errors';
import {
  DEFAULT_CODEC_PREFERENCE,
  QUALITIES,
  type AudioCodecPreference,
  type AudioFormat,
  type CodecPreference,
  type ContainerPreference,
  type Quality,
} from '../schemas/ids';
import type { Format } from '../schemas/media';

/** What the chooser weighs besides the quality: the user's preferences, from the wish. */
export interface FormatPrefs {
  codecPreference?: CodecPreference;
  /** Audio-only saves: M4A wants AAC (Opus only when there is no AAC). */
  audioFormat?: AudioFormat;
  audioCodec?: AudioCodecPreference;
  container?: ContainerPreference;
}

/** How one format would be saved: the chooser's one-line answer, shown in the popup. */
export interface FormatPlan {
  format: Format;
  /** The audio-only format whose sound goes with a video that {@link Format.pairsWithAudio}. */
  audio: Format | null;
  /** The saved file's container: mp4, m4a, webm; a file's own (mp3, srt...) when saved as served. */
  container: string;
  /** The media engine's output when Vidmux joins the tracks; null for a file saved as served. */
  mux: OutputContainer | null;
  /** Why not, when the engine cannot save it without re-encoding. */
  unsaveable: string | null;
  /** One line: "VP9 + Opus in MP4", "AAC in M4A", "MP4 file as served". */
  note: string;
}

/** The engine family of a codec string: undefined when the provider does not say, null when the engine can't copy it. */
function familyOf(codec: string | null): EngineVideo | EngineAudio | null | undefined {
  if (!codec) return undefined;
  return engineCodec(codec, { allAudio: true })?.family ?? null;
}

/** mp4/m4a/mov are one kind of source, webm/mkv another. */
function containerKind(container: string | null | undefined): 'mp4' | 'webm' | null {
  const c = (container ?? '').toLowerCase();
  if (c === 'mp4' || c === 'm4a' || c === 'm4v' || c === 'mov') return 'mp4';
  if (c === 'webm' || c === 'mkv') return 'webm';
  return null;
}

/** The audio that goes with `video` in `container`, best first (see {@link AudioCodecPreference}). */
function rankAudio(audios: Format[], video: Format, prefs: FormatPrefs): Format[] {
  const want = prefs.audioCodec ?? 'auto';
  const videoKind = containerKind(video.sourceContainer) ?? (['avc', 'hevc'].includes(String(familyOf(video.videoCodec))) ? 'mp4' : null);
  const score = (a: Format): number => {
    const fam = familyOf(a.audioCodec);
    if (want === 'aac') return fam === 'aac' ? 0 : 1;
    if (want === 'opus') return fam === 'opus' ? 0 : 1;
    // The sound that comes with the video: AAC in MP4 beside MP4 video (H.264 plays everywhere
    // with it), Opus in WebM beside WebM video.
    return videoKind && containerKind(a.sourceContainer ?? a.container) === videoKind ? 0 : 1;
  };
  return [...audios].sort((a, b) => score(a) - score(b) || (b.bitrateKbps ?? 0) - (a.bitrateKbps ?? 0) || a.id.localeCompare(b.id));
}

/** How a container is written: MP4, M4A, WebM, SRT... */
const UPPER = (c: string) => (c.toLowerCase() === 'webm' ? 'WebM' : c.toUpperCase());

/**
 * How `format` of `info` would be saved under `prefs`: the container (MP4 unless WebM is wanted and
 * the source is WebM, or the codecs fit only WebM), the audio paired with a video that takes its
 * sound from the provider's audio list, and whether the engine can save it at all.
 */
export function planFormat(info: { formats: Format[] }, format: Format, prefs: FormatPrefs = {}): FormatPlan {
  const plan = (container: string, mux: OutputContainer | null, audio: Format | null, note: string): FormatPlan => ({ format, audio, container, mux, unsaveable: null, note });
  if (format.kind === 'subtitle') return plan(format.container, null, null, `${UPPER(format.container)} subtitles`);
  const v = format.kind === 'audio' ? undefined : familyOf(format.videoCodec);
  const names = (video: string | null, audio: string | null) => [video, audio].filter(Boolean).map((c) => codecDisplayName(c)).join(' + ');
  if (format.delivery === 'file') {
    const what = names(format.videoCodec, format.audioCodec);
    return plan(format.container, null, null, what ? `${what} in ${UPPER(format.container)}, saved as served` : `${UPPER(format.container)} file, saved as served`);
  }
  const refuse = (why: string): FormatPlan => ({ format, audio: null, container: format.container, mux: null, unsaveable: why, note: why });
  if (v === null) return refuse(`${codecDisplayName(format.videoCodec)} video can't be saved without re-encoding`);
  const own = format.pairsWithAudio ? undefined : familyOf(format.audioCodec);
  if (own === null) return refuse(`${codecDisplayName(format.audioCodec)} audio can't be saved without re-encoding`);
  const audios = format.pairsWithAudio
    ? info.formats.filter((a) => a.kind === 'audio' && a.delivery === 'tracks' && a.provider === format.provider && familyOf(a.audioCodec) !== null)
    : [];
  const source = containerKind(format.sourceContainer);
  const order: OutputContainer[] = prefs.container === 'webm' && source === 'webm' ? ['webm', 'mp4'] : ['mp4', 'webm'];
  for (const c of order) {
    if (v && !familyFits(v, c)) continue;
    if (own && !familyFits(own, c)) continue;
    let audio: Format | null = null;
    if (format.pairsWithAudio && audios.length) {
      audio = rankAudio(audios.filter((a) => { const f = familyOf(a.audioCodec); return !f || familyFits(f, c); }), format, prefs)[0] ?? null;
      if (!audio) continue;
    }
    const audioCodec = audio?.audioCodec ?? (format.pairsWithAudio ? null : format.audioCodec);
    // Audio-only AAC in MP4 is an .m4a.
    const container = c === 'mp4' && format.kind === 'audio' && own === 'aac' ? 'm4a' : c;
    const what = names(format.kind === 'audio' ? null : format.videoCodec, audioCodec) || (format.kind === 'audio' ? 'Audio' : 'Video');
    return plan(container, c, audio, `${what} in ${UPPER(container)}`);
  }
  return refuse(`${names(format.videoCodec, format.audioCodec)} fits neither MP4 nor WebM without re-encoding`);
}

/**
 * Picks the format for a quality among those the engine can save ({@link planFormat}): `audio`
 * the best audio-only format (AAC for M4A unless Opus is preferred, then bitrate); a height the
 * tallest video at or below it (else the lowest there is); `best` the tallest. At one height: the
 * preferred codec, then a source container the output needs no conversion from, then a finished
 * file over tracks, then bitrate.
 */
export function pickFormat(formats: Format[], quality: Quality, prefs: FormatPrefs | CodecPreference = {}): Format {
  const p: FormatPrefs = Array.isArray(prefs) ? { codecPreference: prefs as CodecPreference } : (prefs as FormatPrefs);
  const pref = p.codecPreference ?? DEFAULT_CODEC_PREFERENCE;
  const info = { formats };
  const plans = new Map(formats.map((f) => [f, planFormat(info, f, p)]));
  const saveable = (f: Format) => plans.get(f)!.unsaveable === null;
  if (quality === 'audio') {
    const audio = formats.filter((f) => f.kind === 'audio' && saveable(f));
    const wantFam = p.audioCodec === 'opus' ? 'opus' : p.audioCodec === 'aac' || (p.audioFormat ?? 'm4a') === 'm4a' ? 'aac' : null;
    const fits = (f: Format) => (wantFam && familyOf(f.audioCodec) === wantFam ? 0 : 1);
    audio.sort((a, b) => fits(a) - fits(b) || (b.bitrateKbps ?? 0) - (a.bitrateKbps ?? 0) || Number(b.container === 'm4a') - Number(a.container === 'm4a'));
    if (!audio[0]) throw new VidmuxError('unsupported', 'No audio-only format that can be saved without re-encoding is offered for this video.');
    return audio[0];
  }
  const all = formats.filter((f) => f.kind === 'video+audio');
  if (!all.length) throw new VidmuxError('unsupported', 'No video format is offered for this video.');
  const video = all.filter(saveable);
  if (!video.length) throw new VidmuxError('unsupported', `None of this video's formats can be saved without re-encoding (${plans.get(all[0]!)!.unsaveable}).`);
  const cap = quality === 'best' ? Infinity : Number(quality);
  const heights = [...new Set(video.map((f) => f.height ?? 0))].sort((a, b) => b - a);
  const height = heights.find((h) => h <= cap) ?? heights.at(-1)!;
  const candidates = video.filter((f) => (f.height ?? 0) === height);
  const converts = (f: Format) => {
    const plan = plans.get(f)!;
    return plan.mux !== null && containerKind(f.sourceContainer) !== null && containerKind(f.sourceContainer) !== plan.mux ? 1 : 0;
  };
  candidates.sort(
    (a, b) =>
      codecRank(a.videoCodec, pref) - codecRank(b.videoCodec, pref) ||
      converts(a) - converts(b) ||
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
  audioCodec?: AudioCodecPreference;
  container?: ContainerPreference;
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
    return pickFormat(mp3, 'audio', wish);
  }
  return pickFormat(info.formats, wish.quality, wish);
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
