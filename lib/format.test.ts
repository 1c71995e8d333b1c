import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration } from './format';

describe('formatBytes', () => {
  it('says sizes in decimal units, one digit more when precise', () => {
    expect([0, 999, 1536, 2_100_000, 123_456_789, 5e12, null].map((n) => formatBytes(n))).toEqual(['0 B', '999 B', '1.5 KB', '2.1 MB', '123 MB', '5.0 TB', '?']);
    expect([999, 2_100_000, 12_345_678].map((n) => formatBytes(n, { precise: true }))).toEqual(['999 B', '2.10 MB', '12.3 MB']);
  });
});

describe('formatDuration', () => {
  it('says minutes and seconds, with hours when there are some', () => {
    expect([0, 65, 3723.4, null, Number.NaN].map(formatDuration)).toEqual(['0:00', '1:05', '1:02:03', '', '']);
  });
});
