/**
 * `npm run demo`: builds the extension, starts the demo site, opens it in Chromium with Vidmux
 * loaded. `npm run demo -- --smoke` does the same headless, clicks the Download button on the plain
 * MP4 page, and prints where the file landed and whether it matches the source byte for byte.
 * Options: --no-build (reuse .output/), --port N (demo site port; default 8090).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { demoMedia } from '../test/fakes/demo-media';
import { startDemoSite } from '../test/fakes/demo-site';
import { clickVidmuxButton, downloadFrom, EXTENSION_DIR, launchExtensionBrowser } from '../test/harness/extension-browser';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const portArg = args.indexOf('--port');
const port = portArg >= 0 ? Number(args[portArg + 1]) : smoke ? 0 : 8090;
const log = (s: string) => process.stderr.write(`${s}\n`);
const sha256 = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

async function main(): Promise<number> {
  if (!args.includes('--no-build')) {
    log('Building the extension…');
    const r = spawnSync('npx', ['wxt', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error('wxt build failed');
  }
  const media = await demoMedia();
  const sample = media.sample;
  const site = await startDemoSite(media.files, port);
  log(`Demo site: ${site.url}/`);
  const headless = smoke || !process.env.DISPLAY;
  if (!smoke && headless) {
    log('No display here, so no browser window. Load the extension yourself:');
    log(`  Chrome: chrome://extensions -> Developer mode -> Load unpacked -> ${EXTENSION_DIR}`);
    log(`  then open ${site.url}/ . Ctrl-C stops the demo site.`);
    await new Promise(() => undefined);
  }
  const browser = await launchExtensionBrowser({ headless });
  try {
    const page = await browser.context.newPage();
    await page.goto(`${site.url}${smoke ? '/watch/plain.html' : '/'}`);
    if (!smoke) {
      log('Chromium is open with Vidmux loaded. Close the window or press Ctrl-C to stop.');
      await new Promise<void>((resolve) => browser.context.on('close', () => resolve()));
      return 0;
    }
    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).readyState >= 1);
    const done = await downloadFrom(browser, () => clickVidmuxButton(page));
    if (done.state !== 'complete') {
      log(`Download failed: ${done.error ?? done.state}`);
      return 1;
    }
    const match = sha256(done.filename) === sha256(sample);
    console.log(`saved: ${done.filename}`);
    console.log(`source: ${sample}`);
    console.log(`sha256 ${match ? 'matches' : 'DIFFERS from'} the source`);
    return match ? 0 : 1;
  } finally {
    await browser.close();
    await site.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
