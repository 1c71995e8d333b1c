/**
 * WebM output (`remux({ container: 'webm' })`, webm-writer.ts) against ffmpeg: inputs made by
 * ffmpeg at test time; packets must be byte-identical to the input's, times within 1 ms of
 * `ffmpeg -i in -c copy ref.webm`, the file must decode cleanly, and its Cues must be there and be
 * what readers seek by (checked by hand, by mediabunny's reader and by ffmpeg's -ss).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ALL_FORMATS, CustomSource, EncodedPacketSink, Input } from 'mediabunny';
import { afterAll, describe, expect, it } from 'vitest';
import { VidmuxError } from '../errors';
import type { ByteSink } from '../io';
import { NodeFileSink, NodeFileSource } from '../node/files';
import { cachedMedia, ffmpeg, ffmpegPath, ffprobeJson } from '../../test/fixtures/ffmpeg';
import { MemorySource, RecordingSink } from '../../test/fixtures/media-io';
import { audioInputs, decodeErrors, mediaFacts, packetMd5s, videoInputs, type MediaFacts } from '../../test/fixtures/media-matrix';
import type { DemuxedTrackInfo, Packet } from './demux';
import { remux, type RemuxSummary } from './remux';
import { opusHeadFromDops, WebmMuxWriter } from './webm-writer';

const run = promisify(execFile);
const TOLERANCE_S = 0.001 + 1e-9;
const dir = mkdtempSync(join(tmpdir(), 'vidmux-webm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// A minimal EBML reader, independent of the writer: enough to check the layout.
// ---------------------------------------------------------------------------------------------

const E = {
  EBML: 0x1a45dfa3,
  DocType: 0x4282,
  Segment: 0x18538067,
  SeekHead: 0x114d9b74,
  Seek: 0x4dbb,
  SeekID: 0x53ab,
  SeekPosition: 0x53ac,
  Info: 0x1549a966,
  Duration: 0x4489,
  Tracks: 0x1654ae6b,
  Language: 0x22b59c,
  TrackEntry: 0xae,
  TrackNumber: 0xd7,
  CodecID: 0x86,
  CodecPrivate: 0x63a2,
  CodecDelay: 0x56aa,
  SeekPreRoll: 0x56bb,
  Cluster: 0x1f43b675,
  Timestamp: 0xe7,
  SimpleBlock: 0xa3,
  Cues: 0x1c53bb6b,
  CuePoint: 0xbb,
  CueTime: 0xb3,
  CueTrackPositions: 0xb7,
  CueTrack: 0xf7,
  CueClusterPosition: 0xf1,
  CueRelativePosition: 0xf0,
};
const MASTERS = new Set([E.EBML, E.Segment, E.SeekHead, E.Seek, E.Info, E.Tracks, E.TrackEntry, 0xe0, 0xe1, E.Cluster, E.Cues, E.CuePoint, E.CueTrackPositions]);

interface El {
  id: number;
  start: number;
  data: number;
  end: number;
  kids: El[];
}

function vint(b: Uint8Array, p: number, keepMarker: boolean): { value: number; length: number } {
  const first = b[p]!;
  let length = 1;
  while (length <= 8 && !(first & (0x80 >> (length - 1)))) length++;
  let value = keepMarker ? first : first & (0xff >> length);
  for (let i = 1; i < length; i++) value = value * 256 + b[p + i]!;
  return { value, length };
}

function parse(b: Uint8Array, start = 0, end = b.length): El[] {
  const out: El[] = [];
  for (let p = start; p < end; ) {
    const id = vint(b, p, true);
    const size = vint(b, p + id.length, false);
    const data = p + id.length + size.length;
    const el: El = { id: id.value, start: p, data, end: data + size.value, kids: [] };
    expect(el.end, `element 0x${el.id.toString(16)} at ${p} overruns its parent`).toBeLessThanOrEqual(end);
    if (MASTERS.has(el.id)) el.kids = parse(b, data, el.end);
    out.push(el);
    p = el.end;
  }
  return out;
}

const kid = (e: El, id: number) => e.kids.find((k) => k.id === id);
const kids = (e: El, id: number) => e.kids.filter((k) => k.id === id);
function uint(b: Uint8Array, e: El | undefined): number {
  expect(e).toBeDefined();
  let v = 0;
  for (let i = e!.data; i < e!.end; i++) v = v * 256 + b[i]!;
  return v;
}

interface Layout {
  segment: El;
  segmentData: number;
  clusters: El[];
  cues: Array<{ time: number; track: number; cluster: number; relative: number }>;
}

/**
 * Checks the file's skeleton and its Cues: the SeekHead points at Info, Tracks and Cues; every
 * CuePoint names a Cluster, and the block at its CueRelativePosition is a keyframe of the cue's
 * track at the cue's time. Returns what it read.
 */
function checkLayout(b: Uint8Array): Layout {
  const top = parse(b);
  expect(top.map((e) => e.id)).toEqual([E.EBML, E.Segment]);
  expect(new TextDecoder().decode(b.subarray(kid(top[0]!, E.DocType)!.data, kid(top[0]!, E.DocType)!.end))).toBe('webm');
  const segment = top[1]!;
  expect(segment.end).toBe(b.length);
  const segmentData = segment.data;
  const seekHead = kid(segment, E.SeekHead)!;
  const seeks = new Map(kids(seekHead, E.Seek).map((s) => [uint(b, kid(s, E.SeekID)), uint(b, kid(s, E.SeekPosition))]));
  for (const id of [E.Info, E.Tracks, E.Cues]) {
    const target = segment.kids.find((k) => k.id === id);
    expect(target, `element 0x${id.toString(16)}`).toBeDefined();
    expect(seeks.get(id), `SeekHead entry of 0x${id.toString(16)}`).toBe(target!.start - segmentData);
  }
  const clusters = kids(segment, E.Cluster);
  const cueEl = kid(segment, E.Cues)!;
  const cues = kids(cueEl, E.CuePoint).map((cp) => {
    const pos = kid(cp, E.CueTrackPositions)!;
    return {
      time: uint(b, kid(cp, E.CueTime)),
      track: uint(b, kid(pos, E.CueTrack)),
      cluster: uint(b, kid(pos, E.CueClusterPosition)),
      relative: uint(b, kid(pos, E.CueRelativePosition)),
    };
  });
  expect(cues.length).toBeGreaterThan(0);
  for (const cue of cues) {
    const cluster = clusters.find((c) => c.start === segmentData + cue.cluster);
    expect(cluster, `cue at ${cue.time} ms points at a Cluster`).toBeDefined();
    const block = cluster!.kids.find((k) => k.start === cluster!.data + cue.relative);
    expect(block?.id, `cue at ${cue.time} ms points at a SimpleBlock`).toBe(E.SimpleBlock);
    const track = vint(b, block!.data, false);
    const rel = (b[block!.data + track.length]! << 24) >> 16 | b[block!.data + track.length + 1]!;
    expect(track.value).toBe(cue.track);
    expect(uint(b, kid(cluster!, E.Timestamp)) + rel).toBe(cue.time);
    expect(b[block!.data + track.length + 2]! & 0x80, 'keyframe flag').toBe(0x80);
  }
  return { segment, segmentData, clusters, cues };
}

// ---------------------------------------------------------------------------------------------
// Inputs and references.
// ---------------------------------------------------------------------------------------------

/** `ffmpeg -i in -c copy ref.webm`, one input at a time. */
function ffmpegWebm(input: string, name: string, extra: string[] = []): Promise<string> {
  return cachedMedia(`webm-out-ref-${name}.webm`, async (out) => {
    await ffmpeg(['-i', input, ...extra, '-c', 'copy', out]);
  });
}

/** 10 s of VP9 (a keyframe every second) + Opus in MP4: enough clusters to see seeking. */
function longVp9Opus(): Promise<string> {
  return cachedMedia('webm-out-vp9-opus-10s.mp4', async (out) => {
    await ffmpeg([
      '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', '10', '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '800k', '-g', '30', '-pix_fmt', 'yuv420p',
      '-c:a', 'libopus', '-b:a', '64k', '-strict', 'experimental', out,
    ]);
  });
}

async function toWebm(name: string, opts: { video?: string; audio?: string; input?: string; title?: string }): Promise<{ out: string; summary: RemuxSummary }> {
  const out = join(dir, `${name}.webm`);
  const summary = await remux({
    ...(opts.video ? { video: await NodeFileSource.open(opts.video) } : {}),
    ...(opts.audio ? { audio: await NodeFileSource.open(opts.audio) } : {}),
    ...(opts.input ? { input: await NodeFileSource.open(opts.input) } : {}),
    ...(opts.title ? { title: opts.title } : {}),
    sink: new NodeFileSink(out),
    container: 'webm',
  });
  return { out, summary };
}

type StreamFacts = MediaFacts['streams'][number];

function expectSamePts(ours: StreamFacts, ref: StreamFacts, against: string, shift = 0): void {
  expect(ours.pts.length, `${ours.type} packets vs ${against}`).toBe(ref.pts.length);
  const worst = ours.pts.reduce((m, p, k) => Math.max(m, Math.abs(p + shift - ref.pts[k]!)), 0);
  expect(worst, `${ours.type} worst packet pts difference vs ${against}`).toBeLessThanOrEqual(TOLERANCE_S);
}

/** Per-packet `dts, pts, duration, size, md5` of `ffmpeg [-ss at] -i file -map 0:v -c copy -f framemd5`. */
async function framemd5(args: string[]): Promise<string[][]> {
  const { stdout } = await run(ffmpegPath, ['-v', 'error', ...args, '-f', 'framemd5', '-'], { maxBuffer: 64 * 1024 * 1024 });
  return stdout
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(',').map((s) => s.trim()));
}

// ---------------------------------------------------------------------------------------------

describe('remux to WebM', () => {
  const pairs = [
    { name: 'VP9 + Opus', video: videoInputs.vp9, codecs: ['vp9', 'opus'], title: 'WebM clip' },
    { name: 'AV1 + Opus', video: videoInputs.av1, codecs: ['av1', 'opus'] },
  ];
  for (const c of pairs) {
    it(`${c.name} MP4 -> WebM: same packets, times within 1 ms of ffmpeg, clean decode, Cues`, async () => {
      const [video, audio] = await Promise.all([c.video(), audioInputs.opus()]);
      const { out, summary } = await toWebm(c.name.replace(/\W+/g, '-'), { video, audio, ...(c.title ? { title: c.title } : {}) });
      expect(summary.container).toBe('webm');
      expect(summary.streams.map((s) => s.kind)).toEqual(['video', 'audio']);
      // Opus's first audible sample is at 0 (pre-skip dropped), as in the MP4 output.
      expect(summary.streams.map((s) => s.startSeconds)).toEqual([0, 0]);

      const probe = await ffprobeJson(out);
      expect(probe.format.format_name).toBe('matroska,webm');
      expect(probe.streams.map((s: any) => s.codec_name)).toEqual(c.codecs);
      expect(probe.format.tags?.title).toBe(c.title);
      expect(probe.streams[0]).toMatchObject({ width: 160, height: 120 });
      expect(probe.streams[1]).toMatchObject({ sample_rate: '48000', channels: 2 });

      // Byte-identical packets, in order.
      for (const [kind, input] of [['v', video], ['a', audio]] as const) {
        const [ours, theirs] = await Promise.all([packetMd5s(out, kind), packetMd5s(input, kind)]);
        expect(ours.length).toBeGreaterThan(0);
        expect(ours).toEqual(theirs);
      }

      // Times: each stream within 1 ms of ffmpeg's WebM of that input, and of the input itself.
      const [ours, refV, refA, inV, inA] = await Promise.all([
        mediaFacts(out),
        mediaFacts(await ffmpegWebm(video, c.name.startsWith('VP9') ? 'vp9' : 'av1')),
        mediaFacts(await ffmpegWebm(audio, 'opus')),
        mediaFacts(video),
        mediaFacts(audio),
      ]);
      expectSamePts(ours.streams[0]!, refV.streams[0]!, 'ffmpeg -i video -c copy ref.webm');
      expectSamePts(ours.streams[1]!, refA.streams[0]!, 'ffmpeg -i audio -c copy ref.webm');
      expectSamePts(ours.streams[0]!, inV.streams[0]!, 'the video input');
      expectSamePts(ours.streams[1]!, inA.streams[0]!, 'the audio input');
      // Both inputs in one ffmpeg 4.1 run: its audio agrees, but it writes Opus blocks without
      // adding CodecDelay and then shifts every stream to make them non-negative, so its video
      // lands one pre-skip (6.5 ms, read back as 7) late. Ours keeps the inputs' sync.
      const both = await cachedMedia(`webm-out-ref-${c.codecs.join('-')}.webm`, async (o) => {
        await ffmpeg(['-i', video, '-i', audio, '-map', '0:v', '-map', '1:a', '-c', 'copy', o]);
      });
      const refBoth = await mediaFacts(both);
      expectSamePts(ours.streams[1]!, refBoth.streams[1]!, 'ffmpeg -i video -i audio -c copy ref.webm');
      expectSamePts(ours.streams[0]!, refBoth.streams[0]!, 'ffmpeg -i video -i audio -c copy ref.webm, less its 7 ms shift', 0.007);

      expect(await decodeErrors(out)).toBe('');

      const b = readFileSync(out);
      const layout = checkLayout(b);
      // The video starts cluster 0 after the first Opus block; its keyframe there has a cue.
      expect(layout.cues[0]).toMatchObject({ time: 0, track: 1, cluster: layout.clusters[0]!.start - layout.segmentData });
      // Seeking lands on the keyframe at 1 s (a cluster start) with the input's packet.
      const [seekOurs, keyIn] = await Promise.all([
        framemd5(['-ss', '1.2', '-copyts', '-i', out, '-map', '0:v', '-c', 'copy', '-frames:v', '1']),
        framemd5(['-i', video, '-map', '0:v', '-c', 'copy']),
      ]);
      expect(Number(seekOurs[0]![2])).toBe(1000);
      expect(seekOurs[0]![5]).toBe(keyIn[30]![5]);
    });
  }

  it('Opus only: OpusHead from dOps, CodecDelay = pre-skip, SeekPreRoll 80 ms, times as ffmpeg', async () => {
    const audio = await audioInputs.opus();
    const { out, summary } = await toWebm('opus-only', { audio });
    expect(summary.streams[0]).toMatchObject({ kind: 'audio', startSeconds: 0, durationSeconds: 2 });
    const b = readFileSync(out);
    const { segment, cues, clusters } = checkLayout(b);
    const entry = kid(kid(segment, E.Tracks)!, E.TrackEntry)!;
    const priv = kid(entry, E.CodecPrivate)!;
    const head = b.subarray(priv.data, priv.end);
    expect(new TextDecoder().decode(head.subarray(0, 8))).toBe('OpusHead');
    // version 1, 2 channels, pre-skip 312, 48000 Hz, gain 0, mapping family 0 (little-endian)
    expect([...head.subarray(8)]).toEqual([1, 2, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0]);
    expect(uint(b, kid(entry, E.CodecDelay))).toBe(6_500_000);
    expect(uint(b, kid(entry, E.SeekPreRoll))).toBe(80_000_000);
    // Audio-only: every cluster has a cue (2 s fits one).
    expect(cues.length).toBe(clusters.length);
    const [ours, ref] = await Promise.all([mediaFacts(out), mediaFacts(await ffmpegWebm(audio, 'opus'))]);
    expectSamePts(ours.streams[0]!, ref.streams[0]!, 'ffmpeg -i audio -c copy ref.webm');
    expect(await packetMd5s(out, 'a')).toEqual(await packetMd5s(audio, 'a'));
    expect(await decodeErrors(out)).toBe('');
  });

  it('Cues are what readers seek by: mediabunny reads only the cued cluster; ffmpeg -ss lands on the keyframe', async () => {
    const input = await longVp9Opus();
    const { out } = await toWebm('vp9-opus-10s', { input });
    const b = readFileSync(out);
    const { cues, clusters, segmentData } = checkLayout(b);
    // A keyframe every second; each starts a cluster and has a cue.
    expect(cues.map((c) => c.time)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000]);
    expect(clusters.length).toBe(10);

    // An independent reader: mediabunny's Matroska demuxer, reading through a logging source.
    const reads: Array<[number, number]> = [];
    const mb = new Input({
      formats: ALL_FORMATS,
      source: new CustomSource({
        getSize: () => b.length,
        read: (start, end) => {
          reads.push([start, end]);
          return b.subarray(start, end);
        },
      }),
    });
    const track = (await mb.getPrimaryVideoTrack())!;
    expect(await track.getCodecParameterString()).toMatch(/^vp09/);
    reads.length = 0;
    const key = await new EncodedPacketSink(track).getKeyPacket(7.5);
    expect(key?.timestamp).toBe(7);
    expect(key?.type).toBe('key');
    const cued = clusters.find((c) => c.start === segmentData + cues[7]!.cluster)!;
    expect(reads.length).toBeGreaterThan(0);
    for (const [start, end] of reads) {
      expect(start, 'mediabunny reads from the cued cluster on').toBeGreaterThanOrEqual(cued.start);
      expect(end).toBeLessThanOrEqual(cued.end);
    }
    mb.dispose();

    // ffmpeg: -ss with stream copy starts at the keyframe at 7 s, the input's packet.
    const [copied, inputPackets] = await Promise.all([
      framemd5(['-ss', '7.5', '-copyts', '-i', out, '-map', '0:v', '-c', 'copy', '-frames:v', '1']),
      framemd5(['-i', input, '-map', '0:v', '-c', 'copy']),
    ]);
    expect(Number(copied[0]![2])).toBe(7000);
    expect(copied[0]![5]).toBe(inputPackets[210]![5]);
    // And an accurate seek decodes the same frame as the same seek in the input.
    const [decodedOurs, decodedIn] = await Promise.all([
      framemd5(['-ss', '7.5', '-i', out, '-map', '0:v', '-frames:v', '1']),
      framemd5(['-ss', '7.5', '-i', input, '-map', '0:v', '-frames:v', '1']),
    ]);
    expect(decodedOurs[0]![5]).toBe(decodedIn[0]![5]);
    expect(await decodeErrors(out)).toBe('');
  });
});

/** WebM inputs made by ffmpeg (the engine reads WebM since webm/demux.ts). */
const webmInputs = {
  vp8Vorbis: () =>
    cachedMedia('webm-in-vp8-vorbis.webm', (o) =>
      ffmpeg([
        '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', '2',
        '-c:v', 'libvpx', '-b:v', '200k', '-g', '15', '-c:a', 'libvorbis', '-ac', '2',
        '-metadata', 'title=VP8 clip', '-metadata:s:a:0', 'language=ger', o,
      ]).then(() => undefined),
    ),
  vp9Opus: () =>
    cachedMedia('webm-in-vp9-opus.webm', (o) =>
      ffmpeg([
        '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '2',
        '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '200k', '-g', '15', '-c:a', 'libopus', '-ac', '2', o,
      ]).then(() => undefined),
    ),
  av1Opus: () =>
    cachedMedia('webm-in-av1-opus.webm', (o) =>
      ffmpeg([
        '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '2',
        '-c:v', 'libaom-av1', '-cpu-used', '8', '-row-mt', '1', '-b:v', '100k', '-g', '15', '-c:a', 'libopus', '-ac', '2',
        '-strict', 'experimental', o,
      ]).then(() => undefined),
    ),
};

/** The codec elements of each TrackEntry, as bytes (hex), by CodecID. */
function codecElements(b: Uint8Array): Array<Record<string, string>> {
  const segment = parse(b).find((e) => e.id === E.Segment)!;
  return kids(kid(segment, E.Tracks)!, E.TrackEntry).map((t) => {
    const out: Record<string, string> = {};
    for (const [name, id] of [['CodecID', E.CodecID], ['CodecPrivate', E.CodecPrivate], ['CodecDelay', E.CodecDelay], ['SeekPreRoll', E.SeekPreRoll], ['Language', E.Language]] as const) {
      const e = kid(t, id);
      if (e) out[name] = Buffer.from(b.subarray(e.data, e.end)).toString(name === 'CodecID' || name === 'Language' ? 'latin1' : 'hex');
    }
    if (!out.Language) out.Language = 'eng'; // Matroska's default
    return out;
  });
}

describe('remux WebM to WebM', () => {
  const cases = [
    { name: 'VP8 + Vorbis', make: webmInputs.vp8Vorbis, codecs: ['vp8', 'vorbis'], title: 'VP8 clip' },
    { name: 'VP9 + Opus', make: webmInputs.vp9Opus, codecs: ['vp9', 'opus'] },
    { name: 'AV1 + Opus', make: webmInputs.av1Opus, codecs: ['av1', 'opus'] },
  ];
  for (const c of cases) {
    it(`${c.name} WebM -> WebM: same packets, codec data, language, title; times within 1 ms; clean decode, Cues`, async () => {
      const input = await c.make();
      const { out, summary } = await toWebm(`webm-${c.name.replace(/\W+/g, '-')}`, { input });
      expect(summary.container).toBe('webm');
      const [probe, probeIn] = await Promise.all([ffprobeJson(out), ffprobeJson(input)]);
      expect(probe.format.format_name).toBe('matroska,webm');
      expect(probe.streams.map((s: any) => s.codec_name)).toEqual(c.codecs);
      expect(probe.format.tags?.title).toBe(c.title);
      // Codec data (Vorbis headers, OpusHead, av1C), CodecDelay, SeekPreRoll and language as they were.
      const ours = codecElements(readFileSync(out));
      const theirs = codecElements(readFileSync(input));
      expect(ours).toEqual(theirs);
      for (const kind of ['v', 'a'] as const) {
        const [a, b] = await Promise.all([packetMd5s(out, kind), packetMd5s(input, kind)]);
        expect(a.length).toBeGreaterThan(0);
        expect(a).toEqual(b);
      }
      const [factsOut, factsIn] = await Promise.all([mediaFacts(out), mediaFacts(input)]);
      factsOut.streams.forEach((s, i) => expectSamePts(s, factsIn.streams[i]!, 'the input'));
      expect(await decodeErrors(out)).toBe('');
      checkLayout(readFileSync(out));
    });
  }
});

describe('remux to WebM: refusals, cancel and failures', () => {
  async function failure(p: Promise<unknown>): Promise<VidmuxError> {
    const err = await p.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(VidmuxError);
    return err as VidmuxError;
  }

  it('refuses H.264 video before writing anything', async () => {
    const sink = new RecordingSink();
    const video = new MemorySource(readFileSync(await videoInputs.h264Bframes()));
    const err = await failure(remux({ video, sink, container: 'webm' }));
    expect(err.code).toBe('unsupported');
    expect(err.message).toBe("H.264 video can't be saved as WebM without re-encoding; choose MP4.");
    expect(sink.writes).toBe(0);
    expect(sink.aborted).toBe(true);
    expect(sink.closed).toBe(false);
  });

  it('refuses AAC audio next to VP9 video before writing anything', async () => {
    const sink = new RecordingSink();
    const err = await failure(
      remux({
        video: new MemorySource(readFileSync(await videoInputs.vp9())),
        audio: new MemorySource(readFileSync(await audioInputs.aac48Stereo())),
        sink,
        container: 'webm',
      }),
    );
    expect(err.code).toBe('unsupported');
    expect(err.message).toBe("AAC audio can't be saved as WebM without re-encoding; choose MP4.");
    expect(sink.writes).toBe(0);
    expect(sink.aborted).toBe(true);
  });

  it('stops on cancel mid-write with `cancelled`, aborts the sink and leaves no file', async () => {
    const controller = new AbortController();
    const out = join(dir, 'cancelled.webm');
    const file = new NodeFileSink(out);
    let writes = 0;
    let aborted = 0;
    const sink: ByteSink = {
      write: (position, data) => {
        if (++writes === 2) controller.abort();
        return file.write(position, data);
      },
      close: () => file.close(),
      abort: () => {
        aborted++;
        return file.abort();
      },
    };
    const bytes = readFileSync(await longVp9Opus());
    const err = await failure(remux({ input: new MemorySource(bytes, 16 * 1024), sink, signal: controller.signal, container: 'webm' }));
    expect(err.code).toBe('cancelled');
    expect(writes).toBeGreaterThanOrEqual(2);
    expect(aborted).toBe(1);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(file.partPath)).toBe(false);
  });

  it('fails cleanly when the sink fails', async () => {
    const sink = new RecordingSink();
    sink.write = async () => {
      throw new Error('disk full');
    };
    const err = await failure(remux({ audio: new MemorySource(readFileSync(await audioInputs.opus())), sink, container: 'webm' }));
    expect(err.message).toMatch(/disk full/);
    expect(sink.aborted).toBe(true);
    expect(sink.closed).toBe(false);
  });
});

describe('WebmMuxWriter', () => {
  /** Records every write; checks no two overlap. */
  class MemorySink implements ByteSink {
    writes: Array<{ position: number; data: Uint8Array; given: Uint8Array }> = [];
    async write(position: number, data: Uint8Array): Promise<void> {
      this.writes.push({ position, data: data.slice(), given: data });
      await new Promise((r) => setTimeout(r, 0));
    }
    async close(): Promise<void> {}
    async abort(): Promise<void> {}
    file(): Uint8Array {
      const sorted = [...this.writes].sort((a, b) => a.position - b.position);
      let end = 0;
      for (const w of sorted) {
        expect(w.position, 'writes neither overlap nor leave holes').toBe(end);
        end += w.data.length;
      }
      const out = new Uint8Array(end);
      for (const w of sorted) out.set(w.data, w.position);
      return out;
    }
  }

  const vp9Info = (): DemuxedTrackInfo => ({
    kind: 'video',
    codec: 'vp09.00.10.08',
    family: 'vp9',
    timescale: 90000,
    movieTimescale: 1000,
    edits: [],
    stsd: new Uint8Array(0),
    hdlr: new Uint8Array(0),
    language: 'fra',
    width: 64,
    height: 48,
    channels: 0,
    sampleRate: 0,
    title: undefined,
    fragmented: false,
  });

  it('writes every byte once, in few writes, with big packets as they are and small ones copied', async () => {
    const sink = new MemorySink();
    const writer = new WebmMuxWriter(sink, { video: { info: vp9Info(), offsetSeconds: 0, firstSeconds: 0 } });
    // 40 s at 25 fps, a keyframe every 2 s (100 KB), other frames 1-3 KB.
    const packets: Packet[] = [];
    for (let i = 0; i < 1000; i++) {
      const key = i % 50 === 0;
      const data = new Uint8Array(key ? 100_000 : 1000 + (i % 3) * 1000).fill(i & 0xff);
      packets.push({ data, dts: i * 3600, cts: i * 3600, duration: 3600, sync: key });
    }
    for (const p of packets) {
      writer.add('video', p, 0, 90000);
      if (writer.queuedBytes > 1_000_000) await writer.waitForRoom(500_000);
    }
    const size = await writer.finish();
    const b = sink.file();
    expect(b.length).toBe(size);
    // Keyframes went out as the packets' own bytes, not copies.
    const big = sink.writes.filter((w) => w.data.length === 100_000);
    expect(big.length).toBe(20);
    expect(big.every((w) => packets.some((p) => p.data === w.given))).toBe(true);
    expect(sink.writes.length).toBeLessThan(120);

    const { clusters, cues, segment } = checkLayout(b);
    expect(cues.map((c) => c.time)).toEqual(Array.from({ length: 20 }, (_, k) => k * 2000));
    expect(clusters.length).toBe(20);
    // Every packet back, in order, at its time (ms, rounded) with its bytes and keyframe flag.
    let k = 0;
    for (const c of clusters) {
      const base = uint(b, kid(c, E.Timestamp));
      for (const block of kids(c, E.SimpleBlock)) {
        const p = packets[k++]!;
        const rel = ((b[block.data + 1]! << 24) >> 16) | b[block.data + 2]!;
        expect(base + rel).toBe(Math.round((p.cts / 90000) * 1000));
        expect(b[block.data + 3]! & 0x80).toBe(p.sync ? 0x80 : 0);
        expect(Buffer.from(b.subarray(block.data + 4, block.end)).equals(p.data), `packet ${k - 1} bytes`).toBe(true);
      }
    }
    expect(k).toBe(packets.length);
    const info = kid(segment, E.Info)!;
    const duration = kid(info, E.Duration)!;
    expect(new DataView(b.buffer, b.byteOffset + duration.data, 8).getFloat64(0)).toBe(40_000);
    // ISO 639-2/T 'fra' is written in Matroska's bibliographic form.
    const language = kid(kid(kid(segment, E.Tracks)!, E.TrackEntry)!, E.Language)!;
    expect(new TextDecoder().decode(b.subarray(language.data, language.end))).toBe('fre');
  });

  it('starts a cluster when the 16-bit block time would overflow, even without a keyframe', async () => {
    const sink = new MemorySink();
    const writer = new WebmMuxWriter(sink, { video: { info: vp9Info(), offsetSeconds: 0, firstSeconds: 0 } });
    // One keyframe, then a frame every 4 s for 100 s.
    for (let i = 0; i <= 25; i++) writer.add('video', { data: new Uint8Array(10), dts: i * 360000, cts: i * 360000, duration: 360000, sync: i === 0 }, 0, 90000);
    await writer.finish();
    const b = sink.file();
    const { clusters, cues } = checkLayout(b);
    expect(cues.length).toBe(1);
    for (const c of clusters) {
      const base = uint(b, kid(c, E.Timestamp));
      for (const block of kids(c, E.SimpleBlock)) {
        const rel = ((b[block.data + 1]! << 24) >> 16) | b[block.data + 2]!;
        expect(rel).toBeGreaterThanOrEqual(0);
        expect(rel).toBeLessThan(32768);
        expect(base + rel).toBeLessThanOrEqual(100_000);
      }
    }
    expect(clusters.length).toBeGreaterThanOrEqual(4);
  });

  it('shifts every track when one would start before 0, keeping their sync', async () => {
    const sink = new MemorySink();
    const audio: DemuxedTrackInfo = { ...vp9Info(), kind: 'audio', codec: 'opus', family: 'opus', timescale: 48000, channels: 2, sampleRate: 48000 };
    // Opus from a WebM input: its own codec data.
    audio.matroska = { codecId: 'A_OPUS', codecPrivate: opusHeadFromDops(new Uint8Array([0, 2, 0x01, 0x38, 0, 0, 0xbb, 0x80, 0, 0, 0])), codecDelayNs: 6_500_000, seekPreRollNs: 0 };
    // Video whose edit list hides the first 100 ms: its first frame presents at -0.1 s.
    const writer = new WebmMuxWriter(sink, {
      video: { info: vp9Info(), offsetSeconds: -0.1, firstSeconds: -0.1 },
      audio: { info: audio, offsetSeconds: -312 / 48000, firstSeconds: -312 / 48000 },
    });
    writer.add('video', { data: new Uint8Array(5), dts: 0, cts: 0, duration: 9000, sync: true }, 0, 90000);
    writer.add('audio', { data: new Uint8Array(5), dts: 0, cts: 0, duration: 960, sync: true }, 0, 48000);
    writer.add('video', { data: new Uint8Array(5), dts: 9000, cts: 9000, duration: 9000, sync: false }, 0, 90000);
    writer.add('audio', { data: new Uint8Array(5), dts: 960, cts: 960, duration: 960, sync: true }, 0, 48000);
    await writer.finish();
    const b = sink.file();
    const [cluster] = checkLayout(b).clusters;
    const times = kids(cluster!, E.SimpleBlock).map((k) => ((b[k.data + 1]! << 24) >> 16) | b[k.data + 2]!);
    // Video -100 ms -> 0; audio -6.5 ms + 6.5 ms CodecDelay -> 100, 120 ms; video frame 2 at 100 ms.
    expect(times).toEqual([0, 100, 100, 120]);
    expect(writer.timing('audio').startSeconds).toBeCloseTo(0.1, 9);
    const entry = kids(kid(checkLayout(b).segment, E.Tracks)!, E.TrackEntry)[1]!;
    expect(uint(b, kid(entry, E.SeekPreRoll))).toBe(80_000_000);
  });
});
