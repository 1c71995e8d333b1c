/**
 * `vidmux download <url> [--provider page|vidpickr|renderio|tornado]
 *   [--quality best|2160|1440|1080|720|480|360|audio] [--subs LANG] [--out DIR] [--json]
 *   [--connections N] [--chunk-size BYTES]`
 *
 * Resolves the URL with the first provider that can (keys from the environment, see
 * ../providers-env.ts), picks the format for --quality, downloads it (ranged, parallel, muxed
 * when video and audio come apart) and saves subtitles beside it. Progress on stderr; with --json
 * stdout gets exactly one object `{"file", "bytes", "provider", "format", "subtitles"}`.
 * Failure: exit 1 and one line on stderr naming each provider tried and why it failed.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { toVidmuxError, VidmuxError } from '../../lib/errors';
import { renderFilename } from '../../lib/filename';
import { downloadWithFallback } from '../../lib/providers/registry';
import { pickFormat, pickSubtitles } from '../../lib/providers/select';
import { QUALITIES, type Quality } from '../../lib/schemas/ids';
import type { Format } from '../../lib/providers/types';
import { NodeFileSink } from '../../lib/node/files';
import { formatBytes, ProgressLine } from '../progress-line';
import { providersFromEnv } from '../providers-env';

const USAGE =
  'usage: vidmux download <url> [--provider page|vidpickr|renderio|tornado] [--quality best|2160|1440|1080|720|480|360|audio] [--subs LANG] [--out DIR] [--json] [--connections N] [--chunk-size BYTES]';

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
        subs: { type: 'string', multiple: true },
        out: { type: 'string' },
        json: { type: 'boolean', default: false },
        connections: { type: 'string' },
        'chunk-size': { type: 'string' },
      },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const url = args.positionals[0];
  const quality = args.values.quality as Quality;
  const connections = args.values.connections === undefined ? undefined : Number(args.values.connections);
  const chunkSize = args.values['chunk-size'] === undefined ? undefined : Number(args.values['chunk-size']);
  if (
    !url ||
    args.positionals.length > 1 ||
    !/^https?:\/\//i.test(url) ||
    !(QUALITIES as readonly string[]).includes(quality) ||
    (connections !== undefined && !(connections >= 1 && connections <= 10)) ||
    (chunkSize !== undefined && !(chunkSize >= 1))
  ) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const languages = (args.values.subs ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);

  const ctrl = new AbortController();
  const onSignal = () => ctrl.abort(new VidmuxError('cancelled', 'Interrupted.'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const progress = new ProgressLine();
  const outDir = resolve(args.values.out ?? '.');
  // Bytes go to hidden temporary names; only a complete download is renamed to its real name.
  const temps: string[] = [];
  const temp = (suffix: string) => {
    const path = join(outDir, `.vidmux-${randomUUID().slice(0, 8)}${suffix}`);
    temps.push(path);
    return path;
  };
  let mainTemp: string | null = null;
  let lastFailure = '';
  const subTemps: Array<{ path: string; format: Format }> = [];
  try {
    const providers = providersFromEnv(args.values.provider, { ...(connections ? { connections } : {}), ...(chunkSize ? { chunkSize } : {}) });
    await mkdir(outDir, { recursive: true });
    const outcome = await downloadWithFallback(
      url,
      providers,
      (info) => ({ format: pickFormat(info.formats, quality), subtitles: pickSubtitles(info.subtitles, languages) }),
      {
        signal: ctrl.signal,
        onProgress: (p) => progress.show(p.overall, p.stage === 'resolving' ? 'provider working… ' : ''),
        target: {
          media: async () => new NodeFileSink((mainTemp = temp('.download')), { sync: true }),
          subtitle: async (format) => {
            const path = temp(`.${format.container}.download`);
            subTemps.push({ path, format });
            return new NodeFileSink(path, { sync: true });
          },
        },
      },
      // Say so when falling back; if all fail, the final error line names every provider anyway.
      {
        onFailure: (p, e) => (lastFailure = `${p.displayName} failed (${e.message})`),
        onAttempt: (p) => lastFailure && progress.note(`${lastFailure}; trying ${p.displayName}…`),
      },
    );
    progress.end();
    const { result, info, provider, choice } = outcome;
    if (result.remoteLocation) {
      const out = { file: null, bytes: result.bytes, provider: provider.id, format: choice.format, subtitles: [], location: result.remoteLocation };
      if (args.values.json) process.stdout.write(`${JSON.stringify(out)}\n`);
      else process.stderr.write(`stored by ${provider.displayName} at ${result.remoteLocation}\n`);
      return 0;
    }
    const name = renderFilename('{title}.{ext}', { title: info.title, ext: choice.format.container });
    const file = freeName(outDir, name);
    await rename(mainTemp!, file);
    const stem = file.replace(/\.[^./]+$/, '');
    const subtitles: string[] = [];
    for (const s of subTemps) {
      if (!existsSync(s.path)) continue;
      const path = freeName(outDir, `${stem.split('/').pop()}.${(s.format.language ?? 'und').replace(/[^\w-]/g, '')}.${s.format.container}`);
      await rename(s.path, path);
      subtitles.push(path);
    }
    if (args.values.json) process.stdout.write(`${JSON.stringify({ file, bytes: result.bytes, provider: provider.id, format: choice.format, subtitles })}\n`);
    else process.stderr.write(`saved ${file} (${formatBytes(result.bytes)}) via ${provider.displayName}${subtitles.length ? ` + ${subtitles.length} subtitle file(s)` : ''}\n`);
    return 0;
  } catch (err) {
    progress.end();
    const e = toVidmuxError(err, 'download_failed');
    process.stderr.write(`error: ${e.message.replace(/\s+/g, ' ')} [${e.code}${e.status ? ` ${e.status}` : ''}]\n`);
    return e.code === 'cancelled' ? 130 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await Promise.all(temps.map((t) => rm(t, { force: true })));
  }
}

/** `dir/name`, or `dir/name (1).ext` etc. when that exists: never overwrite a file. */
function freeName(dir: string, name: string): string {
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  for (let i = 0; ; i++) {
    const candidate = join(dir, i === 0 ? name : `${stem} (${i})${ext}`);
    if (!existsSync(candidate)) return candidate;
  }
}
