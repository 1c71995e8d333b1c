/**
 * How Chrome's background learns at once that the engine is gone: the offscreen document keeps a
 * runtime port open to the service worker, and the port's disconnect is the document's end
 * (closed, crashed, reloaded). Without it a job whose engine died just stops reporting and shows
 * "downloading 3%" forever. The port carries no messages (the protocol stays in lib/messages.ts):
 * only its sender matters, checked with the protocol's own sender classification (`engine`).
 */
import { browser, type Browser } from 'wxt/browser';
import { senderKind } from './messaging';

const ENGINE_PORT = 'vidmux-engine';
/** The engine connects again at most this often: a worker that cannot start is not hammered. */
const RECONNECT_MS = 1000;

/**
 * The engine's side: connects now, and again when the port ends while jobs are here (Chrome stops
 * an idle service worker, which ends its ports; connecting starts the next worker, which then
 * watches these jobs). Returns `ensure`, to call when the background hands over a job: a worker
 * that started while the engine was idle has no port yet.
 */
export function keepEngineLink(busy: () => boolean): () => void {
  let port: Browser.runtime.Port | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let lastConnect = -Infinity;
  const connect = () => {
    timer = null;
    if (port) return;
    lastConnect = Date.now();
    try {
      port = browser.runtime.connect({ name: ENGINE_PORT });
    } catch {
      return; // the extension was reloaded or removed: this document goes with it
    }
    port.onDisconnect.addListener(() => {
      port = null;
      if (busy()) timer ??= setTimeout(connect, Math.max(0, lastConnect + RECONNECT_MS - Date.now()));
    });
  };
  connect();
  return () => {
    if (!port && !timer) connect();
  };
}

/**
 * The background's side: `onLost` runs when an engine document's port ends while this worker is
 * alive, which only the document's end does (the background never closes it). Ports from anything
 * but the engine's document are ignored.
 */
export function watchEngineLink(onLost: () => void): void {
  browser.runtime.onConnect.addListener((port: Browser.runtime.Port) => {
    if (port.name !== ENGINE_PORT || !port.sender || senderKind(port.sender) !== 'engine') return;
    port.onDisconnect.addListener(() => onLost());
  });
}
