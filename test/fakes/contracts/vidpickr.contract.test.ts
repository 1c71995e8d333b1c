/**
 * The VidPickr fake against the vendor's own API reference (seed 001; verbatim excerpts in
 * seeds/vidpickr-001.txt): a fake is as strict as the contract, never kinder. Called the way
 * lib/providers/vidpickr.ts calls VidPickr (GET + `X-API-Key`, tokens from /info into /stream and
 * /split_token), it must answer with the example's field names in the example's order at every
 * level, the example's value types, containers, codecs and orderings, and serve bytes that really
 * are in the container and codec each entry advertises.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vidpickrMedia } from '../../fixtures/vidpickr-media';
import { startVidPickrFake, VIDPICKR_TEST_KEY, type VidPickrFake } from '../vidpickr-server';
import { expectedStream, mp4Boxes, probeBytes, sniffContainer, webmSegmentChildren } from './media';
import { excerpt, parseExample, shapeDiff, tableRows } from './seeds';

const COPY = 'vidpickr-001.txt';
const WATCH = 'https://www.youtube.com/watch?v=dQw4w9WgXcQ';
const MERGE_ONLY = 'https://youtu.be/MergeOnly01';

type Json = any;
const example = parseExample(excerpt(COPY, 'info-response')) as Json;
/** seed 001 elides 720's and 480's `video_only` (`[ /* ... *\/ ]`): their entries look like 1080's. */
const elided = (path: string) => (/^\$\.resolutions\[\d+\]\.video_only$/.test(path) ? example.resolutions[0].video_only[0] : undefined);

const fakes: VidPickrFake[] = [];
async function fake(opts: Parameters<typeof startVidPickrFake>[0] = {}): Promise<VidPickrFake> {
  const f = await startVidPickrFake(opts);
  fakes.push(f);
  return f;
}
afterAll(async () => {
  await Promise.all(fakes.map((f) => f.close()));
});

async function get(f: VidPickrFake, path: string): Promise<Response> {
  return fetch(`${f.baseUrl}${path}`, { headers: { 'X-API-Key': VIDPICKR_TEST_KEY } });
}
async function info(f: VidPickrFake, url = WATCH): Promise<Json> {
  const res = await get(f, `/info?${new URLSearchParams({ url })}`);
  expect(res.status).toBe(200);
  return res.json();
}
/** The JSON payload of a token, `{"V":"v1","T":"av01","E":17...` in the seed's examples. */
function tokenPayload(token: string): string {
  const b64 = token.split('.')[1]!.replace(/\.+$/, '');
  return Buffer.from(b64.slice(0, b64.length - (b64.length % 4)), 'base64url').toString('latin1');
}

beforeAll(async () => {
  await vidpickrMedia(); // the first run encodes the fixtures (AV1 1080p: ~11 s)
});

describe('GET /v1/info of the documented video = seed 001 "GET /v1/info — response"', () => {
  it('has the example’s field names, in its order, with its value types, at every level', async () => {
    const body = await info(await fake());
    expect(shapeDiff(body, example, { elided })).toEqual([]);
  });

  it('has the fields of the "Response fields" table, in the table’s order and types', async () => {
    const body = await info(await fake());
    const rows = tableRows(excerpt(COPY, 'info-fields'));
    expect(Object.keys(body)).toEqual(rows.map((r) => r[0]));
    for (const [name, type] of rows) expect([name, Array.isArray(body[name!]) ? 'array' : typeof body[name!]]).toEqual([name, type]);
    expect(body.platform).toBe('youtube'); // 'Always "youtube" for now.'
  });

  it('lists the example’s heights, containers, codecs and bitrates in the example’s order', async () => {
    const body = await info(await fake());
    expect(body.resolutions.map((r: Json) => r.height)).toEqual(example.resolutions.map((r: Json) => r.height));
    const pick = (list: Json[], keys: string[]) => list.map((x) => Object.fromEntries(keys.map((k) => [k, x[k]])));
    // 1080: AV1 in MP4, then VP9 in WebM.
    expect(pick(body.resolutions[0].video_only, ['ext', 'vcodec'])).toEqual(pick(example.resolutions[0].video_only, ['ext', 'vcodec']));
    // audio_only: M4A AAC 128, then WebM Opus 160.
    expect(pick(body.audio_only, ['ext', 'acodec', 'bitrate'])).toEqual(pick(example.audio_only, ['ext', 'acodec', 'bitrate']));
    expect(pick(body.subtitles, ['language', 'kind'])).toEqual(pick(example.subtitles, ['language', 'kind']));
    // The elided heights: codec variants per height, in the containers YouTube uses for them.
    expect(pick(body.resolutions[1].video_only, ['ext', 'vcodec'])).toEqual([
      { ext: 'mp4', vcodec: 'avc1.4d401f' },
      { ext: 'webm', vcodec: 'vp09.00.31.08' },
    ]);
    expect(pick(body.resolutions[2].video_only, ['ext', 'vcodec'])).toEqual([{ ext: 'mp4', vcodec: 'avc1.4d401e' }]);
  });

  it('has no resolution-level token, no `bitrate` / `endpoint` on video entries: nothing the example does not show', async () => {
    const body = await info(await fake());
    for (const r of body.resolutions) {
      expect(Object.keys(r)).toEqual(['height', 'video_only']);
      for (const v of r.video_only) expect(Object.keys(v)).toEqual(Object.keys(example.resolutions[0].video_only[0]));
    }
    for (const a of body.audio_only) expect(Object.keys(a)).toEqual(Object.keys(example.audio_only[0]));
    // Unknown fields only when a test asks (seed: new fields "ship inside v1 without notice").
    const extra = await info(await fake({ unknownFields: true }));
    expect(Object.keys(extra).slice(0, 7)).toEqual(Object.keys(example));
    expect(extra).toHaveProperty('view_count');
  });

  it('signs tokens that decode like the example’s: `v1.`/`a1.`/`s1` prefixes, `{"V","T"` with the codec tag, then `E`', async () => {
    const body = await info(await fake());
    const pairs: Array<[string, string]> = [
      ...body.resolutions[0].video_only.map((v: Json, i: number): [string, string] => [v.download_token, example.resolutions[0].video_only[i].download_token]),
      ...body.audio_only.map((a: Json, i: number): [string, string] => [a.download_token, example.audio_only[i].download_token]),
    ];
    for (const [ours, theirs] of pairs) {
      expect(ours.slice(0, 3)).toBe(theirs.slice(0, 3));
      const want = tokenPayload(theirs); // e.g. {"V":"v1","T":"av01","E":17
      const head = want.slice(0, want.indexOf('"E":') + 4);
      expect(tokenPayload(ours).startsWith(head), `${tokenPayload(ours)} starts with ${head}`).toBe(true);
      expect(tokenPayload(ours).slice(head.length)).toMatch(/^\d{10},/);
    }
    for (const s of body.subtitles) expect(s.download_token.startsWith(example.subtitles[0].download_token.replace(/\.+$/, ''))).toBe(true);
  });

  it('keeps the example’s order on the first answer; later answers reorder (the seed: "Format order is not stable") but hold the same entries', async () => {
    const f = await fake();
    const first = await info(f);
    const second = await info(f);
    expect(second.resolutions.map((r: Json) => r.height)).not.toEqual(first.resolutions.map((r: Json) => r.height));
    const key = (b: Json) => [...b.resolutions.flatMap((r: Json) => r.video_only.map((v: Json) => `${r.height} ${v.ext} ${v.vcodec}`)), ...b.audio_only.map((a: Json) => `${a.ext} ${a.acodec} ${a.bitrate}`)].sort();
    expect(key(second)).toEqual(key(first));
    const stable = await fake({ shuffle: false });
    await info(stable);
    expect(shapeDiff(await info(stable), example, { elided })).toEqual([]);
    expect((await info(stable)).resolutions.map((r: Json) => r.height)).toEqual([1080, 720, 480]);
  });

  it('size_mb is the served file’s size in MB', async () => {
    const f = await fake();
    const body = await info(f);
    const entries = [...body.resolutions.flatMap((r: Json) => r.video_only), ...body.audio_only];
    for (const e of entries) {
      const res = await get(f, `/stream?${new URLSearchParams({ token: e.download_token })}`);
      const bytes = Number(res.headers.get('content-length'));
      await res.arrayBuffer();
      expect(Math.abs(e.size_mb - bytes / 1e6)).toBeLessThan(0.006);
    }
  });
});

describe('GET /v1/stream serves what each entry advertises', () => {
  let f: VidPickrFake;
  let body: Json;
  beforeAll(async () => {
    f = await fake();
    body = await info(f);
  });

  const entries = () => [
    ...body.resolutions.flatMap((r: Json) => r.video_only.map((v: Json) => ({ kind: 'video' as const, height: r.height as number, ext: v.ext as string, codec: v.vcodec as string, token: v.download_token as string }))),
    ...body.audio_only.map((a: Json) => ({ kind: 'audio' as const, height: null, ext: a.ext as string, codec: a.acodec as string, token: a.download_token as string })),
  ];

  it('with the seed’s response headers: Content-Type of the container, Content-Length, Content-Disposition attachment, X-RateLimit-Remaining', async () => {
    const documented = tableRows(excerpt(COPY, 'stream-headers')).map((r) => r[0]!.toLowerCase());
    expect(documented).toEqual(['content-type', 'content-length', 'content-disposition', 'x-ratelimit-remaining']);
    for (const e of entries()) {
      const res = await get(f, `/stream?${new URLSearchParams({ token: e.token })}`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect(res.status).toBe(200);
      for (const h of documented) expect(res.headers.get(h), `${e.codec}: ${h}`).not.toBeNull();
      const container = e.ext === 'webm' ? 'webm' : 'mp4';
      expect([e.codec, res.headers.get('content-type')]).toEqual([e.codec, `${e.kind}/${container}`]);
      expect(Number(res.headers.get('content-length'))).toBe(bytes.length);
      expect(res.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename=".+\\.${e.ext}"$`));
    }
  });

  it('bytes in the advertised container (EBML 1A45DFA3 for webm, ftyp for mp4/m4a) and codec (ffprobe)', async () => {
    for (const e of entries()) {
      const res = await get(f, `/stream?${new URLSearchParams({ token: e.token })}`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      const label = `${e.kind} ${e.height ?? ''} ${e.ext} ${e.codec}`;
      if (e.ext === 'webm') {
        expect([label, sniffContainer(bytes)]).toEqual([label, 'webm']);
        // YouTube's WebM DASH layout: Info, Tracks, then Cues before the first Cluster.
        const children = webmSegmentChildren(bytes);
        expect(children.indexOf('Cues'), `${label}: ${children.join(' ')}`).toBeGreaterThan(children.indexOf('Tracks'));
        expect(children.indexOf('Cues'), `${label}: ${children.join(' ')}`).toBeLessThan(children.indexOf('Cluster'));
      } else {
        expect([label, sniffContainer(bytes)]).toEqual([label, 'mp4']);
        // Single-track fragmented MP4 (CMAF layout).
        const boxes = mp4Boxes(bytes);
        expect(boxes.slice(0, 2), label).toEqual(['ftyp', 'moov']);
        expect(boxes.filter((b) => b === 'moof').length, label).toBeGreaterThan(1);
      }
      const probe = await probeBytes(bytes, e.ext);
      expect(probe.format.format_name, label).toMatch(e.ext === 'webm' ? /webm/ : /mp4/);
      expect(probe.streams.map((s: Json) => s.codec_type), label).toEqual([e.kind]);
      const s = probe.streams[0];
      const want = expectedStream(e.codec);
      expect({ label, codec_name: s.codec_name, ...(want.profile ? { profile: s.profile } : {}), ...(want.level !== undefined ? { level: s.level } : {}), ...(want.pix_fmt ? { pix_fmt: s.pix_fmt } : {}) }).toEqual({ label, ...want });
      if (e.height !== null) expect([label, s.height]).toEqual([label, e.height]);
    }
  });
});

describe('the merge-only video (seed 001 "Split merge token#")', () => {
  it('lists `{height, download_token, endpoint: "merge"}` per height, no video_only; /v1/split_token answers the table’s fields', async () => {
    const f = await fake();
    const body = await info(f, MERGE_ONLY);
    expect(Object.keys(body)).toEqual(Object.keys(example));
    expect(shapeDiff(body.audio_only, example.audio_only)).toEqual([]);
    for (const r of body.resolutions) {
      expect(Object.keys(r)).toEqual(['height', 'download_token', 'endpoint']);
      expect(r.endpoint).toBe('merge');
      expect(r.download_token).toMatch(/^v1\./);
    }
    const fields = tableRows(excerpt(COPY, 'split-token-fields')).map((r) => [r[0], r[1]]);
    const res = await get(f, `/split_token?${new URLSearchParams({ token: body.resolutions[0].download_token })}`);
    const split = await res.json();
    expect(Object.entries(split).map(([k, v]) => [k, typeof v])).toEqual(fields);
    // A merge token is not a stream token.
    expect((await get(f, `/stream?${new URLSearchParams({ token: body.resolutions[0].download_token })}`)).status).toBe(400);
    const video = await get(f, `/stream?${new URLSearchParams({ token: split.video_token })}`);
    expect(sniffContainer(new Uint8Array(await video.arrayBuffer()))).toBe('mp4'); // 1080's first variant: AV1 in MP4
  });
});

describe('errors = seed 001 "Branch on error.code"', () => {
  it('429 rate_limited has the example’s shape and wording, with Retry-After', async () => {
    const f = await fake();
    f.fault('info', { kind: 'rate_limited', retryAfter: 14 });
    const res = await get(f, `/info?${new URLSearchParams({ url: WATCH })}`);
    const body = await res.json();
    const want = parseExample(excerpt(COPY, 'error-response')) as Json;
    expect(res.status).toBe(429);
    expect(shapeDiff(body, want)).toEqual([]);
    expect(body).toEqual(want); // {"error":{"code":"rate_limited","message":"too many requests, retry in 14s"}}
    expect(res.headers.get('retry-after')).toBe('14');
    expect(res.headers.get('x-ratelimit-remaining')).not.toBeNull();
  });
});
