/**
 * HLS playlists (.m3u8) into what they offer: a master playlist's variants and alternate
 * renditions, or a media playlist's segments with their byte ranges, initialization (EXT-X-MAP)
 * and AES-128 keys (the IV made explicit: the tag's own, else the media sequence number).
 * Parsing is m3u8-parser's (the parser video.js uses); what is ours: resolving URIs against the
 * playlist, which streams can be saved (no SAMPLE-AES, no DRM), and saying why one cannot be.
 */
import { Parser, type M3u8ByteRange, type M3u8Key, type M3u8Manifest } from 'm3u8-parser';
import { VidmuxError } from '../errors';
import type { TrackSegment } from './dash';

/** A variant stream of a master playlist (EXT-X-STREAM-INF). */
export interface HlsVariant {
  /** The variant's media playlist, resolved. */
  url: string;
  bandwidth: number;
  width: number | null;
  height: number | null;
  fps: number | null;
  /** The video codec of CODECS, or null when CODECS is missing or names none. */
  videoCodec: string | null;
  /** The audio codec of CODECS, or null. */
  audioCodec: string | null;
  /** GROUP-ID of its alternate audio renditions, or null. */
  audioGroup: string | null;
}

/** An alternate rendition (EXT-X-MEDIA). */
export interface HlsRendition {
  type: 'audio' | 'subtitles';
  group: string;
  name: string;
  language: string | null;
  isDefault: boolean;
  /** Its media playlist, or null when it is carried in the variant's own segments. */
  url: string | null;
}

export interface HlsMaster {
  kind: 'master';
  variants: HlsVariant[];
  renditions: HlsRendition[];
}

/** An AES-128 key for a segment: where the key is, and the IV to decrypt with (16 bytes). */
export interface SegmentKey {
  url: string;
  iv: Uint8Array;
}

/** One media segment, ready to fetch. */
export interface HlsSegment extends TrackSegment {
  duration: number;
  /** Its media sequence number. */
  sequence: number;
  /** AES-128 key, or null for a clear segment. */
  key: SegmentKey | null;
  /** Its initialization (EXT-X-MAP), or null (MPEG-TS needs none). */
  map: (TrackSegment & { key: SegmentKey | null }) | null;
  /** The first segment after an EXT-X-DISCONTINUITY (timestamps and encoding may change here). */
  discontinuity: boolean;
}

export interface HlsMedia {
  kind: 'media';
  /** No EXT-X-ENDLIST: the playlist grows (a live stream, or an event still under way). */
  live: boolean;
  targetDuration: number;
  mediaSequence: number;
  segments: HlsSegment[];
  /** Total duration of the segments, seconds. */
  duration: number;
}

/** Playlists larger than this are not parsed (a VOD of 10 hours in 2 s segments is ~2 MB). */
export const MAX_PLAYLIST_CHARS = 16 * 1024 * 1024;

/** Parses a master or media playlist; throws with the reason when it is not one Vidmux can use. */
export function parseHls(text: string, playlistUrl: string): HlsMaster | HlsMedia {
  if (!/^\s*#EXTM3U/.test(text)) throw new VidmuxError('bad_response', 'This is not an HLS playlist (it does not start with #EXTM3U).');
  if (text.length > MAX_PLAYLIST_CHARS) throw new VidmuxError('bad_response', `The HLS playlist is too large (${text.length} characters).`);
  // m3u8-parser reads a malformed IV as zeros (or trips over it): checked on the text first.
  for (const line of text.match(/^#EXT-X-KEY:.*$/gm) ?? []) {
    const iv = /[:,]IV=([^,\s]*)/.exec(line)?.[1];
    if (iv !== undefined && !/^0x[0-9a-f]{32}$/i.test(iv)) throw new VidmuxError('bad_response', `The HLS playlist has an AES-128 key with a malformed IV (${iv.slice(0, 40)}).`);
  }
  let m: M3u8Manifest;
  try {
    const parser = new Parser();
    parser.push(text);
    parser.end();
    m = parser.manifest;
  } catch (err) {
    throw new VidmuxError('bad_response', `The HLS playlist could not be read: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (m.contentProtection && Object.keys(m.contentProtection).length) {
    throw protectedStream(`DRM: ${Object.keys(m.contentProtection).join(', ')}`);
  }
  if (m.playlists?.length) return master(m, playlistUrl);
  return media(m, playlistUrl);
}

function master(m: M3u8Manifest, base: string): HlsMaster {
  const variants: HlsVariant[] = [];
  for (const p of m.playlists ?? []) {
    const url = resolve(p.uri, base);
    if (!url) continue;
    const codecs = (p.attributes.CODECS ?? '').split(',').map((c) => c.trim()).filter(Boolean);
    variants.push({
      url,
      bandwidth: p.attributes.BANDWIDTH ?? p.attributes['AVERAGE-BANDWIDTH'] ?? 0,
      width: p.attributes.RESOLUTION?.width ?? null,
      height: p.attributes.RESOLUTION?.height ?? null,
      fps: p.attributes['FRAME-RATE'] ?? null,
      videoCodec: codecs.find(isVideoCodec) ?? null,
      audioCodec: codecs.find((c) => !isVideoCodec(c) && !/^(wvtt|stpp|tx3g|c608)/i.test(c)) ?? null,
      audioGroup: p.attributes.AUDIO ?? null,
    });
  }
  if (!variants.length) throw new VidmuxError('bad_response', 'The HLS master playlist lists no usable variant.');
  const renditions: HlsRendition[] = [];
  for (const [type, key] of [['audio', 'AUDIO'], ['subtitles', 'SUBTITLES']] as const) {
    for (const [group, byName] of Object.entries(m.mediaGroups?.[key] ?? {})) {
      for (const [name, r] of Object.entries(byName)) {
        renditions.push({ type, group, name, language: r.language ?? null, isDefault: !!r.default, url: r.uri ? resolve(r.uri, base) : null });
      }
    }
  }
  return { kind: 'master', variants, renditions };
}

function media(m: M3u8Manifest, base: string): HlsMedia {
  const mediaSequence = m.mediaSequence ?? 0;
  const segments: HlsSegment[] = [];
  m.segments.forEach((s, i) => {
    const url = resolve(s.uri, base);
    if (!url) throw new VidmuxError('bad_response', `Segment ${i + 1} of the HLS playlist has an unusable URI.`);
    const sequence = mediaSequence + i;
    const map = s.map ? { url: resolve(s.map.uri, base), range: range(s.map.byterange), key: s.map.key ? key(s.map.key, base, 0, true) : null } : null;
    if (map && !map.url) throw new VidmuxError('bad_response', 'The HLS playlist has an EXT-X-MAP without a usable URI.');
    segments.push({
      url,
      range: range(s.byterange),
      duration: s.duration,
      sequence,
      key: s.key ? key(s.key, base, sequence, false) : null,
      map: map as HlsSegment['map'],
      discontinuity: !!s.discontinuity,
    });
  });
  const live = !m.endList;
  if (!segments.length && !live) throw new VidmuxError('bad_response', 'The HLS playlist lists no segments.');
  return {
    kind: 'media',
    live,
    targetDuration: m.targetDuration ?? 0,
    mediaSequence,
    segments,
    duration: segments.reduce((a, s) => a + (Number.isFinite(s.duration) ? s.duration : 0), 0),
  };
}

/**
 * The key of a segment. Only AES-128 (whole segments, CBC) is decryptable without a DRM system;
 * SAMPLE-AES (encrypted samples inside the stream, what FairPlay uses) and anything else are
 * refused. Without an IV the segment's media sequence number is the IV (RFC 8216 §5.2); an
 * EXT-X-MAP without one cannot be decrypted (it has no sequence number), so it is refused.
 */
function key(k: M3u8Key, base: string, sequence: number, isMap: boolean): SegmentKey {
  if (k.method !== 'AES-128') throw protectedStream(`encryption method ${k.method}`);
  const url = resolve(k.uri, base);
  if (!url) throw new VidmuxError('bad_response', 'The HLS playlist has an AES-128 key without a usable URI.');
  let iv: Uint8Array;
  if (k.iv) {
    if (k.iv.length !== 4 || [...k.iv].some((w) => !Number.isFinite(w))) throw new VidmuxError('bad_response', 'The HLS playlist has an AES-128 key with a malformed IV.');
    iv = new Uint8Array(16);
    const view = new DataView(iv.buffer);
    k.iv.forEach((w, i) => view.setUint32(i * 4, w >>> 0));
  } else {
    if (isMap) throw new VidmuxError('bad_response', 'The HLS playlist encrypts its initialization segment without an IV.');
    iv = sequenceIv(sequence);
  }
  return { url, iv };
}

/** The IV of a segment whose key has none: its media sequence number, big-endian, in 16 bytes. */
export function sequenceIv(sequence: number): Uint8Array {
  const iv = new Uint8Array(16);
  const view = new DataView(iv.buffer);
  view.setUint32(8, Math.floor(sequence / 2 ** 32));
  view.setUint32(12, sequence >>> 0);
  return iv;
}

function range(b: M3u8ByteRange | undefined): TrackSegment['range'] {
  if (!b || !(b.length > 0) || !(b.offset >= 0)) return null;
  return { start: b.offset, end: b.offset + b.length - 1 };
}

/** `uri` against the playlist's URL; only http(s) and data: (inline keys); '' when unusable. */
function resolve(uri: string, base: string): string {
  try {
    const url = new URL(uri, base);
    return ['http:', 'https:', 'data:'].includes(url.protocol) ? url.href : '';
  } catch {
    return '';
  }
}

function isVideoCodec(c: string): boolean {
  return /^(avc[13]|hvc1|hev1|dvh1|dvhe|av01|vp0?9|vp8|mp4v)/i.test(c);
}

function protectedStream(what: string): VidmuxError {
  return new VidmuxError('protected', `This is a protected stream (${what}); it can only be played by a licensed player, not saved.`);
}

/**
 * A media playlist as one track's segments, its initialization first (EXT-X-MAP, fMP4/CMAF),
 * and whether the initialization changes along the way (after an ad break, say): then the
 * segments do not make one stream.
 */
export function trackSegments(m: HlsMedia): { segments: Array<TrackSegment & { key: SegmentKey | null }>; initChanges: boolean } {
  const first = m.segments[0]?.map ?? null;
  const same = (a: HlsSegment['map'], b: HlsSegment['map']) =>
    a?.url === b?.url && a?.range?.start === b?.range?.start && a?.range?.end === b?.range?.end;
  const initChanges = m.segments.some((s) => !same(s.map, first));
  const segments = m.segments.map((s) => ({ url: s.url, range: s.range, key: s.key }));
  return { segments: first ? [{ url: first.url, range: first.range, key: first.key }, ...segments] : segments, initChanges };
}
