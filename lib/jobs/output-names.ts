/**
 * The names a finished job's files get: the user's template filled in from what was made, and
 * subtitles beside the video (same name, their language, their own extension). One naming for
 * the extension's downloads and the CLI.
 */
import { isoDate, renderFilename } from '../filename';
import type { Made } from '../schemas/job-spec';
import { hostnameOf, youtubeVideoId } from '../sites';

export interface NamingInput {
  template: string;
  /** The title the user saw (the page's); the provider's title when that is empty or generic. */
  title: string;
  pageUrl: string;
  /** The URL that was saved (its YouTube id fills `{id}` when the provider gave none). */
  sourceUrl: string;
  made: Pick<Made, 'provider' | 'title' | 'container' | 'height' | 'mediaId'>;
  now?: Date;
}

/** The main file's relative name and the title it was named with. */
export function mainFileName(input: NamingInput): { title: string; filename: string } {
  const { made } = input;
  const title = input.title && input.title !== 'video' ? input.title : made.title || input.title || 'video';
  const id = made.mediaId ?? youtubeVideoId(input.sourceUrl);
  const filename = renderFilename(input.template, {
    title,
    host: hostnameOf(input.pageUrl),
    date: isoDate(input.now),
    provider: made.provider,
    height: made.height,
    id,
    ext: made.container,
  });
  return { title, filename };
}

/** A subtitle's name beside the main file: `<stem>.<language>.<container>`. */
export function subtitleFileName(mainFilename: string, language: string, container: string): string {
  const stem = mainFilename.replace(/\.[a-z0-9]+$/i, '');
  const lang = language.replace(/[^\w-]/g, '') || 'und';
  return `${stem}.${lang}.${container}`;
}
