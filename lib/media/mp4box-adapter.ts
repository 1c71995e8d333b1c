/**
 * The one module that imports mp4box (swap the `moov` parser here and nowhere else).
 *
 * What mp4box does for us: it parses the `moov` of an input, which we hand it whole (with the
 * `ftyp`, never any sample data), and from its parse we take
 * - the track list with each track's id, type, RFC 6381 codec string (built from the sample
 *   entry and its decoder config box: avcC, hvcC, av1C, vpcC, esds...), timescale, language,
 *   dimensions or channel count and sample rate;
 * - where the decoder config lives: the byte range of the track's `stsd` (sample entry + avcC,
 *   esds, dOps...), and of its `hdlr`, both copied verbatim into the output by moov-patch.ts; and
 *   the sample entry's fourcc;
 * - the parsed `elst`, `mdhd` duration, `trex` defaults, whether the movie is fragmented (`mvex`);
 * - the sample tables as parsed arrays (`stsz`/`stz2`, `stco`/`co64`, `stsc`, `stts`, `ctts`,
 *   `stss`), exactly as stored: run-length encoded, one entry per run or chunk.
 * What we do ourselves (demux.ts): finding the `moov` by scanning top-level box headers, expanding
 * the sample tables into per-sample typed arrays, reading the sample bytes, and parsing every
 * `moof` of a fragmented input (mp4box never sees anything after the `moov`).
 *
 * The private-method patch: after parsing a `moov`, mp4box expands every track's tables into one
 * JS object per sample (`buildTrakSampleLists`), tens of thousands for a long video, about 40 MB
 * of peak RSS on the benchmark, only for us to ignore them. {@link parseMovieHeader} replaces that
 * method on its own ISOFile instance with one that leaves the lists empty; everything we read is
 * in the parsed boxes, which the expansion doesn't touch. (mp4box's typings declare the method
 * public, but it is an internal step of its parse.)
 *
 * Before mp4box sees a `moov`, {@link checkTableBoxes} walks every track's sample tables on the bytes:
 * a table whose entry count runs past its box is refused (mp4box would read the next boxes' bytes
 * as entries), and a constant-size `stsz` (one size, a count, no entries) reaches mp4box with a
 * count of 0: mp4box fills an array of `count` copies of the size, which for a hostile count of
 * 2^32-1 never ends; we take the size and count from the bytes instead.
 *
 * The box objects below are declared here, minimally, rather than taken from mp4box's typings:
 * those declare boxes such as `stss`, `ctts` or `co64` present on every `stbl` and `moov` on every
 * file, where at run time they are absent unless the input has them.
 */
import { createFile, MP4BoxBuffer } from 'mp4box';
import { concatBytes, fourcc, listBoxes, readU32, type BoxRef } from './boxes';

/** A minimal `ftyp` (isom) for inputs whose `ftyp` we didn't find: mp4box wants one before the `moov`. */
const DEFAULT_FTYP = new Uint8Array([0, 0, 0, 16, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d, 0, 0, 2, 0]);

/** One track of the input, as listed in error messages. */
export interface TrackSummary {
  /** `video`, `audio`, `subtitles`, `metadata`; undefined when mp4box couldn't tell. */
  type: string | undefined;
  codec: string;
}

/** A box's position, in bytes from the start of the `moov` passed to {@link parseMovieHeader}. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * A progressive track's sample tables as stored (run-length encoded), each array straight from
 * mp4box's parse (not copied: read only). A table the input lacks is undefined; demux.ts decides
 * what a missing table means.
 */
export interface RawSampleTables {
  /** `stsz`/`stz2`: how many samples the track has (0 when neither box is there). */
  sampleCount: number;
  /** `stsz`: the size of every sample when they are all one size, else 0 (see `sampleSizes`). */
  constantSampleSize: number;
  /** `stsz`/`stz2`: every sample's size when they differ (empty when `constantSampleSize` is set). */
  sampleSizes: readonly number[];
  /** `stco`/`co64`: every chunk's file offset. */
  chunkOffsets: readonly number[] | undefined;
  /** `stsc`: 1-based first chunk of each run of chunks... */
  stscFirstChunk: readonly number[] | undefined;
  /** ...and the samples per chunk in that run. */
  stscSamplesPerChunk: readonly number[] | undefined;
  /** `stts`: runs of `sttsCounts[i]` samples lasting `sttsDeltas[i]` ticks each. */
  sttsCounts: readonly number[] | undefined;
  sttsDeltas: readonly number[] | undefined;
  /** `ctts`: runs of `cttsCounts[i]` samples with composition offset `cttsOffsets[i]`. */
  cttsCounts: readonly number[] | undefined;
  cttsOffsets: readonly number[] | undefined;
  /** `stss`: 1-based numbers of the sync samples; undefined means every sample is one. */
  syncSampleNumbers: readonly number[] | undefined;
}

/** `trex` defaults for the samples of a fragmented track (0 where the input has no `trex`). */
export interface TrackDefaults {
  duration: number;
  size: number;
  flags: number;
}

/** The first track of the requested kind. */
export interface ParsedTrack {
  /** `tkhd` track_ID. */
  id: number;
  /** RFC 6381 codec string, e.g. `avc1.64001f`, `mp4a.40.2`, `Opus`. */
  codec: string;
  /** The fourcc of the first sample entry in `stsd` (`avc1`, `mp4a`, `encv`, ...), '' if none. */
  sampleEntryType: string;
  /** `mdhd` timescale. */
  timescale: number;
  /** `mdhd` duration, in the track's timescale. */
  mediaDuration: number;
  /** `elst` entries, durations in the movie timescale and media times in the track's (empty when none). */
  edits: Array<{ segmentDuration: number; mediaTime: number }>;
  /** Where the track's `stsd` and `hdlr` boxes are; null when mp4box didn't say. */
  stsd: ByteRange | null;
  hdlr: ByteRange | null;
  /** Language as mp4box reports it (`elng`, else `mdhd`); not validated. */
  language: string | undefined;
  width: number;
  height: number;
  channels: number;
  sampleRate: number;
  trexDefaults: TrackDefaults;
  sampleTables: RawSampleTables;
}

/** What {@link parseMovieHeader} read from a `moov`. */
export interface ParsedMovieHeader {
  /** Every track of the movie (empty when mp4box found no movie). */
  tracks: TrackSummary[];
  /** The first track of the requested kind, or null when there is none. */
  track: ParsedTrack | null;
  /** `mvhd` timescale. */
  movieTimescale: number;
  /** The movie has an `mvex`: its samples are in `moof`s after the `moov`. */
  isFragmented: boolean;
  /**
   * Set (and nothing parsed) when a sample table box of some track lists more entries than it
   * holds, e.g. "the video track's stsz box lists 150 entries but holds 60".
   */
  tableProblem?: string;
}

// What we read of mp4box's parse. getInfo() results (its public API):

interface InfoTrack {
  id: number;
  type?: string;
  codec: string;
  timescale: number;
  language?: string;
  track_width?: number;
  track_height?: number;
  video?: { width: number; height: number };
  audio?: { channel_count: number; sample_rate: number };
}

/** mp4box's `Movie`; without a `moov` it has none of the track lists. */
interface InfoMovie {
  timescale?: number;
  isFragmented?: boolean;
  tracks?: InfoTrack[];
  videoTracks?: InfoTrack[];
  audioTracks?: InfoTrack[];
}

// ...and its parsed boxes (`ISOFile.moov` and below), with only the fields we read.

interface ParsedBox {
  /** Offset from the start of the parsed buffer (the ftyp + moov we append). */
  start?: number;
  size: number;
}

interface StblBox {
  stsd: ParsedBox & { entries: Array<{ type: string }> };
  stsz?: { sample_sizes: number[] };
  stz2?: { sample_sizes: number[] };
  stco?: { chunk_offsets: number[] };
  co64?: { chunk_offsets: number[] };
  stsc?: { first_chunk: number[]; samples_per_chunk: number[] };
  stts?: { sample_counts: number[]; sample_deltas: number[] };
  ctts?: { sample_counts: number[]; sample_offsets: number[] };
  stss?: { sample_numbers: number[] };
}

interface TrakBox {
  tkhd: { track_id: number };
  edts?: { elst?: { entries: Array<{ segment_duration: number; media_time: number }> } };
  mdia: {
    mdhd: { duration: number };
    hdlr: ParsedBox;
    minf: { stbl: StblBox };
  };
}

interface MoovBox {
  traks: TrakBox[];
  mvex?: {
    trexs?: Array<{
      track_id: number;
      default_sample_duration: number;
      default_sample_size: number;
      default_sample_flags: number;
    }>;
  };
}

/**
 * Parses a `moov` (and the input's `ftyp`, if found) with mp4box and returns the first `kind`
 * track's description and raw sample tables. Throws whatever mp4box throws on a `moov` it can't
 * parse; returns `track: null` when there is no such track (or no movie at all).
 */
export function parseMovieHeader(moov: Uint8Array, ftyp: Uint8Array | null, kind: 'video' | 'audio'): ParsedMovieHeader {
  // Sample offsets come from stco/co64, so where the moov sits in this buffer does not matter.
  const prefix = ftyp ?? DEFAULT_FTYP;
  const head = concatBytes([prefix, moov]);
  // On the copy mp4box parses (the caller's moov is left as it is).
  const scan = checkTableBoxes(head, prefix.length);
  if (scan.problem) return { tracks: [], track: null, movieTimescale: 0, isFragmented: false, tableProblem: scan.problem };
  const mp4 = createFile();
  mp4.buildTrakSampleLists = (trak) => {
    trak.samples = [];
    trak.samples_duration = 0;
    trak.samples_size = 0;
  };
  mp4.appendBuffer(MP4BoxBuffer.fromArrayBuffer(head.buffer, 0));
  mp4.flush();
  // Narrowed to what is really there (see the module comment); mp4box's own types convert to these.
  const info: InfoMovie = mp4.getInfo();
  const movie: MoovBox | undefined = mp4.moov;

  const tracks = (info.tracks ?? []).map((t) => ({ type: t.type, codec: t.codec }));
  const movieTimescale = info.timescale ?? 0;
  const isFragmented = Boolean(info.isFragmented);
  const first = (kind === 'video' ? info.videoTracks : info.audioTracks)?.[0];
  if (!movie || !first) return { tracks, track: null, movieTimescale, isFragmented };

  const trak = movie.traks.find((t) => t.tkhd.track_id === first.id);
  if (!trak) throw new Error(`mp4box listed track ${first.id} but has no trak for it`);
  const stbl = trak.mdia.minf.stbl;
  const range = (box: ParsedBox): ByteRange | null =>
    box.start === undefined ? null : { start: box.start - prefix.length, end: box.start - prefix.length + box.size };
  const trex = (movie.mvex?.trexs ?? []).find((t) => t.track_id === first.id);
  const chunkOffsets = stbl.stco ?? stbl.co64;
  const constant = scan.constantSizes.get(first.id);
  const sampleSizes = constant ? [] : ((stbl.stsz ?? stbl.stz2)?.sample_sizes ?? []);
  return {
    tracks,
    movieTimescale,
    isFragmented,
    track: {
      id: first.id,
      codec: first.codec,
      sampleEntryType: stbl.stsd.entries[0]?.type ?? '',
      timescale: first.timescale,
      mediaDuration: Number(trak.mdia.mdhd.duration),
      edits: (trak.edts?.elst?.entries ?? []).map((e) => ({
        segmentDuration: Number(e.segment_duration),
        mediaTime: Number(e.media_time),
      })),
      stsd: range(stbl.stsd),
      hdlr: range(trak.mdia.hdlr),
      language: first.language,
      width: first.video?.width ?? first.track_width ?? 0,
      height: first.video?.height ?? first.track_height ?? 0,
      channels: first.audio?.channel_count ?? 0,
      sampleRate: first.audio?.sample_rate ?? 0,
      trexDefaults: {
        duration: trex?.default_sample_duration ?? 0,
        size: trex?.default_sample_size ?? 0,
        flags: trex?.default_sample_flags ?? 0,
      },
      sampleTables: {
        sampleCount: constant ? constant.count : sampleSizes.length,
        constantSampleSize: constant?.size ?? 0,
        sampleSizes,
        chunkOffsets: chunkOffsets?.chunk_offsets,
        stscFirstChunk: stbl.stsc?.first_chunk,
        stscSamplesPerChunk: stbl.stsc?.samples_per_chunk,
        sttsCounts: stbl.stts?.sample_counts,
        sttsDeltas: stbl.stts?.sample_deltas,
        cttsCounts: stbl.ctts?.sample_counts,
        cttsOffsets: stbl.ctts?.sample_offsets,
        syncSampleNumbers: stbl.stss?.sample_numbers,
      },
    },
  };
}

/** Bytes per entry, and bytes before the first entry (after the box header), of the sample tables with an entry count. */
const TABLE_LAYOUTS: Record<string, { head: number; entry: number }> = {
  stco: { head: 8, entry: 4 },
  co64: { head: 8, entry: 8 },
  stsc: { head: 8, entry: 12 },
  stts: { head: 8, entry: 8 },
  ctts: { head: 8, entry: 8 },
  stss: { head: 8, entry: 4 },
};

/**
 * Walks `moov/trak/mdia/minf/stbl` of every track in `head` (the `moov` starts at `moovAt`): an
 * entry count that runs past its box is a `problem` (named by the track's kind and the box); a
 * constant-size `stsz` gets a count of 0 in `head` and its size and count are returned by track id
 * (see the module comment). Boxes it can't walk are left to mp4box, which reports them.
 */
function checkTableBoxes(head: Uint8Array, moovAt: number): { problem?: string; constantSizes: Map<number, { size: number; count: number }> } {
  const constantSizes = new Map<number, { size: number; count: number }>();
  const within = (parent: BoxRef | undefined, type: string) => (parent ? listBoxes(head, parent.body, parent.end).find((b) => b.type === type) : undefined);
  let traks: BoxRef[];
  try {
    const moov = listBoxes(head, moovAt).find((b) => b.type === 'moov');
    traks = moov ? listBoxes(head, moov.body, moov.end).filter((b) => b.type === 'trak') : [];
  } catch {
    return { constantSizes };
  }
  for (const trak of traks) {
    let tkhd, hdlr, stbl;
    try {
      tkhd = within(trak, 'tkhd');
      const mdia = within(trak, 'mdia');
      hdlr = within(mdia, 'hdlr');
      stbl = within(within(mdia, 'minf'), 'stbl');
    } catch {
      continue;
    }
    if (!stbl) continue;
    const handler = hdlr && hdlr.end - hdlr.body >= 12 ? fourcc(head, hdlr.body + 8) : '';
    const kind = handler === 'vide' ? 'video' : handler === 'soun' ? 'audio' : `'${handler.replace(/[^\x20-\x7e]/g, '?')}'`;
    // tkhd: version (1) and flags (3), then creation and modification times (4 bytes each, 8 in version 1).
    const idAt = tkhd ? tkhd.body + (head[tkhd.body] === 1 ? 20 : 12) : -1;
    const trackId = tkhd && idAt + 4 <= tkhd.end ? readU32(head, idAt) : -1;
    let tables: BoxRef[];
    try {
      tables = listBoxes(head, stbl.body, stbl.end);
    } catch {
      continue;
    }
    for (const box of tables) {
      const room = box.end - box.body;
      let count: number;
      let holds: number;
      if (box.type === 'stsz') {
        if (room < 12) return { problem: `the ${kind} track's stsz box is cut short`, constantSizes };
        const size = readU32(head, box.body + 4);
        count = readU32(head, box.body + 8);
        if (size !== 0) {
          head.fill(0, box.body + 8, box.body + 12);
          constantSizes.set(trackId, { size, count });
          continue;
        }
        holds = Math.floor((room - 12) / 4);
      } else if (box.type === 'stz2') {
        if (room < 12) return { problem: `the ${kind} track's stz2 box is cut short`, constantSizes };
        const bits = head[box.body + 7]!;
        count = readU32(head, box.body + 8);
        holds = bits > 0 ? Math.floor(((room - 12) * 8) / bits) : 0;
      } else {
        const layout = TABLE_LAYOUTS[box.type];
        if (!layout) continue;
        if (room < layout.head) return { problem: `the ${kind} track's ${box.type} box is cut short`, constantSizes };
        count = readU32(head, box.body + 4);
        holds = Math.floor((room - layout.head) / layout.entry);
      }
      if (count > holds) return { problem: `the ${kind} track's ${box.type} box lists ${count} entries but holds ${holds}`, constantSizes };
    }
  }
  return { constantSizes };
}
