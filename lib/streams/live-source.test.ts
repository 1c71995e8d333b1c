/**
 * Recording live HLS through the page provider: a sliding-window playlist that grows in real time
 * (the stream server's live mode), recorded from the live edge, finished by the user or by the
 * stream's end, into a playable MP4 that holds exactly the segments recorded.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStreamServer, type StreamServer } from '../../test/fakes/stream-server';
import { ffprobeJson } from '../../test/fixtures/ffmpeg';
import { concatTsToMp4, decodedMd5s, liveHls, type LiveHlsFixture } from '../../test/fixtures/streams';
import { chooseFormat } from '../jobs/choose-format';
import { downloadContext } from '../jobs/download-context';
import { HttpClient } from '../net/http';
import { NodeFileSink } from '../node/files';
import type { JobProgress } from '../progress';
import { PageProvider } from '../providers/page';

let server: StreamServer;
let live: LiveHlsFixture;
const out = mkdtempSync(join(tmpdir(), 'vidmux-live-'));
const target = (path: string) => ({ media: async () => new NodeFileSink(path), subtitle: async () => new NodeFileSink(`${path}.srt`) });

beforeAll(async () => {
  live = await liveHls();
  server = await startStreamServer();
}, 120_000);
afterAll(() => server?.close());

/** The segments the recording fetched, in order (from the server's log). */
const recordedSegments = (name: string) => [...new Set(server.requestsFor(new RegExp(`/live/${name}/.*\\.ts$`)).filter((r) => r.status === 200).map((r) => r.path))];

describe('recording a live HLS stream', () => {
  it('from the live edge until Stop: a playable MP4 of exactly the segments recorded', async () => {
    server.live('stop', live, { window: 4 });
    const page = new PageProvider({ http: new HttpClient({ provider: 'page' }) });
    const info = await page.resolve(server.liveUrl('stop'));
    const format = chooseFormat(info, { quality: 'best' });
    expect(format.label).toMatch(/^Live/);
    expect(info.durationSeconds).toBeNull();
    const finish = new AbortController();
    const progress: JobProgress[] = [];
    const path = join(out, 'stopped.mp4');
    const startedAt = server.liveState('stop').lastSequence;
    setTimeout(() => finish.abort(), 3500);
    await page.download(info, { format, subtitles: [] }, downloadContext({ target: target(path), finish: finish.signal, onProgress: (p) => progress.push(p) }));
    expect(progress[0]!.stage).toBe('recording');
    const segments = recordedSegments('stop');
    // The live edge first (the newest segment when it started), then each new one as it came.
    expect(segments[0]).toMatch(new RegExp(`/s${startedAt}\\.ts$`));
    expect(segments.length).toBeGreaterThanOrEqual(3);
    expect(segments.length).toBeLessThanOrEqual(7);
    const files = segments.map((p) => server.liveState('stop').segmentPath(Number(/s(\d+)\.ts$/.exec(p)![1]))!);
    const reference = await concatTsToMp4(files, join(out, 'stopped-ref.mp4'));
    expect(await decodedMd5s(path, '0:v')).toEqual(await decodedMd5s(reference, '0:v'));
    expect(await decodedMd5s(path, '0:a')).toEqual(await decodedMd5s(reference, '0:a'));
    const probe = await ffprobeJson(path);
    expect(Number(probe.format.duration)).toBeCloseTo(segments.length, 0);
  });

  it('ends by itself when the stream ends (EXT-X-ENDLIST)', async () => {
    server.live('ends', live, { window: 3 });
    const page = new PageProvider({ http: new HttpClient({ provider: 'page' }) });
    const info = await page.resolve(server.liveUrl('ends'));
    setTimeout(() => server.endLive('ends'), 2500);
    const path = join(out, 'ended.mp4');
    await page.download(info, { format: chooseFormat(info, { quality: 'best' }), subtitles: [] }, downloadContext({ target: target(path) }));
    const probe = await ffprobeJson(path);
    expect(probe.streams.map((s: { codec_type: string }) => s.codec_type).sort()).toEqual(['audio', 'video']);
    expect(recordedSegments('ends').length).toBeGreaterThanOrEqual(2);
  });

  it('cancel, unlike Stop, keeps nothing', async () => {
    server.live('cancel', live, { window: 3 });
    const page = new PageProvider({ http: new HttpClient({ provider: 'page' }) });
    const info = await page.resolve(server.liveUrl('cancel'));
    const cancel = new AbortController();
    setTimeout(() => cancel.abort(), 1500);
    const path = join(out, 'cancelled.mp4');
    const run = page.download(info, { format: chooseFormat(info, { quality: 'best' }), subtitles: [] }, downloadContext({ target: target(path), signal: cancel.signal }));
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
  });
});
