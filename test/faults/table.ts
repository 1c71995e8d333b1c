/**
 * The fault table: every way a download can go wrong that Vidmux was tried against, what it must
 * do, and the test that proves it. Network and hostile-server rows are run by
 * test/faults/network.faults.test.ts; the others name their test (test/faults/table.test.ts checks
 * each named test exists). docs/FAULTS.md is generated from this (`npm run faults:doc`) and checked
 * to be current.
 */
import { NETWORK_CASES } from './network-cases';

export type FaultArea = 'network' | 'media' | 'provider' | 'browser lifecycle' | 'hostile input' | 'CLI';

export interface FaultRow {
  id: string;
  area: FaultArea;
  fault: string;
  expected: string;
  /** The test file and the test's title (as written in it). */
  proof: { file: string; test: string };
}

const ref = (id: string, area: FaultArea, fault: string, expected: string, file: string, test: string): FaultRow => ({ id, area, fault, expected, proof: { file, test } });

const NETWORK_ROWS: FaultRow[] = NETWORK_CASES.map((c) => ({
  id: c.id,
  area: c.id.startsWith('hostile-') ? 'hostile input' : 'network',
  fault: c.fault,
  expected: c.expected,
  proof: { file: 'test/faults/network.faults.test.ts', test: `${c.id}: ` },
}));

const MEDIA = 'lib/media/remux-errors.test.ts';
const WEBM = 'lib/media/webm/webm-demux.test.ts';
const MUX_CLI = 'cli/commands/mux.test.ts';
const RESUME = 'cli/commands/download-resume.test.ts';

export const FAULT_TABLE: FaultRow[] = [
  ...NETWORK_ROWS,
  ref('net-trickle-resets', 'network', 'retries of a trickling server reset whenever a byte arrives', 'only 1 MiB (or a whole answer) forgives earlier failures', 'lib/net/retry-policy.test.ts', 'a trickle between failures does not reset them: 64 KB then a stall, every time, runs out of retries'),
  ref('net-dead-within-90s', 'network', 'a dead server or API (pure stall, no answer)', 'given up within 90 s in all: no try starts that would end past the limit', 'lib/net/retry-policy.test.ts', 'a dead server is given up within the limit in all: no try starts that would end past it'),
  ref('net-if-range', 'network', 'ranges of a file whose version could change', 'every range after the probe carries If-Range with the probe’s ETag', 'lib/net/save.test.ts', 'every range after the probe carries If-Range with the probe’s ETag'),
  ref('net-expired-segment', 'network', 'HLS segment links that expire mid-download', 'a fresh playlist is fetched (once per burst) and the download goes on', 'lib/providers/page-streams.test.ts', 'segment links that expired are fetched again from a fresh playlist (once per burst)'),
  ref('net-segment-gone', 'network', 'a segment that is gone (404)', 'the download fails clearly and leaves no file', 'lib/providers/page-streams.test.ts', 'a segment that is gone fails the download clearly and leaves no file'),
  ref('net-segment-too-big', 'hostile input', 'a segment larger than a segment can be', 'refused, never buffered', 'lib/net/segment-source.test.ts', 'refuses a segment larger than a segment can be'),
  ref('media-stsz-stts', 'media', 'an MP4 whose stsz lists 50 samples while stts says 150', 'corrupt_media naming the track and both counts; nothing written', MEDIA, 'stsz listing fewer samples than stts (the input was saved short before)'),
  ref('media-stsc-stco', 'media', 'stsc/stco placing fewer samples than stsz lists', 'corrupt_media before anything is written', MEDIA, 'stsc and stco placing fewer samples than stsz lists'),
  ref('media-past-eof', 'media', 'samples placed past the end of the file', 'refused up front, naming the track and the sample', MEDIA, 'samples placed past the end of the file: refused up front, naming the track and the sample'),
  ref('media-box-overrun', 'hostile input', 'a table box whose entry count runs past the box', 'corrupt_media', MEDIA, 'a table box whose entry count runs past the box'),
  ref('media-forged-count', 'hostile input', 'a constant-size stsz with a forged count of 2^32-1', 'fails at once (it used to hang in mp4box)', MEDIA, 'a constant-size stsz with a forged count of 2^32-1 fails at once (it used to hang in mp4box)'),
  ref('media-not-mp4', 'media', 'bytes that are not an MP4 given to the muxer', 'corrupt_media, the sink aborted', MEDIA, 'rejects bytes that are not an MP4 as corrupt_media and aborts the sink'),
  ref('media-truncated-mp4', 'media', 'a truncated MP4 input', '`truncated`, no output file', MEDIA, 'fails a truncated input with `truncated` and leaves no output file behind'),
  ref('media-written-short', 'media', 'a writer that drops a packet', 'the mux fails (internal) instead of saving it short', 'lib/media/remux-counts.test.ts', 'an MP4 writer that drops a packet fails the mux (internal) instead of saving it short'),
  ref('media-read-short', 'media', 'a demuxer that ends before the samples its tables list', 'corrupt_media, nothing saved', 'lib/media/remux-counts.test.ts', 'a demuxer that ends before the samples its tables list is corrupt_media, and nothing is saved'),
  ref('media-webm-truncated', 'media', 'a truncated WebM (in a block, in the header, between clusters)', '`truncated` with the byte offset', WEBM, 'fails a truncated file with `truncated` (cut in a block, in the header, between clusters)'),
  ref('media-webm-garbage', 'hostile input', 'WebM with bad sizes and garbage', '`corrupt_media` and the byte offset', WEBM, 'fails bad sizes and garbage with `corrupt_media` and the byte offset'),
  ref('media-webm-huge-private', 'hostile input', 'a hostile CodecPrivate size', 'refused; nothing allocated', WEBM, 'refuses a huge CodecPrivate and never allocates what a hostile size asks'),
  ref('media-webm-encrypted', 'media', 'encrypted or compressed WebM tracks', 'refused by name', WEBM, 'refuses encrypted and compressed tracks'),
  ref('media-webm-joined', 'hostile input', 'two WebM files joined one after the other', 'refused', WEBM, 'refuses two WebM files joined one after the other'),
  ref('media-discontinuity', 'hostile input', 'an HLS ad break whose timestamps start over (EXT-X-DISCONTINUITY)', 'a clear error, never a broken file', 'lib/providers/page-streams.test.ts', 'an ad break whose timestamps start over (EXT-X-DISCONTINUITY) is a clear error, never a broken file'),
  ref('media-protected', 'media', 'SAMPLE-AES / FairPlay / Widevine streams', 'refused as protected', 'lib/providers/page-streams.test.ts', 'protected streams are refused as protected'),
  ref('cli-mux-tables', 'CLI', '`mux` of an MP4 whose sample tables disagree', 'exit 1, one line, no output nor .part', MUX_CLI, 'refuses an input whose sample tables disagree (stsz 20, stts 60): exit 1, one line, no output nor .part'),
  ref('cli-mux-out-dir', 'CLI', '`mux --out` an existing directory', 'usage error (exit 2) up front, nothing left', MUX_CLI, 'refuses an --out that is a directory up front (exit 2), and leaves nothing beside it'),
  ref('cli-mux-sigint', 'CLI', 'Ctrl-C while `mux` writes', 'exit 130, no output nor .part', MUX_CLI, 'SIGINT while the output is being written: exit 130, one line, no output nor .part'),
  ref('cli-rename-fails', 'CLI', 'the final rename fails (the path is a directory)', 'the part file is removed', 'lib/node/files.test.ts', 'a failed final rename (the path is a directory) removes the part file'),
  ref('cli-move-fails', 'CLI', 'moving the finished file into --out fails', 'neither the file nor the folders made for it are left', 'cli/output-files.test.ts', 'a failed final rename leaves neither the file (under either name) nor the folders made for it'),
  ref('cli-subtitle-move-fails', 'CLI', 'a subtitle fails to move after the video was placed', 'exit 1, and the video is taken back', 'cli/commands/download-placement.test.ts', 'a subtitle file that fails to move after the audio was placed: exit 1, and the audio is taken back'),
  ref('cli-html', 'CLI', '`download` of a URL that answers an HTML error page', 'exit 1, the reason on one line, no file', 'cli/commands/download.test.ts', '${name}: exit 1, the reason on one line, no file'),
  ref('cli-changed-same-size', 'CLI', '`download` of a file that changes mid-download (same size)', 'fetched again from byte 0: the new version, whole', 'cli/commands/download.test.ts', 'a file that changes mid-download (same size) is fetched again from byte 0: the new version, whole'),
  ref('cli-drip-flags', 'CLI', '`download --speed-limit --speed-time` against a dripping server', 'given up, naming the low-speed limit; bad values are a usage error', 'cli/commands/download-resume.test.ts', '--speed-limit / --speed-time: a dripping server is given up, naming the limit; bad values are a usage error'),
  ref('cli-sigkill-resume', 'CLI', 'a download killed with SIGKILL halfway', 'the same command continues from the part file (server bytes counted) and the file equals the source', RESUME, 'SIGKILL halfway, then the same command: continues from the part file, and the file equals the source'),
  ref('cli-sigint-keep', 'CLI', 'Ctrl-C during a download; then a failing run', 'the part file is kept with a way to continue; a failure leaves nothing', RESUME, 'Ctrl-C keeps the part file and says how to continue; a failure removes it'),
  ref('cli-resume-other-version', 'CLI', 'a part file of another version of the file', 'not continued: starts over', RESUME, 'a part file of another version of the file is not continued: it starts over'),
  ref('provider-bad-shape', 'provider', 'an /info answer that breaks the documented types', 'bad_response naming the field', 'lib/providers/vidpickr.test.ts', 'rejects an /info answer that breaks the documented types, naming the field'),
  ref('provider-token-expired', 'provider', 'tokens that expire mid-download', 're-resolved; continues from the byte offset, byte-exact', 'lib/providers/vidpickr.test.ts', 're-resolves when tokens expire mid-download and continues from the byte offset, byte-exact'),
  ref('provider-429', 'provider', 'a provider answering 429 over and over', 'gives up after 5 retries with the provider’s words', 'lib/providers/vidpickr.test.ts', 'gives up on 429 after 5 retries with a VidPickr message'),
  ref('provider-bad-key', 'provider', 'a wrong or revoked key (401/402)', 'the provider’s words, the key masked', 'lib/providers/vidpickr.test.ts', '401 invalid_api_key and 402 plus_required, with the key masked'),
  ref('provider-key-origin', 'provider', 'a link to another origin or plain http', 'the key is never sent there', 'lib/providers/vidpickr.test.ts', 'never sends the key to another origin or over plain http off this machine'),
  ref('provider-job-failed', 'provider', 'a RenderIO job that ends FAILED', 'its error_message in words', 'lib/providers/renderio.test.ts', 'FAILED: reads error_message first (with error_status)'),
  ref('provider-storage-key', 'provider', 'a storage link on the API origin', 'fetched without the key', 'lib/providers/renderio.test.ts', 'never sends the key to storage_url even when it is on the API origin'),
  ref('provider-lost-submit', 'provider', 'a Tornado submit whose response is lost', 'retried with the same idempotency key: one job', 'lib/providers/tornado.test.ts', 'a submit whose response is lost is retried with the same idempotency key: one job, cached:true'),
  ref('provider-stalled-job', 'provider', 'a Tornado job that stays 404 after creation', 'given up after 30 s', 'lib/providers/tornado.test.ts', 'gives up when the job stays 404 for more than 30 s after creation, and tolerates shorter lags'),
  ref('provider-vidio-redirect', 'provider', 'an upload answered with a redirect', 'never followed with the key (fetch, redirect: manual)', 'lib/providers/vidio.test.ts', 'a file the browser holds: streamed where fetch can; a server that will not take a stream (HTTP/1.1 in Chrome) gets a Blob body, then always'),
  ref('provider-vidio-2gb', 'provider', 'a VIDIO upload over 2 GB', 'refused before a byte is sent', 'lib/providers/vidio.test.ts', 'over 2 GB: refused before a byte is sent'),
  ref('browser-offscreen-closed', 'browser lifecycle', 'the offscreen document closed mid-download', 'the job fails with the reason within 5 s; no OPFS file remains; Retry works', 'test/e2e/lifecycle.e2e.ts', 'the job fails at once with the reason, nothing stays in OPFS, and Retry starts again'),
  ref('browser-worker-stopped', 'browser lifecycle', 'the engine goes while Chrome had stopped the service worker', 'the next worker learns it and fails the job', 'test/e2e/lifecycle.e2e.ts', 'also after Chrome stopped the service worker mid-download: the engine connects to the next one'),
  ref('browser-engine-lost-unit', 'browser lifecycle', 'the engine goes with jobs at every stage', 'each fails saying why and where; saving jobs go on', 'lib/jobs/downloads.test.ts', 'when the engine goes, every job in it fails saying why and where, its files freed; a saving job goes on to done'),
  ref('browser-relaunch-resume', 'browser lifecycle', 'Chromium closed mid-download and launched again with the same profile', 'the job shows Interrupted; Resume continues from the pieces on disk (about half the bytes fetched again) and the file equals the source', 'test/e2e/resume.e2e.ts', 'closed mid-download, relaunched with the same profile: Interrupted, Resume continues from disk, the file equals the source'),
  ref('browser-relaunch-discard', 'browser lifecycle', 'an interrupted download the user discards', 'the job and its pieces are gone from OPFS', 'test/e2e/resume.e2e.ts', 'Discard drops an interrupted job and its pieces'),
  ref('browser-restart-orphans', 'browser lifecycle', 'a restart with job files in OPFS', 'files of interrupted jobs are kept; everything no job owns is removed at startup', 'lib/background/app.test.ts', 'after a browser restart a running job is interrupted (Resume runs the same job id again, tabless; Discard drops it and its files); orphan outputs are swept'),
  ref('browser-stream-cancelled', 'browser lifecycle', 'the user cancels a streamed save in the browser’s downloads while the engine still fetches', 'the job is cancelled in the engine (no more bytes fetched), no file stays in the downloads folder, OPFS is emptied', 'test/e2e/resume.e2e.ts', 'cancelling that download in the browser cancels the job: no file, nothing left in OPFS'),
  ref('browser-stream-ends', 'browser lifecycle', 'a job fails, is cancelled or loses its engine while its file is being saved as it is written', 'its browser download is cancelled (nothing partial stays), the job says why', 'lib/jobs/downloads.test.ts', 'a job that fails, is cancelled, or loses its engine cancels its streamed download (nothing partial stays)'),
  ref('browser-stream-broken', 'browser lifecycle', 'the streamed save’s download breaks (or never starts) while the engine goes on', 'the finished file is saved the usual way at the end', 'lib/jobs/downloads.test.ts', 'a streamed download that broke, or never started, falls back to saving the finished file'),
  ref('browser-extension-update', 'browser lifecycle', 'the extension updated under an open page', 'the old content script tears its features down', 'test/e2e/lifecycle.e2e.ts', 'the script left on an open page tears its features down: no button, no watching'),
  ref('hostile-title-bidi', 'hostile input', 'a title with bidi overrides disguising an extension', 'removed from the file name', 'lib/filename.test.ts', 'removes bidi overrides that would disguise an extension'),
  ref('hostile-template-path', 'hostile input', 'absolute, parent or unknown-token templates', 'rejected', 'lib/filename.test.ts', 'rejects empty, absolute, parent and unknown-token templates'),
  ref('hostile-title-folder', 'hostile input', 'a title that tries to add a folder', 'never does (only the template may)', 'lib/filename.test.ts', 'never lets a token add a folder, but the template may'),
  ref('hostile-key-in-message', 'hostile input', 'an error message that would carry an API key', 'masked; never kept in the error', 'lib/errors.test.ts', 'masks keys inside messages and never keeps them in VidmuxError'),
  ref('hostile-page-messages', 'hostile input', 'a web page (content script) asking for keys, tab state or to cancel a download', 'refused before any handler runs', 'lib/messages.test.ts', 'a web page (content script) can never read keys, tab state or cancel a download'),
  ref('hostile-page-local-address', 'hostile input', 'a page on the internet whose video, manifest, segments, keys or subtitles are on this computer or the local network', 'refused before any request, naming the address and how to allow the site', 'lib/providers/page.test.ts', 'segments, keys and subtitles on local addresses: each refused, none fetched'),
  ref('hostile-page-extension-id', 'hostile input', 'a page listening for every message, event and DOM change to learn the extension id', 'never sees it, through a whole download', 'test/e2e/page-privacy.e2e.ts', 'from any message, event, DOM change, markup or resource entry, through a whole download'),
];
