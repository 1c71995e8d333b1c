/** The progress math the network engine relies on (lib/progress.ts), driven by a fake clock. */
import { describe, expect, it } from 'vitest';
import { ProgressMeter, combineProgress } from '../progress';

describe('ProgressMeter as used by downloads', () => {
  it('measures speed over the last 2 s and derives the ETA from it', () => {
    let t = 0;
    const m = new ProgressMeter(10_000_000, () => t);
    // 1 MB/s for 5 s, then 4 MB/s for 2 s: the speed must show the recent 4 MB/s, not the average.
    for (let i = 0; i < 50; i++) {
      t += 100;
      m.add(100_000);
    }
    expect(m.snapshot().speedBps).toBeCloseTo(1_000_000, -3);
    for (let i = 0; i < 20; i++) {
      t += 100;
      m.add(400_000);
    }
    const p = m.snapshot();
    expect(p.bytesDone).toBe(13_000_000);
    expect(p.speedBps).toBeGreaterThan(3_800_000);
    expect(p.speedBps).toBeLessThanOrEqual(4_000_000);
    expect(p.etaSeconds).toBe(0); // more than the total is done
  });

  it('gives an ETA of remaining / speed, and null while the total or speed is unknown', () => {
    let t = 0;
    const m = new ProgressMeter(null, () => t);
    expect(m.snapshot().etaSeconds).toBeNull();
    t = 1000;
    m.add(2_000_000);
    expect(m.snapshot().etaSeconds).toBeNull();
    m.setTotal(10_000_000);
    expect(m.snapshot().etaSeconds).toBeCloseTo(4, 5); // 8 MB left at 2 MB/s
  });

  it('emits at most 10 times a second, and always when forced', () => {
    let t = 0;
    const m = new ProgressMeter(1000, () => t);
    let emitted = 0;
    for (let i = 0; i < 1000; i++) {
      t += 1; // 1000 updates within 1 s
      m.add(1);
      if (m.throttled()) emitted++;
    }
    expect(emitted).toBeLessThanOrEqual(10);
    expect(m.throttled(true)).toMatchObject({ bytesDone: 1000, bytesTotal: 1000, etaSeconds: 0 });
  });

  it('sums tracks into the job total', () => {
    const p = combineProgress([
      { bytesDone: 10, bytesTotal: 100, speedBps: 5, etaSeconds: 18 },
      { bytesDone: 20, bytesTotal: 50, speedBps: 5, etaSeconds: 6 },
    ]);
    expect(p).toEqual({ bytesDone: 30, bytesTotal: 150, speedBps: 10, etaSeconds: 12 });
  });
});
