/**
 * The scenario driver for Firefox ESR (test/harness/firefox-browser.ts): web pages through
 * puppeteer over WebDriver BiDi with real mouse input; the extension's pages through Firefox's
 * devtools protocol, by script, since BiDi does not reach moz-extension:// documents. Clicks there
 * are trusted (dispatched by the browser's chrome, as a user's are), so a button that asks for a
 * permission works as it does for a user.
 */
import type { Page } from 'puppeteer-core';
import { clickVidmuxButton, downloadFrom, launchFirefoxExtensionBrowser, listDownloads, tabIdOf, type ExtensionDocument } from '../../harness/firefox-browser';
import type { TestTls } from '../../harness/tls';
import { nameSource, type BrowserDriver, type ExtensionPageDriver, type Name, type WebPageDriver } from './driver';

function webPage(page: Page): WebPageDriver {
  return {
    url: () => page.url(),
    waitFor: async (expression, timeoutMs = 15_000) => void (await page.waitForFunction(expression, { timeout: timeoutMs })),
    clickVidmuxButton: () => clickVidmuxButton(page),
    button: () =>
      page.evaluate(() => {
        const host = document.querySelector('vidmux-download, vidmux-youtube-download');
        return { state: host?.getAttribute('data-state') ?? null, title: host?.getAttribute('title') ?? null };
      }),
    reload: async () => void (await page.reload()),
    async screenshotButton(path) {
      const video = await page.waitForSelector('video');
      const box = (await video!.boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.waitForFunction(() => document.querySelector('vidmux-download')?.getAttribute('data-shown') === 'true', { timeout: 15_000 });
      // The button fades in.
      await new Promise((r) => setTimeout(r, 400));
      await page.screenshot({ path: path as `${string}.png`, clip: { x: Math.max(0, box.x - 8), y: Math.max(0, box.y - 8), width: box.width + 16, height: box.height + 16 } });
    },
    close: () => page.close(),
  };
}

/** Retries `f` until it returns true (a page renders after its data loads), as Playwright's locators wait. */
async function waitTrue(f: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function extensionPage(doc: ExtensionDocument): ExtensionPageDriver {
  const q = (selector: string) => `document.querySelector(${JSON.stringify(selector)})`;
  return {
    text: (selector = 'body') => doc.evaluate<string | null>(`${q(selector)}?.innerText ?? null`),
    count: (selector) => doc.evaluate<number>(`document.querySelectorAll(${JSON.stringify(selector)}).length`),
    attribute: (selector, name) => doc.evaluate<string | null>(`${q(selector)}?.getAttribute(${JSON.stringify(name)}) ?? null`),
    async clickButton(name: Name, scope = 'body') {
      // Mark the button by its name, then click it as a user would.
      const mark = () => doc.evaluate<boolean>(`(() => {
        const want = ${nameSource(name)};
        const named = (b) => (b.getAttribute('aria-label') ?? b.textContent).trim();
        const hit = [...(${q(scope)}?.querySelectorAll('button') ?? [])].find((b) => typeof want === 'string' ? named(b) === want : want.test(named(b)));
        document.querySelectorAll('[data-test-target]').forEach((e) => e.removeAttribute('data-test-target'));
        if (!hit) return false;
        hit.setAttribute('data-test-target', '');
        return !hit.disabled;
      })()`);
      await waitTrue(mark, `an enabled button named ${String(name)} in ${scope}`);
      await doc.trustedClick('[data-test-target]');
    },
    async fill(selector, value) {
      // React listens for input events; the native setter makes it see the new value.
      const typed = () => doc.evaluate<boolean>(`(() => {
        const el = ${q(selector)};
        if (!el) return false;
        el.focus();
        Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(el, ${JSON.stringify(value)});
        el.dispatchEvent(new Event('input', { bubbles: true }));
        return true;
      })()`);
      await waitTrue(typed, `an input ${selector}`);
    },
    evaluate: <T>(expression: string) => doc.evaluate<T>(expression),
    screenshot: (path, width) => doc.screenshot(path, { width, fullPage: true }),
    close: () => doc.close(),
  };
}

/** Firefox ESR with the built extension; `hosts` (name -> local https port) reach the fakes at real hostnames. */
export async function launchFirefoxDriver(opts: { hosts?: Record<string, number>; tls?: TestTls } = {}): Promise<BrowserDriver> {
  const b = await launchFirefoxExtensionBrowser({
    hosts: opts.hosts,
    tls: opts.tls,
    // A permission asked for in a click is granted without Firefox's doorhanger, which a headless
    // test cannot click: the test's stand-in for the user's "Allow".
    prefs: { 'extensions.webextOptionalPermissionPrompts': false },
  });
  return {
    name: 'firefox',
    downloadDir: b.downloadDir,
    async openSite(url) {
      const page = await b.newPage();
      await page.goto(url);
      return webPage(page);
    },
    openExtensionPage: async (path) => extensionPage(await b.openExtensionPage(path)),
    background: <T>(expression: string) => b.background<T>(expression),
    tabIdOf: (url) => tabIdOf(b, url),
    listDownloads: () => listDownloads(b),
    downloadFrom: (action, timeoutMs) => downloadFrom(b, action, timeoutMs),
    close: () => b.close(),
  };
}
