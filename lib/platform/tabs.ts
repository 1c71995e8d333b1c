import { browser } from 'wxt/browser';

/** The tab a page is about: `?tabId=` (the popup opened as a page, as tests do), else the active tab. */
export async function currentTabId(search: string): Promise<number | null> {
  const fromQuery = Number(new URLSearchParams(search).get('tabId'));
  if (Number.isInteger(fromQuery) && fromQuery > 0) return fromQuery;
  const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
  return tab?.id ?? null;
}
