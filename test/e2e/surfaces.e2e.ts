/**
 * The surfaces (issue 6): the popup's format picker and queue, the options page's keys, in light
 * and dark. Providers are the local fakes at their real hostnames.
 */
import { mkdirSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVidPickrFake, VIDPICKR_TEST_KEY, type VidPickrFake } from '../fakes/vidpickr-server';
import { FAKE_VIDEOS, startFakeYouTube, type FakeYouTube } from '../fakes/youtube-site';
import { ffprobeJson } from '../fixtures/ffmpeg';
import { downloadFrom, launchExtensionBrowser, tabIdOf, type ExtensionBrowser } from '../harness/extension-browser';
import { chromiumFakeHostArgs, testTls } from '../harness/tls';

const SHOTS = resolve(import.meta.dirname, '../../test-results/screenshots');
let vidpickr: VidPickrFake;
let youtube: FakeYouTube;
let browser: ExtensionBrowser;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const tls = testTls();
  vidpickr = await startVidPickrFake({ tls, hostname: 'api.vidpickr.com' });
  youtube = await startFakeYouTube({ tls });
  browser = await launchExtensionBrowser({
    extraArgs: chromiumFakeHostArgs({ 'api.vidpickr.com': Number(new URL(vidpickr.url).port), 'www.youtube.com': youtube.port }, tls),
  });
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([vidpickr?.close(), youtube?.close()]);
});

/** Every form control has a label (or an aria-label): nothing is unnamed for screen readers. */
async function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('input, select, textarea, button')]
      .filter((el) => {
        const labelled = (el as HTMLInputElement).labels?.length || el.getAttribute('aria-label') || (el.tagName === 'BUTTON' && el.textContent?.trim());
        const inLabel = el.closest('label');
        return !labelled && !inLabel;
      })
      .map((el) => el.outerHTML.slice(0, 80)),
  );
}

async function shoot(page: Page, name: string): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: `${SHOTS}/${name}-${scheme}.png`, fullPage: true });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

describe('options: provider keys', () => {
  it('adds a key (shown masked), tests it, rejects a bad one clearly, removes it', async () => {
    const options = await browser.openExtensionPage('options.html');
    const card = options.getByTestId('provider-vidpickr');
    const input = card.getByLabel(/API key/);

    await input.fill('vpk_live_this_key_is_revoked_0000');
    await card.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => card.getByTestId('masked-key').textContent()).toBe('vpk_live_...0000');
    await card.getByRole('button', { name: 'Test' }).click();
    await expect.poll(() => card.getByTestId('key-status').textContent(), { timeout: 20_000 }).toMatch(/invalid|not valid|refused|unknown/i);
    expect(await card.getByTestId('key-status').getAttribute('class')).toContain('bad');

    await card.getByRole('button', { name: 'Remove' }).click();
    await expect.poll(() => card.getByTestId('masked-key').textContent()).toBe('not set');

    await input.fill(VIDPICKR_TEST_KEY);
    await card.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => card.getByTestId('masked-key').textContent()).toBe(`vpk_live_...${VIDPICKR_TEST_KEY.slice(-4)}`);
    await card.getByRole('button', { name: 'Test' }).click();
    await expect.poll(() => card.getByTestId('key-status').textContent(), { timeout: 20_000 }).toMatch(/^Works: /);
    expect(await options.content()).not.toContain(VIDPICKR_TEST_KEY);

    // Default preset 360p: the picker preselects it, and choosing 720p there overrides it.
    await options.getByLabel('Default quality').selectOption('360');
    await options.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => options.getByTestId('settings-status').textContent()).toBe('Saved.');
    await shoot(options, 'options');
    expect(await unlabelledControls(options)).toEqual([]);
    await options.close();
  });
});

describe('popup: format picker and queue', () => {
  it('lists the provider’s formats grouped with how each is saved, preselects the preset, and saves the one picked (720p)', async () => {
    const video = FAKE_VIDEOS[0]!;
    const page = await browser.context.newPage();
    await page.goto(`https://www.youtube.com/watch?v=${video.id}`);
    const tabId = await tabIdOf(browser, page.url());
    const popup = await browser.openExtensionPage(`popup.html?tabId=${tabId}`);
    await popup.setViewportSize({ width: 420, height: 720 });
    const picker = popup.getByTestId('format-picker');
    await picker.waitFor({ timeout: 20_000 });
    expect(await picker.textContent()).toContain('Never Gonna Give You Up');
    const checked = picker.locator('input[type=radio]:checked');
    // The 360p preset: VidPickr's lowest is 480p (H.264 + its AAC, as the plan line says).
    expect(await checked.locator('xpath=..').textContent()).toMatch(/^480p · H\.264 · MP4H\.264 \+ AAC in MP4/);
    expect(await picker.getByRole('group', { name: 'Audio' }).count()).toBe(1);
    await shoot(popup, 'popup-picker');

    const option720 = picker.getByTestId('format-option').filter({ hasText: /^720p · H\.264/ });
    await option720.locator('input').check();
    const done = await downloadFrom(browser, () => picker.getByRole('button', { name: 'Download' }).click(), 90_000);
    expect(done.state, done.error).toBe('complete');
    expect(basename(done.filename)).toBe(`${video.title.replace(': ', ' - ').replace('/', '-')}.mp4`);
    const probe = await ffprobeJson(done.filename);
    expect(probe.streams.map((s: { codec_type: string }) => s.codec_type)).toEqual(['video', 'audio']);
    expect(probe.streams[0].height).toBe(720);

    const job = popup.getByTestId('job-item').first();
    await expect.poll(() => job.getAttribute('data-stage'), { timeout: 10_000 }).toBe('done');
    // The browser's own surfaces: a notification for the finished download, an empty badge again.
    const sw = browser.context.serviceWorkers()[0] ?? browser.worker;
    await expect
      .poll(() => sw.evaluate(async () => Object.keys(await (globalThis as any).chrome.notifications.getAll()).filter((id: string) => id.startsWith('vidmux-')).length))
      .toBeGreaterThan(0);
    await expect.poll(() => sw.evaluate(() => (globalThis as any).chrome.action.getBadgeText({}))).toBe('');
    expect(await job.getByRole('button', { name: /^Show / }).count()).toBe(1);
    await shoot(popup, 'popup-queue');
    expect(await unlabelledControls(popup)).toEqual([]);
    // At 200% zoom the popup still fits its width (no sideways scrolling).
    await popup.evaluate(() => ((document.documentElement.style as CSSStyleDeclaration & { zoom: string }).zoom = '2'));
    // 800 px is the widest a browser popup gets.
    await popup.setViewportSize({ width: 800, height: 1400 });
    expect(await popup.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth)).toBe(true);
    await popup.screenshot({ path: `${SHOTS}/popup-zoom-200.png` });
    await popup.close();
    await page.close();
  });
});
