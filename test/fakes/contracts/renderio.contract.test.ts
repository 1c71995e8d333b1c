/**
 * The RenderIO fake against what the vendor wrote. Seed 000 (RenderIO's blog post; verbatim
 * excerpts in seeds/renderio-000.txt) shows no response body, only the code that reads one: every
 * read it makes must work on the fake's answers (`response.json()["command_id"]`,
 * `result["status"] == "SUCCESS"`, `result["output_files"]["out_video"]["storage_url"]`,
 * `result.get('error')`, the OutputFile / CommandResult dataclasses, `X-RateLimit-Remaining`,
 * in_X -> out_X). Field names and their order come from the official page rio:get as
 * shared/providers.md records it (seeds/renderio-providers-md.txt). Called as
 * lib/providers/renderio.ts calls RenderIO (`X-API-KEY`, JSON bodies, polling).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderIoMedia, type RenderIoMedia } from '../../fixtures/renderio-media';
import { RENDERIO_TEST_KEY, startRenderIoFake, type RenderIoFake } from '../renderio-server';
import { probeBytes, sniffContainer } from './media';
import { excerpt, inOrder, tableRows } from './seeds';

const SEED = 'renderio-000.txt';
const DOCS = 'renderio-providers-md.txt';
const VIDEO = 'https://www.youtube.com/watch?v=dQw4w9WgXcQ';

type Json = any;

/** `response.json()["command_id"]` -> command_id */
const SUBMIT_FIELD = /\.json\(\)\["(\w+)"\]/.exec(excerpt(SEED, 'submit'))![1]!;
/** `result["status"] == "SUCCESS"` / `"FAILED"`: the terminal statuses the seed waits for. */
const TERMINAL = [...excerpt(SEED, 'poll').matchAll(/result\["status"\] == "(\w+)"/g)].map((m) => m[1]!);
/** `result.get('error', ...)` on FAILED. */
const ERROR_FIELD = /result\.get\('(\w+)'/.exec(excerpt(SEED, 'poll'))![1]!;
/** `result["output_files"]["out_video"]["storage_url"]` -> the path of keys. */
const URL_PATH = [...excerpt(SEED, 'storage-url').matchAll(/\["(\w+)"\]/g)].map((m) => m[1]!);
/** `in_videoout_video, in_clipout_clip` (the arrow was lost in the page's text). */
const RENAMES = [...excerpt(SEED, 'out-key').matchAll(/in_([a-z]+)out_\1/g)].map((m) => m[1]!);
/** The dataclasses: class -> [field, python type]. */
const DATACLASSES = Object.fromEntries(
  excerpt(SEED, 'dataclasses')
    .split(/@dataclass\n/)
    .filter(Boolean)
    .map((block) => {
      const [head, ...fields] = block.trim().split('\n');
      return [/class (\w+):/.exec(head!)![1]!, fields.map((l) => /^\s+(\w+): (.+?)(?: = None)?$/.exec(l)!).map((m) => [m[1]!, m[2]!] as const)];
    }),
) as Record<string, Array<readonly [string, string]>>;
/** `response.headers["X-RateLimit-Remaining"]` */
const RATE_HEADER = /headers\["([\w-]+)"\]/.exec(excerpt(SEED, 'rate-limit'))![1]!;

/** rio:get CommandPollResponse fields in order, and the statuses its table allows. */
const POLL_ROWS = tableRows(excerpt(DOCS, 'command-poll-response')).slice(1);
const POLL_FIELDS = POLL_ROWS.map((r) => r[0]!);
const STATUSES = [...POLL_ROWS.find((r) => r[0] === 'status')![1]!.matchAll(/`(\w+)`/g)].map((m) => m[1]!);
/** rio:get OutputFileMeta fields in order: the always-there ones, then the optional nullable ones. */
const META = excerpt(DOCS, 'output-file-meta');
const META_REQUIRED = [...META.slice(0, META.indexOf('optional nullable')).matchAll(/`(\w+)` (?:string|boolean|number|`)/g)].map((m) => m[1]!);
const META_OPTIONAL = [...META.slice(META.indexOf('optional nullable')).matchAll(/`(\w+)`/g)].map((m) => m[1]!);
const FILE_STATUSES = [...META.matchAll(/`status` ((?:`\w+`\\?\|?)+)/g)].flatMap((m) => [...m[1]!.matchAll(/`(\w+)`/g)].map((x) => x[1]!));
/** Fields the fake sends that the docs do not list: `error` on FAILED (open question 4) and two it adds on purpose. */
const EXTRA_FIELDS = ['error', 'created_at', 'vendor_trace'];

let media: RenderIoMedia;
const fakes: RenderIoFake[] = [];
beforeAll(async () => {
  media = await renderIoMedia();
});
afterAll(async () => {
  await Promise.all(fakes.map((f) => f.close()));
});

async function fake(): Promise<RenderIoFake> {
  const f = await startRenderIoFake({ media });
  fakes.push(f);
  return f;
}
async function call(f: RenderIoFake, method: string, path: string, body?: unknown): Promise<{ status: number; json: Json; headers: Headers }> {
  const res = await fetch(`${f.baseUrl}${path}`, {
    method,
    headers: { 'X-API-KEY': RENDERIO_TEST_KEY, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json(), headers: res.headers };
}
/** Polls like the seed until SUCCESS or FAILED, moving the fake clock; returns every status seen and the last body. */
async function pollUntilDone(f: RenderIoFake, id: string): Promise<{ seen: string[]; result: Json }> {
  const seen: string[] = [];
  for (let i = 0; i < 20; i++) {
    const { json } = await call(f, 'GET', `/commands/${id}`);
    seen.push(json.status);
    if (TERMINAL.includes(json.status)) return { seen, result: json };
    f.clock.advance(1000);
  }
  throw new Error(`${id} never finished: ${seen.join(' ')}`);
}
const pyType = (v: unknown, t: string): boolean => {
  if (t.startsWith('Optional[')) return v === undefined || v === null || pyType(v, t.slice(9, -1));
  if (t === 'str') return typeof v === 'string';
  if (t === 'float') return typeof v === 'number';
  if (t === 'dict' || t.startsWith('dict[')) return typeof v === 'object' && v !== null && !Array.isArray(v);
  throw new Error(`unknown python type ${t}`);
};

describe('RenderIO fake = what seed 000 reads, in rio:get’s field order', () => {
  it('reads the seed and the docs', () => {
    expect([SUBMIT_FIELD, TERMINAL, ERROR_FIELD, URL_PATH, RENAMES, RATE_HEADER]).toEqual([
      'command_id',
      ['SUCCESS', 'FAILED'],
      'error',
      ['output_files', 'out_video', 'storage_url'],
      ['video', 'clip'],
      'X-RateLimit-Remaining',
    ]);
    expect(STATUSES).toEqual(['QUEUED', 'PROCESSING', 'SUCCESS', 'FAILED']);
    expect(META_REQUIRED).toEqual(['file_id', 'storage_url', 'status', 'rendi_store_type', 'is_deleted', 'filename', 'size_mbytes']);
    expect(FILE_STATUSES).toEqual(['PROCESSING', 'STORED', 'FAILED']);
    expect(Object.keys(DATACLASSES)).toEqual(['OutputFile', 'CommandResult']);
  });

  it('POST /ytdlp-download answers `{command_id}` with X-RateLimit-Remaining', async () => {
    const f = await fake();
    const r = await call(f, 'POST', '/ytdlp-download', { input_urls: { in_video: VIDEO } });
    expect(r.status).toBe(200);
    expect(Object.keys(r.json)).toEqual([SUBMIT_FIELD]);
    expect(typeof r.json[SUBMIT_FIELD]).toBe('string');
    expect(r.headers.get(RATE_HEADER)).toMatch(/^\d+$/);
  });

  it('polls go through the documented statuses to SUCCESS; every answer has rio:get’s fields in order', async () => {
    const f = await fake();
    const id = (await call(f, 'POST', '/ytdlp-download', { input_urls: { in_video: VIDEO }, metadata: { user_id: 'usr_123' } })).json.command_id;
    const { seen, result } = await pollUntilDone(f, id);
    expect([...new Set(seen)]).toEqual(['QUEUED', 'PROCESSING', 'SUCCESS']);
    const keys = Object.keys(result);
    expect(inOrder(keys, POLL_FIELDS), keys.join(', ')).toBe(true);
    expect(keys.filter((k) => !POLL_FIELDS.includes(k)).every((k) => EXTRA_FIELDS.includes(k))).toBe(true);
    expect(result).not.toHaveProperty('error'); // only on FAILED
    // "Metadata comes back in poll responses and webhooks."
    expect(result.metadata).toEqual({ user_id: 'usr_123' });
    // The seed's CommandResult / OutputFile are built from the answer: each field has the seed's type.
    for (const [field, type] of DATACLASSES.CommandResult!) expect([field, pyType(result[field], type)]).toEqual([field, true]);
    const file = URL_PATH.slice(0, -1).reduce((o, k) => o[k], result);
    for (const [field, type] of DATACLASSES.OutputFile!) expect([field, pyType(file[field], type)]).toEqual([field, true]);
    // OutputFileMeta: the always-there fields in rio:get's order, then the optional ones in theirs.
    const meta = Object.keys(file);
    expect(meta.slice(0, META_REQUIRED.length)).toEqual(META_REQUIRED);
    expect(meta.slice(META_REQUIRED.length).every((k) => META_OPTIONAL.includes(k))).toBe(true);
    expect(inOrder(meta, meta.filter((k) => META_OPTIONAL.includes(k)))).toBe(true);
    expect(inOrder(META_OPTIONAL, meta.slice(META_REQUIRED.length))).toBe(true);
    expect(file.status).toBe('STORED');
  });

  it('storage_url (no key) serves the file output_files describes', async () => {
    const f = await fake();
    const id = (await call(f, 'POST', '/ytdlp-download', { input_urls: { in_video: VIDEO }, format_selector: '720p' })).json.command_id;
    const { result } = await pollUntilDone(f, id);
    const meta = result.output_files.out_video;
    const res = await fetch(meta.storage_url);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(res.status).toBe(200);
    expect(sniffContainer(bytes)).toBe(meta.file_format);
    const probe = await probeBytes(bytes, meta.file_format);
    const v = probe.streams.find((s: Json) => s.codec_type === 'video');
    expect([v.codec_name, v.width, v.height]).toEqual([meta.codec, meta.width, meta.height]);
    expect(meta.size_mbytes).toBeCloseTo(bytes.length / 1024 / 1024, 4);
  });

  it('names outputs after inputs: in_video -> out_video, in_clip -> out_clip', async () => {
    const f = await fake();
    const input_urls = Object.fromEntries(RENAMES.map((n, i) => [`in_${n}`, `${VIDEO}&n=${i}`]));
    const id = (await call(f, 'POST', '/ytdlp-download', { input_urls })).json.command_id;
    const { result } = await pollUntilDone(f, id);
    expect(Object.keys(result.output_files)).toEqual(RENAMES.map((n) => `out_${n}`));
  });

  it('FAILED carries what the seed reads (`error`) and what the docs name (`error_status`, `error_message`)', async () => {
    const f = await fake();
    f.setOutcome(VIDEO, { result: 'failed' });
    const id = (await call(f, 'POST', '/ytdlp-download', { input_urls: { in_video: VIDEO } })).json.command_id;
    const { result } = await pollUntilDone(f, id);
    expect(result.status).toBe('FAILED');
    expect(typeof result[ERROR_FIELD]).toBe('string');
    expect([typeof result.error_status, typeof result.error_message]).toEqual(['string', 'string']);
    const keys = Object.keys(result);
    expect(inOrder(keys, [...POLL_FIELDS.slice(0, POLL_FIELDS.indexOf('error_message') + 1), 'error', ...POLL_FIELDS.slice(POLL_FIELDS.indexOf('output_files'))])).toBe(true);
    expect(FILE_STATUSES).toContain(result.output_files.out_video.status);
    expect(result.output_files.out_video.storage_url).toBeNull();
  });
});
