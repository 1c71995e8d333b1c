// Chrome's offscreen document: where media bytes live. The engine itself runs in a dedicated
// worker (./engine-worker.ts; lib/platform/engine-worker.ts says why); this page relays the
// background's requests to it and its events back, and holds the port that tells the background
// at once when this document (and so its jobs) is gone.
import { keepEngineLink } from '@/lib/platform/engine-link';
import { WorkerEngine } from '@/lib/platform/engine-worker';
import { sendToBackground, serveMessages } from '@/lib/platform/messaging';
import { openSaveFrame } from '@/lib/platform/streamed-save';
// Vite builds the worker into its own module (with its own chunks).
import EngineWorker from './engine-worker?worker';

const engine = new WorkerEngine(new EngineWorker(), (jobId, event) =>
  void sendToBackground('engine.event', { jobId, event }).catch(() => undefined),
);
const ensureLink = keepEngineLink(() => engine.busy);

serveMessages(
  {
    'engine.start': async (payload) => {
      ensureLink();
      await engine.request('engine.start', payload);
      return {};
    },
    'engine.cancel': async (payload) => (await engine.request('engine.cancel', payload), {}),
    'engine.finish': async (payload) => (await engine.request('engine.finish', payload), {}),
    'engine.choose': async (payload) => (await engine.request('engine.choose', payload), {}),
    'engine.release': async (payload) => (await engine.request('engine.release', payload), {}),
    'engine.openSave': ({ token }) => (openSaveFrame(token), {}),
  },
  { answerUnknown: false },
);
