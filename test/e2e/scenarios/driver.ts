/**
 * What a scenario may do with a browser running the built extension: a narrow driver, so one
 * scenario file (./shared.ts) runs in Chromium (./chromium-driver.ts: Playwright) and in Firefox
 * ESR (./firefox-driver.ts: puppeteer over WebDriver BiDi for web pages, Firefox's devtools
 * protocol for the extension's own pages, which BiDi does not reach).
 *
 * Selectors are CSS; a button is named by its text (or aria-label), as a user reads it.
 */
import type { DownloadRecord } from '../../harness/extension-browser';

export type { DownloadRecord };
export type BrowserName = 'chromium' | 'firefox';
export type Name = string | RegExp;

/** A web page in a tab. */
export interface WebPageDriver {
  url(): string;
  /** Resolves once `expression` (evaluated in the page) is truthy. */
  waitFor(expression: string, timeoutMs?: number): Promise<void>;
  /** Hovers the page's first video and clicks the Vidmux button with real (trusted) mouse input. */
  clickVidmuxButton(): Promise<void>;
  /** The button's `data-state` (idle, working, done, failed...) and the tooltip it mirrors on its host. */
  button(): Promise<{ state: string | null; title: string | null }>;
  /** Loads the page again. */
  reload(): Promise<void>;
  /** A screenshot of the video with the button shown over it. */
  screenshotButton(path: string): Promise<void>;
  close(): Promise<void>;
}

/** One of the extension's own pages (popup.html, options.html) in a tab. */
export interface ExtensionPageDriver {
  /** The visible text of the first match (default: the body), or null when nothing matches. */
  text(selector?: string): Promise<string | null>;
  count(selector: string): Promise<number>;
  attribute(selector: string, name: string): Promise<string | null>;
  /** Clicks the first button named `name` inside the first match of `scope` (default: the body). */
  clickButton(name: Name, scope?: string): Promise<void>;
  /** Types `value` into the first input matching `selector`. */
  fill(selector: string, value: string): Promise<void>;
  /** Evaluates an expression in the page (awaited; the value must survive JSON). */
  evaluate<T>(expression: string): Promise<T>;
  /** A screenshot of the page at `width` CSS pixels (a popup is about 400 wide). */
  screenshot(path: string, width?: number): Promise<void>;
  close(): Promise<void>;
}

export interface BrowserDriver {
  name: BrowserName;
  downloadDir: string;
  openSite(url: string): Promise<WebPageDriver>;
  /** Opens e.g. "popup.html?tabId=3" or "options.html". */
  openExtensionPage(path: string): Promise<ExtensionPageDriver>;
  /** Evaluates an expression in the extension's background (Chrome's service worker, Firefox's page); `chrome.*` works in both. */
  background<T>(expression: string): Promise<T>;
  tabIdOf(url: string): Promise<number>;
  listDownloads(): Promise<DownloadRecord[]>;
  /** Runs `action`; returns the first download that starts after it, once ended. */
  downloadFrom(action: () => Promise<unknown>, timeoutMs?: number): Promise<DownloadRecord>;
  close(): Promise<void>;
}

/** Polls `read` until `ok` holds of its value; returns the value, or throws with the last one seen. */
export async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** `name` as JavaScript source (a string literal or a RegExp), for drivers that match in the page. */
export const nameSource = (name: Name): string => (typeof name === 'string' ? JSON.stringify(name) : `new RegExp(${JSON.stringify(name.source)}, ${JSON.stringify(name.flags)})`);
