/**
 * Highlight reels end to end: the built extension in Chromium reaches the VIDIO fake at VIDIO's
 * (inferred) hostname with the shipped default base URL. A VIDIO key is added on the options page;
 * a page video is downloaded; from that finished download the popup's "Reel" opens the reel page
 * with that video already chosen (kept in OPFS), portrait / 15 s / music, one of VIDIO's proposals
 * picked by its picture, and the reel comes back through the queue and the browser's downloads. A file VIDIO cannot read shows VIDIO's reason.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoMedia } from '../fakes/demo-media';
import { startDemoSite, type DemoSite } from '../fakes/demo-site';
import { startVidioFake, VIDIO_TEST_KEY, type VidioFake } from '../fakes/vidio-server';
import { ffprobeJson } from '../fixtures/ffmpeg';
import { clickVidmuxButton, downloadFrom, launchExtensionBrowser, tabIdOf, type ExtensionBrowser } from '../harness/extension-browser';
import { chromiumFakeHostArgs, testTls } from '../harness/tls';

const SHOTS = resolve(import.meta.dirname, '../../test-results/screenshots');
let site: DemoSite;
let vidio: VidioFake;
let browser: ExtensionBrowser;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const tls = testTls();
  site = await startDemoSite((await demoMedia()).files);
  // Real time, short stages: the client's own poll interval (5 s, inferred) sets the pace.
  vidio = await startVidioFake({
    tls,
    hostname: 'api.vidio.ai',
    filesHostname: 'files.vidio.ai',
    realTime: true,
    // HTTP/2, as a real API host would speak: where Chrome streams the upload (with progress).
    http2: true,
    timings: { submittedMs: 300, queuedMs: 300, processingMs: 600, renderingMs: 600 },
  });
  browser = await launchExtensionBrowser({
    extraArgs: chromiumFakeHostArgs({ 'api.vidio.ai': vidio.ports.api, 'files.vidio.ai': vidio.ports.files }, tls),
  });
});

/** What is in the reel inputs' folder of the extension's storage. */
async function reelInputs(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('reel-inputs').catch(() => null);
    const names: string[] = [];
    if (!dir) return names;
    for await (const name of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
    return names;
  });
}

afterAll(async () => {
  await browser?.close();
  await Promise.all([site?.close(), vidio?.close()]);
});

describe('a VIDIO highlight reel from a finished download', () => {
  it('a VIDIO key is added and tested on the options page (masked)', async () => {
    const options = await browser.openExtensionPage('options.html');
    const card = options.getByTestId('provider-vidio');
    await card.getByLabel(/API key/).fill(VIDIO_TEST_KEY);
    await card.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => card.getByTestId('masked-key').textContent()).toMatch(new RegExp(`^vidio_.*\\.\\.\\.${VIDIO_TEST_KEY.slice(-4)}$`));
    expect(await options.content()).not.toContain(VIDIO_TEST_KEY);
    await card.getByRole('button', { name: 'Test' }).click();
    await expect.poll(() => card.getByTestId('key-status').textContent(), { timeout: 20_000 }).toMatch(/^Works: /);
    await options.close();
  });

  it('"Reel" on the download opens the reel page with that video chosen; portrait, 15 s, music, a proposal picked by its picture: saved as a portrait MP4', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${site.url}/watch/plain.html`);
    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).readyState >= 1);
    await page.locator('video').hover();
    const saved = await downloadFrom(browser, () => clickVidmuxButton(page));
    expect(saved.state, saved.error).toBe('complete');

    const popup = await browser.openExtensionPage(`popup.html?tabId=${await tabIdOf(browser, page.url())}`);
    const job = popup.getByTestId('job-item').first();
    await expect.poll(() => job.getAttribute('data-stage'), { timeout: 10_000 }).toBe('done');
    // With a VIDIO key the saved video stays in the extension's storage (one, for an hour) for a reel.
    await expect.poll(() => reelInputs(popup)).toEqual([expect.stringMatching(/^saved-/)]);
    const opened = browser.context.waitForEvent('page');
    await job.getByRole('button', { name: /^Make a highlight reel of / }).click();
    const reel = await opened;
    await reel.waitForLoadState();
    expect(reel.url()).toMatch(/\/reel\.html\?job=[\w-]+&from=/);
    // No file picker needed: the download is the reel's video already.
    const chosen = reel.getByTestId('reel-file');
    await expect.poll(() => chosen.count()).toBe(1);
    expect(await chosen.getAttribute('data-kind')).toBe('kept');
    expect(await chosen.textContent()).toContain(saved.filename.split('/').pop());
    expect(await reel.getByTestId('reel-from').count()).toBe(0);

    await reel.getByLabel('Category').selectOption('travel');
    await reel.getByLabel('Length (seconds)').fill('15');
    await reel.getByLabel('portrait').check();
    await reel.getByLabel('Music', { exact: true }).selectOption('sports');
    await reel.getByLabel(/Let me choose among the reels/).check();
    await reel.screenshot({ path: `${SHOTS}/reel-page.png`, fullPage: true });
    // The fake reads the upload over about 3 s: the page shows how far it is, in bytes, as it goes.
    vidio.switches.uploadBytesPerSecond = Math.ceil(statSync(saved.filename).size / 3);
    const done = await downloadFrom(
      browser,
      async () => {
        await reel.getByRole('button', { name: 'Make the reel' }).click();
        const seen = new Set<number>();
        for (let i = 0; i < 100 && !(await reel.getByTestId('job-choice').count()); i++) {
          const words = await reel.getByTestId('job-stage-words').textContent().catch(() => null);
          const now = words?.startsWith('Uploading') ? await reel.getByRole('progressbar').first().getAttribute('aria-valuenow').catch(() => null) : null;
          if (now !== null) seen.add(Number(now));
          await reel.waitForTimeout(100);
        }
        vidio.switches.uploadBytesPerSecond = null;
        const between = [...seen].filter((n) => n > 5 && n < 95);
        expect(between.length, `upload progress seen: ${[...seen].join(', ')}`).toBeGreaterThanOrEqual(2);
        // VIDIO's proposals, each with its picture (fetched by the engine with the key) and length.
        const proposals = reel.getByTestId('job-choice');
        await expect.poll(() => proposals.count(), { timeout: 60_000 }).toBe(3);
        const pictures = await reel.locator('[data-testid=job-choice] img').evaluateAll((imgs) => imgs.map((i) => [(i as HTMLImageElement).naturalWidth, (i as HTMLImageElement).naturalHeight]));
        expect(pictures).toEqual([[48, 27], [48, 27], [48, 27]]);
        expect(await reel.getByTestId('job-stage-words').textContent()).toBe('Choose one of the 3 reels VIDIO proposes');
        await reel.screenshot({ path: `${SHOTS}/reel-choose.png`, fullPage: true });
        await reel.getByRole('button', { name: /^Render Reel 2 \(/ }).click();
      },
      120_000,
    );
    expect(done.state, done.error).toBe('complete');
    expect(done.filename).toMatch(/portrait reel.*\.mp4$/);
    const probe = await ffprobeJson(done.filename);
    const v = probe.streams.find((s: { codec_type: string }) => s.codec_type === 'video');
    expect(v.height).toBeGreaterThan(v.width);
    // VIDIO was asked for what was chosen, the picked proposal was rendered, the key never went to the file host.
    const created = [...vidio.jobs.values()].at(-1)!;
    expect(created).toMatchObject({ request: expect.objectContaining({ aspect_ratio: 'portrait', output_length: 15, music_category: 'sports', video_category: 'travel' }), renderIndex: 1 });
    // Streamed over HTTP/2 (a Blob body would show no progress between start and end).
    expect(vidio.log({ path: /\/uploads$/, method: 'POST' }).at(-1)!.headers[':path']).toBe('/v1/uploads');
    const upload = [...vidio.uploads.values()].at(-1)!;
    expect(upload.bytes).toBe(statSync(saved.filename).size);
    expect(upload.md5).toBe(createHash('md5').update(readFileSync(saved.filename)).digest('hex'));
    expect(vidio.keyLeaks()).toEqual([]);
    // The reel page shows it done; the kept download was deleted once uploaded.
    await expect.poll(() => reel.getByTestId('job-item').getAttribute('data-stage'), { timeout: 10_000 }).toBe('done');
    await reel.screenshot({ path: `${SHOTS}/reel-done.png`, fullPage: true });
    // The reel itself is not kept (it is a reel already): nothing is left.
    await expect.poll(() => reelInputs(reel)).toEqual([]);
    await Promise.all([reel.close(), popup.close(), page.close()]);
  });

  it('a file VIDIO cannot read shows VIDIO’s reason on the reel page', async () => {
    const notVideo = join(tmpdir(), `vidmux-not-a-video-${process.pid}.mp4`);
    writeFileSync(notVideo, 'this is a text file, not a video\n'.repeat(100));
    const reel = await browser.openExtensionPage('reel.html');
    await reel.setInputFiles('#reel-files', notVideo);
    await reel.getByLabel('Length (seconds)').fill('15');
    await reel.getByRole('button', { name: 'Make the reel' }).click();
    const failed = reel.getByTestId('job-item');
    await expect.poll(() => failed.getAttribute('data-stage'), { timeout: 60_000 }).toBe('failed');
    const why = await failed.getByRole('alert').textContent();
    expect(why).toMatch(/VIDIO cannot read .*as a video/);
    await reel.close();
  });
});
