/**
 * A download survives a browser restart: Chromium is closed mid-download and launched again with
 * the same profile; the popup shows the job as interrupted, Resume continues it from the pieces on
 * disk (the server counts the bytes: well under the whole file after the relaunch), and the saved
 * file equals the source. Discard of another interrupted job leaves nothing in OPFS.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoMedia } from '../fakes/demo-media';
import { startMediaServer, type MediaServer } from '../fakes/media-server';
import { clickVidmuxButton, downloadFrom, launchExtensionBrowser, listDownloads, waitForDownloadEnd, type ExtensionBrowser } from '../harness/extension-browser';

const PAD = 60 * 1024 * 1024;
let server: MediaServer;
let source: Buffer;
let browser: ExtensionBrowser | null = null;

beforeAll(async () => {
  // A real MP4 (it plays: the page's player reads its metadata) made big by a top-level `free`
  // box of random bytes after it, as files with padding have.
  const sample = readFileSync((await demoMedia()).sample);
  const free = Buffer.alloc(8);
  free.writeUInt32BE(PAD + 8);
  free.write('free', 4, 'latin1');
  source = Buffer.concat([sample, free, randomBytes(PAD)]);
  const path = join(mkdtempSync(join(tmpdir(), 'vidmux-big-')), 'big.mp4');
  writeFileSync(path, source);
  // 2 MB/s per connection, 4 connections: about 8 s for the whole file.
  server = await startMediaServer({ bytesPerSecond: 2 * 1024 * 1024 });
  await server.addFile('big.mp4', { path });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** The job files in the extension's OPFS, with the resumable record's contents. */
async function opfs(page: Page): Promise<{ names: string[]; recordBytes: number }> {
  return page.evaluate(async () => {
    const names: string[] = [];
    let recordBytes = 0;
    const root = await navigator.storage.getDirectory();
    for await (const name of (root as unknown as { keys(): AsyncIterable<string> }).keys()) {
      if (!name.startsWith('vidmux-job-')) continue;
      names.push(name);
      if (name.endsWith('.json')) recordBytes = (JSON.parse(await (await (await root.getFileHandle(name)).getFile()).text()) as { bytes: number }).bytes;
    }
    return { names: names.sort(), recordBytes };
  });
}

async function startDownload(b: ExtensionBrowser, name: string): Promise<void> {
  const page = await b.context.newPage();
  const url = `${server.origin}/watch/${name.replace(/\W+/g, '-')}.html`;
  await page.route(url, (route) => route.fulfill({ contentType: 'text/html', body: `<!doctype html><title>${name}</title><video src="/files/big.mp4" preload="metadata" controls></video>` }));
  await page.goto(url);
  await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).readyState >= 1);
  await clickVidmuxButton(page);
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('a plain copy is saved while it is written (Chrome: no copy of the finished file)', () => {
  it("the browser's download begins with the first piece and ends with the last; the file equals the source", async () => {
    const downloadDir = mkdtempSync(join(tmpdir(), 'vidmux-downloads-'));
    browser = await launchExtensionBrowser({ downloadDir });
    const b = browser;
    const look = await b.openExtensionPage('popup.html?tabId=999999');
    await startDownload(b, 'Streamed clip');
    // The download exists while the engine is still fetching: less than the file is on disk.
    await expect.poll(async () => (await listDownloads(b)).length, { timeout: 30_000, interval: 100 }).toBe(1);
    const [first] = await listDownloads(b);
    const onDisk = (await opfs(look)).recordBytes;
    expect(first!.url).toMatch(new RegExp(`^chrome-extension://${b.extensionId}/save/[0-9a-f-]{36}$`));
    expect(first!.state).toBe('in_progress');
    expect(onDisk).toBeLessThan(source.length / 2);
    // It takes the bytes as they are committed, and is not complete before the job is.
    await expect.poll(async () => (await listDownloads(b))[0]!.bytesReceived, { timeout: 30_000, interval: 100 }).toBeGreaterThan(16 * 1024 * 1024);
    const done = await waitForDownloadEnd(b, (d) => d.id === first!.id, 60_000);
    expect(done.state, done.error).toBe('complete');
    expect(done.filename).toBe(join(downloadDir, 'Streamed clip.mp4'));
    expect(sha(readFileSync(done.filename))).toBe(sha(source));
    const popup = await b.openExtensionPage('popup.html?tabId=999999');
    await expect.poll(() => popup.getByTestId('history-item').first().textContent()).toContain('Streamed clip.mp4');
    await expect.poll(async () => (await opfs(popup)).names, { timeout: 10_000 }).toEqual([]);
    await popup.close();
  }, 120_000);

  it('cancelling that download in the browser cancels the job: no file, nothing left in OPFS', async () => {
    const downloadDir = mkdtempSync(join(tmpdir(), 'vidmux-downloads-'));
    await browser?.close();
    browser = await launchExtensionBrowser({ downloadDir });
    const b = browser;
    const look = await b.openExtensionPage('popup.html?tabId=999999');
    server.resetStats();
    await startDownload(b, 'Cancelled clip');
    await expect.poll(async () => (await listDownloads(b))[0]?.bytesReceived ?? 0, { timeout: 30_000, interval: 100 }).toBeGreaterThan(0);
    const [item] = await listDownloads(b);
    // What the downloads page's Cancel does.
    await b.worker.evaluate((id: number) => (globalThis as any).chrome.downloads.cancel(id), item!.id);
    // The job ended (in the history, failed), its files are gone, and the engine stopped fetching.
    await expect.poll(() => look.getByTestId('history-item').first().textContent(), { timeout: 15_000 }).toBe('✗ Cancelled clip.mp4');
    await expect.poll(async () => (await opfs(look)).names, { timeout: 10_000 }).toEqual([]);
    const fetched = () => server.requests.reduce((n, r) => n + r.bytesSent, 0);
    const then = fetched();
    await new Promise((r) => setTimeout(r, 1500));
    expect(fetched()).toBe(then);
    expect(then).toBeLessThan(source.length);
    expect(existsSync(downloadDir) ? readdirSync(downloadDir) : []).toEqual([]);
    await look.close();
  }, 120_000);
});

describe('a download survives a browser restart', () => {
  it('closed mid-download, relaunched with the same profile: Interrupted, Resume continues from disk, the file equals the source', async () => {
    const profile = mkdtempSync(join(tmpdir(), 'vidmux-profile-'));
    const downloadDir = mkdtempSync(join(tmpdir(), 'vidmux-downloads-'));
    browser = await launchExtensionBrowser({ userDataDir: profile, downloadDir });
    await startDownload(browser, 'Big clip');
    const look = await browser.openExtensionPage('popup.html?tabId=999999');
    // Wait until two 16 MB pieces are on disk, then close the browser mid-download.
    await expect.poll(async () => (await opfs(look)).recordBytes, { timeout: 30_000, interval: 100 }).toBeGreaterThanOrEqual(32 * 1024 * 1024);
    const before = await opfs(look);
    expect(before.recordBytes).toBeLessThan(source.length);
    await browser.close();
    browser = null;

    browser = await launchExtensionBrowser({ userDataDir: profile, downloadDir });
    const popup = await browser.openExtensionPage('popup.html?tabId=999999');
    const job = popup.getByTestId('job-item').first();
    await expect.poll(() => job.getAttribute('data-stage'), { timeout: 15_000 }).toBe('interrupted');
    expect(await job.getByTestId('job-interrupted').textContent()).toMatch(/^Interrupted when the browser closed at \d+%\. Resume continues from what was saved\.$/);
    // Its pieces survived the startup sweep.
    expect((await opfs(popup)).names.filter((n) => /\.p\d{5}$/.test(n)).length).toBeGreaterThanOrEqual(1);
    await popup.screenshot({ path: 'test-results/screenshots/interrupted.png' });

    const from = server.requests.length;
    const saved = await downloadFrom(browser, () => job.getByRole('button', { name: /^Resume / }).click(), 60_000);
    expect(saved.state, saved.error).toBe('complete');
    expect(sha(readFileSync(saved.filename))).toBe(sha(source));
    const fetched = server.requests.slice(from).reduce((n, r) => n + r.bytesSent, 0);
    expect(fetched).toBeLessThanOrEqual(source.length - before.recordBytes + 8 * 1024 * 1024);
    expect(fetched).toBeLessThan(source.length * 0.6);
    console.info(`resume: ${before.recordBytes} of ${source.length} bytes were on disk; ${fetched} fetched after the relaunch`);
    // Done: nothing of the job is left in OPFS.
    await expect.poll(async () => (await opfs(popup)).names, { timeout: 10_000 }).toEqual([]);
    await popup.close();
  }, 180_000);

  it('Discard drops an interrupted job and its pieces', async () => {
    const profile = mkdtempSync(join(tmpdir(), 'vidmux-profile-'));
    await browser?.close();
    browser = await launchExtensionBrowser({ userDataDir: profile });
    await startDownload(browser, 'Other clip');
    const look = await browser.openExtensionPage('popup.html?tabId=999999');
    await expect.poll(async () => (await opfs(look)).recordBytes, { timeout: 30_000, interval: 100 }).toBeGreaterThanOrEqual(16 * 1024 * 1024);
    await browser.close();
    browser = await launchExtensionBrowser({ userDataDir: profile });
    const popup = await browser.openExtensionPage('popup.html?tabId=999999');
    const job = popup.getByTestId('job-item').first();
    await expect.poll(() => job.getAttribute('data-stage'), { timeout: 15_000 }).toBe('interrupted');
    await job.getByRole('button', { name: /^Discard / }).click();
    await expect.poll(() => popup.getByTestId('job-item').count()).toBe(0);
    await expect.poll(async () => (await opfs(popup)).names, { timeout: 10_000 }).toEqual([]);
    await popup.close();
  }, 180_000);
});
