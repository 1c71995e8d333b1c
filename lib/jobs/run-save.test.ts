/**
 * The save pipeline in Node with the real engines: HTTP from the demo site through the network
 * engine, the media engine for DASH pairs, a file sink. (The extension runs the same code with an
 * OPFS sink in its offscreen document.)
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoSite, type DemoSite } from '../../test/fakes/demo-site';
import { dashFixture, type DashFixture } from '../../test/fixtures/dash';
import { ffmpeg, ffprobeJson, sampleMp4 } from '../../test/fixtures/ffmpeg';
import { NodeFileSink } from '../node/files';
import type { JobProgress } from '../progress';
import { runSave } from './run-save';

let site: DemoSite;
let sample: string;
let dash: DashFixture;
const out = mkdtempSync(join(tmpdir(), 'vidmux-runsave-'));
const sha256 = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

beforeAll(async () => {
  sample = await sampleMp4();
  dash = await dashFixture();
  site = await startDemoSite({ 'sample.mp4': sample, ...Object.fromEntries(Object.entries(dash.files).map(([k, v]) => [`dash/${k}`, v])) });
});
afterAll(() => site?.close());

describe('runSave', () => {
  it('copies a page file byte for byte over parallel ranged requests, reporting progress', async () => {
    const path = join(out, 'copy.mp4');
    const events: JobProgress[] = [];
    const { bytes } = await runSave(
      { jobId: 'j1', mode: 'copy', title: 't', mimeType: 'video/mp4', tracks: [{ kind: 'file', url: `${site.url}/media/sample.mp4` }], connections: 4 },
      { createSink: async () => new NodeFileSink(path), onProgress: (p) => events.push(p) },
    );
    expect(bytes).toBe(readFileSync(sample).length);
    expect(sha256(path)).toBe(sha256(sample));
    expect(events.at(-1)!.overall).toMatchObject({ bytesDone: bytes, bytesTotal: bytes });
  });

  it('muxes a DASH video + audio pair into one MP4 whose packets are the inputs', async () => {
    const path = join(out, 'mux.mp4');
    const { bytes } = await runSave(
      {
        jobId: 'j2',
        mode: 'mux',
        title: 'Dash demo',
        mimeType: 'video/mp4',
        tracks: [
          { kind: 'video', url: `${site.url}/media/dash/manifest-stream0.mp4` },
          { kind: 'audio', url: `${site.url}/media/dash/manifest-stream1.mp4` },
        ],
        connections: 2,
      },
      { createSink: async () => new NodeFileSink(path) },
    );
    expect(readFileSync(path).length).toBe(bytes);
    const probe = await ffprobeJson(path);
    expect(probe.streams.map((s: { codec_name: string }) => s.codec_name)).toEqual(['h264', 'aac']);
    expect(Number(probe.format.duration)).toBeCloseTo(6, 0);
    expect(probe.format.tags?.title).toBe('Dash demo');
    const md5s = async (file: string, map: string) =>
      (await ffmpeg(['-i', file, '-map', map, '-c', 'copy', '-f', 'framemd5', '-'])).split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(',')[5]!.trim());
    expect(await md5s(path, '0:v')).toEqual(await md5s(dash.video, '0:v'));
    expect(await md5s(path, '0:a')).toEqual(await md5s(dash.audio, '0:a'));
  });

  it('fails clearly on a missing track and leaves no file behind', async () => {
    const path = join(out, 'missing.mp4');
    await expect(
      runSave(
        { jobId: 'j3', mode: 'mux', title: 't', mimeType: 'video/mp4', tracks: [{ kind: 'video', url: `${site.url}/media/nope.mp4` }], connections: 1 },
        { createSink: async () => new NodeFileSink(path) },
      ),
    ).rejects.toMatchObject({ code: expect.stringMatching(/not_found|http_error/), message: expect.stringMatching(/404|not found/i) });
    expect(existsSync(path)).toBe(false);
    expect(existsSync(`${path}.part`)).toBe(false);
  });

  it('stops at once when cancelled and leaves no file behind', async () => {
    const path = join(out, 'cancelled.mp4');
    const abort = new AbortController();
    abort.abort();
    await expect(
      runSave(
        { jobId: 'j4', mode: 'copy', title: 't', mimeType: 'video/mp4', tracks: [{ kind: 'file', url: `${site.url}/media/sample.mp4` }], connections: 2 },
        { createSink: async () => new NodeFileSink(path), signal: abort.signal },
      ),
    ).rejects.toMatchObject({ code: 'cancelled' });
    expect(existsSync(path)).toBe(false);
  });
});
