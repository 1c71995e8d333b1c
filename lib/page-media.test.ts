import { describe, expect, it } from 'vitest';
import { VidmuxError } from './errors';
import { classifyUrl, extensionFor, planPageDownload, type MediaCandidate } from './page-media';

const media = (over: Partial<MediaCandidate> = {}): MediaCandidate => ({
  id: 'v1',
  kind: 'file',
  src: 'https://cdn.example.com/v/clip.mp4?sig=1',
  mimeType: null,
  width: 1280,
  height: 720,
  duration: 12,
  ...over,
});

describe('classifyUrl', () => {
  it.each([
    ['https://a.com/x.mp4', null, 'file'],
    ['http://a.com/stream', 'video/mp4', 'file'],
    ['https://a.com/master.m3u8?x=1', null, 'manifest'],
    ['https://a.com/manifest', 'application/dash+xml', 'manifest'],
    ['https://a.com/x.mpd', null, 'manifest'],
    ['blob:https://a.com/0b1c', null, 'blob'],
    ['data:video/mp4;base64,AAAA', null, 'none'],
    ['', null, 'none'],
    ['not a url', null, 'none'],
  ] as const)('%s (%s) -> %s', (src, type, kind) => {
    expect(classifyUrl(src, type)).toBe(kind);
  });
});

describe('extensionFor', () => {
  it('prefers the URL path, then the MIME type, then mp4', () => {
    expect(extensionFor('https://a.com/x.webm?y=.mp4', null)).toBe('webm');
    expect(extensionFor('https://a.com/videoplayback', 'video/webm')).toBe('webm');
    expect(extensionFor('https://a.com/videoplayback', 'audio/mp4')).toBe('m4a');
    expect(extensionFor('https://a.com/videoplayback', null)).toBe('mp4');
  });
});

describe('planPageDownload', () => {
  const page = { title: 'Holiday: part 1/3 - YouTube', url: 'https://www.example.com/watch?v=1' };
  it('names the file from the page title through the template', () => {
    const plan = planPageDownload(media(), page, '{title}.{ext}');
    expect(plan).toEqual({ url: 'https://cdn.example.com/v/clip.mp4?sig=1', filename: 'Holiday - part 1-3.mp4', title: 'Holiday: part 1/3' });
    expect(planPageDownload(media(), page, '{host}/{title} {height}p.{ext}', new Date(2026, 0, 2)).filename).toBe('www.example.com/Holiday - part 1-3 720p.mp4');
  });
  it('falls back to the file name when the page has no title', () => {
    expect(planPageDownload(media(), { title: '', url: 'https://x.com/' }, '{title}.{ext}').filename).toBe('clip.mp4');
  });
  it.each(['blob', 'mediasource', 'manifest', 'none'] as const)('refuses a %s source with a not_a_file error', (kind) => {
    let err: unknown;
    try {
      planPageDownload(media({ kind }), page, '{title}.{ext}');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VidmuxError);
    expect((err as VidmuxError).code).toBe('not_a_file');
    expect((err as VidmuxError).message).toMatch(/not a file|no source/);
  });
});
