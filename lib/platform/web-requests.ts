/**
 * The browser's view of a tab's requests (webRequest, observe only): HLS/DASH manifests its
 * players load (also from workers, and before our content script ran, which resource timing
 * misses), and frames that load a new document. Told apart by URL path or by the response's
 * Content-Type (a manifest served from `/play?id=1`).
 */
import { browser } from 'wxt/browser';
import { manifestKind } from '../sites';

/** Calls `onManifest` for each manifest a tab's frame loads, `onNavigate` when a frame loads a document. */
export function watchTabRequests(handlers: {
  onManifest(tabId: number, frameId: number, url: string): void;
  onNavigate(tabId: number, frameId: number): void;
}): () => void {
  const listener = (details: { tabId: number; frameId: number; url: string; type: string; responseHeaders?: Array<{ name: string; value?: string }> }) => {
    if (details.tabId < 0) return undefined; // the extension's own requests
    if (details.type === 'main_frame' || details.type === 'sub_frame') {
      handlers.onNavigate(details.tabId, details.type === 'main_frame' ? 0 : details.frameId);
      return undefined;
    }
    const type = details.responseHeaders?.find((h) => h.name.toLowerCase() === 'content-type')?.value ?? null;
    if (manifestKind(details.url, type)) handlers.onManifest(details.tabId, details.frameId, details.url);
    return undefined;
  };
  const filter = { urls: ['<all_urls>'], types: ['main_frame', 'sub_frame', 'xmlhttprequest', 'media', 'other'] as Array<'main_frame'> };
  browser.webRequest.onHeadersReceived.addListener(listener, filter, ['responseHeaders']);
  return () => browser.webRequest.onHeadersReceived.removeListener(listener);
}
