/**
 * `vidmux download <url> [--out DIR] [--json] [--connections N] [--chunk-size BYTES]`:
 * a ranged, resumable download of one media file through the network engine.
 * Progress goes to stderr; with --json stdout gets exactly `{"file": path, "bytes": n}`.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { VidmuxError, toVidmuxError } from '../../lib/errors';
import { openRangedSource } from '../../lib/net/ranged-fetch';
import { copyToSink } from '../../lib/net/save';
import type { Progress } from '../../lib/progress';
import { NodeFileSink } from '../node-file-sink';

const USAGE = 'usage: vidmux download <url> [--out DIR] [--json] [--connections N] [--chunk-size BYTES]';

/** Runs the command; resolves to the exit code (0 ok, 1 failure, 2 usage, 130 interrupted). */
export async function run(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
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
  if (!url || args.positionals.length > 1 || !/^https?:\/\//i.test(url)) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const connections = args.values.connections === undefined ? undefined : Number(args.values.connections);
  const chunkSize = args.values['chunk-size'] === undefined ? undefined : Number(args.values['chunk-size']);
  if ((connections !== undefined && !(connections >= 1)) || (chunkSize !== undefined && !(chunkSize >= 1))) {
    process.stderr.write(`--connections and --chunk-size take positive numbers\n${USAGE}\n`);
    return 2;
  }

  const ctrl = new AbortController();
  const onSignal = () => ctrl.abort(new VidmuxError('cancelled', 'Interrupted.'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const progress = new ProgressLine();
  try {
    const outDir = resolve(args.values.out ?? '.');
    await mkdir(outDir, { recursive: true });
    const source = await openRangedSource(url, {
      signal: ctrl.signal,
      onProgress: (p) => progress.show(p),
      ...(connections === undefined ? {} : { connections }),
      ...(chunkSize === undefined ? {} : { chunkSize }),
    });
    const file = freeName(outDir, fileNameFromUrl(url));
    const bytes = await copyToSink(source, new NodeFileSink(file), { signal: ctrl.signal });
    progress.end();
    if (args.values.json) process.stdout.write(`${JSON.stringify({ file, bytes })}\n`);
    else process.stderr.write(`saved ${file} (${formatBytes(bytes)})\n`);
    return 0;
  } catch (err) {
    progress.end();
    const e = toVidmuxError(err, 'download_failed');
    process.stderr.write(`error: ${e.message.replace(/\s+/g, ' ')} [${e.code}${e.status ? ` ${e.status}` : ''}]\n`);
    return e.code === 'cancelled' ? 130 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The last path segment of the URL, made safe as a file name. */
export function fileNameFromUrl(url: string): string {
  let name = '';
  try {
    name = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
  } catch {
    /* fall through to the default */
  }
  name = name.replace(/[\\/:*?"<>|\u0000-\u001f]/g, '_').replace(/^\.+/, '').slice(0, 200);
  return name || 'download';
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

/** Progress on stderr: one rewritten line on a terminal, a line every 2 s otherwise. */
class ProgressLine {
  private readonly tty = process.stderr.isTTY === true;
  private lastPrint = 0;
  private shown = false;

  show(p: Progress): void {
    const now = Date.now();
    if (!this.tty && now - this.lastPrint < 2000 && p.bytesDone !== p.bytesTotal) return;
    this.lastPrint = now;
    const pct = p.bytesTotal ? `${((100 * p.bytesDone) / p.bytesTotal).toFixed(1)}% ` : '';
    const total = p.bytesTotal === null ? '' : ` of ${formatBytes(p.bytesTotal)}`;
    const eta = p.etaSeconds === null ? '' : `  ETA ${formatDuration(p.etaSeconds)}`;
    const line = `${pct}${formatBytes(p.bytesDone)}${total}  ${formatBytes(p.speedBps)}/s${eta}`;
    if (this.tty) process.stderr.write(`\r\x1b[K${line}`);
    else process.stderr.write(`${line}\n`);
    this.shown = true;
  }

  end(): void {
    if (this.tty && this.shown) process.stderr.write('\n');
    this.shown = false;
  }
}

function formatBytes(n: number): string {
  if (n < 1000) return `${Math.round(n)} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  do {
    v /= 1000;
    u++;
  } while (v >= 1000 && u < units.length - 1);
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}
