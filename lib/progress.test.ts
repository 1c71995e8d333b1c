import { describe, expect, it } from 'vitest';
import { combineProgress, ProgressMeter } from './progress';

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
