/**
 * API keys live in the extension's own IndexedDB, written and read only by the background.
 * Content scripts run in web pages' origins and cannot open it (unlike storage.local, which
 * Chrome exposes to content scripts); other extension pages go through background messages.
 */
import { createStore, del, get, set } from 'idb-keyval';
import { ApiKeySchema, KeyedProviderSchema, maskedKey, type KeyedProvider } from '../keys';

const store = createStore('vidmux-secrets', 'api-keys');

export async function getApiKey(provider: KeyedProvider): Promise<string | null> {
  const raw: unknown = await get(provider, store);
  const parsed = ApiKeySchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

export async function setApiKey(provider: KeyedProvider, key: string): Promise<string> {
  const clean = ApiKeySchema.parse(key);
  await set(provider, clean, store);
  return maskedKey(clean);
}

export async function removeApiKey(provider: KeyedProvider): Promise<void> {
  await del(provider, store);
}

/** Every provider with its masked key (or null): all that other contexts ever see of keys. */
export async function listMaskedKeys(): Promise<Array<{ provider: KeyedProvider; masked: string | null }>> {
  return Promise.all(
    KeyedProviderSchema.options.map(async (provider) => {
      const key = await getApiKey(provider);
      return { provider, masked: key ? maskedKey(key) : null };
    }),
  );
}
