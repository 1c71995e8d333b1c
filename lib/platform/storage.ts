import { browser } from 'wxt/browser';
import { parseStoredSettings, SettingsSchema, type Settings } from '../schemas/settings';

/** The storage key settings live under. */
const SETTINGS_KEY = 'settings';

/** Reads the settings, always valid (defaults fill in whatever is missing or corrupt). */
export async function loadSettings(): Promise<Settings> {
  const got = await browser.storage.local.get(SETTINGS_KEY);
  return parseStoredSettings(got[SETTINGS_KEY]);
}

/** Validates and saves settings; throws with the schema's reason if they are invalid. */
export async function saveSettings(next: Settings): Promise<Settings> {
  const parsed = SettingsSchema.parse(next);
  await browser.storage.local.set({ [SETTINGS_KEY]: parsed });
  return parsed;
}

/**
 * Session storage for state a restarted service worker must find again (jobs, media per tab).
 * storage.session is cleared when the browser closes and is not readable by content scripts.
 */
export const sessionStore = {
  async get<T>(key: string): Promise<T | undefined> {
    const got = await browser.storage.session.get(key);
    return got[key] as T | undefined;
  },
  async set(key: string, value: unknown): Promise<void> {
    await browser.storage.session.set({ [key]: value });
  },
};
