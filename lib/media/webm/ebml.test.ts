/** The EBML reader, block headers, the three lacings and the Opus packet duration, on hand-made bytes. */
import { describe, expect, it } from 'vitest';
import { blockFrames, blockHeader, opusPacketSamples } from './block';
import { child, children, EbmlError, readFloat, readId, readInt, readSize, readString, readUint, readVint, UNKNOWN_SIZE, vintLength } from './ebml';
import { av1SampleDescription, av1SequenceHeader, opusSampleDescription, parseAv1SequenceHeader, parseOpusHead, parseVp9Header, vp9SampleDescription } from './sample-entries';

const bytes = (...b: number[]) => new Uint8Array(b);

describe('EBML variable-size integers', () => {
  it('knows the length from the first byte', () => {
    expect([0x80, 0x40, 0x20, 0x10, 0x08, 0x04, 0x02, 0x01, 0xff, 0x7f].map(vintLength)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 1, 2]);
    expect(vintLength(0)).toBe(0);
  });

  it('reads sizes of every length, with the marker bit removed', () => {
    expect(readSize(bytes(0x81), 0)).toEqual({ size: 1, length: 1 });
    expect(readSize(bytes(0x40, 0x02), 0)).toEqual({ size: 2, length: 2 });
    expect(readSize(bytes(0x20, 0x01, 0x00), 0)).toEqual({ size: 256, length: 3 });
    expect(readSize(bytes(0x01, 0, 0, 0, 0, 0, 0x12, 0x34), 0)).toEqual({ size: 0x1234, length: 8 });
    // The largest 8-byte value that isn't "unknown": 2^56 - 2, beyond any file.
    expect(() => readSize(bytes(0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe), 0)).toThrow(EbmlError);
  });

  it('reads all ones as an unknown size, at any length', () => {
    expect(readSize(bytes(0xff), 0)).toEqual({ size: UNKNOWN_SIZE, length: 1 });
    expect(readSize(bytes(0x7f, 0xff), 0)).toEqual({ size: UNKNOWN_SIZE, length: 2 });
    expect(readSize(bytes(0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 0)).toEqual({ size: UNKNOWN_SIZE, length: 8 });
    // Not all ones: a size.
    expect(readSize(bytes(0x7f, 0xfe), 0)).toEqual({ size: 0x3ffe, length: 2 });
  });

  it('returns null when the bytes end inside the number, and rejects 0x00', () => {
    expect(readSize(bytes(0x40), 0)).toBeNull();
    expect(readSize(bytes(), 0)).toBeNull();
    expect(() => readSize(bytes(0x00, 1), 0, 2, 100)).toThrow(/first byte 0x00/);
    try {
      readSize(bytes(0x00), 0, 1, 100);
    } catch (err) {
      expect((err as EbmlError).offset).toBe(100);
    }
  });

  it('reads IDs with their marker bits and refuses IDs longer than 4 bytes', () => {
    expect(readId(bytes(0x1a, 0x45, 0xdf, 0xa3), 0)).toEqual({ id: 0x1a45dfa3, length: 4 });
    expect(readId(bytes(0xa3), 0)).toEqual({ id: 0xa3, length: 1 });
    expect(readId(bytes(0x42, 0x86), 0)).toEqual({ id: 0x4286, length: 2 });
    expect(readId(bytes(0x1a, 0x45), 0)).toBeNull();
    expect(() => readId(bytes(0x08, 0, 0, 0, 0), 0)).toThrow(EbmlError);
  });

  it('reads block vints (track numbers, lace sizes) without the marker', () => {
    expect(readVint(bytes(0x81), 0)).toEqual({ value: 1, length: 1 });
    expect(readVint(bytes(0x40, 0x81), 0)).toEqual({ value: 0x81, length: 2 });
    expect(readVint(bytes(0x40), 0)).toBeNull();
  });
});

describe('EBML elements', () => {
  // Info { TimestampScale 1000000, Duration 2000.0 (float64), Title "Clip\0\0" }, then Void.
  const info = bytes(
    0x2a, 0xd7, 0xb1, 0x83, 0x0f, 0x42, 0x40,
    0x44, 0x89, 0x88, 0x40, 0x9f, 0x40, 0, 0, 0, 0, 0,
    0x7b, 0xa9, 0x86, 0x43, 0x6c, 0x69, 0x70, 0, 0,
    0xec, 0x82, 0, 0,
  );

  it('lists children with their payloads and reads values', () => {
    const list = children(info, 0, info.length);
    expect(list.map((e) => e.id)).toEqual([0x2ad7b1, 0x4489, 0x7ba9, 0xec]);
    expect(readUint(info, child(list, 0x2ad7b1)!)).toBe(1_000_000);
    expect(readFloat(info, child(list, 0x4489)!)).toBe(2000);
    expect(readString(info, child(list, 0x7ba9)!)).toBe('Clip');
    expect(list[3]).toEqual({ id: 0xec, start: 27, data: 29, end: 31 });
  });

  it('reads signed and 4-byte float values', () => {
    const b = bytes(0xfb, 0x82, 0xff, 0xdf, 0xb5, 0x84, 0x47, 0x3b, 0x80, 0x00);
    const [ref, rate] = children(b, 0, b.length);
    expect(readInt(b, ref!)).toBe(-33);
    expect(readFloat(b, rate!)).toBe(48000);
  });

  it('refuses a child that overruns its parent, with the byte offset', () => {
    const b = bytes(0xec, 0x85, 0, 0);
    expect(() => children(b, 0, b.length, 1000)).toThrow(/overruns its parent/);
    try {
      children(b, 0, b.length, 1000);
    } catch (err) {
      expect((err as EbmlError).offset).toBe(1000);
    }
    // An unknown size inside a sized parent.
    expect(() => children(bytes(0xec, 0xff, 0), 0, 3)).toThrow(/unknown size/);
    // A header cut by the parent's end.
    expect(() => children(bytes(0x2a, 0xd7), 0, 2)).toThrow(/runs past/);
  });

  it('refuses integers longer than 8 bytes', () => {
    const b = bytes(0xd7, 0x89, 0, 0, 0, 0, 0, 0, 0, 0, 1);
    expect(() => readUint(b, children(b, 0, b.length)[0]!)).toThrow(EbmlError);
  });
});

describe('Matroska blocks', () => {
  it('reads the header: track number, signed relative time, flags', () => {
    expect(blockHeader(bytes(0x81, 0x00, 0x10, 0x80), 0)).toEqual({ track: 1, relative: 16, flags: 0x80, length: 4 });
    expect(blockHeader(bytes(0x82, 0xff, 0xfe, 0x00), 0)).toEqual({ track: 2, relative: -2, flags: 0, length: 4 });
    expect(blockHeader(bytes(0x40, 0x85, 0x7f, 0xff, 0x06), 0)).toEqual({ track: 0x85, relative: 32767, flags: 6, length: 5 });
    expect(blockHeader(bytes(0x81, 0x00), 0)).toBeNull();
  });

  const frames = (b: Uint8Array, flags: number) => blockFrames(b, 0, b.length, flags).map(([s, e]) => [...b.subarray(s, e)]);

  it('takes an unlaced block as one frame', () => {
    expect(frames(bytes(1, 2, 3), 0x80)).toEqual([[1, 2, 3]]);
  });

  it('reads Xiph lacing (sizes as runs of 255)', () => {
    // 3 frames: 300 bytes (255 + 45), 2 bytes, and the rest (1 byte).
    const f1 = new Array(300).fill(7);
    const b = bytes(2, 255, 45, 2, ...f1, 8, 9, 10);
    expect(frames(b, 0x02)).toEqual([f1, [8, 9], [10]]);
    // A size of exactly 255 is 255 followed by 0.
    const f255 = new Array(255).fill(1);
    expect(frames(bytes(1, 255, 0, ...f255, 4), 0x02)).toEqual([f255, [4]]);
  });

  it('reads EBML lacing (first size, then signed differences)', () => {
    // 4 frames: 3 bytes, 5 (+2: 0x80 + 63 + 2 = 0xc1), 4 (-1: 0xbe), and the rest (2).
    const b = bytes(3, 0x83, 0xc1, 0xbe, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4);
    expect(frames(b, 0x06)).toEqual([[1, 1, 1], [2, 2, 2, 2, 2], [3, 3, 3, 3], [4, 4]]);
    // Two-byte differences: 200 then 100 (-100: 0x5fff - 100).
    const big = 0x5fff - 100;
    const b2 = bytes(2, 0x40, 200, 0x40 | (big >> 8), big & 0xff, ...new Array(200).fill(1), ...new Array(100).fill(2), 3);
    expect(frames(b2, 0x06).map((f) => f.length)).toEqual([200, 100, 1]);
  });

  it('reads fixed-size lacing', () => {
    expect(frames(bytes(2, 1, 1, 2, 2, 3, 3), 0x04)).toEqual([[1, 1], [2, 2], [3, 3]]);
    expect(() => frames(bytes(2, 1, 1, 2, 2, 3), 0x04)).toThrow(/equal laced frames/);
  });

  it('refuses lace sizes that overrun the block', () => {
    expect(() => frames(bytes(1, 9, 1, 2), 0x02)).toThrow(/overrun/);
    expect(() => frames(bytes(2, 255, 255), 0x02)).toThrow(/run past/);
    expect(() => frames(bytes(1, 0x90, 1, 2), 0x06)).toThrow(/overrun/);
    expect(() => frames(bytes(), 0x02)).toThrow(/frame count/);
  });
});

describe('Opus packet durations', () => {
  it('counts samples from the TOC byte like opus_packet_get_nb_samples', () => {
    // CELT fullband 20 ms, one frame (config 31, code 0).
    expect(opusPacketSamples(bytes(0xfc, 0))).toBe(960);
    // CELT 2.5 ms (config 16).
    expect(opusPacketSamples(bytes(0x80))).toBe(120);
    // SILK NB 60 ms (config 3), two frames (code 1).
    expect(opusPacketSamples(bytes(0x19))).toBe(5760);
    // SILK 40 ms (config 2), code 2: two frames is 80 ms.
    expect(opusPacketSamples(bytes(0x12))).toBe(3840);
    // Hybrid SWB 10 ms (config 12) and 20 ms (config 13).
    expect(opusPacketSamples(bytes(0x60))).toBe(480);
    expect(opusPacketSamples(bytes(0x68))).toBe(960);
    // Code 3: frame count in the next byte (6 x 20 ms CELT = 120 ms).
    expect(opusPacketSamples(bytes(0xfb, 0x06))).toBe(5760);
    // More than 120 ms, no frames, or nothing at all: invalid.
    expect(opusPacketSamples(bytes(0xfb, 0x07))).toBeNull();
    expect(opusPacketSamples(bytes(0xfb, 0x00))).toBeNull();
    expect(opusPacketSamples(bytes(0xfb))).toBeNull();
    expect(opusPacketSamples(bytes())).toBeNull();
  });
});

describe('codec headers', () => {
  it('reads an OpusHead (little-endian)', () => {
    const head = bytes(...new TextEncoder().encode('OpusHead'), 1, 2, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0xfe, 0xff, 0);
    expect(parseOpusHead(head)).toEqual({ channels: 2, preSkip: 312, inputSampleRate: 48000, outputGain: -2, mappingFamily: 0, mapping: null });
    expect(parseOpusHead(head.subarray(0, 18))).toBeNull();
    const family1 = bytes(...head.subarray(0, 18), 1, 1, 1, 0, 1);
    expect(parseOpusHead(family1)?.mapping).toEqual(bytes(1, 1, 0, 1));
  });

  it('reads a VP9 keyframe header', () => {
    // frame marker 2, profile 0, show_existing 0, keyframe, show, not error resilient, sync code, BT.709 (2), limited range.
    // bits: 10 0 0 0 0 1 0 | 0x49 0x83 0x42 | 010 0 ...
    const h = parseVp9Header(bytes(0x82, 0x49, 0x83, 0x42, 0x40));
    expect(h).toEqual({ profile: 0, keyframe: true, bitDepth: 8, colorSpace: 2, fullRange: false, subsamplingX: true, subsamplingY: true });
    expect(parseVp9Header(bytes(0x86))?.keyframe).toBe(false);
    expect(parseVp9Header(bytes(0x00))).toBeNull();
  });

  it('finds and reads an AV1 sequence header OBU', () => {
    // What libaom writes for 160x120 4:2:0 8-bit, main profile, level 2.0 (from an ffmpeg 4.1 WebM).
    const tu = bytes(0x0a, 0x0a, 0x00, 0x00, 0x00, 0x03, 0xb4, 0xff, 0x73, 0xef, 0xe6, 0x01, 0x32, 0x01, 0x00);
    const seq = av1SequenceHeader(tu)!;
    expect([...seq.obu]).toEqual([...tu.subarray(0, 12)]);
    expect(parseAv1SequenceHeader(seq.payload)).toEqual({
      profile: 0, level: 0, tier: 0, highBitdepth: false, twelveBit: false, monochrome: false, subsamplingX: true, subsamplingY: true, chromaSamplePosition: 0,
    });
    // An OBU without a size field gets one.
    const bare = av1SequenceHeader(bytes(0x08, 0x00, 0x00, 0x00, 0x03, 0xb4, 0xff, 0x73, 0xef, 0xe6, 0x01))!;
    expect([...bare.obu]).toEqual([...tu.subarray(0, 12)]);
    expect(av1SequenceHeader(bytes(0x32, 0x01, 0x00))).toBeNull();
  });
});

describe('MP4 sample descriptions from WebM', () => {
  const track = { width: 160, height: 120, displayWidth: null, displayHeight: null, colour: null };
  /** The bytes of the box of `type` inside `stsd`. */
  const box = (stsd: Uint8Array, type: string) => {
    const at = new TextDecoder('latin1').decode(stsd).indexOf(type);
    const size = (stsd[at - 4]! << 24) | (stsd[at - 3]! << 16) | (stsd[at - 2]! << 8) | stsd[at - 1]!;
    return [...stsd.subarray(at + 4, at - 4 + size)];
  };

  it('builds av1C from the sequence header when there is no CodecPrivate, as ffmpeg does from the av1C header', () => {
    const tu = bytes(0x0a, 0x0a, 0x00, 0x00, 0x00, 0x03, 0xb4, 0xff, 0x73, 0xef, 0xe6, 0x01, 0x32, 0x01, 0x00);
    const fromSeq = av1SampleDescription(track, null, tu)!;
    const fromPrivate = av1SampleDescription(track, bytes(0x81, 0x00, 0x0c, 0x00), tu)!;
    expect(fromSeq.codec).toBe('av01.0.00M.08');
    expect(box(fromSeq.stsd, 'av1C')).toEqual([0x81, 0x00, 0x0c, 0x00, ...tu.subarray(0, 12)]);
    expect(fromPrivate.stsd).toEqual(fromSeq.stsd);
    // Nothing to describe the stream with.
    expect(av1SampleDescription(track, null, bytes(0x32, 0x01, 0x00))).toBeNull();
  });

  it('takes vpcC colour from the Colour element, range and matrix falling back to the VP9 header', () => {
    const key = parseVp9Header(bytes(0x82, 0x49, 0x83, 0x42, 0x40))!; // BT.709 matrix, limited range
    expect(box(vp9SampleDescription(track, key).stsd, 'vpcC')).toEqual([1, 0, 0, 0, 0, 10, 0x82, 2, 2, 1, 0, 0]);
    const colour = { matrix: 9, primaries: 9, transfer: 16, range: 2, bitsPerChannel: 10, chromaSitingHorz: 1, chromaSitingVert: 2 };
    const described = vp9SampleDescription({ ...track, width: 1920, height: 1080, colour }, null);
    // Profile 2 for 10-bit without a header, level 4.0 for 1080p, 4:2:0 "vertical" from the siting, full range.
    expect(box(described.stsd, 'vpcC')).toEqual([1, 0, 0, 0, 2, 40, 0xa1, 9, 16, 9, 0, 0]);
    expect(described.codec).toBe('vp09.02.40.10');
    // Non-square pixels get a pasp.
    const wide = vp9SampleDescription({ ...track, displayWidth: 320, displayHeight: 120 }, key);
    expect(box(wide.stsd, 'pasp')).toEqual([0, 0, 0, 2, 0, 0, 0, 1]);
  });

  it('turns an OpusHead into a big-endian, version 0 dOps', () => {
    const head = parseOpusHead(bytes(...new TextEncoder().encode('OpusHead'), 1, 6, 0x38, 0x01, 0x44, 0xac, 0, 0, 0, 1, 1, 4, 2, 0, 4, 1, 2, 3, 5))!;
    expect(box(opusSampleDescription(head), 'dOps')).toEqual([0, 6, 0x01, 0x38, 0, 0, 0xac, 0x44, 0x01, 0x00, 1, 4, 2, 0, 4, 1, 2, 3, 5]);
  });
});
