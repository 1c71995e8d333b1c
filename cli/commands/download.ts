/**
 * `vidmux download <url> [--provider page|vidpickr|renderio|tornado]
 *   [--quality best|2160|1440|1080|720|480|360|audio] [--audio-format m4a|mp3] [--codec avc,vp9,...]
 *   [--container mp4|webm] [--audio-codec auto|aac|opus]
 *   [--format ID] [--subs LANG] [--subs-only] [--name TEMPLATE] [--out DIR] [--json]
 *   [--connections N] [--chunk-size BYTES] [--speed-limit BYTES/S] [--speed-time SECONDS] [--give-up SECONDS]`
 *
 * The extension's road to a file, in Node: the same job spec, the same chooser (quality, MP3,
 * codec preference, an exact format from `info`), the same providers with fallback, the same
 * naming template. Progress on stderr; with --json stdout gets exactly one object
 * `{"file", "bytes", "provider", "format", "subtitles"}`. Failure: exit 1 and one line on stderr
 * naming each provider tried and why it failed; nothing is left behind.
 *
 * Interrupted (Ctrl-C, SIGTERM, or killed outright) a plain file download keeps its part file
 * and a small record beside it in --out (`.vidmux-<id>-main0.part` + `.json`); the same command
 * run again (the same URL, choices and --out make the same job id) continues from there when the
 * file on the server is the same version (size, ETag, Last-Modified), else starts over.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { toVidmuxError, VidmuxError } from '../../lib/errors';
import { mainFileName, subtitleFileName } from '../../lib/jobs/output-names';
import { runJob } from '../../lib/jobs/run-job';
import { wishFor } from '../../lib/jobs/wish';
import { NodeOutputs } from '../../lib/node/outputs';
import {
  AUDIO_CODEC_PREFERENCES,
  AUDIO_FORMATS,
  CODEC_FAMILIES,
  CONTAINER_PREFERENCES,
  DEFAULT_CODEC_PREFERENCE,
  PROVIDER_IDS,
  QUALITIES,
  type AudioCodecPreference,
  type CodecFamily,
  type ContainerPreference,
  type ProviderId,
  type Quality,
} from '../../lib/schemas/ids';
import { JobSpecSchema } from '../../lib/schemas/job-spec';
import { TransferLimitsSchema } from '../../lib/schemas/limits';
import { DEFAULT_FILENAME_TEMPLATE, templateProblem } from '../../lib/schemas/filename-template';
import { formatBytes } from '../../lib/format';
import { Placement } from '../output-files';
import { ProgressLine } from '../progress-line';
import { cliHttp, localSitesHint, providersFor, setupsFromEnv } from '../providers-env';

const USAGE =
  'usage: vidmux download <url> [--provider page|vidpickr|renderio|tornado] [--quality best|2160|1440|1080|720|480|360|audio] [--audio-format m4a|mp3] [--codec avc,hevc,av1,vp9] [--container mp4|webm] [--audio-codec auto|aac|opus] [--format ID] [--subs LANG] [--subs-only] [--name TEMPLATE] [--out DIR] [--json] [--connections N] [--chunk-size BYTES] [--speed-limit BYTES/S] [--speed-time SECONDS] [--give-up SECONDS]';

/** Runs the command; resolves to the exit code (0 ok, 1 failure, 2 usage, 130 interrupted). */
export async function run(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        provider: { type: 'string' },
        quality: { type: 'string', default: 'best' },
        'audio-format': { type: 'string', default: 'm4a' },
        codec: { type: 'string' },
        container: { type: 'string', default: 'mp4' },
        'audio-codec': { type: 'string', default: 'auto' },
        format: { type: 'string' },
        subs: { type: 'string', multiple: true },
        'subs-only': { type: 'boolean', default: false },
        name: { type: 'string', default: DEFAULT_FILENAME_TEMPLATE },
        out: { type: 'string' },
        json: { type: 'boolean', default: false },
        connections: { type: 'string' },
        'chunk-size': { type: 'string' },
        'speed-limit': { type: 'string' },
        'speed-time': { type: 'string' },
        'give-up': { type: 'string' },
      },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const v = args.values;
  const url = args.positionals[0];
  const connections = v.connections === undefined ? undefined : Number(v.connections);
  const chunkSize = v['chunk-size'] === undefined ? undefined : Number(v['chunk-size']);
  // Like curl's --speed-limit / --speed-time; the defaults are the extension's.
  const limitsParsed = TransferLimitsSchema.safeParse({
    ...(v['speed-limit'] === undefined ? {} : { lowSpeedBytesPerSecond: Number(v['speed-limit']) }),
    ...(v['speed-time'] === undefined ? {} : { lowSpeedSeconds: Number(v['speed-time']) }),
    ...(v['give-up'] === undefined ? {} : { giveUpSeconds: Number(v['give-up']) }),
  });
  const codecs = v.codec === undefined ? [] : v.codec.split(',').map((c) => c.trim().toLowerCase());
  const formatProvider = v.format ? (v.format.split(':')[0] as ProviderId) : undefined;
  const problem =
    !url || args.positionals.length > 1 || !/^https?:\/\//i.test(url)
      ? 'give one http(s) URL'
      : !(QUALITIES as readonly string[]).includes(v.quality)
        ? `--quality must be one of ${QUALITIES.join(', ')}`
        : !(AUDIO_FORMATS as readonly string[]).includes(v['audio-format'])
          ? '--audio-format must be m4a or mp3'
          : !(CONTAINER_PREFERENCES as readonly string[]).includes(v.container)
            ? '--container must be mp4 or webm (webm: when the source is WebM)'
          : !(AUDIO_CODEC_PREFERENCES as readonly string[]).includes(v['audio-codec'])
            ? '--audio-codec must be auto, aac or opus'
          : codecs.some((c) => !(CODEC_FAMILIES as readonly string[]).includes(c)) || new Set(codecs).size !== codecs.length
            ? `--codec takes ${CODEC_FAMILIES.join(', ')}, each once, most preferred first`
            : v.format !== undefined && !(PROVIDER_IDS as readonly string[]).includes(formatProvider ?? '')
              ? '--format takes a format id from `vidmux info --json` (it starts with its provider)'
              : v.format !== undefined && v.provider !== undefined && v.provider !== formatProvider
                ? `--format ${v.format} is ${formatProvider}'s, not ${v.provider}'s`
              : templateProblem(v.name)
                ? `--name: ${templateProblem(v.name)}`
                : (connections !== undefined && !(connections >= 1 && connections <= 10)) || (chunkSize !== undefined && !(chunkSize >= 1))
                  ? '--connections takes 1 to 10, --chunk-size a positive number'
                  : !limitsParsed.success
                    ? '--speed-limit takes bytes/s (0: off), --speed-time 1 to 600 seconds, --give-up 10 to 3600 seconds'
                    : null;
  if (problem || !url) {
    process.stderr.write(`error: ${problem}\n${USAGE}\n`);
    return 2;
  }
  const languages = (v.subs ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  // The preference the user gave first, then the rest in the default order.
  const preferred = codecs as CodecFamily[];
  const codecPreference = [...preferred, ...DEFAULT_CODEC_PREFERENCE.filter((c) => !preferred.includes(c))];

  const ctrl = new AbortController();
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    ctrl.abort(new VidmuxError('cancelled', 'Interrupted: run the same command again to continue.'));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const progress = new ProgressLine();
  const outDir = resolve(v.out ?? '.');
  const outputs = new NodeOutputs(outDir, {
    sync: true,
    resume: {
      keep: () => interrupted,
      onResume: (offset, unverified) =>
        progress.note(`continuing an interrupted download from ${formatBytes(offset)}${unverified ? ' (the server gives no ETag or Last-Modified: it cannot be checked that the file is the same)' : ''}`),
    },
  });
  // The same command makes the same job: its part file, if an earlier run left one, is continued.
  const jobId = createHash('sha256').update(JSON.stringify([url, v, outDir])).digest('hex').slice(0, 16);
  // The video and its subtitles are placed all or none: exit 1 means nothing was saved.
  const placement = new Placement();
  try {
    // An exact format is its provider's: no other provider is tried for it.
    const setups = setupsFromEnv(v.provider ?? formatProvider);
    const wish = wishFor(
      {
        quality: v.quality as Quality,
        audioFormat: v['audio-format'] as 'm4a' | 'mp3',
        ...(v.format ? { formatId: v.format, formatProvider } : {}),
        subtitleLanguages: languages,
        subtitlesOnly: v['subs-only'],
      },
      {
        quality: 'best',
        audioFormat: 'm4a',
        codecPreference,
        subtitleLanguages: [],
        container: v.container as ContainerPreference,
        audioCodec: v['audio-codec'] as AudioCodecPreference,
      },
    );
    const limits = limitsParsed.data!;
    const spec = JobSpecSchema.parse({ jobId, url, wish, providers: setups, limits, ...(connections ? { connections } : {}) });
    await mkdir(outDir, { recursive: true });
    const names: Record<string, string> = { page: 'the page', vidpickr: 'VidPickr', renderio: 'RenderIO', tornado: 'Tornado' };
    const { outcome, format } = await runJob(spec, {
      providers: (s) => providersFor(s.providers, { connections: s.connections, ...(chunkSize ? { chunkSize } : {}) }, s.limits ? cliHttp.withLimits(s.limits) : cliHttp),
      outputs,
      signal: ctrl.signal,
      onEvent: (e) => {
        if (e.type === 'progress') progress.show(e.progress.overall, e.progress.stage === 'resolving' ? 'provider working… ' : '');
        // Say so when falling back; if all fail, the final error line names every provider anyway.
        else if (e.type === 'provider' && e.attempts.length) {
          const last = e.attempts.at(-1)!;
          progress.note(`${names[last.provider]} failed (${last.error?.message ?? 'unknown error'}); trying ${names[e.provider]}…`);
        }
      },
    });
    progress.end();
    if (outcome.type === 'remote') {
      const res = { file: null, bytes: 0, provider: outcome.provider, format, subtitles: [], location: outcome.location };
      if (v.json) process.stdout.write(`${JSON.stringify(res)}\n`);
      else process.stderr.write(`stored by ${names[outcome.provider]} at ${outcome.location}\n`);
      return 0;
    }
    const { made } = outcome;
    const { filename } = mainFileName({ template: v.name, title: '', pageUrl: url, sourceUrl: url, made });
    const file = await placement.move(outcome.url, outDir, filename);
    const subtitles: string[] = [];
    for (const s of made.subtitles) subtitles.push(await placement.move(s.url, outDir, subtitleFileName(file.slice(outDir.length + 1), s.language, s.container)));
    if (v.json) process.stdout.write(`${JSON.stringify({ file, bytes: outcome.bytes, provider: made.provider, format, subtitles })}\n`);
    else process.stderr.write(`saved ${file} (${formatBytes(outcome.bytes)}) via ${names[made.provider]}${subtitles.length ? ` + ${subtitles.length} subtitle file(s)` : ''}\n`);
    return 0;
  } catch (err) {
    progress.end();
    await placement.undo();
    const e = toVidmuxError(err, 'download_failed');
    process.stderr.write(`error: ${e.message.replace(/\s+/g, ' ')}${localSitesHint(e)} [${e.code}${e.status ? ` ${e.status}` : ''}]\n`);
    return e.code === 'cancelled' ? 130 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await outputs.release(jobId).catch(() => undefined);
  }
}

