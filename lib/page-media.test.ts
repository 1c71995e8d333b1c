import { describe, expect, it } from 'vitest';
import { extensionFor } from './media-types';
import { classifyUrl } from './page-media';

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
