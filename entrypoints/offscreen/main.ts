// Chrome's offscreen document: where media bytes live. Runs jobs (providers, network and media
// engines, OPFS) for the background, which never holds media bytes itself.
import { JobRunner } from '@/lib/jobs/job-runner';
import { HttpClient } from '@/lib/net/http';
import { createProviders } from '@/lib/providers';
import { keepEngineLink } from '@/lib/platform/engine-link';
import { sendToBackground, serveMessages } from '@/lib/platform/messaging';
import { OpfsInputs } from '@/lib/platform/opfs-inputs';
import { OpfsOutputs } from '@/lib/platform/opfs-outputs';
import { VidioProvider } from '@/lib/providers/vidio';

// One client for every job of this document: the per-host connection cap holds across jobs.
const http = new HttpClient();
const runner = new JobRunner({
  providers: (spec) => createProviders(spec.providers, { http: spec.limits ? http.withLimits(spec.limits) : http, tornadoStorage: spec.tornadoStorage, connections: spec.connections }),
  outputs: new OpfsOutputs(),
  reels: { maker: (reel) => new VidioProvider({ apiKey: reel.apiKey, baseUrl: reel.baseUrl, contract: reel.contract, http }), inputs: new OpfsInputs() },
  emit: (jobId, event) => void sendToBackground('engine.event', { jobId, event }).catch(() => undefined),
});
void runner.sweep().catch(() => undefined);
void new OpfsInputs().sweep().catch(() => undefined);
// The port whose end tells the background at once that this document (and its jobs) is gone.
const ensureLink = keepEngineLink(() => runner.busy);

serveMessages(
  {
    'engine.start': ({ spec }) => {
      ensureLink();
      runner.start(spec);
      return {};
    },
    'engine.cancel': ({ jobId }) => {
      runner.cancel(jobId);
      return {};
    },
    'engine.finish': ({ jobId }) => {
      runner.finish(jobId);
      return {};
    },
    'engine.choose': ({ jobId, index }) => {
      runner.choose(jobId, index);
      return {};
    },
    'engine.release': async ({ jobId, keepAs }) => {
      await runner.release(jobId, keepAs);
      return {};
    },
  },
  { answerUnknown: false },
);
