/** The scenario driver for Chromium: Playwright on the built extension (test/harness/extension-browser.ts). */
import type { Page } from 'playwright-core';
import { clickVidmuxButton, downloadFrom, launchExtensionBrowser, listDownloads, tabIdOf } from '../../harness/extension-browser';
import { chromiumFakeHostArgs, type TestTls } from '../../harness/tls';
import type { BrowserDriver, ExtensionPageDriver, Name, WebPageDriver } from './driver';

function webPage(page: Page): WebPageDriver {
  return {
    url: () => page.url(),
    waitFor: async (expression, timeoutMs = 15_000) => void (await page.waitForFunction(expression, undefined, { timeout: timeoutMs })),
    clickVidmuxButton: () => clickVidmuxButton(page),
    button: async () => {
      const host = page.locator('vidmux-download, vidmux-youtube-download').first();
      return { state: await host.getAttribute('data-state'), title: await host.getAttribute('title') };
    },
    reload: async () => void (await page.reload()),
    async screenshotButton(path) {
      const video = page.locator('video').first();
      await video.hover();
      await page.waitForFunction(() => document.querySelector('vidmux-download')?.getAttribute('data-shown') === 'true');
      const box = (await video.boundingBox())!;
      // The button fades in.
      await new Promise((r) => setTimeout(r, 400));
      await page.screenshot({ path, clip: { x: Math.max(0, box.x - 8), y: Math.max(0, box.y - 8), width: box.width + 16, height: box.height + 16 } });
    },
    close: () => page.close(),
  };
}

function extensionPage(page: Page): ExtensionPageDriver {
  const scoped = (scope?: string) => (scope ? page.locator(scope).first() : page.locator('body'));
  return {
    async text(selector = 'body') {
      const el = page.locator(selector).first();
      return (await el.count()) ? el.innerText() : null;
    },
    count: (selector) => page.locator(selector).count(),
    async attribute(selector, name) {
      const el = page.locator(selector).first();
      return (await el.count()) ? el.getAttribute(name) : null;
    },
    clickButton: (name: Name, scope?: string) => scoped(scope).getByRole('button', { name, exact: true }).first().click(),
    evaluate: <T>(expression: string) => page.evaluate(expression) as Promise<T>,
    fill: (selector, value) => page.locator(selector).first().fill(value),
    async screenshot(path, width) {
      if (width) await page.setViewportSize({ width, height: 760 });
      await page.screenshot({ path, fullPage: true });
    },
    close: () => page.close(),
  };
}

/** Chromium with the built extension; `hosts` (name -> local https port) reach the fakes at real hostnames. */
export async function launchChromiumDriver(opts: { hosts?: Record<string, number>; tls?: TestTls } = {}): Promise<BrowserDriver> {
  const b = await launchExtensionBrowser({ extraArgs: opts.hosts && opts.tls ? chromiumFakeHostArgs(opts.hosts, opts.tls) : [] });
  const worker = () => b.context.serviceWorkers()[0] ?? b.worker;
  return {
    name: 'chromium',
    downloadDir: b.downloadDir,
    async openSite(url) {
      const page = await b.context.newPage();
      await page.goto(url);
      return webPage(page);
    },
    openExtensionPage: async (path) => extensionPage(await b.openExtensionPage(path)),
    background: <T>(expression: string) => worker().evaluate(expression) as Promise<T>,
    tabIdOf: (url) => tabIdOf(b, url),
    listDownloads: () => listDownloads(b),
    downloadFrom: (action, timeoutMs) => downloadFrom(b, action, timeoutMs),
    close: () => b.close(),
  };
}
