// Chrome's offscreen document: where media bytes live. Runs save jobs (network engine, media
// engine, OPFS) for the background, which never holds media bytes itself.
import { EngineRunner } from '@/lib/platform/engine-runner';
import { sendToBackground, serveMessages } from '@/lib/platform/messaging';
import { createProviders } from '@/lib/providers';

const runner = new EngineRunner(
  (jobId, event) => {
    sendToBackground('engine.event', { jobId, event }).catch(() => undefined);
  },
  (spec) => createProviders(spec.providers, { tornadoStorage: spec.tornadoStorage }),
);
void runner.sweep().catch(() => undefined);

serveMessages(
  {
    'engine.start': ({ spec }) => {
      runner.start(spec);
      return {};
    },
    'engine.cancel': ({ jobId }) => {
      runner.cancel(jobId);
      return {};
    },
    'engine.release': async ({ jobId }) => {
      await runner.release(jobId);
      return {};
    },
  },
  { answerUnknown: false },
);
