/**
 * The Firefox package as addons.mozilla.org would see it (run after `npm run build:firefox`):
 * `web-ext lint` reports no error, and its only warnings are the ones README.md explains (React
 * DOM's own innerHTML, in the popup's and pages' shared chunk). The manifest declares what AMO
 * requires: a fixed id, a minimum version, and that no data is collected.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const OUT = resolve(ROOT, '.output/firefox-mv3');

interface LintMessage {
  code: string;
  file?: string;
  message: string;
}

function lint(): Promise<{ summary: { errors: number; warnings: number }; errors: LintMessage[]; warnings: LintMessage[] }> {
  return new Promise((done, fail) =>
    execFile(process.execPath, [resolve(ROOT, 'node_modules/web-ext/bin/web-ext.js'), 'lint', '--source-dir', OUT, '--output', 'json', '--no-config-discovery'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
      try {
        done(JSON.parse(stdout));
      } catch {
        fail(err ?? new Error(`web-ext lint printed no JSON: ${stdout.slice(0, 500)}`));
      }
    }),
  );
}

describe('the Firefox package', () => {
  it('web-ext lint: no errors; the only warnings are React DOM’s innerHTML in the pages’ shared chunk (README.md)', async () => {
    const report = await lint();
    expect(report.errors).toEqual([]);
    const unexplained = report.warnings.filter((w) => !(w.code === 'UNSAFE_VAR_ASSIGNMENT' && /^chunks\//.test(w.file ?? '') && !/content/.test(w.file ?? '')));
    expect(unexplained).toEqual([]);
  }, 120_000);

  it('declares its id, minimum version and that it collects no data', () => {
    const manifest = JSON.parse(readFileSync(resolve(OUT, 'manifest.json'), 'utf8')) as { manifest_version: number; browser_specific_settings: { gecko: Record<string, unknown> } };
    expect(manifest.manifest_version).toBe(3);
    expect(manifest.browser_specific_settings.gecko).toEqual({ id: 'vidmux@vidmux.app', strict_min_version: '115.0', data_collection_permissions: { required: ['none'] } });
  });
});
