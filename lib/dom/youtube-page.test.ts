import { describe, expect, it } from 'vitest';
import { buttonKind, isYouTubeUrl, youtubePageKind, youtubeVideoKey, youtubeVideoPage } from './youtube-page';

describe('YouTube pages', () => {
  it('knows YouTube’s hosts and nothing else', () => {
    for (const url of ['https://www.youtube.com/', 'https://youtube.com/watch?v=dQw4w9WgXcQ', 'https://m.youtube.com/', 'https://music.youtube.com/watch?v=dQw4w9WgXcQ', 'https://youtu.be/dQw4w9WgXcQ']) {
      expect(isYouTubeUrl(url), url).toBe(true);
    }
    for (const url of ['https://www.youtube.com.evil.example/watch?v=dQw4w9WgXcQ', 'https://notyoutube.com/watch?v=dQw4w9WgXcQ', 'https://example.com/?u=https://www.youtube.com/', 'ftp://www.youtube.com/', 'not a url', '']) {
      expect(isYouTubeUrl(url), url).toBe(false);
    }
  });

  it('finds the video of watch, shorts, live and youtu.be pages', () => {
    expect(youtubeVideoPage('https://www.youtube.com/watch?v=dQw4w9WgXcQ')).toEqual({ kind: 'watch', videoId: 'dQw4w9WgXcQ' });
    expect(youtubeVideoPage('https://www.youtube.com/watch?app=desktop&v=M7lc1UVf-VE&t=42s&list=PL1')).toEqual({ kind: 'watch', videoId: 'M7lc1UVf-VE' });
    expect(youtubeVideoPage('https://www.youtube.com/shorts/dQw4w9WgXcQ')).toEqual({ kind: 'shorts', videoId: 'dQw4w9WgXcQ' });
    expect(youtubeVideoPage('https://www.youtube.com/shorts/dQw4w9WgXcQ/')).toEqual({ kind: 'shorts', videoId: 'dQw4w9WgXcQ' });
    expect(youtubeVideoPage('https://www.youtube.com/live/dQw4w9WgXcQ?si=x')).toEqual({ kind: 'watch', videoId: 'dQw4w9WgXcQ' });
    expect(youtubeVideoPage('https://youtu.be/dQw4w9WgXcQ?t=3')).toEqual({ kind: 'watch', videoId: 'dQw4w9WgXcQ' });
  });

  it('finds no video on other pages', () => {
    for (const url of [
      'https://www.youtube.com/',
      'https://www.youtube.com/watch',
      'https://www.youtube.com/watch?v=',
      'https://www.youtube.com/watch?v=<script>',
      'https://www.youtube.com/results?search_query=cats',
      'https://www.youtube.com/@vidmux',
      'https://www.youtube.com/playlist?list=PLvidmux0001',
      'https://example.com/watch?v=dQw4w9WgXcQ',
    ]) {
      expect(youtubeVideoPage(url), url).toBeNull();
    }
  });

  it('names the kind of page', () => {
    expect(youtubePageKind('https://www.youtube.com/watch?v=dQw4w9WgXcQ')).toBe('watch');
    expect(youtubePageKind('https://www.youtube.com/shorts/dQw4w9WgXcQ')).toBe('shorts');
    expect(youtubePageKind('https://www.youtube.com/feed/subscriptions')).toBe('other');
    expect(youtubePageKind('https://vimeo.com/123')).toBeNull();
  });

  it('keys a page by its video: a new video is a new key, a new timestamp is not', () => {
    const a = youtubeVideoKey('https://www.youtube.com/watch?v=dQw4w9WgXcQ');
    expect(youtubeVideoKey('https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=10s')).toBe(a);
    expect(youtubeVideoKey('https://www.youtube.com/watch?v=M7lc1UVf-VE')).not.toBe(a);
    expect(youtubeVideoKey('https://www.youtube.com/shorts/dQw4w9WgXcQ')).not.toBe(a);
    expect(youtubeVideoKey('https://www.youtube.com/')).toBeNull();
  });

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
