/**
 * The extension's settings (`storage.local`) and the background's session state
 * (`storage.session`, cleared when the browser closes and not readable by content scripts),
 * through WXT's typed storage items. Every read is validated: settings by their schema (defaults
 * fill in what is missing or corrupt), session state by its owners when they restore it.
 */
import { storage } from 'wxt/utils/storage';
import type { SessionStore } from '../background/ports';
import { parseStoredSettings, SettingsSchema, type Settings } from '../schemas/settings';

const settingsItem = storage.defineItem<unknown>('local:settings');
const jobsItem = storage.defineItem<unknown>('session:jobs');
const tabsItem = storage.defineItem<unknown>('session:tabs');
/** Jobs a browser restart must not lose (running, or interrupted and waiting for Resume). */
const lastingJobsItem = storage.defineItem<unknown>('local:lastingJobs');

/** Reads the settings, always valid. */
export async function loadSettings(): Promise<Settings> {
  return parseStoredSettings(await settingsItem.getValue());
}

/** Validates and saves settings; throws with the schema's reason if they are invalid. */
export async function saveSettings(next: Settings): Promise<Settings> {
  const parsed = SettingsSchema.parse(next);
  await settingsItem.setValue(parsed);
  return parsed;
}

/** Calls `fn` with the new settings whenever they change (in any context). */
export function watchSettings(fn: (settings: Settings) => void): () => void {
  return settingsItem.watch((raw) => fn(parseStoredSettings(raw)));
}

/** State a restarted service worker must find again (jobs, media per tab). */
export const sessionStore: SessionStore = {
  async load() {
    const [jobs, tabs] = await Promise.all([jobsItem.getValue(), tabsItem.getValue()]);
    return { jobs, tabs };
  },
  async save(state) {
    await storage.setItems([
      { item: jobsItem, value: state.jobs },
      { item: tabsItem, value: state.tabs },
    ]);
  },
  loadLasting: () => lastingJobsItem.getValue(),
  async saveLasting(jobs) {
    await lastingJobsItem.setValue(jobs);
  },
};
