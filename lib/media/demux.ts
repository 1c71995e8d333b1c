/**
 * Demuxing an input into its video and/or audio track, streaming: MP4 here, MPEG-TS in
 * ts-demux.ts, WebM/Matroska in webm/demux.ts ({@link openTracks} tells them apart by their first
 * bytes).
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
 *   the samples it points at from the `mdat` that follows. When both tracks are wanted, one such
 *   walk serves both ({@link FragmentedPass}, through shared-pass.ts): an HLS fMP4 segment holds
 *   them side by side.
 * Memory is the sample table (a few bytes per sample) plus the reader's current chunk.
 */
import { VidmuxError } from '../errors';
import type { ByteSource } from '../io';
import { findBox, fourcc, listBoxes, printable, readBoxHeader, readI32, readU32, readU64 } from './boxes';
import { readRange, SequentialReader } from './byte-reader';
import { muxableCodec, type EngineAudio, type EngineVideo } from '../codecs';
import { parseMovieHeader, type ByteRange, type ParsedMovieHeader, type ParsedTrack, type RawSampleTables, type TrackDefaults } from './mp4box-adapter';
import { SharedPass, type PassProducer, type TrackKind } from './shared-pass';
import { detectMpegTs, openTsTracks } from './ts-demux';
import { isEbml, openWebmTracks } from './webm/demux';

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
  /** The codec family; VP8 and Vorbis (WebM input only) fit only WebM output (codecs.ts `familyFits`). */
  family: EngineVideo | EngineAudio;
  /** Media timescale (ticks per second) of all packet times. */
  timescale: number;
  /** The input's `mvhd` timescale, which `edits[].segmentDuration` is in. */
  movieTimescale: number;
  /** The input's edit list (empty when it has none). */
  edits: EditEntry[];
  /** The input's `stsd` box, verbatim (or built from in-band headers for MPEG-TS): the sample entry with its decoder config (avcC, esds, dOps...). */
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
  /**
   * For inputs on a clock that other files share (MPEG-TS's 90 kHz program clock, which HLS
   * renditions of one stream share): where this input's presentation time 0 (the origin of
   * `edits`) sits on that clock, in seconds. remux lines up tracks of different inputs by it.
   */
  clockOrigin?: number;
  /** For WebM/Matroska inputs: the track's own codec data, which WebM output copies as it is. */
  matroska?: MatroskaTrackData;
}

/** What a Matroska `TrackEntry` says about its codec (absent elements as null/0). */
export interface MatroskaTrackData {
  /** `CodecID`, e.g. `V_VP9`, `V_AV1`, `A_OPUS`, `A_VORBIS`. */
  codecId: string;
  /** `CodecPrivate` verbatim (OpusHead for Opus, av1C for AV1, Xiph-laced headers for Vorbis), or null. */
  codecPrivate: Uint8Array | null;
  /** `CodecDelay` in nanoseconds (Opus pre-skip), 0 when absent. */
  codecDelayNs: number;
  /** `SeekPreRoll` in nanoseconds, 0 when absent. */
  seekPreRollNs: number;
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
  /**
   * How many packets the input's index says the track has, where it says (a progressive MP4's
   * sample tables); `next()` must give exactly this many (remux checks).
   */
  expectedPackets?: number;
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

/** Which tracks {@link openTracks} opens: `true` must be there (`bad_input` otherwise); `'optional'` is null when absent. */
export type TrackWant = boolean | 'optional';

/** What {@link openTracks} opened: null for a kind not asked for, or asked as optional and absent. */
export interface OpenedTracks {
  video: DemuxedTrack | null;
  audio: DemuxedTrack | null;
}

/**
 * Opens the first `kind` track of `source` (MP4, fragmented MP4, MPEG-TS or WebM/Matroska): see {@link openTracks}.
 * Throws `bad_input` when there is no such track.
 */
export async function openTrack(source: ByteSource, kind: 'video' | 'audio', opts: OpenTrackOptions = {}): Promise<DemuxedTrack> {
  const opened = await openTracks(source, { [kind]: true }, { ...opts, label: opts.label ?? `${kind} input` });
  return opened[kind]!;
}

/**
 * Opens the first video and/or first audio track of one `source` so that they are read in one pass
 * where the container interleaves them:
 * - MPEG-TS (sync bytes 0x47 every 188 bytes, or 192 for M2TS; see ts-demux.ts) and fragmented
 *   MP4 holding both tracks (HLS fMP4 segments, one `moof` per track or one with two `traf`s) are
 *   read once, front to back; each track's packets wait in a bounded queue until that track reads
 *   them (shared-pass.ts), so read both tracks about as fast as each other (remux does);
 * - WebM/Matroska (EBML magic 1A 45 DF A3; see webm/demux.ts) is read once, front to back, the
 *   same way: blocks of both tracks go to their queues as the clusters interleave them;
 * - a progressive MP4 is read once per track: its sample tables say where every sample is.
 * `label` names the input in errors (default "input"). Throws `unsupported` for encrypted or
 * unreadable codecs, `bad_input` for a required kind that is missing, and `corrupt_media` or
 * `truncated` for an input that can't be read. WebM's VP8 and Vorbis are read (`info.family`),
 * though only WebM output holds them.
 */
export async function openTracks(
  source: ByteSource,
  want: { video?: TrackWant; audio?: TrackWant },
  opts: OpenTrackOptions = {},
): Promise<OpenedTracks> {
  const label = opts.label ?? 'input';
  if (!want.video && !want.audio) throw new VidmuxError('bad_input', `Nothing asked of the ${label}: want video, audio or both.`);
  const head = await readRange(source, 0, 16, opts.signal);
  if (isEbml(head)) return openWebmTracks(source, want, { ...opts, label });
  if (head[0] === 0x47 || head[4] === 0x47 || (head.length >= 8 && !/^[\x20-\x7e\xa9]{4}$/.test(fourcc(head, 4)))) {
    const layout = detectMpegTs(await readRange(source, 0, 1024, opts.signal));
    if (layout) return openTsTracks(source, layout, want, { ...opts, label });
  }
  return openMp4Tracks(source, want, { ...opts, label }, head);
}

async function openMp4Tracks(
  source: ByteSource,
  want: { video?: TrackWant; audio?: TrackWant },
  opts: OpenTrackOptions & { label: string },
  head: Uint8Array,
): Promise<OpenedTracks> {
  const { label } = opts;
  const { ftyp, moov, moovEnd } = await findMoov(source, label, opts.signal, head);
  const found: Partial<Record<'video' | 'audio', { track: ParsedTrack; info: DemuxedTrackInfo }>> = {};
  for (const kind of ['video', 'audio'] as const) {
    if (!want[kind]) continue;
    const got = mp4Track(moov, ftyp, kind, label, want[kind] === true);
    if (got) found[kind] = got;
  }
  if (!found.video && !found.audio) throw new VidmuxError('bad_input', `The ${label} has neither video nor audio.`);
  const opened: OpenedTracks = { video: null, audio: null };
  const both = found.video && found.audio;
  if (both && found.video!.info.fragmented) {
    // One pass over the fragments for both tracks.
    const pass = new SharedPass(['video', 'audio'], label);
    const reader = new SequentialReader(source, opts.signal, opts.onBytes);
    pass.attach(new FragmentedPass(reader, moovEnd, pass, [
      { kind: 'video', id: found.video!.track.id, defaults: found.video!.track.trexDefaults },
      { kind: 'audio', id: found.audio!.track.id, defaults: found.audio!.track.trexDefaults },
    ], label));
    return { video: pass.track('video', found.video!.info), audio: pass.track('audio', found.audio!.info) };
  }
  for (const kind of ['video', 'audio'] as const) {
    const f = found[kind];
    if (!f) continue;
    const reader = new SequentialReader(source, opts.signal, opts.onBytes);
    if (!f.info.fragmented) {
      if (f.track.sampleTables.sampleCount === 0) throw corrupt(label, `the ${kind} track has no samples`);
      const table = sampleTable(f.track.sampleTables, f.track.mediaDuration, { kind, label, fileSize: source.size });
      opened[kind] = { info: f.info, next: progressiveNext(table, reader), close: () => reader.close(), expectedPackets: table.count };
      continue;
    }
    const fragments = fragmentedPackets(reader, moovEnd, f.track.id, f.track.trexDefaults, label);
    const next = () => fragments.next().then((r) => (r.done ? null : r.value));
    opened[kind] = { info: f.info, next, close: () => reader.close() };
  }
  return opened;
}

/** The first `kind` track of a parsed `moov` and its info; null when absent and not `required`. */
function mp4Track(
  moov: Uint8Array,
  ftyp: Uint8Array | null,
  kind: 'video' | 'audio',
  label: string,
  required: boolean,
): { track: ParsedTrack; info: DemuxedTrackInfo } | null {
  let movie: ParsedMovieHeader;
  try {
    movie = parseMovieHeader(moov, ftyp, kind);
  } catch (err) {
    throw corrupt(label, 'its movie header (moov) could not be parsed', err);
  }
  if (movie.tableProblem) throw corrupt(label, movie.tableProblem);
  const track = movie.track;
  if (!track) {
    if (!required) return null;
    const has = movie.tracks.map((t) => `${t.type ?? 'other'} (${t.codec})`).join(', ') || 'no tracks';
    throw new VidmuxError('bad_input', `The ${label} has no ${kind} track (it has ${has}).`);
  }
  const entryType = track.sampleEntryType;
  if (entryType === 'encv' || entryType === 'enca') {
    throw new VidmuxError('unsupported', `The ${label} is encrypted (DRM-protected); it can't be saved.`);
  }
  const family = muxableCodec(track.codec, { allAudio: true });
  if (!family || family.kind !== kind) {
    throw new VidmuxError(
      'unsupported',
      `The ${label} uses codec ${track.codec} (${printable(entryType.padEnd(4))}); only H.264, H.265, AV1, VP9, AAC, Opus, MP3, AC-3 and E-AC-3 can be saved into MP4 without re-encoding.`,
    );
  }

  const stsd = sliceBox(moov, track.stsd);
  const hdlr = sliceBox(moov, track.hdlr);
  if (fourcc(stsd, 4) !== 'stsd' || fourcc(hdlr, 4) !== 'hdlr') throw corrupt(label, 'unexpected sample description layout');

  const info: DemuxedTrackInfo = {
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
  if (!(info.timescale > 0)) throw corrupt(label, 'the track has no timescale');
  return { track, info };
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
  first?: Uint8Array,
): Promise<{ ftyp: Uint8Array | null; moov: Uint8Array; moovEnd: number }> {
  let offset = 0;
  let ftyp: Uint8Array | null = null;
  for (;;) {
    if (signal?.aborted) throw new VidmuxError('cancelled', 'Cancelled.');
    const head = offset === 0 && first ? first : await readRange(source, offset, offset + 16, signal);
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
 * Most samples one progressive track may have: 2^24, 77 hours of 60 fps video or 97 hours of 48 kHz
 * AAC, whose expanded table ({@link SampleTable}, 41 bytes a sample) is then ~690 MB. A count is
 * cheap to forge (a constant-size `stsz` is one number, `stts`/`stsc` runs multiply), so it is
 * checked before anything that size is allocated.
 */
const MAX_TRACK_SAMPLES = 2 ** 24;

/**
 * Checks that a progressive track's sample tables agree, or throws `corrupt_media` naming the
 * track and the tables that disagree: `stts` times, `stsc`/`stco` place, and `stsz` sizes the
 * same number of samples; and that what they place lies within the file (`truncated` otherwise:
 * cut short, or its offsets are wrong). Then expands the run-length encoded tables into per-sample
 * typed arrays, with the same results as mp4box's own sample list (including its last-sample
 * duration: the `mdhd` duration `mediaDuration` minus the last DTS).
 */
function sampleTable(
  tables: RawSampleTables,
  mediaDuration: number,
  where: { kind: 'video' | 'audio'; label: string; fileSize: number | null },
): SampleTable {
  const { kind, label, fileSize } = where;
  const disagree = (what: string) => new VidmuxError('corrupt_media', `The ${kind} track's sample tables disagree in the ${label}: ${what}.`);
  const missing = (what: string) => corrupt(label, `its ${kind} track has no ${what}`);
  const n = tables.sampleCount;
  const constant = tables.constantSampleSize;
  const sizes = tables.sampleSizes;
  const chunkOffsets = tables.chunkOffsets;
  const firstChunk = tables.stscFirstChunk;
  const perChunk = tables.stscSamplesPerChunk;
  const sttsCounts = tables.sttsCounts;
  const sttsDeltas = tables.sttsDeltas;
  if (!chunkOffsets) throw missing('chunk offset table (stco/co64)');
  if (!firstChunk || !perChunk) throw missing('sample-to-chunk table (stsc)');
  if (!sttsCounts || !sttsDeltas) throw missing('time-to-sample table (stts)');

  // Every table counts the same samples, before anything the size of `n` is allocated.
  let timed = 0;
  for (const c of sttsCounts) timed += c;
  if (timed !== n) throw disagree(`stts lists ${timed} samples, stsz ${n}`);
  const chunks = chunkOffsets.length;
  let placed = 0;
  for (let r = 0; r < firstChunk.length; r++) {
    const from = firstChunk[r]!;
    if (r === 0 ? from !== 1 : from <= firstChunk[r - 1]!) {
      throw disagree(`stsc's run ${r + 1} starts at chunk ${from}, ${r === 0 ? 'not at chunk 1' : `not after chunk ${firstChunk[r - 1]}`}`);
    }
    const until = Math.min(r + 1 < firstChunk.length ? firstChunk[r + 1]! - 1 : chunks, chunks);
    placed += Math.max(0, until - from + 1) * perChunk[r]!;
  }
  if (placed !== n) throw disagree(`stsc and stco place ${placed} samples in ${chunks} chunk${chunks === 1 ? '' : 's'}, stsz lists ${n}`);
  if (constant > 0 && fileSize !== null && n * constant > fileSize) {
    throw new VidmuxError('truncated', `The ${label} ends before its ${kind} track's samples do: stsz lists ${n} samples of ${constant} bytes, more than the file's ${fileSize}.`);
  }
  if (n > MAX_TRACK_SAMPLES) throw new VidmuxError('unsupported', `The ${label}'s ${kind} track has ${n} samples, more than the ${MAX_TRACK_SAMPLES} one track may have.`);

  const t: SampleTable = {
    count: n,
    offset: new Float64Array(n),
    size: new Uint32Array(n),
    dts: new Float64Array(n),
    cts: new Float64Array(n),
    duration: new Float64Array(n),
    sync: new Uint8Array(n),
  };
  const cttsCounts = tables.cttsCounts;
  const cttsOffsets = tables.cttsOffsets;
  const syncNumbers = tables.syncSampleNumbers;

  let run = 0; // stsc entry
  let chunk = -1; // 0-based chunk index
  let leftInChunk = 0;
  let offset = 0;
  let sttsRun = 0;
  let sttsLeft = sttsCounts[0] ?? 0;
  let cttsRun = 0;
  let cttsLeft = cttsCounts?.[0] ?? 0;
  let syncIndex = 0;
  let dts = 0;
  let pastEnd = -1;
  for (let j = 0; j < n; j++) {
    // (The counts above agree, so the chunks run out exactly with the samples; a chunk may be empty.)
    while (leftInChunk === 0) {
      chunk++;
      while (run + 1 < firstChunk.length && chunk + 1 >= firstChunk[run + 1]!) run++;
      leftInChunk = perChunk[run]!;
      offset = chunkOffsets[chunk]!;
    }
    leftInChunk--;
    const size = constant || sizes[j]!;
    t.size[j] = size;
    t.offset[j] = offset;
    offset += size;
    if (pastEnd < 0 && fileSize !== null && offset > fileSize) pastEnd = j;

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
  if (pastEnd >= 0) {
    const from = t.offset[pastEnd]!;
    throw new VidmuxError(
      'truncated',
      `The ${label} ends before its ${kind} track's samples do: sample ${pastEnd + 1} of ${n} lies at bytes ${from}-${from + t.size[pastEnd]! - 1}, past the end of the file (${fileSize} bytes); it was cut short, or its chunk offsets (stco) are wrong.`,
    );
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

/** Samples of several tracks located by one `moof`, in file order. */
interface PassSample extends FragmentSample {
  kind: TrackKind;
}

/**
 * The fragments of a fragmented MP4 read once for both of its tracks: each `moof` is parsed for
 * every track, and the samples it locates are read in file order and queued per track.
 */
class FragmentedPass implements PassProducer {
  private offset: number;
  /** Samples located by the last `moof`, waiting for its `mdat`. */
  private located: PassSample[] = [];
  /** Samples of the current `mdat` being read, and the next one's index. */
  private reading: PassSample[] = [];
  private index = 0;
  private readonly nextDts: number[];

  constructor(
    private readonly reader: SequentialReader,
    start: number,
    private readonly pass: SharedPass,
    private readonly tracks: Array<{ kind: TrackKind; id: number; defaults: TrackDefaults }>,
    private readonly label: string,
  ) {
    this.offset = start;
    this.nextDts = tracks.map(() => 0);
  }

  async step(): Promise<boolean> {
    if (this.index < this.reading.length) {
      // A bounded batch per step, so a big mdat doesn't fill the queues in one go.
      for (let n = 0; n < 256 && this.index < this.reading.length; n++) {
        const s = this.reading[this.index++]!;
        const got = this.reader.read(s.offset, s.size);
        const data = got instanceof Uint8Array ? got : await got;
        this.pass.push(s.kind, { data, dts: s.dts, cts: s.cts, duration: s.duration, sync: s.sync });
      }
      return true;
    }
    const at = this.offset;
    const head = at === Infinity ? new Uint8Array(0) : await this.reader.read(at, 16, true);
    if (head.length === 0) {
      if (this.located.length > 0) throw new VidmuxError('truncated', `The ${this.label} ends before the data of its last fragment.`);
      return false;
    }
    let h;
    try {
      h = head.length >= 8 ? readBoxHeader(head, 0, head.length) : null;
    } catch (err) {
      throw corrupt(this.label, `bad box at byte ${at}`, err);
    }
    if (!h) throw new VidmuxError('truncated', `The ${this.label} ends inside a box header at byte ${at}.`);
    if (!/^[\x20-\x7e\xa9]{4}$/.test(h.type)) throw corrupt(this.label, `no MP4 box at byte ${at}`);
    if (h.type === 'moof') {
      if (h.size === null || h.size > MAX_MOOF_BYTES) throw corrupt(this.label, `bad movie fragment size at byte ${at}`);
      const moof = await this.reader.read(at, h.size);
      const located: PassSample[] = [];
      this.tracks.forEach((t, i) => {
        const parsed = parseMoof(moof, at, t.id, t.defaults, this.nextDts[i]!, this.label);
        this.nextDts[i] = parsed.nextDts;
        for (const s of parsed.samples) located.push({ ...s, kind: t.kind });
      });
      // The reader only goes forward: read the samples in file order.
      this.located = located.sort((a, b) => a.offset - b.offset);
    } else if (h.type === 'mdat' && this.located.length > 0) {
      this.reading = this.located;
      this.index = 0;
      this.located = [];
    }
    this.offset = h.size === null ? Infinity : at + h.size;
    return true;
  }

  close(): void {
    this.reader.close();
  }
}
