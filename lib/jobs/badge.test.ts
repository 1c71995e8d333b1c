import { describe, expect, it } from 'vitest';
import { badgeText } from './badge';
import type { Job } from '../schemas/job';
import type { JobStage } from '../schemas/progress';
import { newJob } from './job';

const job = (stage: JobStage, done = 0, total: number | null = null): Job => ({
  ...newJob({ id: Math.random().toString(), tabId: 1, pageUrl: '', title: '', filename: '', sourceUrl: '', provider: 'page' }),
  progress: { stage, tracks: {}, overall: { bytesDone: done, bytesTotal: total, speedBps: 0, etaSeconds: null } },
});

describe('badgeText', () => {
  it('is empty with nothing running, a percent for one, a count for several', () => {
    expect(badgeText([])).toBe('');
    expect(badgeText([job('done'), job('failed')])).toBe('');
    expect(badgeText([job('downloading', 250, 1000)])).toBe('25%');
    expect(badgeText([job('downloading', 1000, 1000)])).toBe('99%');
    expect(badgeText([job('resolving')])).toBe('…');
    expect(badgeText([job('downloading', 1, 2), job('saving', 1, 2), job('done')])).toBe('2');
  });
});
