/** Sizes and durations as people read them: the popup, the buttons and the CLI say them the same way. */

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/**
 * 1536 -> "1.5 KB" (decimal units, as browsers' download UIs show). `precise` keeps one more digit
 * ("2.10 MB"), for the CLI's progress line, where a changing last digit shows progress.
 */
export function formatBytes(n: number | null | undefined, opts: { precise?: boolean } = {}): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '?';
  let v = n;
  let i = 0;
  while (v >= 1000 && i < UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  if (i === 0) return `${Math.round(v)} ${UNITS[i]}`;
  if (opts.precise) return `${v.toFixed(v < 10 ? 2 : 1)} ${UNITS[i]}`;
  return `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${UNITS[i]}`;
}

/** Seconds -> "1:05" or "1:02:03"; null -> "". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** A size limit: "2 GB" rather than "2.0 GB". */
export function formatLimit(bytes: number): string {
  return formatBytes(bytes).replace(/\.0 /, ' ');
}

/** A wait or a time limit, in milliseconds: "40 s", "2.5 min", "1.5 h". */
export function formatWait(ms: number): string {
  if (ms >= 3600_000) return `${Math.round(ms / 360_000) / 10} h`;
  if (ms >= 60_000) return `${Math.round(ms / 6000) / 10} min`;
  return `${Math.round(ms / 100) / 10} s`;
}

/** A name (of a file) set off in a sentence: “match.mp4”. */
export function quoted(name: string): string {
  return `“${name}”`;
}
