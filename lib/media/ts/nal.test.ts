import { describe, expect, it } from 'vitest';
import { detectMpegTs } from '../ts-demux';
import { parseAudioFrame } from './audio';
import { SectionAssembler } from './psi';
import { crc32Mpeg } from './bits';
import { convertibleInPlace, findNalUnits, isSyncAccessUnit, lengthPrefixedSize, writeLengthPrefixed, writeLengthsInPlace } from './nal';

const bytes = (...xs: number[]) => new Uint8Array(xs);

describe('Annex B to length-prefixed NAL units', () => {
  it('finds units behind 3- and 4-byte start codes, without trailing zeros', () => {
    // AUD (4-byte code), SPS (3-byte code) followed by a trailing zero, slice at the end with two.
    const au = bytes(0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x67, 0x42, 0x1e, 0, 0, 0, 1, 0x65, 0x88, 0x84, 0, 0);
    const nals: number[] = [];
    findNalUnits(au, 0, au.length, nals);
    expect(nals).toEqual([4, 6, 9, 12, 16, 19]);
    expect(convertibleInPlace(au, nals, 0, au.length)).toBe(false);
    const out = new Uint8Array(lengthPrefixedSize(nals));
    expect(writeLengthPrefixed(au, nals, out, 0)).toBe(out.length);
    expect([...out]).toEqual([0, 0, 0, 2, 0x09, 0xf0, 0, 0, 0, 3, 0x67, 0x42, 0x1e, 0, 0, 0, 3, 0x65, 0x88, 0x84]);
  });

  it('converts in place when every unit has a 4-byte start code (and scans only the given range)', () => {
    const au = bytes(0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x65, 0x88, /* beyond the unit: */ 0, 0, 1, 0x41);
    const nals: number[] = [];
    findNalUnits(au, 0, 12, nals);
    expect(nals).toEqual([4, 6, 10, 12]);
    expect(convertibleInPlace(au, nals, 0, 12)).toBe(true);
    writeLengthsInPlace(au, nals);
    expect([...au.subarray(0, 12)]).toEqual([0, 0, 0, 2, 0x09, 0xf0, 0, 0, 0, 2, 0x65, 0x88]);
  });

  it('finds what a scan of every byte finds, in any range of any bytes (the scan skips bytes)', () => {
    // The reference: every 00 00 01 in [from, to); a unit runs to the next code, zeros trimmed.
    const reference = (b: Uint8Array, from: number, to: number): number[] => {
      const codes: number[] = [];
      for (let i = from + 2; i < to; i++) if (b[i] === 1 && b[i - 1] === 0 && b[i - 2] === 0) codes.push(i);
      const out: number[] = [];
      codes.forEach((c, k) => {
        let end = k + 1 < codes.length ? codes[k + 1]! - 2 : to;
        while (end > c + 1 && b[end - 1] === 0) end--;
        if (end > c + 1) out.push(c + 1, end);
      });
      return out;
    };
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const values = [0, 0, 0, 1, 1, 2, 3, 0x65, 0xff];
    const nals: number[] = [];
    for (let round = 0; round < 3000; round++) {
      const b = Uint8Array.from({ length: 1 + Math.floor(random() * 64) }, () => values[Math.floor(random() * values.length)]!);
      const from = Math.floor(random() * b.length);
      const to = from + Math.floor(random() * (b.length - from + 1));
      findNalUnits(b, from, to, nals);
      expect(nals, `[${b.join(',')}] from ${from} to ${to}`).toEqual(reference(b, from, to));
    }
  });

  it('knows sync samples: H.264 IDR or recovery point SEI, HEVC IRAP', () => {
    const idr = bytes(0, 0, 1, 0x65, 0x88);
    const p = bytes(0, 0, 1, 0x41, 0x9a);
    // SEI payload type 6 (recovery point), size 1, recovery_frame_cnt 0 (ue "1"), stop bit.
    const recovery = bytes(0, 0, 1, 0x06, 0x06, 0x01, 0xc4, 0x80, 0, 0, 1, 0x41, 0x9a);
    const cra = bytes(0, 0, 1, 0x2a, 0x01, 0xaf);
    const trail = bytes(0, 0, 1, 0x02, 0x01, 0xd0);
    const sync = (codec: 'h264' | 'hevc', b: Uint8Array) => {
      const nals: number[] = [];
      findNalUnits(b, 0, b.length, nals);
      return isSyncAccessUnit(codec, b, nals);
    };
    expect([sync('h264', idr), sync('h264', p), sync('h264', recovery), sync('hevc', cra), sync('hevc', trail)]).toEqual([true, false, true, true, false]);
  });
});

describe('MPEG-TS framing', () => {
  const packets = (size: 188 | 192, n: number, lead = 0) => {
    const b = new Uint8Array(lead + size * n);
    for (let i = 0; i < n; i++) b[lead + i * size + size - 188] = 0x47;
    return b;
  };
  it('detects TS and M2TS by their sync bytes, also after junk, and nothing else', () => {
    expect(detectMpegTs(packets(188, 5))).toEqual({ offset: 0, packetSize: 188 });
    expect(detectMpegTs(packets(192, 5))).toEqual({ offset: 0, packetSize: 192 });
    expect(detectMpegTs(packets(188, 5, 13))).toEqual({ offset: 13, packetSize: 188 });
    expect(detectMpegTs(packets(188, 1))).toEqual({ offset: 0, packetSize: 188 });
    const mp4 = bytes(0, 0, 0, 0x20, 0x66, 0x74, 0x79, 0x70, ...new Array(600).fill(0x47 - 1));
    expect(detectMpegTs(mp4)).toBeNull();
  });

  it('assembles a PSI section spread over packets and checks its CRC', () => {
    const section = new Uint8Array(300);
    section[0] = 0x02;
    section[1] = 0xb0 | ((300 - 3) >> 8);
    section[2] = (300 - 3) & 0xff;
    for (let i = 3; i < 296; i++) section[i] = i & 0xff;
    const crc = crc32Mpeg(section, 0, 296);
    section.set([crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff], 296);
    const got: Uint8Array[] = [];
    const a = new SectionAssembler();
    const first = new Uint8Array(185);
    first[0] = 0; // pointer_field
    first.set(section.subarray(0, 184), 1);
    a.push(first, 0, 185, true, (s) => got.push(s));
    expect(got).toHaveLength(0);
    const rest = new Uint8Array(184).fill(0xff);
    rest.set(section.subarray(184));
    a.push(rest, 0, 184, false, (s) => got.push(s));
    expect(got).toHaveLength(1);
    expect([...got[0]!]).toEqual([...section]);
    // A damaged copy is dropped.
    const bad = first.slice();
    bad[50]! ^= 1;
    a.push(bad, 0, 185, true, (s) => got.push(s));
    a.push(rest, 0, 184, false, (s) => got.push(s));
    expect(got).toHaveLength(1);
  });
});

describe('audio frame headers', () => {
  it('ADTS: length, header size, config', () => {
    // AAC LC, 48 kHz (index 3), stereo, frame 0x100 bytes, no CRC.
    const adts = new Uint8Array(0x100);
    adts.set([0xff, 0xf1, 0x4c, 0x80, 0x20, 0x1f, 0xfc]);
    expect(parseAudioFrame('aac', adts, 0, adts.length)).toMatchObject({ length: 0x100, dataOffset: 7, samples: 1024, sampleRate: 48000, channels: 2, header: { objectType: 2 } });
    expect(parseAudioFrame('aac', adts, 0, 100)).toBeNull();
    expect(parseAudioFrame('aac', bytes(0x12, 0x34, 0, 0, 0, 0, 0, 0), 0, 8)).toBe('nosync');
  });
  it('MP3 and AC-3 frame sizes', () => {
    // MPEG-1 layer III, 128 kb/s, 44.1 kHz, no padding: 417 bytes.
    const mp3 = new Uint8Array(417);
    mp3.set([0xff, 0xfb, 0x90, 0x64]);
    expect(parseAudioFrame('mp3', mp3, 0, 417)).toMatchObject({ length: 417, samples: 1152, sampleRate: 44100, channels: 2, header: { layer: 3, version: 1 } });
    // AC-3 48 kHz, frmsizecod 20 (192 kb/s: 384 words), bsid 8, acmod 2 (2/0), lfe off.
    const ac3 = new Uint8Array(768);
    ac3.set([0x0b, 0x77, 0, 0, 0x14, 0x40, 0x40, 0x00]);
    expect(parseAudioFrame('ac3', ac3, 0, 768)).toMatchObject({ length: 768, samples: 1536, sampleRate: 48000, channels: 2, header: { acmod: 2, bitRateCode: 10 } });
  });
});
