import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { dashFixture, type DashFixture } from '../../test/fixtures/dash';
import type { MediaCandidate } from '../schemas/media';
import { planSave } from './plan';

let fx: DashFixture;
beforeAll(async () => {
  fx = await dashFixture();
});

const media = (over: Partial<MediaCandidate> = {}): MediaCandidate => ({
  id: 'v1', kind: 'file', src: 'https://cdn.example.com/v/clip.mp4?sig=1', mimeType: null, width: 1280, height: 720, duration: 12, ...over,
});
const page = { title: 'Holiday: part 1/3 - YouTube', url: 'https://www.example.com/watch?v=1' };
const noFetch = async () => {
  throw new Error('no fetch expected');
};

describe('planSave', () => {
  it('copies a page file under the templated, sanitized name', async () => {
    const plan = await planSave(media(), page, { filenameTemplate: '{title}.{ext}', fetchText: noFetch });
    expect(plan).toEqual({
      title: 'Holiday: part 1/3',
      filename: 'Holiday - part 1-3.mp4',
      sourceUrl: 'https://cdn.example.com/v/clip.mp4?sig=1',
      spec: { mode: 'copy', title: 'Holiday: part 1/3', mimeType: 'video/mp4', tracks: [{ kind: 'file', url: 'https://cdn.example.com/v/clip.mp4?sig=1' }], connections: 4 },
    });
    const dated = await planSave(media(), page, { filenameTemplate: '{host}/{title} {height}p {date}.{ext}', fetchText: noFetch, now: new Date(2026, 0, 2) });
    expect(dated.filename).toBe('www.example.com/Holiday - part 1-3 720p 2026-01-02.mp4');
  });

  it('falls back to the file name when the page has no title', async () => {
    expect((await planSave(media(), { title: '', url: 'https://x.com/' }, { filenameTemplate: '{title}.{ext}', fetchText: noFetch })).filename).toBe('clip.mp4');
  });

  it('resolves a DASH manifest into its video and audio tracks, muxed into one MP4', async () => {
    const mpd = 'http://127.0.0.1:9/media/dash/manifest.mpd';
    const fetched: string[] = [];
    const plan = await planSave(media({ kind: 'manifest', src: mpd, height: 0 }), { title: 'Dash demo', url: 'http://127.0.0.1:9/watch/dash.html' }, {
      filenameTemplate: '{title} [{height}p].{ext}',
      fetchText: async (url) => (fetched.push(url), readFileSync(fx.manifest, 'utf8')),
    });
    expect(fetched).toEqual([mpd]);
    expect(plan.filename).toBe('Dash demo [480p].mp4');
    expect(plan.spec).toEqual({
      mode: 'mux',
      title: 'Dash demo',
      mimeType: 'video/mp4',
      connections: 4,
      tracks: [
        { kind: 'video', url: 'http://127.0.0.1:9/media/dash/manifest-stream0.mp4' },
        { kind: 'audio', url: 'http://127.0.0.1:9/media/dash/manifest-stream1.mp4' },
      ],
    });
  });

  it('refuses what it cannot save yet, saying why', async () => {
    const ctx = { filenameTemplate: '{title}.{ext}', fetchText: noFetch };
    await expect(planSave(media({ kind: 'mediasource', src: 'blob:https://a/1' }), page, ctx)).rejects.toMatchObject({ code: 'not_a_file', message: /MediaSource/ });
    await expect(planSave(media({ kind: 'blob', src: 'blob:https://a/1' }), page, ctx)).rejects.toMatchObject({ code: 'not_a_file' });
    await expect(planSave(media({ kind: 'manifest', src: 'https://a.com/master.m3u8' }), page, ctx)).rejects.toMatchObject({ code: 'unsupported', message: /HLS/ });
    const segmented = `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT8S"><Period><AdaptationSet mimeType="video/mp4">
      <Representation id="v" codecs="avc1.64001f" bandwidth="1" width="1280" height="720"><SegmentTemplate timescale="1000" duration="4000" initialization="i.mp4" media="$Number$.m4s" startNumber="1"/></Representation>
      </AdaptationSet></Period></MPD>`;
    await expect(planSave(media({ kind: 'manifest', src: 'https://a.com/m.mpd' }), page, { ...ctx, fetchText: async () => segmented })).rejects.toMatchObject({
      code: 'unsupported',
      message: /split into 3 separate files/,
    });
  });
});
