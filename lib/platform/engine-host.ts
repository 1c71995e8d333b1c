/**
 * Where the background's jobs run: the {@link EngineHost}s. The background itself never makes a
 * file in Chrome (it only relays a streamed save's pieces from disk: streamed-save.ts); Firefox has no offscreen documents, and its background page (which has a
 * DOM and OPFS) is the engine.
 */
import { browser } from 'wxt/browser';
import type { EngineHost } from '../jobs/downloads';
import type { JobSpec } from '../schemas/job-spec';
import { sendToEngine } from './messaging';
import { removeJobFiles } from './opfs-outputs';

const OFFSCREEN_PATH = 'offscreen.html';

/** The parts of Chrome's runtime and offscreen APIs used here (the polyfill's types lack them). */
interface ChromeOffscreen {
  runtime: { getContexts(filter: { contextTypes: string[]; documentUrls: string[] }): Promise<unknown[]> };
  offscreen: { createDocument(opts: { url: string; reasons: string[]; justification: string }): Promise<void> };
}

/**
 * Chrome: jobs run in the offscreen document (the service worker has no DOM, no OPFS writable
 * streams and no URL.createObjectURL). Only one offscreen document may exist.
 */
export class OffscreenEngineHost implements EngineHost {
  private creating: Promise<void> | null = null;

  async start(spec: JobSpec): Promise<void> {
    await this.ensureDocument();
    await sendToEngine('engine.start', { spec });
  }

  async cancel(jobId: string): Promise<void> {
    if (await this.hasDocument()) await sendToEngine('engine.cancel', { jobId });
  }

  async release(jobId: string, keepAs?: string): Promise<void> {
    const released = (await this.hasDocument()) && (await sendToEngine('engine.release', { jobId, ...(keepAs ? { keepAs } : {}) }).then(() => true, () => false));
    // No document (closed or crashed) to free the job's files: this worker deletes them itself.
    if (!released) await removeJobFiles(jobId, keepAs).catch(() => undefined);
  }

  alive(): Promise<boolean> {
    return this.hasDocument();
  }

  async choose(jobId: string, index: number): Promise<void> {
    if (await this.hasDocument()) await sendToEngine('engine.choose', { jobId, index });
  }

  async finish(jobId: string): Promise<void> {
    if (await this.hasDocument()) await sendToEngine('engine.finish', { jobId });
  }

  /** Opens a streamed save in the document (lib/platform/streamed-save.ts). */
  async openSave(token: string): Promise<void> {
    await this.ensureDocument();
    await sendToEngine('engine.openSave', { token });
  }

  private get chrome(): ChromeOffscreen {
    return browser as unknown as ChromeOffscreen;
  }

  private async hasDocument(): Promise<boolean> {
    const contexts = await this.chrome.runtime.getContexts({ contextTypes: ['OFFSCREEN_DOCUMENT'], documentUrls: [browser.runtime.getURL(`/${OFFSCREEN_PATH}`)] });
    return contexts.length > 0;
  }

  private async ensureDocument(): Promise<void> {
    if (await this.hasDocument()) return;
    this.creating ??= this.chrome.offscreen
      .createDocument({ url: OFFSCREEN_PATH, reasons: ['BLOBS'], justification: 'Join video and audio tracks into one file and hand it to downloads.' })
      .finally(() => (this.creating = null));
    await this.creating;
  }
}

/** What runs jobs in this very context (lib/jobs/job-runner.ts). */
export interface LocalEngine {
  start(spec: JobSpec): void;
  cancel(jobId: string): void;
  finish(jobId: string): void;
  choose(jobId: string, index: number): void;
  release(jobId: string, keepAs?: string): Promise<void>;
  sweep(): Promise<void>;
}

/**
 * Firefox: the background page runs jobs itself. The engine (providers, network and media
 * engines) is loaded on the first job, so Chrome's service worker bundle never carries it.
 */
export class InProcessEngineHost implements EngineHost {
  private engine: Promise<LocalEngine> | null = null;

  constructor(private readonly load: () => Promise<LocalEngine>) {}

  async start(spec: JobSpec): Promise<void> {
    (await this.runner()).start(spec);
  }

  async cancel(jobId: string): Promise<void> {
    if (this.engine) (await this.engine).cancel(jobId);
  }

  async finish(jobId: string): Promise<void> {
    if (this.engine) (await this.engine).finish(jobId);
  }

  async choose(jobId: string, index: number): Promise<void> {
    if (this.engine) (await this.engine).choose(jobId, index);
  }

  async release(jobId: string, keepAs?: string): Promise<void> {
    if (this.engine) await (await this.engine).release(jobId, keepAs);
  }

  private runner(): Promise<LocalEngine> {
    this.engine ??= this.load().then(async (engine) => {
      await engine.sweep().catch(() => undefined);
      return engine;
    });
    return this.engine;
  }
}
