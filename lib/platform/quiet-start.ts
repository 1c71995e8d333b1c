/**
 * Keeps the extension's id from the web page a content script runs in.
 *
 * WXT's content-script context announces every start with `window.postMessage({ type: "<extension
 * id>:content:wxt:content-script-started", … }, "*")`, and every script of the page hears it: a
 * page could learn our id (fingerprinting, targeting the extension). The announcement only tells an
 * older copy of the script in the same frame to stop, and ours never needs it: Chrome injects no new
 * copy into pages already open (and Vidmux has no `scripting` permission), Firefox unloads the old
 * copy, and a copy orphaned by an update stops by itself once `browser.runtime.id` is gone (WXT checks
 * it on every tick of its timers). So it is dropped, in the content script's own world only: the
 * page's `postMessage` is untouched.
 */
import { browser } from 'wxt/browser';

/** Call at the content script's top level, before WXT builds its context. */
export function keepExtensionIdFromPage(): void {
  const id = browser.runtime.id;
  const post = window.postMessage;
  window.postMessage = function (this: Window, message: unknown, ...rest: unknown[]) {
    let text = '';
    try {
      text = typeof message === 'string' ? message : JSON.stringify(message);
    } catch {
      /* not JSON: cannot carry the id as text */
    }
    if (!id || !text?.includes(id)) return Reflect.apply(post, this, [message, ...rest]) as undefined;
  } as typeof window.postMessage;
}
