/**
 * Where API keys may go: only to their own provider's origin, only over https (loopback excepted,
 * for local fakes and self-hosting on the same machine). Every provider request that carries a
 * key passes through {@link keyHeaders}.
 */
import { maskKey, VidmuxError } from '../../errors';
import type { KeyedProvider } from '../../schemas/ids';

/** The real API base URLs: the shipped defaults. */
export const DEFAULT_BASE_URLS: Record<KeyedProvider, string> = {
  vidpickr: 'https://api.vidpickr.com/v1',
  renderio: 'https://renderio.dev/api/v1',
  tornado: 'https://api.tornadoapi.io',
  // INFERRED (../shared/providers.md 4.3): VIDIO documents only its Python client, not its HTTP API.
  vidio: 'https://api.vidio.ai/v1',
};

function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** Throws unless `baseUrl` is https, or http on loopback. */
export function assertSafeBaseUrl(baseUrl: string, provider: string): URL {
  let u: URL;
  try {
    u = new URL(baseUrl);
  } catch {
    throw new VidmuxError('bad_input', `The ${provider} base URL is not a URL.`, { provider });
  }
  if (u.protocol === 'https:' || (u.protocol === 'http:' && isLoopback(u.hostname))) return u;
  throw new VidmuxError('bad_input', `The ${provider} base URL must use https (plain http only on this machine): ${u.origin}`, { provider });
}

/**
 * The headers that carry `key` to `url`, after checking that `url` is on the provider's own
 * origin (`baseUrl`) and safe to send a key to. A key never goes anywhere else.
 */
export function keyHeaders(url: string, baseUrl: string, header: string, key: string | null, provider: string): Record<string, string> {
  if (!key) throw new VidmuxError('unauthorized', `No ${provider} API key is set.`, { provider, status: 401 });
  const base = assertSafeBaseUrl(baseUrl, provider);
  const target = new URL(url);
  if (target.origin !== base.origin) {
    throw new VidmuxError('forbidden', `Refusing to send the ${provider} key (${maskKey(key)}) to ${target.origin}: it only goes to ${base.origin}.`, { provider });
  }
  return { [header]: key };
}
