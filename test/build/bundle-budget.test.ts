/**
 * Budgets of the built extension (run after `npm run build`): what every web page loads stays small,
 * and the MP4 libraries stay in the engine's bundle. A check of the build's output, not a timing.
 */
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const OUT = resolve(import.meta.dirname, '../../.output/chrome-mv3');
/** The content script runs on every page the user visits. */
const CONTENT_SCRIPT_BUDGET = 150_000;

/** Text only each library carries (checked below to be present in the engine's bundle). */
const MARKERS = {
  mp4box: 'BoxParser',
  'mp4-muxer': 'Cannot add new video or audio chunks after the file has been finalized',
};

/** The scripts an extension page loads: its entry and the chunks it preloads. */
function pageScripts(html: string): string[] {
  const text = readFileSync(join(OUT, html), 'utf8');
  return [...text.matchAll(/(?:src|href)="\/?(chunks\/[^"]+\.js)"/g)].map((m) => m[1]!);
}

const read = (file: string) => readFileSync(join(OUT, file), 'utf8');
const libsIn = (files: string[]) => Object.entries(MARKERS).filter(([, marker]) => files.some((f) => read(f).includes(marker))).map(([lib]) => lib);

describe('bundle budget', () => {
  it(`the content script is at most ${CONTENT_SCRIPT_BUDGET / 1000} KB and carries no MP4 library`, () => {
    const size = statSync(join(OUT, 'content-scripts/content.js')).size;
    expect(size).toBeLessThanOrEqual(CONTENT_SCRIPT_BUDGET);
    expect(libsIn(['content-scripts/content.js'])).toEqual([]);
  });

  it('the popup and the options page load no MP4 library', () => {
    for (const page of ['popup.html', 'options.html']) {
      const scripts = pageScripts(page);
      expect(scripts.length, page).toBeGreaterThan(0);
      expect(libsIn(scripts), page).toEqual([]);
    }
  });

  it('Chrome’s service worker never muxes: no MP4 library in it either', () => {
    expect(libsIn(['background.js'])).toEqual([]);
  });

  it('the engine (the offscreen document’s worker) has both, so the markers above are real; the document itself has neither', () => {
    const document = pageScripts('offscreen.html');
    expect(libsIn(document)).toEqual([]);
    // The document starts its engine worker by URL: that module carries the engine.
    const workers = document.flatMap((f) => [...read(f).matchAll(/new Worker\("\/?([^"]+\.js)"/g)].map((m) => m[1]!));
    expect(workers).toHaveLength(1);
    expect(libsIn(workers)).toEqual(['mp4box', 'mp4-muxer']);
  });
});
