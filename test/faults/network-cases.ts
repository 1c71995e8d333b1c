/**
 * The fault table's executable network and hostile-server cases: each one a media-server fault
 * (test/fakes/media-server.ts) put between the engine and a file, run through the one save use case
 * (runJob, the page provider, files as outputs: the CLI's road), with what must come of it.
 */
import type { FaultSpec } from '../fakes/media-server';

export interface NetworkCase {
  id: string;
  /** The fault, as a person would describe it. */
  fault: string;
  /** What Vidmux must do. */
  expected: string;
  /** The media-server faults on the file's URL. */
  faults: FaultSpec;
  /** The outcome: the file saved equal to the source (or its new version), or an error. */
  outcome: { saved: 'source' | 'new version' } | { code: string; message: RegExp };
  /** Serve the URL from a server that is not listening at all. */
  deadPort?: boolean;
  /** Serve random bytes (no media signature) instead of the MP4. */
  noise?: boolean;
}

export const NETWORK_CASES: NetworkCase[] = [
  { id: 'net-500-always', fault: '500 on every request', expected: 'retried 1-4-16 s, then fails naming the status; nothing saved', faults: { status: 500 }, outcome: { code: 'http_error', message: /500.*gave up after 3 retries/ } },
  { id: 'net-500-once', fault: '500 once, then fine', expected: 'retried, saved whole', faults: { status: 500, after: 1, times: 1 }, outcome: { saved: 'source' } },
  { id: 'net-502-once', fault: '502 Bad Gateway once', expected: 'retried once after 2 s, saved whole', faults: { status: 502, after: 1, times: 1 }, outcome: { saved: 'source' } },
  { id: 'net-503-twice', fault: '503 twice', expected: 'retried, saved whole', faults: { status: 503, after: 1, times: 2 }, outcome: { saved: 'source' } },
  { id: 'net-429-retry-after', fault: '429 with Retry-After: 1', expected: 'waits as asked, saved whole', faults: { status: 429, retryAfter: 1, after: 1, times: 1 }, outcome: { saved: 'source' } },
  { id: 'net-429-hour', fault: '429 asking to wait an hour', expected: 'fails at once as rate limited (never hangs for an hour)', faults: { status: 429, retryAfter: 3600 }, outcome: { code: 'rate_limited', message: /asked to wait 3600 s/ } },
  { id: 'net-404', fault: '404 Not Found', expected: 'fails at once, not retried', faults: { status: 404 }, outcome: { code: 'not_found', message: /404/ } },
  { id: 'net-403-fixed-link', fault: '403 on a link that cannot be renewed', expected: 'fails clearly', faults: { status: 403 }, outcome: { code: 'forbidden', message: /403/ } },
  { id: 'net-410', fault: '410 Gone', expected: 'fails clearly', faults: { status: 410 }, outcome: { code: 'expired', message: /410/ } },
  { id: 'net-reset-once', fault: 'TCP reset mid-body once', expected: 'resumed from the last good byte, saved whole', faults: { reset: 100_000, after: 1, times: 1 }, outcome: { saved: 'source' } },
  { id: 'net-reset-always', fault: 'TCP reset mid-body on every try', expected: 'fails after the retries; nothing saved', faults: { reset: 1000, after: 1 }, outcome: { code: 'network', message: /gave up after 3 retries/ } },
  { id: 'net-truncate-206', fault: 'a 206 body cut short (chunked, clean end)', expected: 'the loss is seen by Content-Range, resumed, saved whole', faults: { truncate: 50_000, after: 1, times: 1 }, outcome: { saved: 'source' } },
  { id: 'net-truncate-every-body', fault: 'every body cut short at 50 KB (ranges of 64 KB)', expected: 'each cut resumed from its byte: saved whole', faults: { truncate: 50_000, after: 1 }, outcome: { saved: 'source' } },
  { id: 'net-truncate-empty-always', fault: 'every range answered with no bytes at all', expected: 'fails as truncated after the retries', faults: { truncate: 0, after: 1 }, outcome: { code: 'truncated', message: /ended the data early.*gave up after 3 retries/ } },
  { id: 'net-stall-once', fault: 'a connection that stalls once', expected: 'abandoned after the stall limit, resumed, saved whole', faults: { stall: 10_000, after: 1, times: 1 }, outcome: { saved: 'source' } },
  { id: 'net-trickle-then-stall', fault: 'a little data then a stall, on every try (16 KB of each 64 KB range)', expected: 'the trickle does not reset the retries: fails naming the stall limit', faults: { stall: 16_000, after: 1 }, outcome: { code: 'timeout', message: /\(the stall limit\).*gave up after 3 retries/ } },
  { id: 'net-drip', fault: 'a server dripping bytes, never quite stalling', expected: 'fails naming the low-speed limit', faults: { drip: 2_000, after: 1 }, outcome: { code: 'timeout', message: /\(the low-speed limit\)/ } },
  { id: 'net-bad-content-range', fault: 'Content-Range one byte off', expected: 'never spliced: fails as a bad response', faults: { badRange: true, after: 1 }, outcome: { code: 'bad_response', message: /Content-Range/ } },
  { id: 'net-ignores-range', fault: 'a server that ignores Range', expected: 'one sequential stream, saved whole', faults: { ignoreRange: true }, outcome: { saved: 'source' } },
  { id: 'net-no-length', fault: 'no Content-Length and no ranges', expected: 'read to the end, saved whole', faults: { ignoreRange: true, noLength: true }, outcome: { saved: 'source' } },
  { id: 'net-ignores-range-later', fault: 'ranges at first, then ignored (same ETag)', expected: 'not taken for a new version; retried, saved whole or failed clearly', faults: { ignoreRange: true, after: 2, times: 1 }, outcome: { saved: 'source' } },
  { id: 'net-dead-port', fault: 'nothing listening (connection refused)', expected: 'fails as unreachable within the limits', faults: {}, deadPort: true, outcome: { code: 'network', message: /Could not reach/ } },
  { id: 'hostile-html', fault: 'a 200 web page (text/html) at a .mp4 URL', expected: 'fails: the server sent a web page instead of the video; nothing saved', faults: { html: true }, outcome: { code: 'bad_response', message: /sent a web page instead of the video/ } },
  { id: 'hostile-html-as-video', fault: 'a web page served as video/mp4', expected: 'found by its bytes; fails; nothing saved', faults: { htmlAsVideo: true }, outcome: { code: 'bad_response', message: /sent a web page instead of the video/ } },
  { id: 'hostile-empty', fault: 'a 200 with an empty body', expected: 'fails: an empty file is not the video', faults: { empty: true }, outcome: { code: 'bad_response', message: /empty file instead of the video/ } },
  { id: 'hostile-not-media', fault: 'bytes no media format starts with', expected: 'fails naming the first bytes', faults: {}, noise: true, outcome: { code: 'bad_response', message: /no video or audio format starts with the bytes/ } },
  { id: 'hostile-changed-mid-download', fault: 'the file changes on the server mid-download (new ETag, same size)', expected: 'If-Range sees it; starts again from byte 0: the saved file is all the new version', faults: { changeAfter: 3 }, outcome: { saved: 'new version' } },
  { id: 'hostile-changed-and-resized', fault: 'the file changes and grows mid-download', expected: 'fails as source_changed; never a spliced file', faults: { changeAfter: 3, grow: 4096 }, outcome: { code: 'source_changed', message: /size changed too/ } },
  { id: 'net-no-validators', fault: 'no ETag nor Last-Modified', expected: 'downloads normally (nothing to check a resume against)', faults: { noValidators: true }, outcome: { saved: 'source' } },
];
