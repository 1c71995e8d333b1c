import { browser } from 'wxt/browser';
import { VidmuxError } from '../errors';
import type { DownloadState } from '../jobs/downloads';

/** Asks the browser to save `url` as `filename` (relative to the downloads folder), without a prompt. */
export async function startBrowserDownload(url: string, filename: string): Promise<number> {
  try {
    return await browser.downloads.download({ url, filename, conflictAction: 'uniquify', saveAs: false });
  } catch (err) {
    throw new VidmuxError('download_failed', `The browser refused to save the file: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** The current state of a browser download, or null if the browser forgot it. */
export async function getBrowserDownload(id: number): Promise<DownloadState | null> {
  const [item] = await browser.downloads.search({ id });
  if (!item) return null;
  const complete = item.state === 'complete';
  // Firefox leaves bytesReceived where its last progress event was on a finished blob download
  // (786432 of 1032456): a complete file's size is its size.
  const size = (item as { fileSize?: number }).fileSize ?? -1;
  return {
    state: item.state as DownloadState['state'],
    bytesReceived: complete ? Math.max(item.bytesReceived, size, item.totalBytes) : item.bytesReceived,
    totalBytes: item.totalBytes > 0 ? item.totalBytes : null,
    filename: item.filename,
    error: item.error ?? null,
  };
}

/** Cancels a browser download (no-op if it already ended). */
export async function cancelBrowserDownload(id: number): Promise<void> {
  try {
    await browser.downloads.cancel(id);
  } catch {
    /* already finished or gone */
  }
}

/** Calls `fn` whenever any download changes state; returns the unsubscribe function. */
export function onBrowserDownloadChanged(fn: (id: number) => void): () => void {
  const listener = (delta: { id: number }) => fn(delta.id);
  browser.downloads.onChanged.addListener(listener);
  return () => browser.downloads.onChanged.removeListener(listener);
}

/** Human words for Chrome's interrupt reasons. */
export function describeInterrupt(reason: string | null): string {
  const map: Record<string, string> = {
    NETWORK_FAILED: 'the network connection failed',
    NETWORK_TIMEOUT: 'the server stopped answering',
    NETWORK_DISCONNECTED: 'the computer went offline',
    NETWORK_SERVER_DOWN: 'the server is down',
    SERVER_FAILED: 'the server failed',
    SERVER_BAD_CONTENT: 'the server sent something other than the file',
    SERVER_UNAUTHORIZED: 'the server refused access (unauthorized)',
    SERVER_FORBIDDEN: 'the server refused access (forbidden)',
    SERVER_UNREACHABLE: 'the server could not be reached',
    FILE_NO_SPACE: 'the disk is full',
    FILE_ACCESS_DENIED: 'the downloads folder is not writable',
    FILE_NAME_TOO_LONG: 'the file name is too long',
    FILE_TOO_LARGE: 'the file is too large for the disk',
    FILE_FAILED: 'the file could not be written',
    USER_CANCELED: 'it was cancelled',
    USER_SHUTDOWN: 'the browser was closed',
  };
  return reason ? (map[reason] ?? reason) : 'unknown reason';
}
