/**
 * Providers for the CLI, from the environment: keys from VIDPICKR_API_KEY, RENDERIO_API_KEY,
 * TORNADO_API_KEY; base URLs from VIDPICKR_BASE_URL, RENDERIO_BASE_URL, TORNADO_BASE_URL (the real
 * APIs by default). Without --provider: the providers with a key in that order, then the page.
 * VIDMUX_LOCAL_SITES (comma separated host names): sites whose pages may make the page provider
 * fetch local addresses, as the extension's "Local addresses" setting.
 */
import { VidmuxError } from '../lib/errors';
import { HttpClient } from '../lib/net/http';
import { createProviders, type ProviderContext } from '../lib/providers';
import type { Provider } from '../lib/providers/types';
import { PROVIDER_IDS, SiteHostSchema, type KeyedProvider, type ProviderId } from '../lib/schemas/ids';
import type { ProviderSetup } from '../lib/schemas/job-spec';

/** Environment variable names the CLI reads keys and base URLs from. */
export const ENV_NAMES: Record<KeyedProvider, { key: string; baseUrl: string }> = {
  vidpickr: { key: 'VIDPICKR_API_KEY', baseUrl: 'VIDPICKR_BASE_URL' },
  renderio: { key: 'RENDERIO_API_KEY', baseUrl: 'RENDERIO_BASE_URL' },
  tornado: { key: 'TORNADO_API_KEY', baseUrl: 'TORNADO_BASE_URL' },
  vidio: { key: 'VIDIO_API_KEY', baseUrl: 'VIDIO_BASE_URL' },
};

/** Sites allowed local addresses (see the module comment). */
export const LOCAL_SITES_ENV = 'VIDMUX_LOCAL_SITES';

/** What the CLI adds to an error that a site's allowance would fix. */
export function localSitesHint(err: VidmuxError): string {
  return err.privateNetworkSite ? ` (here: ${LOCAL_SITES_ENV}=${err.privateNetworkSite} allows it)` : '';
}

/** The providers to try, in order, with their keys: only `only` when given (it must have a key). */
export function setupsFromEnv(only: string | undefined, env: NodeJS.ProcessEnv = process.env): ProviderSetup[] {
  if (only !== undefined && !(PROVIDER_IDS as readonly string[]).includes(only)) {
    throw new VidmuxError('bad_input', `Unknown provider "${only}". Use one of: ${PROVIDER_IDS.join(', ')}.`);
  }
  const order: ProviderId[] = only ? [only as ProviderId] : ['vidpickr', 'renderio', 'tornado', 'page'];
  const sites = (env[LOCAL_SITES_ENV] ?? '').split(',').map((s) => s.trim().toLowerCase()).filter((s) => SiteHostSchema.safeParse(s).success);
  const setups: ProviderSetup[] = order.map((id) =>
    id === 'page'
      ? { id, apiKey: null, baseUrl: null, ...(sites.length ? { privateNetworkSites: sites } : {}) }
      : { id, apiKey: env[ENV_NAMES[id].key] || null, baseUrl: env[ENV_NAMES[id].baseUrl] || null },
  );
  if (only && only !== 'page' && !setups[0]!.apiKey) {
    throw new VidmuxError('unauthorized', `${ENV_NAMES[only as KeyedProvider].key} is not set.`, { provider: only as KeyedProvider });
  }
  return setups.filter((s) => s.id === 'page' || s.apiKey);
}

/** The CLI process's one HTTP client: every provider and download shares its per-host cap. */
export const cliHttp = new HttpClient();

/** Providers built from setups on the CLI's client. */
export function providersFor(setups: ProviderSetup[], extra: Omit<ProviderContext, 'http'> = {}, http: HttpClient = cliHttp): Provider[] {
  return createProviders(setups, { http, ...extra });
}
