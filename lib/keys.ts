/** API keys as the options page hints at them. Validity: ./schemas/keys.ts; storage: lib/platform/key-store.ts. */
import type { KeyedProvider } from './schemas/ids';

/** What each provider's keys usually start with (a hint for the user, not a rule). */
export const KEY_PREFIXES: Record<KeyedProvider, string> = { vidpickr: 'vpk_', renderio: 'ffsk_', tornado: 'sk_' };

/** A hint when a key does not look like the provider's (pasted into the wrong field?), else null. */
export function keyHint(provider: KeyedProvider, key: string): string | null {
  const prefix = KEY_PREFIXES[provider];
  return key.startsWith(prefix) ? null : `${provider} keys usually start with "${prefix}".`;
}
