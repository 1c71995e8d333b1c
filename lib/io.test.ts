import { describe, expect, it } from 'vitest';
import { BufferPool } from './io';

describe('BufferPool', () => {
  it('gives back a recycled buffer before making a new one', () => {
    const pool = new BufferPool(16);
    const a = pool.take();
    expect(a.byteLength).toBe(16);
    pool.recycle(a);
    expect(pool.take()).toBe(a);
    expect(pool.take()).not.toBe(a);
  });

  it('keeps no buffer of another size, nor a detached one', () => {
    const pool = new BufferPool(16);
    pool.recycle(new ArrayBuffer(8));
    const moved = pool.take();
    structuredClone(moved, { transfer: [moved] });
    expect(moved.byteLength).toBe(0);
    pool.recycle(moved);
    const fresh = pool.take();
    expect(fresh.byteLength).toBe(16);
    expect(fresh).not.toBe(moved);
  });

  it('keeps at most maxFree buffers for reuse', () => {
    const pool = new BufferPool(4, 2);
    const taken = [pool.take(), pool.take(), pool.take()];
    for (const b of taken) pool.recycle(b);
    const again = [pool.take(), pool.take(), pool.take()];
    expect(again.filter((b) => taken.includes(b))).toHaveLength(2);
  });
});
