/** Building providers from setups: the one place that knows every provider class. */
import type { HttpClient } from '../net/http';
import type { ProviderSetup } from '../schemas/job-spec';
import type { TornadoStorage } from '../schemas/tornado-storage';
import { PageProvider } from './page';
import { RenderIoProvider } from './renderio';
import { TornadoProvider } from './tornado';
import type { Provider } from './types';
import { VidPickrProvider } from './vidpickr';

export type { ProviderSetup };

/** What every provider of a context shares. */
export interface ProviderContext {
  /** The context's one client: the per-host connection cap holds across providers and jobs. */
  http: HttpClient;
  tornadoStorage?: TornadoStorage | null;
  /** The page's files: parallel connections per track, and bytes per ranged request. */
  connections?: number;
  chunkSize?: number;
}

/** Builds providers in the given order, skipping keyed providers that have no key (the page needs none). */
export function createProviders(setups: ProviderSetup[], ctx: ProviderContext): Provider[] {
  const out: Provider[] = [];
  for (const s of setups) {
    if (s.id === 'page') {
      out.push(
        new PageProvider({
          http: ctx.http,
          ...(ctx.connections ? { connections: ctx.connections } : {}),
          ...(ctx.chunkSize ? { chunkSize: ctx.chunkSize } : {}),
          ...(s.privateNetworkSites ? { privateNetworkSites: s.privateNetworkSites } : {}),
        }),
      );
      continue;
    }
    if (!s.apiKey) continue;
    const config = { apiKey: s.apiKey, baseUrl: s.baseUrl, http: ctx.http };
    if (s.id === 'vidpickr') out.push(new VidPickrProvider(config));
    else if (s.id === 'renderio') out.push(new RenderIoProvider(config));
    else out.push(new TornadoProvider({ ...config, storage: ctx.tornadoStorage ?? null }));
  }
  return out;
}
