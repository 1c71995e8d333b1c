/**
 * What each tab's content scripts last reported, frame by frame (a player may sit in an iframe):
 * the page and its videos, for the popup; and the HLS/DASH manifests the tab's players loaded, as
 * the browser saw them (webRequest), for the videos that play them through MediaSource.
 */
import { z } from 'zod';
import { withStreams } from '../page-media';
import { MediaCandidateSchema, PageSchema, type MediaCandidate, type PageRef } from '../schemas/media';

export interface TabMedia {
  page: PageRef;
  media: MediaCandidate[];
}

/** Manifest URLs kept per frame (the newest). */
const MAX_SIGHTINGS = 32;

const FrameSchema = z.object({ page: PageSchema, media: z.array(MediaCandidateSchema) });
const StoredSchema = z.record(
  z.string(),
  z.object({ frames: z.record(z.string(), FrameSchema), sightings: z.record(z.string(), z.array(z.string().max(8192)).max(MAX_SIGHTINGS)).default({}) }),
);

export class TabMediaRegistry {
  /** tab -> frame -> what its content script reported. */
  private readonly tabs = new Map<number, Map<number, TabMedia>>();
  /** tab -> frame -> manifest URLs its requests loaded, oldest first. */
  private readonly sightings = new Map<number, Map<number, string[]>>();

  /** What the content script of one frame (0: the top) reports. */
  set(tabId: number, found: TabMedia, frameId = 0): void {
    let frames = this.tabs.get(tabId);
    if (!frames) this.tabs.set(tabId, (frames = new Map()));
    frames.set(frameId, found);
  }

  /**
   * The tab's page (its top frame's) and the videos of all its frames, each with the manifests
   * its frame's players loaded.
   */
  get(tabId: number): TabMedia | undefined {
    const frames = this.tabs.get(tabId);
    if (!frames?.size) return undefined;
    const page = (frames.get(0) ?? frames.values().next().value!).page;
    const media: MediaCandidate[] = [];
    for (const [frameId, found] of frames) {
      for (const m of found.media) {
        const seen = this.withSightings(tabId, frameId, m);
        // Ids are per frame: one from a sub-frame gets the frame's number.
        media.push(frameId === 0 ? seen : { ...seen, id: `${seen.id}@${frameId}`.slice(0, 64) });
      }
    }
    return { page, media };
  }

  /** `media` (from frame `frameId` of the tab) with the manifests that frame's requests loaded. */
  withSightings(tabId: number, frameId: number, media: MediaCandidate): MediaCandidate {
    return withStreams(media, this.sightings.get(tabId)?.get(frameId) ?? []);
  }

  /** A manifest request the browser saw (webRequest). */
  sighted(tabId: number, frameId: number, url: string): boolean {
    let frames = this.sightings.get(tabId);
    if (!frames) this.sightings.set(tabId, (frames = new Map()));
    const list = frames.get(frameId) ?? [];
    if (list.includes(url)) return false;
    frames.set(frameId, [...list, url].slice(-MAX_SIGHTINGS));
    return true;
  }

  /** A frame loaded a new document: what it had is gone (the top frame: the whole tab's). */
  navigated(tabId: number, frameId: number): void {
    if (frameId === 0) {
      this.tabs.delete(tabId);
      this.sightings.delete(tabId);
    } else {
      this.tabs.get(tabId)?.delete(frameId);
      this.sightings.get(tabId)?.delete(frameId);
    }
  }

  delete(tabId: number): boolean {
    this.sightings.delete(tabId);
    return this.tabs.delete(tabId);
  }

  toJSON(): Record<string, unknown> {
    const ids = new Set([...this.tabs.keys(), ...this.sightings.keys()]);
    return Object.fromEntries(
      [...ids].map((id) => [id, { frames: Object.fromEntries(this.tabs.get(id) ?? []), sightings: Object.fromEntries(this.sightings.get(id) ?? []) }]),
    );
  }

  /** Restores what `toJSON` saved (the worker was stopped); anything that no longer parses is dropped. */
  fromJSON(raw: unknown): void {
    const parsed = StoredSchema.safeParse(raw ?? {});
    if (!parsed.success) return;
    const int = (k: string) => (Number.isInteger(Number(k)) ? Number(k) : null);
    for (const [id, tab] of Object.entries(parsed.data)) {
      const tabId = int(id);
      if (tabId === null) continue;
      for (const [f, found] of Object.entries(tab.frames)) if (int(f) !== null) this.set(tabId, found, int(f)!);
      for (const [f, urls] of Object.entries(tab.sightings)) if (int(f) !== null) for (const url of urls) this.sighted(tabId, int(f)!, url);
    }
  }
}
