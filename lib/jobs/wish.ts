/**
 * What a request wants, from how the user asked (a quick choice, the picker, CLI flags) and their
 * settings. One translation for every surface, so the chooser (./choose-format.ts) sees the same
 * wish whether the click came from YouTube's page, the popup or the command line.
 */
import type { Wish } from '../schemas/job-spec';
import type { UserChoice } from '../schemas/request';
import type { Settings } from '../schemas/settings';

/** The settings a wish falls back on. */
export type WishDefaults = Pick<Settings, 'quality' | 'audioFormat' | 'codecPreference' | 'subtitleLanguages' | 'container' | 'audioCodec'>;

export function wishFor(choice: UserChoice, settings: WishDefaults): Wish {
  const subtitlesOnly = choice.subtitlesOnly ?? false;
  return {
    quality: choice.quality ?? settings.quality,
    audioFormat: choice.audioFormat ?? settings.audioFormat,
    codecPreference: [...settings.codecPreference],
    container: settings.container,
    audioCodec: settings.audioCodec,
    formatId: choice.formatId ?? null,
    formatProvider: choice.formatProvider ?? null,
    // "Subtitles only" with no language set anywhere means English.
    subtitleLanguages: choice.subtitleLanguages ?? (subtitlesOnly && !settings.subtitleLanguages.length ? ['en'] : settings.subtitleLanguages),
    subtitlesOnly,
  };
}
