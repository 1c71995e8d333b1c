import { describe, expect, it } from 'vitest';
import { VidmuxError } from '../lib/errors';
import { localSitesHint, setupsFromEnv } from './providers-env';

describe('setupsFromEnv: sites allowed local addresses', () => {
  it('VIDMUX_LOCAL_SITES goes to the page provider, host names only', () => {
    expect(setupsFromEnv('page', {})).toEqual([{ id: 'page', apiKey: null, baseUrl: null }]);
    expect(setupsFromEnv('page', { VIDMUX_LOCAL_SITES: ' Public.Example, not a site,intranet.example.com' })).toEqual([
      { id: 'page', apiKey: null, baseUrl: null, privateNetworkSites: ['public.example', 'intranet.example.com'] },
    ]);
  });
  it('an error a site’s allowance fixes says how to allow it here', () => {
    expect(localSitesHint(new VidmuxError('forbidden', 'x', { privateNetworkSite: 'public.example' }))).toBe(' (here: VIDMUX_LOCAL_SITES=public.example allows it)');
    expect(localSitesHint(new VidmuxError('forbidden', 'x'))).toBe('');
  });
});
