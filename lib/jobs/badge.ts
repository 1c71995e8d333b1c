import type { Job } from '../schemas/job';
import { FINISHED_STAGES } from '../schemas/progress';

/** The toolbar badge: the percent of the only running download, else how many run; empty when none. */
export function badgeText(jobs: Job[]): string {
  const active = jobs.filter((j) => !FINISHED_STAGES.has(j.progress.stage));
  if (active.length > 1) return String(active.length);
  if (active.length === 0) return '';
  const p = active[0]!.progress.overall;
  return p.bytesTotal ? `${Math.min(99, Math.floor((100 * p.bytesDone) / p.bytesTotal))}%` : '…';
}
