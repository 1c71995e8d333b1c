/**
 * The Tornado fake against the vendor's quick-start page (seed 002; verbatim excerpts in
 * seeds/tornado-002.txt): POST /jobs answers the "# Response" example, GET /jobs/{id} the
 * "Response Example" field for field and in its order, every status of "Job Status Values" is
 * one the fake really reaches, and s3_url serves the MP4 it names. Called as
 * lib/providers/tornado.ts calls Tornado (`x-api-key`, JSON bodies).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tornadoMedia, type TornadoMedia } from '../../fixtures/tornado-media';
import { DEFAULT_TIMINGS, startTornadoFake, TORNADO_TEST_KEY, type TornadoFake, type TornadoOutcome } from '../tornado-server';
import { probeBytes, sniffContainer } from './media';
import { excerpt, parseExample, shapeDiff } from './seeds';

const COPY = 'tornado-002.txt';
const VIDEO = 'https://www.youtube.com/watch?v=dQw4w9WgXcQ';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const FINISHED = DEFAULT_TIMINGS.pendingMs + DEFAULT_TIMINGS.downloadingMs + DEFAULT_TIMINGS.muxingMs + DEFAULT_TIMINGS.uploadingMs;

type Json = any;
const createExample = parseExample(excerpt(COPY, 'create-response')) as Json;
const jobExample = parseExample(excerpt(COPY, 'job-response')) as Json;
/** "Job Status Values": `PendingJob is queued...` -> Pending. */
const STATUSES = excerpt(COPY, 'statuses')
  .split('\n')
  .slice(1)
  .map((l) => /^([A-Z][a-z]+)Job\b/.exec(l)?.[1])
  .filter((s): s is string => !!s);

let media: TornadoMedia;
const fakes: TornadoFake[] = [];
beforeAll(async () => {
  media = await tornadoMedia();
});
afterAll(async () => {
  await Promise.all(fakes.map((f) => f.close()));
});

async function fake(outcomes: Record<string, TornadoOutcome> = {}): Promise<TornadoFake> {
  const f = await startTornadoFake({ media, outcomes });
  fakes.push(f);
  return f;
}
async function call(f: TornadoFake, method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${f.baseUrl}${path}`, {
    method,
    headers: { 'x-api-key': TORNADO_TEST_KEY, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}
/** The seed's "Basic Example" body. */
const create = (f: TornadoFake, url = VIDEO) => call(f, 'POST', '/jobs', { url, format: 'mp4' });

describe('Tornado fake = seed 002', () => {
  it('reads six statuses out of the seed', () => {
    expect(STATUSES).toEqual(['Pending', 'Processing', 'Completed', 'Failed', 'Warning', 'Skipped']);
  });

  it('POST /jobs answers the "# Response" example: `{job_id}`, a UUID', async () => {
    const f = await fake();
    const r = await create(f);
    expect(r.status).toBe(201); // providers.md 3.2: "The fake should return 201."
    expect(shapeDiff(r.json, createExample)).toEqual([]);
    expect(r.json.job_id).toMatch(UUID);
  });

  it('GET /jobs/{id} of a completed job is the "Response Example": same fields, order, types and nulls', async () => {
    const f = await fake();
    const id = (await create(f)).json.job_id;
    f.clock.advance(FINISHED);
    const r = await call(f, 'GET', `/jobs/${id}`);
    expect(r.status).toBe(200);
    expect(shapeDiff(r.json, jobExample)).toEqual([]);
    expect(r.json).toMatchObject({ id, url: VIDEO, status: jobExample.status, subtitle_url: null, error: null, step: jobExample.step });
    // Persisted later with telemetry (tor:get's optional fields): the example's fields still lead, in order.
    f.clock.advance(DEFAULT_TIMINGS.freshCacheMs);
    const later = (await call(f, 'GET', `/jobs/${id}`)).json;
    expect(Object.keys(later).slice(0, Object.keys(jobExample).length)).toEqual(Object.keys(jobExample));
  });

  it('s3_url is a presigned URL like the example’s (…/videos/<name>.mp4?signature…) that serves a real MP4, no key needed', async () => {
    const f = await fake();
    const id = (await create(f)).json.job_id;
    f.clock.advance(FINISHED);
    const { s3_url } = (await call(f, 'GET', `/jobs/${id}`)).json;
    const want = new URL(jobExample.s3_url);
    const got = new URL(s3_url);
    expect(got.pathname.split('/').slice(-2)[0]).toBe(want.pathname.split('/').slice(-2)[0]); // "videos"
    expect(got.pathname).toMatch(/\.mp4$/);
    expect(got.search).not.toBe('');
    const res = await fetch(s3_url);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(res.status).toBe(200);
    expect(sniffContainer(bytes)).toBe('mp4');
    const probe = await probeBytes(bytes, 'mp4');
    expect(probe.streams.map((s: Json) => [s.codec_type, s.codec_name])).toEqual([['video', 'h264'], ['audio', 'aac']]);
  });

  it('reaches every status the seed names, with the fields the seed says go with it', async () => {
    const url = (s: string) => `https://www.youtube.com/watch?v=status${s}`;
    const f = await fake({
      [url('Failed')]: { status: 'Failed' },
      [url('Warning')]: { status: 'Warning' },
      [url('Skipped')]: { status: 'Skipped' },
    });
    const seen = new Map<string, Json>();
    const plain = (await create(f)).json.job_id;
    const ends = await Promise.all(['Failed', 'Warning', 'Skipped'].map(async (s) => (await create(f, url(s))).json.job_id));
    for (const t of [DEFAULT_TIMINGS.replicationLagMs, DEFAULT_TIMINGS.pendingMs, FINISHED - DEFAULT_TIMINGS.pendingMs - DEFAULT_TIMINGS.replicationLagMs]) {
      f.clock.advance(t);
      for (const id of [plain, ...ends]) {
        const j = (await call(f, 'GET', `/jobs/${id}`)).json;
        if (!seen.has(j.status)) seen.set(j.status, j);
        expect(shapeDiff(j, { ...jobExample, s3_url: j.s3_url, error: j.error })).toEqual([]);
      }
    }
    expect([...seen.keys()].sort()).toEqual([...STATUSES].sort());
    // "Completed — Job finished successfully, s3_url is available"
    expect(typeof seen.get('Completed').s3_url).toBe('string');
    // "Failed — Job failed, check error field for details"; Warning and Skipped say why too.
    for (const s of ['Failed', 'Warning', 'Skipped']) expect([s, typeof seen.get(s).error, seen.get(s).s3_url]).toEqual([s, 'string', null]);
    for (const s of ['Pending', 'Processing']) expect([s, seen.get(s).s3_url, seen.get(s).error]).toEqual([s, null, null]);
  });

  it('GET /usage (the seed’s key check) answers, with only the always-present fields when the account has no limits', async () => {
    const f = await startTornadoFake({ media, limits: { storageLimitGb: null, maxResolutionLimit: null } });
    fakes.push(f);
    const r = await call(f, 'GET', '/usage');
    expect(r.status).toBe(200);
    expect(Object.keys(r.json).slice(0, 3)).toEqual(['client_name', 'usage_count', 'storage_usage_gb']);
    for (const k of ['storage_limit_gb', 'storage_limit_bytes', 'storage_remaining_gb', 'max_resolution_limit', 'max_duration_limit_seconds', 'max_filesize_limit_mb']) expect(r.json).not.toHaveProperty(k);
  });
});
