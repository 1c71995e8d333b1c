import { browser } from 'wxt/browser';

/**
 * Site access: the host permission every feature needs (finding a page's videos, fetching them,
 * reaching the providers' APIs). Chrome grants it at install but lets the user withhold it;
 * Firefox MV3 treats host permissions as optional, so it can be missing from the start. The popup
 * and the options page check it and ask for it (components/SiteAccess.tsx).
 */
const ALL_SITES = { origins: ['<all_urls>'] };

/** Whether Vidmux may read and fetch from every site. */
export async function hasSiteAccess(): Promise<boolean> {
  try {
    return await browser.permissions.contains(ALL_SITES);
  } catch {
    return false;
  }
}

/**
 * Asks the browser for access to every site. Call it straight from a click handler, before any
 * `await`: Firefox grants a request only while it handles the user's input.
 */
export function requestSiteAccess(): Promise<boolean> {
  return browser.permissions.request(ALL_SITES);
}

/** Calls `onChange` whenever the user grants or withdraws a permission; returns the unsubscribe. */
export function watchSiteAccess(onChange: () => void): () => void {
  const listener = () => onChange();
  browser.permissions.onAdded.addListener(listener);
  browser.permissions.onRemoved.addListener(listener);
  return () => {
    browser.permissions.onAdded.removeListener(listener);
    browser.permissions.onRemoved.removeListener(listener);
  };
}

/** Loads a tab again (after a grant: the page's content script runs only in pages loaded since). */
export async function reloadTab(tabId: number): Promise<void> {
  await browser.tabs.reload(tabId).catch(() => undefined);
}

/**
 * On a fresh install without site access (Firefox lets the user decline host permissions at
 * install), opens the options page, whose first section asks for it and says why.
 */
export function askForSiteAccessOnInstall(): void {
  browser.runtime.onInstalled.addListener(({ reason }) => {
    if (reason !== 'install') return;
    void hasSiteAccess().then((ok) => (ok ? undefined : browser.runtime.openOptionsPage()));
  });
}
