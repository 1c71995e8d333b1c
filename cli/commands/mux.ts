/**
 * `vidmux mux --video V --audio A --out O [--title T] [--container mp4|webm]`: the media engine on
 * local files (MP4, MPEG-TS or WebM inputs). Either input may be left out. The output is MP4, or
 * WebM with `--container webm` or an `--out` ending in .webm. Prints one JSON line (output path, bytes, streams, duration) on
 * stdout; on failure prints one `error: ...` line on stderr and exits non-zero. The output is
 * written as `<out>.part` and renamed when complete; every failure, and Ctrl-C (exit 130),
 * removes it, so `--out` is either the finished file or not there.
 */
import { stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { toVidmuxError, VidmuxError } from '../../lib/errors';
import { remux } from '../../lib/media';
import { NodeFileSink, NodeFileSource } from '../../lib/node/files';

const USAGE = 'usage: vidmux mux [--video FILE] [--audio FILE] --out FILE [--title TEXT] [--container mp4|webm]';

/** Runs the command; resolves to the process exit code (0 ok, 1 failed, 2 usage). */
export async function run(argv: string[]): Promise<number> {
  let values: { video?: string; audio?: string; out?: string; title?: string; container?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        video: { type: 'string' },
        audio: { type: 'string' },
        out: { type: 'string', short: 'o' },
        title: { type: 'string' },
        container: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.out || (!values.video && !values.audio)) {
    process.stderr.write(`error: ${!values.out ? '--out is required' : 'give --video, --audio or both'}\n${USAGE}\n`);
    return 2;
  }
  const out = resolve(values.out);
  // The container follows --container, else the output's extension; the two must not disagree.
  const byName = /\.webm$/i.test(out) ? 'webm' : /\.(mp4|m4a|m4v|mov)$/i.test(out) ? 'mp4' : null;
  const container = values.container ?? byName ?? 'mp4';
  if (container !== 'mp4' && container !== 'webm') {
    process.stderr.write(`error: --container must be mp4 or webm\n${USAGE}\n`);
    return 2;
  }
  if (byName && byName !== container) {
    process.stderr.write(`error: --container ${container} does not match the output name ${values.out}\n${USAGE}\n`);
    return 2;
  }
  // An --out that names a directory is refused here, as a usage error, rather than left to fail
  // at the final rename: it is a mistake in the arguments, known before the inputs are read, and
  // that rename comes only after the whole mux (minutes of a large input) has been written. (Were
  // the directory made meanwhile, the failed rename still removes the part file: NodeFileSink.)
  if (values.out.endsWith('/') || values.out.endsWith(sep) || (await stat(out).catch(() => null))?.isDirectory()) {
    process.stderr.write(`error: --out ${values.out} is a directory; give the output file's name\n${USAGE}\n`);
    return 2;
  }
  const ctrl = new AbortController();
  const onSignal = () => ctrl.abort(new VidmuxError('cancelled', 'Interrupted.'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const open = async (path: string | undefined, kind: string) => {
      if (!path) return undefined;
      try {
        return await NodeFileSource.open(path);
      } catch (err) {
        throw new VidmuxError('not_a_file', `Can't read the ${kind} input ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}.`);
      }
    };
    const [video, audio] = await Promise.all([open(values.video, 'video'), open(values.audio, 'audio')]);
    const summary = await remux({
      ...(video ? { video } : {}),
      ...(audio ? { audio } : {}),
      ...(values.title !== undefined ? { title: values.title } : {}),
      container,
      sink: new NodeFileSink(out),
      signal: ctrl.signal,
    });
    process.stdout.write(
      `${JSON.stringify({ output: out, container: summary.container, bytes: summary.bytes, duration: summary.durationSeconds, ...(summary.title ? { title: summary.title } : {}), streams: summary.streams })}\n`,
    );
    return 0;
  } catch (err) {
    const e = toVidmuxError(err);
    process.stderr.write(`error: ${e.message.replace(/\s+/g, ' ')} (${e.code})\n`);
    return e.code === 'cancelled' ? 130 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
