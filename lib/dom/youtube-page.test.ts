import { describe, expect, it } from 'vitest';
import { buttonKind } from './youtube-page';

describe('YouTube pages', () => {
  it('picks the button a page gets', () => {
    expect(buttonKind('https://www.youtube.com/watch?v=dQw4w9WgXcQ')).toBe('youtube');
    expect(buttonKind('https://www.youtube.com/shorts/dQw4w9WgXcQ')).toBe('youtube');
    expect(buttonKind('https://youtu.be/dQw4w9WgXcQ')).toBe('youtube');
    expect(buttonKind('https://www.youtube.com/playlist?list=PLvidmux0001')).toBe('over-video');
    expect(buttonKind('https://www.youtube.com/')).toBe('none');
    expect(buttonKind('https://www.youtube.com/results?search_query=x')).toBe('none');
    expect(buttonKind('http://127.0.0.1:8080/watch/plain.html')).toBe('over-video');
    expect(buttonKind('https://vimeo.com/123')).toBe('over-video');
  });
});
