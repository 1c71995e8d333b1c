/**
 * The one provider interface and the one format model. Every source of media (the page itself,
 * VidPickr, RenderIO, Tornado) is a {@link Provider}; every way to get a video is a {@link Format}.
 */
import type { ByteSink } from '../io';
import type { HttpClient } from '../net/http';
import type { JobProgress } from '../progress';
import type { ProviderId } from '../schemas/ids';
import type { Format, MediaInfo } from '../schemas/media';

export type { Format, MediaInfo, ProviderId };

/** What the user asked for. */
export interface DownloadChoice {
  format: Format;
  /** Subtitle formats to save beside the video. */
  subtitles: Format[];
}

/** Where a download's bytes go. The caller owns the files; the provider only writes. */
export interface DownloadTarget {
  /** The sink for the main file. */
  media(): Promise<ByteSink>;
  /** A sink for one subtitle file. */
  subtitle(format: Format): Promise<ByteSink>;
}

export interface DownloadContext {
  target: DownloadTarget;
  signal?: AbortSignal;
  onProgress?: (progress: JobProgress) => void;
}

export interface DownloadResult {
  bytes: number;
  /** Subtitles saved, one per requested format that the provider had. */
  subtitles: Array<{ format: Format; bytes: number }>;
  /**
   * Where the file stays when it is not ours to keep (e.g. Tornado with the user's own bucket):
   * then nothing is written to the target and this says where it is.
   */
  remoteLocation?: string;
}

/** What a key check reports (for the options page). */
export interface AccountInfo {
  /** One line, e.g. "Plus plan" or "12 jobs, 1.2 GB of 10 GB used". */
  summary: string;
  details: Record<string, string | number | boolean | null>;
}

/** Settings a provider needs; everything has a real default. */
export interface ProviderConfig {
  apiKey: string | null;
  /** Defaults to the provider's real API base URL. */
  baseUrl?: string;
  /** The engine's HTTP client (retry table, per-host connection cap). */
  http?: HttpClient;
  /** Clock and sleep for polling; tests drive them. */
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** A source of media. One file per provider in lib/providers/. */
export interface Provider {
  readonly id: ProviderId;
  readonly displayName: string;
  /** Whether it needs an API key to work at all. */
  readonly needsKey: boolean;
  /** Whether this provider can handle `url` at all (by its site patterns). */
  supports(url: string): boolean;
  /** Resolves `url` into what can be downloaded. */
  resolve(url: string, opts?: { signal?: AbortSignal }): Promise<MediaInfo>;
  /** Downloads a format (and subtitles) of media resolved by this provider. */
  download(info: MediaInfo, choice: DownloadChoice, ctx: DownloadContext): Promise<DownloadResult>;
  /** Checks the key and reports the account or usage. */
  checkKey(opts?: { signal?: AbortSignal }): Promise<AccountInfo>;
}
