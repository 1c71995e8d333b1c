// House rules that check themselves: the layering in ARCHITECTURE.md as lint errors.
// Only architecture here (no style, no recommended sets). test/rules/layering.test.ts proves that
// every rule fires on a forbidden import and stays quiet on an allowed one.
import path from 'node:path';
import { builtinModules } from 'node:module';
import { builtinRules } from 'eslint/use-at-your-own-risk';
import tseslint from 'typescript-eslint';

const ROOT = import.meta.dirname;
const TS = ['**/*.{ts,tsx,mts,cts}'];
const TESTS = ['**/*.test.{ts,tsx}', '**/*.e2e.ts', 'test/**'];

// ---------------------------------------------------------------------------------------------
// One boundary rule per invariant. Each is ESLint's own no-restricted-imports (which knows
// `import type`; @typescript-eslint/no-restricted-imports is deprecated in its favour), registered under the invariant's name so that a report says which rule was
// broken and two invariants on the same file never overwrite each other's options. Before
// matching, an import is resolved to a repo path: '@/lib/media', '../media' (from lib/net/) and
// '../../lib/media/remux.js' are all 'lib/media...'; package names ('zod', 'node:fs') stay as
// written. Dynamic import('...') with a literal is checked like a static import.
// ---------------------------------------------------------------------------------------------
const coreNoRestrictedImports = builtinRules.get('no-restricted-imports');

/** '@/x', '~/x', '@@/x', '~~/x' (WXT's aliases for the repo root) and './x', '../x' -> 'x' from the root. */
function toRepoPath(source, filename) {
  const spec = source.trim();
  const alias = /^(?:@@|~~|@|~)(?:\/(.*))?$/.exec(spec);
  let target;
  if (alias) target = alias[1] ?? '.';
  else if (/^\.\.?(?:\/|$)/.test(spec)) {
    const from = path.relative(ROOT, filename).split(path.sep).join('/');
    target = path.posix.join(path.posix.dirname(from), spec);
  } else return spec;
  return path.posix.normalize(target).replace(/\/$/, '').replace(/\.(?:[cm]?[jt]s|[jt]sx)$/, '');
}

const boundaryRule = {
  meta: {
    ...coreNoRestrictedImports.meta,
    docs: { description: 'A layer boundary from ARCHITECTURE.md (no-restricted-imports on repo paths)' },
  },
  create(context) {
    const base = coreNoRestrictedImports.create(context);
    const resolved = (node, source) => ({ ...node, source: { ...source, value: toRepoPath(source.value, context.filename) } });
    return {
      ImportDeclaration: (node) => base.ImportDeclaration?.(resolved(node, node.source)),
      ExportAllDeclaration: (node) => base.ExportAllDeclaration?.(resolved(node, node.source)),
      ExportNamedDeclaration: (node) => node.source && base.ExportNamedDeclaration?.(resolved(node, node.source)),
      ImportExpression(node) {
        if (node.source.type !== 'Literal' || typeof node.source.value !== 'string') return;
        base.ImportDeclaration?.(resolved({ ...node, type: 'ImportDeclaration', importKind: 'value', specifiers: [] }, node.source));
      },
    };
  },
};

const BOUNDARIES = [
  'extension-apis',
  'schemas-are-leaves',
  'providers-never-import-jobs',
  'settings-never-import-providers',
  'engines-never-import-platform',
  'node-only-in-lib-node',
  'no-node-builtins-in-lib',
  'engines-meet-at-io',
  'ports-are-injected',
  'mp4box-only-in-adapter',
  'mp4-muxer-only-in-adapter',
  'ui-stays-light',
  'cli-never-imports-the-extension',
  'platform-is-adapters-only',
];

const vidmux = {
  meta: { name: 'vidmux-house-rules' },
  rules: {
    ...Object.fromEntries(BOUNDARIES.map((id) => [id, boundaryRule])),
    'extension-api-globals': builtinRules.get('no-restricted-globals'),
  },
};

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A no-restricted-imports pattern for repo folders/modules (and everything in them), minus `except` modules. */
function within(targets, message, { except = [] } = {}) {
  const allowed = except.length ? `(?!(?:${except.map(escape).join('|')})$)` : '';
  return { regex: `^${allowed}(?:${targets.map(escape).join('|')})(?:/.*)?$`, message };
}

/** A config object that turns on boundary rule `id` with these forbidden patterns. */
function boundary(id, files, patterns, { ignores = [] } = {}) {
  return { name: `vidmux/${id}`, files, ignores, rules: { [`vidmux/${id}`]: ['error', { patterns }] } };
}

const NODE_BUILTINS = builtinModules.filter((m) => !m.startsWith('_')).map((m) => m.split('/')[0]);
const NODE_BUILTIN_PATTERN = `^(?:node:.*|(?:${[...new Set(NODE_BUILTINS)].map(escape).join('|')})(?:/.*)?)$`;

// ---------------------------------------------------------------------------------------------

const EXTENSION_APIS =
  'Extension APIs only in lib/platform/ and entrypoints/: everywhere else the browser comes in as an injected port (type-only imports are fine).';
const SCHEMAS =
  'Schema modules are leaves: lib/schemas/** and lib/messages.ts import only zod and other schema modules (lib/schemas/*).';
const PROVIDERS = 'Providers never import jobs';
const ENGINES_PLATFORM =
  'Engines never import lib/platform: lib/ outside lib/platform/ also runs in Node; take the browser as an injected port.';
const NODE_ADAPTERS =
  'Node-only code stays in lib/node/: the rest of lib/ also runs in the browser; take files as an injected port (tests may use lib/node).';
const NODE_BUILTINS_MESSAGE =
  'Node-only code stays in lib/node/: no node:* builtins (fs, path, ...) elsewhere in lib/; tests may use them.';
const ENGINES_MEET = 'The two engines meet only at lib/io.ts';
const PORTS =
  'Jobs and background handlers get their ports injected: lib/jobs/ and lib/background/ never import lib/platform/ or lib/node/ (entrypoints wire the adapters in).';
const UI = 'UI stays light: components/ reach the engine through messages to the background';
const CLI = 'The CLI is plain Node: cli/ never imports lib/platform/, components/ or entrypoints/.';

const providerBoundaries = [
  within(['lib/jobs', 'lib/background'], `${PROVIDERS}: jobs and background handlers call providers, never the reverse.`),
  within(['lib/media'], `${PROVIDERS} or the media engine: providers hand tracks to the engine through their context.`),
  within(['lib/platform'], `${PROVIDERS} or lib/platform: the browser comes in through the provider's context.`),
];
const providerNodeBoundary = within(
  ['lib/node'],
  `${PROVIDERS} or lib/node: providers also run in the browser; Node sinks come in through the context.`,
);

// Folders whose own rule below already forbids lib/platform or lib/node, so one import gets one error.
const OWN_PLATFORM_RULE = ['lib/providers/**', 'lib/net/**', 'lib/media/**', 'lib/jobs/**', 'lib/background/**'];
const OWN_NODE_RULE = ['lib/providers/**', 'lib/jobs/**', 'lib/background/**'];

export default [
  { name: 'vidmux/ignores', ignores: ['.output/', '.wxt/', '.cache/', 'dist/', 'test-results/', 'coverage/', 'public/'] },

  {
    name: 'vidmux/typescript',
    files: TS,
    languageOptions: {
      parser: tseslint.parser,
      sourceType: 'module',
      // Declared so that `window.chrome` / `self.browser` count as the globals they are.
      globals: { window: 'readonly', self: 'readonly' },
    },
    // Comments in the code may name rules of other tools; this config runs only the rules below.
    linterOptions: { reportUnusedDisableDirectives: 'off' },
    plugins: { vidmux, '@typescript-eslint': tseslint.plugin },
  },

  // 1. Extension APIs only in lib/platform/** and entrypoints/** (adapters and composition roots).
  //    Tests are exempt: the e2e harness evaluates chrome.* inside the browser.
  {
    name: 'vidmux/extension-apis',
    files: TS,
    ignores: ['lib/platform/**', 'entrypoints/**', ...TESTS],
    rules: {
      'vidmux/extension-apis': [
        'error',
        {
          paths: ['wxt/browser', 'webextension-polyfill', '@wxt-dev/webextension-polyfill', 'wxt/utils/storage', '#imports'].map(
            (name) => ({ name, message: EXTENSION_APIS, allowTypeImports: true }),
          ),
          patterns: [
            {
              regex: '^(?:wxt/browser/|webextension-polyfill/|@wxt-dev/webextension-polyfill/|wxt/utils/storage/|wxt/utils/define-)',
              message: EXTENSION_APIS,
              allowTypeImports: true,
            },
          ],
        },
      ],
      'vidmux/extension-api-globals': [
        'error',
        { globals: ['browser', 'chrome'].map((name) => ({ name, message: EXTENSION_APIS })), checkGlobalObject: true },
      ],
    },
  },

  // 2. Schema modules are leaves: lib/schemas/** and lib/messages.ts import only zod and schema
  //    modules (an allow-list). Covers "settings never import providers" for lib/schemas/settings.ts.
  boundary('schemas-are-leaves', ['lib/schemas/**', 'lib/messages.ts'], [{ regex: '^(?!(?:zod|lib/schemas)(?:/|$))', message: SCHEMAS }], {
    ignores: TESTS,
  }),

  // 4. Settings never import providers (said explicitly for every schema module).
  boundary(
    'settings-never-import-providers',
    ['lib/schemas/**'],
    [within(['lib/providers'], 'Settings never import providers: schemas describe data; providers read settings, not the reverse.')],
    { ignores: TESTS },
  ),

  // 3. Providers never import jobs (nor background, platform, the media engine, lib/node): a
  //    provider hands tracks to the engine and gets every service through its context.
  //    Tests may use lib/node (file sinks), as everywhere in lib/.
  boundary('providers-never-import-jobs', ['lib/providers/**'], [...providerBoundaries, providerNodeBoundary], { ignores: TESTS }),
  // Provider tests run a provider the way the engine does: with its download context and chooser.
  boundary('providers-never-import-jobs', ['lib/providers/**/*.test.{ts,tsx}'], [
    within(['lib/jobs', 'lib/background'], `${PROVIDERS}: tests may use only the engine's context and chooser.`, { except: ['lib/jobs/download-context', 'lib/jobs/choose-format'] }),
    ...providerBoundaries.slice(1),
  ]),

  // 5. Engines never import lib/platform; Node-only code stays in lib/node. lib/ outside those
  //    adapters runs in both the browser and Node. *.test.ts may use lib/node and node builtins.
  boundary('engines-never-import-platform', ['lib/**'], [within(['lib/platform'], ENGINES_PLATFORM)], {
    ignores: ['lib/platform/**', ...OWN_PLATFORM_RULE],
  }),
  boundary('node-only-in-lib-node', ['lib/**'], [within(['lib/node'], NODE_ADAPTERS)], {
    ignores: ['lib/node/**', ...TESTS, ...OWN_NODE_RULE],
  }),
  boundary('no-node-builtins-in-lib', ['lib/**'], [{ regex: NODE_BUILTIN_PATTERN, message: NODE_BUILTINS_MESSAGE }], {
    ignores: ['lib/node/**', ...TESTS],
  }),

  // 6. The two engines meet only at lib/io.ts: lib/net and lib/media never import each other, nor
  //    providers, jobs, background or platform.
  boundary('engines-meet-at-io', ['lib/net/**'], [
    within(['lib/media'], `${ENGINES_MEET}: lib/net never imports lib/media.`),
    within(['lib/providers', 'lib/jobs', 'lib/background', 'lib/platform'], `${ENGINES_MEET}: lib/net never imports providers, jobs, background or platform.`),
  ]),
  boundary('engines-meet-at-io', ['lib/media/**'], [
    within(['lib/net'], `${ENGINES_MEET}: lib/media never imports lib/net.`),
    within(['lib/providers', 'lib/jobs', 'lib/background', 'lib/platform'], `${ENGINES_MEET}: lib/media never imports providers, jobs, background or platform.`),
  ]),

  // 7. Jobs and background handlers get their ports injected: no lib/platform, no lib/node
  //    (tests may pass lib/node adapters in).
  boundary('ports-are-injected', ['lib/jobs/**', 'lib/background/**'], [within(['lib/platform', 'lib/node'], PORTS)], { ignores: TESTS }),
  boundary('ports-are-injected', ['lib/jobs/**/*.test.{ts,tsx}', 'lib/background/**/*.test.{ts,tsx}'], [within(['lib/platform'], PORTS)]),

  // 8. mp4box and mp4-muxer each live behind one adapter in the media engine.
  boundary('mp4box-only-in-adapter', TS, [within(['mp4box'], 'mp4box is imported only by lib/media/mp4box-adapter.ts.')], {
    ignores: ['lib/media/mp4box-adapter.ts'],
  }),
  boundary('mp4-muxer-only-in-adapter', TS, [within(['mp4-muxer'], 'mp4-muxer is imported only by lib/media/mp4-muxer-adapter.ts.')], {
    ignores: ['lib/media/mp4-muxer-adapter.ts'],
  }),

  // 9. UI stays light: components/ never import the engines, providers, manifests, lib/node, the
  //    background or jobs; only the labels in lib/providers/kit/format and lib/jobs/choose-format.
  boundary('ui-stays-light', ['components/**'], [
    within(['lib/media', 'lib/net'], `${UI}, never import the engines (lib/media, lib/net).`),
    within(['lib/providers'], `${UI}, never import providers (only lib/providers/kit/format).`, { except: ['lib/providers/kit/format'] }),
    within(['lib/jobs'], `${UI}, never import jobs (only lib/jobs/choose-format).`, { except: ['lib/jobs/choose-format'] }),
    within(['lib/manifests', 'lib/node', 'lib/background'], `${UI}, never import lib/manifests, lib/node or lib/background.`),
  ]),

  // 10. The CLI is plain Node: no lib/platform, components or entrypoints.
  boundary('cli-never-imports-the-extension', ['cli/**'], [within(['lib/platform', 'components', 'entrypoints'], CLI)]),

  // 13. lib/platform holds adapters only: it implements ports and wraps browser surfaces, and
  //     never knows a provider or runs an engine (the composition roots wire those in).
  boundary('platform-is-adapters-only', ['lib/platform/**'], [
    within(['lib/providers', 'lib/net', 'lib/media', 'lib/manifests'], 'lib/platform holds adapters only: it never imports providers or the engines; entrypoints wire them in.'),
  ]),

  // 11. No `any` in product code; the two adapters wrap untyped libraries, tests may use any.
  {
    name: 'vidmux/no-explicit-any',
    files: TS,
    ignores: [...TESTS, 'lib/media/mp4box-adapter.ts', 'lib/media/mp4-muxer-adapter.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'error' },
  },

  // 12. Entrypoints are composition roots: wiring only, at most 90 lines of code.
  {
    name: 'vidmux/entrypoints-are-composition-roots',
    files: ['entrypoints/**/*.{ts,tsx}'],
    rules: { 'max-lines': ['error', { max: 90, skipBlankLines: true, skipComments: true }] },
  },
];
