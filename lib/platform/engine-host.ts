import { browser } from 'wxt/browser';
import type { EngineHost } from '../jobs/downloads';
import type { EngineEvent, SaveSpec } from '../schemas/save-spec';
import { createProviders } from '../providers';
import { EngineRunner } from './engine-runner';
import { sendToExtension } from './messaging';

const OFFSCREEN_PATH = 'offscreen.html';

/**
 * Chrome: jobs run in the offscreen document (the service worker has no DOM, no OPFS writable
 * streams and no URL.createObjectURL). Only one offscreen document may exist.
 */
export class OffscreenEngineHost implements EngineHost {
  private creating: Promise<void> | null = null;

  async start(spec: SaveSpec): Promise<void> {
    await this.ensureDocument();
    await sendToExtension('engine.start', { spec });
  }

  async cancel(jobId: string): Promise<void> {
    if (await this.hasDocument()) await sendToExtension('engine.cancel', { jobId });
  }

  async release(jobId: string): Promise<void> {
    if (await this.hasDocument()) await sendToExtension('engine.release', { jobId }).catch(() => undefined);
  }

  private async hasDocument(): Promise<boolean> {
    const runtime = browser.runtime as unknown as { getContexts(f: object): Promise<unknown[]> };
    const contexts = await runtime.getContexts({ contextTypes: ['OFFSCREEN_DOCUMENT'], documentUrls: [browser.runtime.getURL(`/${OFFSCREEN_PATH}`)] });
    return contexts.length > 0;
  }

  private async ensureDocument(): Promise<void> {
    if (await this.hasDocument()) return;
    this.creating ??= (browser as unknown as { offscreen: { createDocument(o: object): Promise<void> } }).offscreen
      .createDocument({ url: OFFSCREEN_PATH, reasons: ['BLOBS'], justification: 'Join video and audio tracks into one file and hand it to downloads.' })
      .finally(() => (this.creating = null));
    await this.creating;
  }
}

/** Firefox: the background is a page with a DOM and OPFS, so jobs run right here. */
export class InProcessEngineHost implements EngineHost {
  private readonly runner: EngineRunner;

  constructor(onEvent: (jobId: string, event: EngineEvent) => void) {
    this.runner = new EngineRunner(onEvent, (spec) => createProviders(spec.providers, { tornadoStorage: spec.tornadoStorage }));
    void this.runner.sweep().catch(() => undefined);
  }

  async start(spec: SaveSpec): Promise<void> {
    this.runner.start(spec);
  }

  async cancel(jobId: string): Promise<void> {
    this.runner.cancel(jobId);
  }

  async release(jobId: string): Promise<void> {
    await this.runner.release(jobId);
  }
}
