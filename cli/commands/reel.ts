/**
 * `vidmux reel <file>... --category C --length SECONDS --aspect landscape|portrait|square
 *   [--music M] [--music-volume N] [--original-volume N] [--output-index N] --out DIR
 *   [--name TEMPLATE] [--json]`
 *
 * A VIDIO highlight reel of local videos (in the order given), with `VIDIO_API_KEY` and
 * `VIDIO_BASE_URL` (and `VIDIO_CONTRACT`, corrections to the inferred contract as JSON, and
 * `VIDIO_POLL_MS`, the inferred poll interval) from the environment: the files are uploaded, VIDIO analyses and renders, and
 * the reel is saved in --out, named by the template like any download. Progress (every stage, in
 * words) on stderr; with --json stdout gets exactly one object `{"file", "job_id", "outputs"}`.
 * Failure: exit 1, one line on stderr naming the cause, and no file left behind.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { toVidmuxError, VidmuxError } from '../../lib/errors';
import { isoDate, renderFilename } from '../../lib/filename';
import { formatBytes } from '../../lib/format';
import { NodeFileSource } from '../../lib/node/files';
import { NodeOutputs } from '../../lib/node/outputs';
import type { JobProgress } from '../../lib/progress';
import { VidioProvider } from '../../lib/providers/vidio';
import { DEFAULT_FILENAME_TEMPLATE, templateProblem } from '../../lib/schemas/filename-template';
import { ASPECT_RATIOS, MUSIC_CATEGORIES, ReelOptionsSchema, VIDEO_CATEGORIES, VidioContractOverrideSchema, type VidioContractOverride } from '../../lib/schemas/reel';
import { moveTo } from '../output-files';
import { ProgressLine } from '../progress-line';
import { cliHttp, ENV_NAMES } from '../providers-env';

const USAGE =
  'usage: vidmux reel <file>... --category C --length SECONDS --aspect landscape|portrait|square [--music M] [--music-volume N] [--original-volume N] [--output-index N] --out DIR [--name TEMPLATE] [--json]';

/** `VIDIO_CONTRACT` parsed and checked; a bad one is a clear error, not ignored. */
function contractFromEnv(raw: string | undefined): VidioContractOverride {
  if (!raw) return {};
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new VidmuxError('bad_input', 'VIDIO_CONTRACT is not JSON (e.g. {"keyHeader":"Authorization"}).');
  }
  const parsed = VidioContractOverrideSchema.strict().safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new VidmuxError('bad_input', `VIDIO_CONTRACT ${issue.path.join('.') || ''}: ${issue.message}.`);
  }
  return parsed.data;
}

/** Runs the command; resolves to the exit code (0 ok, 1 failure, 2 usage, 130 interrupted). */
export async function run(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        category: { type: 'string' },
        length: { type: 'string' },
        aspect: { type: 'string' },
        music: { type: 'string' },
        'music-volume': { type: 'string' },
        'original-volume': { type: 'string' },
        'output-index': { type: 'string' },
        out: { type: 'string' },
        name: { type: 'string', default: DEFAULT_FILENAME_TEMPLATE },
        json: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const v = args.values;
  const files = args.positionals;
  const num = (s: string | undefined) => (s === undefined ? undefined : /^\d+$/.test(s) ? Number(s) : NaN);
  const parsed = ReelOptionsSchema.safeParse({
    category: v.category,
    lengthSeconds: num(v.length),
    aspect: v.aspect,
    ...(v.music !== undefined ? { music: v.music } : {}),
    ...(v['music-volume'] !== undefined ? { musicVolume: num(v['music-volume']) } : {}),
    ...(v['original-volume'] !== undefined ? { originalVolume: num(v['original-volume']) } : {}),
    ...(v['output-index'] !== undefined ? { outputIndex: num(v['output-index']) } : {}),
  });
  const optionProblem = (path: string) =>
    ({
      category: `--category must be one of ${VIDEO_CATEGORIES.join(', ')}`,
      lengthSeconds: '--length takes whole seconds (1 to 3600)',
      aspect: `--aspect must be one of ${ASPECT_RATIOS.join(', ')}`,
      music: `--music must be one of ${MUSIC_CATEGORIES.join(', ')}`,
      musicVolume: '--music-volume takes 0 to 100',
      originalVolume: '--original-volume takes 0 to 100',
      outputIndex: '--output-index takes 0 or more',
    })[path] ?? `bad option ${path}`;
  const problem = !files.length
    ? 'give one or more video files'
    : !v.out
      ? '--out DIR is required'
      : !parsed.success
        ? optionProblem(String(parsed.error.issues[0]?.path[0] ?? ''))
        : templateProblem(v.name)
          ? `--name: ${templateProblem(v.name)}`
          : null;
  if (problem || !parsed.success || !v.out) {
    process.stderr.write(`error: ${problem}\n${USAGE}\n`);
    return 2;
  }
  const apiKey = process.env[ENV_NAMES.vidio.key] || null;
  if (!apiKey) {
    process.stderr.write(`error: ${ENV_NAMES.vidio.key} is not set [unauthorized]\n`);
    return 1;
  }
  const options = parsed.data;

  const ctrl = new AbortController();
  const onSignal = () => ctrl.abort(new VidmuxError('cancelled', 'Interrupted.'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const progress = new ProgressLine();
  const outDir = resolve(v.out);
  const outputs = new NodeOutputs(outDir, { sync: true });
  const jobId = randomUUID().slice(0, 8);
  try {
    const inputs = await Promise.all(
      files.map(async (path) => {
        const full = resolve(path);
        if (!(await stat(full).catch(() => null))?.isFile()) throw new VidmuxError('not_a_file', `Can't read ${path}: no such file.`);
        return { source: await NodeFileSource.open(full), name: basename(full) };
      }),
    );
    await mkdir(outDir, { recursive: true });
    // The inferred contract, corrected from the environment: VIDIO_CONTRACT (JSON: keyHeader,
    // uploadPath, reelsPath, jobPath, renderPath...) and VIDIO_POLL_MS (the poll interval).
    const pollMs = Number(process.env.VIDIO_POLL_MS);
    const vidio = new VidioProvider({
      apiKey,
      baseUrl: process.env[ENV_NAMES.vidio.baseUrl] || null,
      http: cliHttp,
      contract: { ...contractFromEnv(process.env.VIDIO_CONTRACT), ...(pollMs > 0 ? { pollIntervalMs: pollMs } : {}) },
    });
    const out = await outputs.create(jobId, 'reel');
    let result;
    try {
      result = await vidio.makeReel(inputs, options, {
        sink: out.sink,
        signal: ctrl.signal,
        onProgress: (p: JobProgress & { words?: string }) => progress.show(p.overall, p.words ? `${p.words}… ` : ''),
      });
    } catch (err) {
      await out.discard();
      throw err;
    }
    progress.end();
    const first = inputs[0]!.name.replace(/\.[^.]+$/, '');
    const title = `${first} (${options.aspect} reel, ${options.lengthSeconds} s)`;
    const filename = renderFilename(v.name, { title, host: 'vidio', date: isoDate(), provider: 'vidio', height: null, id: result.jobId, ext: 'mp4' });
    const file = await moveTo(await out.publish('video/mp4'), outDir, filename);
    if (v.json) process.stdout.write(`${JSON.stringify({ file, job_id: result.jobId, outputs: result.outputs })}\n`);
    else process.stderr.write(`saved ${file} (${formatBytes(result.bytes)}), VIDIO job ${result.jobId}\n`);
    return 0;
  } catch (err) {
    progress.end();
    const e = toVidmuxError(err, 'download_failed');
    process.stderr.write(`error: ${e.message.replace(/\s+/g, ' ')} [${e.code}${e.status ? ` ${e.status}` : ''}]\n`);
    return e.code === 'cancelled' ? 130 : 1;
  } finally {
    await outputs.release(jobId).catch(() => undefined);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
