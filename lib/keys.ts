/** API keys as the options page hints at them. Validity: ./schemas/keys.ts; storage: lib/platform/key-store.ts. */
import { maskKey } from './errors';
import type { KeyedProvider } from './schemas/ids';
import type { TornadoStorage } from './schemas/tornado-storage';

/** What each provider's keys usually start with (a hint for the user, not a rule). */
export const KEY_PREFIXES: Record<KeyedProvider, string> = { vidpickr: 'vpk_', renderio: 'ffsk_', tornado: 'sk_', vidio: '' }; // VIDIO's key format is not public

/** A hint when a key does not look like the provider's (pasted into the wrong field?), else null. */
export function keyHint(provider: KeyedProvider, key: string): string | null {
  const prefix = KEY_PREFIXES[provider];
  return key.startsWith(prefix) ? null : `${provider} keys usually start with "${prefix}".`;
}

/** Where Tornado puts files, with every secret masked: what the options page shows. */
export function describeTornadoStorage(s: TornadoStorage): string {
  const prefix = [s.base_folder ?? 'videos', s.folder_prefix].filter(Boolean).join('/');
  switch (s.provider) {
    case 's3':
      return `S3-compatible bucket "${s.bucket}" at ${s.endpoint} (${s.region}), key ${maskKey(s.access_key)}, folder ${prefix}`;
    case 'blob':
      return `Azure Blob container "${s.container}" of ${s.account_name}, folder ${prefix}`;
    case 'gcs':
      return `Google Cloud Storage bucket "${s.bucket}" (${s.project_id}), folder ${prefix}`;
    case 'oss':
      return `Alibaba OSS bucket "${s.bucket}" at ${s.endpoint}, key ${maskKey(s.access_key_id)}, folder ${prefix}`;
  }
}
