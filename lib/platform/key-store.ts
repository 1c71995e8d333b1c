/**
 * API keys live in the extension's own IndexedDB, written and read only by the background.
 * Content scripts run in web pages' origins and cannot open it (unlike storage.local, which
 * Chrome exposes to content scripts); other extension pages go through background messages.
 */
import { createStore, del, get, set } from 'idb-keyval';
import { maskKey, VidmuxError } from '../errors';
import { KeyedProviderSchema, type KeyedProvider } from '../schemas/ids';
import { ApiKeySchema } from '../schemas/keys';
import { TornadoStorageSchema, type TornadoStorage } from '../schemas/tornado-storage';

const store = createStore('vidmux-secrets', 'api-keys');

export async function getApiKey(provider: KeyedProvider): Promise<string | null> {
  const raw: unknown = await get(provider, store);
  const parsed = ApiKeySchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

export async function setApiKey(provider: KeyedProvider, key: string): Promise<string> {
  const clean = ApiKeySchema.parse(key);
  await set(provider, clean, store);
  return maskKey(clean);
}

export async function removeApiKey(provider: KeyedProvider): Promise<void> {
  await del(provider, store);
}

/** Every provider with its masked key (or null): all that other contexts ever see of keys. */
export async function listMaskedKeys(): Promise<Array<{ provider: KeyedProvider; masked: string | null }>> {
  return Promise.all(
    KeyedProviderSchema.options.map(async (provider) => {
      const key = await getApiKey(provider);
      return { provider, masked: key ? maskKey(key) : null };
    }),
  );
}

const TORNADO_STORAGE = 'tornado-storage';

/** Tornado custom storage (bucket credentials): a secret like the keys, kept the same way. */
export async function getTornadoStorage(): Promise<TornadoStorage | null> {
  const parsed = TornadoStorageSchema.safeParse(await get(TORNADO_STORAGE, store));
  return parsed.success ? parsed.data : null;
}

export async function setTornadoStorage(config: unknown): Promise<TornadoStorage> {
  const parsed = TornadoStorageSchema.safeParse(config);
  if (!parsed.success) throw new VidmuxError('bad_input', `Storage settings: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; ')}`);
  await set(TORNADO_STORAGE, parsed.data, store);
  return parsed.data;
}

export async function removeTornadoStorage(): Promise<void> {
  await del(TORNADO_STORAGE, store);
}

/** Where files go, with every secret masked: what the options page shows. */
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
