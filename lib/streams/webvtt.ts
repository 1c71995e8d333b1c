/**
 * HLS subtitles come as WebVTT segments: each a small file of its own (a WEBVTT header, maybe an
 * X-TIMESTAMP-MAP tying its cue times to the stream's MPEG-TS clock, then cues). Joined here into
 * one WebVTT file on the video's timeline. Written by hand: no maintained library joins segmented
 * WebVTT (players such as hls.js parse cues straight into TextTracks); the format is small.
 */
import { VidmuxError } from '../errors';

/** The MPEG-TS clock rate. */
const TS_CLOCK = 90_000;

interface Cue {
  start: number;
  end: number;
  /** The cue's settings after the timing (`align:start line:0`...), kept as written. */
  settings: string;
  /** Its identifier line, if any, and its text lines. */
  id: string | null;
  text: string;
}

/**
 * Joins WebVTT segments (in playlist order) into one file. Cue times are moved onto the timeline
 * of the first segment: a segment whose X-TIMESTAMP-MAP names another MPEG-TS time is shifted by
 * the difference. A cue repeated by consecutive segments (one that spans their boundary) is kept
 * once. Throws `bad_response` for a segment that is not WebVTT.
 */
export function joinWebVtt(segments: readonly string[]): string {
  const cues: Cue[] = [];
  const seen = new Set<string>();
  let base: number | null = null;
  segments.forEach((raw, i) => {
    const text = raw.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
    if (!/^WEBVTT(?:[ \t]|\n|$)/.test(text)) throw new VidmuxError('bad_response', `Subtitle segment ${i + 1} is not WebVTT.`);
    const blocks = text.split(/\n{2,}/);
    const header = blocks.shift()!;
    const offset = timestampOffset(header);
    base ??= offset;
    const shift = offset - base;
    for (const block of blocks) {
      const lines = block.split('\n').filter((l, j, all) => j < all.length - 1 || l !== '');
      const timing = lines.findIndex((l) => l.includes('-->'));
      if (timing < 0 || timing > 1) continue; // NOTE, STYLE and REGION blocks are not cues
      const m = /^\s*(\S+)\s+-->\s+(\S+)(.*)$/.exec(lines[timing]!);
      const start = m ? parseTime(m[1]!) : null;
      const end = m ? parseTime(m[2]!) : null;
      if (start === null || end === null) continue;
      const cue: Cue = { start: start + shift, end: end + shift, settings: m![3]!.trim(), id: timing === 1 ? lines[0]! : null, text: lines.slice(timing + 1).join('\n') };
      const key = `${cue.start.toFixed(3)}|${cue.end.toFixed(3)}|${cue.text}`;
      if (seen.has(key)) continue;
      seen.add(key);
      cues.push(cue);
    }
  });
  cues.sort((a, b) => a.start - b.start || a.end - b.end);
  const body = cues.map((c) => [...(c.id ? [c.id] : []), `${formatTime(c.start)} --> ${formatTime(c.end)}${c.settings ? ` ${c.settings}` : ''}`, c.text].join('\n'));
  return ['WEBVTT', ...body].join('\n\n') + '\n';
}

/** Seconds the header's X-TIMESTAMP-MAP puts between a cue time and the stream clock (0 without one). */
function timestampOffset(header: string): number {
  const map = /X-TIMESTAMP-MAP=([^\n]*)/.exec(header)?.[1];
  if (!map) return 0;
  const mpegts = Number(/MPEGTS:(\d+)/.exec(map)?.[1] ?? 0);
  const local = parseTime(/LOCAL:([\d:.]+)/.exec(map)?.[1] ?? '00:00.000') ?? 0;
  return mpegts / TS_CLOCK - local;
}

/** `hh:mm:ss.ttt` or `mm:ss.ttt` in seconds, or null. */
function parseTime(t: string): number | null {
  const m = /^(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})$/.exec(t);
  if (!m) return null;
  return Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4]) / 1000;
}

function formatTime(seconds: number): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}
