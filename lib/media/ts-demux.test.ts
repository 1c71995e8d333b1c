/**
 * MPEG-TS to MP4, against ffmpeg and against the TS itself. Each input is remuxed by us
 * (`remux({ input })`) and by `ffmpeg -i in.ts -c copy` (which starts the output the way we must),
 * then:
 * - every packet of every stream is there, in order, with the TS's timestamps: ffprobe's pts/dts
 *   of our output equal the TS's (less the program's start) to the microsecond, and ffmpeg's
 *   output's within its 1 ms edit-list precision; durations and sync flags equal ffmpeg's;
 * - packet bytes equal ffmpeg's (`-c copy -f framemd5`), except HEVC, where ffmpeg keeps a
 *   trailing zero byte after the last NAL unit that is not part of it, and a stream repeating its
 *   SPS/PPS on every frame, from whose non-keyframes ffmpeg drops them;
 * - decoded frames and audio samples (md5 of each, `-f framemd5` decoding) equal those of
 *   decoding the TS itself, and our file decodes without errors.
 * Then one-pass reading, streaming sources, renditions on one clock, and bad inputs.
 */
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VidmuxError } from '../errors';
import type { ByteSource } from '../io';
import { NodeFileSink, NodeFileSource } from '../node/files';
import { openTracks, remux, type RemuxOptions } from '.';
import { listBoxes, readU32 } from './boxes';
import { crc32Mpeg } from './ts/bits';
import { MemorySource, RecordingSink } from '../../test/fixtures/media-io';
import { cachedMedia, ffmpeg, ffprobeJson } from '../../test/fixtures/ffmpeg';
import {
  decodedHashes,
  decodeErrors,
  dropPesTimestamps,
  ffmpegCopy,
  packetHashes,
  patchStreamTypes,
  payloadAt,
  pidAt,
  pmtPid,
  probe,
  rawPts,
  stripSdt,
  tsInputs,
  unitStarts,
  withoutPid,
  type ProbedPacket,
} from '../../test/fixtures/ts-media';

const dir = mkdtempSync(join(tmpdir(), 'vidmux-ts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** ffprobe prints times to the microsecond. */
const PRINTED = 2e-6;
/** ffmpeg's MP4 edit lists are in milliseconds (its movie timescale is 1000). */
const FFMPEG_EDIT = 0.001 + PRINTED;
/** One tick of the 90 kHz MPEG-TS clock. */
const TICK = 1 / 90000;
const VIDEO_PID = 0x100;

async function remuxTo(name: string, opts: Omit<RemuxOptions, 'sink'>): Promise<string> {
  const out = join(dir, `${name}.mp4`);
  await remux({ ...opts, sink: new NodeFileSink(out) });
  return out;
}

function worst(a: ProbedPacket[], b: ProbedPacket[], f: (p: ProbedPacket) => number, shiftB = 0): number {
  return a.reduce((m, p, i) => Math.max(m, Math.abs(f(p) - (f(b[i]!) - shiftB))), 0);
}

interface Case {
  name: string;
  input: keyof typeof tsInputs;
  /** Streams whose packet bytes must equal ffmpeg's. */
  sameBytes: Array<'v' | 'a'>;
  codecs: { video?: string; audio?: string };
}

const cases: Case[] = [
  { name: 'H.264 (B-frames) + AAC', input: 'h264Aac', sameBytes: ['v', 'a'], codecs: { video: 'h264', audio: 'aac' } },
  { name: 'H.264 + AAC 44.1 kHz mono', input: 'h264Aac44', sameBytes: ['v', 'a'], codecs: { video: 'h264', audio: 'aac' } },
  { name: 'HEVC + AAC', input: 'hevcAac', sameBytes: ['a'], codecs: { video: 'hevc', audio: 'aac' } },
  { name: 'H.264 + MP3', input: 'h264Mp3', sameBytes: ['v', 'a'], codecs: { video: 'h264', audio: 'mp3' } },
  { name: 'H.264 + AC-3 (stream type 0x81)', input: 'h264Ac3', sameBytes: ['v', 'a'], codecs: { video: 'h264', audio: 'ac3' } },
  { name: 'H.264 + AC-3 (DVB: 0x06 + AC-3 descriptor)', input: 'h264Ac3SystemB', sameBytes: ['v', 'a'], codecs: { video: 'h264', audio: 'ac3' } },
  { name: 'H.264 + E-AC-3 5.1', input: 'h264Eac3', sameBytes: ['v', 'a'], codecs: { video: 'h264', audio: 'eac3' } },
  { name: 'a stream that starts mid-GOP', input: 'midGop', sameBytes: ['v', 'a'], codecs: { video: 'h264', audio: 'aac' } },
  // ffmpeg drops the repeated SPS/PPS from frames that aren't keyframes; we copy every NAL unit
  // (the frames decode the same, checked below).
  { name: 'a stream that starts mid-GOP, with SPS/PPS before every frame', input: 'midGopRepeatHeaders', sameBytes: ['a'], codecs: { video: 'h264', audio: 'aac' } },
  { name: 'a stream crossing the 33-bit PTS wrap', input: 'ptsWrap', sameBytes: ['v', 'a'], codecs: { video: 'h264', audio: 'aac' } },
  { name: 'HLS segments joined', input: 'hlsJoined', sameBytes: ['v', 'a'], codecs: { video: 'h264', audio: 'aac' } },
  { name: 'audio only', input: 'aacOnly', sameBytes: ['a'], codecs: { audio: 'aac' } },
  { name: 'video only', input: 'h264Only', sameBytes: ['v'], codecs: { video: 'h264' } },
];

describe('MPEG-TS to MP4 matches ffmpeg -c copy and the TS itself', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const input = await tsInputs[c.input]();
      const out = await remuxTo(c.input, { input: await NodeFileSource.open(input) });
      const ref = await ffmpegCopy(input);
      const [ours, theirs, ts] = await Promise.all([probe(out), probe(ref), probe(input)]);
      // The program's start: time 0 of both outputs.
      const t0 = Math.min(ts.video?.startTime ?? Infinity, ts.audio?.startTime ?? Infinity);
      expect(ours.formatStart).toBe(0);
      for (const kind of ['video', 'audio'] as const) {
        const o = ours[kind];
        const r = theirs[kind];
        const t = ts[kind];
        expect(o?.codec, `${kind} codec`).toBe(c.codecs[kind]);
        if (!o || !r || !t) continue;
        const what = `${c.name} ${kind}`;
        // Same packets as ffmpeg's, in the same order, with the same durations and sync flags.
        expect(o.packets.length, `${what} packet count`).toBe(r.packets.length);
        expect(o.packets.map((p) => p.key), `${what} sync samples`).toEqual(r.packets.map((p) => p.key));
        // ffmpeg rescales each audio frame's rounded 90 kHz PTS on its own, so at 44.1 kHz its
        // durations wobble by a sample; ours follow the sample clock: every frame its exact length.
        const rate = ours.audio?.sampleRate ?? 1;
        const sample = kind === 'audio' ? 1 / rate : 0;
        expect(worst(o.packets, r.packets, (p) => p.duration), `${what} durations vs ffmpeg`).toBeLessThanOrEqual(PRINTED + sample);
        if (kind === 'audio') {
          const frame = o.packets[0]!.duration;
          const samples = { aac: 1024, mp3: 1152, ac3: 1536, eac3: 1536 }[o.codec as 'aac'];
          expect(Math.abs(frame - samples / rate), `${what} frame length`).toBeLessThanOrEqual(PRINTED);
          expect(o.packets.every((p) => Math.abs(p.duration - frame) <= PRINTED), `${what}: every frame its exact length`).toBe(true);
        }
        expect(worst(o.packets, r.packets, (p) => p.pts), `${what} pts vs ffmpeg`).toBeLessThanOrEqual(FFMPEG_EDIT);
        expect(Math.abs(o.startTime - r.startTime), `${what} start vs ffmpeg`).toBeLessThanOrEqual(FFMPEG_EDIT);
        // Exactly the TS's times. Video before the first keyframe is dropped (as ffmpeg drops it).
        const skip = t.packets.length - o.packets.length;
        expect(skip, `${what}: only video before the first keyframe is left out`).toBe(kind === 'video' ? t.packets.findIndex((p) => p.key) : 0);
        const kept = t.packets.slice(skip);
        // Audio: within one sample. The TS stores each PES's first frame time rounded to 90 kHz, and
        // ffprobe interpolates the other frames of the PES in whole 90 kHz ticks.
        const exact = kind === 'video' ? PRINTED : 1 / rate + PRINTED;
        expect(worst(o.packets, kept, (p) => p.pts, t0), `${what} pts vs the TS`).toBeLessThanOrEqual(exact);
        expect(worst(o.packets, kept, (p) => p.dts, t0), `${what} dts vs the TS`).toBeLessThanOrEqual(exact);
        expect(Math.abs(o.startTime - (kept[0]!.pts - t0)), `${what} start vs the TS`).toBeLessThanOrEqual(TICK);
      }
      expect(ours.audio?.sampleRate).toBe(theirs.audio?.sampleRate);
      expect(ours.audio?.channels).toBe(theirs.audio?.channels);
      expect(ours.audio?.language).toBe(theirs.audio?.language);
      expect([ours.video?.width, ours.video?.height]).toEqual([theirs.video?.width, theirs.video?.height]);
      for (const kind of ['v', 'a'] as const) {
        if (!(kind === 'v' ? ours.video : ours.audio)) continue;
        if (c.sameBytes.includes(kind)) expect(await packetHashes(out, kind), `${c.name} ${kind} packet bytes`).toEqual(await packetHashes(ref, kind));
        const [decoded, fromTs] = await Promise.all([decodedHashes(out, kind), decodedHashes(input, kind)]);
        expect(decoded.length).toBeGreaterThan(0);
        expect(decoded, `${c.name} ${kind} decodes to the TS's frames`).toEqual(fromTs);
      }
      expect(await decodeErrors(out)).toBe('');
    });
  }

  it('leaves out audio frames that repeat time already written (joined with an overlap), keeping every other at its time', async () => {
    const input = await tsInputs.loopOverlap();
    const out = await remuxTo('loop-overlap', { input: await NodeFileSource.open(input) });
    const [ours, ts] = await Promise.all([probe(out), probe(input)]);
    const t0 = Math.min(ts.video!.startTime, ts.audio!.startTime);
    expect(ours.video!.packets.length).toBe(ts.video!.packets.length);
    const left = ts.audio!.packets.length - ours.audio!.packets.length;
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(3);
    // Every frame we kept is one of the TS's, at its time (within a sample), in a gapless clock.
    const rate = ours.audio!.sampleRate;
    for (const p of ours.audio!.packets) {
      expect(Math.min(...ts.audio!.packets.map((q) => Math.abs(q.pts - t0 - p.pts)))).toBeLessThanOrEqual(1 / rate + PRINTED);
    }
    expect(worst(ours.video!.packets, ts.video!.packets, (p) => p.pts, t0)).toBeLessThanOrEqual(PRINTED);
    // (The splice itself upsets the H.264 decoder the same way in the TS: compare frames, not logs.)
    expect(await decodedHashes(out, 'v')).toEqual(await decodedHashes(input, 'v'));
  });

  it('the wrap fixture really crosses 2^33, and the mid-GOP one starts without a keyframe', async () => {
    const wrap = rawPts(readFileSync(await tsInputs.ptsWrap()), VIDEO_PID);
    expect(wrap[0]).toBeGreaterThan(2 ** 33 - 5 * 90000);
    expect(wrap.at(-1)).toBeLessThan(5 * 90000);
    const mid = await probe(await tsInputs.midGop());
    expect(mid.video!.packets[0]!.key).toBe(false);
    expect(mid.video!.packets.findIndex((p) => p.key)).toBeGreaterThan(5);
  });

  it('takes the picture size from the SPS (cropping) and its pixel aspect (pasp)', async () => {
    for (const [name, size, pasp] of [
      ['h264CropSar', [640, 360], [4, 3]],
      ['hevcCrop', [320, 180], null],
    ] as const) {
      const out = await remuxTo(name, { input: await NodeFileSource.open(await tsInputs[name]()) });
      const { video } = await openTracks(await NodeFileSource.open(out), { video: true });
      expect([video!.info.width, video!.info.height], name).toEqual(size);
      const stsd = video!.info.stsd;
      const at = Buffer.from(stsd).indexOf('pasp');
      expect(at >= 0 ? [readU32(stsd, at + 4), readU32(stsd, at + 8)] : null, name).toEqual(pasp);
      video!.close();
      expect(await decodedHashes(out, 'v')).toEqual(await decodedHashes(await tsInputs[name](), 'v'));
    }
  });

  it('builds the sample entries players expect (hvc1, mp4a OTI 0x6B, ac-3, ec-3)', async () => {
    const tags = async (file: string) => ((await ffprobeJson(file)).streams as Array<{ codec_tag_string: string }>).map((s) => s.codec_tag_string);
    expect(await tags(join(dir, 'hevcAac.mp4'))).toEqual(['hvc1', 'mp4a']);
    expect(await tags(join(dir, 'h264Ac3.mp4'))).toEqual(['avc1', 'ac-3']);
    expect(await tags(join(dir, 'h264Eac3.mp4'))).toEqual(['avc1', 'ec-3']);
    const mp3 = await openTracks(await NodeFileSource.open(await tsInputs.h264Mp3()), { audio: true });
    expect(mp3.audio!.info).toMatchObject({ codec: 'mp4a.6B', family: 'mp3', sampleRate: 44100, timescale: 44100 });
    mp3.audio!.close();
  });
});

/** A file's bytes with the creation and modification times (mvhd, tkhd, mdhd: the wall clock at muxing) zeroed. */
function timeless(file: string): Buffer {
  const b = readFileSync(file);
  const walk = (from: number, to: number) => {
    for (const box of listBoxes(b, from, to)) {
      if (['moov', 'trak', 'mdia'].includes(box.type)) walk(box.body, box.end);
      if (['mvhd', 'tkhd', 'mdhd'].includes(box.type)) b.fill(0, box.body + 4, box.body + 4 + (b[box.body] === 1 ? 16 : 8));
    }
  };
  walk(0, b.length);
  return b;
}

/** A source that counts the bytes it hands out. */
function counting(inner: ByteSource): ByteSource & { read: number } {
  const c = {
    read: 0,
    size: inner.size,
    stream: (start?: number, end?: number, signal?: AbortSignal) =>
      inner.stream(start, end, signal).pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, ctl) {
            c.read += chunk.length;
            ctl.enqueue(chunk);
          },
        }),
      ),
  };
  return c;
}

/** A download in progress: size unknown. */
function unsized(inner: ByteSource): ByteSource {
  return { size: null, stream: (start, end, signal) => inner.stream(start, end, signal) };
}

describe('one pass, streaming, renditions', () => {
  it('reads a TS once for both tracks, from a source of unknown size, to the same file', async () => {
    const bytes = readFileSync(await tsInputs.hlsJoined());
    const source = counting(unsized(new MemorySource(bytes, 4096)));
    const out = await remuxTo('one-pass', { input: source });
    // The header sniff (16 + 1024 bytes) and one pass.
    expect(source.read).toBeLessThanOrEqual(bytes.length + 1040);
    const fromFile = await remuxTo('one-pass-file', { input: await NodeFileSource.open(await tsInputs.hlsJoined()) });
    expect(timeless(out).equals(timeless(fromFile))).toBe(true);
    // video and audio given as the same source: the same single pass.
    const same = counting(new MemorySource(bytes));
    const out2 = await remuxTo('same-source', { video: same, audio: same });
    expect(same.read).toBeLessThanOrEqual(bytes.length + 1040);
    expect(timeless(out2).equals(timeless(fromFile))).toBe(true);
    // Two sources of the same file (the CLI's --video x.ts --audio x.ts): two passes, same file.
    const out3 = await remuxTo('two-sources', { video: new MemorySource(bytes), audio: new MemorySource(bytes) });
    expect(timeless(out3).equals(timeless(fromFile))).toBe(true);
  });

  it('reads M2TS (192-byte packets) and a TS that starts with junk, and openTrack dispatches to it', async () => {
    const b = await bytesOf('h264Aac');
    const fromTs = await remuxTo('plain-ts', { input: new MemorySource(b) });
    const m2ts = new Uint8Array((b.length / 188) * 192);
    for (let i = 0, j = 0; i < b.length; i += 188, j += 192) {
      m2ts.set([0x40, 0, (i >> 8) & 0xff, i & 0xff], j); // copy permission + arrival time stamp
      m2ts.set(b.subarray(i, i + 188), j + 4);
    }
    expect(timeless(await remuxTo('m2ts', { input: new MemorySource(m2ts) })).equals(timeless(fromTs))).toBe(true);
    const junk = new Uint8Array(b.length + 100);
    junk.set(b, 100);
    expect(timeless(await remuxTo('junk-first', { video: new MemorySource(junk), audio: new MemorySource(junk) })).equals(timeless(fromTs))).toBe(true);
  });

  it('reads HLS fMP4 segments (one moof for both tracks) once for both tracks', async () => {
    const input = await tsInputs.hlsFmp4Joined();
    const bytes = readFileSync(input);
    const source = counting(new MemorySource(bytes));
    const out = await remuxTo('fmp4-one-pass', { input: source });
    expect(source.read).toBeLessThanOrEqual(bytes.length + 1040);
    // The same file as reading it once per track (the fragmented-MP4 path the matrix tests).
    const twice = await remuxTo('fmp4-two-passes', { video: new MemorySource(bytes), audio: new MemorySource(bytes) });
    expect(timeless(out).equals(timeless(twice))).toBe(true);
    const ref = await ffmpegCopy(input, ['-copyts']);
    for (const kind of ['v', 'a'] as const) expect(await packetHashes(out, kind)).toEqual(await packetHashes(ref, kind));
  });

  it('takes video from the input and audio from a separate rendition, keeping their offset on the shared clock', async () => {
    const both = await tsInputs.hlsJoined();
    // Renditions cut from one stream keep its timestamps (-copyts); the audio one starts later.
    const rendition = (name: string, args: string[]) =>
      cachedMedia(name, async (o) => {
        await ffmpeg(['-copyts', ...args, '-c', 'copy', '-f', 'mpegts', '-muxdelay', '0', '-muxpreload', '0', o]);
        stripSdt(o);
      });
    const videoTs = await rendition('ts-rendition-video.ts', ['-i', both, '-map', '0:v']);
    const audioTs = await rendition('ts-rendition-audio.ts', ['-ss', '0.5', '-i', both, '-map', '0:a']);
    // (ffmpeg numbers each file's streams from PID 0x100.)
    const [v, a] = [rawPts(readFileSync(videoTs), 0x100), rawPts(readFileSync(audioTs), 0x100)];
    expect(a[0]! - v[0]!).toBeGreaterThan(0.1 * 90000);
    const out = await remuxTo('renditions', { input: await NodeFileSource.open(videoTs), audio: await NodeFileSource.open(audioTs) });
    const p = await probe(out);
    // The audio keeps its place relative to the video: its start minus the video's, as in the TS files.
    expect(Math.abs(p.audio!.startTime - p.video!.startTime - (a[0]! - v[0]!) / 90000)).toBeLessThanOrEqual(TICK + PRINTED);
    expect(p.video!.startTime).toBe(0);
    // inputKinds: only the video of a stream that has both.
    const videoOnly = await probe(await remuxTo('input-kinds', { input: await NodeFileSource.open(both), inputKinds: ['video'] }));
    expect(videoOnly.audio).toBeUndefined();
    expect(videoOnly.video!.packets.length).toBe(90);
  });

  it('fails clearly when one track of a single pass is left unread past the queue limit', async () => {
    const { SharedPass } = await import('./shared-pass');
    const pass = new SharedPass(['video', 'audio'], 'input', 10_000);
    let n = 0;
    pass.attach({
      step: async () => {
        pass.push('video', { data: new Uint8Array(1000), dts: n, cts: n, duration: 1, sync: true });
        pass.push('audio', { data: new Uint8Array(1000), dts: n, cts: n, duration: 1, sync: true });
        return ++n < 1000;
      },
      close: () => undefined,
    });
    const video = pass.track('video', {} as never);
    const err = await (async () => {
      for (;;) await video.next();
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VidmuxError);
    expect((err as VidmuxError).code).toBe('unsupported');
    expect((err as VidmuxError).message).toMatch(/too far apart.*audio waited/);
    expect(n).toBeLessThan(20);
  });
});

async function failure(opts: Omit<RemuxOptions, 'sink'>): Promise<{ err: VidmuxError; sink: RecordingSink }> {
  const sink = new RecordingSink();
  const err = await remux({ ...opts, sink }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VidmuxError);
  expect(sink.aborted).toBe(true);
  expect(sink.closed).toBe(false);
  return { err: err as VidmuxError, sink };
}

const bytesOf = async (name: keyof typeof tsInputs) => new Uint8Array(readFileSync(await tsInputs[name]()));

describe('bad MPEG-TS input fails clearly', () => {
  it('no PAT, no PMT: corrupt_media', async () => {
    const b = await bytesOf('h264Aac');
    expect((await failure({ input: new MemorySource(withoutPid(b, 0)) })).err).toMatchObject({ code: 'corrupt_media', message: expect.stringMatching(/no program table \(PAT\/PMT\)/) });
    expect((await failure({ input: new MemorySource(withoutPid(b, pmtPid(b))) })).err).toMatchObject({ code: 'corrupt_media', message: expect.stringMatching(/PAT\/PMT/) });
  });

  it('no video where video is asked: bad_input naming what there is', async () => {
    const audio = new MemorySource(await bytesOf('aacOnly'));
    const { err } = await failure({ video: audio });
    expect(err.code).toBe('bad_input');
    expect(err.message).toMatch(/video input has no video track \(it has AAC \(ADTS\)/);
    expect((await failure({ input: audio, inputKinds: ['video', 'audio'] })).err.code).toBe('bad_input');
  });

  it('MPEG-2 video, MP2 and LATM audio: unsupported, named', async () => {
    const m2v = await failure({ input: new MemorySource(await bytesOf('mpeg2')) });
    expect(m2v.err).toMatchObject({ code: 'unsupported', message: expect.stringMatching(/MPEG-2 video \(stream type 0x02\)/) });
    const mp2 = await failure({ input: new MemorySource(await bytesOf('mp2')) });
    expect(mp2.err).toMatchObject({ code: 'unsupported', message: expect.stringMatching(/MPEG audio layer II \(MP2\)/) });
    const latm = await failure({ input: new MemorySource(await bytesOf('latm')) });
    expect(latm.err).toMatchObject({ code: 'unsupported', message: expect.stringMatching(/AAC in LATM \(stream type 0x11\)/) });
    // Video alone is still there for the asking.
    const videoOnly = await remuxTo('latm-video', { input: new MemorySource(await bytesOf('latm')), inputKinds: ['video'] });
    expect((await probe(videoOnly)).video!.packets.length).toBe(30);
  });

  it('encrypted (SAMPLE-AES stream types, scrambled packets): unsupported, protected', async () => {
    const b = await bytesOf('h264Aac');
    patchStreamTypes(b, { 0x1b: 0xdb, 0x0f: 0xcf }, (x, from, to) => crc32Mpeg(x, from, to));
    const { err } = await failure({ input: new MemorySource(b) });
    expect(err).toMatchObject({ code: 'unsupported', message: expect.stringMatching(/protected.*SAMPLE-AES/) });
    const s = await bytesOf('h264Aac');
    for (let i = 0; i + 188 <= s.length; i += 188) if (pidAt(s, i) === VIDEO_PID) s[i + 3] = s[i + 3]! | 0x80;
    expect((await failure({ input: new MemorySource(s) })).err).toMatchObject({ code: 'unsupported', message: expect.stringMatching(/protected \(its packets are scrambled\)/) });
  });

  it('a video frame without PTS: corrupt_media', async () => {
    const b = await bytesOf('h264Aac');
    dropPesTimestamps(b, unitStarts(b, VIDEO_PID)[10]!);
    const { err } = await failure({ input: new MemorySource(b) });
    expect(err).toMatchObject({ code: 'corrupt_media', message: expect.stringMatching(/without a timestamp \(a PES without PTS\)/) });
  });

  it('timestamps that jump back (a discontinuity): corrupt_media saying so', async () => {
    const b = await bytesOf('h264Aac');
    const twice = new Uint8Array(b.length * 2);
    twice.set(b);
    twice.set(b, b.length);
    const { err } = await failure({ input: new MemorySource(twice) });
    expect(err.code).toBe('corrupt_media');
    expect(err.message).toMatch(/timestamps jump back by .* a discontinuity/);
  });

  it('cancel: cancelled, the sink aborted; progress reaches the input size', async () => {
    const b = await bytesOf('hlsJoined');
    const controller = new AbortController();
    const inner = new MemorySource(b, 1024);
    let chunks = 0;
    const source: ByteSource = {
      size: inner.size,
      stream: (start, end, signal) =>
        inner.stream(start, end, signal).pipeThrough(
          new TransformStream<Uint8Array, Uint8Array>({
            transform(chunk, c) {
              if (++chunks === 60) controller.abort();
              c.enqueue(chunk);
            },
          }),
        ),
    };
    const { err } = await failure({ input: source, signal: controller.signal });
    expect(err.code).toBe('cancelled');
    const seen: number[] = [];
    const sink = new RecordingSink();
    await remux({ input: new MemorySource(b), sink, onProgress: (p) => seen.push(p.bytesDone) });
    expect(seen.at(-1)).toBe(b.length);
  });

  it('cut inside a packet: truncated, and no file is left', async () => {
    const b = await bytesOf('h264Aac');
    const out = join(dir, 'cut.mp4');
    const sink = new NodeFileSink(out);
    const err = await remux({ input: new MemorySource(b.subarray(0, b.length - 100)), sink }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'truncated' });
    expect(existsSync(out) || existsSync(sink.partPath)).toBe(false);
  });

  it('lost sync or missing packets: corrupt_media', async () => {
    const b = await bytesOf('h264Aac');
    const junk = b.slice();
    junk[188 * 200] = 0x00;
    expect((await failure({ input: new MemorySource(junk) })).err).toMatchObject({ code: 'corrupt_media', message: expect.stringMatching(/loses packet sync at byte 37600/) });
    // One video packet gone from the middle of a frame.
    const starts = unitStarts(b, VIDEO_PID);
    const at = starts[3]! + 188 * 2;
    const gap = Buffer.concat([b.subarray(0, at), b.subarray(at + 188)]);
    expect(pidAt(b, at)).toBe(VIDEO_PID);
    expect(payloadAt(b, at)).toBeGreaterThan(0);
    expect((await failure({ input: new MemorySource(gap) })).err).toMatchObject({ code: 'corrupt_media', message: expect.stringMatching(/missing packets of its video/) });
  });
});
