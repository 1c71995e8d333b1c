/**
 * The engine against ffmpeg: every matrix input pair is remuxed by us and by
 * `ffmpeg -copyts ... -c copy`, and the two files must agree on stream layout, packet bytes and
 * order, start times, durations and every packet's presentation time (within 1 ms), and ours must
 * decode without errors.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { remux } from '.';
import { NodeFileSink, NodeFileSource } from '../node/files';
import {
  decodeErrors,
  ffmpegReference,
  isWebmFile,
  matrix,
  matrixInputs,
  mediaFacts,
  packetMd5s,
  type MediaFacts,
} from '../../test/fixtures/media-matrix';

const TOLERANCE_S = 0.001;
const dir = mkdtempSync(join(tmpdir(), 'vidmux-media-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectNear(actual: number, expected: number, what: string): void {
  if (Number.isNaN(expected)) {
    expect(actual, what).toBeNaN();
    return;
  }
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(TOLERANCE_S + 1e-9);
}

type StreamFacts = MediaFacts['streams'][number];

/** Layout facts (no timing) of every stream. */
const layout = (streams: StreamFacts[]) => streams.map(({ pts: _p, startTime: _s, duration: _d, ...rest }) => rest);

function expectSameStreamTiming(s: StreamFacts, r: StreamFacts, against: string, check = { start: true, duration: true }): void {
  if (check.duration) expectNear(s.duration, r.duration, `${s.type} duration vs ${against}`);
  expect(s.pts.length, `${s.type} packet count vs ${against}`).toBe(r.pts.length);
  if (!check.start) return;
  expectNear(s.startTime, r.startTime, `${s.type} start vs ${against}`);
  const worst = s.pts.reduce((m, p, k) => Math.max(m, Math.abs(p - r.pts[k]!)), 0);
  expect(worst, `${s.type} worst packet pts difference vs ${against}`).toBeLessThanOrEqual(TOLERANCE_S);
}

/**
 * Against a WebM input, packet times only: ffprobe gives WebM streams no duration, and reads an
 * Opus stream as starting at its first packet, before the pre-skip that the MP4's edit list hides.
 */
function expectSamePacketTimes(s: StreamFacts, input: StreamFacts): void {
  expect(s.pts.length, `${s.type} packet count vs input`).toBe(input.pts.length);
  const worst = s.pts.reduce((m, p, k) => Math.max(m, Math.abs(p - input.pts[k]!)), 0);
  expect(worst, `${s.type} worst packet pts difference vs input`).toBeLessThanOrEqual(TOLERANCE_S + 1e-9);
}

function expectSameTiming(ours: MediaFacts, ref: MediaFacts, check: { start: boolean; duration: boolean }): void {
  if (check.start) expectNear(ours.format.startTime, ref.format.startTime, 'format start');
  if (check.duration) expectNear(ours.format.duration, ref.format.duration, 'format duration');
  ours.streams.forEach((s, i) => expectSameStreamTiming(s, ref.streams[i]!, 'ffmpeg reference', check));
}

describe('remux matches ffmpeg -copyts -c copy', () => {
  for (const c of matrix) {
    it(c.name, async () => {
      const [video, audio] = await matrixInputs(c);
      const ref = await ffmpegReference(c, video, audio);
      const out = join(dir, c.input ? `webm-${c.input}.mp4` : `${c.video ?? 'none'}-${c.audio ?? 'none'}.mp4`);
      const summary = await remux({
        ...(c.input ? { input: await NodeFileSource.open(video!) } : {}),
        ...(video && !c.input ? { video: await NodeFileSource.open(video) } : {}),
        ...(audio && !c.input ? { audio: await NodeFileSource.open(audio) } : {}),
        sink: new NodeFileSink(out),
      });
      expect(summary.streams.map((s) => s.kind)).toEqual([...(video ? ['video'] : []), ...(audio ? ['audio'] : [])]);

      const [ours, theirs, videoIn, audioIn] = await Promise.all([
        mediaFacts(out),
        mediaFacts(ref),
        video ? mediaFacts(video) : undefined,
        audio ? mediaFacts(audio) : undefined,
      ]);
      expect(layout(ours.streams)).toEqual(layout(theirs.streams));
      expect(ours.format.title).toBe(theirs.format.title);
      // Always: each stream keeps the timing ffprobe reads from its input.
      const inputs = [videoIn?.streams.find((x) => x.type === 'video'), audioIn?.streams.find((x) => x.type === 'audio')].filter(
        (x): x is StreamFacts => !!x,
      );
      for (const input of c.inputDurationIsEndTime ? inputs : []) input.duration -= input.startTime;
      ours.streams.forEach((st, i) =>
        isWebmFile((st.type === 'video' ? video : audio)!) ? expectSamePacketTimes(st, inputs[i]!) : expectSameStreamTiming(st, inputs[i]!, 'input'),
      );
      // And the ffmpeg reference's, except where ffmpeg 4.x itself strays from its input (see the matrix).
      expectSameTiming(ours, theirs, { start: !c.referenceStartDiffers, duration: !c.referenceDurationDiffers });
      for (const kind of [...(video ? ['v' as const] : []), ...(audio ? ['a' as const] : [])]) {
        const [a, b] = await Promise.all([packetMd5s(out, kind), packetMd5s(ref, kind)]);
        expect(a.length).toBeGreaterThan(0);
        expect(a).toEqual(b);
      }
      expect(await decodeErrors(out)).toBe('');
    });
  }
});
