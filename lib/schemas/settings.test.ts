import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, parseStoredSettings } from './settings';

describe('parseStoredSettings', () => {
  it('gives defaults for nothing or garbage', () => {
    expect(parseStoredSettings(undefined)).toEqual(DEFAULT_SETTINGS);
    expect(parseStoredSettings('x')).toEqual(DEFAULT_SETTINGS);
    expect(DEFAULT_SETTINGS).toMatchObject({ filenameTemplate: '{title}.{ext}', providerOrder: ['vidpickr', 'renderio', 'tornado', 'page'], quality: 'best', connections: 4 });
  });
  it('keeps valid fields and replaces only the broken ones', () => {
    const s = parseStoredSettings({ filenameTemplate: '../x', providerOrder: ['page', 'tornado', 'renderio', 'vidpickr'], quality: '999', connections: 50, subtitleLanguages: ['en', 'pt-BR'] });
    expect(s.filenameTemplate).toBe('{title}.{ext}');
    expect(s.providerOrder).toEqual(['page', 'tornado', 'renderio', 'vidpickr']);
    expect(s.quality).toBe('best');
    expect(s.connections).toBe(4);
    expect(s.subtitleLanguages).toEqual(['en', 'pt-BR']);
  });
  it('rejects a provider order that drops or repeats providers', () => {
    expect(parseStoredSettings({ providerOrder: ['page', 'page'] }).providerOrder).toEqual(DEFAULT_SETTINGS.providerOrder);
  });
  it('sites allowed local addresses: none by default; host names only', () => {
    expect(DEFAULT_SETTINGS.privateNetworkSites).toEqual([]);
    expect(parseStoredSettings({ privateNetworkSites: ['public.example', '[2001:db8::1]'] }).privateNetworkSites).toEqual(['public.example', '[2001:db8::1]']);
    expect(parseStoredSettings({ privateNetworkSites: ['https://public.example/'] }).privateNetworkSites).toEqual([]);
  });
});
