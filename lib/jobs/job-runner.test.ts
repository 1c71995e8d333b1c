/** The engine side's adapter: every event reported in order, cancel and release leave nothing behind. */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VidmuxError } from '../errors';
import { NodeOutputs } from '../node/outputs';
import { makeFormat } from '../providers/kit/format';
import type { DownloadContext, Provider } from '../providers/types';
import { JobSpecSchema, type EngineEvent } from '../schemas/job-spec';
import { JobRunner } from './job-runner';

/** A provider stand-in that writes "hello" and waits for `gate` before finishing (or fails). */
function provider(gate: Promise<void>, fail = false): Provider {
  const format = makeFormat('page', 'page:0', { kind: 'video+audio', container: 'mp4', delivery: 'file' });
  return {
    id: 'page',
    displayName: 'page',
    needsKey: false,
    supports: () => true,
    resolve: async (url) => ({ provider: 'page', url, title: 'clip', durationSeconds: null, thumbnail: null, formats: [format], subtitles: [] }),
    checkKey: async () => ({ summary: '', details: {} }),
    async download(_i, _s, ctx: DownloadContext) {
      const sink = await ctx.target.media();
      await sink.write(0, new TextEncoder().encode('hello'));
      ctx.onProgress?.({ stage: 'downloading', tracks: {}, overall: { bytesDone: 5, bytesTotal: 5, speedBps: 0, etaSeconds: 0 } });
      await gate;
      if (ctx.signal?.aborted) throw new VidmuxError('cancelled', 'Cancelled.');
      if (fail) throw new VidmuxError('network', 'The server went away.');
      await sink.close();
      return { bytes: 5, subtitles: [] };
    },
  };
}

function setup(fail = false) {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const dir = mkdtempSync(join(tmpdir(), 'vidmux-runner-'));
  const events: Array<[string, EngineEvent]> = [];
  const runner = new JobRunner({ providers: () => [provider(gate, fail)], outputs: new NodeOutputs(dir), emit: (id, e) => events.push([id, e]) });
  const spec = JobSpecSchema.parse({ jobId: 'j1', url: 'https://site.example/w', wish: { quality: 'best' }, providers: [{ id: 'page', apiKey: null, baseUrl: null }] });
  return { runner, spec, events, dir, open };
}
const settle = () => new Promise((r) => setTimeout(r, 30));

describe('JobRunner', () => {
  it('reports progress, the provider, then ready; release frees the file', async () => {
    const { runner, spec, events, dir, open } = setup();
    expect(runner.busy).toBe(false);
    runner.start(spec);
    runner.start(spec); // the same job twice runs once
    await settle();
    open();
    await settle();
    expect(events.map(([id, e]) => `${id} ${e.type}`)).toEqual(['j1 provider', 'j1 progress', 'j1 ready']);
    const ready = events.at(-1)![1];
    if (ready.type !== 'ready') throw new Error('not ready');
    expect(existsSync(ready.url)).toBe(true);
    expect(runner.busy).toBe(true); // its file is here until the background releases it
    await runner.release('j1');
    expect(runner.busy).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
    // Released: the same job id may run again.
    runner.start(spec);
    await settle();
    expect(events.filter(([, e]) => e.type === 'provider')).toHaveLength(2);
  });

  it('a failure is one failed event with the reason, and no file', async () => {
    const { runner, spec, events, dir, open } = setup(true);
    runner.start(spec);
    open();
    await settle();
    expect(events.at(-1)).toEqual(['j1', { type: 'failed', error: { code: 'network', message: 'The server went away.' } }]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a cancelled job reports nothing more and leaves nothing behind', async () => {
    const { runner, spec, events, dir, open } = setup();
    runner.start(spec);
    await settle();
    runner.cancel('j1');
    open();
    await settle();
    expect(events.map(([, e]) => e.type)).toEqual(['provider', 'progress']);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a job waiting for a choice gets the one picked; cancel ends the wait', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vidmux-runner-'));
    const waiting: Array<Promise<number>> = [];
    // The reel path is the one that asks: a maker whose makeReel waits on the chooser.
    const runner = new JobRunner({
      providers: () => [],
      outputs: new NodeOutputs(dir),
      reels: {
        inputs: { open: async () => ({ size: 1, stream: () => new ReadableStream() }), remove: async () => undefined },
        maker: () => ({
          makeReel: async (_inputs, _options, ctx) => {
            const picked = ctx.chooseOutput!();
            waiting.push(picked);
            const index = await picked;
            const sink = ctx.sink;
            await sink.write(0, new Uint8Array([index]));
            await sink.close();
            return { bytes: 1, jobId: `vidio-${index}`, outputs: [] };
          },
        }),
      },
      emit: () => undefined,
    });
    const spec = (jobId: string) =>
      JobSpecSchema.parse({ jobId, url: 'https://vidio.ai/', wish: { quality: 'best' }, providers: [], reel: { inputs: [{ id: 'in-1', name: 'a.mp4', size: 1 }], options: { category: 'others', lengthSeconds: 15, aspect: 'portrait', chooseOutput: true }, apiKey: 'k', baseUrl: null, contract: {} } });
    runner.start(spec('r1'));
    runner.start(spec('r2'));
    await settle();
    expect(waiting).toHaveLength(2);
    runner.choose('r1', 2);
    expect(await waiting[0]).toBe(2);
    runner.choose('r1', 0); // no longer waiting: ignored
    runner.cancel('r2');
    await expect(waiting[1]).rejects.toThrow('Cancelled');
  });
});
