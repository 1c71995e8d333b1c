/**
 * The closed sets every layer names: providers, qualities, codec families, audio formats. A leaf
 * (zod only), so settings, messages and the UI can use them without loading any provider.
 */
import { z } from 'zod';

/** Every source of media, in the default order they are tried. */
export const PROVIDER_IDS = ['page', 'vidpickr', 'renderio', 'tornado'] as const;
export const ProviderIdSchema = z.enum(PROVIDER_IDS);
export type ProviderId = z.infer<typeof ProviderIdSchema>;

/** Who can make a saved file: a download provider, or VIDIO (a highlight reel). */
export const MakerIdSchema = z.enum([...PROVIDER_IDS, 'vidio']);
export type MakerId = z.infer<typeof MakerIdSchema>;

/**
 * Services that need an API key: the keyed download providers, and VIDIO (highlight reels from a
 * saved video; it resolves no page, so it is not in PROVIDER_IDS or the provider order).
 */
export const KEYED_PROVIDER_IDS = ['vidpickr', 'renderio', 'tornado', 'vidio'] as const;
export const KeyedProviderSchema = z.enum(KEYED_PROVIDER_IDS);
export type KeyedProvider = z.infer<typeof KeyedProviderSchema>;

/** What a user may ask for: the best there is, a height cap, or audio only. */
export const QUALITIES = ['best', '2160', '1440', '1080', '720', '480', '360', 'audio'] as const;
export const QualitySchema = z.enum(QUALITIES);
export type Quality = z.infer<typeof QualitySchema>;

/** Video codec families a user can rank. */
export const CODEC_FAMILIES = ['avc', 'hevc', 'av1', 'vp9'] as const;
export const CodecFamilySchema = z.enum(CODEC_FAMILIES);
export type CodecFamily = z.infer<typeof CodecFamilySchema>;
/** Codec families in the order a user prefers them. */
export type CodecPreference = readonly CodecFamily[];
/** H.264 first: it plays everywhere. */
export const DEFAULT_CODEC_PREFERENCE: CodecPreference = ['avc', 'vp9', 'av1', 'hevc'];
export const CodecPreferenceSchema = z
  .array(CodecFamilySchema)
  .max(CODEC_FAMILIES.length)
  .refine((a) => new Set(a).size === a.length, { message: 'Each codec once' });

/** Audio-only saves: M4A (the original AAC, no re-encode) or MP3 (made by a provider). */
export const AUDIO_FORMATS = ['m4a', 'mp3'] as const;
export const AudioFormatSchema = z.enum(AUDIO_FORMATS);
export type AudioFormat = z.infer<typeof AudioFormatSchema>;

/**
 * The saved file's container when Vidmux joins tracks itself: always MP4 (plays everywhere; VP9,
 * AV1 and Opus included), or WebM when the source is WebM (VP9/AV1 video that comes as WebM, with
 * WebM audio). VP8 and Vorbis, which MP4 cannot hold, are saved as WebM either way.
 */
export const CONTAINER_PREFERENCES = ['mp4', 'webm'] as const;
export const ContainerPreferenceSchema = z.enum(CONTAINER_PREFERENCES);
export type ContainerPreference = z.infer<typeof ContainerPreferenceSchema>;

/**
 * Which sound goes with a video: `auto` the audio that comes with it (AAC with MP4 video such as
 * H.264, Opus with WebM video such as VP9), or AAC / Opus whenever offered.
 */
export const AUDIO_CODEC_PREFERENCES = ['auto', 'aac', 'opus'] as const;
export const AudioCodecPreferenceSchema = z.enum(AUDIO_CODEC_PREFERENCES);
export type AudioCodecPreference = z.infer<typeof AudioCodecPreferenceSchema>;

/**
 * A site as the user allows it something: a page's host name as a URL writes it (lowercase,
 * punycode, IPv6 in brackets), without port.
 */
export const SiteHostSchema = z
  .string()
  .max(253)
  .regex(/^(?:[a-z0-9_-]+(?:\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\])$/, { message: 'Not a host name' });
