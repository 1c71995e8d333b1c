/**
 * Where the engine puts the files a job makes: a port, so the one save use case
 * ({@link runJob}) runs the same in the browser (OPFS files handed out as blob URLs:
 * lib/platform/opfs-outputs.ts) and in Node (files on disk: lib/node/outputs.ts).
 */
import type { ByteSink } from '../io';

/** One output file of a job, being written. */
export interface OutputFile {
  /** Writes go here; nothing is visible until the sink is closed and the file published. */
  readonly sink: ByteSink;
  /**
   * Makes the finished (closed) file available to whoever saves it: a `blob:` URL of the OPFS
   * file (typed `mimeType`, so the browser keeps our extension), or the file's path in Node.
   */
  publish(mimeType: string): Promise<string>;
  /** Removes the file (an attempt that failed, or a job that was cancelled). */
  discard(): Promise<void>;
  /**
   * A resumable output's name in the store, when the store keeps it as committed pieces another
   * context can read while it grows (OPFS); `onCommitted` then says how far.
   */
  readonly stream?: string;
}

/** Options of {@link OutputStore.create}. */
export interface CreateOutputOptions {
  /** Written in order, so a store may make it outlive a browser restart (OPFS pieces). */
  resumable?: boolean;
  /** A resumable output's bytes from 0 now on disk for good (after each piece, and at the end). */
  onCommitted?: (bytes: number) => void;
}

/** The engine's storage for job outputs. */
export interface OutputStore {
  /** A new output of job `jobId`; `name` tells a job's outputs apart ("main", "sub0"). */
  create(jobId: string, name: string, opts?: CreateOutputOptions): Promise<OutputFile>;
  /**
   * Frees everything job `jobId` made (blob URLs, files) once the saver has it or gave up. With
   * `keepMainAs`, the main file is moved into the input store under that id instead of deleted
   * (a highlight reel may be made of it); a store that cannot do that deletes it.
   */
  release(jobId: string, keepMainAs?: string): Promise<void>;
  /** Removes outputs an earlier run of this context left behind (their jobs died with it). */
  sweep(): Promise<void>;
}
