/**
 * API keys live in the extension's own IndexedDB, written and read only by the background.
 * Content scripts run in web pages' origins and cannot open it (unlike storage.local, which
 * Chrome exposes to content scripts); other extension pages go through background messages.
 * idb-keyval is the whole IndexedDB layer. Reads are cached for the worker's lifetime: only this
 * store writes keys, so the cache cannot go stale.
 */
import { createStore, del, get, set } from 'idb-keyval';
import { maskKey, VidmuxError } from '../errors';
import type { KeyStore } from '../background/ports';
import type { KeyedProvider } from '../schemas/ids';
import { ApiKeySchema } from '../schemas/keys';
import { TornadoStorageSchema, type TornadoStorage } from '../schemas/tornado-storage';

const db = createStore('vidmux-secrets', 'api-keys');
const TORNADO_STORAGE = 'tornado-storage';

export class IdbKeyStore implements KeyStore {
  private readonly cache = new Map<string, Promise<unknown>>();

  private read(name: string): Promise<unknown> {
    let hit = this.cache.get(name);
    if (!hit) this.cache.set(name, (hit = get(name, db).catch(() => undefined)));
    return hit;
  }

  private async write(name: string, value: unknown): Promise<void> {
    this.cache.delete(name);
    if (value === undefined) await del(name, db);
    else await set(name, value, db);
    this.cache.set(name, Promise.resolve(value));
  }

  async get(provider: KeyedProvider): Promise<string | null> {
    const parsed = ApiKeySchema.safeParse(await this.read(provider));
    return parsed.success ? parsed.data : null;
  }

  async set(provider: KeyedProvider, key: string): Promise<string> {
    const clean = ApiKeySchema.parse(key);
    await this.write(provider, clean);
    return maskKey(clean);
  }

  async remove(provider: KeyedProvider): Promise<void> {
    await this.write(provider, undefined);
  }

  /** Tornado custom storage (bucket credentials): a secret like the keys, kept the same way. */
  async getTornadoStorage(): Promise<TornadoStorage | null> {
    const parsed = TornadoStorageSchema.safeParse(await this.read(TORNADO_STORAGE));
    return parsed.success ? parsed.data : null;
  }

  async setTornadoStorage(config: unknown): Promise<TornadoStorage> {
    const parsed = TornadoStorageSchema.safeParse(config);
    if (!parsed.success) throw new VidmuxError('bad_input', `Storage settings: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; ')}`);
    await this.write(TORNADO_STORAGE, parsed.data);
    return parsed.data;
  }

  async removeTornadoStorage(): Promise<void> {
    await this.write(TORNADO_STORAGE, undefined);
  }
}
