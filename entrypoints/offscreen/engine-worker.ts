// The engine's composition root, in a dedicated worker of Chrome's offscreen document (see
// lib/platform/engine-worker.ts for why): providers, the network and media engines, and OPFS
// outputs written through sync access handles. No extension APIs here: the document relays.
import { JobRunner } from '@/lib/jobs/job-runner';
import { HttpClient } from '@/lib/net/http';
import { createProviders } from '@/lib/providers';
import { postEngineEvent, serveEngineFromWorker } from '@/lib/platform/engine-worker';
import { OpfsInputs } from '@/lib/platform/opfs-inputs';
import { OpfsOutputs } from '@/lib/platform/opfs-outputs';
import { VidioProvider } from '@/lib/providers/vidio';

// One client for every job of this worker: the per-host connection cap holds across jobs.
const http = new HttpClient();
const runner = new JobRunner({
  providers: (spec) => createProviders(spec.providers, { http: spec.limits ? http.withLimits(spec.limits) : http, tornadoStorage: spec.tornadoStorage, connections: spec.connections }),
  outputs: new OpfsOutputs(),
  reels: { maker: (reel) => new VidioProvider({ apiKey: reel.apiKey, baseUrl: reel.baseUrl, contract: reel.contract, http }), inputs: new OpfsInputs() },
  emit: (jobId, event) => postEngineEvent(self, jobId, event),
});
void runner.sweep().catch(() => undefined);
void new OpfsInputs().sweep().catch(() => undefined);
serveEngineFromWorker(self, () => runner);
