// The house rules in eslint.config.js, proved: each rule fires on a forbidden import or usage at a
// representative path and stays quiet on an allowed one. A removed or mistyped rule fails here.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({ cwd: repoRoot });
});

async function lint(filePath: string, code: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath });
  const messages = result?.messages ?? [];
  expect(messages.filter((m) => m.fatal || m.ruleId === null)).toEqual([]); // parsed, not ignored
  return messages;
}

const summary = (messages: Linter.LintMessage[]) => messages.map((m) => `${m.ruleId}: ${m.message}`);

const codeLines = (n: number) => Array.from({ length: n }, (_, i) => `export const v${i} = ${i};`).join('\n');

interface Case {
  file: string;
  code: string;
  rule: string;
  message: string;
}

const forbidden: Record<string, Case[]> = {
  '1. extension APIs only in lib/platform and entrypoints': [
    { file: 'lib/jobs/x.ts', code: "import { browser } from 'wxt/browser';", rule: 'vidmux/extension-apis', message: 'Extension APIs only in lib/platform/' },
    { file: 'components/Popup.tsx', code: "import { storage } from 'wxt/utils/storage';", rule: 'vidmux/extension-apis', message: 'Extension APIs only in lib/platform/' },
    { file: 'components/features/x.ts', code: "import { defineContentScript } from 'wxt/utils/define-content-script';", rule: 'vidmux/extension-apis', message: 'Extension APIs only' },
    { file: 'lib/net/x.ts', code: "import browser from 'webextension-polyfill';", rule: 'vidmux/extension-apis', message: 'Extension APIs only' },
    { file: 'lib/dom/x.ts', code: "import '@wxt-dev/webextension-polyfill';", rule: 'vidmux/extension-apis', message: 'Extension APIs only' },
    { file: 'lib/dom/x.ts', code: "import { browser } from '#imports';", rule: 'vidmux/extension-apis', message: 'Extension APIs only' },
    { file: 'cli/x.ts', code: "export const load = () => import('wxt/browser');", rule: 'vidmux/extension-apis', message: 'Extension APIs only' },
    { file: 'lib/jobs/x.ts', code: 'browser.runtime.sendMessage({});', rule: 'vidmux/extension-api-globals', message: 'Extension APIs only in lib/platform/' },
    { file: 'components/download-button.ts', code: 'chrome.downloads.download({ url: "" });', rule: 'vidmux/extension-api-globals', message: "Unexpected use of 'chrome'" },
    { file: 'lib/media/x.ts', code: 'export const c = globalThis.chrome;', rule: 'vidmux/extension-api-globals', message: 'Extension APIs only' },
  ],
  '2. schema modules import only zod and schema modules': [
    { file: 'lib/schemas/job.ts', code: "import { JobStore } from '../jobs/job';", rule: 'vidmux/schemas-are-leaves', message: 'Schema modules are leaves' },
    { file: 'lib/schemas/job.ts', code: "import type { VidmuxError } from '../errors';", rule: 'vidmux/schemas-are-leaves', message: 'import only zod and other schema modules' },
    { file: 'lib/schemas/job.ts', code: "import { v } from 'valibot';", rule: 'vidmux/schemas-are-leaves', message: 'Schema modules are leaves' },
    { file: 'lib/messages.ts', code: "import { VidmuxError } from './errors';", rule: 'vidmux/schemas-are-leaves', message: 'Schema modules are leaves' },
  ],
  '3. providers never import jobs (nor background, platform, media, node)': [
    { file: 'lib/providers/vidpickr.ts', code: "import { runSave } from '../jobs/run-save';", rule: 'vidmux/providers-never-import-jobs', message: 'Providers never import jobs' },
    { file: 'lib/providers/kit/x.ts', code: "import { handlers } from '../../background/handlers';", rule: 'vidmux/providers-never-import-jobs', message: 'Providers never import jobs' },
    { file: 'lib/providers/vidpickr.ts', code: "import { remux } from '../media';", rule: 'vidmux/providers-never-import-jobs', message: 'through their context' },
    { file: 'lib/providers/vidpickr.ts', code: "import { loadKeys } from '../platform/key-store';", rule: 'vidmux/providers-never-import-jobs', message: 'Providers never import jobs or lib/platform' },
    { file: 'lib/providers/vidpickr.ts', code: "import { NodeFileSink } from '../node/files';", rule: 'vidmux/providers-never-import-jobs', message: 'Providers never import jobs or lib/node' },
    { file: 'lib/providers/vidpickr.test.ts', code: "import { runSave } from '../jobs/run-save';", rule: 'vidmux/providers-never-import-jobs', message: 'Providers never import jobs' },
    { file: 'lib/providers/vidpickr.test.ts', code: "import { runJob } from '../jobs/run-job';", rule: 'vidmux/providers-never-import-jobs', message: 'Providers never import jobs' },
  ],
  '4. settings never import providers': [
    { file: 'lib/schemas/settings.ts', code: "import { PROVIDERS } from '../providers/registry';", rule: 'vidmux/settings-never-import-providers', message: 'Settings never import providers' },
  ],
  '5. engines never import lib/platform; Node-only code stays in lib/node': [
    { file: 'lib/manifests/dash.ts', code: "import { loadSettings } from '../platform/storage';", rule: 'vidmux/engines-never-import-platform', message: 'Engines never import lib/platform' },
    { file: 'lib/sites.ts', code: "import { send } from './platform/messaging';", rule: 'vidmux/engines-never-import-platform', message: 'Engines never import lib/platform' },
    { file: 'lib/node/files.ts', code: "import { send } from '@/lib/platform/messaging';", rule: 'vidmux/engines-never-import-platform', message: 'Engines never import lib/platform' },
    { file: 'lib/dom/x.ts', code: "import { NodeFileSink } from '@/lib/node/files';", rule: 'vidmux/node-only-in-lib-node', message: 'Node-only code stays in lib/node/' },
    { file: 'lib/net/http.ts', code: "import { readFile } from 'node:fs/promises';", rule: 'vidmux/no-node-builtins-in-lib', message: 'Node-only code stays in lib/node/' },
    { file: 'lib/media/x.ts', code: "import fs from 'fs';", rule: 'vidmux/no-node-builtins-in-lib', message: 'no node:* builtins' },
    { file: 'lib/filename.ts', code: "import path from 'path';", rule: 'vidmux/no-node-builtins-in-lib', message: 'no node:* builtins' },
    { file: 'lib/platform/storage.ts', code: "import { createHash } from 'crypto';", rule: 'vidmux/no-node-builtins-in-lib', message: 'no node:* builtins' },
    { file: 'lib/jobs/x.test.ts', code: "import { loadSettings } from '../platform/storage';", rule: 'vidmux/ports-are-injected', message: 'get their ports injected' },
  ],
  '6. the two engines meet only at lib/io.ts': [
    { file: 'lib/net/x.ts', code: "import { remux } from '../media/remux';", rule: 'vidmux/engines-meet-at-io', message: 'The two engines meet only at lib/io.ts' },
    { file: 'lib/net/x.test.ts', code: "import { ByteReader } from '../media/byte-reader';", rule: 'vidmux/engines-meet-at-io', message: 'lib/net never imports lib/media' },
    { file: 'lib/media/demux.ts', code: "import { httpGet } from '../net/http';", rule: 'vidmux/engines-meet-at-io', message: 'lib/media never imports lib/net' },
    { file: 'lib/net/save.ts', code: "import type { Provider } from '../providers/types';", rule: 'vidmux/engines-meet-at-io', message: 'The two engines meet only at lib/io.ts' },
    { file: 'lib/media/remux.ts', code: "import { JobStore } from '../jobs/job';", rule: 'vidmux/engines-meet-at-io', message: 'never imports providers, jobs, background or platform' },
    { file: 'lib/media/opfs-sink.ts', code: "import { x } from '../platform/engine-host';", rule: 'vidmux/engines-meet-at-io', message: 'The two engines meet only at lib/io.ts' },
  ],
  '7. jobs and background handlers get their ports injected': [
    { file: 'lib/jobs/run-job.ts', code: "import { loadSettings } from '../platform/storage';", rule: 'vidmux/ports-are-injected', message: 'get their ports injected' },
    { file: 'lib/background/handlers.ts', code: "import { NodeFileSink } from '../node/files';", rule: 'vidmux/ports-are-injected', message: 'never import lib/platform/ or lib/node/' },
    { file: 'lib/background/handlers.ts', code: "import { send } from '@/lib/platform/messaging';", rule: 'vidmux/ports-are-injected', message: 'get their ports injected' },
  ],
  '8. mp4box and mp4-muxer only behind their adapters': [
    { file: 'lib/media/demux.ts', code: "import { createFile } from 'mp4box';", rule: 'vidmux/mp4box-only-in-adapter', message: 'mp4box is imported only by lib/media/mp4box-adapter.ts' },
    { file: 'test/fixtures/x.ts', code: "import { createFile } from 'mp4box';", rule: 'vidmux/mp4box-only-in-adapter', message: 'mp4box is imported only' },
    { file: 'lib/media/muxer.ts', code: "import { Muxer } from 'mp4-muxer';", rule: 'vidmux/mp4-muxer-only-in-adapter', message: 'mp4-muxer is imported only by lib/media/mp4-muxer-adapter.ts' },
    { file: 'lib/media/mp4box-adapter.ts', code: "import { Muxer } from 'mp4-muxer';", rule: 'vidmux/mp4-muxer-only-in-adapter', message: 'mp4-muxer is imported only' },
  ],
  '9. UI stays light': [
    { file: 'components/Popup.tsx', code: "import { remux } from '@/lib/media';", rule: 'vidmux/ui-stays-light', message: 'UI stays light' },
    { file: 'components/features/x.ts', code: "import { httpGet } from '../../lib/net/http';", rule: 'vidmux/ui-stays-light', message: 'never import the engines' },
    { file: 'components/Popup.tsx', code: "import { chooseFormat } from '@/lib/providers/select';", rule: 'vidmux/ui-stays-light', message: 'never import providers' },
    { file: 'components/Popup.tsx', code: "import { x } from '@/lib/providers/kit/format-extra';", rule: 'vidmux/ui-stays-light', message: 'never import providers' },
    { file: 'components/Options.tsx', code: "import { runSave } from '../lib/jobs/run-save';", rule: 'vidmux/ui-stays-light', message: 'never import jobs' },
    { file: 'components/Popup.tsx', code: "import { parseDash } from '@/lib/manifests/dash';", rule: 'vidmux/ui-stays-light', message: 'UI stays light' },
    { file: 'components/Popup.tsx', code: "import { NodeFileSink } from '@/lib/node/files';", rule: 'vidmux/ui-stays-light', message: 'UI stays light' },
    { file: 'components/Popup.tsx', code: "import { handlers } from '@/lib/background/handlers';", rule: 'vidmux/ui-stays-light', message: 'UI stays light' },
  ],
  '10. the CLI never imports the extension': [
    { file: 'cli/commands/download.ts', code: "import { loadSettings } from '../../lib/platform/storage';", rule: 'vidmux/cli-never-imports-the-extension', message: 'The CLI is plain Node' },
    { file: 'cli/index.ts', code: "import Popup from '../components/Popup';", rule: 'vidmux/cli-never-imports-the-extension', message: 'The CLI is plain Node' },
    { file: 'cli/index.ts', code: "export const bg = () => import('../entrypoints/background.js');", rule: 'vidmux/cli-never-imports-the-extension', message: 'The CLI is plain Node' },
  ],
  '11. no any in product code': [
    { file: 'lib/providers/vidpickr.ts', code: 'export const x: any = 1;', rule: '@typescript-eslint/no-explicit-any', message: 'Unexpected any' },
    { file: 'components/Popup.tsx', code: 'export const x = (y: unknown) => y as any;', rule: '@typescript-eslint/no-explicit-any', message: 'Unexpected any' },
    { file: 'lib/media/demux.ts', code: 'export const x: any[] = [];', rule: '@typescript-eslint/no-explicit-any', message: 'Unexpected any' },
  ],
  '12. entrypoints are composition roots (max 90 lines of code)': [
    { file: 'entrypoints/background.ts', code: codeLines(100), rule: 'max-lines', message: 'Maximum allowed is 90' },
    { file: 'entrypoints/popup/main.tsx', code: codeLines(91), rule: 'max-lines', message: 'Maximum allowed is 90' },
  ],
  '13. lib/platform holds adapters only': [
    { file: 'lib/platform/engine-host.ts', code: "import { createProviders } from '../providers';", rule: 'vidmux/platform-is-adapters-only', message: 'adapters only' },
    { file: 'lib/platform/x.ts', code: "import { remux } from '../media';", rule: 'vidmux/platform-is-adapters-only', message: 'never imports providers or the engines' },
  ],
};

const allowed: Record<string, { file: string; code: string }[]> = {
  '1. extension APIs only in lib/platform and entrypoints': [
    { file: 'lib/platform/x.ts', code: "import { browser } from 'wxt/browser';\nbrowser.runtime.id;\nchrome.runtime.id;" },
    { file: 'entrypoints/background.ts', code: "import { storage } from 'wxt/utils/storage';\nimport { defineBackground } from 'wxt/utils/define-background';\nbrowser.runtime.id;" },
    { file: 'components/features/x.ts', code: "import type { ContentScriptContext } from 'wxt/utils/content-script-context';\nimport type { Browser } from 'wxt/browser';\nimport { type PublicPath } from 'wxt/browser';" },
    { file: 'lib/platform/ports.ts', code: 'export type Port = chrome.runtime.Port;' },
    { file: 'lib/jobs/x.ts', code: 'export let port: chrome.runtime.Port | undefined;' },
    { file: 'lib/jobs/downloads.test.ts', code: "import { browser } from 'wxt/browser';\nchrome.downloads.search({});\nbrowser.runtime.id;" },
    { file: 'test/harness/extension-browser.ts', code: 'export const q = () => (globalThis as { chrome?: unknown }).chrome ?? chrome.tabs.query({});' },
    { file: 'test/e2e/x.e2e.ts', code: 'chrome.tabs.query({});' },
    { file: 'scripts/demo.ts', code: "const browser = { close() {} };\nbrowser.close();" },
  ],
  '2. schema modules import only zod and schema modules': [
    { file: 'lib/schemas/job.ts', code: "import { z } from 'zod';\nimport { progress } from './progress';\nimport type { Ids } from './ids.js';" },
    { file: 'lib/messages.ts', code: "import { z } from 'zod/v4';\nimport { job } from './schemas/job';\nimport type { Settings } from '@/lib/schemas/settings';" },
    { file: 'lib/schemas/settings.test.ts', code: "import { expect } from 'vitest';\nimport { settings } from './settings';" },
  ],
  '3. providers never import jobs (nor background, platform, media, node)': [
    { file: 'lib/providers/vidpickr.ts', code: "import { httpGet } from '../net/http';\nimport type { ByteSink } from '../io';\nimport { label } from './kit/format';\nimport { job } from '../schemas/job';" },
    { file: 'lib/providers/kit/format.ts', code: "import { VidmuxError } from '../../errors';\nimport type { Format } from '../types';" },
    { file: 'lib/providers/vidpickr.test.ts', code: "import { NodeFileSink } from '../node/files';\nimport { mkdtemp } from 'node:fs/promises';" },
    { file: 'lib/providers/vidpickr.test.ts', code: "import { downloadContext } from '../jobs/download-context';\nimport { pickFormat } from '../jobs/choose-format';" },
  ],
  '5. engines never import lib/platform; Node-only code stays in lib/node': [
    { file: 'lib/node/files.ts', code: "import { open } from 'node:fs/promises';\nimport path from 'path';\nimport type { ByteSink } from '../io';" },
    { file: 'lib/net/http.test.ts', code: "import { createServer } from 'node:http';\nimport { NodeFileSink } from '../node/files';\nexport const s = await import('node:https');" },
    { file: 'lib/platform/storage.ts', code: "import { settings } from '../schemas/settings';\nimport { get } from 'idb-keyval';" },
    { file: 'lib/manifests/dash.ts', code: "import { parse } from 'mpd-parser';\nimport { pathLike } from './path';" },
  ],
  '6. the two engines meet only at lib/io.ts': [
    { file: 'lib/net/x.ts', code: "import type { ByteSource } from '../io';\nimport { VidmuxError } from '../errors';\nimport { retry } from './retry-policy';" },
    { file: 'lib/media/x.ts', code: "import type { ByteSink } from '../io';\nimport { remux } from './remux';\nimport { codecs } from '../codecs';" },
  ],
  '7. jobs and background handlers get their ports injected': [
    { file: 'lib/jobs/run-job.ts', code: "import { httpGet } from '../net/http';\nimport { remux } from '../media';\nimport { registry } from '../providers/registry';\nimport type { Job } from '../schemas/job';" },
    { file: 'lib/jobs/run-save.test.ts', code: "import { NodeFileSink } from '../node/files';\nimport { tmpdir } from 'node:os';" },
  ],
  '8. mp4box and mp4-muxer only behind their adapters': [
    { file: 'lib/media/mp4box-adapter.ts', code: "import { createFile } from 'mp4box';\nexport const f: any = createFile;" },
    { file: 'lib/media/mp4-muxer-adapter.ts', code: "import { Muxer } from 'mp4-muxer';\nexport const m: any = Muxer;" },
    { file: 'lib/media/demux.ts', code: "import { open } from './mp4box-adapter';" },
  ],
  '9. UI stays light': [
    {
      file: 'components/Popup.tsx',
      code: [
        "import { label } from '@/lib/providers/kit/format';",
        "import { chooseFormat } from '@/lib/jobs/choose-format';",
        "import type { Job } from '@/lib/schemas/job';",
        "import { parseResponse } from '@/lib/messages';",
        "import { sendToBackground } from '@/lib/platform/messaging';",
        "import { formatBytes } from '@/lib/format';",
        'export const P = () => <div>{formatBytes(1)}</div>;',
      ].join('\n'),
    },
    { file: 'components/features/x.ts', code: "import { chooseFormat } from '../../lib/jobs/choose-format.js';\nimport { scan } from '@/lib/dom/video-scan';" },
  ],
  '10. the CLI never imports the extension': [
    { file: 'cli/commands/download.ts', code: "import { NodeFileSink } from '../../lib/node/files';\nimport { registry } from '../../lib/providers/registry';\nimport fs from 'node:fs';" },
  ],
  '11. no any in product code': [
    { file: 'lib/providers/vidpickr.test.ts', code: 'export const x: any = 1;' },
    { file: 'test/fakes/x.ts', code: 'export const x: any = 1;' },
    { file: 'test/e2e/x.e2e.ts', code: 'export const x: any = 1;' },
    { file: 'lib/providers/vidpickr.ts', code: 'export const x: unknown = 1;' },
  ],
  '12. entrypoints are composition roots (max 90 lines of code)': [
    { file: 'entrypoints/background.ts', code: `${codeLines(90)}\n${'\n// wiring note\n/* block */'.repeat(20)}` },
    { file: 'lib/jobs/x.ts', code: codeLines(300) },
  ],
  '13. lib/platform holds adapters only': [
    { file: 'lib/platform/opfs-outputs.ts', code: "import type { OutputStore } from '../jobs/outputs';\nimport type { ByteSink } from '../io';" },
  ],
};

describe('house rules fire on forbidden imports and usages', () => {
  for (const [group, cases] of Object.entries(forbidden)) {
    describe(group, () => {
      it.each(cases)('$file: $code -> $rule', async ({ file, code, rule, message }) => {
        const messages = await lint(file, code);
        const hit = messages.find((m) => m.ruleId === rule && m.message.includes(message));
        expect(hit, `expected ${rule} ("${message}"), got ${JSON.stringify(summary(messages))}`).toBeDefined();
        expect(hit?.severity).toBe(2);
      });
    });
  }
});

describe('house rules stay quiet on allowed imports and usages', () => {
  for (const [group, cases] of Object.entries(allowed)) {
    describe(group, () => {
      it.each(cases)('$file: $code', async ({ file, code }) => {
        expect(summary(await lint(file, code))).toEqual([]);
      });
    });
  }
});

describe('house rules, as a whole', () => {
  it('one forbidden import gets one error, from the most specific rule', async () => {
    const cases: [string, string, string][] = [
      ['lib/jobs/run-job.ts', "import { loadSettings } from '../platform/storage';", 'vidmux/ports-are-injected'],
      ['lib/providers/page.ts', "import { NodeFileSink } from '../node/files';", 'vidmux/providers-never-import-jobs'],
      ['lib/net/x.ts', "import { send } from '../platform/messaging';", 'vidmux/engines-meet-at-io'],
      ['lib/dom/x.ts', "import { send } from '../platform/messaging';", 'vidmux/engines-never-import-platform'],
    ];
    for (const [file, code, rule] of cases) {
      expect(summary(await lint(file, code)).map((s) => s.split(':')[0])).toEqual([rule]);
    }
  });

  it('every house rule has a forbidden case above', async () => {
    const configured = new Set<string>();
    const paths = ['lib/x.ts', 'lib/schemas/x.ts', 'lib/providers/x.ts', 'lib/providers/x.test.ts', 'lib/net/x.ts', 'lib/media/x.ts',
      'lib/jobs/x.ts', 'lib/jobs/x.test.ts', 'lib/background/x.ts', 'lib/dom/x.ts', 'lib/node/x.ts', 'lib/platform/x.ts',
      'components/x.tsx', 'cli/x.ts', 'entrypoints/x.ts', 'test/x.ts', 'scripts/x.ts', 'bench/x.ts'];
    for (const file of paths) {
      const config = (await eslint.calculateConfigForFile(file)) as { rules?: Record<string, unknown> };
      for (const [id, entry] of Object.entries(config.rules ?? {})) {
        const severity = Array.isArray(entry) ? entry[0] : entry;
        if (severity === 2 || severity === 'error') configured.add(id);
      }
    }
    const tested = new Set(Object.values(forbidden).flatMap((cases) => cases.map((c) => c.rule)));
    expect([...configured].sort()).toEqual([...tested].sort());
  });

  it('build output, generated files and caches are not linted', async () => {
    for (const file of ['.output/chrome-mv3/background.js', '.wxt/types/imports.d.ts', '.cache/media/x.ts', 'test-results/x.ts', 'node_modules/zod/index.ts']) {
      expect(await eslint.isPathIgnored(file), file).toBe(true);
    }
  });
});
