/**
 * Recording a live DASH stream (type="dynamic", $Number$ template, separate video and audio)
 * through the page provider: from the live edge, following the manifest, until Stop or until the
 * manifest turns static; one playable MP4 whose frames are exactly the segments recorded.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLiveDash, type LiveDash } from '../../test/fakes/live-dash';
import { ffmpeg, ffprobeJson } from '../../test/fixtures/ffmpeg';
import { decodedMd5s, liveDashSource } from '../../test/fixtures/streams';
import { chooseFormat } from '../jobs/choose-format';
import { downloadContext } from '../jobs/download-context';
import { HttpClient } from '../net/http';
import { NodeFileSink } from '../node/files';
import type { JobProgress } from '../progress';
import { PageProvider } from '../providers/page';

let source: Awaited<ReturnType<typeof liveDashSource>>;
let live: LiveDash | null = null;
const out = mkdtempSync(join(tmpdir(), 'vidmux-live-dash-'));
const target = (path: string) => ({ media: async () => new NodeFileSink(path), subtitle: async () => new NodeFileSink(`${path}.srt`) });

beforeAll(async () => {
  source = await liveDashSource();
}, 120_000);
afterEach(async () => {
  await live?.close();
  live = null;
});

/** What `ffmpeg -c copy` makes of the recorded segments of one representation. */
async function joined(rep: string, name: string): Promise<string> {
  const segments = live!.served.filter((p) => p.includes(`chunk-${rep}-`)).map((p) => readFileSync(join(source.dir, p.split('/').pop()!)));
  const file = join(out, `${name}-${rep}.mp4`);
  writeFileSync(file, Buffer.concat([readFileSync(join(source.dir, `init-${rep}.mp4`)), ...segments]));
  return file;
}

describe('recording a live DASH stream', () => {
  it('from the live edge until Stop: video and audio, exactly the segments recorded', async () => {
    live = await startLiveDash(source);
    const page = new PageProvider({ http: new HttpClient({ provider: 'page' }) });
    await fetch(live.url); // the stream starts
    await new Promise((r) => setTimeout(r, 3200));
    const info = await page.resolve(live.url);
    const format = chooseFormat(info, { quality: 'best' });
    expect(format.label).toMatch(/^Live · 180p/);
    const finish = new AbortController();
    setTimeout(() => finish.abort(), 3500);
    const progress: JobProgress[] = [];
    const path = join(out, 'stopped.mp4');
    await page.download(info, { format, subtitles: [] }, downloadContext({ target: target(path), finish: finish.signal, onProgress: (p) => progress.push(p) }));
    expect(progress[0]!.stage).toBe('recording');
    const videoSegments = live.served.filter((p) => p.includes('chunk-0-'));
    expect(videoSegments.length).toBeGreaterThanOrEqual(3);
    // It started at the live edge, not at the start of the window.
    expect(Number(/-(\d+)\.m4s$/.exec(videoSegments[0]!)![1])).toBeGreaterThanOrEqual(2);
    expect(await decodedMd5s(path, '0:v')).toEqual(await decodedMd5s(await joined('0', 'stopped'), '0:v'));
    expect(await decodedMd5s(path, '0:a')).toEqual(await decodedMd5s(await joined('1', 'stopped'), '0:a'));
    const probe = await ffprobeJson(path);
    expect(probe.streams.map((s: { codec_type: string }) => s.codec_type).sort()).toEqual(['audio', 'video']);
    // Plays: every frame decodes without an error.
    await ffmpeg(['-v', 'error', '-xerror', '-i', path, '-f', 'null', '-']);
  });

  it('ends by itself when the manifest turns static (the stream ended)', async () => {
    live = await startLiveDash(source);
    const page = new PageProvider({ http: new HttpClient({ provider: 'page' }) });
    await fetch(live.url);
    await new Promise((r) => setTimeout(r, 2200));
    const info = await page.resolve(live.url);
    setTimeout(() => live!.end(), 2500);
    const path = join(out, 'ended.mp4');
    await page.download(info, { format: chooseFormat(info, { quality: 'best' }), subtitles: [] }, downloadContext({ target: target(path) }));
    const probe = await ffprobeJson(path);
    expect(Number(probe.format.duration)).toBeGreaterThan(1);
  });
});
