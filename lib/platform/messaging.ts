import { browser } from 'wxt/browser';
import { dispatch, makeMessage, parseResponse, type Handlers, type MessageType, type Request, type Response, type SenderInfo } from '../messages';

/** Sends a request to the background and returns its validated response (throws its error). */
export async function sendToBackground<T extends MessageType>(type: T, payload: Request<T>): Promise<Response<T>> {
  const raw: unknown = await browser.runtime.sendMessage(makeMessage(type, payload));
  return parseResponse(type, raw);
}

/** Sends a request to the extension's pages (the offscreen document answers `engine.*`). */
export const sendToExtension = sendToBackground;

/** Sends a request to a tab's content script and returns its validated response. */
export async function sendToTab<T extends MessageType>(tabId: number, type: T, payload: Request<T>): Promise<Response<T>> {
  const raw: unknown = await browser.tabs.sendMessage(tabId, makeMessage(type, payload));
  return parseResponse(type, raw);
}

/**
 * Serves `handlers` on runtime messages. Messages from other extensions or web pages are ignored
 * (only our own contexts may talk to us); every message is validated by `dispatch`.
 * A message reaches every extension page at once, so only the background (`answerUnknown`)
 * answers types it does not handle, with a rejection; other contexts stay silent on them.
 */
export function serveMessages(handlers: Handlers, opts: { answerUnknown: boolean }): void {
  browser.runtime.onMessage.addListener((raw: unknown, sender: { id?: string; tab?: { id?: number }; url?: string }) => {
    if (sender.id !== browser.runtime.id) return undefined;
    const type = (raw as { type?: unknown } | null)?.type;
    if (!opts.answerUnknown && !(typeof type === 'string' && Object.hasOwn(handlers, type))) return undefined;
    // Content scripts report the page's URL; our own pages (even when opened in a tab) our origin.
    const info: SenderInfo = {
      tabId: sender.tab?.id ?? null,
      fromExtensionPage: (sender.url ?? '').startsWith(browser.runtime.getURL('/')),
    };
    return dispatch(handlers, raw, info);
  });
}
