/**
 * The output is checked before it is called done: every packet the input's tables list was read,
 * and every packet read went into the output. Neither can fail on a good engine, so each is proved
 * by a fault put into the engine: a demuxer that stops early, a writer that drops a packet.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { VidmuxError } from '../errors';
import { audioInputs, videoInputs } from '../../test/fixtures/media-matrix';
import { MemorySource, RecordingSink } from '../../test/fixtures/media-io';
import * as demux from './demux';
import { Mp4MuxWriter } from './muxer';
import { remux } from './remux';
import { WebmMuxWriter } from './webm-writer';
import { rejection as failure } from '../../test/fixtures/rejection';

vi.mock('./demux', async (importOriginal) => {
  const real = await importOriginal<typeof import('./demux')>();
  return { ...real, openTrack: vi.fn(real.openTrack) };
});

afterEach(() => {
  vi.restoreAllMocks();
});


describe('remux checks its counts before the output is done', () => {
  it('a demuxer that ends before the samples its tables list is corrupt_media, and nothing is saved', async () => {
    const real = (await vi.importActual<typeof import('./demux')>('./demux')).openTrack;
    vi.mocked(demux.openTrack).mockImplementationOnce(async (...args) => {
      const track = await real(...args);
      let left = 25;
      return { ...track, next: () => (left-- > 0 ? track.next() : null) };
    });
    const sink = new RecordingSink();
    const err = await failure(remux({ video: new MemorySource(readFileSync(await videoInputs.h264MoovAtEnd())), sink }));
    expect(err.code).toBe('corrupt_media');
    expect(err.message).toBe('The video input gave 25 of the 60 samples its tables list.');
    expect(sink.aborted).toBe(true);
    expect(sink.closed).toBe(false);
  });

  it('an MP4 writer that drops a packet fails the mux (internal) instead of saving it short', async () => {
    const add = Mp4MuxWriter.prototype.add;
    let calls = 0;
    vi.spyOn(Mp4MuxWriter.prototype, 'add').mockImplementation(function (this: Mp4MuxWriter, ...args) {
      if (++calls === 30) return;
      add.apply(this, args);
    });
    const sink = new RecordingSink();
    const err = await failure(
      remux({ video: new MemorySource(readFileSync(await videoInputs.h264MoovAtEnd())), audio: new MemorySource(readFileSync(await audioInputs.aac48Stereo())), sink }),
    );
    expect(err.code).toBe('internal');
    expect(err.message).toMatch(/^The output's (video|audio) track holds \d+ samples but \d+ were read; it was not saved\.$/);
    expect(sink.aborted).toBe(true);
    expect(sink.closed).toBe(false);
  });

  it('so does a WebM writer that drops a packet', async () => {
    const add = WebmMuxWriter.prototype.add;
    let calls = 0;
    vi.spyOn(WebmMuxWriter.prototype, 'add').mockImplementation(function (this: WebmMuxWriter, ...args) {
      if (++calls === 10) return;
      add.apply(this, args);
    });
    const sink = new RecordingSink();
    const err = await failure(remux({ video: new MemorySource(readFileSync(await videoInputs.vp9Webm())), container: 'webm', sink }));
    expect(err.code).toBe('internal');
    expect(err.message).toBe("The output's video track holds 59 samples but 60 were read; it was not saved.");
    expect(sink.aborted).toBe(true);
  });

  it('a good input passes the checks', async () => {
    const sink = new RecordingSink();
    const summary = await remux({ video: new MemorySource(readFileSync(await videoInputs.h264MoovAtEnd())), sink });
    expect(summary.streams[0]!.packets).toBe(60);
    expect(sink.closed).toBe(true);
  });
});
