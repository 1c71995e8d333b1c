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
  it('prefers AAC or Opus; E-AC-3, then Vorbis (WebM only) when there is nothing else; null when no audio can be saved', () => {
    const withEac3 = { ...m, audio: [...m.audio, { ...m.audio[0]!, id: 'eac3-640', codecs: 'ec-3', bandwidth: 640_000 }] };
    expect(bestAudioTrack(withEac3)!.id).toBe('aac-128');
    expect(bestAudioTrack({ ...m, audio: m.audio.map((a) => ({ ...a, codecs: 'ec-3' })) })!.codecs).toBe('ec-3');
    expect(bestAudioTrack({ ...m, audio: m.audio.map((a) => ({ ...a, codecs: 'vorbis' })) })!.codecs).toBe('vorbis');
    expect(bestAudioTrack({ ...m, audio: m.audio.map((a) => ({ ...a, codecs: 'flac' })) })).toBeNull();
  });
});

describe('parseDashManifest: what a track is made of', () => {
  const mpd = (body: string, attrs = 'type="static" mediaPresentationDuration="PT8S"') =>
    `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" ${attrs}><Period>${body}</Period></MPD>`;
  const video = (inner: string, set = '') => `<AdaptationSet mimeType="video/mp4">${set}<Representation id="v" codecs="avc1.64001f" bandwidth="1000" width="1280" height="720">${inner}</Representation></AdaptationSet>`;
  const at = 'https://cdn.example.com/x/m.mpd';

  it('a Representation with only a BaseURL, or SegmentBase without an index, is one plain file', () => {
    for (const inner of ['<BaseURL>v.mp4</BaseURL>', '<BaseURL>v.mp4</BaseURL><SegmentBase/>']) {
      expect(parseDashManifest(mpd(video(inner)), at).video[0]).toMatchObject({ singleFileUrl: 'https://cdn.example.com/x/v.mp4', protected: false, initChanges: false });
    }
  });

  it('SegmentTemplate $Number$ and SegmentList give the init segment then every media segment', () => {
    const number = parseDashManifest(mpd(video('<SegmentTemplate timescale="1000" duration="4000" initialization="i.mp4" media="s$Number$.m4s" startNumber="1"/>')), at).video[0]!;
    expect(number.segments.map((s) => s.url.split('/').pop())).toEqual(['i.mp4', 's1.m4s', 's2.m4s']);
    expect(number.singleFileUrl).toBeNull();
    const list = parseDashManifest(mpd(video('<SegmentList duration="4"><Initialization sourceURL="init.mp4"/><SegmentURL media="a.m4s"/><SegmentURL media="b.m4s"/></SegmentList>')), at).video[0]!;
    expect(list.segments.map((s) => s.url.split('/').pop())).toEqual(['init.mp4', 'a.m4s', 'b.m4s']);
  });

  it('BaseURL at every level (MPD, Period, AdaptationSet, Representation) resolves in turn', () => {
    const doc = `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT8S"><BaseURL>https://media.example.net/root/</BaseURL>
      <Period><BaseURL>period1/</BaseURL><AdaptationSet mimeType="video/mp4"><BaseURL>video/</BaseURL>
      <Representation id="v" codecs="avc1.64001f" bandwidth="1000" width="1280" height="720"><BaseURL>720p/</BaseURL>
      <SegmentTemplate timescale="1000" duration="4000" initialization="init.mp4" media="$Number$.m4s" startNumber="1"/></Representation></AdaptationSet></Period></MPD>`;
    expect(parseDashManifest(doc, at).video[0]!.segments.map((x) => x.url)).toEqual([
      'https://media.example.net/root/period1/video/720p/init.mp4',
      'https://media.example.net/root/period1/video/720p/1.m4s',
      'https://media.example.net/root/period1/video/720p/2.m4s',
    ]);
  });

  it('flags DRM (ContentProtection)', () => {
    const drm = video('<SegmentTemplate timescale="1000" duration="4000" initialization="i.mp4" media="$Number$.m4s"/>', '<ContentProtection schemeIdUri="urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"/>');
    expect(parseDashManifest(mpd(drm), at).video[0]!.protected).toBe(true);
  });

  it('a live manifest that began years ago: only its last minute is listed, up to now, with its segment times', () => {
    const live = mpd(video('<SegmentTemplate timescale="1000" duration="2000" initialization="i.mp4" media="$Number$.m4s" startNumber="1"/>'), 'type="dynamic" availabilityStartTime="2020-01-01T00:00:00Z" minimumUpdatePeriod="PT2S" timeShiftBufferDepth="P30D"');
    const now = Date.parse('2026-11-28T12:00:00Z');
    const started = Date.now();
    const m = parseDashManifest(live, at, now);
    expect(Date.now() - started).toBeLessThan(500); // not millions of segments made first
    expect(m).toMatchObject({ live: true, updateSeconds: 2, duration: null });
    const t = m.video[0]!;
    expect(t.times.length).toBeGreaterThanOrEqual(29);
    expect(t.times.length).toBeLessThanOrEqual(31);
    expect(t.segments).toHaveLength(t.times.length + 1); // the init first
    const edge = (now - Date.parse('2020-01-01T00:00:00Z')) / 1000;
    expect(edge - t.times.at(-1)!).toBeLessThanOrEqual(4);
    expect(t.segments.at(-1)!.url).toBe(`https://cdn.example.com/x/${Math.round(t.times.at(-1)! / 2) + 1}.m4s`);
  });

  it('a track whose periods change its initialization is marked: its segments are not one stream', () => {
    const period = (init: string, start: string) => `<Period start="${start}" duration="PT4S"><AdaptationSet mimeType="video/mp4"><Representation id="v" codecs="avc1.64001f" bandwidth="1000" width="1280" height="720"><SegmentTemplate timescale="1000" duration="4000" initialization="${init}" media="$Number$.m4s" startNumber="1"/></Representation></AdaptationSet></Period>`;
    const two = (a: string, b: string) => `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT8S">${period(a, 'PT0S')}${period(b, 'PT4S')}</MPD>`;
    expect(parseDashManifest(two('i.mp4', 'i.mp4'), at).video[0]!.initChanges).toBe(false);
    expect(parseDashManifest(two('i.mp4', 'ad.mp4'), at).video[0]!.initChanges).toBe(true);
  });
});
