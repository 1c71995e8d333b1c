// The worker bridge over a real MessageChannel (structured clone, as between a document and its worker).
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../schemas/job-spec';
import { postEngineEvent, serveEngineFromWorker, WorkerEngine, type EngineInWorker } from './engine-worker';

const channels: MessageChannel[] = [];
afterEach(() => {
  for (const c of channels.splice(0)) {
    c.port1.close();
    c.port2.close();
  }
});

function bridge(engine: Partial<EngineInWorker>) {
  const channel = new MessageChannel();
  channels.push(channel);
  const calls: string[] = [];
  const full: EngineInWorker = {
    start: () => calls.push('start'),
    cancel: (id) => calls.push(`cancel ${id}`),
    finish: (id) => calls.push(`finish ${id}`),
    choose: (id, i) => calls.push(`choose ${id} ${i}`),
    release: async (id, keep) => void calls.push(`release ${id} ${keep ?? ''}`.trim()),
    ...engine,
  };
  serveEngineFromWorker(channel.port1, () => full);
  channel.port1.start();
  const events: Array<[string, EngineEvent]> = [];
  const worker = channel.port2 as unknown as Worker;
  const main = new WorkerEngine(worker, (jobId, event) => events.push([jobId, event]));
  channel.port2.start();
  return { main, calls, events, workerSide: channel.port1, worker };
}

describe('the engine worker bridge', () => {
  it('relays requests and waits for them: release resolves once the worker released', async () => {
    let released = false;
    const { main, calls } = bridge({ release: async () => void (await new Promise((r) => setTimeout(r, 50)), (released = true)) });
    await main.request('engine.cancel', { jobId: 'a' });
    await main.request('engine.choose', { jobId: 'a', index: 2 });
    expect(calls).toEqual(['cancel a', 'choose a 2']);
    await main.request('engine.release', { jobId: 'a', keepAs: 'saved-a' });
    expect(released).toBe(true);
  });

  it('an engine error comes back as a rejection with its message', async () => {
    const { main } = bridge({ release: async () => Promise.reject(new Error('disk gone')) });
    await expect(main.request('engine.release', { jobId: 'a' })).rejects.toThrow('disk gone');
  });

  it('a request the protocol refuses is answered with the reason, not run', async () => {
    const { main, calls } = bridge({});
    // A start whose spec is not a JobSpec: parsed in the worker and refused.
    await expect(main.request('engine.start', { spec: { jobId: 'x' } } as never)).rejects.toThrow(/Invalid "engine.start"/);
    expect(calls).toEqual([]);
  });

  it('events reach the document parsed; a malformed one is dropped', async () => {
    const { events, workerSide } = bridge({});
    workerSide.postMessage({ kind: 'event', payload: { jobId: 'j', event: { type: 'nonsense' } } });
    postEngineEvent(workerSide, 'j', { type: 'failed', error: { code: 'network', message: 'gone' } });
    await new Promise((r) => setTimeout(r, 20));
    expect(events).toEqual([['j', { type: 'failed', error: { code: 'network', message: 'gone' } }]]);
  });

  it('a worker that fails fails every job in it, and whatever waits on it', async () => {
    const never = new Promise<void>(() => {});
    const { main, events, worker } = bridge({ release: () => never });
    main.request('engine.start', { spec: { jobId: 'j1' } } as never).catch(() => undefined);
    const waiting = main.request('engine.release', { jobId: 'other' });
    expect(main.busy).toBe(true);
    (worker as unknown as EventTarget).dispatchEvent(Object.assign(new Event('error'), { message: 'out of memory' }));
    await expect(waiting).rejects.toThrow(/The download engine stopped \(out of memory\)/);
    expect(events.map(([id, e]) => [id, e.type])).toEqual([['j1', 'failed']]);
    expect(main.busy).toBe(false);
  });
});
