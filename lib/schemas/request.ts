/** A download as the user asks for it, from any surface (button, quick choice, picker, menu, retry). */
import { z } from 'zod';
import { AudioFormatSchema, ProviderIdSchema, QualitySchema } from './ids';
import { MediaCandidateSchema, PageSchema } from './media';

/** How the user asked: a preset override, a quick choice, or an exact format from the picker. */
export const UserChoiceSchema = z.object({
  quality: QualitySchema.optional(),
  audioFormat: AudioFormatSchema.optional(),
  formatId: z.string().max(4000).optional(),
  formatProvider: ProviderIdSchema.optional(),
  /** Subtitle languages to save beside the video (default: the settings'). */
  subtitleLanguages: z.array(z.string().max(20)).max(10).optional(),
  /** Only the subtitles (in the languages above, else the settings', else English), no video. */
  subtitlesOnly: z.boolean().optional(),
});
export type UserChoice = z.infer<typeof UserChoiceSchema>;

/** A download request as it crosses contexts (and as a job keeps it, for retry). */
export const DownloadRequestSchema = z.object({
  page: PageSchema,
  /** The clicked video, if any. */
  media: MediaCandidateSchema.nullable().default(null),
  /** An explicit target (a link from the context menu); default: the page. */
  url: z.string().url().max(8192).optional(),
  tabId: z.number().int().optional(),
  choice: UserChoiceSchema.default({}),
});
export type DownloadRequest = z.infer<typeof DownloadRequestSchema>;
export type DownloadRequestInput = z.input<typeof DownloadRequestSchema>;
