import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { dashFixture, type DashFixture } from '../../test/fixtures/dash';
import { bestAudioTrack, parseDashManifest } from './dash';

let fx: DashFixture;
beforeAll(async () => {
  fx = await dashFixture();
});

const TEMPLATE_MPD = `<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT8S" profiles="urn:mpeg:dash:profile:isoff-live:2011">
 <Period>
  <AdaptationSet mimeType="video/webm"><Representation id="vp9-1080" codecs="vp9" bandwidth="9000000" width="1920" height="1080">
   <SegmentTemplate timescale="1000" duration="4000" initialization="v/$RepresentationID$/init.webm" media="v/$RepresentationID$/$Number$.webm" startNumber="1"/></Representation></AdaptationSet>
  <AdaptationSet mimeType="video/mp4">
   <Representation id="avc-720" codecs="avc1.64001f" bandwidth="2500000" width="1280" height="720">
    <SegmentTemplate timescale="1000" duration="4000" initialization="v/$RepresentationID$/init.mp4" media="v/$RepresentationID$/$Number$.m4s" startNumber="1"/></Representation>
   <Representation id="avc-1080" codecs="avc1.640028" bandwidth="5000000" width="1920" height="1080">
    <SegmentTemplate timescale="1000" duration="4000" initialization="v/$RepresentationID$/init.mp4" media="v/$RepresentationID$/$Number$.m4s" startNumber="1"/></Representation>
   <Representation id="av1-1080" codecs="av01.0.08M.08" bandwidth="3000000" width="1920" height="1080">
    <SegmentTemplate timescale="1000" duration="4000" initialization="v/$RepresentationID$/init.mp4" media="v/$RepresentationID$/$Number$.m4s" startNumber="1"/></Representation>
  </AdaptationSet>
  <AdaptationSet mimeType="audio/mp4" lang="en">
   <Representation id="aac-64" codecs="mp4a.40.5" bandwidth="64000"><SegmentTemplate timescale="1000" duration="4000" initialization="a/$RepresentationID$/init.mp4" media="a/$RepresentationID$/$Number$.m4s" startNumber="1"/></Representation>
   <Representation id="aac-128" codecs="mp4a.40.2" bandwidth="128000"><SegmentTemplate timescale="1000" duration="4000" initialization="a/$RepresentationID$/init.mp4" media="a/$RepresentationID$/$Number$.m4s" startNumber="1"/></Representation>
  </AdaptationSet>
 </Period>
</MPD>`;

describe('parseDashManifest', () => {
  it('reads ffmpeg single-file DASH: one file per track, byte ranges that cover it', () => {
    const m = parseDashManifest(readFileSync(fx.manifest, 'utf8'), 'http://127.0.0.1:1/media/dash/manifest.mpd');
    expect(m.duration).toBeCloseTo(6, 1);
    expect(m.video).toHaveLength(1);
    expect(m.video[0]).toMatchObject({ kind: 'video', codecs: 'avc1.4d401f', width: 854, height: 480 });
    expect(m.video[0]!.singleFileUrl).toBe('http://127.0.0.1:1/media/dash/manifest-stream0.mp4');
    expect(m.audio).toHaveLength(1);
    expect(m.audio[0]).toMatchObject({ kind: 'audio', codecs: 'mp4a.40.2' });
    expect(m.audio[0]!.singleFileUrl).toBe('http://127.0.0.1:1/media/dash/manifest-stream1.mp4');
    // The ranges the manifest gives end exactly at the file's end.
    const last = m.video[0]!.segments.at(-1)!;
    expect(last.range!.end + 1).toBe(readFileSync(fx.video).length);
  });

  it('expands SegmentTemplate into init + numbered segments (not a single file)', () => {
    const m = parseDashManifest(TEMPLATE_MPD, 'https://cdn.example.com/x/manifest.mpd');
    const t = m.video.find((v) => v.id === 'avc-720')!;
    expect(t.segments.map((s) => s.url)).toEqual([
      'https://cdn.example.com/x/v/avc-720/init.mp4',
      'https://cdn.example.com/x/v/avc-720/1.m4s',
      'https://cdn.example.com/x/v/avc-720/2.m4s',
    ]);
    expect(t.singleFileUrl).toBeNull();
  });

  it('rejects what is not a manifest', () => {
    expect(() => parseDashManifest('<html>nope</html>', 'https://a.com/m.mpd')).toThrow(/manifest/);
    expect(() => parseDashManifest('{"json": true}', 'https://a.com/m.mpd')).toThrow(/manifest/);
  });
});

describe('bestAudioTrack', () => {
  const m = parseDashManifest(TEMPLATE_MPD, 'https://cdn.example.com/x/manifest.mpd');
  it('is the muxable audio with the highest bandwidth, never list order', () => {
    const audio = bestAudioTrack(m)!;
    expect(audio.id).toBe('aac-128');
    expect(audio.language).toBe('en');
    expect(bestAudioTrack({ ...m, audio: [...m.audio].reverse() })!.id).toBe('aac-128');
  });
  it('is null when no audio can be muxed', () => {
    expect(bestAudioTrack({ ...m, audio: m.audio.map((a) => ({ ...a, codecs: 'ec-3' })) })).toBeNull();
  });
});
