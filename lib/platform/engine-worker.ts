/**
 * The engine in a dedicated worker of Chrome's offscreen document. The document's main thread
 * only relays: the background's `engine.*` requests go to the worker, the worker's `engine.event`s
 * go to the background. Why a worker: fetching, demuxing, muxing and writing a 2 GB file on the
 * document's main thread competed with everything else there, and OPFS's fast path (a sync access
 * handle: plain file writes in this process instead of every write shipped to the browser
 * process; see ./opfs-outputs.ts) exists only in dedicated workers.
 *
 * Both directions are parsed with the protocol's own schemas (lib/messages.ts): requests as the
 * `engine.*` messages they are, events as `engine.event` payloads. Requests carry an id; the
 * worker answers each with an envelope, so `release` (which deletes files) is awaited for real.
 */
import { parseMessage, protocol, type Payload } from '../messages';
import type { EngineEvent, JobSpec } from '../schemas/job-spec';
import { WireErrorSchema, type WireError } from '../schemas/error';
import { z } from 'zod';

/** What the worker runs: the engine's methods (lib/jobs/job-runner.ts's JobRunner has them). */
export interface EngineInWorker {
  start(spec: JobSpec): void;
  cancel(jobId: string): void;
  finish(jobId: string): void;
  choose(jobId: string, index: number): void;
  release(jobId: string, keepMainAs?: string): Promise<void>;
}

type EngineRequestType = 'engine.start' | 'engine.cancel' | 'engine.finish' | 'engine.choose' | 'engine.release';
const ENGINE_REQUESTS: ReadonlySet<string> = new Set<EngineRequestType>(['engine.start', 'engine.cancel', 'engine.finish', 'engine.choose', 'engine.release']);

const FromWorkerSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('event'), payload: protocol['engine.event'].request }),
  z.object({ kind: z.literal('answer'), id: z.number().int(), error: WireErrorSchema.nullable() }),
]);
const ToWorkerSchema = z.object({ id: z.number().int(), message: z.unknown() });

/** The worker's side: serves the engine's requests (each answered with an envelope). */
export function serveEngineFromWorker(scope: { postMessage(m: unknown): void; addEventListener(type: 'message', l: (e: MessageEvent) => void): void }, engine: () => EngineInWorker): void {
  scope.addEventListener('message', (e: MessageEvent) => {
    const request = ToWorkerSchema.safeParse(e.data);
    if (!request.success) return;
    const { id } = request.data;
    const answer = (error: WireError | null) => scope.postMessage({ kind: 'answer', id, error });
    let parsed;
    try {
      parsed = parseMessage(request.data.message);
      if (!ENGINE_REQUESTS.has(parsed.type)) throw new Error(`"${parsed.type}" is not for the engine.`);
    } catch (err) {
      answer({ code: 'bad_input', message: err instanceof Error ? err.message : String(err) });
      return;
    }
    const run = async () => {
      const e = engine();
      switch (parsed.type) {
        case 'engine.start':
          return e.start((parsed.payload as Payload<'engine.start'>).spec);
        case 'engine.cancel':
          return e.cancel((parsed.payload as Payload<'engine.cancel'>).jobId);
        case 'engine.finish':
          return e.finish((parsed.payload as Payload<'engine.finish'>).jobId);
        case 'engine.choose': {
          const p = parsed.payload as Payload<'engine.choose'>;
          return e.choose(p.jobId, p.index);
        }
        case 'engine.release': {
          const p = parsed.payload as Payload<'engine.release'>;
          return e.release(p.jobId, p.keepAs);
        }
      }
    };
    run().then(
      () => answer(null),
      (err: unknown) => answer({ code: 'internal', message: err instanceof Error ? err.message : String(err) }),
    );
  });
}

/** Sends one of the worker engine's events to the document. */
export function postEngineEvent(scope: { postMessage(m: unknown): void }, jobId: string, event: EngineEvent): void {
  scope.postMessage({ kind: 'event', payload: { jobId, event } });
}

/**
 * The document's side: a worker running the engine. `onEvent` gets every event (parsed);
 * `busy` says whether any job is in the worker (started, not yet released).
 */
export class WorkerEngine {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private readonly jobs = new Set<string>();

  constructor(
    private readonly worker: Worker,
    onEvent: (jobId: string, event: EngineEvent) => void,
  ) {
    worker.addEventListener('message', (e: MessageEvent) => {
      const m = FromWorkerSchema.safeParse(e.data);
      if (!m.success) return;
      if (m.data.kind === 'event') {
        onEvent(m.data.payload.jobId, m.data.payload.event);
        return;
      }
      const w = this.waiting.get(m.data.id);
      this.waiting.delete(m.data.id);
      if (m.data.error) w?.reject(new Error(m.data.error.message));
      else w?.resolve();
    });
    // A worker that cannot even load (or throws out of its event loop) fails whatever waits on
    // it, and every job in it: no job shows "downloading" forever.
    worker.addEventListener('error', (e: ErrorEvent) => {
      const message = `The download engine stopped (${e.message || 'its worker failed'}); nothing was saved. Retry to start again.`;
      for (const w of this.waiting.values()) w.reject(new Error(message));
      this.waiting.clear();
      for (const jobId of this.jobs) onEvent(jobId, { type: 'failed', error: { code: 'internal', message } });
      this.jobs.clear();
    });
  }

  get busy(): boolean {
    return this.jobs.size > 0;
  }

  /** Hands an `engine.*` request (already parsed) to the worker; resolves once it is done there. */
  request<T extends EngineRequestType>(type: T, payload: Payload<T>): Promise<void> {
    if (type === 'engine.start') this.jobs.add((payload as Payload<'engine.start'>).spec.jobId);
    if (type === 'engine.release') this.jobs.delete((payload as Payload<'engine.release'>).jobId);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, message: { type, payload } });
    });
  }
}
