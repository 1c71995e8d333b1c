/** API keys: what a valid one looks like and how it is shown. Storage is lib/platform/key-store.ts. */
import { z } from 'zod';
import { maskKey } from './errors';

export const KeyedProviderSchema = z.enum(['vidpickr', 'renderio', 'tornado']);
export type KeyedProvider = z.infer<typeof KeyedProviderSchema>;

/** What each provider's keys usually start with (a hint for the user, not a rule). */
export const KEY_PREFIXES: Record<KeyedProvider, string> = { vidpickr: 'vpk_', renderio: 'ffsk_', tornado: 'sk_' };

export const ApiKeySchema = z
  .string()
  .trim()
  .min(8, 'That key is too short.')
  .max(512, 'That key is too long.')
  .regex(/^[\x21-\x7e]+$/, 'A key has no spaces or special characters.');

/** A key as it may be shown anywhere: `vpk_live_...abcd`. */
export function maskedKey(key: string): string {
  return maskKey(key);
}

/** A hint when a key does not look like the provider's (pasted into the wrong field?), else null. */
export function keyHint(provider: KeyedProvider, key: string): string | null {
  const prefix = KEY_PREFIXES[provider];
  return key.startsWith(prefix) ? null : `${provider} keys usually start with "${prefix}".`;
}
