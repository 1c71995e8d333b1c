/**
 * WebM/Matroska input, against ffmpeg: each input's packets as our demuxer reads them must be
 * ffmpeg's (`-c copy -f framemd5`: same bytes, same order, same key frames) at ffmpeg's times
 * (video and Vorbis exactly, Opus within 1 ms: see the module comment of demux.ts); laced,
 * header-stripped, Cue-less and unknown-size variants must read as the files they were made
 * from; one pass serves both tracks; MP4 sample descriptions match what ffmpeg writes; and bad
 * inputs fail with the right code.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { VidmuxError } from '../../errors';
import type { ByteSource } from '../../io';
import { NodeFileSink, NodeFileSource } from '../../node/files';
import { listBoxes } from '../boxes';
import { openTracks, type DemuxedTrack, type DemuxedTrackInfo } from '../demux';
import { remux } from '../remux';
import { MemorySource, RecordingSink } from '../../../test/fixtures/media-io';
import { ffmpeg, ffmpegPath, ffprobeJson } from '../../../test/fixtures/ffmpeg';
import { blockHead, buildWebm, EBML_ID, el, elements, headerStripped, lacedBlock, trackEntry, uintEl, unknownSizes, webmInputs } from '../../../test/fixtures/webm-media';
import { rejection as failure } from '../../../test/fixtures/rejection';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'vidmux-webm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Input = keyof typeof webmInputs;

interface ReadPacket {
  hash: string;
  /** The first byte. */
  first: number | undefined;
  size: number;
  dts: number;
  cts: number;
  duration: number;
  sync: boolean;
}

interface ReadTrack {
  info: DemuxedTrackInfo;
  packets: ReadPacket[];
}

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

/** Reads every packet of the opened tracks, taking them in decode-time order as remux does. */
async function readTracks(opened: { video: DemuxedTrack | null; audio: DemuxedTrack | null }): Promise<{ video?: ReadTrack; audio?: ReadTrack }> {
  const live = (['video', 'audio'] as const).filter((k) => opened[k]).map((k) => ({ kind: k, track: opened[k]!, at: -Infinity, done: false, packets: [] as ReadPacket[] }));
  for (;;) {
    const next = live.filter((t) => !t.done).sort((a, b) => a.at - b.at)[0];
    if (!next) break;
    const p = await next.track.next();
    if (!p) {
      next.done = true;
      continue;
    }
    next.packets.push({ hash: md5(p.data), first: p.data[0], size: p.data.length, dts: p.dts, cts: p.cts, duration: p.duration, sync: p.sync });
    next.at = p.dts / next.track.info.timescale;
  }
  const out: { video?: ReadTrack; audio?: ReadTrack } = {};
  for (const t of live) out[t.kind] = { info: t.track.info, packets: t.packets };
  return out;
}

async function readFile(file: string, want: { video?: boolean; audio?: boolean } = { video: true, audio: true }) {
  const source = await NodeFileSource.open(file);
  return readTracks(await openTracks(source, { video: want.video ? 'optional' : false, audio: want.audio ? 'optional' : false }));
}

/** ffmpeg's packets of one stream: `-c copy -f framemd5` (times in its time base) plus key flags from ffprobe. */
async function ffmpegPackets(file: string, kind: 'v' | 'a'): Promise<Array<{ pts: number; size: number; hash: string; key: boolean }>> {
  const { stdout } = await run(ffmpegPath, ['-v', 'error', '-copyts', '-i', file, '-map', `0:${kind}`, '-c', 'copy', '-f', 'framemd5', '-'], { maxBuffer: 64 << 20 });
  const tb = /#tb 0: (\d+)\/(\d+)/.exec(stdout)!;
  const unit = Number(tb[1]) / Number(tb[2]);
  const rows = stdout.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(',').map((s) => s.trim()));
  const probe = await ffprobeJson(file, ['-show_packets', '-select_streams', kind]);
  const keys = (probe.packets as Array<{ flags: string }>).map((p) => p.flags.startsWith('K'));
  return rows.map((c, i) => ({ pts: Number(c[2]) * unit, size: Number(c[4]), hash: c[5]!, key: keys[i]! }));
}

/** Our packet's presentation time in seconds on the WebM's timeline (Opus: block time less CodecDelay, as ffmpeg reads it). */
function presentation(t: ReadTrack, p: ReadPacket): number {
  const delay = t.info.matroska && t.info.codec === 'opus' ? t.info.matroska.codecDelayNs / 1e9 : 0;
  return p.cts / t.info.timescale - delay;
}

interface Case {
  name: string;
  input: Input;
  codecs: { video?: string; audio?: string };
  /** Worst packet time difference allowed against ffmpeg's, seconds (ffprobe prints microseconds). */
  tolerance: { video?: number; audio?: number };
}

const EXACT = 1e-6;
/** Opus: WebM's block times are whole ms, ffmpeg subtracts CodecDelay rounded to ms, we keep the packets on their sample clock. */
const OPUS = 0.001 + 1e-6;

const cases: Case[] = [
  { name: 'VP9 + Opus', input: 'vp9Opus', codecs: { video: 'vp09.00.10.08', audio: 'opus' }, tolerance: { video: EXACT, audio: OPUS } },
  { name: 'AV1 + Opus', input: 'av1Opus', codecs: { video: 'av01.0.00M.08', audio: 'opus' }, tolerance: { video: EXACT, audio: OPUS } },
  { name: 'VP8 + Vorbis', input: 'vp8Vorbis', codecs: { video: 'vp8', audio: 'vorbis' }, tolerance: { video: EXACT, audio: EXACT } },
  { name: 'VP9 only', input: 'vp9Only', codecs: { video: 'vp09.00.10.08' }, tolerance: { video: EXACT } },
  { name: 'Opus only', input: 'opusOnly', codecs: { audio: 'opus' }, tolerance: { audio: OPUS } },
  { name: 'without Cues', input: 'noCues', codecs: { video: 'vp09.00.10.08', audio: 'opus' }, tolerance: { video: EXACT, audio: OPUS } },
  { name: 'live: unknown-size Segment and Clusters', input: 'live', codecs: { video: 'vp09.00.10.08', audio: 'opus' }, tolerance: { video: EXACT, audio: OPUS } },
  { name: 'laced Opus (Xiph, EBML and fixed-size lacing)', input: 'laced', codecs: { video: 'vp09.00.10.08', audio: 'opus' }, tolerance: { video: EXACT, audio: OPUS } },
];

describe('WebM packets match ffmpeg', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const file = await webmInputs[c.input]();
      const ours = await readFile(file);
      for (const kind of ['video', 'audio'] as const) {
        const t = ours[kind];
        expect(t?.info.codec, `${kind} codec`).toBe(c.codecs[kind]);
        if (!t) continue;
        const theirs = await ffmpegPackets(file, kind === 'video' ? 'v' : 'a');
        const what = `${c.name} ${kind}`;
        expect(t.packets.map((p) => `${p.size} ${p.hash}`), `${what} packet bytes`).toEqual(theirs.map((p) => `${p.size} ${p.hash}`));
        expect(t.packets.map((p) => p.sync), `${what} key frames`).toEqual(theirs.map((p) => p.key));
        const worst = t.packets.reduce((m, p, i) => Math.max(m, Math.abs(presentation(t, p) - theirs[i]!.pts)), 0);
        expect(worst, `${what} worst time difference`).toBeLessThanOrEqual(c.tolerance[kind]!);
        // No reordering: decode time is presentation time; times only go forward.
        expect(t.packets.every((p, i) => p.dts === p.cts && (i === 0 || p.dts > t.packets[i - 1]!.dts))).toBe(true);
        // Each packet lasts until the next.
        expect(t.packets.every((p, i) => i + 1 === t.packets.length || p.dts + p.duration === t.packets[i + 1]!.dts)).toBe(true);
        expect(t.packets.at(-1)!.duration).toBeGreaterThan(0);
      }
    });
  }

  it('reads laced, header-stripped and unknown-size files as the files they were made from', async () => {
    const base = await readFile(await webmInputs.vp9OpusCbr());
    const laced = await readFile(await webmInputs.laced());
    // Same packets at the same times (the lace's frames timed by their Opus TOC).
    expect(laced.audio!.packets).toEqual(base.audio!.packets);
    expect(laced.video!.packets).toEqual(base.video!.packets);

    // Header stripping: the frames that started with the stripped byte, whole again (the others
    // were left out of the file).
    const { file, stripped } = headerStripped(new Uint8Array(readFileSync(await webmInputs.vp9OpusCbr())), 2);
    const fromStripped = await readTracks(await openTracks(new MemorySource(file, 4096), { audio: true }));
    const expected = base.audio!.packets.filter((p) => p.first === stripped).map((p) => p.hash);
    expect(expected.length).toBeGreaterThan(50);
    expect(fromStripped.audio!.packets.map((p) => p.hash)).toEqual(expected);

    // Every size set to unknown, read from memory in small chunks (a plain stream, not a file).
    const vp9Opus = new Uint8Array(readFileSync(await webmInputs.vp9Opus()));
    const unknown = await readTracks(await openTracks(new MemorySource(unknownSizes(vp9Opus), 1000), { video: true, audio: true }));
    const known = await readFile(await webmInputs.vp9Opus());
    expect(unknown.video!.packets).toEqual(known.video!.packets);
    expect(unknown.audio!.packets).toEqual(known.audio!.packets);
  });

  it('reads Xiph-laced Vorbis as the unlaced file, the frames spread over their block', async () => {
    const base = await readFile(await webmInputs.vp8Vorbis());
    const laced = await readFile(await webmInputs.vorbisLaced());
    expect(laced.audio!.packets.map((p) => p.hash)).toEqual(base.audio!.packets.map((p) => p.hash));
    expect(laced.video!.packets).toEqual(base.video!.packets);
    const worst = laced.audio!.packets.reduce((m, p, i) => Math.max(m, Math.abs(p.dts - base.audio!.packets[i]!.dts)), 0);
    // Vorbis packets are 128 or 1024 samples (2.7 or 21.3 ms): even shares of a three-frame block stay within a few ms.
    expect(worst).toBeLessThanOrEqual(20);
  });

  it('reads both tracks in one pass', async () => {
    const bytes = readFileSync(await webmInputs.vp9Opus());
    let read = 0;
    const inner = new MemorySource(bytes, 4096);
    const source: ByteSource = {
      size: inner.size,
      stream: (start, end, signal) =>
        inner.stream(start, end, signal).pipeThrough(
          new TransformStream<Uint8Array, Uint8Array>({
            transform(chunk, ctl) {
              read += chunk.length;
              ctl.enqueue(chunk);
            },
          }),
        ),
    };
    const got = await readTracks(await openTracks(source, { video: true, audio: true }));
    expect(got.video!.packets.length).toBe(60);
    expect(got.audio!.packets.length).toBe(101);
    // The 16-byte sniff, then the file once.
    expect(read).toBeLessThanOrEqual(bytes.length + 4096);
  });

  it('describes the tracks: title, language, sizes, Matroska codec data, timeline', async () => {
    const got = await readFile(await webmInputs.vp9Opus());
    const v = got.video!.info;
    const a = got.audio!.info;
    expect(v).toMatchObject({ kind: 'video', family: 'vp9', timescale: 1000, width: 160, height: 120, title: 'WebM clip', language: 'und', fragmented: false });
    expect(a).toMatchObject({ kind: 'audio', family: 'opus', timescale: 48000, channels: 2, sampleRate: 48000, title: 'WebM clip', language: 'eng' });
    expect(v.matroska).toMatchObject({ codecId: 'V_VP9', codecPrivate: null, codecDelayNs: 0 });
    expect(a.matroska).toMatchObject({ codecId: 'A_OPUS', codecDelayNs: 6_500_000, seekPreRollNs: 80_000_000 });
    expect(new TextDecoder().decode(a.matroska!.codecPrivate!.subarray(0, 8))).toBe('OpusHead');
    // ffmpeg's WebM starts the video at 7 ms and the audio's first packet at 0: time 0 is the
    // audio's first decoded sample (the packet less its 312-sample pre-skip), the video 7 ms later.
    expect(v.edits).toEqual([{ segmentDuration: 7, mediaTime: -1 }, { segmentDuration: 0, mediaTime: 7 }]);
    expect(a.edits).toEqual([{ segmentDuration: 0, mediaTime: 312 }]);
    expect(v.clockOrigin).toBe(0);

    const vorbis = await readFile(await webmInputs.vp8Vorbis());
    expect(vorbis.video!.info).toMatchObject({ family: 'vp8', codec: 'vp8', stsd: new Uint8Array(0) });
    expect(vorbis.audio!.info).toMatchObject({ family: 'vorbis', codec: 'vorbis', timescale: 1000, channels: 2, sampleRate: 48000 });
    expect(vorbis.audio!.info.matroska!.codecPrivate![0]).toBe(2); // Xiph-laced headers: 3 packets
  });

  it('builds the MP4 sample descriptions ffmpeg writes (vpcC, av1C with the sequence header, dOps)', async () => {
    for (const input of ['vp9Opus', 'av1Opus'] as const) {
      const file = await webmInputs[input]();
      const ref = join(dir, `${input}-ffmpeg.mp4`);
      await ffmpeg(['-i', file, '-c', 'copy', '-strict', 'experimental', ref]);
      const got = await readFile(file);
      const theirs = sampleDescriptions(new Uint8Array(readFileSync(ref)));
      for (const kind of ['video', 'audio'] as const) {
        const ours = configBox(got[kind]!.info.stsd);
        expect(ours.type).toBe(theirs[kind].type);
        expect([...ours.body], `${input} ${kind} ${ours.type}`).toEqual([...theirs[kind].body]);
      }
    }
  });
});

/** The decoder configuration box (vpcC, av1C, dOps) of a one-entry stsd. */
function configBox(stsd: Uint8Array): { type: string; body: Uint8Array } {
  const entry = listBoxes(stsd, 16)[0]!;
  const fields = entry.type === 'Opus' ? 28 : 78;
  const box = listBoxes(stsd, entry.body + fields, entry.end)[0]!;
  return { type: box.type, body: stsd.subarray(box.body, box.end) };
}

/** The video and audio config boxes of an MP4 (first trak of each kind). */
function sampleDescriptions(mp4: Uint8Array): Record<'video' | 'audio', { type: string; body: Uint8Array }> {
  const moov = listBoxes(mp4).find((b) => b.type === 'moov')!;
  const out: Partial<Record<'video' | 'audio', { type: string; body: Uint8Array }>> = {};
  for (const trak of listBoxes(mp4, moov.body, moov.end).filter((b) => b.type === 'trak')) {
    const path = ['mdia', 'minf', 'stbl', 'stsd'];
    let box = trak;
    for (const type of path) box = listBoxes(mp4, box.body, box.end).find((b) => b.type === type)!;
    const stsd = mp4.subarray(box.start, box.end);
    const c = configBox(stsd);
    out[c.type === 'dOps' ? 'audio' : 'video'] = c;
  }
  return out as Record<'video' | 'audio', { type: string; body: Uint8Array }>;
}


/** Remuxes `bytes` as one input to MP4 (in memory); resolves to the error it fails with. */
async function remuxFailure(bytes: Uint8Array, opts: { as?: 'input' | 'video' | 'audio' } = {}): Promise<VidmuxError> {
  const sink = new RecordingSink();
  const err = await failure(remux({ [opts.as ?? 'input']: new MemorySource(bytes, 4096), sink }));
  expect(sink.aborted).toBe(true);
  expect(sink.closed).toBe(false);
  return err;
}

describe('WebM input failures', () => {
  it('fails a truncated file with `truncated` (cut in a block, in the header, between clusters)', async () => {
    const full = new Uint8Array(readFileSync(await webmInputs.vp9Opus()));
    for (const cut of [Math.floor(full.length * 0.6), 200, 400]) {
      const err = await remuxFailure(full.subarray(0, cut));
      expect(err.code, `cut at ${cut}`).toBe('truncated');
    }
    // At a cluster boundary: the Segment's size says more is coming.
    const seg = elements(full).find((e) => e.id === EBML_ID.Segment)!;
    const clusters = elements(full, seg.data, seg.end).filter((e) => e.id === EBML_ID.Cluster);
    const err = await remuxFailure(full.subarray(0, clusters[2]!.start));
    expect(err.code).toBe('truncated');
    expect(err.message).toMatch(/inside its Segment/);
  });

  it('fails bad sizes and garbage with `corrupt_media` and the byte offset', async () => {
    const full = new Uint8Array(readFileSync(await webmInputs.vp9Opus()));
    const seg = elements(full).find((e) => e.id === EBML_ID.Segment)!;
    const cluster = elements(full, seg.data, seg.end).find((e) => e.id === EBML_ID.Cluster)!;
    const block = elements(full, cluster.data, cluster.end).find((e) => e.id === EBML_ID.SimpleBlock)!;
    // A block claiming more than its cluster holds.
    const big = full.slice();
    big.set([0x10, 0xff, 0xff, 0xff], block.sizeAt - 0); // a 4-byte size: 0x0fffffff
    const bigErr = await remuxFailure(big);
    expect(bigErr.code).toBe('corrupt_media');
    expect(bigErr.message).toMatch(new RegExp(`at byte ${block.start}\\b`));
    // A zero byte where an element ID should be.
    const zero = full.slice();
    zero[block.start] = 0;
    const zeroErr = await remuxFailure(zero);
    expect(zeroErr.code).toBe('corrupt_media');
    expect(zeroErr.message).toMatch(new RegExp(`byte ${block.start}\\b`));
    // Not EBML after the magic.
    const junk = new Uint8Array(4096).map((_, i) => (i * 7919) % 251);
    junk.set([0x1a, 0x45, 0xdf, 0xa3, 0x80]);
    expect((await remuxFailure(junk)).code).toBe('corrupt_media');
  });

  it('refuses a huge CodecPrivate and never allocates what a hostile size asks', async () => {
    const file = synthetic({ codecPrivateSize: 2 * 1024 * 1024 });
    const err = await remuxFailure(file);
    expect(err.code).toBe('corrupt_media');
    expect(err.message).toMatch(/CodecPrivate/);
    // A block claiming 1 GB in an unknown-size cluster of a small file: past its Segment's end is
    // corrupt; in a Segment of unknown size, the file is cut short.
    expect((await remuxFailure(synthetic({ blockSize: 2 ** 30 }))).code).toBe('corrupt_media');
    expect((await remuxFailure(synthetic({ blockSize: 2 ** 30, unknownSegment: true }))).code).toBe('truncated');
  });

  it('refuses codecs other than VP8/VP9/AV1/Opus/Vorbis, naming the CodecID', async () => {
    const mkv = new Uint8Array(readFileSync(await webmInputs.h264Mkv()));
    const err = await remuxFailure(mkv);
    expect(err.code).toBe('unsupported');
    expect(err.message).toMatch(/V_MPEG4\/ISO\/AVC/);
    const audioErr = await remuxFailure(mkv, { as: 'audio' });
    expect(audioErr.code).toBe('unsupported');
    expect(audioErr.message).toMatch(/A_AAC/);
  });

  it('refuses encrypted and compressed tracks', async () => {
    const err = await remuxFailure(new Uint8Array(readFileSync(await webmInputs.encrypted())));
    expect(err.code).toBe('unsupported');
    expect(err.message).toMatch(/encrypted/);
    const zlib = synthetic({ compression: 0 });
    const zErr = await remuxFailure(zlib);
    expect(zErr.code).toBe('unsupported');
    expect(zErr.message).toMatch(/compressed \(zlib\)/);
    // Audio only from the encrypted file: its audio isn't encrypted.
    const sink = new RecordingSink();
    await remux({ audio: new MemorySource(new Uint8Array(readFileSync(await webmInputs.encrypted()))), sink });
    expect(sink.closed).toBe(true);
  });

  it('says which track is missing', async () => {
    const err = await remuxFailure(new Uint8Array(readFileSync(await webmInputs.opusOnly())), { as: 'video' });
    expect(err.code).toBe('bad_input');
    expect(err.message).toMatch(/no video track \(it has A_OPUS\)/);
  });

  it('refuses VP8 and Vorbis into MP4, saying they fit WebM', async () => {
    const bytes = new Uint8Array(readFileSync(await webmInputs.vp8Vorbis()));
    const err = await remuxFailure(bytes);
    expect(err.code).toBe('unsupported');
    expect(err.message).toBe("VP8 video can only be saved as WebM: MP4 can't hold it without re-encoding.");
    const audioErr = await remuxFailure(bytes, { as: 'audio' });
    expect(audioErr.message).toBe("Vorbis audio can only be saved as WebM: MP4 can't hold it without re-encoding.");
  });

  it('refuses two WebM files joined one after the other', async () => {
    const one = synthetic({ unknownSegment: true });
    const err = await remuxFailure(new Uint8Array([...one, ...one]));
    expect(err.code).toBe('unsupported');
    expect(err.message).toMatch(/several WebM files joined/);
  });
});

/**
 * A tiny hand-made WebM: one Opus track (its packets all one 20 ms CELT frame) in one cluster of
 * unknown size, with whatever oddity `opts` asks for.
 */
function synthetic(opts: { codecPrivateSize?: number; blockSize?: number; compression?: number; unknownSegment?: boolean }): Uint8Array {
  const head = new Uint8Array(19);
  head.set(new TextEncoder().encode('OpusHead'));
  head.set([1, 2, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0], 8);
  const priv = opts.codecPrivateSize ? new Uint8Array(opts.codecPrivateSize) : head;
  const encodings =
    opts.compression === undefined
      ? []
      : [el(EBML_ID.ContentEncodings, el(EBML_ID.ContentEncoding, el(EBML_ID.ContentCompression, uintEl(EBML_ID.ContentCompAlgo, opts.compression))))];
  const blocks: Uint8Array[] = [];
  for (let i = 0; i < 5; i++) blocks.push(el(EBML_ID.SimpleBlock, blockHead(1, i * 20, 0x80), new Uint8Array([0xfc, 1, 2, 3])));
  if (opts.blockSize) {
    // A SimpleBlock header claiming `blockSize` bytes (8-byte size), then far fewer.
    const size = [0, 0, 0, 0, 0, 0, 0].map((_, i) => Math.floor(opts.blockSize! / 2 ** (8 * (6 - i))) & 0xff);
    blocks.push(new Uint8Array([0xa3, 0x01, ...size]), blockHead(1, 100, 0x80), new Uint8Array([0xfc]));
  }
  return buildWebm({
    tracks: [trackEntry(1, 2, 'A_OPUS', el(0x63a2, priv), ...encodings)],
    clusters: [{ time: 0, blocks, unknownSize: true }],
    ...(opts.unknownSegment ? { unknownSegment: true } : {}),
  });
}

describe('WebM block timing', () => {
  it('times BlockGroups (BlockDuration, ReferenceBlock), laces, negative offsets and a 0.1 ms timestamp scale', async () => {
    const simple = (track: number, relative: number, flags: number, ...frames: number[]) => el(EBML_ID.SimpleBlock, blockHead(track, relative, flags), new Uint8Array(frames));
    const group = (block: Uint8Array, ...more: Uint8Array[]) => el(EBML_ID.BlockGroup, el(0xa1, block), ...more);
    const ref = (v: number) => el(0xfb, new Uint8Array([v & 0xff]));
    const frame = (n: number) => new Uint8Array([0x86, n]);
    const file = buildWebm({
      timestampScale: 100_000,
      tracks: [trackEntry(1, 1, 'V_VP9', el(0xe0, uintEl(0xb0, 64), uintEl(0xba, 48))), trackEntry(2, 2, 'A_VORBIS', el(0x63a2, new Uint8Array([2, 1, 1, 1, 2, 3])))],
      clusters: [
        {
          time: 0,
          blocks: [
            group(new Uint8Array([...blockHead(1, 0, 0), 0x82, 1])),
            // Three Vorbis frames, Xiph-laced: no times of their own, no block duration.
            lacedBlock(2, 0, true, [frame(1), frame(2), frame(3)], 'xiph'),
            group(new Uint8Array([...blockHead(1, 333, 0), ...frame(2)]), ref(-333)),
            simple(1, 667, 0, 0x86, 3),
          ],
        },
        {
          time: 2000,
          unknownSize: true,
          blocks: [
            simple(1, -1000, 0x80, 0x82, 4),
            // EBML-laced with a BlockDuration: the frames share it.
            group(lacedBlock(2, -1400, true, [frame(4), frame(5), frame(6)], 'ebml').subarray(9), el(0x9b, new Uint8Array([0x02, 0x58]))),
            group(new Uint8Array([...blockHead(1, -667, 0), ...frame(5)]), ref(-333), el(0x9b, new Uint8Array([0x01, 0x4d]))),
          ],
        },
      ],
    });
    const got = await readTracks(await openTracks(new MemorySource(file, 7), { video: true, audio: true }));
    const v = got.video!;
    const a = got.audio!;
    expect(v.info.timescale).toBe(10000);
    expect(v.packets.map((p) => [p.dts, p.duration, p.sync])).toEqual([
      [0, 333, true],
      [333, 334, false],
      [667, 333, false],
      [1000, 333, true],
      [1333, 333, false],
    ]);
    expect(v.packets.map((p) => p.size)).toEqual([2, 2, 2, 2, 2]);
    expect(a.info.timescale).toBe(10000);
    expect(a.packets.map((p) => [p.dts, p.duration, p.sync, p.first])).toEqual([
      [0, 200, true, 0x86],
      [200, 200, true, 0x86],
      [400, 200, true, 0x86],
      [600, 200, true, 0x86],
      [800, 200, true, 0x86],
      [1000, 200, true, 0x86],
    ]);
    expect(v.info.edits).toEqual([{ segmentDuration: 0, mediaTime: 0 }]);
    expect(v.info.width).toBe(64);
  });
});

describe('WebM to MP4 timing', () => {
  it('remuxes a 2 s VP9 + Opus WebM quickly', async () => {
    const file = await webmInputs.vp9Opus();
    const out = join(dir, 'timed.mp4');
    const t0 = performance.now();
    await remux({ input: await NodeFileSource.open(file), sink: new NodeFileSink(out) });
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(1000);
  });
});
