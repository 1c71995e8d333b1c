import { describe, expect, it } from 'vitest';
import { isYouTubeUrl, manifestKind, siteOf, youtubePageKind, youtubeVideoId, youtubeVideoKey, youtubeVideoPage } from './sites';

describe('YouTube URLs', () => {
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

  it('finds the video id of every link that names one video, embeds included', () => {
    for (const url of ['https://www.youtube.com/watch?v=dQw4w9WgXcQ', 'https://m.youtube.com/watch?v=dQw4w9WgXcQ', 'https://music.youtube.com/watch?v=dQw4w9WgXcQ', 'https://youtu.be/dQw4w9WgXcQ', 'https://www.youtube.com/embed/dQw4w9WgXcQ', 'https://www.youtube.com/shorts/dQw4w9WgXcQ']) {
      expect(youtubeVideoId(url), url).toBe('dQw4w9WgXcQ');
    }
    for (const url of ['https://www.youtube.com/', 'https://www.youtube.com/playlist?list=PL1', 'https://vimeo.com/123456', 'https://example.com/watch?v=dQw4w9WgXcQ', 'https://www.youtube.com.evil.example/watch?v=dQw4w9WgXcQ']) {
      expect(youtubeVideoId(url), url).toBeNull();
    }
  });
});

describe('sites', () => {
  it('names the site of a URL by its host, subdomains included, and nothing else', () => {
    expect(siteOf('https://www.tiktok.com/@a/video/1')?.name).toBe('TikTok');
    expect(siteOf('https://twitter.com/a/status/1')?.id).toBe('x');
    expect(siteOf('https://fb.watch/abc/')?.id).toBe('facebook');
    expect(siteOf('https://open.spotify.com/show/abc')?.id).toBe('spotify');
    expect(siteOf('https://notyoutube.com/watch?v=1')).toBeNull();
    expect(siteOf('ftp://youtube.com/watch?v=x')).toBeNull();
    expect(siteOf('not a url')).toBeNull();
  });

  it('tells DASH and HLS manifests by path or MIME type', () => {
    expect(manifestKind('https://a.com/x.mpd?sig=1')).toBe('dash');
    expect(manifestKind('https://a.com/master.m3u8#t')).toBe('hls');
    expect(manifestKind('https://a.com/manifest', 'application/dash+xml')).toBe('dash');
    expect(manifestKind('https://a.com/play', 'application/vnd.apple.mpegURL')).toBe('hls');
    expect(manifestKind('https://a.com/x.mp4')).toBeNull();
    expect(manifestKind('https://a.com/list?f=x.mpd')).toBeNull();
    expect(manifestKind('not a url')).toBeNull();
  });
});
