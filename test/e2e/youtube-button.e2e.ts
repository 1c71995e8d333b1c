/**
 * The on-page buttons end to end: on the fake YouTube (served at www.youtube.com, built like the real
 * watch page) the Download button sits in YouTube's row of buttons, saves with one click, offers
 * quick choices from its arrow (by mouse and by keyboard), follows YouTube's single-page navigation
 * and re-renders, and asks for a key when there is none. On any other site the button over a video
 * shows on hover. Screenshots of the YouTube button and its menu, light and dark.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoMedia } from '../fakes/demo-media';
import { startDemoSite, type DemoSite } from '../fakes/demo-site';
import { defaultVidPickrVideos, startVidPickrFake, VIDPICKR_TEST_KEY, type VidPickrFake } from '../fakes/vidpickr-server';
import { FAKE_VIDEOS, startFakeYouTube, type FakeYouTube } from '../fakes/youtube-site';
import { ffprobeJson } from '../fixtures/ffmpeg';
import { clickVidmuxButton, clickYouTubeMenuArrow, downloadFrom, launchExtensionBrowser, type ExtensionBrowser } from '../harness/extension-browser';
import { chromiumFakeHostArgs, testTls } from '../harness/tls';

const SHOTS = resolve(import.meta.dirname, '../../test-results/screenshots');
const BUTTON = 'vidmux-youtube-download';
const IN_ROW = `ytd-watch-metadata #top-level-buttons-computed > ${BUTTON}`;

let vidpickr: VidPickrFake;
let youtube: FakeYouTube;
let site: DemoSite;
let browser: ExtensionBrowser;
const port = (url: string) => Number(new URL(url).port);

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const tls = testTls();
  // VidPickr knows both fake YouTube videos (the second one for the navigation test).
  const [first, ...rest] = await defaultVidPickrVideos();
  vidpickr = await startVidPickrFake({ tls, hostname: 'api.vidpickr.com', videos: [first!, { ...first!, id: FAKE_VIDEOS[1]!.id, title: 'VidPickr’s own title' }, ...rest] });
  youtube = await startFakeYouTube({ tls });
  site = await startDemoSite((await demoMedia()).files);
  browser = await launchExtensionBrowser({
    extraArgs: chromiumFakeHostArgs({ 'api.vidpickr.com': port(vidpickr.url), 'www.youtube.com': youtube.port, 'youtu.be': youtube.port }, tls),
  });
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([vidpickr?.close(), youtube?.close(), site?.close()]);
});

async function addVidPickrKey(): Promise<void> {
  const options = await browser.openExtensionPage('options.html');
  const card = options.getByTestId('provider-vidpickr');
  await card.getByLabel(/API key/).fill(VIDPICKR_TEST_KEY);
  await card.getByRole('button', { name: 'Save' }).click();
  await expect.poll(() => card.getByTestId('masked-key').textContent()).not.toBe('not set');
  await options.close();
}

async function openWatchPage(id: string, path = `/watch?v=${id}`): Promise<Page> {
  const page = await browser.context.newPage();
  // Room under YouTube's row for the menu (with less, it opens above the button).
  await page.setViewportSize({ width: 1100, height: 1000 });
  await page.goto(`https://www.youtube.com${path}`);
  await page.locator('#movie_player video').waitFor();
  return page;
}

const attr = (page: Page, name: string, selector = BUTTON) => page.locator(selector).getAttribute(name);

/** Records every label the button shows (the host mirrors it), to see progress go by. */
async function recordLabels(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate((tag) => {
    const seen: string[] = [];
    (window as unknown as { __labels: string[] }).__labels = seen;
    const host = document.querySelector(tag)!;
    new MutationObserver(() => seen.push(host.getAttribute('data-label') ?? '')).observe(host, { attributes: true, attributeFilter: ['data-label'] });
  }, BUTTON);
  return () => page.evaluate(() => (window as unknown as { __labels: string[] }).__labels);
}

/** The row of buttons and the room under it (where the menu opens). */
async function shoot(page: Page, name: string): Promise<void> {
  const row = await page.locator('ytd-watch-metadata').boundingBox();
  if (!row) throw new Error('no watch metadata');
  await page.waitForTimeout(250); // hover and theme transitions
  await page.screenshot({ path: `${SHOTS}/${name}`, clip: { x: 0, y: Math.max(0, row.y - 8), width: 880, height: 290 } });
}

describe('YouTube without a key', () => {
  it('says "Add a key" and opens the options page when clicked', async () => {
    const page = await openWatchPage(FAKE_VIDEOS[0]!.id);
    await page.locator(IN_ROW).waitFor();
    await clickVidmuxButton(page);
    await expect.poll(() => attr(page, 'data-state')).toBe('needs-key');
    expect(await attr(page, 'data-label')).toBe('Add a key');
    expect(await attr(page, 'title')).toMatch(/key/i);
    const opened = browser.context.waitForEvent('page', { predicate: (p) => p.url().includes('/options.html'), timeout: 10_000 });
    await clickVidmuxButton(page);
    const options = await opened;
    expect(options.url()).toBe(`chrome-extension://${browser.extensionId}/options.html`);
    await options.close();
    await page.close();
  });
});

describe('YouTube with a VidPickr key', () => {
  it('a VidPickr key is added on the options page', addVidPickrKey);

  it('puts the button in YouTube’s row of buttons (not over the player); screenshots light and dark', async () => {
    const page = await openWatchPage(FAKE_VIDEOS[0]!.id);
    await page.locator(IN_ROW).waitFor();
    expect(await attr(page, 'data-placement')).toBe('inline');
    expect(await attr(page, 'data-state')).toBe('idle');
    await page.waitForTimeout(600);
    // Not also the button over the player.
    expect(await page.locator('vidmux-download').count()).toBe(0);
    expect(await page.locator(BUTTON).count()).toBe(1);

    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await expect.poll(() => page.evaluate(() => document.documentElement.hasAttribute('dark'))).toBe(scheme === 'dark');
      await expect.poll(() => attr(page, 'data-theme')).toBe(scheme);
      await page.mouse.move(5, 5);
      await shoot(page, `youtube-button-${scheme}.png`);
      await clickYouTubeMenuArrow(page);
      await expect.poll(() => attr(page, 'data-menu')).toBe('open');
      await page.keyboard.press('ArrowDown'); // a focused choice, as a keyboard user sees it
      await shoot(page, `youtube-menu-${scheme}.png`);
      // A click outside closes it.
      await page.mouse.click(700, 30);
      await expect.poll(() => attr(page, 'data-menu')).toBe('closed');
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.close();
  });

  it('one click saves one MP4 with video and audio, with progress on the button', async () => {
    const page = await openWatchPage(FAKE_VIDEOS[0]!.id);
    await page.locator(IN_ROW).waitFor();
    const labels = await recordLabels(page);
    const done = await downloadFrom(browser, () => clickVidmuxButton(page), 90_000);
    expect(done.state, done.error).toBe('complete');
    expect(basename(done.filename)).toBe('Fake Clip - Night Drive (4K).mp4');
    const probe = await ffprobeJson(done.filename);
    expect(probe.streams.map((s: { codec_type: string }) => s.codec_type)).toEqual(['video', 'audio']);
    await expect.poll(() => attr(page, 'data-state'), { timeout: 10_000 }).toBe('done');
    expect(await attr(page, 'data-label')).toBe('Saved');
    expect(await attr(page, 'title')).toContain('Fake Clip - Night Drive (4K).mp4');
    const seen = await labels();
    expect(seen[0]).toMatch(/^Saving|^Preparing/);
    expect(seen.at(-1)).toBe('Saved');
    console.log('labels shown:', seen.join(' | '));
    await page.close();
  });

  it('quick choices by keyboard alone: Tab to the arrow, Enter, arrows to 720p, Enter saves 720p', async () => {
    const page = await openWatchPage(FAKE_VIDEOS[0]!.id);
    await page.locator(IN_ROW).waitFor();
    // From YouTube's Share button, Tab reaches Download, then the arrow.
    await page.focus('#top-level-buttons-computed yt-button-view-model button');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.localName)).toBe(BUTTON);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.localName)).toBe(BUTTON);
    await page.keyboard.press('Enter');
    await expect.poll(() => attr(page, 'data-menu')).toBe('open');
    // Escape closes and keeps focus on the arrow; ArrowDown opens again on the first choice.
    await page.keyboard.press('Escape');
    await expect.poll(() => attr(page, 'data-menu')).toBe('closed');
    expect(await page.evaluate(() => document.activeElement?.localName)).toBe(BUTTON);
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => attr(page, 'data-menu')).toBe('open');
    // Best quality -> 1080p -> 720p (and ArrowUp wraps: End/Home work too).
    await page.keyboard.press('End');
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    const done = await downloadFrom(browser, () => page.keyboard.press('Enter'), 90_000);
    expect(done.state, done.error).toBe('complete');
    expect(await attr(page, 'data-menu')).toBe('closed');
    const probe = await ffprobeJson(done.filename);
    const video = probe.streams.find((s: { codec_type: string }) => s.codec_type === 'video');
    expect(video.height).toBe(720);
    expect(probe.streams).toHaveLength(2);
    await page.close();
  });

  it('quick choices by mouse: Audio M4A saves the audio alone', async () => {
    const page = await openWatchPage(FAKE_VIDEOS[0]!.id);
    await page.locator(IN_ROW).waitFor();
    await clickYouTubeMenuArrow(page);
    await expect.poll(() => attr(page, 'data-menu')).toBe('open');
    // The menu opens under the button, its right edge at the button's; Audio M4A is the 4th of 6.
    const box = (await page.locator(BUTTON).boundingBox())!;
    const done = await downloadFrom(browser, () => page.mouse.click(box.x + box.width - 60, box.y + box.height + 4 + 8 + 36 * 3 + 18), 90_000);
    expect(done.state, done.error).toBe('complete');
    const probe = await ffprobeJson(done.filename);
    expect(probe.streams.map((s: { codec_type: string }) => s.codec_type)).toEqual(['audio']);
    await page.close();
  });

  it('quick choices: Subtitles saves only the subtitle file, as .srt', async () => {
    const page = await openWatchPage(FAKE_VIDEOS[0]!.id);
    await page.locator(IN_ROW).waitFor();
    await clickYouTubeMenuArrow(page);
    await expect.poll(() => attr(page, 'data-menu')).toBe('open');
    const box = (await page.locator(BUTTON).boundingBox())!;
    const done = await downloadFrom(browser, () => page.mouse.click(box.x + box.width - 60, box.y + box.height + 4 + 8 + 36 * 5 + 18), 90_000);
    expect(done.state, done.error).toBe('complete');
    expect(done.filename.endsWith('Fake Clip - Night Drive (4K).srt')).toBe(true);
    expect(readFileSync(done.filename, 'utf8')).toMatch(/\d\d:\d\d:\d\d,\d{3} --> /);
    await page.close();
  });

  it('a navigation to another video gets a fresh button, named downloads follow the new video; Back too', async () => {
    const [first, second] = [FAKE_VIDEOS[0]!, FAKE_VIDEOS[1]!];
    const page = await openWatchPage(first.id);
    await page.locator(IN_ROW).waitFor();
    const done1 = await downloadFrom(browser, () => clickVidmuxButton(page), 90_000);
    expect(done1.state, done1.error).toBe('complete');
    await expect.poll(() => attr(page, 'data-state'), { timeout: 10_000 }).toBe('done');

    // YouTube's own navigation: pushState, new title, the row re-rendered, yt-navigate-finish.
    await page.click(`a.yt-simple-endpoint[href="/watch?v=${second.id}"]`);
    await expect.poll(() => attr(page, 'data-video', IN_ROW)).toBe(`watch:${second.id}`);
    expect(await page.locator(BUTTON).count()).toBe(1);
    expect(await attr(page, 'data-state')).toBe('idle');
    expect(await attr(page, 'data-label')).toBe('Download');
    const done2 = await downloadFrom(browser, () => clickVidmuxButton(page), 90_000);
    expect(done2.state, done2.error).toBe('complete');
    expect(basename(done2.filename)).toBe('Second Fake Clip - Sunrise.mp4');
    await expect.poll(() => attr(page, 'data-state'), { timeout: 10_000 }).toBe('done');

    // Back (popstate): the first video's button, fresh again.
    await page.goBack();
    await expect.poll(() => attr(page, 'data-video')).toBe(`watch:${first.id}`);
    expect(await attr(page, 'data-state')).toBe('idle');
    expect(await page.locator(BUTTON).count()).toBe(1);
    await page.close();
  });

  it('a re-render that drops the row gets the button back; no row: it floats over the player, then returns', async () => {
    const page = await openWatchPage(FAKE_VIDEOS[0]!.id);
    await page.locator(IN_ROW).waitFor();
    // YouTube re-renders the row: a new element without our button.
    await page.evaluate(() => {
      const row = document.getElementById('top-level-buttons-computed')!;
      const fresh = row.cloneNode(false) as HTMLElement;
      fresh.append(...[...row.children].filter((c) => c.localName !== 'vidmux-youtube-download').map((c) => c.cloneNode(true)));
      row.replaceWith(fresh);
    });
    await page.locator(IN_ROW).waitFor({ timeout: 5_000 });
    expect(await page.locator(BUTTON).count()).toBe(1);

    // Only our button removed (YouTube re-rendering its children): back in.
    await page.evaluate((tag) => document.querySelector(tag)!.remove(), BUTTON);
    await page.locator(IN_ROW).waitFor({ timeout: 5_000 });

    // The row gone for good: after a moment the button floats over the player.
    await page.evaluate(() => document.getElementById('top-level-buttons-computed')!.remove());
    await page.locator(`#movie_player > ${BUTTON}`).waitFor({ timeout: 8_000 });
    expect(await attr(page, 'data-placement')).toBe('floating');
    const player = (await page.locator('#movie_player').boundingBox())!;
    const floating = (await page.locator(BUTTON).boundingBox())!;
    expect(floating.x + floating.width).toBeLessThanOrEqual(player.x + player.width);
    expect(floating.y).toBeGreaterThanOrEqual(player.y);
    await page.screenshot({ path: `${SHOTS}/youtube-button-floating.png`, clip: { x: player.x, y: player.y, width: player.width, height: 120 } });
    const done = await downloadFrom(browser, () => clickVidmuxButton(page), 90_000);
    expect(done.state, done.error).toBe('complete');

    // The row comes back: so does the button, in it.
    await page.evaluate(() => {
      const row = document.createElement('div');
      row.id = 'top-level-buttons-computed';
      document.querySelector('ytd-menu-renderer')!.append(row);
    });
    await page.locator(IN_ROW).waitFor({ timeout: 5_000 });
    expect(await attr(page, 'data-placement')).toBe('inline');
    expect(await page.locator(BUTTON).count()).toBe(1);
    await page.close();
  });

  it('shorts and youtu.be links get the button too; YouTube pages without a watched video get none', async () => {
    const shorts = await openWatchPage(FAKE_VIDEOS[0]!.id, `/shorts/${FAKE_VIDEOS[0]!.id}`);
    await shorts.locator(IN_ROW).waitFor();
    expect(await attr(shorts, 'data-video')).toBe(`shorts:${FAKE_VIDEOS[0]!.id}`);
    await shorts.close();

    const short = await browser.context.newPage();
    await short.goto(`https://youtu.be/${FAKE_VIDEOS[1]!.id}`);
    expect(short.url()).toBe(`https://www.youtube.com/watch?v=${FAKE_VIDEOS[1]!.id}`);
    await short.locator(IN_ROW).waitFor();
    await short.close();

    const missing = await browser.context.newPage();
    await missing.goto('https://www.youtube.com/watch?v=NoSuchVid00');
    await missing.waitForTimeout(800);
    expect(await missing.locator(BUTTON).count()).toBe(0);
    await missing.close();
  });

  it('ignores clicks the page makes up', async () => {
    const page = await openWatchPage(FAKE_VIDEOS[0]!.id);
    await page.locator(IN_ROW).waitFor();
    await page.evaluate((tag) => {
      const host = document.querySelector(tag) as HTMLElement;
      host.click();
      host.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    }, BUTTON);
    await page.waitForTimeout(500);
    expect(await attr(page, 'data-state')).toBe('idle');
    expect(await attr(page, 'data-menu')).toBe('closed');
    await page.close();
  });
});

describe('the button over a video on other sites', () => {
  it('is hidden until the pointer is over the video, and shows on keyboard focus', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${site.url}/watch/plain.html`);
    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).readyState >= 1);
    const host = page.locator('vidmux-download');
    await host.waitFor({ state: 'attached' });
    await page.mouse.move(900, 700);
    await page.waitForTimeout(300);
    const opacity = () => host.evaluate((el) => getComputedStyle(el).opacity);
    expect(await host.getAttribute('data-shown')).toBe('false');
    expect(await opacity()).toBe('0');
    await page.screenshot({ path: `${SHOTS}/button-hidden.png`, clip: { x: 0, y: 0, width: 720, height: 480 } });

    const video = (await page.locator('video').boundingBox())!;
    await page.mouse.move(video.x + video.width / 2, video.y + video.height / 2);
    await expect.poll(() => host.getAttribute('data-shown')).toBe('true');
    await expect.poll(opacity).toBe('1');
    await page.screenshot({ path: `${SHOTS}/button-hover.png`, clip: { x: 0, y: 0, width: 720, height: 480 } });

    await page.mouse.move(900, 700);
    await expect.poll(() => host.getAttribute('data-shown')).toBe('false');

    // Keyboard: Tab reaches the button (after the page's own controls), and it shows while focused.
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    let focused = false;
    for (let i = 0; i < 10 && !focused; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => document.activeElement?.localName === 'vidmux-download');
    }
    expect(focused).toBe(true);
    await expect.poll(() => host.getAttribute('data-shown')).toBe('true');
    await page.keyboard.press('Tab');
    await expect.poll(() => host.getAttribute('data-shown')).toBe('false');
    await page.close();
  });
});
