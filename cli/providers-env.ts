/**
 * Providers for the CLI, from the environment: keys from VIDPICKR_API_KEY, RENDERIO_API_KEY,
 * TORNADO_API_KEY; base URLs from VIDPICKR_BASE_URL, RENDERIO_BASE_URL, TORNADO_BASE_URL (the real
 * APIs by default). Without --provider: the providers with a key in that order, then the page.
 */
import { VidmuxError } from '../lib/errors';
import { ENV_NAMES } from '../lib/providers/auth';
import { createProviders, type ProviderSetup } from '../lib/providers';
import { PageProvider } from '../lib/providers/page';
import type { Provider } from '../lib/providers/types';
import { PROVIDER_IDS, type ProviderId } from '../lib/schemas/ids';

export function providersFromEnv(only: string | undefined, page: { connections?: number; chunkSize?: number } = {}, env = process.env): Provider[] {
  if (only !== undefined && !(PROVIDER_IDS as readonly string[]).includes(only)) {
    throw new VidmuxError('bad_input', `Unknown provider "${only}". Use one of: ${PROVIDER_IDS.join(', ')}.`);
  }
  const order: ProviderId[] = only ? [only as ProviderId] : ['vidpickr', 'renderio', 'tornado', 'page'];
  const setups: ProviderSetup[] = order.map((id) =>
    id === 'page' ? { id, apiKey: null, baseUrl: null } : { id, apiKey: env[ENV_NAMES[id].key] || null, baseUrl: env[ENV_NAMES[id].baseUrl] || null },
  );
  if (only && only !== 'page' && !setups[0]!.apiKey) {
    throw new VidmuxError('unauthorized', `${ENV_NAMES[only as Exclude<ProviderId, 'page'>].key} is not set.`, { provider: only });
  }
  return createProviders(setups).map((p) => (p.id === 'page' ? new PageProvider(page) : p));
}
