/**
 * The InputStore port: files a user gave to a job (the videos of a highlight reel), put where the
 * engine can read them by the page that took them (OPFS in the browser, lib/platform/opfs-inputs.ts).
 */
import type { ByteSource } from '../io';

export interface InputStore {
  /** The file stored as `id`, as a source (in the browser also the Blob itself: `blob`). */
  open(id: string): Promise<ByteSource & { blob?: Blob }>;
  /** Deletes it (once the job has read it); a file already gone is not an error. */
  remove(id: string): Promise<void>;
}
