/**
 * `vidmux info <url> [--provider page|vidpickr|renderio|tornado] [--json]`: what can be downloaded
 * from a URL, from the first provider that resolves it. `--json` prints exactly one object: the
 * media info with its formats (plus `attempts`, the providers tried before it and why they failed).
 */
import { parseArgs } from 'node:util';
import { toVidmuxError } from '../../lib/errors';
import { resolveWithFallback } from '../../lib/providers/registry';
import { formatBytes, formatDuration } from '../../lib/format';
import { planFormat } from '../../lib/jobs/choose-format';
import { localSitesHint, providersFor, setupsFromEnv } from '../providers-env';

const USAGE = 'usage: vidmux info <url> [--provider page|vidpickr|renderio|tornado] [--json]';

export async function run(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, allowPositionals: true, options: { provider: { type: 'string' }, json: { type: 'boolean', default: false } } });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const url = args.positionals[0];
  if (!url || args.positionals.length > 1 || !/^https?:\/\//i.test(url)) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  try {
    const { info: resolved, attempts } = await resolveWithFallback(url, providersFor(setupsFromEnv(args.values.provider)));
    // What the provider keeps to download without resolving again is its own business.
    const { resolved: _private, ...info } = resolved;
    if (args.values.json) {
      process.stdout.write(`${JSON.stringify({ ...info, attempts })}\n`);
      return 0;
    }
    const lines = [
      `${info.title}${info.durationSeconds ? ` (${formatDuration(info.durationSeconds)})` : ''}`,
      `provider: ${info.provider}${attempts.length > 1 ? `  (${attempts.filter((a) => a.error).map((a) => `${a.provider}: ${a.error!.message}`).join('; ')})` : ''}`,
      // The chooser's plan with default preferences: which sound goes with a video, and the container.
      ...info.formats.map((f) => `  ${f.label.padEnd(36)} ${planFormat(info, f).note.padEnd(26)} ${f.delivery.padEnd(6)} ${f.approxBytes ? `~${formatBytes(f.approxBytes)}` : ''}  ${f.id}`),
      ...info.subtitles.map((s) => `  ${s.label}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } catch (err) {
    const e = toVidmuxError(err);
    process.stderr.write(`error: ${e.message.replace(/\s+/g, ' ')}${localSitesHint(e)} [${e.code}${e.status ? ` ${e.status}` : ''}]\n`);
    return 1;
  }
}
