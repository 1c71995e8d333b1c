import { defineConfig } from 'wxt';

// Permissions are the minimum the features need; ARCHITECTURE.md says why each one is there.
export default defineConfig({
  modules: ['@wxt-dev/module-react', '@wxt-dev/webextension-polyfill'],
  manifest: ({ browser }) => ({
    name: 'Vidmux',
    description: 'Save web video as one clean file. No ffmpeg, no telemetry.',
    permissions: [
      'downloads',
      'storage',
      'notifications',
      'contextMenus',
      // Observe only: which HLS/DASH manifests a tab's players load (ARCHITECTURE.md, detection).
      'webRequest',
      ...(browser === 'firefox' ? [] : ['offscreen']),
    ],
    // Media URLs live on any host; the background fetches them (and later, provider APIs).
    host_permissions: ['<all_urls>'],
    action: { default_title: 'Vidmux' },
    // Firefox: a fixed id keeps storage across reloads; 115 is the first ESR with storage.session.
    // data_collection_permissions: AMO's declaration of what data the add-on collects: none.
    ...(browser === 'firefox'
      ? { browser_specific_settings: { gecko: { id: 'vidmux@vidmux.app', strict_min_version: '115.0', data_collection_permissions: { required: ['none'] } } } }
      : {}),
  }),
  // The sources zip AMO asks for: what builds the add-on, not test output or the media cache.
  zip: { excludeSources: ['test-results/**', '.cache/**', 'scratch/**', 'dist/**'] },
  vite: () => ({
    // The offscreen document's engine worker (entrypoints/offscreen/engine-worker.ts) is a module
    // worker: ES output lets it share chunks and load its engines lazily.
    worker: { format: 'es' },
    build: {
      rollupOptions: {
        // zod 4 ships comments the bundler cannot place; harmless, but they bury real warnings.
        onwarn(warning, warn) {
          if (warning.code === 'INVALID_ANNOTATION') return;
          warn(warning);
        },
      },
    },
  }),
});
