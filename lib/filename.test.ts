import { describe, expect, it } from 'vitest';
import { cleanTitle, renderFilename, safeExtension, sanitizeSegment, truncateUtf8 } from './filename';
import { templateProblem } from './schemas/filename-template';

describe('sanitizeSegment', () => {
  it.each([
    ['Sample clip: "demo" <1/2>', "Sample clip - 'demo' 1-2"],
    ['../../etc/passwd', 'etc-passwd'],
    ['..', 'video'],
    ['a\\b|c', 'a-b-c'],
    ['  .hidden name.  ', 'hidden name'],
    ['tab\tnew\nline\u0000nul', 'tab new line nul'],
    ['CON', '_CON'],
    ['lpt1.txt', '_lpt1.txt'],
    ['who?*', 'who'],
    ['', 'video'],
    ['???', 'video'],
  ])('%j -> %j', (input, expected) => {
    expect(sanitizeSegment(input)).toBe(expected);
  });

  it('removes bidi overrides that would disguise an extension', () => {
    expect(sanitizeSegment('invoice\u202Egpj.exe')).toBe('invoicegpj.exe');
    expect(sanitizeSegment('a\u200Bb\uFEFF')).toBe('ab');
  });

  it('keeps non-Latin titles and caps them at 150 UTF-8 bytes without splitting characters', () => {
    expect(sanitizeSegment('日本語のタイトル 🎬')).toBe('日本語のタイトル 🎬');
    const long = sanitizeSegment('🎬'.repeat(100));
    expect(new TextEncoder().encode(long).length).toBeLessThanOrEqual(150);
    expect(long).toBe('🎬'.repeat(37));
  });
});

describe('truncateUtf8', () => {
  it('leaves short strings alone and never returns a broken character', () => {
    expect(truncateUtf8('abc', 10)).toBe('abc');
    expect(truncateUtf8('ééé', 5)).toBe('éé');
  });
});

describe('renderFilename', () => {
  it('renders the default template', () => {
    expect(renderFilename('{title}.{ext}', { title: 'My video', ext: 'mp4' })).toBe('My video.mp4');
  });
  it('never lets a token add a folder, but the template may', () => {
    expect(renderFilename('{title}.{ext}', { title: 'a/b/../c', ext: 'mp4' })).toBe('a-b-..-c.mp4');
    expect(renderFilename('Vidmux/{host}/{title} [{height}p].{ext}', { title: 'x', host: 'www.example.com', height: 720, ext: 'webm' })).toBe(
      'Vidmux/www.example.com/x [720p].webm',
    );
  });
  it('forces a known extension and falls back for unknown ones', () => {
    expect(renderFilename('{title}.{ext}', { title: 'x', ext: 'exe' })).toBe('x.mp4');
    expect(renderFilename('{title}', { title: 'x', ext: 'm4a' })).toBe('x.m4a');
  });
  it('falls back to "video" when the title is empty and to the default for a bad template', () => {
    expect(renderFilename('{title}.{ext}', { title: '', ext: 'mp4' })).toBe('video.mp4');
    expect(renderFilename('/abs/{title}.{ext}', { title: 't', ext: 'mp4' })).toBe('t.mp4');
    expect(renderFilename('{title} - {id}.{ext}', { title: 't', ext: 'mp4' })).toBe('t.mp4');
  });
});

describe('templateProblem', () => {
  it('accepts known tokens and relative paths', () => {
    expect(templateProblem('{title} ({date}).{ext}')).toBeNull();
    expect(templateProblem('sub/{title}.{ext}')).toBeNull();
  });
  it('rejects empty, absolute, parent and unknown-token templates', () => {
    expect(templateProblem('')).toMatch(/empty/);
    expect(templateProblem('/x/{title}')).toMatch(/relative/);
    expect(templateProblem('C:\\x')).toMatch(/relative/);
    expect(templateProblem('../{title}')).toMatch(/\.\./);
    expect(templateProblem('{nope}')).toMatch(/Unknown token \{nope\}/);
  });
});

describe('helpers', () => {
  it('safeExtension and cleanTitle', () => {
    expect(safeExtension('.MP4')).toBe('mp4');
    expect(safeExtension('php')).toBe('mp4');
    expect(cleanTitle('Never Gonna Give You Up - YouTube')).toBe('Never Gonna Give You Up');
  });
});
