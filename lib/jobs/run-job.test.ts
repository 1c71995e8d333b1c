/**
 * The one save use case in Node with the real engines: the page provider over HTTP from the demo
 * site, the network and media engines, outputs as files (the extension runs the same code with
 * OPFS outputs). Stand-in providers (the Provider port) check the fallback, remote, subtitle,
 * playlist and reuse rules.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoSite, type DemoSite } from '../../test/fakes/demo-site';
import { dashFixture, type DashFixture } from '../../test/fixtures/dash';
import { ffmpeg, ffprobeJson, sampleMp4 } from '../../test/fixtures/ffmpeg';
import { VidmuxError } from '../errors';
import { HttpClient } from '../net/http';
import { NodeOutputs } from '../node/outputs';
import { createProviders } from '../providers';
import { makeFormat } from '../providers/kit/format';
import type { DownloadContext, MediaInfo, Provider, Selection } from '../providers/types';
import { JobSpecSchema, type EngineEvent, type JobSpecInput } from '../schemas/job-spec';
import type { MediaCandidate } from '../schemas/media';
import type { ByteSink } from '../io';
import type { OutputStore } from './outputs';
import { runJob } from './run-job';

let site: DemoSite;
let sample: string;
let dash: DashFixture;
const sha256 = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const http = new HttpClient();

beforeAll(async () => {
  sample = await sampleMp4();
  dash = await dashFixture();
  site = await startDemoSite({ 'sample.mp4': sample, ...Object.fromEntries(Object.entries(dash.files).map(([k, v]) => [`dash/${k}`, v])) });
});
afterAll(() => site?.close());

const PAGE = [{ id: 'page' as const, apiKey: null, baseUrl: null }];
const candidate = (over: Partial<MediaCandidate>): MediaCandidate => ({ id: 'v1', kind: 'file', src: '', mimeType: null, width: 640, height: 360, duration: 4, ...over });

/** Runs a spec with real providers (or `providers`) into a fresh directory. */
async function run(spec: Omit<JobSpecInput, 'jobId'>, opts: { providers?: Provider[]; signal?: AbortSignal } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'vidmux-runjob-'));
  const events: EngineEvent[] = [];
  const parsed = JobSpecSchema.parse({ jobId: 'j1', ...spec });
  const result = runJob(parsed, {
    providers: (s) => opts.providers ?? createProviders(s.providers, { http, connections: s.connections, chunkSize: 64 * 1024 }),
    outputs: new NodeOutputs(dir),
    onEvent: (e) => events.push(e),
    signal: opts.signal ?? new AbortController().signal,
  });
  return { dir, events, result };
}

describe('runJob with the page’s own media', () => {
  it('copies the clicked file byte for byte over parallel ranged requests, reporting progress', async () => {
    const src = `${site.url}/media/sample.mp4`;
    const { dir, events, result } = await run({ url: `${site.url}/watch/plain.html`, media: candidate({ src }), wish: { quality: 'best' }, providers: PAGE, connections: 4 });
    const { outcome, format } = await result;
    expect(outcome).toMatchObject({ type: 'ready', bytes: readFileSync(sample).length, made: { provider: 'page', container: 'mp4', height: 360, attempts: [{ provider: 'page', error: null }], subtitles: [] } });
    if (outcome.type !== 'ready') throw new Error('not ready');
    expect(sha256(outcome.url)).toBe(sha256(sample));
    expect(format).toMatchObject({ kind: 'video+audio', delivery: 'file' });
    const progress = events.filter((e) => e.type === 'progress');
    expect(progress.at(-1)).toMatchObject({ progress: { tracks: { file: { bytesDone: outcome.bytes, bytesTotal: outcome.bytes } } } });
    expect(readdirSync(dir)).toEqual([outcome.url.split('/').pop()]); // one published file, no .part
  });

  it('announces a plain copy to a store that keeps it readable while it grows (`stream`, then `committed`)', async () => {
    const src = `${site.url}/media/sample.mp4`;
    const dir = mkdtempSync(join(tmpdir(), 'vidmux-runjob-'));
    const files = new NodeOutputs(dir);
    // A store like OPFS's: resumable outputs are named pieces another context reads as committed.
    const outputs: OutputStore = {
      create: async (jobId, name, opts) => {
        const file = await files.create(jobId, name);
        if (!opts?.resumable) return file;
        const sink = Object.assign(Object.create(file.sink) as ByteSink, {
          close: async () => (await file.sink.close(), opts.onCommitted?.(readFileSync(sample).length)),
        });
        return { ...file, sink, stream: `vidmux-job-${jobId}-${name}` };
      },
      release: (jobId) => files.release(jobId),
      sweep: () => files.sweep(),
    };
    const events: EngineEvent[] = [];
    const spec = JobSpecSchema.parse({ jobId: 'j1', url: `${site.url}/watch/plain.html`, media: candidate({ src }), wish: { quality: 'best' }, providers: PAGE });
    const { outcome } = await runJob(spec, { providers: (x) => createProviders(x.providers, { http }), outputs, onEvent: (e) => events.push(e), signal: new AbortController().signal });
    const told = events.filter((e) => e.type === 'stream' || e.type === 'committed');
    expect(told).toEqual([
      { type: 'stream', file: 'vidmux-job-j1-main0', made: { provider: 'page', title: expect.any(String), container: 'mp4', height: 360, mediaId: null, attempts: [{ provider: 'page', error: null }] } },
      { type: 'committed', bytes: readFileSync(sample).length },
    ]);
    // Announced with what the job then reports it made.
    expect(outcome).toMatchObject({ type: 'ready', made: { ...(told[0] as { made: object }).made } });
  });

  it('muxes a DASH player’s video and audio into one MP4 whose packets are the inputs', async () => {
    const mpd = `${site.url}/media/dash/manifest.mpd`;
    const { result } = await run({ url: `${site.url}/watch/dash.html`, media: candidate({ kind: 'manifest', src: mpd, mimeType: 'application/dash+xml' }), wish: { quality: 'best' }, providers: PAGE });
    const { outcome } = await result;
    if (outcome.type !== 'ready') throw new Error('not ready');
    expect(outcome.made).toMatchObject({ container: 'mp4', height: 480, title: 'video' }); // "manifest.mpd" is a generic name, not the video's title
    const probe = await ffprobeJson(outcome.url);
    expect(probe.streams.map((s: { codec_name: string }) => s.codec_name)).toEqual(['h264', 'aac']);
    expect(Number(probe.format.duration)).toBeCloseTo(6, 0);
    const md5s = async (file: string, map: string) =>
      (await ffmpeg(['-i', file, '-map', map, '-c', 'copy', '-f', 'framemd5', '-'])).split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(',')[5]!.trim());
    expect(await md5s(outcome.url, '0:v')).toEqual(await md5s(dash.video, '0:v'));
    expect(await md5s(outcome.url, '0:a')).toEqual(await md5s(dash.audio, '0:a'));
  });

  it('fails clearly on a missing file and leaves nothing behind', async () => {
    const { dir, result } = await run({ url: `${site.url}/watch/x.html`, media: candidate({ src: `${site.url}/media/nope.mp4` }), wish: { quality: 'best' }, providers: PAGE });
    await expect(result).rejects.toMatchObject({ code: 'not_found', message: expect.stringMatching(/404|no such file/i) });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('stops at once when cancelled and leaves nothing behind', async () => {
    const ctrl = new AbortController();
    ctrl.abort();
    const { dir, result } = await run({ url: `${site.url}/watch/plain.html`, media: candidate({ src: `${site.url}/media/sample.mp4` }), wish: { quality: 'best' }, providers: PAGE }, { signal: ctrl.signal });
    await expect(result).rejects.toMatchObject({ code: 'cancelled' });
    expect(readdirSync(dir)).toEqual([]);
  });
});

/** A stand-in provider: resolves to `info`, downloads by writing `bytes` (and subtitles), or fails half-way. */
function standIn(id: Provider['id'], behaviour: { fail?: boolean; remote?: string; subtitles?: string[]; onResolve?: () => void }): Provider {
  const formats = [makeFormat(id, `${id}:best`, { kind: 'video+audio', container: 'mp4', delivery: 'file', height: 720 })];
  const subtitles = ['en', 'de'].map((l) => makeFormat(id, `${id}:sub:${l}`, { kind: 'subtitle', container: 'srt', delivery: 'file', language: l }));
  const info: MediaInfo = { provider: id, url: 'https://video.example/1', title: `${id} title`, durationSeconds: null, thumbnail: null, formats, subtitles };
  return {
    id,
    displayName: id,
    needsKey: true,
    supports: () => true,
    resolve: async () => (behaviour.onResolve?.(), info),
    checkKey: async () => ({ summary: '', details: {} }),
    async download(_info: MediaInfo, selection: Selection, ctx: DownloadContext) {
      if (behaviour.remote) return { bytes: 5, subtitles: [], remoteLocation: behaviour.remote };
      const sink = await ctx.target.media();
      await sink.write(0, new TextEncoder().encode(`${id} bytes`));
      if (behaviour.fail) throw new VidmuxError('download_failed', `${id} broke half-way.`, { provider: id });
      await sink.close();
      const saved = [];
      for (const sub of selection.subtitles) {
        const s = await ctx.target.subtitle(sub);
        await s.write(0, new TextEncoder().encode(`${sub.language} cues`));
        await s.close();
        if (behaviour.subtitles?.includes(sub.language!)) saved.push({ format: sub, bytes: 7 });
      }
      return { bytes: id.length + 6, subtitles: saved };
    },
  };
}

describe('runJob across providers', () => {
  const spec = { url: 'https://video.example/1', wish: { quality: 'best' as const, subtitleLanguages: ['en', 'de'] }, providers: [{ id: 'vidpickr' as const, apiKey: 'k', baseUrl: null }, { id: 'renderio' as const, apiKey: 'k', baseUrl: null }] };

  it('falls back: the failed provider’s half-written file is gone; the next one’s is published; each turn is reported', async () => {
    const { dir, events, result } = await run(spec, { providers: [standIn('vidpickr', { fail: true }), standIn('renderio', { subtitles: ['en', 'de'] })] });
    const { outcome } = await result;
    if (outcome.type !== 'ready') throw new Error('not ready');
    expect(readFileSync(outcome.url, 'utf8')).toBe('renderio bytes');
    expect(outcome.made.attempts).toEqual([
      { provider: 'vidpickr', error: { code: 'download_failed', message: 'vidpickr broke half-way.' } },
      { provider: 'renderio', error: null },
    ]);
    expect(events.filter((e) => e.type === 'provider')).toEqual([
      { type: 'provider', provider: 'vidpickr', attempts: [] },
      { type: 'provider', provider: 'renderio', attempts: [{ provider: 'vidpickr', error: { code: 'download_failed', message: 'vidpickr broke half-way.' } }] },
    ]);
    expect(outcome.made.subtitles.map((s) => [s.language, s.container, readFileSync(s.url, 'utf8')])).toEqual([
      ['en', 'srt', 'en cues'],
      ['de', 'srt', 'de cues'],
    ]);
    expect(readdirSync(dir).sort()).toEqual([outcome.url, ...outcome.made.subtitles.map((s) => s.url)].map((p) => p.split('/').pop()).sort());
  });

  it('publishes only the subtitles the provider says it saved', async () => {
    const { result } = await run(spec, { providers: [standIn('vidpickr', { subtitles: ['de'] })] });
    const { outcome } = await result;
    expect(outcome.type === 'ready' && outcome.made.subtitles.map((s) => s.language)).toEqual(['de']);
  });

  it('a file that stays with the provider is a remote outcome and nothing stays here', async () => {
    const { dir, result } = await run(spec, { providers: [standIn('tornado', { remote: 's3://bucket/videos/x.mp4' })] });
    expect((await result).outcome).toEqual({ type: 'remote', location: 's3://bucket/videos/x.mp4', provider: 'tornado', attempts: [{ provider: 'tornado', error: null }] });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('every provider failing is one error naming each, and nothing stays', async () => {
    const { dir, result } = await run(spec, { providers: [standIn('vidpickr', { fail: true }), standIn('renderio', { fail: true })] });
    await expect(result).rejects.toThrow(/No provider could do it\. vidpickr: vidpickr broke half-way\.; renderio: renderio broke half-way\./);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('cancelling while the second provider works stops everything: no third provider, nothing left', async () => {
    const ctrl = new AbortController();
    let thirdTried = false;
    const second = {
      ...standIn('renderio', {}),
      async download(_i: MediaInfo, _s: Selection, ctx: DownloadContext) {
        const sink = await ctx.target.media();
        await sink.write(0, new TextEncoder().encode('half'));
        ctrl.abort(); // the user cancels now
        await new Promise((r) => setTimeout(r, 10));
        // What a cancelled transfer often looks like from inside: a broken connection.
        throw new VidmuxError('network', 'The connection broke.');
      },
    } as Provider;
    const third = standIn('tornado', { onResolve: () => (thirdTried = true) });
    const { dir, result } = await run({ ...spec, providers: [...spec.providers, { id: 'tornado', apiKey: 'k', baseUrl: null }] }, { providers: [standIn('vidpickr', { fail: true }), second, third], signal: ctrl.signal });
    await expect(result).rejects.toMatchObject({ code: 'cancelled' });
    expect(thirdTried).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('the picker’s resolve is used for its provider instead of resolving again', async () => {
    let resolves = 0;
    const provider = standIn('vidpickr', { onResolve: () => resolves++ });
    const info = await provider.resolve('https://video.example/1');
    const { result } = await run({ ...spec, resolved: info }, { providers: [provider] });
    await result;
    expect(resolves).toBe(1); // the picker's, none in the job
  });

  it('a playlist entry is downloaded by its provider, named by its id and the wished container', async () => {
    const entry = { provider: 'tornado' as const, ref: 'job-7', url: null, title: 'Song 7', index: 6, total: 9 };
    let asked: unknown = null;
    const tornado = { ...standIn('tornado', {}), downloadEntry: async (e: unknown, wish: unknown, ctx: DownloadContext) => ((asked = { e, wish }), standIn('tornado', {}).download(null as never, { format: null as never, subtitles: [] }, ctx)) } as Provider;
    const { result } = await run({ ...spec, wish: { quality: 'audio', audioFormat: 'mp3' }, providers: [{ id: 'tornado', apiKey: 'k', baseUrl: null }], entry }, { providers: [tornado] });
    const { outcome } = await result;
    expect(asked).toEqual({ e: entry, wish: expect.objectContaining({ quality: 'audio', audioFormat: 'mp3', subtitles: false }) });
    expect(outcome).toMatchObject({ type: 'ready', made: { provider: 'tornado', title: 'Song 7', container: 'mp3', mediaId: 'job-7' } });
  });
});
