import { describe, expect, it } from 'vitest';
import { joinWebVtt } from './webvtt';

describe('joinWebVtt', () => {
  it('joins segments into one file, a cue spanning a boundary kept once, ids and settings kept', () => {
    const a = 'WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\n\n1\n00:00:01.000 --> 00:00:03.500 align:start\nHello\n\n00:00:05.000 --> 00:00:07.000\nSpans the boundary\n';
    const b = 'WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\n\n00:00:05.000 --> 00:00:07.000\nSpans the boundary\n\nNOTE a comment\n\n00:00:07.500 --> 00:00:09.000\nTwo\nlines\n';
    expect(joinWebVtt([a, b])).toBe(
      'WEBVTT\n\n1\n00:00:01.000 --> 00:00:03.500 align:start\nHello\n\n00:00:05.000 --> 00:00:07.000\nSpans the boundary\n\n00:00:07.500 --> 00:00:09.000\nTwo\nlines\n',
    );
  });

  it('a segment whose X-TIMESTAMP-MAP moves its clock is placed on the first one’s timeline', () => {
    const a = 'WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n\n00:00.000 --> 00:01.000\nA\n';
    // Its cue times count from 0 again, but its MPEG-TS time is 10 s later.
    const b = '\uFEFFWEBVTT\r\nX-TIMESTAMP-MAP=LOCAL:00:00:00.000,MPEGTS:1026000\r\n\r\n00:00.500 --> 00:01.500\r\nB\r\n';
    expect(joinWebVtt([a, b])).toBe('WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nA\n\n00:00:10.500 --> 00:00:11.500\nB\n');
  });

  it('what is not WebVTT is refused with its place', () => {
    expect(() => joinWebVtt(['WEBVTT\n', '<html>'])).toThrow(expect.objectContaining({ code: 'bad_response', message: expect.stringMatching(/segment 2/) }));
  });
});
