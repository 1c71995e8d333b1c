import { z } from 'zod';
import { DEFAULT_FILENAME_TEMPLATE, templateProblem } from './filename';

/** User preferences. Every read goes through this schema; unknown or broken values fall back to defaults. */
export const SettingsSchema = z.object({
  filenameTemplate: z
    .string()
    .max(300)
    .refine((t) => templateProblem(t) === null, { message: 'Invalid filename template' })
    .catch(DEFAULT_FILENAME_TEMPLATE)
    .default(DEFAULT_FILENAME_TEMPLATE),
});
export type Settings = z.infer<typeof SettingsSchema>;

export const DEFAULT_SETTINGS: Settings = SettingsSchema.parse({});

/** Parses whatever was stored (possibly from an older version, possibly corrupt) into valid settings. */
export function parseStoredSettings(raw: unknown): Settings {
  const r = SettingsSchema.safeParse(raw ?? {});
  return r.success ? r.data : DEFAULT_SETTINGS;
}

/** The storage key settings live under. */
export const SETTINGS_KEY = 'settings';
