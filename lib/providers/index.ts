/** Building providers from settings: the one place that knows every provider class. */
import type { HttpClient } from '../net/http';
import { DEFAULT_BASE_URLS } from './auth';
import { PageProvider } from './page';
import { RenderIoProvider } from './renderio';
import { TornadoStorageSchema } from '../schemas/tornado-storage';
import { TornadoProvider } from './tornado';
import type { Provider, ProviderId } from './types';
import { VidPickrProvider } from './vidpickr';

export interface ProviderSetup {
  id: ProviderId;
  apiKey: string | null;
  /** null: the provider's real API. */
  baseUrl: string | null;
}

/**
 * Builds providers in the given order, skipping keyed providers that have no key (the page needs
 * none). Each keyed provider gets its own HttpClient named after it, so errors say who failed.
 */
export function createProviders(setups: ProviderSetup[], opts: { http?: HttpClient; tornadoStorage?: unknown } = {}): Provider[] {
  const out: Provider[] = [];
  for (const s of setups) {
    if (s.id === 'page') {
      out.push(new PageProvider(opts.http ? { http: opts.http } : {}));
      continue;
    }
    if (!s.apiKey) continue;
    const config = { apiKey: s.apiKey, baseUrl: s.baseUrl ?? DEFAULT_BASE_URLS[s.id] };
    if (s.id === 'vidpickr') out.push(new VidPickrProvider(config));
    else if (s.id === 'renderio') out.push(new RenderIoProvider(config));
    else {
      const storage = opts.tornadoStorage ? TornadoStorageSchema.parse(opts.tornadoStorage) : null;
      out.push(new TornadoProvider({ ...config, storage }));
    }
  }
  return out;
}
