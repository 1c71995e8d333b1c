/**
 * Copies a {@link ByteSource} into a {@link ByteSink}: the last step of a plain file download in the
 * extension (OPFS sink) and in the CLI (file sink).
 */
import { toVidmuxError } from '../errors';
import type { ByteSink, ByteSource } from '../io';
import { joinBytes } from './bytes';

/** Writes larger than this are not coalesced further; fewer, bigger writes are cheaper for files. */
const WRITE_BATCH_BYTES = 1024 * 1024;

/**
 * Streams all of `source` into `sink` in order, then closes the sink. On any failure (or `signal`
 * aborting) the sink is aborted so no partial file is left looking finished, and the error is
 * rethrown as a VidmuxError. Returns the number of bytes written.
 */
export async function copyToSink(source: ByteSource, sink: ByteSink, opts: { signal?: AbortSignal } = {}): Promise<number> {
  let position = 0;
  const reader = source.stream(0, undefined, opts.signal).getReader();
  try {
    let batch: Uint8Array[] = [];
    let batchBytes = 0;
    const flush = async () => {
      if (batchBytes === 0) return;
      const data = joinBytes(batch, batchBytes);
      batch = [];
      batchBytes = 0;
      await sink.write(position, data);
      position += data.length;
    };
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      batch.push(value);
      batchBytes += value.length;
      if (batchBytes >= WRITE_BATCH_BYTES) await flush();
    }
    await flush();
    await sink.close();
    return position;
  } catch (err) {
    await reader.cancel(err).catch(() => {});
    await sink.abort(err).catch(() => {});
    throw toVidmuxError(err, 'download_failed');
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
