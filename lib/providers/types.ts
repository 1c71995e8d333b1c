/**
 * The one provider interface. Every source of media (the page itself, VidPickr, RenderIO, Tornado)
 * is a {@link Provider}; every way to get a video is a Format (lib/schemas/media.ts). A provider
 * resolves a URL into formats and downloads one into the outputs its {@link DownloadContext}
 * gives it; the engine that runs it (lib/jobs/run-job.ts) owns those outputs and the muxer.
 */
import type { OutputContainer } from '../codecs';
import type { ByteSink, ByteSource, ResumableSink } from '../io';
import type { HttpClient } from '../net/http';
import type { JobProgress } from '../progress';
import type { AudioFormat, ProviderId, Quality } from '../schemas/ids';
import type { PlaylistEntry } from '../schemas/job-spec';
import type { Format, MediaCandidate, MediaInfo } from '../schemas/media';

export type { Format, MediaInfo, PlaylistEntry, ProviderId };

/** What is to be downloaded: a format, and subtitle formats to save beside it. */
export interface Selection {
  /** The format, its `container` the saved file's (the chooser's plan: mp4, m4a, webm...). */
  format: Format;
  /** For a video that {@link Format.pairsWithAudio}: the audio-only format whose sound goes with it (null: the provider's own pick). */
  audio?: Format | null;
  /** The media engine's output when the provider's tracks are joined (MP4 when not given). */
  mux?: OutputContainer | null;
  /** Subtitle formats to save beside the video. */
  subtitles: Format[];
}

/** Where a download's bytes go. The caller owns the files; the provider only writes. */
export interface DownloadTarget {
  /**
   * The sink for the main file. `resumable`: it will be written in order (a plain copy), so the
   * store may keep it in a form a download interrupted by a browser restart can continue
   * (a {@link ResumableSink} in the browser's OPFS store).
   */
  media(opts?: { resumable?: boolean }): Promise<ByteSink>;
  /** A sink for one subtitle file. */
  subtitle(format: Format): Promise<ByteSink>;
}

/** Tracks to join into the main output (at least one source). */
export interface TracksToMux {
  video?: ByteSource;
  audio?: ByteSource;
  /**
   * One source that holds video and audio together (an HLS variant's MPEG-TS or fMP4 segments):
   * read once, its video and its audio (whichever it has) are copied.
   */
  input?: ByteSource;
  /** The title written into the file. */
  title?: string;
  /** The output container (set from the {@link Selection} by the engine; MP4 when not given). */
  container?: OutputContainer;
}

/** What a provider gets to download with: where bytes go, progress, cancellation, the muxer. */
export interface DownloadContext {
  target: DownloadTarget;
  signal?: AbortSignal;
  /**
   * Finishes a recording (a live stream): the provider stops taking new media and saves what it
   * has, as a complete file. Unlike `signal`, nothing is thrown away.
   */
  finish?: AbortSignal;
  onProgress?: (progress: JobProgress) => void;
  /**
   * Joins separate video and audio into the main output by stream copy (the engine's media
   * engine): how `tracks` formats are saved. Providers never load the media engine themselves.
   */
  mux(tracks: TracksToMux): Promise<{ bytes: number }>;
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
  baseUrl?: string | null;
  /** The context's HTTP client (retry table, per-host connection cap); a new one when not given. */
  http?: HttpClient;
  /** Clock and sleep for polling; tests drive them. */
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** What a playlist is asked for (the same wish for every entry). */
export interface PlaylistWish {
  quality: Quality;
  audioFormat: AudioFormat;
  subtitles: boolean;
  signal?: AbortSignal;
}

/** A source of media. One file per provider in lib/providers/. */
export interface Provider {
  readonly id: ProviderId;
  readonly displayName: string;
  /** Whether it needs an API key to work at all. */
  readonly needsKey: boolean;
  /** Whether this provider can handle `url` at all (by its site patterns; lib/providers/coverage.ts). */
  supports(url: string): boolean;
  /**
   * Resolves `url` into what can be downloaded. `media` is the video the user clicked on that page,
   * when there is one: the page provider resolves what it plays. `pageUrl`: the page `url` was
   * found on, when it is not that page (a link).
   */
  resolve(url: string, opts?: { signal?: AbortSignal; media?: MediaCandidate | null; pageUrl?: string | null }): Promise<MediaInfo>;
  /** Downloads a format (and subtitles) of media resolved by this provider. */
  download(info: MediaInfo, selection: Selection, ctx: DownloadContext): Promise<DownloadResult>;
  /** Checks the key and reports the account or usage. */
  checkKey(opts?: { signal?: AbortSignal }): Promise<AccountInfo>;
  /**
   * Optional: a playlist URL becomes one entry per video, each its own job (null: not a playlist
   * this provider expands). Entries are downloaded with {@link Provider.downloadEntry}.
   */
  expand?(url: string, wish: PlaylistWish): Promise<PlaylistEntry[] | null>;
  downloadEntry?(entry: PlaylistEntry, wish: PlaylistWish, ctx: DownloadContext): Promise<DownloadResult>;
}
