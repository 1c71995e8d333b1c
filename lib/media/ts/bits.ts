/**
 * Bit-level reading for the few headers the MPEG-TS demuxer must understand (H.264/HEVC parameter
 * sets, audio frame headers), and the CRC that guards PSI sections.
 */

/** Removes emulation-prevention bytes (the 03 of 00 00 03) from a NAL unit: its RBSP. */
export function unescapeRbsp(nal: Uint8Array): Uint8Array {
  let zeros = 0;
  let n = 0;
  const out = new Uint8Array(nal.length);
  for (let i = 0; i < nal.length; i++) {
    const b = nal[i]!;
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[n++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, n);
}

/** MSB-first bit reader with Exp-Golomb codes; throws RangeError past the end. */
export class BitReader {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  /** Reads `n` (<= 32) bits as an unsigned number. */
  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.bytes[this.pos >> 3];
      if (byte === undefined) throw new RangeError('read past the end of a header');
      v = v * 2 + ((byte >> (7 - (this.pos & 7))) & 1);
      this.pos++;
    }
    return v;
  }

  flag(): boolean {
    return this.u(1) === 1;
  }

  skip(n: number): void {
    this.pos += n;
    if (this.pos > this.bytes.length * 8) throw new RangeError('read past the end of a header');
  }

  /** Unsigned Exp-Golomb. */
  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) {
      if (++zeros > 31) throw new RangeError('bad Exp-Golomb code');
    }
    return zeros === 0 ? 0 : 2 ** zeros - 1 + this.u(zeros);
  }

  /** Signed Exp-Golomb. */
  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -k / 2;
  }

  get bitPosition(): number {
    return this.pos;
  }
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32/MPEG-2 of `bytes[from, to)`: 0 over a whole PSI section (CRC included) means intact. */
export function crc32Mpeg(bytes: Uint8Array, from: number, to: number): number {
  let crc = 0xffffffff;
  for (let i = from; i < to; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ bytes[i]!) & 0xff]!) >>> 0;
  return crc >>> 0;
}
