/**
 * Handlers of the key and storage messages (options page only, by the protocol): keys are set,
 * tested and removed here and leave the background only masked.
 */
import { maskKey, VidmuxError } from '../../errors';
import { describeTornadoStorage } from '../../keys';
import type { Handlers } from '../../messages';
import { KEYED_PROVIDER_IDS } from '../../schemas/ids';
import type { BackgroundPorts } from '../ports';

export function keyHandlers(ports: Pick<BackgroundPorts, 'keys' | 'loadSettings' | 'createProviders' | 'createReelService'>): Handlers {
  const { keys } = ports;
  return {
    'keys.list': async () => ({
      keys: await Promise.all(
        KEYED_PROVIDER_IDS.map(async (provider) => {
          const key = await keys.get(provider);
          return { provider, masked: key ? maskKey(key) : null };
        }),
      ),
    }),
    'keys.set': async ({ provider, key }) => ({ masked: await keys.set(provider, key) }),
    'keys.remove': async ({ provider }) => {
      await keys.remove(provider);
      return {};
    },
    'keys.test': async ({ provider }) => {
      const settings = await ports.loadSettings();
      const apiKey = await keys.get(provider);
      if (provider === 'vidio') {
        if (!apiKey) throw new VidmuxError('unauthorized', 'No key is set for VIDIO.');
        return ports.createReelService(apiKey, settings.baseUrls.vidio ?? null, settings.vidioContract).checkKey();
      }
      const [p] = ports.createProviders([{ id: provider, apiKey, baseUrl: settings.baseUrls[provider] ?? null }], null);
      if (!p) throw new VidmuxError('unauthorized', 'No key is set for this provider.');
      return p.checkKey();
    },
    'storage.get': async () => {
      const storage = await keys.getTornadoStorage();
      return { summary: storage ? describeTornadoStorage(storage) : null };
    },
    'storage.set': async ({ config }) => ({ summary: describeTornadoStorage(await keys.setTornadoStorage(config)) }),
    'storage.remove': async () => {
      await keys.removeTornadoStorage();
      return {};
    },
  };
}
