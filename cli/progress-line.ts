/** Progress on stderr for CLI commands: one rewritten line on a terminal, a line every 2 s otherwise. */
import type { Progress } from '../lib/progress';

export class ProgressLine {
  private readonly tty = process.stderr.isTTY === true;
  private lastPrint = 0;
  private shown = false;

  show(p: Progress, prefix = ''): void {
    const now = Date.now();
    if (!this.tty && now - this.lastPrint < 2000 && p.bytesDone !== p.bytesTotal) return;
    this.lastPrint = now;
    const pct = p.bytesTotal ? `${((100 * p.bytesDone) / p.bytesTotal).toFixed(1)}% ` : '';
    const total = p.bytesTotal === null ? '' : ` of ${formatBytes(p.bytesTotal)}`;
    const eta = p.etaSeconds === null ? '' : `  ETA ${formatDuration(p.etaSeconds)}`;
    const line = `${prefix}${pct}${formatBytes(p.bytesDone)}${total}  ${formatBytes(p.speedBps)}/s${eta}`;
    if (this.tty) process.stderr.write(`\r\x1b[K${line}`);
    else process.stderr.write(`${line}\n`);
    this.shown = true;
  }

  /** A line of its own (e.g. "trying RenderIO"), keeping the progress line intact. */
  note(text: string): void {
    this.end();
    process.stderr.write(`${text}\n`);
  }

  end(): void {
    if (this.tty && this.shown) process.stderr.write('\n');
    this.shown = false;
  }
}

export function formatBytes(n: number): string {
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

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}
