/**
 * What the background's use cases need from the browser, as ports: the entrypoint builds them from
 * lib/platform/ and passes them in, so everything here runs (and is tested) in Node.
 */
import type { Job } from '../schemas/job';
import type { KeyedProvider } from '../schemas/ids';
import type { VidioContractOverride } from '../schemas/reel';
import type { MessageType, Request } from '../messages';
import type { ProviderSetup } from '../schemas/job-spec';
import type { Settings } from '../schemas/settings';
import type { TornadoStorage } from '../schemas/tornado-storage';
import type { AccountInfo, Provider } from '../providers/types';
import type { DownloadBackend, EngineHost } from '../jobs/downloads';

/** API keys and Tornado bucket credentials, kept where content scripts cannot read them. */
export interface KeyStore {
  get(provider: KeyedProvider): Promise<string | null>;
  /** Validates and stores a key; returns it masked. */
  set(provider: KeyedProvider, key: string): Promise<string>;
  remove(provider: KeyedProvider): Promise<void>;
  getTornadoStorage(): Promise<TornadoStorage | null>;
  /** Validates (throws `bad_input` naming the field) and stores the bucket settings. */
  setTornadoStorage(config: unknown): Promise<TornadoStorage>;
  removeTornadoStorage(): Promise<void>;
}

/** State a restarted service worker must find again. */
export interface SessionStore {
  load(): Promise<{ jobs: unknown; tabs: unknown }>;
  save(state: { jobs: unknown; tabs: unknown }): Promise<void>;
  /** Jobs that must outlive the browser (local storage; the session's is cleared on a restart). */
  loadLasting(): Promise<unknown>;
  saveLasting(jobs: unknown): Promise<void>;
}

/** The browser's own surfaces for downloads. */
export interface Surfaces {
  updateBadge(jobs: Job[]): Promise<void>;
  notifyFinished(job: Job): Promise<void>;
  /** A notification that something could not even start (e.g. from the context menu). */
  notifyProblem(title: string, message: string): Promise<void>;
  openOptions(): Promise<void>;
  showInFolder(downloadId: number): Promise<void>;
}

/** Pushes to other contexts; a context that is gone is not an error. */
export interface Messenger {
  toTab<T extends MessageType>(tabId: number, type: T, payload: Request<T>): Promise<void>;
  toPages<T extends MessageType>(type: T, payload: Request<T>): Promise<void>;
}

/** Everything the background is built from. */
export interface BackgroundPorts {
  loadSettings(): Promise<Settings>;
  /** Validates and stores the settings (the background only adds a site the user allowed). */
  saveSettings(next: Settings): Promise<Settings>;
  keys: KeyStore;
  session: SessionStore;
  surfaces: Surfaces;
  messenger: Messenger;
  downloads: DownloadBackend;
  engine: EngineHost;
  /**
   * Deletes every job output in the engine's storage whose job is not in `keep` (run at startup:
   * nothing stays in OPFS that no job owns).
   */
  removeOrphanOutputs?(keep: ReadonlySet<string>): Promise<void>;
  /** Providers on the background's one HTTP client (the picker, key tests, playlists). */
  createProviders(setups: ProviderSetup[], tornadoStorage: TornadoStorage | null): Provider[];
  /** VIDIO (highlight reels: not a download provider) on the same client, for its key test. */
  createReelService(apiKey: string | null, baseUrl: string | null, contract: VidioContractOverride): { checkKey(): Promise<AccountInfo> };
  now?: () => number;
}
