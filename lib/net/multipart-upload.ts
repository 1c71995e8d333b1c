/**
 * One multipart/form-data upload attempt of a file (a provider's upload endpoint: VIDIO's), with
 * progress, a stall limit while sending and a limit on the answer. HttpClient sends string bodies
 * only, so this sends with fetch directly; the caller passes the key headers it checked for this
 * URL (lib/providers/kit/auth.ts keyHeaders) and runs its retry table around each attempt:
 * failures come back as {@link HttpFailure}s, problems with the file itself as `bad_input`.
 *
 * The body is `--boundary` + part headers + the file's bytes + the closing boundary, pulled by
 * fetch piece by piece (so progress counts what the connection took). Redirects are never
 * followed (`redirect: 'manual'`): they would carry the key to wherever they point.
 */
import { ProviderError, toVidmuxError, VidmuxError, type ErrorCode } from '../errors';
import { formatLimit, formatWait, quoted } from '../format';
import type { ByteSource } from '../io';
import { anySignal, describeUrl, errorText, parseRetryAfter, readLimited } from './http';
import { cancelledError, HttpFailure, type FailureKind } from './retry-policy';

/** A file to upload; a Blob the browser holds (an OPFS File) may be sent as such. */
export type UploadSource = ByteSource & { blob?: Blob };

export interface MultipartUploadOptions {
  /** The provider's id, on every error. */
  provider: string;
  /** The service as people know it, in messages ("VIDIO"). */
  serviceName: string;
  /** The form field of the file part, and the file's name and type in it. */
  field: string;
  name: string;
  contentType: string;
  /** Headers for this URL: the key, already checked to belong to it. */
  headers: Record<string, string>;
  /** Bigger files are refused as they are read (the caller checks the known size before). */
  maxBytes: number;
  /** No byte taken for this long while sending: a stall. */
  stallMs: number;
  /** No (complete) answer within this long of the last byte sent. */
  answerTimeoutMs: number;
  fetch: typeof fetch;
  signal?: AbortSignal;
  /** Bytes of the file the connection took so far. */
  onProgress?(bytesDone: number, bytesTotal: number | null): void;
}

/** An upload hands fetch at most this much at a time. */
const UPLOAD_PIECE_BYTES = 64 * 1024;

/** One attempt; VIDIO's (or any) answer body as text when the status is 2xx. */
export async function postMultipart(url: string, source: UploadSource, opts: MultipartUploadOptions): Promise<string> {
  const { name, signal, provider } = opts;
  const boundary = `----VidmuxBoundary${randomHex(16)}`;
  const encoder = new TextEncoder();
  const head = encoder.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="${formName(opts.field)}"; filename="${formName(name)}"\r\nContent-Type: ${opts.contentType}\r\n\r\n`,
  );
  const tail = encoder.encode(`\r\n--${boundary}--\r\n`);
  const size = source.size;
  const max = opts.maxBytes;

  // A file the browser holds (an OPFS File) is streamed like any source where the browser can
  // stream a request body (Chrome, over HTTP/2), so progress follows the network. Elsewhere
  // (Firefox; a server on HTTP/1.1, found out by the first try) the multipart body is a Blob,
  // read from disk and never copied into memory; progress is then its start and end. Always
  // fetch with `redirect: 'manual'` like every keyed call: XMLHttpRequest would report upload
  // progress but follows redirects with the key header to wherever they point.
  const blob = source.blob;
  const origin = new URL(url).origin;
  const streamed = !blob || (requestStreamsWork() && !BLOB_ONLY_ORIGINS.has(origin));
  const blobBody = blob && !streamed ? new Blob([head as BlobPart, blob, tail as BlobPart]) : null;

  const ctrl = new AbortController();
  let why: 'stalled' | 'no_answer' | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (ms: number, reason: 'stalled' | 'no_answer') => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      why = reason;
      ctrl.abort();
    }, ms);
  };
  // Shared with the body's callbacks (an object, so the type checker does not narrow it away).
  const st = {
    phase: 'head' as 'head' | 'data' | 'tail' | 'done',
    reader: null as ReadableStreamDefaultReader<Uint8Array> | null,
    bodyError: null as VidmuxError | null,
    /** Pieces of the last read not handed on yet, each with the bytes sent once it is. */
    pending: [] as Array<[Uint8Array, number]>,
  };
  const pullPending = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    const [piece, done] = st.pending.shift()!;
    opts.onProgress?.(done, size);
    controller.enqueue(piece);
  };
  let sent = 0;
  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, e: VidmuxError) => {
    st.bodyError = e;
    controller.error(e);
    ctrl.abort();
  };
  const body = new ReadableStream<Uint8Array>(
    {
      pull: async (controller) => {
        arm(opts.stallMs, 'stalled');
        if (st.phase === 'head') {
          st.phase = 'data';
          opts.onProgress?.(0, size);
          controller.enqueue(head);
          return;
        }
        if (st.pending.length) return pullPending(controller);
        if (st.phase === 'data') {
          st.reader ??= source.stream(0, undefined, signal).getReader();
          let chunk: ReadableStreamReadResult<Uint8Array>;
          try {
            do {
              chunk = await st.reader.read();
            } while (!chunk.done && chunk.value.length === 0);
          } catch (err) {
            const e = toVidmuxError(err, 'internal');
            return fail(controller, e.code === 'cancelled' ? e : new ProviderError('bad_input', `Could not read ${quoted(name)} to upload it: ${e.message}`, { provider, cause: e }));
          }
          if (!chunk.done) {
            sent += chunk.value.length;
            if (sent > max) return fail(controller, new ProviderError('bad_input', `${quoted(name)} is bigger than the ${formatLimit(max)} ${opts.serviceName} takes.`, { provider }));
            if (size !== null && sent > size) return fail(controller, new ProviderError('bad_input', `${quoted(name)} grew while it was being uploaded.`, { provider }));
            // Handed on in pieces: fetch pulls again as the connection takes them, so progress
            // and the stall timer follow the network, not the source's (up to 1 MB) reads.
            const end = sent;
            const data = chunk.value;
            for (let at = 0; at < data.length; at += UPLOAD_PIECE_BYTES) {
              const piece = data.subarray(at, Math.min(data.length, at + UPLOAD_PIECE_BYTES));
              st.pending.push([piece, end - data.length + at + piece.length]);
            }
            return pullPending(controller);
          }
          if (size !== null && sent !== size) {
            return fail(controller, new VidmuxError('truncated', `${quoted(name)} ended after ${sent} of its ${size} bytes while it was being uploaded.`, { provider }));
          }
          st.phase = 'tail';
        }
        if (st.phase === 'tail') {
          st.phase = 'done';
          controller.enqueue(tail);
          controller.close();
          // Everything is sent: now VIDIO has a while to answer.
          arm(opts.answerTimeoutMs, 'no_answer');
        }
      },
      cancel: async (reason) => {
        await st.reader?.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );

  const joined = signal ? anySignal(signal, ctrl.signal) : null;
  const fetchSignal = joined?.signal ?? ctrl.signal;
  const headers: Record<string, string> = {
    accept: 'application/json',
    'content-type': `multipart/form-data; boundary=${boundary}`,
    // A Blob body has its own length (and browsers refuse to be told one).
    ...(size === null || blobBody ? {} : { 'content-length': String(head.length + size + tail.length) }),
    ...opts.headers,
  };
  const where = describeUrl(url);
  try {
    let res: Response;
    try {
      if (blobBody) {
        opts.onProgress?.(0, size);
        // Nothing tells how far a Blob upload is: one limit for sending it and the answer.
        arm(opts.answerTimeoutMs + opts.stallMs, 'no_answer');
        res = await opts.fetch(url, { method: 'POST', headers, body: blobBody, signal: fetchSignal, redirect: 'manual' });
        opts.onProgress?.(size ?? 0, size);
      } else {
        // `duplex: 'half'`: how fetch sends a stream body (Node requires it; browsers stream over HTTP/2).
        res = await opts.fetch(url, { method: 'POST', headers, body, signal: fetchSignal, redirect: 'manual', duplex: 'half' } as RequestInit);
      }
    } catch (err) {
      if (signal?.aborted) throw cancelledError(signal);
      if (st.bodyError) throw st.bodyError;
      if (blob && !blobBody && !why && sent === 0 && err instanceof TypeError) {
        // The browser would not stream to this server (HTTP/1.1: net::ERR_H2_OR_QUIC_REQUIRED
        // in Chrome) and sent none of the file: a Blob body from now on.
        BLOB_ONLY_ORIGINS.add(origin);
        return await postMultipart(url, source, opts);
      }
      if (why === 'stalled') throw new HttpFailure('stalled', 'timeout', `The upload to ${where} took no data for ${formatWait(opts.stallMs)}.`, { provider, cause: err });
      if (why === 'no_answer') throw new HttpFailure('timeout', 'timeout', `${where} did not answer within ${formatWait(opts.answerTimeoutMs)} of the upload's end.`, { provider, cause: err });
      throw new HttpFailure('network', 'network', `Could not upload to ${where}: ${errorText(err)}.`, { provider, cause: err });
    }
    // The answer's body is read under the same "no answer" limit (a server may stall after its headers).
    let text: string;
    try {
      text = await readText(res, 64 * 1024, provider, fetchSignal);
    } catch (err) {
      if (signal?.aborted) throw cancelledError(signal);
      if (why === 'no_answer') throw new HttpFailure('timeout', 'timeout', `${where} did not finish answering within ${formatWait(opts.answerTimeoutMs)} of the upload's end.`, { provider, cause: err });
      throw err;
    }
    clearTimeout(timer);
    if (res.status >= 200 && res.status < 300) return text;
    throw statusFailure(res, text, where, provider);
  } finally {
    clearTimeout(timer);
    joined?.dispose();
    if (st.phase !== 'done') await st.reader?.cancel().catch(() => {});
  }
}

/** Origins the browser would not stream an upload to (HTTP/1.1): they get Blob bodies. */
const BLOB_ONLY_ORIGINS = new Set<string>();

let requestStreams: boolean | null = null;
/**
 * Whether this fetch can send a ReadableStream body (`duplex: 'half'`): Chrome's own feature test
 * (developer.chrome.com "Streaming requests with the fetch API"); Firefox cannot.
 */
function requestStreamsWork(): boolean {
  if (requestStreams !== null) return requestStreams;
  try {
    let duplexRead = false;
    const typed = new Request('data:a/a;charset=utf-8,', {
      method: 'POST',
      body: new ReadableStream(),
      get duplex() {
        duplexRead = true;
        return 'half';
      },
    } as RequestInit).headers.has('content-type');
    requestStreams = duplexRead && !typed;
  } catch {
    requestStreams = false;
  }
  return requestStreams;
}

/** A failed upload answer as an {@link HttpFailure}, classified like HttpClient does. */
function statusFailure(res: Response, body: string, where: string, provider: string): HttpFailure {
  const s = res.status;
  const extra = { provider, status: s, body };
  if (s === 429) {
    const retryAfterSeconds = parseRetryAfter(res.headers.get('retry-after'));
    return new HttpFailure('rate_limited', 'rate_limited', `${where} is rate limiting us (${s}).`, { ...extra, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) });
  }
  const kind: FailureKind = s === 502 ? 'bad_gateway' : s >= 500 ? 'server_error' : 'client_error';
  const code: ErrorCode = s === 401 ? 'unauthorized' : s === 403 ? 'forbidden' : s === 404 ? 'not_found' : 'http_error';
  const what = s >= 300 && s < 400 ? 'answered with a redirect; Vidmux does not follow it with the key it sent there' : 'rejected the upload';
  return new HttpFailure(kind, code, `${where} ${what} (${s}).`, extra);
}

/** Up to `limit` bytes of an answer as text; more is an error, and so is an answer that breaks off. */
async function readText(res: Response, limit: number, provider: string, signal?: AbortSignal): Promise<string> {
  try {
    return await readLimited(res, limit, { tooBig: () => new ProviderError('bad_response', `The answer to an upload was bigger than ${limit} bytes.`, { provider }) });
  } catch (err) {
    if (signal?.aborted) throw cancelledError(signal);
    if (err instanceof VidmuxError) throw err;
    throw new HttpFailure('network', 'network', `The answer to the upload broke off: ${errorText(err)}.`, { provider, cause: err });
  }
}

/** A name inside a multipart header: quotes and line breaks escaped as browsers do. */
function formName(name: string): string {
  return name.replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/"/g, '%22');
}

function randomHex(bytes: number): string {
  const b = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
