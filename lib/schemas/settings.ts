import { z } from 'zod';
import { DEFAULT_LIMITS, TransferLimitsSchema } from './limits';
import { DEFAULT_FILENAME_TEMPLATE, templateProblem } from './filename-template';
import { VidioContractOverrideSchema } from './reel';
import { AudioCodecPreferenceSchema, AudioFormatSchema, CODEC_FAMILIES, ContainerPreferenceSchema, DEFAULT_CODEC_PREFERENCE, KeyedProviderSchema, PROVIDER_IDS, ProviderIdSchema, QualitySchema, SiteHostSchema } from './ids';

/**
 * User preferences. Every read goes through this schema; anything missing, unknown or broken falls
 * back to its default, field by field. API keys are NOT here: they live in the background's key
 * store (lib/platform/key-store.ts), out of content scripts' reach.
 */
export const SettingsSchema = z.object({
  filenameTemplate: z
    .string()
    .max(300)
    .refine((t) => templateProblem(t) === null, { message: 'Invalid filename template' })
    .catch(DEFAULT_FILENAME_TEMPLATE)
    .default(DEFAULT_FILENAME_TEMPLATE),
  /** Providers in the order they are tried; those without a key are skipped. */
  providerOrder: z
    .array(ProviderIdSchema)
    .refine((a) => new Set(a).size === a.length && a.length === PROVIDER_IDS.length, { message: 'Every provider once' })
    .catch(['vidpickr', 'renderio', 'tornado', 'page'])
    .default(['vidpickr', 'renderio', 'tornado', 'page']),
  /** Advanced: a base URL per provider (proxies, self-hosting); null means the real one. */
  baseUrls: z.partialRecord(KeyedProviderSchema, z.string().url().nullable()).catch({}).default({}),
  quality: QualitySchema.catch('best').default('best'),
  subtitleLanguages: z.array(z.string().regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})?$/)).max(10).catch([]).default([]),
  /** Video codecs in the order to prefer them when a source offers several at one height. */
  codecPreference: z
    .array(z.enum(CODEC_FAMILIES))
    .refine((a) => new Set(a).size === a.length && a.length > 0, { message: 'Each codec once' })
    .catch([...DEFAULT_CODEC_PREFERENCE])
    .default([...DEFAULT_CODEC_PREFERENCE]),
  /** Audio-only saves: M4A (the original AAC, no re-encode) or MP3 (made by a provider). */
  audioFormat: AudioFormatSchema.catch('m4a').default('m4a'),
  /** The saved file's container when Vidmux joins tracks: MP4, or WebM when the source is WebM. */
  container: ContainerPreferenceSchema.catch('mp4').default('mp4'),
  /** The sound that goes with a video: the one that comes with it, or AAC / Opus when offered. */
  audioCodec: AudioCodecPreferenceSchema.catch('auto').default('auto'),
  /** Corrections to VIDIO's inferred HTTP contract (header, paths): empty uses the inferred defaults. */
  vidioContract: VidioContractOverrideSchema.catch({}).default({}),
  /** Parallel connections per track. */
  connections: z.number().int().min(1).max(10).catch(4).default(4),
  /** When a download gives up rather than hang. */
  limits: TransferLimitsSchema.catch(DEFAULT_LIMITS).default(DEFAULT_LIMITS),
  /**
   * Sites (host names) whose pages may make Vidmux fetch local addresses: this computer and the
   * local network (lib/net/address.ts). Pages on the internet may not, unless the user allowed it.
   */
  privateNetworkSites: z.array(SiteHostSchema).max(200).catch([]).default([]),
});
export type Settings = z.infer<typeof SettingsSchema>;

export const DEFAULT_SETTINGS: Settings = SettingsSchema.parse({});

/** Parses whatever was stored (possibly from an older version, possibly corrupt) into valid settings. */
export function parseStoredSettings(raw: unknown): Settings {
  const r = SettingsSchema.safeParse(raw && typeof raw === 'object' ? raw : {});
  return r.success ? r.data : DEFAULT_SETTINGS;
}
