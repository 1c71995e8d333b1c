/**
 * The VIDIO fake against VIDIO's Python client reference (seed 003; verbatim excerpts in
 * seeds/vidio-003.txt): the parameter lists of `create_highlight_reel` are the fake's (and
 * lib/schemas/reel.ts's), the seed's own create example is accepted, every status the seed names
 * is one the fake really reaches, in order, and a rendered job is the seed's job object field for
 * field, in its order, with `output_url` (providers.md 4.3, INFERRED) as the only addition. The
 * HTTP layer is the INFERRED one of providers.md 4.3: `X-API-Key`, multipart `file`, JSON bodies.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASPECT_RATIOS, MUSIC_CATEGORIES, REEL_STATUSES, VIDEO_CATEGORIES } from '../../../lib/schemas/reel';
import { ffprobeJson } from '../../fixtures/ffmpeg';
import { VIDIO_FRAME_SIZES, vidioMedia, type VidioMedia } from '../../fixtures/vidio-media';
import { startVidioFake, VIDIO_ASPECTS, VIDIO_CATEGORIES, VIDIO_DEFAULT_TIMINGS, VIDIO_MUSIC, VIDIO_TEST_KEY, type VidioFake, type VidioFakeOptions } from '../vidio-server';
import { probeBytes, sniffContainer } from './media';
import { excerpt, parseExample, shapeDiff } from './seeds';

const COPY = 'vidio-003.txt';
type Json = any;

const jobExample = parseExample(excerpt(COPY, 'job-response')) as Json;
const params = excerpt(COPY, 'create-parameters');
const list = (text: string) => text.split(/,\s*(?:(?:or|and)\s+)?/).map((s) => s.trim());
/** "It can be podcast, ball-sports, …, others." */
const SEED_CATEGORIES = list(/It can be (.+?)\. For best/.exec(params)![1]!);
/** "…use others.landscape, portrait, or square.corporate…" */
const SEED_ASPECTS = list(/use others\.(.+?)\.corporate/.exec(params)![1]!);
/** "corporate, romantic, …, and trending_vlogs. If the output…" */
const SEED_MUSIC = list(/(corporate, .+?)\. If the output/.exec(params)![1]!);
/** "submitted, queued, processing, processed, rendering, or rendered.video or sound." */
const [statusText, overlayText] = excerpt(COPY, 'statuses').split('.');
const SEED_STATUSES = list(statusText!);
const SEED_OVERLAY_TYPES = overlayText!.split(/\s+or\s+/).map((s) => s.trim());
/** `create_highlight_reel(input_keys, …, original_audio_volume=None)` -> parameter names. */
const SEED_PARAMS = /\((.*)\)/
  .exec(excerpt(COPY, 'create-signature'))![1]!
  .split(',')
  .map((p) => p.trim().replace(/=.*$/, ''));

/** The seed's Python example as the JSON body it stands for (`[result.input_key]` -> the key given). */
function exampleBody(inputKey: string): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const line of excerpt(COPY, 'create-example').split('\n').slice(1, -1)) {
    const m = /^(\w+)=(.+),$/.exec(line)!;
    body[m[1]!] = m[2] === '[result.input_key]' ? [inputKey] : JSON.parse(m[2]!);
  }
  return body;
}

let media: VidioMedia;
const fakes: VidioFake[] = [];
beforeAll(async () => {
  media = await vidioMedia();
});
afterAll(async () => {
  await Promise.all(fakes.map((f) => f.close()));
});

async function fake(opts: VidioFakeOptions = {}): Promise<VidioFake> {
  const f = await startVidioFake({ media, ...opts });
  fakes.push(f);
  return f;
}
async function call(f: VidioFake, method: string, path: string, body?: unknown, key: string | null = VIDIO_TEST_KEY): Promise<{ status: number; json: Json; headers: Headers }> {
  const res = await fetch(`${f.baseUrl}${path}`, {
    method,
    headers: { ...(key ? { 'X-API-Key': key } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, headers: res.headers };
}
async function upload(f: VidioFake, file: string | Uint8Array, name = 'clip.mp4'): Promise<{ status: number; json: Json }> {
  const form = new FormData();
  const bytes = typeof file === 'string' ? readFileSync(file) : file;
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'video/mp4' }), name);
  const res = await fetch(`${f.baseUrl}/uploads`, { method: 'POST', headers: { 'X-API-Key': VIDIO_TEST_KEY }, body: form });
  return { status: res.status, json: await res.json() };
}
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

describe('VIDIO fake = seed 003', () => {
  it('reads the parameter lists out of the seed, and the schema and the fake use exactly them', () => {
    expect(SEED_PARAMS).toEqual(['input_keys', 'video_category', 'output_length', 'aspect_ratio', 'music_category', 'music_volume', 'original_audio_volume']);
    expect(SEED_CATEGORIES).toEqual([...VIDEO_CATEGORIES]);
    expect(SEED_ASPECTS).toEqual([...ASPECT_RATIOS]);
    expect(SEED_MUSIC).toEqual([...MUSIC_CATEGORIES]);
    expect(SEED_STATUSES).toEqual([...REEL_STATUSES]);
    expect(SEED_OVERLAY_TYPES).toEqual(['video', 'sound']);
    expect([VIDIO_CATEGORIES, VIDIO_ASPECTS, VIDIO_MUSIC]).toEqual([SEED_CATEGORIES, SEED_ASPECTS, SEED_MUSIC]);
    // "0 to 100. If not provided, the default is 100." for music_volume and original_audio_volume.
    expect(params.match(/0 to 100\. If not provided, the default is 100\./g)).toHaveLength(2);
  });

  it('upload(file_path): a multipart `file` answers `{ input_key }`, the bytes recorded by md5', async () => {
    const f = await fake();
    const bytes = readFileSync(media.inputs.mp4);
    const r = await upload(f, media.inputs.mp4);
    expect(r.status).toBe(200);
    expect(Object.keys(r.json)).toEqual(['input_key']);
    expect(f.uploads.get(r.json.input_key)).toMatchObject({ filename: 'clip.mp4', bytes: bytes.length, md5: md5(bytes), container: 'mp4' });
    // WebM and MPEG-TS are videos too; a text file is not; an empty file cannot be read.
    for (const [file, container] of [[media.inputs.webm, 'webm'], [media.inputs.ts, 'mpegts']] as const) {
      const u = await upload(f, file, `clip.${container}`);
      expect(u.status).toBe(200);
      expect(f.uploads.get(u.json.input_key)).toMatchObject({ container, md5: md5(readFileSync(file)) });
    }
    expect(await upload(f, media.inputs.notVideo, 'notes.txt')).toMatchObject({ status: 415, json: { error: { code: 'unsupported_media' } } });
    expect(await upload(f, new Uint8Array(0), 'empty.mp4')).toMatchObject({ status: 422, json: { error: { code: 'unreadable_media' } } });
  });

  it('an upload over the limit is 413, read to its end but never kept', async () => {
    const f = await fake({ maxUploadBytes: 10_000 });
    const r = await upload(f, media.inputs.mp4);
    expect(r).toMatchObject({ status: 413, json: { error: { code: 'file_too_large' } } });
    expect(f.uploads.size).toBe(0);
  });

  it('create_highlight_reel: the seed’s own example is accepted and answers `{ job_id, status: "submitted" }`', async () => {
    const f = await fake();
    const key = (await upload(f, media.inputs.mp4)).json.input_key;
    const body = exampleBody(key);
    expect(Object.keys(body)).toEqual(SEED_PARAMS);
    const r = await call(f, 'POST', '/highlight-reels', body);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ job_id: expect.any(String), status: 'submitted' });
    // The older docs' four parameters alone are enough.
    const four = Object.fromEntries(Object.entries(body).slice(0, 4));
    expect((await call(f, 'POST', '/highlight-reels', four)).status).toBe(200);
  });

  it('every parameter is checked: a 400 names the field', async () => {
    const f = await fake();
    const key = (await upload(f, media.inputs.mp4)).json.input_key;
    const good = exampleBody(key);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...good, input_keys: [] }, 'input_keys'],
      [{ ...good, input_keys: ['in_nope'] }, 'input_keys'],
      [{ ...good, video_category: 'football' }, 'video_category'],
      [{ ...good, output_length: 12.5 }, 'output_length'],
      [{ ...good, output_length: 0 }, 'output_length'],
      [{ ...good, aspect_ratio: 'wide' }, 'aspect_ratio'],
      [{ ...good, music_category: 'jazz' }, 'music_category'],
      [{ ...good, music_volume: 101 }, 'music_volume'],
      [{ ...good, original_audio_volume: -1 }, 'original_audio_volume'],
      [{ ...good, aspectRatio: 'square' }, 'aspectRatio'],
    ];
    const { aspect_ratio: _, ...missing } = good;
    cases.push([missing, 'aspect_ratio']);
    for (const [body, field] of cases) {
      const r = await call(f, 'POST', '/highlight-reels', body);
      expect([r.status, r.json.error.field], JSON.stringify(body)).toEqual([400, field]);
      expect(r.json.error).toEqual({ code: 'invalid_parameter', message: expect.any(String), field });
    }
  });

  it('reaches every status the seed names, in its order, on the fake clock', async () => {
    const f = await fake({ outputsPerJob: 1 });
    const key = (await upload(f, media.inputs.mp4)).json.input_key;
    const id = (await call(f, 'POST', '/highlight-reels', exampleBody(key))).json.job_id;
    const seen: string[] = [];
    const look = async () => {
      const s = (await call(f, 'GET', `/jobs/${id}`)).json.status;
      if (seen.at(-1) !== s) seen.push(s);
      return s;
    };
    await look();
    const t = VIDIO_DEFAULT_TIMINGS;
    for (const ms of [t.submittedMs, t.queuedMs, t.processingMs]) {
      f.clock.advance(ms);
      await look();
    }
    // wait_for_job's end: processed. Rendering is allowed only from there (409 before: below).
    expect((await call(f, 'POST', `/jobs/${id}/render`, { output_index: 0 })).status).toBe(200);
    await look();
    f.clock.advance(t.renderingMs);
    await look();
    expect(seen).toEqual(SEED_STATUSES);
  });

  it('with advance: "poll" (open question 20) each GET moves one status on', async () => {
    const f = await fake({ advance: 'poll' });
    const key = (await upload(f, media.inputs.mp4)).json.input_key;
    const id = (await call(f, 'POST', '/highlight-reels', exampleBody(key))).json.job_id;
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await call(f, 'GET', `/jobs/${id}`)).json.status);
    expect(statuses).toEqual(['queued', 'processing', 'processed']);
    expect((await call(f, 'POST', `/jobs/${id}/render`, { output_index: 0 })).json.status).toBe('rendering');
    expect((await call(f, 'GET', `/jobs/${id}`)).json.status).toBe('rendered');
  });

  it('render(job_id, output_index=0): 409 until processed, then `{ job_id, status: "rendering", output_url: null }`', async () => {
    const f = await fake();
    const key = (await upload(f, media.inputs.mp4)).json.input_key;
    const id = (await call(f, 'POST', '/highlight-reels', exampleBody(key))).json.job_id;
    // The seed's example: `render(job_id=job.job_id, output_index=0)`.
    const renderArgs = /output_index=(\d+)/.exec(excerpt(COPY, 'render-example'))!;
    const early = await call(f, 'POST', `/jobs/${id}/render`, { output_index: Number(renderArgs[1]) });
    expect(early).toMatchObject({ status: 409, json: { error: { code: 'job_not_ready' } } });
    f.clock.advance(60_000);
    const r = await call(f, 'POST', `/jobs/${id}/render`, { output_index: 0 });
    expect(r).toMatchObject({ status: 200, json: { job_id: id, status: 'rendering', output_url: null } });
    expect((await call(f, 'POST', `/jobs/${id}/render`, { output_index: 0 })).status).toBe(409);
  });

  it('a rendered job is the seed’s job object: same fields, order, types and nulls, plus output_url', async () => {
    const f = await fake({ outputsPerJob: 1 });
    const key = (await upload(f, media.inputs.mp4)).json.input_key;
    const id = (await call(f, 'POST', '/highlight-reels', exampleBody(key))).json.job_id;
    f.clock.advance(60_000);
    await call(f, 'POST', `/jobs/${id}/render`, { output_index: 0 });
    f.clock.advance(60_000);
    const job = (await call(f, 'GET', `/jobs/${id}`)).json;
    // wait_for_render's result: "print(final_render.output_url)".
    expect(excerpt(COPY, 'wait-render')).toContain('.output_url');
    const { output_url, ...seedFields } = job;
    expect(Object.keys(job)).toEqual([...Object.keys(jobExample), 'output_url']);
    expect(shapeDiff(seedFields, jobExample)).toEqual([]);
    expect(job).toMatchObject({ job_id: id, status: jobExample.status });
    const [video, sound] = job.outputs[0].overlays;
    expect(video).toMatchObject({ type: 'video', fileID: f.uploads.get(key)!.fileId });
    expect(sound).toMatchObject({ type: 'sound', content: jobExample.outputs[0].overlays[1].content }); // the sports track
    expect(job.outputs[0].thumbnail).toMatch(/^out\/.+\.jpg$/);
    expect(typeof output_url).toBe('string');
  });

  it('output_url is on another origin, needs no key, and serves a real MP4 of the asked aspect ratio', async () => {
    const f = await fake({ outputsPerJob: 1 });
    const key = (await upload(f, media.inputs.mp4)).json.input_key;
    for (const aspect of ASPECT_RATIOS) {
      const id = (await call(f, 'POST', '/highlight-reels', { ...exampleBody(key), aspect_ratio: aspect })).json.job_id;
      f.clock.advance(60_000);
      await call(f, 'POST', `/jobs/${id}/render`, { output_index: 0 });
      f.clock.advance(60_000);
      const url = (await call(f, 'GET', `/jobs/${id}`)).json.output_url as string;
      expect(new URL(url).origin).toBe(f.filesOrigin);
      expect(new URL(url).origin).not.toBe(new URL(f.baseUrl).origin);
      const res = await fetch(url);
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect(res.status).toBe(200);
      expect(sniffContainer(bytes)).toBe('mp4');
      const probe = await probeBytes(bytes, 'mp4');
      const v = probe.streams.find((s: Json) => s.codec_type === 'video');
      expect([v.width, v.height]).toEqual([VIDIO_FRAME_SIZES[aspect].width, VIDIO_FRAME_SIZES[aspect].height]);
      // A forged link is refused.
      expect((await fetch(url.replace(/sig=[0-9a-f]+/, `sig=${'f00d'.repeat(8)}`))).status).toBe(403);
    }
    expect(f.keyLeaks()).toEqual([]);
    expect((await ffprobeJson(media.reels.portrait)).streams.map((s: Json) => s.codec_name)).toEqual(['h264', 'aac']);
  });

  it('X-API-Key: missing or unknown -> 401, a plan without API access -> 403, unknown job -> 404; all `{ error: { code, message } }`', async () => {
    const f = await fake();
    expect(await call(f, 'GET', '/jobs/x', undefined, null)).toMatchObject({ status: 401, json: { error: { code: 'unauthorized' } } });
    expect(await call(f, 'GET', '/jobs/x', undefined, 'vidio_wrong_key')).toMatchObject({ status: 401, json: { error: { code: 'unauthorized' } } });
    expect(await call(f, 'GET', '/jobs/x', undefined, 'vidio_test_k3y_creator_002')).toMatchObject({ status: 403, json: { error: { code: 'plan_required' } } });
    expect(await call(f, 'GET', '/jobs/job_unknown')).toMatchObject({ status: 404, json: { error: { code: 'job_not_found' } } });
  });

  it('switches: 429 with Retry-After, 5xx, failed jobs with an error, unknown extra fields', async () => {
    const f = await fake({ outputsPerJob: 1 });
    const key = (await upload(f, media.inputs.mp4)).json.input_key;
    f.switches.rateLimit = { count: 1, retryAfter: 7 };
    const limited = await call(f, 'GET', '/jobs/x');
    expect([limited.status, limited.headers.get('retry-after'), limited.json.error.code]).toEqual([429, '7', 'rate_limited']);
    f.switches.fail = { count: 1, status: 503 };
    expect((await call(f, 'GET', '/jobs/x')).status).toBe(503);

    f.switches.failJobs = { count: 1, at: 'processing', error: 'No highlights found in the input' };
    const failing = (await call(f, 'POST', '/highlight-reels', exampleBody(key))).json.job_id;
    f.clock.advance(60_000);
    expect((await call(f, 'GET', `/jobs/${failing}`)).json).toEqual({ job_id: failing, status: 'failed', outputs: [], error: 'No highlights found in the input' });

    f.switches.unknownFields = true;
    const id = (await call(f, 'POST', '/highlight-reels', exampleBody(key))).json.job_id;
    f.clock.advance(60_000);
    const job = (await call(f, 'GET', `/jobs/${id}`)).json;
    expect(Object.keys(job).slice(0, 3)).toEqual(Object.keys(jobExample));
    expect(Object.keys(job).length).toBeGreaterThan(3);
    expect(job.outputs[0].overlays[0]).toHaveProperty('_fake', true);
  });

  it('serves https (both origins) when given a certificate, and names hosts as told', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vidmux-vidio-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
    } catch {
      return; // no openssl here: nothing to check
    }
    const cert = readFileSync(join(dir, 'c.pem'), 'utf8');
    const f = await fake({ tls: { key: readFileSync(join(dir, 'k.pem'), 'utf8'), cert } });
    expect(f.baseUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(f.filesOrigin).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const status = await new Promise<number>((resolve, reject) => {
      httpsRequest(`${f.baseUrl}/jobs/job_unknown`, { ca: cert, headers: { 'X-API-Key': VIDIO_TEST_KEY } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(status).toBe(404);
    const mapped = await fake({ tls: { key: readFileSync(join(dir, 'k.pem'), 'utf8'), cert }, hostname: 'api.vidio.ai', filesHostname: 'files.vidio.ai' });
    expect([mapped.baseUrl, mapped.filesOrigin]).toEqual(['https://api.vidio.ai/v1', 'https://files.vidio.ai']);
  });
});
