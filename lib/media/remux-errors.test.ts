/** Failures: clear errors with stable codes, and the sink is always aborted, never closed. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VidmuxError } from '../errors';
import { remux } from '.';
import { NodeFileSink } from '../node/files';
import { audioInputs, videoInputs } from '../../test/fixtures/media-matrix';
import { MemorySource, RecordingSink } from '../../test/fixtures/media-io';
import { cachedMedia, ffmpeg } from '../../test/fixtures/ffmpeg';
import { rewriteTableBox, stcoMoved, stscFirstRunOf, stszClaims, stszConstant, stszCutTo, tableBox, tableCount } from '../../test/fixtures/mp4-tables';
import { rejection as failure } from '../../test/fixtures/rejection';

const dir = mkdtempSync(join(tmpdir(), 'vidmux-media-err-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));


describe('remux failures', () => {
  it('rejects bytes that are not an MP4 as corrupt_media and aborts the sink', async () => {
    const junk = new Uint8Array(4096).map((_, i) => (i * 7919) % 251);
    const sink = new RecordingSink();
    const err = await failure(remux({ video: new MemorySource(junk), sink }));
    expect(err.code).toBe('corrupt_media');
    expect(err.message).toMatch(/video input is not a readable MP4/);
    expect(sink.aborted).toBe(true);
    expect(sink.closed).toBe(false);
  });

  it('fails a truncated input with `truncated` and leaves no output file behind', async () => {
    const full = readFileSync(await videoInputs.h264Bframes());
    const cut = full.subarray(0, Math.floor(full.length * 0.6));
    const out = join(dir, 'truncated.mp4');
    const sink = new NodeFileSink(out);
    const err = await failure(remux({ video: new MemorySource(cut, 4096), audio: new MemorySource(readFileSync(await audioInputs.aac48Stereo())), sink }));
    expect(err.code).toBe('truncated');
    expect(existsSync(out)).toBe(false);
    expect(existsSync(sink.partPath)).toBe(false);
  });

  it('refuses Vorbis (WebM only) into MP4 clearly, and aborts the sink', async () => {
    const webm = await cachedMedia('a-vorbis.webm', async (o) => {
      await ffmpeg(['-f', 'lavfi', '-i', 'sine=sample_rate=48000', '-t', '1', '-c:a', 'libvorbis', o]);
    });
    const sink = new RecordingSink();
    const err = await failure(remux({ audio: new MemorySource(readFileSync(webm)), sink }));
    expect(err.code).toBe('unsupported');
    expect(err.message).toMatch(/Vorbis audio can only be saved as WebM/);
    expect(sink.aborted).toBe(true);
  });

  it('says which track is missing when an input has none of the wanted kind', async () => {
    const sink = new RecordingSink();
    const err = await failure(remux({ video: new MemorySource(readFileSync(await audioInputs.aac48Stereo())), sink }));
    expect(err.code).toBe('bad_input');
    expect(err.message).toMatch(/no video track/);
  });

  it('stops on cancel with `cancelled` and aborts the sink', async () => {
    const controller = new AbortController();
    const sink = new RecordingSink();
    const inner = new MemorySource(readFileSync(await videoInputs.h264Bframes()), 1024);
    let chunks = 0;
    // Cancels once the packet loop is under way (after the header reads).
    const video = {
      size: inner.size,
      stream: (start?: number, end?: number, signal?: AbortSignal) =>
        inner.stream(start, end, signal).pipeThrough(
          new TransformStream<Uint8Array, Uint8Array>({
            transform(chunk, c) {
              if (++chunks === 20) controller.abort();
              c.enqueue(chunk);
            },
          }),
        ),
    };
    const p = remux({ video, sink, signal: controller.signal });
    const err = await failure(p);
    expect(err.code).toBe('cancelled');
    expect(sink.aborted).toBe(true);
    expect(sink.closed).toBe(false);
  });

  it('reports progress up to the total and closes the sink on success', async () => {
    const sink = new RecordingSink();
    const seen: number[] = [];
    const bytes = readFileSync(await videoInputs.h264Fragmented());
    const summary = await remux({ video: new MemorySource(bytes), sink, onProgress: (p) => seen.push(p.bytesDone) });
    expect(sink.closed).toBe(true);
    expect(sink.aborted).toBe(false);
    expect(sink.bytes).toBe(summary.bytes);
    expect(seen.at(-1)).toBeGreaterThan(0);
  });

  it('fails cleanly when the sink fails', async () => {
    const sink = new RecordingSink();
    sink.write = async () => {
      throw new Error('disk full');
    };
    const err = await failure(remux({ audio: new MemorySource(readFileSync(await audioInputs.aac48Stereo())), sink }));
    expect(err.message).toMatch(/disk full/);
    expect(sink.aborted).toBe(true);
  });
});

/**
 * Inputs whose sample tables contradict each other (a real MP4 with one table rewritten,
 * test/fixtures/mp4-tables.ts) are refused before anything is written, naming the track and the
 * tables; nothing is saved short or misplaced.
 */
describe('remux of inputs whose sample tables disagree', () => {
  const video = async () => new Uint8Array(readFileSync(await videoInputs.h264MoovAtEnd()));
  const audio = async () => new Uint8Array(readFileSync(await audioInputs.aac48Stereo()));

  async function refused(input: { video?: Uint8Array; audio?: Uint8Array }): Promise<VidmuxError> {
    const sink = new RecordingSink();
    const err = await failure(
      remux({ ...(input.video ? { video: new MemorySource(input.video) } : {}), ...(input.audio ? { audio: new MemorySource(input.audio) } : {}), sink }),
    );
    expect(sink.aborted).toBe(true);
    expect(sink.closed).toBe(false);
    expect(sink.bytes).toBe(0);
    return err;
  }

  it('stsz listing fewer samples than stts (the input was saved short before)', async () => {
    const file = await video();
    expect(tableCount(tableBox(file, 'video', 'stts'), 'stts')).toBe(60);
    const err = await refused({ video: rewriteTableBox(file, 'video', 'stsz', stszCutTo(20)) });
    expect(err.code).toBe('corrupt_media');
    expect(err.message).toBe("The video track's sample tables disagree in the video input: stts lists 60 samples, stsz 20.");
  });

  it('names the audio track when its tables disagree, and refuses the pair', async () => {
    const err = await refused({ video: await video(), audio: rewriteTableBox(await audio(), 'audio', 'stsz', stszCutTo(90)) });
    expect(err.code).toBe('corrupt_media');
    expect(err.message).toBe("The audio track's sample tables disagree in the audio input: stts lists 95 samples, stsz 90.");
  });

  it('stsc and stco placing fewer samples than stsz lists', async () => {
    const err = await refused({ video: rewriteTableBox(await video(), 'video', 'stsc', stscFirstRunOf(40)) });
    expect(err.code).toBe('corrupt_media');
    expect(err.message).toBe("The video track's sample tables disagree in the video input: stsc and stco place 40 samples in 1 chunk, stsz lists 60.");
  });

  it('samples placed past the end of the file: refused up front, naming the track and the sample', async () => {
    const file = await video();
    const err = await refused({ video: rewriteTableBox(file, 'video', 'stco', stcoMoved(0, file.length - 100)) });
    expect(err.code).toBe('truncated');
    expect(err.message).toMatch(/^The video input ends before its video track's samples do: sample \d+ of 60 lies at bytes \d+-\d+, past the end of the file \(43175 bytes\)/);
  });

  it('a table box whose entry count runs past the box', async () => {
    const err = await refused({ video: rewriteTableBox(await video(), 'video', 'stsz', stszClaims(150)) });
    expect(err.code).toBe('corrupt_media');
    expect(err.message).toBe("The video input is not a readable MP4: the video track's stsz box lists 150 entries but holds 60.");
  });

  it('a constant-size stsz with a forged count of 2^32-1 fails at once (it used to hang in mp4box)', async () => {
    const err = await refused({ video: rewriteTableBox(await video(), 'video', 'stsz', stszConstant(100, 0xffffffff)) });
    expect(err.code).toBe('corrupt_media');
    expect(err.message).toBe("The video track's sample tables disagree in the video input: stts lists 60 samples, stsz 4294967295.");
  });

  it('a consistent constant-size stsz is read (every sample that size)', async () => {
    // 60 samples of 100 bytes at the start of the file's mdat: consistent tables, nonsense media,
    // which stream copy doesn't look at.
    const sink = new RecordingSink();
    const summary = await remux({ video: new MemorySource(rewriteTableBox(await video(), 'video', 'stsz', stszConstant(100, 60))), sink });
    expect(summary.streams[0]!.packets).toBe(60);
    expect(sink.closed).toBe(true);
  });
});
