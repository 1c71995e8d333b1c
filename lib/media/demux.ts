/**
 * Demuxing one MP4 input into one elementary track, streaming.
 *
 * We find the `moov` (scanning top-level box headers) and mp4box parses it, through
 * mp4box-adapter.ts: track info, codec string, where the decoder config is, edit list and the raw
 * sample tables. Sample bytes are then read by us, not by mp4box: feeding a gigabyte through
 * `appendBuffer` makes mp4box keep and re-slice every sample, which was most of the time and
 * memory of the naive pipeline. Instead:
 * - progressive MP4 (moov at start or end): the sample table gives every sample's offset and size,
 *   which we read in order through one forward-only reader of large reads ({@link SequentialReader});
 *   we expand the run-length encoded tables into per-sample typed arrays ({@link sampleTable});
 * - fragmented MP4 / CMAF / single-file DASH with `sidx` / init + media segments: we walk the
 *   top-level boxes after the `moov` in one pass, parse each small `moof` (tfhd/tfdt/trun) and read
 *   the samples it points at from the `mdat` that follows.
 * Memory is the sample table (a few bytes per sample) plus the reader's current chunk.
 */
import { VidmuxError } from '../errors';
import type { ByteSource } from '../io';
import { findBox, fourcc, listBoxes, printable, readBoxHeader, readI32, readU32, readU64 } from './boxes';
import { readRange, SequentialReader } from './byte-reader';
import { muxableCodec, type MuxableAudio, type MuxableVideo } from '../codecs';
import { parseMovieHeader, type ByteRange, type ParsedMovieHeader, type RawSampleTables, type TrackDefaults } from './mp4box-adapter';

/** One edit list entry as stored in `elst`: duration in the movie timescale, media time in the track's. */
export interface EditEntry {
  /** In the input's movie (`mvhd`) timescale. */
  segmentDuration: number;
  /** In the track's media timescale; -1 for an empty edit (a gap before the media starts). */
  mediaTime: number;
}

/** What the muxer needs to know about a demuxed track. */
export interface DemuxedTrackInfo {
  kind: 'video' | 'audio';
  /** RFC 6381 codec string, e.g. `avc1.64001f`, `mp4a.40.2`, `Opus`. */
  codec: string;
  family: MuxableVideo | MuxableAudio;
  /** Media timescale (ticks per second) of all packet times. */
  timescale: number;
  /** The input's `mvhd` timescale, which `edits[].segmentDuration` is in. */
  movieTimescale: number;
  /** The input's edit list (empty when it has none). */
  edits: EditEntry[];
  /** The input's `stsd` box, verbatim: the sample entry with its decoder config (avcC, esds, dOps...). */
  stsd: Uint8Array;
  /** The input's `hdlr` box, verbatim (keeps the handler name). */
  hdlr: Uint8Array;
  /** ISO 639-2/T language code (`und` when not set). */
  language: string;
  width: number;
  height: number;
  channels: number;
  sampleRate: number;
  /** The input's title (`moov/udta/meta/ilst/©nam`), if any. */
  title: string | undefined;
  fragmented: boolean;
}

/** One coded sample. Times are in the track's media timescale. */
export interface Packet {
  data: Uint8Array;
  /** Decode time. */
  dts: number;
  /** Composition (presentation) time before the edit list is applied. */
  cts: number;
  duration: number;
  sync: boolean;
}

/** A demuxed track: its info and its packets in decode order, read lazily. */
export interface DemuxedTrack {
  info: DemuxedTrackInfo;
  /**
   * The next packet in decode order, or null after the last. Synchronous whenever the bytes are
   * already read, which spares the muxing loop two promises per packet.
   */
  next(): Packet | null | Promise<Packet | null>;
  /** Stops any reading in progress. */
  close(): void;
}

/** Options for {@link openTrack}. */
export interface OpenTrackOptions {
  signal?: AbortSignal;
  /** Called with every chunk size read from the source (for progress). */
  onBytes?: (n: number) => void;
  /** Used in error messages, e.g. "video input". */
  label?: string;
}

/** A `moov` larger than this is not something we'll hold in memory (real ones are < 50 MB). */
const MAX_MOOV_BYTES = 512 * 1024 * 1024;
/** A `moof` larger than this is corrupt for our purposes. */
const MAX_MOOF_BYTES = 64 * 1024 * 1024;

const corrupt = (label: string, what: string, cause?: unknown) =>
  new VidmuxError('corrupt_media', `The ${label} is not a readable MP4: ${what}.`, cause === undefined ? {} : { cause });

/**
 * Opens the first `kind` track of an MP4 `source`: finds and parses its `moov` (reading only box
 * headers before it), checks the codec, and returns a lazy packet reader.
 * Throws `unsupported` for WebM/Matroska, MPEG-TS, encrypted or non-MP4-muxable codecs, and
 * `corrupt_media` for anything that isn't a readable MP4.
 */
export async function openTrack(source: ByteSource, kind: 'video' | 'audio', opts: OpenTrackOptions = {}): Promise<DemuxedTrack> {
  const label = opts.label ?? `${kind} input`;
  const { ftyp, moov, moovEnd } = await findMoov(source, label, opts.signal);

  let movie: ParsedMovieHeader;
  try {
    movie = parseMovieHeader(moov, ftyp, kind);
  } catch (err) {
    throw corrupt(label, 'its movie header (moov) could not be parsed', err);
  }
  const track = movie.track;
  if (!track) {
    const has = movie.tracks.map((t) => `${t.type ?? 'other'} (${t.codec})`).join(', ') || 'no tracks';
    throw new VidmuxError('bad_input', `The ${label} has no ${kind} track (it has ${has}).`);
  }
  const entryType = track.sampleEntryType;
  if (entryType === 'encv' || entryType === 'enca') {
    throw new VidmuxError('unsupported', `The ${label} is encrypted (DRM-protected); it can't be saved.`);
  }
  const family = muxableCodec(track.codec);
  if (!family || family.kind !== kind) {
    throw new VidmuxError(
      'unsupported',
      `The ${label} uses codec ${track.codec} (${printable(entryType.padEnd(4))}); only H.264, H.265, AV1, VP9, AAC and Opus can be saved into MP4 without re-encoding.`,
    );
  }

  const stsd = sliceBox(moov, track.stsd);
  const hdlr = sliceBox(moov, track.hdlr);
  if (fourcc(stsd, 4) !== 'stsd' || fourcc(hdlr, 4) !== 'hdlr') throw corrupt(label, 'unexpected sample description layout');

  const trackInfo: DemuxedTrackInfo = {
    kind,
    codec: track.codec,
    family: family.family,
    timescale: track.timescale,
    movieTimescale: movie.movieTimescale,
    edits: track.edits,
    stsd,
    hdlr,
    language: typeof track.language === 'string' && /^[a-z]{3}$/.test(track.language) ? track.language : 'und',
    width: track.width,
    height: track.height,
    channels: track.channels,
    sampleRate: track.sampleRate,
    title: findTitle(moov),
    fragmented: movie.isFragmented,
  };
  if (!(trackInfo.timescale > 0)) throw corrupt(label, 'the track has no timescale');

  const reader = new SequentialReader(source, opts.signal, opts.onBytes);
  if (!trackInfo.fragmented) {
    let table: SampleTable;
    try {
      table = sampleTable(track.sampleTables, track.mediaDuration);
    } catch (err) {
      throw corrupt(label, 'its sample tables are inconsistent', err);
    }
    if (table.count === 0) throw corrupt(label, `the ${kind} track has no samples`);
    return { info: trackInfo, next: progressiveNext(table, reader), close: () => reader.close() };
  }
  const fragments = fragmentedPackets(reader, moovEnd, track.id, track.trexDefaults, label);
  const next = () => fragments.next().then((r) => (r.done ? null : r.value));
  return { info: trackInfo, next, close: () => reader.close() };
}

/** A copy of the box at `range` of `moov` (empty when its position is unknown). */
function sliceBox(moov: Uint8Array, range: ByteRange | null): Uint8Array {
  return range ? moov.slice(range.start, range.end) : new Uint8Array(0);
}

/** Scans top-level box headers (one small read each) until the `moov`, then reads it whole. */
async function findMoov(
  source: ByteSource,
  label: string,
  signal?: AbortSignal,
): Promise<{ ftyp: Uint8Array | null; moov: Uint8Array; moovEnd: number }> {
  let offset = 0;
  let ftyp: Uint8Array | null = null;
  for (;;) {
    if (signal?.aborted) throw new VidmuxError('cancelled', 'Cancelled.');
    const head = await readRange(source, offset, offset + 16, signal);
    if (offset === 0) rejectOtherContainers(head, label);
    if (head.length < 8) throw corrupt(label, offset === 0 ? 'it is empty' : 'it has no movie header (moov)');
    let h;
    try {
      h = readBoxHeader(head, 0, head.length);
    } catch (err) {
      throw corrupt(label, `bad box at byte ${offset}`, err);
    }
    if (!h || !/^[\x20-\x7e\xa9]{4}$/.test(h.type)) throw corrupt(label, `no MP4 box at byte ${offset}`);
    if (h.type === 'moof') throw corrupt(label, 'a movie fragment comes before the movie header (missing init segment?)');
    if (h.size === null) throw corrupt(label, `box '${printable(h.type)}' runs to the end of the file before any movie header (moov)`);
    if (h.type === 'moov' || h.type === 'ftyp') {
      if (h.size > MAX_MOOV_BYTES) throw corrupt(label, `its '${h.type}' box is implausibly large (${h.size} bytes)`);
      const bytes = await readRange(source, offset, offset + h.size, signal);
      if (bytes.length < h.size) throw new VidmuxError('truncated', `The ${label} ends inside its '${h.type}' box.`);
      if (h.type === 'ftyp') ftyp = bytes;
      else return { ftyp, moov: bytes, moovEnd: offset + h.size };
    }
    offset += h.size;
    if (source.size !== null && offset >= source.size) throw corrupt(label, 'it has no movie header (moov)');
  }
}

/** Names WebM/Matroska and MPEG-TS inputs instead of calling them corrupt. */
function rejectOtherContainers(head: Uint8Array, label: string): void {
  if (head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) {
    throw new VidmuxError('unsupported', `The ${label} is WebM/Matroska; only MP4 input can be saved without re-encoding.`);
  }
  if (head[0] === 0x47 && head.length >= 1 && fourcc(head, 4) !== 'ftyp') {
    throw new VidmuxError('unsupported', `The ${label} looks like MPEG-TS; only MP4 input can be saved without re-encoding.`);
  }
}

/** Reads `moov/udta/meta/ilst/©nam/data` as UTF-8, the place ffmpeg and iTunes-style tools put the title. */
export function findTitle(moov: Uint8Array): string | undefined {
  try {
    const body = readBoxHeader(moov, 0)!.headerSize;
    const udta = findBox(moov, 'udta', body);
    if (!udta) return undefined;
    const meta = findBox(moov, 'meta', udta.body, udta.end);
    if (!meta) return undefined;
    // ISO meta is a FullBox (4 bytes version/flags); QuickTime's is not.
    const metaBody = fourcc(moov, meta.body + 4) === 'hdlr' ? meta.body : meta.body + 4;
    const ilst = findBox(moov, 'ilst', metaBody, meta.end);
    if (!ilst) return undefined;
    const nam = findBox(moov, '\xa9nam', ilst.body, ilst.end);
    if (!nam) return undefined;
    const data = findBox(moov, 'data', nam.body, nam.end);
    if (!data || data.end - data.body < 8) return undefined;
    return new TextDecoder().decode(moov.subarray(data.body + 8, data.end)) || undefined;
  } catch {
    return undefined;
  }
}

/** A progressive track's sample table, one entry per sample. */
interface SampleTable {
  count: number;
  offset: Float64Array;
  size: Uint32Array;
  dts: Float64Array;
  cts: Float64Array;
  duration: Float64Array;
  sync: Uint8Array;
}

/**
 * Expands the run-length encoded `stbl` tables into per-sample typed arrays, with the same results
 * as mp4box's own sample list (including its last-sample duration: the `mdhd` duration
 * `mediaDuration` minus the last DTS). Throws when a table is missing or too short.
 */
function sampleTable(tables: RawSampleTables, mediaDuration: number): SampleTable {
  const sizes = tables.sampleSizes;
  const n = sizes.length;
  const t: SampleTable = {
    count: n,
    offset: new Float64Array(n),
    size: new Uint32Array(n),
    dts: new Float64Array(n),
    cts: new Float64Array(n),
    duration: new Float64Array(n),
    sync: new Uint8Array(n),
  };
  if (n === 0) return t;
  const chunkOffsets = tables.chunkOffsets;
  const firstChunk = tables.stscFirstChunk;
  const perChunk = tables.stscSamplesPerChunk;
  const sttsCounts = tables.sttsCounts;
  const sttsDeltas = tables.sttsDeltas;
  if (!chunkOffsets) throw new RangeError('no chunk offset table (stco/co64)');
  if (!firstChunk || !perChunk) throw new RangeError('no sample-to-chunk table (stsc)');
  if (!sttsCounts || !sttsDeltas) throw new RangeError('no time-to-sample table (stts)');
  const cttsCounts = tables.cttsCounts;
  const cttsOffsets = tables.cttsOffsets;
  const syncNumbers = tables.syncSampleNumbers;

  let run = 0; // stsc entry
  let chunk = firstChunk[0]! - 1; // 0-based chunk index
  let leftInChunk = perChunk[0]!;
  let offset = chunkOffsets[chunk]!;
  let sttsRun = 0;
  let sttsLeft = sttsCounts[0] ?? 0;
  let cttsRun = 0;
  let cttsLeft = cttsCounts?.[0] ?? 0;
  let syncIndex = 0;
  let dts = 0;
  for (let j = 0; j < n; j++) {
    if (leftInChunk === 0) {
      chunk++;
      if (run + 1 < firstChunk.length && chunk + 1 >= firstChunk[run + 1]!) run++;
      leftInChunk = perChunk[run]!;
      offset = chunkOffsets[chunk]!;
      if (offset === undefined) throw new RangeError(`sample ${j} is in chunk ${chunk + 1}, beyond the chunk offset table`);
    }
    leftInChunk--;
    const size = sizes[j]!;
    t.size[j] = size;
    t.offset[j] = offset;
    offset += size;

    while (sttsLeft === 0 && sttsRun + 1 < sttsCounts.length) sttsLeft = sttsCounts[++sttsRun]!;
    sttsLeft--;
    const delta = sttsDeltas[sttsRun] ?? 0;
    t.dts[j] = dts;
    t.duration[j] = delta;
    if (cttsCounts && cttsOffsets) {
      while (cttsLeft === 0 && cttsRun + 1 < cttsCounts.length) cttsLeft = cttsCounts[++cttsRun]!;
      cttsLeft--;
      t.cts[j] = dts + (cttsOffsets[cttsRun] ?? 0);
    } else {
      t.cts[j] = dts;
    }
    if (syncNumbers) {
      if (j === syncNumbers[syncIndex]! - 1) {
        t.sync[j] = 1;
        syncIndex++;
      }
    } else {
      t.sync[j] = 1;
    }
    dts += delta;
  }
  t.duration[n - 1] = Math.max(mediaDuration - t.dts[n - 1]!, 0);
  return t;
}

/** The packet reader of a progressive track; closes the reader after the last packet. */
function progressiveNext(t: SampleTable, reader: SequentialReader): () => Packet | null | Promise<Packet | null> {
  let i = 0;
  const packet = (k: number, data: Uint8Array): Packet => ({ data, dts: t.dts[k]!, cts: t.cts[k]!, duration: t.duration[k]!, sync: t.sync[k] === 1 });
  return () => {
    if (i >= t.count) {
      reader.close();
      return null;
    }
    const k = i++;
    try {
      const got = reader.read(t.offset[k]!, t.size[k]!);
      if (got instanceof Uint8Array) return packet(k, got);
      return got.then(
        (data) => packet(k, data),
        (err: unknown) => {
          reader.close();
          throw err;
        },
      );
    } catch (err) {
      reader.close();
      throw err;
    }
  };
}

/** A sample located by a `moof`. */
interface FragmentSample {
  offset: number;
  size: number;
  dts: number;
  cts: number;
  duration: number;
  sync: boolean;
}

async function* fragmentedPackets(
  reader: SequentialReader,
  start: number,
  trackId: number,
  defaults: TrackDefaults,
  label: string,
): AsyncGenerator<Packet> {
  let offset = start;
  let nextDts = 0;
  let pending: FragmentSample[] = [];
  try {
    for (;;) {
      const head = await reader.read(offset, 16, true);
      if (head.length === 0) break;
      let h;
      try {
        h = head.length >= 8 ? readBoxHeader(head, 0, head.length) : null;
      } catch (err) {
        throw corrupt(label, `bad box at byte ${offset}`, err);
      }
      if (!h) throw new VidmuxError('truncated', `The ${label} ends inside a box header at byte ${offset}.`);
      if (!/^[\x20-\x7e\xa9]{4}$/.test(h.type)) throw corrupt(label, `no MP4 box at byte ${offset}`);
      const end = h.size === null ? Infinity : offset + h.size;
      if (h.type === 'moof') {
        if (h.size === null || h.size > MAX_MOOF_BYTES) throw corrupt(label, `bad movie fragment size at byte ${offset}`);
        const moof = await reader.read(offset, h.size);
        const parsed = parseMoof(moof, offset, trackId, defaults, nextDts, label);
        nextDts = parsed.nextDts;
        pending = parsed.samples;
      } else if (h.type === 'mdat' && pending.length > 0) {
        // The samples of the preceding moof live here; read them in order (they usually are).
        for (const s of pending) {
          const data = await reader.read(s.offset, s.size);
          yield { data, dts: s.dts, cts: s.cts, duration: s.duration, sync: s.sync };
        }
        pending = [];
      }
      if (end === Infinity) break;
      offset = end;
    }
    if (pending.length > 0) throw new VidmuxError('truncated', `The ${label} ends before the data of its last fragment.`);
  } finally {
    reader.close();
  }
}

/** Parses one `moof` for track `trackId`: tfhd defaults, tfdt base time, every trun. */
function parseMoof(
  moof: Uint8Array,
  moofOffset: number,
  trackId: number,
  defaults: TrackDefaults,
  runningDts: number,
  label: string,
): { samples: FragmentSample[]; nextDts: number } {
  const samples: FragmentSample[] = [];
  let dts = runningDts;
  try {
    const body = readBoxHeader(moof, 0)!.headerSize;
    for (const traf of listBoxes(moof, body).filter((b) => b.type === 'traf')) {
      const children = listBoxes(moof, traf.body, traf.end);
      const tfhd = children.find((b) => b.type === 'tfhd');
      if (!tfhd) continue;
      const tfFlags = readU32(moof, tfhd.body) & 0xffffff;
      if (readU32(moof, tfhd.body + 4) !== trackId) continue;
      let p = tfhd.body + 8;
      let base = moofOffset; // default-base-is-moof, and what every real muxer means when nothing is set
      if (tfFlags & 0x1) {
        base = readU64(moof, p);
        p += 8;
      }
      if (tfFlags & 0x2) p += 4; // sample_description_index
      let defDuration = defaults.duration;
      let defSize = defaults.size;
      let defFlags = defaults.flags;
      if (tfFlags & 0x8) {
        defDuration = readU32(moof, p);
        p += 4;
      }
      if (tfFlags & 0x10) {
        defSize = readU32(moof, p);
        p += 4;
      }
      if (tfFlags & 0x20) defFlags = readU32(moof, p);
      const tfdt = children.find((b) => b.type === 'tfdt');
      if (tfdt) dts = moof[tfdt.body] === 1 ? readU64(moof, tfdt.body + 4) : readU32(moof, tfdt.body + 4);
      let dataPos = base;
      for (const trun of children.filter((b) => b.type === 'trun')) {
        const version = moof[trun.body]!;
        const flags = readU32(moof, trun.body) & 0xffffff;
        const count = readU32(moof, trun.body + 4);
        let q = trun.body + 8;
        if (flags & 0x1) {
          dataPos = base + readI32(moof, q);
          q += 4;
        }
        let firstFlags: number | null = null;
        if (flags & 0x4) {
          firstFlags = readU32(moof, q);
          q += 4;
        }
        const perSample = 4 * (((flags >> 8) & 1) + ((flags >> 9) & 1) + ((flags >> 10) & 1) + ((flags >> 11) & 1));
        if (q + perSample * count > trun.end) throw new RangeError('trun overruns its box');
        for (let i = 0; i < count; i++) {
          let duration = defDuration;
          let size = defSize;
          let sampleFlags = i === 0 && firstFlags !== null ? firstFlags : defFlags;
          let cto = 0;
          if (flags & 0x100) {
            duration = readU32(moof, q);
            q += 4;
          }
          if (flags & 0x200) {
            size = readU32(moof, q);
            q += 4;
          }
          if (flags & 0x400) {
            const f = readU32(moof, q);
            q += 4;
            if (!(i === 0 && firstFlags !== null)) sampleFlags = f;
          }
          if (flags & 0x800) {
            cto = version === 0 ? readU32(moof, q) : readI32(moof, q);
            q += 4;
          }
          // sample_is_non_sync_sample is bit 16 of the sample flags.
          samples.push({ offset: dataPos, size, dts, cts: dts + cto, duration, sync: (sampleFlags & 0x10000) === 0 });
          dataPos += size;
          dts += duration;
        }
      }
    }
  } catch (err) {
    throw corrupt(label, `bad movie fragment at byte ${moofOffset}`, err);
  }
  return { samples, nextDts: dts };
}
