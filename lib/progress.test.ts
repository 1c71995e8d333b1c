import { describe, expect, it } from 'vitest';
import { combineProgress, EMPTY_PROGRESS, ProgressMeter, progressFraction, TrackProgress } from './progress';

function clock(start = 1000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('ProgressMeter', () => {
  it('measures speed over the last 2 seconds and derives the ETA', () => {
    const c = clock();
    const m = new ProgressMeter(10_000, c.now);
    for (let i = 0; i < 10; i++) {
      c.advance(500);
      m.add(500); // 1000 B/s
    }
    const s = m.snapshot();
    expect(s.bytesDone).toBe(5000);
    expect(s.speedBps).toBeCloseTo(1000, 0);
    expect(s.etaSeconds).toBeCloseTo(5, 1);
  });

  it('forgets speed older than the window', () => {
    const c = clock();
    const m = new ProgressMeter(null, c.now);
    c.advance(500);
    m.add(1_000_000); // a burst
    for (let i = 0; i < 10; i++) {
      c.advance(500);
      m.add(100); // then 200 B/s
    }
    expect(m.snapshot().speedBps).toBeCloseTo(200, 0);
    expect(m.snapshot().etaSeconds).toBeNull();
    expect(m.snapshot().bytesTotal).toBeNull();
  });

  it('emits at most 10 times a second unless forced', () => {
    const c = clock();
    const m = new ProgressMeter(100, c.now);
    expect(m.throttled()).not.toBeNull();
    c.advance(50);
    expect(m.throttled()).toBeNull();
    expect(m.throttled(true)).not.toBeNull();
    c.advance(100);
    expect(m.throttled()).not.toBeNull();
  });

  it('reports ETA 0 when done', () => {
    const m = new ProgressMeter(10);
    m.set(10);
    expect(m.snapshot().etaSeconds).toBe(0);
  });
});

describe('combineProgress', () => {
  it('sums tracks; the total is unknown if any track total is', () => {
    const a = { bytesDone: 10, bytesTotal: 100, speedBps: 5, etaSeconds: 18 };
    const b = { bytesDone: 30, bytesTotal: 50, speedBps: 5, etaSeconds: 4 };
    expect(combineProgress([a, b])).toEqual({ bytesDone: 40, bytesTotal: 150, speedBps: 10, etaSeconds: 11 });
    expect(combineProgress([a, { ...b, bytesTotal: null }]).bytesTotal).toBeNull();
  });
});

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

describe('TrackProgress', () => {
  it('sums its tracks into one job progress on every change, and moves stages', () => {
    const seen: import('./progress').JobProgress[] = [];
    const p = new TrackProgress((x) => seen.push(x), ['video', 'audio']);
    expect(p.current).toEqual({ stage: 'downloading', tracks: { video: EMPTY_PROGRESS, audio: EMPTY_PROGRESS }, overall: { ...EMPTY_PROGRESS, bytesTotal: null } });
    p.set('video', { bytesDone: 10, bytesTotal: 100, speedBps: 5, etaSeconds: 18 });
    p.set('audio', { bytesDone: 5, bytesTotal: 50, speedBps: 5, etaSeconds: 9 });
    expect(seen.at(-1)!.overall).toEqual({ bytesDone: 15, bytesTotal: 150, speedBps: 10, etaSeconds: 13.5 });
    p.setStage('muxing');
    expect(seen.at(-1)).toMatchObject({ stage: 'muxing', tracks: { video: { bytesDone: 10 }, audio: { bytesDone: 5 } } });
    expect(seen).toHaveLength(3);
    // A track that was not declared joins the sum.
    p.set('subtitle', { bytesDone: 1, bytesTotal: 1, speedBps: 0, etaSeconds: 0 });
    expect(seen.at(-1)!.overall.bytesTotal).toBe(151);
  });
});

describe('progressFraction', () => {
  it('by bytes when the total is known, else by segments (a stream), else unknown', () => {
    expect(progressFraction({ ...EMPTY_PROGRESS, bytesDone: 25, bytesTotal: 100 })).toBe(0.25);
    expect(progressFraction({ ...EMPTY_PROGRESS, bytesDone: 5_000_000, segments: { done: 3, total: 12 } })).toBe(0.25);
    expect(progressFraction({ ...EMPTY_PROGRESS, bytesDone: 5 })).toBeNull();
    // Two tracks of a stream: their segments add up.
    const both = combineProgress([
      { ...EMPTY_PROGRESS, bytesDone: 10, segments: { done: 2, total: 4 } },
      { ...EMPTY_PROGRESS, bytesDone: 1, segments: { done: 4, total: 4 } },
    ]);
    expect(progressFraction(both)).toBe(0.75);
  });
});
