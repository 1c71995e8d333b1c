/**
 * Demuxing one MP4 input into one elementary track, streaming.
 *
 * mp4box parses the `moov` (track info, sample tables, edit list, decoder config). Sample bytes
 * are then read by us, not by mp4box: feeding a gigabyte through `appendBuffer` makes mp4box keep
 * and re-slice every sample, which was most of the time and memory of the naive pipeline. Instead:
 * - progressive MP4 (moov at start or end): the sample table gives every sample's offset and size,
 *   which we read in order through one forward-only reader of large reads ({@link SequentialReader});
 *   the sample table itself is read from mp4box's parsed boxes into typed arrays (not through
 *   mp4box's per-sample objects);
 * - fragmented MP4 / CMAF / single-file DASH with `sidx` / init + media segments: we walk the
 *   top-level boxes after the `moov` in one pass, parse each small `moof` (tfhd/tfdt/trun) and read
 *   the samples it points at from the `mdat` that follows.
 * Memory is the sample table (a few bytes per sample) plus the reader's current chunk.
 */
import { createFile, MP4BoxBuffer } from 'mp4box';
import { VidmuxError } from '../errors';
import type { ByteSource } from '../io';
import { concatBytes, findBox, fourcc, listBoxes, printable, readBoxHeader, readI32, readU32, readU64 } from './boxes';
import { readRange, SequentialReader } from './byte-reader';
import { codecFamily, type AudioCodecFamily, type VideoCodecFamily } from './codecs';

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
  family: VideoCodecFamily | AudioCodecFamily;
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
  /** Yields packets in decode order; can be iterated once. */
  packets(): AsyncGenerator<Packet>;
  /**
   * Pull-style alternative to {@link packets} (use one or the other): the next packet in decode
   * order, or null after the last. Synchronous whenever the bytes are already read, which spares
   * the muxing loop two promises per packet.
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

  // mp4box wants an ftyp before the moov; sample offsets come from stco/co64 so the position we
  // give the moov does not matter.
  const ftypBytes = ftyp ?? new Uint8Array([0, 0, 0, 16, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d, 0, 0, 2, 0]);
  const head = concatBytes([ftypBytes, moov]);
  const mp4 = createFile();
  // mp4box would also expand the sample tables into one JS object per sample (tens of thousands
  // for a long video, ~40 MB of peak RSS here); we read its parsed tables into typed arrays
  // ourselves ({@link sampleTable}) and give it empty lists.
  (mp4 as any).buildTrakSampleLists = (trak: any) => {
    trak.samples = [];
    trak.samples_duration = 0;
    trak.samples_size = 0;
  };
  let info: any;
  try {
    const buffer = MP4BoxBuffer.fromArrayBuffer(head.buffer as ArrayBuffer, 0);
    mp4.appendBuffer(buffer);
    mp4.flush();
    info = mp4.getInfo();
  } catch (err) {
    throw corrupt(label, 'its movie header (moov) could not be parsed', err);
  }
  // mp4box's parsed box objects are not part of its public types.
  const movie = (mp4 as any).moov;
  const tracks: any[] = kind === 'video' ? info.videoTracks : info.audioTracks;
  const track = tracks?.[0];
  if (!movie || !track) {
    const has = (info?.tracks ?? []).map((t: any) => `${t.type ?? 'other'} (${t.codec})`).join(', ') || 'no tracks';
    throw new VidmuxError('bad_input', `The ${label} has no ${kind} track (it has ${has}).`);
  }
  const trak = movie.traks.find((t: any) => t.tkhd.track_id === track.id);
  const entry = trak.mdia.minf.stbl.stsd.entries[0];
  const entryType: string = entry?.type ?? '';
  if (entryType === 'encv' || entryType === 'enca') {
    throw new VidmuxError('unsupported', `The ${label} is encrypted (DRM-protected); it can't be saved.`);
  }
  const family = codecFamily(track.codec);
  if (!family || family.kind !== kind) {
    throw new VidmuxError(
      'unsupported',
      `The ${label} uses codec ${track.codec} (${printable(entryType.padEnd(4))}); only H.264, H.265, AV1, VP9, AAC and Opus can be saved into MP4 without re-encoding.`,
    );
  }

  const stsdBox = trak.mdia.minf.stbl.stsd;
  const hdlrBox = trak.mdia.hdlr;
  const stsd = head.slice(stsdBox.start, stsdBox.start + stsdBox.size);
  const hdlr = head.slice(hdlrBox.start, hdlrBox.start + hdlrBox.size);
  if (fourcc(stsd, 4) !== 'stsd' || fourcc(hdlr, 4) !== 'hdlr') throw corrupt(label, 'unexpected sample description layout');

  const trackInfo: DemuxedTrackInfo = {
    kind,
    codec: track.codec,
    family: family.family,
    timescale: track.timescale,
    movieTimescale: info.timescale,
    edits: (trak.edts?.elst?.entries ?? []).map((e: any) => ({
      segmentDuration: Number(e.segment_duration),
      mediaTime: Number(e.media_time),
    })),
    stsd,
    hdlr,
    language: typeof track.language === 'string' && /^[a-z]{3}$/.test(track.language) ? track.language : 'und',
    width: track.video?.width ?? track.track_width ?? 0,
    height: track.video?.height ?? track.track_height ?? 0,
    channels: track.audio?.channel_count ?? 0,
    sampleRate: track.audio?.sample_rate ?? 0,
    title: findTitle(moov),
    fragmented: Boolean(info.isFragmented),
  };
  if (!(trackInfo.timescale > 0)) throw corrupt(label, 'the track has no timescale');

  const reader = new SequentialReader(source, opts.signal, opts.onBytes);
  if (!trackInfo.fragmented) {
    let table: SampleTable;
    try {
      table = sampleTable(trak);
    } catch (err) {
      throw corrupt(label, 'its sample tables are inconsistent', err);
    }
    if (table.count === 0) throw corrupt(label, `the ${kind} track has no samples`);
    const next = progressiveNext(table, reader);
    return { info: trackInfo, packets: () => generate(next), next, close: () => reader.close() };
  }
  const trex = (movie.mvex?.trexs ?? []).find((t: any) => t.track_id === track.id);
  const defaults: FragmentDefaults = {
    duration: trex?.default_sample_duration ?? 0,
    size: trex?.default_sample_size ?? 0,
    flags: trex?.default_sample_flags ?? 0,
  };
  const fragments = fragmentedPackets(reader, moovEnd, track.id, defaults, label);
  const next = () => fragments.next().then((r) => (r.done ? null : r.value));
  return {
    info: trackInfo,
    packets: () => generate(next),
    next,
    close: () => reader.close(),
  };
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

/** A progressive track's sample table in typed arrays (mp4box's per-sample objects are dropped). */
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
 * The sample table from mp4box's parsed `stbl` boxes, with the same results as its own sample list
 * (including its last-sample duration: the `mdhd` duration minus the last DTS).
 */
function sampleTable(trak: any): SampleTable {
  const stbl = trak.mdia.minf.stbl;
  const stsz = stbl.stsz ?? stbl.stz2;
  const sizes: number[] = stsz?.sample_sizes ?? [];
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
  const chunkOffsets: number[] = (stbl.stco ?? stbl.co64).chunk_offsets;
  const firstChunk: number[] = stbl.stsc.first_chunk;
  const perChunk: number[] = stbl.stsc.samples_per_chunk;
  const sttsCounts: number[] = stbl.stts.sample_counts;
  const sttsDeltas: number[] = stbl.stts.sample_deltas;
  const cttsCounts: number[] | undefined = stbl.ctts?.sample_counts;
  const cttsOffsets: number[] | undefined = stbl.ctts?.sample_offsets;
  const syncNumbers: number[] | undefined = stbl.stss?.sample_numbers;

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
  t.duration[n - 1] = Math.max(Number(trak.mdia.mdhd.duration) - t.dts[n - 1]!, 0);
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

/** {@link DemuxedTrack.packets} on top of {@link DemuxedTrack.next}. */
async function* generate(next: () => Packet | null | Promise<Packet | null>): AsyncGenerator<Packet> {
  for (;;) {
    const p = await next();
    if (!p) return;
    yield p;
  }
}

/** `trex` defaults for fragments. */
interface FragmentDefaults {
  duration: number;
  size: number;
  flags: number;
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
  defaults: FragmentDefaults,
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
  defaults: FragmentDefaults,
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
