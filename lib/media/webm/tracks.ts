/**
 * The Matroska `Info` and `Tracks` elements as the demuxer needs them: the segment's timestamp
 * scale, duration and title, and per track its number, kind, codec and codec data, timing
 * elements, language, picture size and colour, audio format, and content encodings (header
 * stripping is undone; compression and encryption are refused).
 */
import { child, children, EbmlError, ID, readFloat, readString, readUint, type Element } from './ebml';

/** What `Info` says. */
export interface SegmentInfo {
  /** Nanoseconds per timestamp unit (default 1 ms). */
  timestampScale: number;
  /** Segment duration in timestamp units, or null. */
  duration: number | null;
  title: string | undefined;
}

/** Matroska `Colour` values (null when absent). */
export interface TrackColour {
  matrix: number | null;
  primaries: number | null;
  transfer: number | null;
  /** 1 broadcast (limited), 2 full. */
  range: number | null;
  bitsPerChannel: number | null;
  chromaSitingHorz: number | null;
  chromaSitingVert: number | null;
}

/** One `TrackEntry`. */
export interface WebmTrackEntry {
  number: number;
  /** `TrackType`: 1 video, 2 audio, others. */
  type: number;
  enabled: boolean;
  codecId: string;
  codecPrivate: Uint8Array | null;
  /** `DefaultDuration` in ns, or null. */
  defaultDurationNs: number | null;
  codecDelayNs: number;
  seekPreRollNs: number;
  /** ISO 639-2/T (`eng` when the track says nothing: Matroska's default). */
  language: string;
  width: number;
  height: number;
  displayWidth: number | null;
  displayHeight: number | null;
  colour: TrackColour | null;
  sampleRate: number;
  channels: number;
  /** Header-stripping bytes to put back in front of every frame, or null. */
  strippedHeader: Uint8Array | null;
  /** Why its content can't be read as it is (encrypted, compressed), or null. */
  encoding: string | null;
}

/** Largest `CodecPrivate` we accept (real ones are bytes to a few KB). */
export const MAX_CODEC_PRIVATE_BYTES = 1024 * 1024;

/** Parses the payload of an `Info` element, `b[data, end)`; `base` is `b[0]`'s file offset. */
export function parseInfo(b: Uint8Array, data: number, end: number, base: number): SegmentInfo {
  const list = children(b, data, end, base);
  const scale = child(list, ID.TimestampScale);
  const duration = child(list, ID.Duration);
  const title = child(list, ID.Title);
  const timestampScale = scale ? readUint(b, scale, base) : 1_000_000;
  if (!(timestampScale > 0)) throw new EbmlError('TimestampScale is 0', base + (scale?.start ?? data));
  const d = duration ? readFloat(b, duration, base) : NaN;
  return {
    timestampScale,
    duration: Number.isFinite(d) && d > 0 ? d : null,
    title: title ? readString(b, title) || undefined : undefined,
  };
}

/** Parses the payload of a `Tracks` element, `b[data, end)`; `base` is `b[0]`'s file offset. */
export function parseTracks(b: Uint8Array, data: number, end: number, base: number): WebmTrackEntry[] {
  return children(b, data, end, base)
    .filter((e) => e.id === ID.TrackEntry)
    .map((e) => trackEntry(b, e, base));
}

function trackEntry(b: Uint8Array, entry: Element, base: number): WebmTrackEntry {
  const list = children(b, entry.data, entry.end, base);
  const uint = (id: number, fallback: number) => {
    const e = child(list, id);
    return e ? readUint(b, e, base) : fallback;
  };
  const number = uint(ID.TrackNumber, 0);
  if (number === 0) throw new EbmlError('track without a TrackNumber', base + entry.start);
  const codec = child(list, ID.CodecID);
  const priv = child(list, ID.CodecPrivate);
  if (priv && priv.end - priv.data > MAX_CODEC_PRIVATE_BYTES) {
    throw new EbmlError(`CodecPrivate of track ${number} is ${priv.end - priv.data} bytes`, base + priv.start);
  }
  const defaultDuration = child(list, ID.DefaultDuration);
  const video = child(list, ID.Video);
  const audio = child(list, ID.Audio);
  const v = video ? children(b, video.data, video.end, base) : [];
  const a = audio ? children(b, audio.data, audio.end, base) : [];
  const vUint = (id: number): number | null => {
    const e = child(v, id);
    return e ? readUint(b, e, base) : null;
  };
  const colourElement = child(v, ID.Colour);
  let colour: TrackColour | null = null;
  if (colourElement) {
    const c = children(b, colourElement.data, colourElement.end, base);
    const cUint = (id: number): number | null => {
      const e = child(c, id);
      return e ? readUint(b, e, base) : null;
    };
    colour = {
      matrix: cUint(ID.MatrixCoefficients),
      primaries: cUint(ID.Primaries),
      transfer: cUint(ID.TransferCharacteristics),
      range: cUint(ID.Range),
      bitsPerChannel: cUint(ID.BitsPerChannel),
      chromaSitingHorz: cUint(ID.ChromaSitingHorz),
      chromaSitingVert: cUint(ID.ChromaSitingVert),
    };
  }
  const rate = child(a, ID.SamplingFrequency);
  const channels = child(a, ID.Channels);
  const displayUnit = vUint(ID.DisplayUnit) ?? 0;
  const { strippedHeader, encoding } = contentEncodings(b, child(list, ID.ContentEncodings), base);
  return {
    number,
    type: uint(ID.TrackType, 0),
    enabled: uint(ID.FlagEnabled, 1) !== 0,
    codecId: codec ? readString(b, codec) : '',
    codecPrivate: priv && priv.end > priv.data ? b.slice(priv.data, priv.end) : null,
    defaultDurationNs: defaultDuration ? readUint(b, defaultDuration, base) || null : null,
    codecDelayNs: uint(ID.CodecDelay, 0),
    seekPreRollNs: uint(ID.SeekPreRoll, 0),
    language: trackLanguage(b, list),
    width: vUint(ID.PixelWidth) ?? 0,
    height: vUint(ID.PixelHeight) ?? 0,
    // Display sizes in pixels only (DisplayUnit 0); other units say nothing about pixel shape.
    displayWidth: displayUnit === 0 ? vUint(ID.DisplayWidth) : null,
    displayHeight: displayUnit === 0 ? vUint(ID.DisplayHeight) : null,
    colour,
    sampleRate: rate ? readFloat(b, rate, base) : 8000,
    channels: channels ? readUint(b, channels, base) : 1,
    strippedHeader,
    encoding,
  };
}

/**
 * What `ContentEncodings` asks of a reader: header stripping (ContentCompAlgo 3) is undone by
 * putting the stripped bytes back; encryption and real compression (zlib, bzlib, lzo) are named
 * so the demuxer can refuse the track.
 */
/** The longest stripped header read (header compression takes off a codec's few constant leading bytes). */
const MAX_STRIPPED_HEADER_BYTES = 256;

function contentEncodings(b: Uint8Array, encodings: Element | undefined, base: number): { strippedHeader: Uint8Array | null; encoding: string | null } {
  if (!encodings) return { strippedHeader: null, encoding: null };
  let strippedHeader: Uint8Array | null = null;
  for (const enc of children(b, encodings.data, encodings.end, base).filter((e) => e.id === ID.ContentEncoding)) {
    const list = children(b, enc.data, enc.end, base);
    const type = child(list, ID.ContentEncodingType);
    const scope = child(list, ID.ContentEncodingScope);
    if ((type && readUint(b, type, base) === 1) || child(list, ID.ContentEncryption)) return { strippedHeader: null, encoding: 'encrypted' };
    // Scope 1: frames; 2: CodecPrivate; 4: the next encoding's settings. Only frames concern us.
    if (scope && (readUint(b, scope, base) & 1) === 0) continue;
    const compression = child(list, ID.ContentCompression);
    if (!compression) continue;
    const c = children(b, compression.data, compression.end, base);
    const algoElement = child(c, ID.ContentCompAlgo);
    const algo = algoElement ? readUint(b, algoElement, base) : 0;
    if (algo !== 3) return { strippedHeader: null, encoding: `compressed (${['zlib', 'bzlib', 'lzo1x'][algo] ?? `algorithm ${algo}`})` };
    const settings = child(c, ID.ContentCompSettings);
    if (settings && settings.end > settings.data) {
      // Real stripped headers are a few bytes, copied in front of every frame: a big one is an attack.
      if (settings.end - settings.data > MAX_STRIPPED_HEADER_BYTES) return { strippedHeader: null, encoding: `header-stripped by ${settings.end - settings.data} bytes (more than ${MAX_STRIPPED_HEADER_BYTES})` };
      strippedHeader = b.slice(settings.data, settings.end);
    }
  }
  return { strippedHeader, encoding: null };
}

/** The track's language as ISO 639-2/T: LanguageBCP47 first, then Language (639-2/B or /T), `eng` when neither is there. */
function trackLanguage(b: Uint8Array, list: Element[]): string {
  const bcp = child(list, ID.LanguageBCP47);
  if (bcp) {
    const primary = readString(b, bcp).split('-')[0]!.toLowerCase();
    if (/^[a-z]{3}$/.test(primary)) return BIBLIOGRAPHIC_TO_TERMINOLOGY[primary] ?? primary;
    if (/^[a-z]{2}$/.test(primary)) return ISO_639_1[primary] ?? 'und';
    return 'und';
  }
  const lang = child(list, ID.Language);
  if (!lang) return 'eng';
  const code = readString(b, lang).toLowerCase();
  if (!/^[a-z]{3}$/.test(code)) return 'und';
  return BIBLIOGRAPHIC_TO_TERMINOLOGY[code] ?? code;
}

/** The ISO 639-2 codes whose bibliographic form (Matroska's) differs from the terminology form (MP4's). */
const BIBLIOGRAPHIC_TO_TERMINOLOGY: Record<string, string> = {
  alb: 'sqi', arm: 'hye', baq: 'eus', bur: 'mya', chi: 'zho', cze: 'ces', dut: 'nld', fre: 'fra', geo: 'kat', ger: 'deu',
  gre: 'ell', ice: 'isl', mac: 'mkd', mao: 'mri', may: 'msa', per: 'fas', rum: 'ron', slo: 'slk', tib: 'bod', wel: 'cym',
};

/** ISO 639-1 to 639-2/T for the languages LanguageBCP47 commonly names. */
const ISO_639_1: Record<string, string> = {
  ar: 'ara', bg: 'bul', bn: 'ben', ca: 'cat', cs: 'ces', da: 'dan', de: 'deu', el: 'ell', en: 'eng', es: 'spa', et: 'est',
  fa: 'fas', fi: 'fin', fr: 'fra', ga: 'gle', he: 'heb', hi: 'hin', hr: 'hrv', hu: 'hun', id: 'ind', is: 'isl', it: 'ita',
  ja: 'jpn', ko: 'kor', lt: 'lit', lv: 'lav', ms: 'msa', nb: 'nob', nl: 'nld', nn: 'nno', no: 'nor', pl: 'pol', pt: 'por',
  ro: 'ron', ru: 'rus', sk: 'slk', sl: 'slv', sr: 'srp', sv: 'swe', ta: 'tam', th: 'tha', tr: 'tur', uk: 'ukr', ur: 'urd',
  vi: 'vie', zh: 'zho',
};
