/**
 * Messages between the extension's contexts over `runtime` messaging: the protocol of
 * lib/messages.ts, with who sent each message worked out here, once, from what the browser says.
 */
import { browser } from 'wxt/browser';
import { classifySender, dispatch, makeMessage, parseResponse, type Handlers, type MessageType, type Request, type Response, type RuntimeSender, type SenderKind } from '../messages';

/** Who sent a message (lib/messages.ts decides from what the browser says), or null: not ours. */
export function senderKind(sender: RuntimeSender): SenderKind | null {
  return classifySender(sender, { id: browser.runtime.id, origin: browser.runtime.getURL('/') });
}

/** Runtime messaging reaches the background and every extension page; the one that handles `type` answers. */
async function send<T extends MessageType>(type: T, payload: Request<T>): Promise<Response<T>> {
  const raw: unknown = await browser.runtime.sendMessage(makeMessage(type, payload));
  return parseResponse(type, raw);
}

/** From a page or a content script: asks the background; returns its validated answer (throws its error). */
export const sendToBackground = send;

/** From the background: asks the engine (Chrome's offscreen document, the only handler of `engine.*`). */
export const sendToEngine = send;

/** From the background: tells the open extension pages (a popup) something; no page listening is not an error. */
export async function sendToPages<T extends MessageType>(type: T, payload: Request<T>): Promise<Response<T> | null> {
  let raw: unknown;
  try {
    raw = await browser.runtime.sendMessage(makeMessage(type, payload));
  } catch {
    return null; // "Receiving end does not exist": nobody is listening
  }
  return raw === undefined ? null : parseResponse(type, raw);
}

/** Sends a request to a tab's content script and returns its validated response. */
export async function sendToTab<T extends MessageType>(tabId: number, type: T, payload: Request<T>): Promise<Response<T>> {
  const raw: unknown = await browser.tabs.sendMessage(tabId, makeMessage(type, payload));
  return parseResponse(type, raw);
}

/**
 * Serves `handlers` on runtime messages; returns the function that stops serving. Messages from
 * other extensions or web pages are ignored; every message is validated and its sender checked
 * against the protocol by `dispatch`. A message reaches every extension page at once, so only the
 * background (`answerUnknown`) answers types it does not handle, with a rejection; other contexts
 * stay silent on them.
 */
export function serveMessages(handlers: Handlers, opts: { answerUnknown: boolean }): () => void {
  const listener = (raw: unknown, sender: RuntimeSender) => {
    const kind = senderKind(sender);
    if (!kind) return undefined;
    const type = (raw as { type?: unknown } | null)?.type;
    if (!opts.answerUnknown && !(typeof type === 'string' && Object.hasOwn(handlers, type))) return undefined;
    return dispatch(handlers, raw, { kind, tabId: sender.tab?.id ?? null, ...(sender.tab && sender.frameId !== undefined ? { frameId: sender.frameId } : {}) });
  };
  browser.runtime.onMessage.addListener(listener);
  return () => browser.runtime.onMessage.removeListener(listener);
}
