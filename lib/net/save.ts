/**
 * Copies a {@link ByteSource} into a {@link ByteSink}: the last step of a plain file download in the
 * extension (OPFS sink) and in the CLI (file sink). A copy of media is checked to be media before a
 * byte is written (a server's error page is never saved as `clip.mp4`).
 */
import { toVidmuxError, VidmuxError } from '../errors';
import { isResumable, type ByteSink, type ByteSource, type SourceVersion } from '../io';
import { isWebPageType, sniffMedia, SNIFF_BYTES } from '../media-sniff';
import { joinBytes } from './bytes';
import { byobReader, describeUrl } from './http';

/** Writes larger than this are not coalesced further; fewer, bigger writes are cheaper for files. */
const WRITE_BATCH_BYTES = 1024 * 1024;
/** Times a copy starts again from byte 0 because the file changed on the server meanwhile. */
const MAX_RESTARTS = 1;

/** Options of {@link copyToSink}. */
export interface CopyOptions {
  signal?: AbortSignal;
  /**
   * The copy is a media file (`what`: "the video", "the audio"): a web page, an empty answer or
   * bytes no media container starts with are an error, found before anything is written.
   */
  media?: { what: string };
  /**
   * Opens the resource again (a new probe, new validators). When the file changes on the server
   * during the copy (code `source_changed`), the copy starts again from byte 0 once, if the size
   * is unchanged (the sink's bytes are all overwritten); otherwise it fails.
   */
  reopen?: () => Promise<ByteSource>;
}

/** Bytes between two checkpoints of a resumable sink (each one syncs the file to disk). */
const CHECKPOINT_BYTES = 16 * 1024 * 1024;

/**
 * Streams all of `source` into `sink` in order, then closes the sink. On any failure (or `signal`
 * aborting) the sink is aborted so no partial file is left looking finished, and the error is
 * rethrown as a VidmuxError. Returns the number of bytes written.
 */
export async function copyToSink(source: ByteSource, sink: ByteSink, opts: CopyOptions = {}): Promise<number> {
  try {
    for (let restarts = 0; ; restarts++) {
      try {
        const bytes = await copyOnce(source, sink, opts);
        await sink.close();
        return bytes;
      } catch (err) {
        const e = toVidmuxError(err, 'download_failed');
        if (e.code !== 'source_changed' || !opts.reopen || restarts >= MAX_RESTARTS || opts.signal?.aborted) throw e;
        const fresh = await opts.reopen();
        if (fresh.size !== source.size) {
          throw new VidmuxError('source_changed', `The file changed on the server during the download and its size changed too (${source.size ?? '?'} -> ${fresh.size ?? '?'} bytes): nothing was saved; start it again.`, { cause: e });
        }
        source = fresh;
      }
    }
  } catch (err) {
    await sink.abort(err).catch(() => {});
    throw toVidmuxError(err, 'download_failed');
  }
}

/** The version of the resource a source reads, when it knows (an HTTP source's validators). */
function versionOf(source: ByteSource): SourceVersion | null {
  const v = (source as { validators?: { etag: string | null; lastModified: string | null } }).validators;
  return v && source.size !== null ? { size: source.size, etag: v.etag, lastModified: v.lastModified } : null;
}

/** One pass of the copy (from byte 0, or from what an earlier run left); the sink stays open. */
async function copyOnce(source: ByteSource, sink: ByteSink, opts: CopyOptions): Promise<number> {
  const where = 'url' in source && typeof source.url === 'string' ? describeUrl(source.url) : 'the server';
  const media = opts.media;
  if (media) {
    const type = (source as { contentType?: string | null }).contentType;
    if (isWebPageType(type)) throw new VidmuxError('bad_response', `The server sent a web page instead of ${media.what} (${where} answered ${type}).`);
    if (source.size === 0) throw new VidmuxError('bad_response', `The server sent an empty file instead of ${media.what} (${where}).`);
  }
  // A resumable sink of a known version continues where an earlier run's bytes end.
  const version = isResumable(sink) ? versionOf(source) : null;
  let position = 0;
  if (version && isResumable(sink)) {
    position = Math.min((await sink.resumeFrom(version)).offset, version.size ?? 0);
  }
  let checkpointed = position;
  // The earlier run checked the head already (it wrote nothing before that).
  let checked = !media || position > 0;
  const stream = source.stream(position, undefined, opts.signal);
  const byob = byobReader(stream);
  const reader = byob ?? stream.getReader();
  try {
    let batch: Uint8Array[] = [];
    let batchBytes = 0;
    const check = () => {
      checked = true;
      const all = joinBytes(batch, batchBytes);
      batch = [all];
      const head = all.subarray(0, SNIFF_BYTES);
      const sniffed = sniffMedia(head);
      if (head.length === 0) throw new VidmuxError('bad_response', `The server sent an empty file instead of ${media!.what} (${where}).`);
      if (sniffed.kind === 'html') throw new VidmuxError('bad_response', `The server sent a web page instead of ${media!.what} (${where}).`);
      if (sniffed.kind === 'unknown') {
        const hex = Array.from(head.subarray(0, 8), (x) => x.toString(16).padStart(2, '0')).join(' ');
        throw new VidmuxError('bad_response', `What ${where} sent is not ${media!.what}: no video or audio format starts with the bytes ${hex}.`);
      }
    };
    const flush = async () => {
      if (!checked) check();
      if (batchBytes === 0) return;
      const parts = batch;
      const length = batchBytes;
      batch = [];
      batchBytes = 0;
      if (sink.writeParts) await sink.writeParts(position, parts);
      else await sink.write(position, joinBytes(parts, length));
      position += length;
      if (version && isResumable(sink) && position - checkpointed >= CHECKPOINT_BYTES) {
        await sink.checkpoint(position, version);
        checkpointed = position;
      }
    };
    if (byob) {
      // One buffer, filled and written again and again (a sink is done with the bytes once their
      // write settles): the copy makes no garbage however big the file.
      let buffer = new ArrayBuffer(WRITE_BATCH_BYTES);
      for (let done = false; !done; ) {
        let filled = 0;
        while (filled < buffer.byteLength) {
          const read = await byob.read(new Uint8Array(buffer, filled));
          if (!read.value) throw new VidmuxError('cancelled', 'Cancelled.');
          buffer = read.value.buffer as ArrayBuffer;
          if ((done = read.done)) break;
          filled += read.value.length;
        }
        batch.push(new Uint8Array(buffer, 0, filled));
        batchBytes = filled;
        await flush();
      }
      return position;
    }
    for (;;) {
      const { done, value } = await (reader as ReadableStreamDefaultReader<Uint8Array>).read();
      if (done) break;
      batch.push(value);
      batchBytes += value.length;
      if (batchBytes >= WRITE_BATCH_BYTES || (!checked && batchBytes >= SNIFF_BYTES)) await flush();
    }
    await flush();
    return position;
  } catch (err) {
    await reader.cancel(err).catch(() => {});
    throw err;
  }
}

/** Writes `data` as the whole of `sink` and closes it; on failure the sink is aborted. Returns the size. */
export async function writeAll(sink: ByteSink, data: Uint8Array): Promise<number> {
  try {
    await sink.write(0, data);
    await sink.close();
    return data.length;
  } catch (err) {
    await sink.abort(err).catch(() => {});
    throw toVidmuxError(err, 'download_failed');
  }
}
