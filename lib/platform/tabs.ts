import { browser } from 'wxt/browser';

/** The tab a page is about: `?tabId=` (the popup opened as a page, as tests do), else the active tab. */
export async function currentTabId(search: string): Promise<number | null> {
  const fromQuery = Number(new URLSearchParams(search).get('tabId'));
  if (Number.isInteger(fromQuery) && fromQuery > 0) return fromQuery;
  const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
  return tab?.id ?? null;
}

/** Opens one of the extension's own pages (e.g. `reel.html?from=...`) in a new tab. */
export async function openExtensionPage(path: string): Promise<void> {
  // getURL's typed paths exclude query strings; any path of ours is fine here.
  const url = (browser.runtime.getURL as (p: string) => string)(`/${path.replace(/^\/+/, '')}`);
  await browser.tabs.create({ url });
}
