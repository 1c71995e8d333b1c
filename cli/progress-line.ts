/** Progress on stderr for CLI commands: one rewritten line on a terminal, a line every 2 s otherwise. */
import { formatBytes, formatDuration } from '../lib/format';
import { progressFraction, type Progress } from '../lib/progress';

const precise = (n: number) => formatBytes(n, { precise: true });

export class ProgressLine {
  private readonly tty = process.stderr.isTTY === true;
  private lastPrint = 0;
  private shown = false;

  show(p: Progress, prefix = ''): void {
    const now = Date.now();
    const fraction = progressFraction(p);
    if (!this.tty && now - this.lastPrint < 2000 && fraction !== 1) return;
    this.lastPrint = now;
    const pct = fraction === null ? '' : `${(100 * fraction).toFixed(1)}% `;
    // A stream's size is known only at its end: its segments say how far along it is.
    const total = p.bytesTotal !== null ? ` of ${precise(p.bytesTotal)}` : p.segments ? ` (${p.segments.done}/${p.segments.total} segments)` : '';
    const eta = p.etaSeconds === null ? '' : `  ETA ${formatDuration(p.etaSeconds)}`;
    const line = `${prefix}${pct}${precise(p.bytesDone)}${total}  ${precise(p.speedBps)}/s${eta}`;
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
